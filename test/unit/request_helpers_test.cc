// How the API reads a JSON body (api/request_helpers.h): the media type, in
// any case, and the depth limit.
#include "api/request_helpers.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "util/json.h"
#include "webhook/envelope.h"

namespace punt::api {
namespace {

http::Request Post(const std::string& content_type, const std::string& body) {
  http::Request request;
  request.method = "POST";
  request.path = "/v1/events";
  request.headers = {{"Content-Type", content_type}};
  request.body = body;
  return request;
}

// `levels` objects nested: {"a":{"a":...1...}}.
std::string Nested(int levels) {
  std::string json = "1";
  for (int i = 0; i < levels; ++i) json = "{\"a\":" + json + "}";
  return json;
}

unsigned StatusOf(const std::variant<boost::json::value, http::Response>& parsed) {
  const auto* error = std::get_if<http::Response>(&parsed);
  return error ? error->status : 200;
}

// Regression: media types ignore case (RFC 9110 8.3.1), and the check
// compared exactly: "Application/JSON" was answered 415.
TEST(ParseJsonBody, TakesApplicationJsonInAnyCaseWithParameters) {
  for (const char* type :
       {"application/json", "Application/JSON", "application/json; charset=utf-8",
        " application/json ", "APPLICATION/JSON;charset=UTF-8"}) {
    EXPECT_EQ(StatusOf(ParseJsonBody(Post(type, "{}"))), 200u) << type;
  }
  for (const char* type : {"", "text/plain", "application/jsonx", "application/x-json"}) {
    EXPECT_EQ(StatusOf(ParseJsonBody(Post(type, "{}"))), 415u) << type;
  }
}

TEST(ParseJsonBody, NestsUpToItsLimit) {
  EXPECT_EQ(StatusOf(ParseJsonBody(Post("application/json", Nested(kMaxJsonDepth)))), 200u);
  EXPECT_EQ(StatusOf(ParseJsonBody(Post("application/json", Nested(kMaxJsonDepth + 1)))), 400u);
  EXPECT_EQ(StatusOf(ParseJsonBody(Post("application/json", "{\"a\":"))), 400u);
}

// Regression: an event nested kMaxJsonDepth levels was taken alone but
// refused inside a batch, whose array added a level.
TEST(ParseJsonBody, ABatchArrayIsNotALevelOfItsItems) {
  const auto batch = [](int levels) { return "[" + Nested(1) + ", " + Nested(levels) + "]"; };
  const auto holds = ArrayDepth::kHoldsDocuments;
  EXPECT_EQ(StatusOf(ParseJsonBody(Post("application/json", batch(kMaxJsonDepth)), {}, holds)),
            200u);
  EXPECT_EQ(
      StatusOf(ParseJsonBody(Post("application/json", " \n" + batch(kMaxJsonDepth)), {}, holds)),
      200u);
  EXPECT_EQ(StatusOf(ParseJsonBody(Post("application/json", batch(kMaxJsonDepth + 1)), {}, holds)),
            400u);
  // An object is held to the limit either way, and other routes count the array.
  EXPECT_EQ(StatusOf(ParseJsonBody(Post("application/json", Nested(kMaxJsonDepth + 1)), {}, holds)),
            400u);
  EXPECT_EQ(StatusOf(ParseJsonBody(Post("application/json", batch(kMaxJsonDepth)))), 400u);
}

// Regression: Boost.JSON 1.81 reads some doubles one unit in the last place
// off, so the webhook body (written from the parsed event) carried
// 12132.633886030111 where the platform sent 12132.633886030113.
TEST(ParseJsonBody, KeepsEveryNumberAsSent) {
  const std::string numbers[] = {"12132.633886030113",
                                 "-1.6141610237995963e-68",
                                 "5.409760742964738e+124",
                                 "123456789.12345678",
                                 "0.1",
                                 "1.7976931348623157e+308",
                                 "92.5"};
  std::string body =
      R"({"id":"evt-1","type":"lesson.viewed","occurred_at":"2026-11-28T12:00:00.000Z",)"
      R"("user":{"id":"u-17"},"lesson":{"id":"l-77","title":"T"},"duration_seconds":)" +
      numbers[0] + R"(,"extra":[)";
  for (size_t i = 1; i < std::size(numbers); ++i) body += (i > 1 ? "," : "") + numbers[i];
  body += "]}";
  auto parsed = ParseJsonBody(Post("application/json", body));
  ASSERT_EQ(StatusOf(parsed), 200u);
  const auto& event = std::get<boost::json::value>(parsed);
  EXPECT_EQ(ToJson(event), body);
  EXPECT_NE(webhook::WebhookBody(event).find(body), std::string::npos);
}

// Regression: negative zero lost its sign: "-0" was read as the integer 0
// and "-0.0" was written as 0, so a receiver (JSON.parse gives -0 for
// both) got +0 in the webhook body.
TEST(ParseJsonBody, KeepsTheSignOfNegativeZero) {
  auto parsed =
      ParseJsonBody(Post("application/json", R"({"a":-0,"b":-0.0,"c":0,"d":[-0E0,0.0]})"));
  ASSERT_EQ(StatusOf(parsed), 200u);
  EXPECT_EQ(ToJson(std::get<boost::json::value>(parsed)), R"({"a":-0,"b":-0,"c":0,"d":[-0,0]})");
}

TEST(ParseJsonBody, RefusesWhatIsNotOneJsonValue) {
  for (const char* body : {"", " ", "{} {}", "{}x", "[1,]", "1.5e", "-"}) {
    EXPECT_EQ(StatusOf(ParseJsonBody(Post("application/json", body))), 400u) << body;
  }
  for (const char* body : {"1.5", " {} ", "[1e400]", "-0.0"}) {
    EXPECT_EQ(StatusOf(ParseJsonBody(Post("application/json", body))), 200u) << body;
  }
}

std::string MessageOf(const std::variant<boost::json::value, http::Response>& parsed) {
  const auto* error = std::get_if<http::Response>(&parsed);
  return error ? error->body : "";
}

// Regression: Boost.JSON keeps the last of a key given twice, so an event
// {"id":"a",...,"id":"b"} was stored and sent as "b" without a word.
TEST(ParseJsonBody, RefusesAnObjectWithAKeyTwice) {
  for (const char* body :
       {R"({"a":1,"a":2})", R"({"a":1,"b":{"c":1,"c":1}})", R"([{"x":0},{"y":1,"y":1}])",
        R"({"a":1,"a":2})", R"({"k":{"a":1},"k":{"b":2}})"}) {
    auto parsed = ParseJsonBody(Post("application/json", body));
    EXPECT_EQ(StatusOf(parsed), 400u) << body;
    EXPECT_NE(MessageOf(parsed).find("the same key twice"), std::string::npos) << body;
  }
  // The same key in different objects, or at different depths, is fine.
  for (const char* body : {R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]})", R"({"a":1,"A":2})",
                           R"({"":1,"a":{"":2}})"}) {
    EXPECT_EQ(StatusOf(ParseJsonBody(Post("application/json", body))), 200u) << body;
  }
}

