#include "xapi/statement.h"

#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <cmath>

#include "catalog/catalog.h"
#include "util/event_id.h"
#include "util/json.h"
#include "util/time.h"

namespace punt::xapi {
namespace {

namespace json = boost::json;

constexpr std::string_view kLocationExtension = "http://id.tincanapi.com/extension/location";

std::string_view Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

const json::object* Obj(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

std::optional<double> Num(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_number()) return std::nullopt;
  return v->to_number<double>();
}

json::object LangMap(std::string_view text) { return {{"en-US", text}}; }

// Builds activity ids and extension IRIs under the organisation's platform URL.
class Iris {
 public:
  explicit Iris(std::string_view platform_url) : base_(platform_url) {
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
  }
  const std::string& base() const { return base_; }
  std::string Lesson(std::string_view id) const { return base_ + "/lessons/" + Encode(id); }
  std::string Section(std::string_view lesson, std::string_view id) const {
    return Lesson(lesson) + "/sections/" + Encode(id);
  }
  std::string Question(std::string_view id) const { return base_ + "/questions/" + Encode(id); }
  std::string TrainingSession(std::string_view id) const {
    return base_ + "/training-sessions/" + Encode(id);
  }
  std::string Search() const { return base_ + "/search"; }
  std::string Extension(std::string_view name) const {
    return base_ + "/xapi/extensions/" + std::string(name);
  }

