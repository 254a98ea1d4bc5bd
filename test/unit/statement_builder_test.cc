// The store's statement builder rebuilds, from a stored webhook body, the
// very bytes ingest builds from the event itself.
#include "api/statement_builder.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "api/request_helpers.h"
#include "golden.h"
#include "log_capture.h"
#include "webhook/envelope.h"
#include "xapi/statement.h"

namespace punt::api {
namespace {

TEST(StatementBuilder, RebuildsFromTheWebhookBodyWhatIngestBuildsFromTheEvent) {
  store::StatementBuilder build = MakeStatementBuilder();
  int learning = 0;
  for (const char* type : {"lesson.completed", "lesson.liked", "lesson.disliked",
                           "lesson.viewed", "section.viewed", "question.answered",
                           "question.skipped", "training_session.attended", "term.searched",
                           "user.created", "user.archived"}) {
    boost::json::value event = testing::ReadEventFile(type);
    std::string body = webhook::WebhookBody(event);
    for (bool mbox : {false, true}) {
      store::Org org{.id = "org_x", .name = "X", .platform_url = "https://acme.example/",
                     .mbox_opt_in = mbox};
      std::string rebuilt = build(org, type, body);
      if (!xapi::HasStatement(type)) {
        EXPECT_EQ(rebuilt, "") << type;
        continue;
      }
      ++learning;
      EXPECT_EQ(rebuilt, xapi::StatementJson({org.id, org.platform_url, mbox}, event,
                                             xapi::Version::k1_0_3))
          << type;
    }
  }
  EXPECT_EQ(learning, 18);
}

// Regression: a learning event whose statement could not be built (say, one
// stored before a validation rule it breaks) got no xAPI delivery on a
// replay, without a trace.
TEST(StatementBuilder, GivesNothingForABodyItCannotReadAndSaysWhich) {
  store::StatementBuilder build = MakeStatementBuilder();
  store::Org org{.id = "org_x", .name = "X", .platform_url = "https://acme.example"};
  LogCapture log;
  EXPECT_EQ(build(org, "lesson.completed", "not json"), "");
  EXPECT_EQ(build(org, "lesson.completed", "{\"type\":\"lesson.completed\"}"), "");
  EXPECT_EQ(
      build(org, "lesson.completed", "{\"data\":{\"id\":\"e-7\",\"type\":\"lesson.completed\"}}"),
      "");
  auto warned = log.With("statement cannot be built");
  ASSERT_EQ(warned.size(), 3u);
  EXPECT_NE(warned[0].find("\"org_id\":\"org_x\""), std::string::npos) << warned[0];
  EXPECT_NE(warned[1].find("no \\\"data\\\""), std::string::npos) << warned[1];
  EXPECT_NE(warned[2].find("\"event_id\":\"e-7\""), std::string::npos) << warned[2];
  // A type without a statement is no failure: nothing to say.
  EXPECT_EQ(build(org, "user.created", "not json"), "");
  EXPECT_EQ(log.With("statement cannot be built").size(), 3u);
}

// Regression: the envelope wraps the event one level deeper than ingest
// parsed it, and the builder parsed it with Boost's default depth (32, as
// ingest's limit): an event ingest accepted at the limit got no statement,
// so a replay to an LRS skipped it and an ingest racing the first xAPI
// subscription answered 503.
TEST(StatementBuilder, BuildsForAnEventAtIngestsDepthLimit) {
  boost::json::value event = testing::ReadEventFile("lesson.completed");
  boost::json::value nested = 1;
  // The event is level 1, user 2, custom_fields 3: kMaxJsonDepth levels in all.
  for (size_t level = 3; level <= kMaxJsonDepth; ++level) nested = {{"a", nested}};
  event.as_object()["user"].as_object()["custom_fields"] = nested;
  const std::string text = boost::json::serialize(event);
  boost::json::parse_options at_limit;
  at_limit.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  boost::json::parse(text, ec, {}, at_limit);
  ASSERT_FALSE(ec) << "ingest takes it";
  at_limit.max_depth = kMaxJsonDepth - 1;
  boost::json::parse(text, ec, {}, at_limit);
  ASSERT_TRUE(ec) << "it is at the limit, not below it";

  store::Org org{.id = "org_x", .name = "X", .platform_url = "https://acme.example/"};
  std::string rebuilt =
      MakeStatementBuilder()(org, "lesson.completed", webhook::WebhookBody(event));
  EXPECT_EQ(rebuilt,
            xapi::StatementJson({org.id, org.platform_url, false}, event, xapi::Version::k1_0_3));
  EXPECT_FALSE(rebuilt.empty());
}

}  // namespace
}  // namespace punt::api
