#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "catalog/catalog.h"
#include "catalog/validate.h"
#include "golden.h"
#include "util/event_id.h"
#include "util/json.h"
#include "util/uuid.h"
#include "xapi/statement.h"

namespace punt::xapi {
namespace {

namespace json = boost::json;
using testing::Golden;
using testing::ReadEventFile;

const OrgSettings kAcme{"org-acme", "https://acme.example/", false};

std::vector<std::string> LearningTypes() {
  std::vector<std::string> names;
  for (const auto& t : catalog::AllEventTypes()) {
    if (t.family == catalog::Family::kLearning) names.push_back(t.name);
  }
  return names;
}

// Walks a statement and reports what a statement must never contain.
void ExpectClean(const json::value& v, const std::string& path) {
  ASSERT_FALSE(v.is_null()) << "null at " << path;
  if (v.is_array()) {
    for (size_t i = 0; i < v.get_array().size(); ++i) {
      ExpectClean(v.get_array()[i], path + "/" + std::to_string(i));
    }
  }
  if (!v.is_object()) return;
  for (const auto& [key, item] : v.get_object()) {
    std::string child = path + "/" + std::string(key);
    if (key == "extensions") {
      for (const auto& [iri, _] : item.get_object()) {
        EXPECT_TRUE(iri.starts_with("http://") || iri.starts_with("https://"))
            << "extension key " << iri << " at " << child;
      }
    }
    ExpectClean(item, child);
  }
}

class StatementGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(StatementGolden, MatchesGoldenFileInBothVersions) {
  auto event = ReadEventFile(GetParam());
  ASSERT_TRUE(catalog::Validate(event).empty());
  for (Version version : {Version::k1_0_3, Version::k2_0_0}) {
    std::string file = GetParam() + "." + std::string(VersionHeader(version)) + ".json";
    std::string actual = StatementJson(kAcme, event, version);
    EXPECT_EQ(actual, Golden("xapi/" + file, actual)) << file;
  }
}

TEST_P(StatementGolden, HasNoNullsNoStoredAuthorityOrVersionAndIriExtensions) {
  auto statement = BuildStatement(kAcme, ReadEventFile(GetParam()), Version::k2_0_0);
  ExpectClean(statement, "");
  for (const char* forbidden : {"stored", "authority", "version"}) {
    EXPECT_FALSE(statement.contains(forbidden)) << forbidden;
  }
  EXPECT_EQ(statement.at("actor").at("account").at("homePage"), "https://acme.example");
  EXPECT_TRUE(statement.at("object").at("id").as_string().starts_with("https://acme.example/"));
  EXPECT_TRUE(statement.at("verb").at("display").as_object().contains("en-US"));
  EXPECT_TRUE(statement.at("object").at("definition").as_object().contains("name"));
  EXPECT_TRUE(statement.at("object").at("definition").as_object().contains("type"));
}

INSTANTIATE_TEST_SUITE_P(AllLearningEvents, StatementGolden, ::testing::ValuesIn(LearningTypes()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '.') c = '_';
                           }
                           return name;
                         });

TEST(Statement, IdIsUuid5OfOrgAndEventId) {
  auto statement = BuildStatement(kAcme, ReadEventFile("lesson.liked"), Version::k1_0_3);
  EXPECT_EQ(statement.at("id"), json::value(Uuid5(kUrlNamespace, "punt:org-acme:evt-8813")));
  EXPECT_EQ(statement.at("id"), json::value(StatementId("org-acme", "evt-8813")));
  // Another organisation with the same event id gets another statement id.
  OrgSettings other = kAcme;
  other.org_id = "org-other";
  EXPECT_NE(BuildStatement(other, ReadEventFile("lesson.liked"), Version::k1_0_3).at("id"),
            statement.at("id"));
}

TEST(Statement, SameEventGivesSameBytes) {
  auto event = ReadEventFile("question.answered");
  EXPECT_EQ(StatementJson(kAcme, event, Version::k1_0_3), StatementJson(kAcme, event, Version::k1_0_3));
}

