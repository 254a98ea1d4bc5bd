#include "catalog/validate.h"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>

#include "catalog/catalog.h"
#include "util/json_pointer.h"
#include "util/text.h"
#include "util/time.h"

namespace punt::catalog {
namespace {

namespace json = boost::json;

constexpr std::string_view kTimestampMessage =
    "must be an RFC 3339 timestamp, such as 2026-11-28T12:00:00.000Z";
constexpr std::string_view kEmailMessage = "must be an email address, such as jane@example.com";
constexpr std::string_view kUrlMessage = "must be an absolute http or https URL";

// A timestamp that must not be before another in the same object.
struct OrderRule {
  std::string_view type;
  std::string_view object_path;  // JSON Pointer of the object holding both fields
  std::string_view start;
  std::string_view end;
};
constexpr OrderRule kOrderRules[] = {
    {"lesson.completed", "", "started_at", "completed_at"},
    {"training_session.attended", "/session", "starts_at", "ends_at"},
};

std::string_view View(const json::string& s) { return {s.data(), s.size()}; }

void AppendIndex(std::string& path, size_t index) {
  path += '/';
  path += std::to_string(index);
}

// `path` extended by one reference token: for a problem's path.
std::string Child(const std::string& path, std::string_view key) {
  std::string out = path;
  AppendPointerKey(out, key);
  return out;
}
std::string Child(const std::string& path, size_t index) {
  std::string out = path;
  AppendIndex(out, index);
  return out;
}

// Appends a child's step to a path for its lifetime, then takes it off.
class ChildPath {
 public:
  ChildPath(std::string& path, std::string_view key) : path_(path), size_(path.size()) {
    AppendPointerKey(path, key);
  }
  ChildPath(std::string& path, size_t index) : path_(path), size_(path.size()) {
    AppendIndex(path, index);
  }
  ChildPath(const ChildPath&) = delete;
  ChildPath& operator=(const ChildPath&) = delete;
  ~ChildPath() { path_.resize(size_); }

 private:
  std::string& path_;
  const size_t size_;
};

// 100 rather than 100.000000.
std::string FormatNumber(double d) {
  char buffer[32];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, d);
  return std::string(buffer, result.ptr);
}

double AsDouble(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

bool IsInteger(const json::value& v) {
  if (v.is_int64() || v.is_uint64()) return true;
  return v.is_double() && std::isfinite(v.get_double()) &&
         std::trunc(v.get_double()) == v.get_double();
}

// RFC 5321's Mailbox without its quoted and address-literal forms, which
// many mail systems refuse, and so might an LRS ("mailto:" + it is the xAPI
// mbox; one refused statement fails its whole batch): a local
// part of atoms joined by single dots, a domain of non-empty labels that
// neither start nor end with '-', and none of the specials
// ()<>[]:;,\" anywhere. Non-ASCII (UTF-8) is allowed (RFC 6531).
bool IsEmail(std::string_view s) {
  if (std::any_of(s.begin(), s.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7F; })) {
    return false;
  }
  if (s.find_first_of("()<>[]:;,\\\"") != std::string_view::npos) return false;
  size_t at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  std::string_view local = s.substr(0, at);
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return false;
  }
  std::string_view domain = s.substr(at + 1);
  if (domain.find('.') == std::string_view::npos) return false;
  size_t label_start = 0;
  for (size_t i = 0; i <= domain.size(); ++i) {
    if (i == domain.size() || domain[i] == '.') {
      if (i == label_start) return false;  // an empty label: "a@.b", "a@b..c", "a@b."
      if (domain[label_start] == '-' || domain[i - 1] == '-') return false;
      label_start = i + 1;
    }
  }
  return true;
}

// parse_uri rather than parse_absolute_uri, which rejects a #fragment; both require a scheme.
bool IsHttpUrl(std::string_view s) {
  auto url = boost::urls::parse_uri(s);
  if (!url) return false;
  auto scheme = url->scheme_id();
  if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https) return false;
  return url->has_authority() && !url->encoded_host().empty();
}

std::optional<TimePoint> TimeOf(const json::object& object, std::string_view name) {
  const json::value* v = object.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return ParseRfc3339(View(v->get_string()));
}

class Validator {
 public:
  std::vector<Problem> Run(const json::object& event) {
    for (const Field& field : CommonFields()) {
      size_t before = problems_.size();
      CheckField(field, event);
      if (field.name == "type" && problems_.size() == before) {
        ResolveType(event.at("type").get_string());
      }
    }
    if (type_ != nullptr) CheckFields(type_->fields, event);
    CheckFinite(event);
    return std::move(problems_);
  }

 private:
  void Add(std::string path, std::string_view message) {
    problems_.push_back({std::move(path), std::string(message)});
  }

