// ApplySubscriptionJson: a POST or PATCH body applied to a subscription.
#include "api/subscription_input.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace punt::api {
namespace {

namespace json = boost::json;

DestinationPolicy Policy() {
  DestinationPolicy policy;
  policy.resolve = [](const std::string&) { return std::vector<boost::asio::ip::address>{}; };
  return policy;
}

std::vector<catalog::Problem> Create(const std::string& body, store::Subscription& sub) {
  SubscriptionSecrets secrets;
  return ApplySubscriptionJson(json::parse(body).as_object(), true, Policy(), sub, secrets);
}

// Regression: an unknown field's path was "/" and its name as it is, not a
// JSON Pointer: a name holding "/" or "~" pointed elsewhere ("/a/b" is b in a).
TEST(SubscriptionInput, AnUnknownFieldsPathIsAJsonPointer) {
  store::Subscription sub;
  auto problems =
      Create(R"({"kind":"webhook","url":"https://hooks.example/x","events":["*"],"a/b~c":1})", sub);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "/a~1b~0c");
  EXPECT_EQ(problems[0].message, "is not a known field");
}

// Regression: a field given as null was taken as left out, so a PATCH
// {"enabled": null} or {"description": null} answered 200 and changed
// nothing, while {"events": null} was a 422: only a token may be null (a
// PATCH's removes it; a create's is the same as none).
TEST(SubscriptionInput, OnlyATokenMayBeNull) {
  const std::string webhook = R"("kind":"webhook","url":"https://hooks.example/x","events":["*"])";
  const std::string xapi =
      R"("kind":"xapi","url":"https://lrs.example/xapi","events":["*"],"lrs_key":"k","lrs_secret":"s")";
  struct Case {
    std::string body;
    std::string path;
  };
  for (
      const Case& c : std::vector<Case>{
          {R"({"kind":"webhook","url":null,"events":["*"]})", "/url"},
          {R"({"kind":"webhook","url":"https://hooks.example/x","events":null})", "/events"},
          {"{" + webhook + R"(,"description":null})", "/description"},
          {"{" + webhook + R"(,"enabled":null})", "/enabled"},
          {"{" + webhook + R"(,"max_in_flight":null})", "/max_in_flight"},
          {R"({"kind":"xapi","url":"https://lrs.example/xapi","events":["*"],"lrs_key":null,"lrs_secret":"s"})",
           "/lrs_key"},
          {"{" + xapi + R"(,"batch_size":null})", "/batch_size"},
          {"{" + xapi + R"(,"xapi_version":null})", "/xapi_version"},
      }) {
    store::Subscription sub;
    auto problems = Create(c.body, sub);
    ASSERT_FALSE(problems.empty()) << c.body;
    EXPECT_EQ(problems[0].path, c.path) << c.body;
  }
  store::Subscription hook;
  EXPECT_TRUE(Create("{" + webhook + R"(,"token":null})", hook).empty());
  store::Subscription lrs;
  EXPECT_TRUE(Create("{" + xapi + "}", lrs).empty());
}

// Regression: a webhook's token was refused only for CR and LF, so one
// holding a NUL or another control character was accepted and could never
// go verbatim: the plain client sent it raw (a header HTTP forbids, which
// receivers answer 400, on every retry) and libcurl cut it at the NUL.
TEST(SubscriptionInput, AWebhookTokenWithAControlCharacterIsRefused) {
  for (const char* token :
       {R"(Bearer ab\u0000cd)", R"(Bearer ab\u0001cd)", R"(Bearer \u007f)", R"(Bearer ab\ncd)"}) {
    store::Subscription sub;
    auto problems = Create(std::string(R"({"kind":"webhook","url":"https://hooks.example/x",)") +
                               R"("events":["*"],"token":")" + token + R"("})",
                           sub);
    ASSERT_EQ(problems.size(), 1u) << token;
    EXPECT_EQ(problems[0].path, "/token");
  }
  store::Subscription sub;  // a tab is allowed in a header value
  EXPECT_TRUE(Create(R"({"kind":"webhook","url":"https://hooks.example/x","events":["*"],)"
                     R"("token":"Bearer\tabc"})",
                     sub)
                  .empty());
}

// Regression: a port past 65535 (or 0) was accepted, and every delivery to
// the URL then failed on a URL no client can use, until it died.
TEST(SubscriptionInput, AUrlsPortMustBeFrom1To65535) {
  for (const char* url : {"https://hooks.example:99999/x", "https://hooks.example:65536/x",
                          "https://hooks.example:0/x"}) {
    store::Subscription sub;
    auto problems =
        Create(std::string(R"({"kind":"webhook","url":")") + url + R"(","events":["*"]})", sub);
    ASSERT_EQ(problems.size(), 1u) << url;
    EXPECT_EQ(problems[0].path, "/url");
  }
  for (const char* url : {"https://hooks.example:65535/x", "https://hooks.example:/x",
                          "https://hooks.example:8443/x"}) {
    store::Subscription sub;
    EXPECT_TRUE(
        Create(std::string(R"({"kind":"webhook","url":")") + url + R"(","events":["*"]})", sub)
            .empty())
        << url;
  }
}

}  // namespace
}  // namespace punt::api
