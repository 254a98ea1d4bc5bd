#include <gtest/gtest.h>

#include "catalog/catalog.h"
#include "catalog/schema.h"
#include "catalog/validate.h"

#include <boost/json.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace punt::catalog {
namespace {

namespace json = boost::json;

using Problems = std::vector<std::pair<std::string, std::string>>;

// Validate, as {path, message} pairs that gtest prints on failure.
Problems Check(const json::value& event) {
  Problems out;
  for (const Problem& p : Validate(event)) out.emplace_back(p.path, p.message);
  return out;
}

constexpr std::string_view kMinimalUser = R"({"id": "u-17"})";
constexpr std::string_view kFullUser = R"({"id": "u-17", "ext_uid": "E-42", "name": "Jane Doe",
    "email": "jane@example.com", "custom_fields": {"team": "West", "level": 3}})";

// An event of `type` with the common fields, then the fields in `extra`.
json::value Event(std::string_view type, std::string_view extra = "{}",
                  std::string_view user = kMinimalUser) {
  json::object event{{"id", "evt-8812"}, {"type", type},
                     {"occurred_at", "2026-11-28T12:00:00.123Z"}, {"user", json::parse(user)}};
  json::value fields = json::parse(extra);
  for (const auto& [key, value] : fields.as_object()) event[key] = value;
  return event;
}

constexpr std::string_view kLesson = R"("lesson": {"id": "l-77", "title": "Objection handling"})";

struct Example {
  std::string minimal;  // only the required fields
  std::string full;     // every field the catalog names
};

// Realistic examples of every event type, by name.
const std::map<std::string, Example>& Examples() {
  static const std::map<std::string, Example> examples = [] {
    std::string lesson(kLesson);
    std::map<std::string, Example> m;
    m["user.created"] = {"{}", "{}"};
    m["user.restored"] = {"{}", "{}"};
    m["user.archived"] = {"{}", "{}"};
    m["user.updated"] = {
        "{}", R"({"changes": {"name": ["Jane Roe", "Jane Doe"], "email": [null, "j@x.io"]}})"};
    m["lesson.completed"] = {
        "{" + lesson + "}",
        "{" + lesson + R"(, "score_percent": 92, "started_at": "2026-11-28T11:40:00.000Z",
          "completed_at": "2026-11-28T12:00:00.123Z", "assigned_at": "2026-11-20T08:00:00.000Z",
          "report_card_url": "https://acme.example/report_cards/9"})"};
    m["lesson.liked"] = {"{" + lesson + "}", "{" + lesson + "}"};
    m["lesson.disliked"] = {"{" + lesson + "}", "{" + lesson + "}"};
    m["lesson.viewed"] = {"{" + lesson + "}", "{" + lesson + R"(, "duration_seconds": 312.5})"};
    m["section.viewed"] = {
        "{" + lesson + R"(, "section": {"id": "s-3", "title": "Price objections"}})",
        "{" + lesson + R"(, "section": {"id": "s-3", "title": "Price objections"},
          "duration_seconds": 45})"};
    m["question.answered"] = {
        "{" + lesson + R"(, "question": {"id": "q-5", "text": "What do you say first?",
          "interaction_type": "fill-in"}, "response": "I hear you", "correct": true})",
        "{" + lesson + R"(, "question": {"id": "q-6", "text": "Which comes first?",
          "interaction_type": "choice", "choices": [{"id": "a", "text": "Discount"},
          {"id": "b", "text": "Listen"}], "correct_responses": ["b"]},
          "response": ["a"], "correct": false})"};
    m["question.skipped"] = {
        "{" + lesson + R"(, "question": {"id": "q-5", "text": "What do you say first?"}})",
        "{" + lesson + R"(, "question": {"id": "q-6", "text": "Which comes first?",
          "interaction_type": "choice", "choices": [{"id": "a", "text": "Discount"},
          {"id": "b", "text": "Listen"}], "correct_responses": ["b"]}})"};
    m["training_session.attended"] = {
        R"({"session": {"id": "ts-9", "title": "Negotiation workshop"}})",
        R"({"session": {"id": "ts-9", "title": "Negotiation workshop", "location": "Leeds",
          "starts_at": "2026-11-27T09:00:00Z", "ends_at": "2026-11-27T17:00:00+00:00"},
          "instructor": {"name": "Sam Lee", "email": "sam.lee@acme.example"}})"};
    m["term.searched"] = {R"({"term": "objection handling"})",
                          R"({"term": "objection handling", "results_count": 12})"};
    return m;
  }();
  return examples;
}