  void ResolveType(const json::string& name) {
    type_ = FindEventType(View(name));
    if (type_ == nullptr) Add("/type", "unknown event type " + json::serialize(name));
  }

  // The fields of `object`, whose path is path_.
  void CheckFields(const std::vector<Field>& fields, const json::object& object) {
    for (const Field& field : fields) {
      CheckField(field, object);
      CheckOrder(object, path_, field.name);
    }
  }

  void CheckField(const Field& field, const json::object& object) {
    ChildPath child(path_, field.name);
    const json::value* value = object.if_contains(field.name);
    if (value == nullptr || value->is_null()) {
      if (field.required) {
        Add(path_, "is required");
      } else if (value != nullptr) {
        Add(path_, "must not be null");
      }
      return;
    }
    CheckValue(field, *value, path_);
  }

  void CheckValue(const Field& field, const json::value& v, const std::string& path) {
    switch (field.kind) {
      case FieldKind::kString: return CheckString(field, v, path);
      case FieldKind::kTimestamp: return CheckTimestamp(v, path);
      case FieldKind::kEmail: return CheckEmail(field, v, path);
      case FieldKind::kUrl: return CheckUrl(field, v, path);
      case FieldKind::kInteger: return CheckNumber(field, v, path, /*integer=*/true);
      case FieldKind::kNumber: return CheckNumber(field, v, path, /*integer=*/false);
      case FieldKind::kBoolean:
        if (!v.is_bool()) Add(path, "must be true or false");
        return;
      case FieldKind::kObject: return CheckObject(field, v, path);
      case FieldKind::kObjectArray: return CheckObjectArray(field, v, path);
      case FieldKind::kStringArray: return CheckStringArray(field, v, path);
      case FieldKind::kStringOrStringArray: return CheckStringOrStringArray(field, v, path);
      case FieldKind::kAnyObject:
        if (!v.is_object()) Add(path, "must be an object");
        return;
      case FieldKind::kChanges: return CheckChanges(v, path);
    }
  }

  // False (with a problem added) when `s` is shorter or longer than allowed.
  bool CheckLength(const Field& field, std::string_view s, const std::string& path) {
    // No more code points than bytes, and at least one in a non-empty string
    // (the parser let only valid UTF-8 through): count only when the bytes
    // cannot tell.
    bool short_enough = field.max_length == 0 || s.size() <= field.max_length;
    bool long_enough = field.min_length == 0 || (field.min_length == 1 && !s.empty());
    if (short_enough && long_enough) return true;
    size_t n = CodePoints(s);
    if (n < field.min_length) {
      Add(path, field.min_length == 1
                    ? "must not be empty"
                    : "must be at least " + std::to_string(field.min_length) + " characters long");
      return false;
    }
    if (field.max_length != 0 && n > field.max_length) {
      Add(path, "must be at most " + std::to_string(field.max_length) + " characters long");
      return false;
    }
    return true;
  }

  // False (with a problem added) when `array` has more items than allowed.
  bool CheckItemCount(const Field& field, const json::array& array, const std::string& path) {
    if (field.max_length == 0 || array.size() <= field.max_length) return true;
    Add(path, "must have at most " + std::to_string(field.max_length) + " items");
    return false;
  }

  void CheckString(const Field& field, const json::value& v, const std::string& path) {
    if (!v.is_string()) return Add(path, "must be a string");
    std::string_view s = View(v.get_string());
    if (!CheckLength(field, s, path) || field.allowed.empty()) return;
    if (std::find(field.allowed.begin(), field.allowed.end(), s) != field.allowed.end()) return;
    std::string message = "must be one of ";
    for (size_t i = 0; i < field.allowed.size(); ++i) {
      if (i > 0) message += ", ";
      message += json::serialize(json::string_view(field.allowed[i]));
    }
    Add(path, message);
  }

  void CheckTimestamp(const json::value& v, const std::string& path) {
    if (!v.is_string() || !ParseRfc3339(View(v.get_string()))) Add(path, kTimestampMessage);
  }

  void CheckEmail(const Field& field, const json::value& v, const std::string& path) {
    if (!v.is_string()) return Add(path, kEmailMessage);
    std::string_view s = View(v.get_string());
    if (CheckLength(field, s, path) && !IsEmail(s)) Add(path, kEmailMessage);
  }

  void CheckUrl(const Field& field, const json::value& v, const std::string& path) {
    if (!v.is_string()) return Add(path, kUrlMessage);
    std::string_view s = View(v.get_string());
    if (CheckLength(field, s, path) && !IsHttpUrl(s)) Add(path, kUrlMessage);
  }

