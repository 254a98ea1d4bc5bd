// The store's statement builder rebuilds, from a stored webhook body, the
// very bytes ingest builds from the event itself.
#include <gtest/gtest.h>

#include <string>

#include "api/statement_builder.h"
#include "golden.h"
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

TEST(StatementBuilder, GivesNothingForABodyItCannotRead) {
  store::StatementBuilder build = MakeStatementBuilder();
  store::Org org{.id = "org_x", .name = "X", .platform_url = "https://acme.example"};
  EXPECT_EQ(build(org, "lesson.completed", "not json"), "");
  EXPECT_EQ(build(org, "lesson.completed", "{\"type\":\"lesson.completed\"}"), "");
  EXPECT_EQ(build(org, "lesson.completed", "{\"data\":{\"type\":\"lesson.completed\"}}"), "");
}

}  // namespace
}  // namespace punt::api