TEST(Statement, MboxOnlyWhenOptedInAndNeverBesideAccount) {
  OrgSettings opted = kAcme;
  opted.mbox_opt_in = true;
  auto event = ReadEventFile("lesson.completed");
  auto actor = BuildStatement(opted, event, Version::k1_0_3).at("actor").as_object();
  EXPECT_EQ(actor.at("mbox"), "mailto:jane@example.com");
  EXPECT_FALSE(actor.contains("account"));
  std::string actual = StatementJson(opted, event, Version::k1_0_3);
  EXPECT_EQ(actual, Golden("xapi/lesson.completed.mbox.1.0.3.json", actual));

  // Opted in, but the user has no email: the account identifies them.
  event.as_object()["user"].as_object().erase("email");
  actor = BuildStatement(opted, event, Version::k1_0_3).at("actor").as_object();
  EXPECT_FALSE(actor.contains("mbox"));
  EXPECT_EQ(actor.at("account").at("name"), "u-17");
}

TEST(Statement, PercentEncodesIdsInActivityIris) {
  auto event = ReadEventFile("section.viewed");
  event.as_object()["lesson"].as_object()["id"] = "l 1/ü?";
  auto statement = BuildStatement(kAcme, event, Version::k1_0_3);
  EXPECT_EQ(statement.at("object").at("id"),
            "https://acme.example/lessons/l%201%2F%C3%BC%3F/sections/s%203%2Fintro");
  EXPECT_EQ(statement.at("context").at("contextActivities").at("parent").at(0).at("id"),
            "https://acme.example/lessons/l%201%2F%C3%BC%3F");
}

TEST(Statement, CompletedCarriesScoreDurationAndCompletion) {
  auto result = BuildStatement(kAcme, ReadEventFile("lesson.completed"), Version::k1_0_3)
                    .at("result")
                    .as_object();
  EXPECT_EQ(result.at("completion"), true);
  EXPECT_EQ(ToJson(result.at("score")), R"({"scaled":0.92,"raw":92,"min":0,"max":100})");
  EXPECT_EQ(result.at("duration"), "PT20M0.12S");
}

// Unknown fields are kept in an event (and in its webhook body), never read
// into its statement: a liked or disliked lesson has no result, whatever
// the platform sends beside the catalog's fields.
TEST(Statement, LikedAndDislikedHaveNoResultEvenWithAnUnknownDurationField) {
  for (const char* type : {"lesson.liked", "lesson.disliked"}) {
    auto event = ReadEventFile(type);
    event.as_object()["duration_seconds"] = -5;
    ASSERT_TRUE(catalog::Validate(event).empty()) << type;
    EXPECT_FALSE(BuildStatement(kAcme, event, Version::k1_0_3).contains("result")) << type;
  }
}

// results_count has a minimum but no maximum: a count beyond what a double
// holds exactly, or beyond int64, is written as the platform sent it.
TEST(Statement, ResultsCountIsWrittenExactlyWhateverItsSize) {
  auto event = ReadEventFile("term.searched");
  const std::string key = "https://acme.example/xapi/extensions/results-count";
  for (const char* count : {"9007199254740993", "18446744073709551615", "12"}) {
    event.as_object()["results_count"] = json::parse(count);
    ASSERT_TRUE(catalog::Validate(event).empty()) << count;
    auto statement = BuildStatement(kAcme, event, Version::k1_0_3);
    EXPECT_EQ(ToJson(statement.at("result").at("extensions").at(key)), count);
  }
}

// duration_seconds has no maximum: one past what milliseconds in 64 bits
// hold is still a valid ISO 8601 duration, in whole seconds.
TEST(Statement, AVeryLongDurationIsAValidDuration) {
  auto event = ReadEventFile("lesson.viewed");
  for (auto [seconds, duration] :
       {std::pair{1e20, "PT100000000000000000000S"}, std::pair{9.3e15, "PT9300000000000000S"},
        std::pair{8e15, "PT2222222222222H13M20S"}, std::pair{95.5, "PT1M35.5S"}}) {
    event.as_object()["duration_seconds"] = seconds;
    ASSERT_TRUE(catalog::Validate(event).empty()) << seconds;
    EXPECT_EQ(BuildStatement(kAcme, event, Version::k1_0_3).at("result").at("duration"), duration)
        << seconds;
  }
}

TEST(Statement, TimestampIsUtcWithMilliseconds) {
  auto statement = BuildStatement(kAcme, ReadEventFile("lesson.disliked"), Version::k1_0_3);
  EXPECT_EQ(statement.at("timestamp"), "2026-11-28T12:01:00.000Z");
}

TEST(Statement, UserEventsHaveNoStatement) {
  for (const auto& t : catalog::AllEventTypes()) {
    EXPECT_EQ(HasStatement(t.name), t.family == catalog::Family::kLearning) << t.name;
  }
  EXPECT_FALSE(HasStatement("no.such"));
}

}  // namespace
}  // namespace punt::xapi