  void CheckNumber(const Field& field, const json::value& v, const std::string& path,
                   bool integer) {
    if (v.is_double() && !std::isfinite(v.get_double())) return;  // CheckFinite tells
    if (integer ? !IsInteger(v) : !v.is_number()) {
      return Add(path, integer ? "must be an integer" : "must be a number");
    }
    double d = AsDouble(v);
    if (field.minimum && d < *field.minimum) {
      Add(path, "must be at least " + FormatNumber(*field.minimum));
    } else if (field.maximum && d > *field.maximum) {
      Add(path, "must be at most " + FormatNumber(*field.maximum));
    }
  }

  void CheckObject(const Field& field, const json::value& v, const std::string& path) {
    if (!v.is_object()) return Add(path, "must be an object");
    CheckFields(field.fields, v.get_object());  // path is path_
  }

  void CheckObjectArray(const Field& field, const json::value& v, const std::string& path) {
    if (!v.is_array()) return Add(path, "must be an array of objects");
    const json::array& array = v.get_array();
    if (!CheckItemCount(field, array, path)) return;
    for (size_t i = 0; i < array.size(); ++i) {
      if (!array[i].is_object()) {
        Add(Child(path, i), "must be an object");
        continue;
      }
      ChildPath item(path_, i);  // path is path_
      CheckFields(field.fields, array[i].get_object());
    }
  }

  // Each item must be a non-empty string.
  void CheckStringItems(const json::array& array, const std::string& path) {
    for (size_t i = 0; i < array.size(); ++i) {
      if (!array[i].is_string()) {
        Add(Child(path, i), "must be a string");
      } else if (array[i].get_string().empty()) {
        Add(Child(path, i), "must not be empty");
      }
    }
  }

  void CheckStringArray(const Field& field, const json::value& v, const std::string& path) {
    if (!v.is_array()) return Add(path, "must be an array of strings");
    if (CheckItemCount(field, v.get_array(), path)) CheckStringItems(v.get_array(), path);
  }

  void CheckStringOrStringArray(const Field& field, const json::value& v,
                                const std::string& path) {
    if (v.is_string()) {
      if (v.get_string().empty()) Add(path, "must not be empty");
    } else if (v.is_array()) {
      if (v.get_array().empty()) return Add(path, "must not be empty");
      if (CheckItemCount(field, v.get_array(), path)) CheckStringItems(v.get_array(), path);
    } else {
      Add(path, "must be a string or an array of strings");
    }
  }

  void CheckChanges(const json::value& v, const std::string& path) {
    if (!v.is_object()) return Add(path, "must be an object");
    for (const auto& [key, change] : v.get_object()) {
      if (!change.is_array() || change.get_array().size() != 2) {
        Add(Child(path, key), "must be [old, new]");
      }
    }
  }

  // Every number of the event, known field or not, within a double's range.
  // One past it (1e400) parses as infinity, which JSON cannot carry: the
  // webhook body would show null where the platform sent a number, and a
  // duration built from it would be no duration at all.
  void CheckFinite(const json::object& object) {
    for (const auto& [key, value] : object) {
      ChildPath child(path_, key);
      CheckFinite(value);
    }
  }
  void CheckFinite(const json::value& v) {
    if (v.is_double()) {
      if (!std::isfinite(v.get_double()))
        Add(path_, "is too large: a number must be within +-1.8e308");
    } else if (v.is_object()) {
      CheckFinite(v.get_object());
    } else if (v.is_array()) {
      const json::array& array = v.get_array();
      for (size_t i = 0; i < array.size(); ++i) {
        ChildPath item(path_, i);
        CheckFinite(array[i]);
      }
    }
  }

  // After the field `name` of `object`: a timestamp before its start is a problem.
  void CheckOrder(const json::object& object, const std::string& path, std::string_view name) {
    for (const OrderRule& rule : kOrderRules) {
      if (type_ == nullptr || type_->name != rule.type || path != rule.object_path ||
          name != rule.end) {
        continue;
      }
      auto start = TimeOf(object, rule.start);
      auto end = TimeOf(object, rule.end);
      if (start && end && *end < *start) {
        Add(Child(path, rule.end), "must not be before " + std::string(rule.start));
      }
    }
  }

  const EventType* type_ = nullptr;
  // The path of what is being checked: a field's step is added and taken off
  // again (ChildPath), so a field costs a string of its own only when it
  // has a problem. Every `path` parameter above is this string.
  std::string path_;
  std::vector<Problem> problems_;
};

}  // namespace

std::vector<Problem> Validate(const boost::json::value& event) {
  if (!event.is_object()) return {{"", "must be a JSON object"}};
  return Validator().Run(event.get_object());
}

}  // namespace punt::catalog
