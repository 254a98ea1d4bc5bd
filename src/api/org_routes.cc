// POST /v1/orgs, GET and PATCH /v1/orgs/{id}.
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <optional>
#include <string>

#include "api/request_helpers.h"
#include "api/routes.h"
#include "api/views.h"
#include "security/api_keys.h"
#include "security/random.h"
#include "util/json_pointer.h"
#include "util/text.h"
#include "xapi/statement.h"

namespace punt::api {
namespace {

namespace json = boost::json;
using catalog::Problem;

// The base of every statement's actor homePage and activity ids, so it goes
// to every LRS: no credentials (user:password@) in it (NormalisePlatformUrl).
std::optional<std::string> PlatformUrl(const json::value& value) {
  if (!value.is_string()) return std::nullopt;
  return xapi::NormalisePlatformUrl(value.get_string());
}

// Applies the fields of `body` to `org`; every problem is returned.
std::vector<Problem> ApplyOrgJson(const json::object& body, bool creating, store::Org& org) {
  std::vector<Problem> problems;
  for (const auto& [key, value] : body) {
    std::string path = PointerToKey(key);
    if (key == "name") {
      if (!value.is_string() || value.get_string().empty() ||
          CodePoints(value.get_string()) > 200) {
        problems.push_back({path, "must be a string of 1 to 200 characters"});
      } else {
        org.name = value.get_string();
      }
    } else if (key == "platform_url") {
      if (auto url = PlatformUrl(value)) {
        org.platform_url = std::move(*url);
      } else {
        problems.push_back(
            {path, "must be the platform's http(s) URL, without a query or credentials"});
      }
    } else if (key == "mbox_opt_in") {
      if (!value.is_bool()) {
        problems.push_back({path, "must be true or false"});
      } else {
        org.mbox_opt_in = value.get_bool();
      }
    } else {
      problems.push_back({path, "is not a known field"});
    }
  }
  if (creating) {
    if (!body.contains("name")) problems.push_back({"/name", "is required"});
    if (!body.contains("platform_url")) problems.push_back({"/platform_url", "is required"});
  }
  return problems;
}

// The admin key, or the organisation's own manage key, may read and change it.
std::optional<http::Response> RequireAdminOrOwnKey(const http::Request& req, const Context& ctx,
                                                   const std::string& org_id) {
  if (!RequireAdmin(req, ctx)) return std::nullopt;
  auto caller = RequireOrgKey(req, ctx, store::kScopeManage);
  if (auto* error = std::get_if<http::Response>(&caller)) return std::move(*error);
  if (std::get<Caller>(caller).org_id != org_id) return NotFound("organisation");
  return std::nullopt;
}

void CreateOrg(Context& ctx, http::Request& req, http::Respond respond) {
  if (auto denied = RequireAdmin(req, ctx)) return respond(std::move(*denied));
  auto body = ParseJsonObject(req);
  if (auto* error = std::get_if<http::Response>(&body)) return respond(std::move(*error));
  store::Org org;
  if (auto problems = ApplyOrgJson(std::get<json::object>(body), true, org); !problems.empty()) {
    return respond(Invalid(problems));
  }
  org.id = security::NewId("org");
  org.created_at = org.updated_at = ctx.clock.Now();
  std::string api_key = security::GenerateApiKey();
  store::ApiKey key{security::NewId("key"), org.id, security::HashApiKey(api_key),
                    store::kScopeAll, org.created_at};
  if (auto status = ctx.store.CreateOrg(org, key); !status.ok()) {
    return respond(http::Error(503, "unavailable", status.message));
  }
  json::object view = OrgView(org);
  view["api_key"] = api_key;
  respond(http::Json(201, view));
}

void GetOrg(Context& ctx, http::Request& req, http::Respond respond) {
  const std::string& id = req.params["id"];
  if (auto denied = RequireAdminOrOwnKey(req, ctx, id)) return respond(std::move(*denied));
  store::Status failed;
  auto org = ctx.store.GetOrg(id, &failed);
  if (!org) return respond(failed.ok() ? NotFound("organisation") : Unreadable());
  respond(http::Json(200, OrgView(*org)));
}

void PatchOrg(Context& ctx, http::Request& req, http::Respond respond) {
  const std::string& id = req.params["id"];
  if (auto denied = RequireAdminOrOwnKey(req, ctx, id)) return respond(std::move(*denied));
  auto body = ParseJsonObject(req);
  if (auto* error = std::get_if<http::Response>(&body)) return respond(std::move(*error));
  store::Status failed;
  auto stored = ctx.store.GetOrg(id, &failed);
  if (!stored) return respond(failed.ok() ? NotFound("organisation") : Unreadable());
  store::Org org = *stored;
  if (auto problems = ApplyOrgJson(std::get<json::object>(body), false, org); !problems.empty()) {
    return respond(Invalid(problems));
  }
  org.updated_at = ctx.clock.Now();
  if (auto status = ctx.store.UpdateOrg(org); !status.ok()) {
    return respond(status.code == store::Status::Code::kNotFound
                       ? NotFound("organisation")
                       : http::Error(503, "unavailable", status.message));
  }
  respond(http::Json(200, OrgView(org)));
}

}  // namespace

void AddOrgRoutes(http::Router& router, Context& ctx) {
  router.Add("POST", "/v1/orgs",
             [&ctx](auto& req, auto respond) { CreateOrg(ctx, req, std::move(respond)); });
  router.Add("GET", "/v1/orgs/{id}",
             [&ctx](auto& req, auto respond) { GetOrg(ctx, req, std::move(respond)); });
  router.Add("PATCH", "/v1/orgs/{id}",
             [&ctx](auto& req, auto respond) { PatchOrg(ctx, req, std::move(respond)); });
}

}  // namespace punt::api