json::value Full(std::string_view type) {
  return Event(type, Examples().at(std::string(type)).full, kFullUser);
}

// ---------------------------------------------------------------------------------------------
// The catalog

TEST(Catalog, HasThirteenTypesInTheirFamilies) {
  auto types = AllEventTypes();
  ASSERT_EQ(types.size(), 13u);
  std::vector<std::string> user_types;
  for (const EventType& type : types) {
    if (type.family == Family::kUser) user_types.push_back(type.name);
  }
  EXPECT_EQ(user_types, (std::vector<std::string>{"user.created", "user.restored",
                                                  "user.updated", "user.archived"}));
  EXPECT_EQ(FindEventType("term.searched")->family, Family::kLearning);
  EXPECT_EQ(FamilyName(Family::kUser), "user");
  EXPECT_EQ(FamilyName(Family::kLearning), "learning");
}

TEST(Catalog, HasDisplayNames) {
  EXPECT_EQ(FindEventType("lesson.completed")->display_name, "Lesson Completed");
  EXPECT_EQ(FindEventType("training_session.attended")->display_name,
            "In-Person Training Session Attended");
  EXPECT_EQ(FindEventType("question.skipped")->display_name, "Questions Skipped");
  for (const EventType& type : AllEventTypes()) {
    EXPECT_FALSE(type.display_name.empty()) << type.name;
    EXPECT_FALSE(type.description.empty()) << type.name;
  }
}

TEST(Catalog, FindsOnlyKnownTypes) {
  EXPECT_EQ(FindEventType("lesson.completed")->name, "lesson.completed");
  EXPECT_EQ(FindEventType("lesson.finished"), nullptr);
  EXPECT_EQ(FindEventType(""), nullptr);
}

