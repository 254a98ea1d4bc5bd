// GET /v1/subscriptions/{id}/deliveries and GET /v1/deliveries/{id}.
#include <charconv>

#include "api/request_helpers.h"
#include "api/routes.h"
#include "api/views.h"
#include "util/time.h"

namespace punt::api {
namespace {

namespace json = boost::json;

std::optional<int64_t> ParseInt(const std::string& text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

http::Response BadQuery(std::string path, std::string message) {
  return http::Error(400, "bad_request", "the query is not valid",
                     {{"/" + std::move(path), std::move(message)}});
}

void ListForSubscription(Context& ctx, http::Request& req, http::Respond respond) {
  auto caller = RequireOrgKey(req, ctx, store::kScopeManage);
  if (auto* error = std::get_if<http::Response>(&caller)) return respond(std::move(*error));
  store::DeliveryQuery query;
  query.org_id = std::get<Caller>(caller).org_id;
  query.subscription_id = req.params["id"];
  if (auto it = req.query.find("state"); it != req.query.end() && !it->second.empty()) {
    query.state = store::ParseState(it->second);
    if (!query.state) {
      return respond(BadQuery("state", "must be pending, in_flight, retrying, held, delivered "
                                       "or dead"));
    }
  }
  if (auto it = req.query.find("limit"); it != req.query.end()) {
    auto limit = ParseInt(it->second);
    if (!limit || *limit < 1 || *limit > 500) {
      return respond(BadQuery("limit", "must be a number from 1 to 500"));
    }
    query.limit = static_cast<int>(*limit);
  }
  if (auto it = req.query.find("cursor"); it != req.query.end() && !it->second.empty()) {
    auto cursor = ParseInt(it->second);
    if (!cursor || *cursor < 0) return respond(BadQuery("cursor", "is not a cursor punt gave"));
    query.after_id = *cursor;
  }
  for (auto [name, bound] : {std::pair{"since", &query.since}, {"until", &query.until}}) {
    auto it = req.query.find(name);
    if (it == req.query.end() || it->second.empty()) continue;
    auto time = ParseRfc3339(it->second);
    if (!time) return respond(BadQuery(name, "must be an RFC 3339 timestamp"));
    *bound = time->time_since_epoch().count();
  }
  store::Status failed;
  if (!ctx.store.GetSubscription(query.org_id, query.subscription_id, &failed)) {
    return respond(failed.ok() ? NotFound("subscription") : Unreadable());
  }
  auto deliveries = ctx.store.ListDeliveries(query, &failed);
  if (!failed.ok()) return respond(Unreadable());
  json::array data;
  for (const auto& d : deliveries) data.push_back(DeliveryView(d, false));
  json::object answer{{"data", std::move(data)}};
  if (static_cast<int>(deliveries.size()) == query.limit) {
    answer["next_cursor"] = std::to_string(deliveries.back().id);
  }
  respond(http::Json(200, answer));
}

void GetOne(Context& ctx, http::Request& req, http::Respond respond) {
  auto caller = RequireOrgKey(req, ctx, store::kScopeManage);
  if (auto* error = std::get_if<http::Response>(&caller)) return respond(std::move(*error));
  auto id = ParseInt(req.params["id"]);
  store::Status failed;
  auto delivery =
      id ? ctx.store.GetDelivery(std::get<Caller>(caller).org_id, *id, &failed) : std::nullopt;
  if (!delivery) return respond(failed.ok() ? NotFound("delivery") : Unreadable());
  respond(http::Json(200, DeliveryView(*delivery, true)));
}

}  // namespace

void AddDeliveryRoutes(http::Router& router, Context& ctx) {
  router.Add("GET", "/v1/subscriptions/{id}/deliveries",
             [&ctx](auto& r, auto done) { ListForSubscription(ctx, r, std::move(done)); });
  router.Add("GET", "/v1/deliveries/{id}",
             [&ctx](auto& r, auto done) { GetOne(ctx, r, std::move(done)); });
}

}  // namespace punt::api
