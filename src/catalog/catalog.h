// The event catalog: every event type punt accepts, as data.
// Adding a type touches this catalog's table (catalog.cc) and, for a learning
// event, its statement builder in src/xapi. Thread-safe: immutable after
// static initialisation.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace punt::catalog {

enum class Family { kUser, kLearning };

// What a field's value must be.
enum class FieldKind {
  kString,       // a JSON string within [min_length, max_length]
  kTimestamp,    // an RFC 3339 string
  kEmail,        // a string shaped like local@domain
  kUrl,          // an absolute http(s) URL
  kInteger,      // a JSON integer within [minimum, maximum]
  kNumber,       // any JSON number within [minimum, maximum]
  kBoolean,
  kObject,       // an object with `fields`; other keys are kept as they are
  kObjectArray,  // an array of objects, each with `fields`
  kStringArray,  // an array of strings
  kStringOrStringArray,  // a string, or an array of strings
  kAnyObject,    // an object with any content (custom_fields)
  kChanges,      // an object whose every value is a two-item array [old, new]
};

struct Field {
  std::string name = {};
  FieldKind kind = FieldKind::kString;
  bool required = false;
  std::string description = {};
  std::vector<Field> fields = {};  // for kObject and kObjectArray
  std::optional<double> minimum = {};
  std::optional<double> maximum = {};
  size_t min_length = 0;  // kString
  size_t max_length = 0;  // kString, kUrl, kEmail and arrays: 0 means unlimited
  std::vector<std::string> allowed = {};  // kString: the only values allowed, if any
};

// How a learning event becomes an xAPI statement (see docs/xapi-mapping.md).
struct XapiMapping {
  std::string verb_id;
  std::string verb_display;  // en-US
  std::string activity_type;
};

struct EventType {
  std::string name;          // "lesson.completed"
  std::string display_name;  // "Lesson Completed"
  Family family;
  std::string description;
  // The fields at the top level of the event beside id, type, occurred_at and
  // user, which every event has.
  std::vector<Field> fields;
  std::optional<XapiMapping> xapi;  // set for every learning event
};

// The fields every event has: id, type, occurred_at, user.
const std::vector<Field>& CommonFields();

// Every event type, in a stable order (user events, then learning events).
std::span<const EventType> AllEventTypes();

// nullptr when `name` is not in the catalog.
const EventType* FindEventType(std::string_view name);

std::string_view FamilyName(Family family);  // "user" or "learning"

}  // namespace punt::catalog
