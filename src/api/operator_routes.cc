// The operator actions of DESIGN.md section 3:
//   POST /v1/deliveries/{id}/retry        send one delivery again
//   POST /v1/subscriptions/{id}/replay    send a window of past events again
//   POST /v1/subscriptions/{id}/test      the test button
// The test request blocks for up to 15 s, so it runs on a ProbeWorker thread,
// which calls Respond; the HTTP threads never wait for a receiver.
#include <charconv>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "api/request_helpers.h"
#include "api/routes.h"
#include "api/views.h"
#include "delivery/probe.h"
#include "util/json.h"
#include "util/json_pointer.h"
#include "util/thread_name.h"
#include "util/time.h"

namespace punt::api {
namespace {

namespace json = boost::json;

// Runs jobs on up to kThreads threads of its own, started when first needed;
// at most kMaxQueued wait. The destructor cancels the waiting jobs and joins
// the threads (each running job ends within the probe's total timeout).
// Thread-safety: Post may be called from any thread.
class ProbeWorker {
 public:
  // Called once: with false to run, or with true when cancelled at shutdown.
  using Job = std::function<void(bool cancelled)>;

  ProbeWorker() = default;
  ProbeWorker(const ProbeWorker&) = delete;
  ProbeWorker& operator=(const ProbeWorker&) = delete;

  ~ProbeWorker() {
    std::deque<Job> cancelled;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      cancelled.swap(queue_);
    }
    work_.notify_all();
    for (Job& job : cancelled) job(true);
    for (std::thread& t : threads_) t.join();
  }

  // False (and `job` not kept) when too many are waiting.
  bool Post(Job job) {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= kMaxQueued) return false;
    queue_.push_back(std::move(job));
    if (idle_ == 0 && threads_.size() < kThreads) {
      threads_.emplace_back([this] {
        NameThisThread("punt-operator");
        Loop();
      });
    } else {
      work_.notify_one();
    }
    return true;
  }

 private:
  static constexpr size_t kThreads = 4;
  static constexpr size_t kMaxQueued = 64;

  void Loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      ++idle_;
      work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      --idle_;
      if (queue_.empty()) return;  // stopping
      Job job = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      job(false);
      lock.lock();
    }
  }

  std::mutex mu_;
  // State below is protected by mu_.
  std::condition_variable work_;
  std::deque<Job> queue_;
  size_t idle_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

