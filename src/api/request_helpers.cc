#include "api/request_helpers.h"

#include "security/api_keys.h"
#include "util/json.h"

namespace punt::api {

namespace json = boost::json;

std::optional<http::Response> RequireAdmin(const http::Request& req, const Context& ctx) {
  std::string_view token = security::BearerToken(req.Header("authorization"));
  if (!token.empty() && security::ConstantTimeEquals(token, ctx.admin_key)) return std::nullopt;
  return http::Error(401, "unauthorized", "this route needs the admin key as a Bearer token");
}

std::variant<Caller, http::Response> RequireOrgKey(const http::Request& req, const Context& ctx,
                                                   unsigned scope) {
  std::string_view token = security::BearerToken(req.Header("authorization"));
  if (!token.empty()) {
    store::Status failed;
    auto key = ctx.store.FindApiKey(security::HashApiKey(token), &failed);
    if (key && (key->scopes & scope) == scope) return Caller{key->org_id, key->scopes};
    if (!failed.ok()) return Unreadable();
  }
  return http::Error(401, "unauthorized",
                     "this route needs an organisation API key as a Bearer token");
}

namespace {

bool StartsWithArray(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");  // JSON's whitespace
  return first != std::string_view::npos && text[first] == '[';
}

}  // namespace

std::variant<json::value, http::Response> ParseJsonBody(const http::Request& req,
                                                        json::storage_ptr storage,
                                                        ArrayDepth array_depth) {
  std::string_view type = req.Header("content-type");
  auto semicolon = type.find(';');
  std::string_view media = type.substr(0, semicolon);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  if (!http::EqualsIgnoreCase(media, "application/json")) {  // media types ignore case
    return http::Error(415, "unsupported_media_type", "send the body as application/json");
  }
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  // The parser's own stack starts in this buffer, not on the heap.
  unsigned char temp[2048];
  boost::system::error_code ec;
  json::value value = ParseJson(req.body, ec, storage, options, temp, sizeof temp);
  // Only on the rare body that went too deep: the array's level is then
  // allowed for, so each item may nest kMaxJsonDepth levels of its own.
  if (ec == json::error::too_deep && array_depth == ArrayDepth::kHoldsDocuments &&
      StartsWithArray(req.body)) {
    ec = {};
    options.max_depth = kMaxJsonDepth + 1;
    value = ParseJson(req.body, ec, std::move(storage), options, temp, sizeof temp);
  }
  if (IsJsonRefusal(ec)) {
    return http::Error(400, "bad_json", "the body's JSON cannot be kept as sent: " + ec.message());
  }
  if (ec) {
    return http::Error(400, "bad_json", "the body is not valid JSON: " + ec.message());
  }
  return value;
}

std::variant<json::object, http::Response> ParseJsonObject(const http::Request& req) {
  auto body = ParseJsonBody(req);
  if (auto* error = std::get_if<http::Response>(&body)) return std::move(*error);
  auto& value = std::get<json::value>(body);
  if (!value.is_object()) return http::Error(400, "bad_json", "the body must be a JSON object");
  return std::move(value.get_object());
}

http::Response Invalid(const std::vector<catalog::Problem>& problems, std::string_view message) {
  std::vector<http::FieldError> fields;
  fields.reserve(problems.size());
  for (const auto& p : problems) fields.push_back({p.path, p.message});
  return http::Error(422, "invalid", message, std::move(fields));
}

http::Response StoreFailure(const store::Status& status, std::string_view what) {
  switch (status.code) {
    case store::Status::Code::kNotFound:
      return NotFound(what);
    case store::Status::Code::kConflict:
      return http::Error(409, "conflict", status.message);
    default:
      return http::Error(503, "unavailable", status.message);
  }
}

http::Response Unreadable() {
  return http::Error(503, "unavailable", "the database could not be read; try again");
}

http::Response NotFound(std::string_view what) {
  return http::Error(404, "not_found", std::string(what) + " not found");
}

}  // namespace punt::api