TEST(Catalog, EveryLearningTypeAndNoUserTypeHasAnXapiMapping) {
  for (const EventType& type : AllEventTypes()) {
    EXPECT_EQ(type.xapi.has_value(), type.family == Family::kLearning) << type.name;
    if (type.xapi) {
      EXPECT_FALSE(type.xapi->verb_id.empty()) << type.name;
      EXPECT_FALSE(type.xapi->verb_display.empty()) << type.name;
      EXPECT_FALSE(type.xapi->activity_type.empty()) << type.name;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Valid events

TEST(Validate, ExamplesCoverEveryType) {
  for (const EventType& type : AllEventTypes()) {
    EXPECT_TRUE(Examples().contains(type.name)) << type.name;
  }
  EXPECT_EQ(Examples().size(), AllEventTypes().size());
}

TEST(Validate, MinimalEventOfEveryTypeIsValid) {
  for (const auto& [type, example] : Examples()) {
    EXPECT_EQ(Check(Event(type, example.minimal)), Problems{}) << type;
  }
}

TEST(Validate, FullEventOfEveryTypeIsValid) {
  for (const auto& [type, example] : Examples()) {
    EXPECT_EQ(Check(Full(type)), Problems{}) << type;
  }
}

TEST(Validate, DesignExampleIsValid) {
  auto event = json::parse(R"(
    { "id": "evt-8812", "type": "lesson.completed", "occurred_at": "2026-11-28T12:00:00.123Z",
      "user":   {"id": "u-17", "ext_uid": "E-42", "name": "Jane Doe", "email": "jane@example.com",
                 "custom_fields": {"team": "West"}},
      "lesson": {"id": "l-77", "title": "Objection handling"},
      "score_percent": 92, "started_at": "2026-11-28T11:40:00.000Z",
      "completed_at": "2026-11-28T12:00:00.123Z", "assigned_at": "2026-11-20T08:00:00.000Z",
      "report_card_url": "https://acme.example/report_cards/9" })");
  EXPECT_EQ(Check(event), Problems{});
}

TEST(Validate, UnknownExtraFieldsPass) {
  json::value event = Full("question.answered");
  event.as_object()["platform"] = "acme-lms";
  event.as_object()["user"].as_object()["department"] = json::object{{"id", 4}};
  event.as_object()["lesson"].as_object()["course"] = "Sales 101";
  event.as_object()["question"].as_object()["choices"].as_array()[0].as_object()["image"] =
      nullptr;
  EXPECT_EQ(Check(event), Problems{});
  // Fields a type does not name are extra, even where another type names them.
  EXPECT_EQ(Check(Event("user.created", R"({"score_percent": "lots", "lesson": 3})")),
            Problems{});
  EXPECT_EQ(Check(Event("lesson.liked", std::string("{") + std::string(kLesson) +
                                            R"(, "started_at": "2026-11-28T12:00:00Z",
                                            "completed_at": "2020-01-01T00:00:00Z"})")),
            Problems{});
}

TEST(Validate, AcceptsEdgeValues) {
  EXPECT_EQ(Check(Event("lesson.completed", std::string("{") + std::string(kLesson) +
                                                R"(, "score_percent": 0})")),
            Problems{});
  EXPECT_EQ(Check(Event("lesson.completed", std::string("{") + std::string(kLesson) +
                                                R"(, "score_percent": 100.0})")),
            Problems{});
  EXPECT_EQ(Check(Event("term.searched", R"({"term": "x", "results_count": 3.0})")), Problems{});
  // Lengths count code points, not bytes: 1024 two-byte characters fit a 1024 limit.
  std::string title;
  for (int i = 0; i < 1024; ++i) title += "\xC3\xA9";  // é
  json::value event = Full("lesson.liked");
  event.as_object()["lesson"].as_object()["title"] = title;
  EXPECT_EQ(Check(event), Problems{});
}

// ---------------------------------------------------------------------------------------------
// Problems

TEST(Validate, RejectsNonObjectEvents) {
  for (const char* text : {"[]", "\"lesson.completed\"", "null", "42"}) {
    EXPECT_EQ(Check(json::parse(text)), (Problems{{"", "must be a JSON object"}})) << text;
  }
}

TEST(Validate, RequiresCommonFields) {
  EXPECT_EQ(Check(json::object{}), (Problems{{"/id", "is required"},
                                             {"/type", "is required"},
                                             {"/occurred_at", "is required"},
                                             {"/user", "is required"}}));
  json::value event = Full("user.created");
  event.as_object()["user"].as_object().erase("id");
  EXPECT_EQ(Check(event), (Problems{{"/user/id", "is required"}}));
}

TEST(Validate, NullCountsAsMissingOnRequiredAndIsRejectedOnOptional) {
  json::value event = Full("lesson.completed");
  event.as_object()["id"] = nullptr;
  event.as_object()["user"].as_object()["email"] = nullptr;
  event.as_object()["score_percent"] = nullptr;
  EXPECT_EQ(Check(event), (Problems{{"/id", "is required"},
                                    {"/user/email", "must not be null"},
                                    {"/score_percent", "must not be null"}}));
}

TEST(Validate, ReportsBadTypes) {
  EXPECT_EQ(Check(Event("lesson.finished")),
            (Problems{{"/type", "unknown event type \"lesson.finished\""}}));
  json::value event = Event("user.created");
  event.as_object()["type"] = 7;
  EXPECT_EQ(Check(event), (Problems{{"/type", "must be a string"}}));
  event.as_object()["type"] = "";
  EXPECT_EQ(Check(event), (Problems{{"/type", "must not be empty"}}));
}

TEST(Validate, UnknownTypeSkipsPerTypeFieldsButChecksCommonOnes) {
  json::value event = Event("lesson.finished", R"({"occurred_at": "soon"})");
  EXPECT_EQ(Check(event),
            (Problems{{"/type", "unknown event type \"lesson.finished\""},
                      {"/occurred_at",
                       "must be an RFC 3339 timestamp, such as 2026-11-28T12:00:00.000Z"}}));
}

TEST(Validate, RejectsBadTimestamps) {
  const std::string message = "must be an RFC 3339 timestamp, such as 2026-11-28T12:00:00.000Z";
  for (const char* value : {R"("yesterday")", R"("2026-11-28")", R"("2026-11-28 12:00:00Z")",
                            R"("2026-02-30T12:00:00Z")", R"(1764331200)"}) {
    json::value event = Event("user.created");
    event.as_object()["occurred_at"] = json::parse(value);
    EXPECT_EQ(Check(event), (Problems{{"/occurred_at", message}})) << value;
  }
}

TEST(Validate, RejectsBadEmails) {
  const std::string message = "must be an email address, such as jane@example.com";
  for (const char* email :
       {"jane", "jane@example", "@example.com", "jane@", "ja ne@example.com", "jane@@example.com",
        "jane@ex@ample.com", "jane@example..com", "jane@.example.com", "jane@example.com.",
        "jane\t@example.com",
        // Regression: these went into the xAPI mbox as mailto:...
        "a..b@c.d", ".jane@example.com", "jane.@example.com", "\"jane\"@example.com",
        "ja(ne)@example.com", "jane@[127.0.0.1]", "jane,doe@example.com", "jane@-example.com",
        "jane@example-.com", "ja\\ne@example.com", "jane@exa;mple.com"}) {
    json::value event = Full("user.created");
    event.as_object()["user"].as_object()["email"] = email;
    EXPECT_EQ(Check(event), (Problems{{"/user/email", message}})) << email;
  }
  json::value event = Full("training_session.attended");
  event.as_object()["instructor"].as_object()["email"] = 42;
  EXPECT_EQ(Check(event), (Problems{{"/instructor/email", message}}));
  event.as_object()["instructor"].as_object()["email"] = std::string(250, 'a') + "@x.io";
  EXPECT_EQ(Check(event), (Problems{{"/instructor/email", "must be at most 254 characters long"}}));
}

TEST(Validate, AcceptsUsualEmails) {
  for (const char* email :
       {"jane@example.com", "jane.doe+lms@mail.acme.co.uk", "j@x.io", "o'brien@example.com",
        "jane_doe@x-y.example", "j\u00fcrgen@beispiel.de", "a.b.c@d.e"}) {
    json::value event = Full("user.created");
    event.as_object()["user"].as_object()["email"] = email;
    EXPECT_EQ(Check(event), Problems{}) << email;
  }
}

TEST(Validate, RejectsBadUrls) {
  for (const char* url : {"ftp://x", "not a url", "/report_cards/9", "https://", "mailto:a@b.c",
                          "https://acme.example/a b"}) {
    json::value event = Full("lesson.completed");
    event.as_object()["report_card_url"] = url;
    EXPECT_EQ(Check(event),
              (Problems{{"/report_card_url", "must be an absolute http or https URL"}}))
        << url;
  }
  json::value event = Full("lesson.completed");
  event.as_object()["report_card_url"] = "https://acme.example/" + std::string(2048, 'a');
  EXPECT_EQ(Check(event),
            (Problems{{"/report_card_url", "must be at most 2048 characters long"}}));
  for (const char* url : {"HTTP://acme.example/r", "http://acme.example:8080/r?id=9#top",
                          "https://[2001:db8::1]/r"}) {
    event.as_object()["report_card_url"] = url;
    EXPECT_EQ(Check(event), Problems{}) << url;
  }
}

TEST(Validate, RejectsStringsOfTheWrongLength) {
  json::value event = Full("lesson.completed");
  event.as_object()["lesson"].as_object()["title"] = std::string(1025, 'x');
  EXPECT_EQ(Check(event), (Problems{{"/lesson/title", "must be at most 1024 characters long"}}));
  event.as_object()["lesson"].as_object()["title"] = "";
  EXPECT_EQ(Check(event), (Problems{{"/lesson/title", "must not be empty"}}));
  event.as_object()["lesson"].as_object()["title"] = json::array{"Objection handling"};
  EXPECT_EQ(Check(event), (Problems{{"/lesson/title", "must be a string"}}));
  event = Full("user.created");
  event.as_object()["id"] = std::string(256, '7');
  EXPECT_EQ(Check(event), (Problems{{"/id", "must be at most 255 characters long"}}));
  // Characters, not bytes: 1,024 two-byte characters are 2,048 bytes and fit.
  event = Full("lesson.completed");
  std::string e_acute = "\xc3\xa9";
  std::string title;
  for (int i = 0; i < 1024; ++i) title += e_acute;
  event.as_object()["lesson"].as_object()["title"] = title;
  EXPECT_EQ(Check(event), Problems{});
  event.as_object()["lesson"].as_object()["title"] = title + e_acute;
  EXPECT_EQ(Check(event), (Problems{{"/lesson/title", "must be at most 1024 characters long"}}));
}

TEST(Validate, RejectsNumbersOutOfRangeOrOfTheWrongKind) {
  auto score = [](json::value value) {
    json::value event = Full("lesson.completed");
    event.as_object()["score_percent"] = std::move(value);
    return Check(event);
  };
  EXPECT_EQ(score(101), (Problems{{"/score_percent", "must be at most 100"}}));
  EXPECT_EQ(score(100.5), (Problems{{"/score_percent", "must be at most 100"}}));
  EXPECT_EQ(score(-1), (Problems{{"/score_percent", "must be at least 0"}}));
  EXPECT_EQ(score("92"), (Problems{{"/score_percent", "must be a number"}}));
  EXPECT_EQ(score(true), (Problems{{"/score_percent", "must be a number"}}));
  EXPECT_EQ(score(92.5), Problems{});

  auto count = [](json::value value) {
    json::value event = Full("term.searched");
    event.as_object()["results_count"] = std::move(value);
    return Check(event);
  };
  EXPECT_EQ(count(3.5), (Problems{{"/results_count", "must be an integer"}}));
  EXPECT_EQ(count("3"), (Problems{{"/results_count", "must be an integer"}}));
  EXPECT_EQ(count(-1), (Problems{{"/results_count", "must be at least 0"}}));
  EXPECT_EQ(count(std::uint64_t{18446744073709551615u}), Problems{});
}

// Regression: a number past a double's range (1e400) parsed as infinity and
// passed: the webhook body then carried null where the platform sent a
// number, and the statement of a lesson.viewed the duration "PTinfS", which
// an LRS refuses. Known fields and unknown ones alike.
TEST(Validate, RejectsNumbersPastADoublesRange) {
  json::value event = json::parse(R"({"id": "evt-8815", "type": "lesson.viewed",
      "occurred_at": "2026-11-28T11:39:00Z", "user": {"id": "u-17"},
      "lesson": {"id": "l-77", "title": "Objection handling"}, "duration_seconds": 1e400,
      "extra": {"list": [1, -1e999, 2.5]}})");
  const std::string message = "is too large: a number must be within +-1.8e308";
  EXPECT_EQ(Check(event), (Problems{{"/duration_seconds", message}, {"/extra/list/1", message}}));

  json::value count = Full("term.searched");
  count.as_object()["results_count"] = json::parse("1e999");
  EXPECT_EQ(Check(count), (Problems{{"/results_count", message}}));
}

TEST(Validate, RejectsAnInteractionTypeOutsideTheList) {
  json::value event = Full("question.answered");
  event.as_object()["question"].as_object()["interaction_type"] = "multiple-choice";
  EXPECT_EQ(Check(event),
            (Problems{{"/question/interaction_type",
                       "must be one of \"true-false\", \"choice\", \"fill-in\", "
                       "\"long-fill-in\", \"matching\", \"performance\", \"sequencing\", "
                       "\"likert\", \"numeric\", \"other\""}}));
  event.as_object()["question"].as_object().erase("interaction_type");
  EXPECT_EQ(Check(event), (Problems{{"/question/interaction_type", "is required"}}));
  // question.skipped does not need one.
  event = Full("question.skipped");
  event.as_object()["question"].as_object().erase("interaction_type");
  EXPECT_EQ(Check(event), Problems{});
}

TEST(Validate, ChecksEveryChoice) {
  json::value event = Full("question.answered");
  json::array& choices = event.as_object()["question"].as_object()["choices"].as_array();
  choices[0].as_object().erase("text");
  choices.push_back("c");
  EXPECT_EQ(Check(event), (Problems{{"/question/choices/0/text", "is required"},
                                    {"/question/choices/2", "must be an object"}}));
  event.as_object()["question"].as_object()["choices"] = json::object{};
  EXPECT_EQ(Check(event), (Problems{{"/question/choices", "must be an array of objects"}}));
  json::array many;
  for (int i = 0; i < 101; ++i) many.push_back(json::object{{"id", "a"}, {"text", "A"}});
  event.as_object()["question"].as_object()["choices"] = many;
  EXPECT_EQ(Check(event), (Problems{{"/question/choices", "must have at most 100 items"}}));
}

TEST(Validate, ChecksStringArrays) {
  json::value event = Full("question.answered");
  event.as_object()["question"].as_object()["correct_responses"] = json::array{"b", "", 3};
  EXPECT_EQ(Check(event), (Problems{{"/question/correct_responses/1", "must not be empty"},
                                    {"/question/correct_responses/2", "must be a string"}}));
  event.as_object()["question"].as_object()["correct_responses"] = "b";
  EXPECT_EQ(Check(event),
            (Problems{{"/question/correct_responses", "must be an array of strings"}}));
}

TEST(Validate, ChecksTheResponseAndCorrectness) {
  auto answer = [](std::string_view response, json::value correct) {
    json::value event = Full("question.answered");
    event.as_object()["response"] = json::parse(response);
    event.as_object()["correct"] = std::move(correct);
    return Check(event);
  };
  EXPECT_EQ(answer(R"("I hear you")", false), Problems{});
  EXPECT_EQ(answer(R"(["a", "b"])", true), Problems{});
  EXPECT_EQ(answer(R"("")", true), (Problems{{"/response", "must not be empty"}}));
  EXPECT_EQ(answer(R"([])", true), (Problems{{"/response", "must not be empty"}}));
  EXPECT_EQ(answer(R"(["a", ""])", true), (Problems{{"/response/1", "must not be empty"}}));
  EXPECT_EQ(answer(R"({"a": 1})", true),
            (Problems{{"/response", "must be a string or an array of strings"}}));
  EXPECT_EQ(answer(R"("a")", "yes"), (Problems{{"/correct", "must be true or false"}}));
}

TEST(Validate, RequiresChangesToBePairs) {
  json::value event = Event("user.updated", R"({"changes": {"name": ["Jane Roe", "Jane Doe"],
      "email": ["jane@example.com"], "team": "West", "a/b~c": [1, 2, 3]}})");
  EXPECT_EQ(Check(event), (Problems{{"/changes/email", "must be [old, new]"},
                                    {"/changes/team", "must be [old, new]"},
                                    {"/changes/a~1b~0c", "must be [old, new]"}}));
  EXPECT_EQ(Check(Event("user.updated", R"({"changes": [["a", "b"]]})")),
            (Problems{{"/changes", "must be an object"}}));
}

