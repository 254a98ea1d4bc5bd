// POST /v1/events: one event or an array of up to 1,000. 202 only after the
// events, their bodies and their deliveries are committed.
#include <array>

#include <boost/json/monotonic_resource.hpp>

#include "api/request_helpers.h"
#include "api/routes.h"
#include "util/time.h"
#include "webhook/envelope.h"
#include "xapi/statement.h"

namespace punt::api {
namespace {

namespace json = boost::json;

constexpr size_t kMaxEventsPerRequest = 1000;

// `statements`: build the statement of a learning event now (the
// organisation has an xAPI subscription); else the store builds it if one
// turns out to need it. `size_hint`: about how many bytes the event took in
// the request.
store::NewEvent Prepare(const xapi::OrgSettings& org, const json::value& event, bool statements,
                        size_t size_hint) {
  const json::object& e = event.get_object();
  store::NewEvent out;
  out.event_id = e.at("id").get_string();
  out.type = e.at("type").get_string();
  out.occurred_at = ParseRfc3339(e.at("occurred_at").get_string())->time_since_epoch().count();
  out.learning = xapi::HasStatement(out.type);
  out.webhook_body = webhook::WebhookBody(event, size_hint);
  // One statement serves both xAPI versions: only the header differs.
  if (out.learning && statements) {
    out.statement_body = xapi::StatementJson(org, event, xapi::Version::k1_0_3);
  }
  return out;
}

void Ingest(Context& ctx, http::Request& req, http::Respond respond) {
  auto caller = RequireOrgKey(req, ctx, store::kScopeIngest);
  if (auto* error = std::get_if<http::Response>(&caller)) return respond(std::move(*error));
  // The request's JSON is built in an arena that starts in this thread's
  // scratch buffer: its DOM costs no malloc, and it goes when this handler
  // returns (what is kept, the ids and bodies, is copied out of it).
  thread_local std::array<unsigned char, 16384> scratch;
  json::monotonic_resource arena(scratch.data(), scratch.size());
  // A batch's array is not a level of its events: each may nest as deep as
  // one posted alone.
  auto body = ParseJsonBody(req, &arena, ArrayDepth::kHoldsDocuments);
  if (auto* error = std::get_if<http::Response>(&body)) return respond(std::move(*error));
  json::value& value = std::get<json::value>(body);

  bool batch = value.is_array();
  if (!batch && !value.is_object()) {
    return respond(http::Error(400, "bad_json", "send one event object or an array of events"));
  }
  json::array single(value.storage());
  if (!batch) single.push_back(std::move(value));
  json::array& events = batch ? value.get_array() : single;
  if (events.size() > kMaxEventsPerRequest) {
    return respond(http::Error(413, "too_many_events", "send at most 1000 events per request"));
  }
  if (events.empty()) return respond(Invalid({{"", "must hold at least one event"}}));

  std::vector<catalog::Problem> problems;
  for (size_t i = 0; i < events.size(); ++i) {
    std::string prefix = batch ? "/" + std::to_string(i) : "";
    for (auto& p : catalog::Validate(events[i])) problems.push_back({prefix + p.path, p.message});
  }
  if (!problems.empty()) {
    return respond(Invalid(problems, "the request holds invalid events; none was stored"));
  }

  const std::string& org_id = std::get<Caller>(caller).org_id;
  store::Status failed;
  auto org = ctx.store.GetOrg(org_id, &failed);
  if (!org && !failed.ok()) return respond(Unreadable());
  if (!org) return respond(http::Error(401, "unauthorized", "the organisation no longer exists"));
  const bool statements = ctx.store.WantsStatements(org_id);
  xapi::OrgSettings settings;  // read only when statements are built here
  if (statements) settings = {org->id, org->platform_url, org->mbox_opt_in};
  std::vector<store::NewEvent> prepared;
  prepared.reserve(events.size());
  const size_t size_hint = req.body.size() / events.size();
  json::array accepted(value.storage());  // in the arena too
  accepted.reserve(events.size());
  for (const auto& event : events) {
    prepared.push_back(Prepare(settings, event, statements, size_hint));
    accepted.emplace_back(prepared.back().event_id);
  }
  // The answer is built here, not when the store calls back on its sync
  // thread: that thread then only hands it over, and what it allocates is
  // freed on this thread, which allocated it.
  // A value, not an object: Json takes a value, and an object passed there
  // would be copied out of the arena onto the heap.
  json::value answer(json::object_kind, value.storage());
  answer.get_object().emplace("accepted", std::move(accepted));
  http::Response stored = http::Json(202, answer);
  ctx.store.Ingest(org_id, std::move(prepared),
                   [respond = std::move(respond),
                    stored = std::move(stored)](store::IngestResult result) mutable {
                     if (!result.ok) {
                       return respond(http::Error(503, "unavailable",
                                                  "the events were not stored: " + result.error));
                     }
                     respond(std::move(stored));
                   });
}

}  // namespace

void AddEventRoutes(http::Router& router, Context& ctx) {
  router.Add("POST", "/v1/events", [&ctx](auto& r, auto done) { Ingest(ctx, r, std::move(done)); });
}

}  // namespace punt::api