std::optional<int64_t> ParseId(const std::string& text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

void Retry(Context& ctx, http::Request& req, http::Respond respond) {
  auto caller = RequireOrgKey(req, ctx, store::kScopeManage);
  if (auto* error = std::get_if<http::Response>(&caller)) return respond(std::move(*error));
  const std::string& org_id = std::get<Caller>(caller).org_id;
  auto id = ParseId(req.params["id"]);
  store::Status failed;
  auto delivery = id ? ctx.store.GetDelivery(org_id, *id, &failed) : std::nullopt;
  if (!delivery) return respond(failed.ok() ? NotFound("delivery") : Unreadable());
  if (auto status = ctx.store.RetryDelivery(org_id, *id); !status.ok()) {
    return respond(StoreFailure(status, "delivery"));
  }
  auto sub = ctx.store.GetSubscription(org_id, delivery->subscription_id);
  bool held = sub && !sub->enabled;
  respond(http::Json(
      202, json::object{{"id", std::to_string(*id)}, {"state", held ? "held" : "pending"}}));
}

// The RFC 3339 time at `key`; nullopt when absent or null. A problem when it
// is anything else.
std::optional<Millis> ReadTime(const json::object& body, const char* key,
                               std::vector<catalog::Problem>& problems) {
  const json::value* v = body.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  std::optional<TimePoint> time;
  if (v->is_string()) time = ParseRfc3339(v->get_string());
  if (!time) {
    problems.push_back({std::string("/") + key,
                        "must be an RFC 3339 timestamp, such as 2026-11-28T12:00:00.000Z"});
    return std::nullopt;
  }
  return time->time_since_epoch().count();
}

void Replay(Context& ctx, http::Request& req, http::Respond respond) {
  auto caller = RequireOrgKey(req, ctx, store::kScopeManage);
  if (auto* error = std::get_if<http::Response>(&caller)) return respond(std::move(*error));
  auto parsed = ParseJsonObject(req);
  if (auto* error = std::get_if<http::Response>(&parsed)) return respond(std::move(*error));
  const json::object& body = std::get<json::object>(parsed);

  std::vector<catalog::Problem> problems;
  for (const auto& [key, _] : body) {
    if (key != "since" && key != "until") {
      problems.push_back({PointerToKey(key), "is not a known field"});
    }
  }
  bool has_since = body.if_contains("since") && !body.at("since").is_null();
  auto since = ReadTime(body, "since", problems);
  if (!has_since) problems.push_back({"/since", "is required"});
  auto until = ReadTime(body, "until", problems);
  // Without `until`, everything accepted so far (until is exclusive).
  Millis end = until.value_or(ctx.clock.Now() + 1);
  if (since && *since >= end) problems.push_back({"/until", "must be after since"});
  if (!problems.empty()) return respond(Invalid(problems));

  // Answered from the store's thread once the last slice is committed; this
  // thread goes on serving its other connections meanwhile.
  ctx.store.Replay(std::get<Caller>(caller).org_id, req.params["id"], *since, end,
                   [respond, since = *since, end](store::ReplayResult result) {
                     if (auto* status = std::get_if<store::Status>(&result)) {
                       return respond(StoreFailure(*status, "subscription"));
                     }
                     respond(http::Json(202, json::object{{"replayed", std::get<int64_t>(result)},
                                                          {"since", TimeText(since)},
                                                          {"until", TimeText(end)}}));
                   });
}

json::object ProbeView(const delivery::ProbeResult& r) {
  json::object view{
      {"status", r.status}, {"latency_ms", r.latency_ms}, {"body", ValidUtf8(r.body)}};
  if (!r.error.empty()) view["error"] = r.error;
  return view;
}

void Test(Context& ctx, ProbeWorker& worker, http::Request& req, http::Respond respond) {
  auto caller = RequireOrgKey(req, ctx, store::kScopeManage);
  if (auto* error = std::get_if<http::Response>(&caller)) return respond(std::move(*error));
  store::Status failed;
  auto sub = ctx.store.GetSubscription(std::get<Caller>(caller).org_id, req.params["id"], &failed);
  if (!sub) return respond(failed.ok() ? NotFound("subscription") : Unreadable());
  std::string error;
  auto target = delivery::MakeTarget(*sub, ctx.sealer, &error);
  if (!target) return respond(http::Error(500, "internal", error));

  // The job owns copies of all it uses: it may outlive this request's Context.
  auto guard = std::make_shared<const delivery::DestinationGuard>(
      ctx.guard ? *ctx.guard : delivery::DestinationGuard({}));
  Millis now = ctx.clock.Now();
  auto job = [target = std::move(*target), guard, ca_file = ctx.ca_file, now,
              respond](bool cancelled) {
    if (cancelled) return respond(http::Error(503, "unavailable", "punt is shutting down"));
    delivery::TransportOptions options;
    options.guard = guard.get();
    options.ca_file = ca_file;
    respond(http::Json(200, ProbeView(delivery::Probe(target, options, now))));
  };
  if (!worker.Post(std::move(job))) {
    respond(http::Error(503, "unavailable", "too many tests are running; try again shortly"));
  }
}

}  // namespace

void AddOperatorRoutes(http::Router& router, Context& ctx) {
  // Owned by the handler, so it lives as long as the router.
  auto worker = std::make_shared<ProbeWorker>();
  router.Add("POST", "/v1/deliveries/{id}/retry",
             [&ctx](auto& r, auto done) { Retry(ctx, r, std::move(done)); });
  router.Add("POST", "/v1/subscriptions/{id}/replay",
             [&ctx](auto& r, auto done) { Replay(ctx, r, std::move(done)); });
  router.Add("POST", "/v1/subscriptions/{id}/test",
             [&ctx, worker](auto& r, auto done) { Test(ctx, *worker, r, std::move(done)); });
}

}  // namespace punt::api