TEST(Validate, RequiresObjects) {
  json::value event = Full("user.created");
  event.as_object()["user"].as_object()["custom_fields"] = "West";
  EXPECT_EQ(Check(event), (Problems{{"/user/custom_fields", "must be an object"}}));
  event.as_object()["user"] = "u-17";
  EXPECT_EQ(Check(event), (Problems{{"/user", "must be an object"}}));
}

TEST(Validate, RejectsCompletionBeforeStart) {
  json::value event = Full("lesson.completed");
  event.as_object()["completed_at"] = "2026-11-28T11:39:59.999Z";
  EXPECT_EQ(Check(event), (Problems{{"/completed_at", "must not be before started_at"}}));
  // Compared as instants, not as text.
  event.as_object()["completed_at"] = "2026-11-28T12:39:00+01:00";
  EXPECT_EQ(Check(event), (Problems{{"/completed_at", "must not be before started_at"}}));
  event.as_object()["completed_at"] = "2026-11-28T11:40:00Z";
  EXPECT_EQ(Check(event), Problems{});
  // An invalid start is reported once, by itself.
  event.as_object()["started_at"] = "later";
  EXPECT_EQ(Check(event),
            (Problems{{"/started_at",
                       "must be an RFC 3339 timestamp, such as 2026-11-28T12:00:00.000Z"}}));
}

