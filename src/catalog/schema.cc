#include "catalog/schema.h"

#include <boost/json.hpp>

#include <cmath>
#include <cstdint>

namespace punt::catalog {
namespace {

namespace json = boost::json;

// 100 rather than 100.0 for integral bounds.
json::value Number(double d) {
  if (std::trunc(d) == d && std::abs(d) < 9e15) return static_cast<std::int64_t>(d);
  return d;
}

json::object StringSchema(size_t min_length, size_t max_length) {
  json::object schema{{"type", "string"}};
  if (min_length != 0) schema["minLength"] = min_length;
  if (max_length != 0) schema["maxLength"] = max_length;
  return schema;
}

json::object StringArraySchema(size_t min_items, size_t max_items) {
  json::object schema{{"type", "array"}, {"items", StringSchema(1, 0)}};
  if (min_items != 0) schema["minItems"] = min_items;
  if (max_items != 0) schema["maxItems"] = max_items;
  return schema;
}

json::object FieldSchema(const Field& field);

// {"type":"object","required":[...],"properties":{...}}
json::object ObjectSchema(const std::vector<Field>& fields) {
  json::array required;
  json::object properties;
  for (const Field& field : fields) {
    if (field.required) required.emplace_back(field.name);
    properties[field.name] = FieldSchema(field);
  }
  json::object schema{{"type", "object"}};
  if (!required.empty()) schema["required"] = std::move(required);
  schema["properties"] = std::move(properties);
  return schema;
}

json::object KindSchema(const Field& field) {
  switch (field.kind) {
    case FieldKind::kString: {
      json::object schema = StringSchema(field.min_length, field.max_length);
      if (!field.allowed.empty()) {
        schema["enum"] = json::array(field.allowed.begin(), field.allowed.end());
      }
      return schema;
    }
    case FieldKind::kTimestamp:
      return {{"type", "string"}, {"format", "date-time"}};
    case FieldKind::kEmail: {
      json::object schema = StringSchema(0, field.max_length);
      schema["format"] = "email";
      return schema;
    }
    case FieldKind::kUrl: {
      json::object schema = StringSchema(0, field.max_length);
      schema["format"] = "uri";
      return schema;
    }
    case FieldKind::kInteger:
    case FieldKind::kNumber: {
      json::object schema{{"type", field.kind == FieldKind::kInteger ? "integer" : "number"}};
      if (field.minimum) schema["minimum"] = Number(*field.minimum);
      if (field.maximum) schema["maximum"] = Number(*field.maximum);
      return schema;
    }
    case FieldKind::kBoolean:
      return {{"type", "boolean"}};
    case FieldKind::kObject:
      return ObjectSchema(field.fields);
    case FieldKind::kObjectArray: {
      json::object schema{{"type", "array"}, {"items", ObjectSchema(field.fields)}};
      if (field.max_length != 0) schema["maxItems"] = field.max_length;
      return schema;
    }
    case FieldKind::kStringArray:
      return StringArraySchema(0, field.max_length);
    case FieldKind::kStringOrStringArray:
      return {{"oneOf", {StringSchema(1, 0), StringArraySchema(1, field.max_length)}}};
    case FieldKind::kAnyObject:
      return {{"type", "object"}};
    case FieldKind::kChanges:
      return {{"type", "object"},
              {"additionalProperties", {{"type", "array"}, {"minItems", 2}, {"maxItems", 2}}}};
  }
  return {};
}

json::object FieldSchema(const Field& field) {
  json::object schema = KindSchema(field);
  if (!field.description.empty()) schema["description"] = field.description;
  return schema;
}

}  // namespace

boost::json::object JsonSchema(const EventType& type) {
  std::vector<Field> fields = CommonFields();
  fields.insert(fields.end(), type.fields.begin(), type.fields.end());
  json::object object = ObjectSchema(fields);

  json::object schema{{"$schema", "https://json-schema.org/draft/2020-12/schema"},
                      {"$id", "urn:punt:event:" + type.name},
                      {"title", type.display_name},
                      {"description", type.description},
                      {"type", "object"},
                      {"required", std::move(object["required"])},
                      {"properties", std::move(object["properties"])},
                      {"additionalProperties", true}};
  json::value& type_property = schema["properties"].as_object()["type"];
  json::value description = type_property.as_object()["description"];
  type_property = {{"type", "string"}, {"const", type.name}, {"description", description}};
  return schema;
}

}  // namespace punt::catalog
