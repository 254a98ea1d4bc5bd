// /v1/subscriptions: create, list, read, change and delete, within the
// caller's organisation.
#include "api/request_helpers.h"
#include "api/routes.h"
#include "api/subscription_input.h"
#include "api/views.h"
#include "security/random.h"
#include "webhook/signature.h"
#include "xapi/token.h"

namespace punt::api {
namespace {

namespace json = boost::json;

// Seals the token (bound to the subscription's id) and keeps a masked hint.
void SetToken(const Context& ctx, store::Subscription& sub, const std::string& token) {
  sub.token_sealed = ctx.sealer.Seal(token, sub.id);
  sub.token_hint = xapi::MaskToken(token);
}

void Create(Context& ctx, http::Request& req, http::Respond respond) {
  auto caller = RequireOrgKey(req, ctx, store::kScopeManage);
  if (auto* error = std::get_if<http::Response>(&caller)) return respond(std::move(*error));
  auto body = ParseJsonObject(req);
  if (auto* error = std::get_if<http::Response>(&body)) return respond(std::move(*error));

  store::Subscription sub;
  SubscriptionSecrets secrets;
  auto problems = ApplySubscriptionJson(std::get<json::object>(body), true, ctx.destinations,
                                        sub, secrets);
  if (!problems.empty()) return respond(Invalid(problems));
  sub.id = security::NewId("sub");
  sub.org_id = std::get<Caller>(caller).org_id;
  sub.created_at = sub.updated_at = ctx.clock.Now();
  if (secrets.token) SetToken(ctx, sub, *secrets.token);
  std::string signing_secret;
  if (sub.kind == store::SubscriptionKind::kWebhook) {
    signing_secret = webhook::GenerateSecret();
    sub.secret_sealed = ctx.sealer.Seal(signing_secret, sub.id);
  }
  if (auto status = ctx.store.CreateSubscription(sub); !status.ok()) {
    return respond(StoreFailure(status, "subscription"));
  }
  json::object view = SubscriptionView(sub);
  if (!signing_secret.empty()) view["secret"] = signing_secret;  // shown only this once
  respond(http::Json(201, view));
}

void List(Context& ctx, http::Request& req, http::Respond respond) {
  auto caller = RequireOrgKey(req, ctx, store::kScopeManage);
  if (auto* error = std::get_if<http::Response>(&caller)) return respond(std::move(*error));
  json::array data;
  store::Status failed;
  for (const auto& sub : ctx.store.ListSubscriptions(std::get<Caller>(caller).org_id, &failed)) {
    data.push_back(SubscriptionView(sub));
  }
  if (!failed.ok()) return respond(Unreadable());
  respond(http::Json(200, json::object{{"data", std::move(data)}}));
}

void Get(Context& ctx, http::Request& req, http::Respond respond) {
  auto caller = RequireOrgKey(req, ctx, store::kScopeManage);
  if (auto* error = std::get_if<http::Response>(&caller)) return respond(std::move(*error));
  store::Status failed;
  auto sub = ctx.store.GetSubscription(std::get<Caller>(caller).org_id, req.params["id"], &failed);
  if (!sub) return respond(failed.ok() ? NotFound("subscription") : Unreadable());
  json::object view = SubscriptionView(*sub);
  auto counts = ctx.store.CountDeliveries(sub->org_id, sub->id, &failed);
  if (!failed.ok()) return respond(Unreadable());
  view["deliveries"] = DeliveryCountsView(counts);
  respond(http::Json(200, view));
}

void Patch(Context& ctx, http::Request& req, http::Respond respond) {
  auto caller = RequireOrgKey(req, ctx, store::kScopeManage);
  if (auto* error = std::get_if<http::Response>(&caller)) return respond(std::move(*error));
  auto body = ParseJsonObject(req);
  if (auto* error = std::get_if<http::Response>(&body)) return respond(std::move(*error));
  // The body applies to the subscription as read; one changed meanwhile
  // (another admin, a disable on a 410) is read again and the body applied
  // to that, so only the fields the body names change.
  constexpr int kTries = 5;
  for (int tried = 1;; ++tried) {
    store::Status failed;
    auto sub =
        ctx.store.GetSubscription(std::get<Caller>(caller).org_id, req.params["id"], &failed);
    if (!sub) return respond(failed.ok() ? NotFound("subscription") : Unreadable());
    const store::Subscription as_read = *sub;
    SubscriptionSecrets secrets;
    auto problems =
        ApplySubscriptionJson(std::get<json::object>(body), false, ctx.destinations, *sub, secrets);
    if (!problems.empty()) return respond(Invalid(problems));
    // A body that changes nothing ({}, or the values it has) writes nothing:
    // updated_at stays, and no change goes out to the dispatcher.
    if (!secrets.token && !secrets.remove_token && *sub == as_read) {
      return respond(http::Json(200, SubscriptionView(as_read)));
    }
    if (secrets.token) SetToken(ctx, *sub, *secrets.token);
    if (secrets.remove_token) {
      sub->token_sealed.clear();
      sub->token_hint.clear();
    }
    sub->updated_at = ctx.clock.Now();
    store::Subscription stored;
    auto status = ctx.store.UpdateSubscription(*sub, &as_read, &stored);
    if (status.code == store::Status::Code::kConflict) {
      if (tried < kTries) continue;
      return respond(http::Error(409, "conflict",
                                 "the subscription kept changing while this change was applied "
                                 "to it; send it again"));
    }
    if (!status.ok()) return respond(StoreFailure(status, "subscription"));
    // As stored by this change: the store sets updated_at, and disabling or
    // enabling sets the health (the reason; failures reset).
    return respond(http::Json(200, SubscriptionView(stored)));
  }
}

void Delete(Context& ctx, http::Request& req, http::Respond respond) {
  auto caller = RequireOrgKey(req, ctx, store::kScopeManage);
  if (auto* error = std::get_if<http::Response>(&caller)) return respond(std::move(*error));
  auto status = ctx.store.DeleteSubscription(std::get<Caller>(caller).org_id, req.params["id"]);
  if (!status.ok()) return respond(StoreFailure(status, "subscription"));
  respond(http::Response{.status = 204, .content_type = "", .body = "", .headers = {}});
}

}  // namespace

void AddSubscriptionRoutes(http::Router& router, Context& ctx) {
  router.Add("POST", "/v1/subscriptions",
             [&ctx](auto& r, auto done) { Create(ctx, r, std::move(done)); });
  router.Add("GET", "/v1/subscriptions",
             [&ctx](auto& r, auto done) { List(ctx, r, std::move(done)); });
  router.Add("GET", "/v1/subscriptions/{id}",
             [&ctx](auto& r, auto done) { Get(ctx, r, std::move(done)); });
  router.Add("PATCH", "/v1/subscriptions/{id}",
             [&ctx](auto& r, auto done) { Patch(ctx, r, std::move(done)); });
  router.Add("DELETE", "/v1/subscriptions/{id}",
             [&ctx](auto& r, auto done) { Delete(ctx, r, std::move(done)); });
}

}  // namespace punt::api