TEST(Validate, RejectsASessionEndingBeforeItStarts) {
  json::value event = Full("training_session.attended");
  event.as_object()["session"].as_object()["ends_at"] = "2026-11-27T08:00:00Z";
  EXPECT_EQ(Check(event), (Problems{{"/session/ends_at", "must not be before starts_at"}}));
  event.as_object()["session"].as_object().erase("starts_at");
  EXPECT_EQ(Check(event), Problems{});
}

TEST(Validate, ReportsEveryProblemInFieldOrder) {
  json::value event = json::parse(R"({"type": "lesson.completed", "occurred_at": "noon",
      "user": {"id": "", "email": "jane"},
      "lesson": {"id": "l-77"}, "score_percent": 101,
      "started_at": "2026-11-28T12:00:00Z", "completed_at": "2026-11-28T11:00:00Z",
      "report_card_url": "ftp://x"})");
  EXPECT_EQ(Check(event),
            (Problems{{"/id", "is required"},
                      {"/occurred_at",
                       "must be an RFC 3339 timestamp, such as 2026-11-28T12:00:00.000Z"},
                      {"/user/id", "must not be empty"},
                      {"/user/email", "must be an email address, such as jane@example.com"},
                      {"/lesson/title", "is required"},
                      {"/score_percent", "must be at most 100"},
                      {"/completed_at", "must not be before started_at"},
                      {"/report_card_url", "must be an absolute http or https URL"}}));
}