// Objects with many keys are checked by sorting them once, not pairwise.
TEST(ParseJsonBody, FindsAKeyTwiceAmongMany) {
  std::string unique = "{";
  for (int i = 0; i < 1000; ++i) unique += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  EXPECT_EQ(StatusOf(ParseJsonBody(Post("application/json", unique + "}"))), 200u);
  EXPECT_EQ(StatusOf(ParseJsonBody(Post("application/json", unique + ",\"k500\":2}"))), 400u);
  EXPECT_EQ(StatusOf(ParseJsonBody(Post("application/json", unique + ",\"k999\":2}"))), 400u);
  EXPECT_EQ(StatusOf(ParseJsonBody(Post("application/json", unique + ",\"k0\":2}"))), 400u);
}

// Regression: an integer past 64 bits became a double, so the webhook body
// carried 1.2345678901234568e+29 for 123456789012345678901234567890.
TEST(ParseJsonBody, RefusesAnIntegerPast64Bits) {
  for (const char* body : {"[123456789012345678901234567890]", "[18446744073709551616]",
                           "[-9223372036854775809]", R"({"n":{"m":-100000000000000000000}})"}) {
    auto parsed = ParseJsonBody(Post("application/json", body));
    EXPECT_EQ(StatusOf(parsed), 400u) << body;
    EXPECT_NE(MessageOf(parsed).find("64 bits"), std::string::npos) << body;
  }
  auto parsed = ParseJsonBody(
      Post("application/json", "[18446744073709551615,-9223372036854775808,1e30,1.5E+40]"));
  ASSERT_EQ(StatusOf(parsed), 200u);
  EXPECT_EQ(ToJson(std::get<boost::json::value>(parsed)),
            "[18446744073709551615,-9223372036854775808,1e+30,1.5e+40]");
}

}  // namespace
}  // namespace punt::api