 private:
  static std::string Encode(std::string_view id) {
    return boost::urls::encode(id, boost::urls::unreserved_chars);
  }
  std::string base_;
};

json::object Activity(std::string id, std::string_view type, std::string_view name) {
  json::object definition{{"name", LangMap(name)}, {"type", type}};
  return {{"objectType", "Activity"}, {"id", std::move(id)}, {"definition", std::move(definition)}};
}

json::object LessonActivity(const Iris& iris, const json::object& lesson) {
  return Activity(iris.Lesson(Str(lesson, "id")), "http://adlnet.gov/expapi/activities/lesson",
                  Str(lesson, "title"));
}

json::object Actor(const OrgSettings& org, const Iris& iris, const json::object& user) {
  json::object actor{{"objectType", "Agent"}};
  if (auto name = Str(user, "name"); !name.empty()) actor["name"] = name;
  auto email = Str(user, "email");
  if (org.mbox_opt_in && !email.empty()) {
    actor["mbox"] = "mailto:" + std::string(email);
  } else {
    actor["account"] = json::object{{"homePage", iris.base()}, {"name", Str(user, "id")}};
  }
  return actor;
}

// "a" or ["a","b"] → the xAPI response form "a" or "a[,]b".
std::string ResponseText(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  std::string out;
  for (const auto& item : v.get_array()) {
    if (!out.empty()) out += "[,]";
    out += std::string_view(item.get_string());
  }
  return out;
}

json::object Interaction(const Iris& iris, const json::object& question) {
  json::object activity = Activity(iris.Question(Str(question, "id")),
                                   "http://adlnet.gov/expapi/activities/cmi.interaction",
                                   Str(question, "text"));
  json::object& definition = activity["definition"].as_object();
  auto type = Str(question, "interaction_type");
  if (type.empty()) return activity;
  definition["interactionType"] = type;
  if (const json::value* correct = question.if_contains("correct_responses")) {
    json::array patterns;
    for (const auto& r : correct->get_array()) patterns.emplace_back(r.get_string());
    definition["correctResponsesPattern"] = std::move(patterns);
  }
  const json::value* choices = question.if_contains("choices");
  if (choices && (type == "choice" || type == "sequencing" || type == "likert")) {
    json::array components;
    for (const auto& c : choices->get_array()) {
      const auto& choice = c.get_object();
      components.push_back(json::object{{"id", Str(choice, "id")},
                                        {"description", LangMap(Str(choice, "text"))}});
    }
    definition[type == "likert" ? "scale" : "choices"] = std::move(components);
  }
  return activity;
}

void AddParent(json::object& context, json::object parent) {
  context["contextActivities"] = json::object{{"parent", json::array{std::move(parent)}}};
}

std::optional<std::string> DurationBetween(std::string_view from, std::string_view to) {
  auto start = ParseRfc3339(from);
  auto end = ParseRfc3339(to);
  if (!start || !end || *end < *start) return std::nullopt;
  return FormatIsoDuration(*end - *start);
}

// From 9e15 s on, the milliseconds would not fit in 64 bits; such a double
// is a whole number of seconds (it is above 2^52), written as one.
std::string SecondsDuration(double seconds) {
  constexpr double kMillisecondsOverflow = 9e15;
  if (seconds < kMillisecondsOverflow) {
    return FormatIsoDuration(std::chrono::milliseconds(std::llround(seconds * 1000)));
  }
  char digits[320];  // a double below 1.8e308: at most 309 digits
  auto end =
      std::to_chars(digits, digits + sizeof digits, seconds, std::chars_format::fixed, 0).ptr;
  return "PT" + std::string(digits, end) + "S";
}

// Fills object, result and context for one event type.
struct Parts {
  json::object object;
  json::object result;
  json::object context;
};

Parts MapEvent(std::string_view type, const Iris& iris, const json::object& e) {
  Parts p;
  if (type == "lesson.completed") {
    p.object = LessonActivity(iris, *Obj(e, "lesson"));
    p.result["completion"] = true;
    if (auto score = Num(e, "score_percent")) {
      p.result["score"] = json::object{
          {"scaled", *score / 100}, {"raw", *score}, {"min", 0}, {"max", 100}};
    }
    if (auto d = DurationBetween(Str(e, "started_at"), Str(e, "completed_at"))) {
      p.result["duration"] = *d;
    }
    json::object extensions;
    if (auto at = Str(e, "assigned_at"); !at.empty()) {
      extensions[iris.Extension("assigned-at")] = FormatTimestamp(*ParseRfc3339(at));
    }
    if (auto url = Str(e, "report_card_url"); !url.empty()) {
      extensions[iris.Extension("report-card-url")] = url;
    }
    if (!extensions.empty()) p.context["extensions"] = std::move(extensions);
  } else if (type == "lesson.liked" || type == "lesson.disliked" || type == "lesson.viewed") {
    p.object = LessonActivity(iris, *Obj(e, "lesson"));
    // Only lesson.viewed has duration_seconds in the catalog: on the others
    // it is an unknown field, kept in the event but never checked.
    if (auto s = Num(e, "duration_seconds"); s && type == "lesson.viewed") {
      p.result["duration"] = SecondsDuration(*s);
    }
  } else if (type == "section.viewed") {
    const auto& lesson = *Obj(e, "lesson");
    const auto& section = *Obj(e, "section");
    p.object = Activity(iris.Section(Str(lesson, "id"), Str(section, "id")),
                        "http://id.tincanapi.com/activitytype/section", Str(section, "title"));
    if (auto s = Num(e, "duration_seconds")) p.result["duration"] = SecondsDuration(*s);
    AddParent(p.context, LessonActivity(iris, lesson));
  } else if (type == "question.answered" || type == "question.skipped") {
    p.object = Interaction(iris, *Obj(e, "question"));
    if (type == "question.answered") {
      p.result["success"] = e.at("correct").as_bool();
      p.result["response"] = ResponseText(e.at("response"));
    }
    AddParent(p.context, LessonActivity(iris, *Obj(e, "lesson")));
  } else if (type == "training_session.attended") {
    const auto& session = *Obj(e, "session");
    p.object = Activity(iris.TrainingSession(Str(session, "id")),
                        "http://adlnet.gov/expapi/activities/meeting", Str(session, "title"));
    if (const json::object* instructor = Obj(e, "instructor")) {
      p.context["instructor"] =
          json::object{{"objectType", "Agent"},
                       {"name", Str(*instructor, "name")},
                       {"mbox", "mailto:" + std::string(Str(*instructor, "email"))}};
    }
    json::object extensions;
    if (auto location = Str(session, "location"); !location.empty()) {
      extensions[kLocationExtension] = location;
    }
    if (auto at = Str(session, "starts_at"); !at.empty()) {
      extensions[iris.Extension("session-starts-at")] = FormatTimestamp(*ParseRfc3339(at));
    }
    if (auto at = Str(session, "ends_at"); !at.empty()) {
      extensions[iris.Extension("session-ends-at")] = FormatTimestamp(*ParseRfc3339(at));
    }
    if (!extensions.empty()) p.context["extensions"] = std::move(extensions);
  } else if (type == "term.searched") {
    p.object = Activity(iris.Search(), "https://w3id.org/xapi/acrossx/activities/search-engine",
                        "Search");
    p.result["response"] = Str(e, "term");
    // As sent: a valid count is a whole number of any size, which a cast to
    // int64 (through a double) would round or overflow.
    if (const json::value* count = e.if_contains("results_count")) {
      p.result["extensions"] = json::object{{iris.Extension("results-count"), *count}};
    }
  }
  return p;
}

}  // namespace

std::string_view VersionHeader(Version version) {
  return version == Version::k2_0_0 ? "2.0.0" : "1.0.3";
}

std::optional<Version> ParseVersion(std::string_view text) {
  if (text == "1.0.3") return Version::k1_0_3;
  if (text == "2.0.0") return Version::k2_0_0;
  return std::nullopt;
}

// Scheme and host are case-insensitive but IRIs are compared as text: they
// are kept in lower case, so HTTPS://Acme.example and https://acme.example
// name the same ids.
std::optional<std::string> NormalisePlatformUrl(std::string_view text) {
  if (text.size() > 2048) return std::nullopt;
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed || (parsed->scheme_id() != boost::urls::scheme::http &&
                  parsed->scheme_id() != boost::urls::scheme::https)) {
    return std::nullopt;
  }
  if (parsed->encoded_host().empty() || parsed->has_query() || parsed->has_userinfo()) {
    return std::nullopt;
  }
  boost::urls::url url(*parsed);
  url.normalize_scheme();
  url.normalize_authority();
  return std::string(url.buffer());
}

bool HasStatement(std::string_view event_type) {
  const auto* type = catalog::FindEventType(event_type);
  return type && type->xapi;
}

json::object BuildStatement(const OrgSettings& org, const json::value& event, Version) {
  const json::object& e = event.as_object();
  std::string_view type_name = Str(e, "type");
  const catalog::XapiMapping& mapping = *catalog::FindEventType(type_name)->xapi;
  Iris iris(org.platform_url);

  Parts parts = MapEvent(type_name, iris, e);
  json::object statement;
  statement["id"] = StatementId(org.org_id, Str(e, "id"));
  statement["actor"] = Actor(org, iris, *Obj(e, "user"));
  statement["verb"] = json::object{{"id", mapping.verb_id},
                                   {"display", LangMap(mapping.verb_display)}};
  statement["object"] = std::move(parts.object);
  if (!parts.result.empty()) statement["result"] = std::move(parts.result);
  if (!parts.context.empty()) statement["context"] = std::move(parts.context);
  statement["timestamp"] = FormatTimestamp(*ParseRfc3339(Str(e, "occurred_at")));
  return statement;
}

std::string StatementJson(const OrgSettings& org, const json::value& event, Version version) {
  return ToJson(BuildStatement(org, event, version));
}

}  // namespace punt::xapi