// ---------------------------------------------------------------------------------------------
// JSON Schema

TEST(Schema, DescribesEveryType) {
  for (const EventType& type : AllEventTypes()) {
    json::object schema = JsonSchema(type);
    EXPECT_EQ(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    EXPECT_EQ(schema["$id"], json::value("urn:punt:event:" + type.name));
    EXPECT_EQ(schema["title"], json::value(type.display_name));
    EXPECT_EQ(schema["description"], json::value(type.description));
    EXPECT_EQ(schema["type"], "object");
    EXPECT_EQ(schema["additionalProperties"], true);

    json::array required{"id", "type", "occurred_at", "user"};
    for (const Field& field : type.fields) {
      if (field.required) required.emplace_back(field.name);
    }
    EXPECT_EQ(schema["required"], required) << type.name;

    const json::object& properties = schema["properties"].as_object();
    EXPECT_EQ(properties.size(), 4 + type.fields.size()) << type.name;
    EXPECT_EQ(properties.at("type").at("const"), json::value(type.name));
    EXPECT_EQ(properties.at("user").at("required"), json::array{"id"});
    for (const auto& [name, property] : properties) {
      EXPECT_TRUE(property.as_object().contains("description")) << type.name << " " << name;
    }
  }
}

TEST(Schema, MapsFieldKinds) {
  json::object schema = JsonSchema(*FindEventType("lesson.completed"));
  const json::object& p = schema["properties"].as_object();
  EXPECT_EQ(schema["required"], (json::array{"id", "type", "occurred_at", "user", "lesson"}));
  EXPECT_EQ(p.at("occurred_at"), json::parse(R"({"type": "string", "format": "date-time",
      "description": "When it happened (RFC 3339)."})"));
  EXPECT_EQ(p.at("lesson").at("required"), (json::array{"id", "title"}));
  EXPECT_EQ(p.at("lesson").at("properties").at("title").at("maxLength"), 1024);
  EXPECT_EQ(p.at("lesson").at("properties").at("title").at("minLength"), 1);
  EXPECT_EQ(p.at("score_percent").at("type"), "number");
  EXPECT_EQ(p.at("score_percent").at("minimum"), 0);
  EXPECT_EQ(p.at("score_percent").at("maximum"), 100);
  EXPECT_EQ(p.at("report_card_url").at("format"), "uri");
  EXPECT_EQ(p.at("user").at("properties").at("email").at("format"), "email");
  EXPECT_EQ(p.at("user").at("properties").at("custom_fields").at("type"), "object");

  schema = JsonSchema(*FindEventType("question.answered"));
  const json::object& q = schema["properties"].as_object().at("question").as_object();
  EXPECT_EQ(q.at("properties").at("interaction_type").at("enum").as_array().size(), 10u);
  EXPECT_EQ(q.at("properties").at("choices").at("type"), "array");
  EXPECT_EQ(q.at("properties").at("choices").at("maxItems"), 100);
  EXPECT_EQ(q.at("properties").at("choices").at("items").at("required"),
            (json::array{"id", "text"}));
  EXPECT_EQ(q.at("properties").at("correct_responses").at("items").at("type"), "string");
  EXPECT_EQ(schema["properties"].at("response").at("oneOf").as_array().size(), 2u);
  EXPECT_EQ(schema["properties"].at("correct").at("type"), "boolean");

  schema = JsonSchema(*FindEventType("user.updated"));
  EXPECT_EQ(schema["properties"].at("changes").at("additionalProperties"),
            json::parse(R"({"type": "array", "minItems": 2, "maxItems": 2})"));
  schema = JsonSchema(*FindEventType("term.searched"));
  EXPECT_EQ(schema["properties"].at("results_count").at("type"), "integer");
}

}  // namespace
}  // namespace punt::catalog
