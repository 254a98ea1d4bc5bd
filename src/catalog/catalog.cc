#include "catalog/catalog.h"

#include <algorithm>

namespace punt::catalog {
namespace {

constexpr size_t kIdLength = 255;
constexpr size_t kTitleLength = 1024;
constexpr size_t kTextLength = 10000;

Field Str(std::string name, bool required, size_t max_length, std::string description) {
  return Field{.name = std::move(name), .kind = FieldKind::kString, .required = required,
               .description = std::move(description), .min_length = 1, .max_length = max_length};
}
Field Time(std::string name, bool required, std::string description) {
  return Field{.name = std::move(name), .kind = FieldKind::kTimestamp, .required = required,
               .description = std::move(description)};
}
Field Obj(std::string name, bool required, std::vector<Field> fields, std::string description) {
  return Field{.name = std::move(name), .kind = FieldKind::kObject, .required = required,
               .description = std::move(description), .fields = std::move(fields)};
}
Field Seconds(std::string description) {
  return Field{.name = "duration_seconds", .kind = FieldKind::kNumber,
               .description = std::move(description), .minimum = 0};
}

Field Lesson() {
  return Obj("lesson", true,
             {Str("id", true, kIdLength, "The platform's lesson id."),
              Str("title", true, kTitleLength, "The lesson's title.")},
             "The lesson.");
}

Field Question(bool interaction_type_required) {
  Field interaction{.name = "interaction_type", .kind = FieldKind::kString,
                    .required = interaction_type_required,
                    .description = "The xAPI interaction type of the question.",
                    .min_length = 1, .max_length = 32,
                    .allowed = {"true-false", "choice", "fill-in", "long-fill-in", "matching",
                                "performance", "sequencing", "likert", "numeric", "other"}};
  Field choices{.name = "choices", .kind = FieldKind::kObjectArray,
                .description = "The choices offered (choice, sequencing and likert questions).",
                .fields = {Str("id", true, kIdLength, "The choice's id."),
                           Str("text", true, kTitleLength, "The choice's text.")},
                .max_length = 100};
  Field correct{.name = "correct_responses", .kind = FieldKind::kStringArray,
                .description = "The correct responses, each in xAPI response form.",
                .max_length = 100};
  return Obj("question", true,
             {Str("id", true, kIdLength, "The platform's question id."),
              Str("text", true, kTextLength, "The question as asked."), std::move(interaction),
              std::move(choices), std::move(correct)},
             "The question.");
}

std::vector<EventType> MakeCatalog() {
  const std::string kLesson = "http://adlnet.gov/expapi/activities/lesson";
  const std::string kInteraction = "http://adlnet.gov/expapi/activities/cmi.interaction";
  std::vector<EventType> types;
  auto user_event = [&](std::string name, std::string display, std::string description,
                        std::vector<Field> fields = {}) {
    types.push_back({std::move(name), std::move(display), Family::kUser,
                     std::move(description), std::move(fields), std::nullopt});
  };
  user_event("user.created", "User Created", "A user was created.");
  user_event("user.restored", "User Restored", "An archived user was restored.");
  user_event("user.updated", "User Updated", "A user's profile changed.",
             {Field{.name = "changes", .kind = FieldKind::kChanges,
                    .description = "The changed fields, each as [old, new]."}});
  user_event("user.archived", "User Archived", "A user was archived.");

  auto learning = [&](std::string name, std::string display, std::string description,
                      std::vector<Field> fields, XapiMapping xapi) {
    types.push_back({std::move(name), std::move(display), Family::kLearning,
                     std::move(description), std::move(fields), std::move(xapi)});
  };
  learning("lesson.completed", "Lesson Completed", "A user completed a lesson.",
           {Lesson(),
            Field{.name = "score_percent", .kind = FieldKind::kNumber,
                  .description = "The score, in percent.", .minimum = 0, .maximum = 100},
            Time("started_at", false, "When the user started the lesson."),
            Time("completed_at", false, "When the user completed the lesson."),
            Time("assigned_at", false, "When the lesson was assigned to the user."),
            Field{.name = "report_card_url", .kind = FieldKind::kUrl,
                  .description = "The user's report card for the lesson.", .max_length = 2048}},
           {"http://adlnet.gov/expapi/verbs/completed", "completed", kLesson});
  learning("lesson.liked", "Lesson Liked", "A user liked a lesson.", {Lesson()},
           {"https://w3id.org/xapi/acrossx/verbs/liked", "liked", kLesson});
  learning("lesson.disliked", "Lesson Disliked", "A user disliked a lesson.", {Lesson()},
           {"https://w3id.org/xapi/acrossx/verbs/disliked", "disliked", kLesson});
  learning("lesson.viewed", "Lesson Viewed", "A user viewed a lesson.",
           {Lesson(), Seconds("How long the user viewed the lesson.")},
           {"http://id.tincanapi.com/verb/viewed", "viewed", kLesson});
  learning("section.viewed", "Section Viewed", "A user viewed a section of a lesson.",
           {Lesson(),
            Obj("section", true,
                {Str("id", true, kIdLength, "The platform's section id."),
                 Str("title", true, kTitleLength, "The section's title.")},
                "The section."),
            Seconds("How long the user viewed the section.")},
           {"http://id.tincanapi.com/verb/viewed", "viewed",
            "http://id.tincanapi.com/activitytype/section"});
  learning("question.answered", "Question Answered", "A user answered a question.",
           {Lesson(), Question(true),
            Field{.name = "response", .kind = FieldKind::kStringOrStringArray, .required = true,
                  .description = "The user's response: text, or the ids of the chosen choices.",
                  .max_length = 100},
            Field{.name = "correct", .kind = FieldKind::kBoolean, .required = true,
                  .description = "Whether the response was correct."}},
           {"http://adlnet.gov/expapi/verbs/answered", "answered", kInteraction});
  learning("question.skipped", "Questions Skipped", "A user skipped a question.",
           {Lesson(), Question(false)},
           {"http://id.tincanapi.com/verb/skipped", "skipped", kInteraction});
  learning("training_session.attended", "In-Person Training Session Attended",
           "A user attended an in-person training session.",
           {Obj("session", true,
                {Str("id", true, kIdLength, "The platform's session id."),
                 Str("title", true, kTitleLength, "The session's title."),
                 Str("location", false, kTitleLength, "Where the session took place."),
                 Time("starts_at", false, "When the session started."),
                 Time("ends_at", false, "When the session ended.")},
                "The training session."),
            Obj("instructor", false,
                {Str("name", true, kTitleLength, "The instructor's name."),
                 Field{.name = "email", .kind = FieldKind::kEmail, .required = true,
                       .description = "The instructor's email address.", .max_length = 254}},
                "Who led the session.")},
           {"http://adlnet.gov/expapi/verbs/attended", "attended",
            "http://adlnet.gov/expapi/activities/meeting"});
  learning("term.searched", "Term Searched", "A user searched for a term.",
           {Str("term", true, kTitleLength, "What the user searched for."),
            Field{.name = "results_count", .kind = FieldKind::kInteger,
                  .description = "How many results the search found.", .minimum = 0}},
           {"https://w3id.org/xapi/acrossx/verbs/searched", "searched",
            "https://w3id.org/xapi/acrossx/activities/search-engine"});
  return types;
}

}  // namespace

const std::vector<Field>& CommonFields() {
  static const std::vector<Field> fields = {
      Str("id", true, kIdLength,
          "The platform's own id for the event; the idempotency key within the organisation."),
      Str("type", true, 64, "The event type, one of the catalog's names."),
      Time("occurred_at", true, "When it happened (RFC 3339)."),
      Obj("user", true,
          {Str("id", true, kIdLength, "The platform's user id."),
           Str("ext_uid", false, kIdLength, "The user's id in the customer's own systems."),
           Str("name", false, kTitleLength, "The user's full name."),
           Field{.name = "email", .kind = FieldKind::kEmail,
                 .description = "The user's email address.", .max_length = 254},
           Field{.name = "custom_fields", .kind = FieldKind::kAnyObject,
                 .description = "The organisation's custom user fields."}},
          "The user the event is about."),
  };
  return fields;
}

std::span<const EventType> AllEventTypes() {
  static const std::vector<EventType> types = MakeCatalog();
  return types;
}

const EventType* FindEventType(std::string_view name) {
  auto types = AllEventTypes();
  auto it = std::find_if(types.begin(), types.end(),
                         [&](const EventType& t) { return t.name == name; });
  return it == types.end() ? nullptr : &*it;
}

std::string_view FamilyName(Family family) {
  return family == Family::kUser ? "user" : "learning";
}

}  // namespace punt::catalog
