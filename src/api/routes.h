// The JSON API's routes (DESIGN.md sections 2 to 6; docs/openapi.yaml).
// Handlers run on the HTTP threads; they must not block for long (ingest
// answers from the store's writer thread after the commit).
#pragma once

#include "api/context.h"
#include "api/http/router.h"

namespace punt::api {

// Registers every route. `ctx` must outlive the router.
void AddRoutes(http::Router& router, Context& ctx);

void AddOrgRoutes(http::Router& router, Context& ctx);           // org_routes.cc
void AddSubscriptionRoutes(http::Router& router, Context& ctx);  // subscription_routes.cc
void AddEventRoutes(http::Router& router, Context& ctx);         // event_routes.cc
void AddDeliveryRoutes(http::Router& router, Context& ctx);      // delivery_routes.cc
void AddMetaRoutes(http::Router& router, Context& ctx);          // meta_routes.cc
void AddOperatorRoutes(http::Router& router, Context& ctx);      // operator_routes.cc

}  // namespace punt::api
