// GET /healthz and GET /v1/event-types: no key needed.
#include "api/routes.h"
#include "catalog/catalog.h"
#include "catalog/schema.h"

namespace punt::api {
namespace {

namespace json = boost::json;

json::value EventTypesDocument() {
  json::array data;
  for (const auto& type : catalog::AllEventTypes()) {
    json::object item{{"name", type.name},
                      {"display_name", type.display_name},
                      {"family", catalog::FamilyName(type.family)},
                      {"description", type.description}};
    if (type.xapi) {
      item["xapi"] = json::object{{"verb", type.xapi->verb_id},
                                  {"activity_type", type.xapi->activity_type}};
    }
    item["schema"] = catalog::JsonSchema(type);
    data.push_back(std::move(item));
  }
  return json::object{{"data", std::move(data)}};
}

}  // namespace

void AddMetaRoutes(http::Router& router, Context& ctx) {
  // Unhealthy once the store refuses writes: nothing is accepted until punt
  // restarts, which is what a supervisor does on a failing health check.
  router.Add("GET", "/healthz", [&ctx](auto&, auto done) {
    std::string refusal = ctx.store.WriteRefusal();
    if (!refusal.empty()) {
      return done(http::Json(503, json::object{{"status", "failing"}, {"error", refusal}}));
    }
    done(http::Json(200, json::object{{"status", "ok"}}));
  });
  // The catalog never changes while punt runs: build the answer once.
  auto event_types = std::make_shared<const http::Response>(http::Json(200, EventTypesDocument()));
  router.Add("GET", "/v1/event-types", [event_types](auto&, auto done) { done(*event_types); });
}

void AddRoutes(http::Router& router, Context& ctx) {
  AddMetaRoutes(router, ctx);
  AddOrgRoutes(router, ctx);
  AddSubscriptionRoutes(router, ctx);
  AddEventRoutes(router, ctx);
  AddDeliveryRoutes(router, ctx);
  AddOperatorRoutes(router, ctx);
}

}  // namespace punt::api
