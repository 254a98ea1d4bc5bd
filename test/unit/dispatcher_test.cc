// The dispatcher against the real SQLite store and a real receiver on
// 127.0.0.1, built on punt's own http::Server (DESIGN.md section 3).
//
// Time is a ManualClock: a retry schedule is stepped by setting the clock and
// calling Wake(), never by sleeping. Every wait polls with a bound.
#include "delivery/dispatcher.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json/parse.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/http/router.h"
#include "api/http/server.h"
#include "api/views.h"
#include "delivery/destination_guard.h"
#include "delivery/outcome.h"
#include "log_capture.h"
#include "net/cidr.h"
#include "security/sealer.h"
#include "store/sqlite/sqlite_store.h"
#include "util/clock.h"
#include "util/event_id.h"
#include "util/json.h"
#include "webhook/envelope.h"
#include "webhook/signature.h"
#include "xapi/statement.h"

namespace punt::delivery {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using store::DeliveryState;
using Steady = std::chrono::steady_clock;

constexpr char kOrg[] = "org_disp";
constexpr char kWebhookToken[] = "Bearer hook-token-1";
constexpr char kXapiToken[] = "a2V5OnNlY3JldA==";  // base64("key:secret")
constexpr double kRandom = 0.75;                   // with 20% jitter: every delay x 1.1

// 1 s, 2 s, 3 s with ±20% jitter: four attempts, then dead.
RetryPolicy TestPolicy() { return RetryPolicy({1000, 2000, 3000}, 0.2); }
Millis Jittered(Millis delay) { return delay * 11 / 10; }

// Polls `done` until it holds or `timeout` passes.
bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
  auto deadline = Steady::now() + timeout;
  while (!done()) {
    if (Steady::now() >= deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// The statements of one xAPI request: a JSON array, or one statement.
std::vector<std::string> StatementIds(const std::string& body) {
  boost::json::value parsed = boost::json::parse(body);
  std::vector<std::string> ids;
  if (parsed.is_object()) return {std::string(parsed.at("id").as_string())};
  for (const auto& statement : parsed.as_array()) {
    ids.emplace_back(statement.at("id").as_string());
  }
  return ids;
}

// What the receiver answers to one request.
struct Reply {
  unsigned status = 200;
  std::string body = "ok";
  bool ids = false;  // the body is the ids of the request's statements, as an LRS answers
  std::vector<std::pair<std::string, std::string>> headers = {};
  std::chrono::milliseconds delay{0};  // answer this much later
  bool hang = false;                   // never answer (until the receiver stops)
};

struct Received {
  http::Request request;
  Steady::time_point at;
};

// A webhook consumer / LRS: POST /{name} and /{name}/statements answer the
// replies scripted for `name` in order, the last one repeating (when
// nothing is scripted, 200 "ok", or to an xAPI request 200 with the ids of
// its statements). Records every request and how many of each name were
// open at once.
class Receiver {
 public:
  Receiver() {
    auto handler = [this](http::Request& request, http::Respond respond) {
      Handle(request, std::move(respond));
    };
    router_.Add("POST", "/{name}", handler);
    router_.Add("POST", "/{name}/statements", handler);
  }
  ~Receiver() { Stop(); }

  bool Start(std::string* error) {
    server_ = std::make_unique<http::Server>(router_, http::ServerOptions{});
    return server_->Start(error);
  }

  // Answers hung requests, closes every connection, joins delayed answers.
  void Stop() {
    if (server_) server_->Stop(0ms);
    std::vector<std::thread> timers;
    std::vector<http::Respond> hung;
    {
      std::lock_guard lock(mu_);
      timers.swap(timers_);
      hung.swap(hung_);
    }
    for (auto& timer : timers) timer.join();
    for (auto& respond : hung) respond(http::Text(503, "gone"));
  }

  std::string Url(const std::string& name) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/" + name;
  }

  void Script(const std::string& name, std::vector<Reply> replies) {
    std::lock_guard lock(mu_);
    sites_[name].script = std::move(replies);
  }
  // Answers each request to `name` with what `decide` makes of it.
  void Decide(const std::string& name, std::function<Reply(const http::Request&)> decide) {
    std::lock_guard lock(mu_);
    sites_[name].decide = std::move(decide);
  }

  std::vector<Received> Requests(const std::string& name) {
    std::lock_guard lock(mu_);
    return sites_[name].requests;
  }
  size_t Count(const std::string& name) {
    std::lock_guard lock(mu_);
    return sites_[name].requests.size();
  }
  int MaxOpen(const std::string& name) {
    std::lock_guard lock(mu_);
    return sites_[name].max_open;
  }
  bool WaitForCount(const std::string& name, size_t n, std::chrono::milliseconds timeout = 5s) {
    return WaitUntil([&] { return Count(name) >= n; }, timeout);
  }

 private:
  struct Site {
    std::vector<Reply> script;
    std::function<Reply(const http::Request&)> decide;
    std::vector<Received> requests;
    int open = 0;
    int max_open = 0;
  };

  void Handle(http::Request& request, http::Respond respond) {
    std::string name = request.params["name"];
    Reply reply;
    {
      std::lock_guard lock(mu_);
      Site& site = sites_[name];
      site.requests.push_back({request, Steady::now()});
      site.max_open = std::max(site.max_open, ++site.open);
      if (!site.script.empty()) {
        reply = site.script[std::min(site.requests.size(), site.script.size()) - 1];
      }
      if (site.decide) reply = site.decide(request);
      if (site.script.empty() && !site.decide &&
          !request.Header("x-experience-api-version").empty()) {
        reply.ids = true;
      }
      if (reply.ids) {
        reply.body = "[";
        for (const std::string& id : StatementIds(request.body)) {
          reply.body += (reply.body.size() > 1 ? ",\"" : "\"") + id + "\"";
        }
        reply.body += "]";
      }
      if (reply.hang) return hung_.push_back(std::move(respond));
      if (reply.delay > 0ms) {
        timers_.emplace_back([this, name, reply, respond = std::move(respond)] {
          std::this_thread::sleep_for(reply.delay);
          Answer(name, reply, respond);
        });
        return;
      }
    }
    Answer(name, reply, respond);
  }

  void Answer(const std::string& name, const Reply& reply, const http::Respond& respond) {
    {
      std::lock_guard lock(mu_);
      --sites_[name].open;
    }
    http::Response response = http::Text(reply.status, reply.body);
    response.headers = reply.headers;
    respond(std::move(response));
  }

  http::Router router_;
  std::unique_ptr<http::Server> server_;
  std::mutex mu_;
  std::map<std::string, Site> sites_;  // guarded by mu_
  std::vector<std::thread> timers_;    // guarded by mu_
  std::vector<http::Respond> hung_;    // guarded by mu_
};

// A port on 127.0.0.1 that takes connections and never answers: an
// https:// request to it stays open in its TLS handshake until Close.
class SilentPort {
 public:
  SilentPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      int connection;
      while ((connection = ::accept(fd_, nullptr, nullptr)) >= 0) {
        std::lock_guard lock(mu_);
        connections_.push_back(connection);
      }
    });
  }
  ~SilentPort() { Close(); }

  // Closes the connections (their requests fail) and the port.
  void Close() {
    if (fd_ < 0) return;
    ::shutdown(fd_, SHUT_RDWR);  // wakes the blocking accept
    if (thread_.joinable()) thread_.join();
    ::close(std::exchange(fd_, -1));
    std::lock_guard lock(mu_);
    for (int connection : connections_) ::close(connection);
    connections_.clear();
  }

  std::string Url(const std::string& name) const {
    return "https://127.0.0.1:" + std::to_string(port_) + "/" + name;
  }
  size_t Count() {
    std::lock_guard lock(mu_);
    return connections_.size();
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<int> connections_;  // guarded by mu_
};

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("punt_dispatcher_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::string error;
    store_ = store::OpenSqliteStore((dir_ / "punt.db").string(), clock_, &error);
    ASSERT_NE(store_, nullptr) << error;
    store_->SetCommitListener([this] {
      std::lock_guard lock(dispatcher_mu_);
      if (dispatcher_) dispatcher_->Wake();
    });
    store::Org org;
    org.id = kOrg;
    org.name = "Acme";
    org.platform_url = "https://acme.example";
    store::ApiKey key;
    key.id = "key_disp";
    key.org_id = kOrg;
    key.hash = "hash_disp";
    ASSERT_TRUE(store_->CreateOrg(org, key).ok());
    ASSERT_TRUE(receiver_.Start(&error)) << error;
  }

  void TearDown() override {
    StopDispatcher();
    store_.reset();  // joins the writer: the commit listener is done
    {
      std::lock_guard lock(dispatcher_mu_);
      dispatcher_.reset();
    }
    receiver_.Stop();
    fs::remove_all(dir_);
  }

  // Loopback allowed, so the receiver is reachable.
  DispatcherOptions Options() {
    DispatcherOptions options;
    options.transport.guard = &loopback_allowed_;
    return options;
  }
  // The same with an idle poll far longer than any wait in these tests: a
  // wake-up the dispatcher misses shows as a bounded wait running out, so
  // a test can pin "at once" without timing anything.
  DispatcherOptions WithoutIdlePoll() {
    DispatcherOptions options = Options();
    options.idle_poll = 10 * 60 * 1000;
    return options;
  }

  void StartDispatcher(DispatcherOptions options, RetryPolicy policy = TestPolicy()) {
    auto dispatcher = std::make_unique<Dispatcher>(*store_, sealer_, clock_, std::move(policy),
                                                   std::move(options), [] { return kRandom; });
    dispatcher->Start();
    std::lock_guard lock(dispatcher_mu_);
    dispatcher_ = std::move(dispatcher);
  }
  void StartDispatcher() { StartDispatcher(Options()); }

  void StopDispatcher() {
    std::lock_guard lock(dispatcher_mu_);
    if (dispatcher_) dispatcher_->Stop(0ms);
  }

  // Moves the clock to `at` and tells the dispatcher, as a timer would.
  void AdvanceTo(Millis at) {
    clock_.Set(at);
    std::lock_guard lock(dispatcher_mu_);
    dispatcher_->Wake();
  }

  store::Subscription Webhook(const std::string& name, int max_in_flight = 4) {
    store::Subscription sub;
    sub.id = "sub_" + name;
    sub.org_id = kOrg;
    sub.kind = store::SubscriptionKind::kWebhook;
    sub.url = receiver_.Url(name);
    sub.events = {"*"};
    sub.token_sealed = sealer_.Seal(kWebhookToken, sub.id);
    sub.secret_sealed = sealer_.Seal(secret_, sub.id);
    sub.max_in_flight = max_in_flight;
    return sub;
  }

  store::Subscription Xapi(const std::string& name, const std::string& version = "1.0.3",
                           int max_in_flight = 4, int batch_size = 100) {
    store::Subscription sub;
    sub.id = "sub_" + name;
    sub.org_id = kOrg;
    sub.kind = store::SubscriptionKind::kXapi;
    sub.url = receiver_.Url(name) + "/statements";
    sub.events = {"*"};
    sub.xapi_version = version;
    sub.token_sealed = sealer_.Seal(kXapiToken, sub.id);
    sub.max_in_flight = max_in_flight;
    sub.batch_size = batch_size;
    return sub;
  }

  void Create(const store::Subscription& sub) {
    store::Status status = store_->CreateSubscription(sub);
    ASSERT_TRUE(status.ok()) << status.message;
  }

  // A lesson.completed event with its bodies built as ingest builds them.
  static store::NewEvent Event(const std::string& id) {
    boost::json::value event = boost::json::parse(
        R"({"id":")" + id +
        R"(","type":"lesson.completed",)"
        R"("occurred_at":"2026-11-28T12:00:00.123Z","user":{"id":"u-17","name":"Zoë Doe"},)"
        R"("lesson":{"id":"l-77","title":"Objection handling"},"score_percent":92})");
    store::NewEvent e;
    e.event_id = id;
    e.type = "lesson.completed";
    e.occurred_at = 1'795'867'200'123;
    e.learning = true;
    e.webhook_body = webhook::WebhookBody(event);
    e.statement_body =
        xapi::StatementJson({kOrg, "https://acme.example", false}, event, xapi::Version::k1_0_3);
    return e;
  }

  // Events evt-0 ... evt-{n-1}.
  static std::vector<store::NewEvent> Events(int n) {
    std::vector<store::NewEvent> events;
    for (int i = 0; i < n; ++i) events.push_back(Event("evt-" + std::to_string(i)));
    return events;
  }

  // Ingests `events` as one request; returns when Ingest's callback ran
  // (after the commit), with the time it ran.
  Steady::time_point Ingest(std::vector<store::NewEvent> events) {
    auto done =
        std::make_shared<std::promise<std::pair<store::IngestResult, Steady::time_point>>>();
    auto result = done->get_future();
    store_->Ingest(kOrg, std::move(events), [done](store::IngestResult r) {
      done->set_value({std::move(r), Steady::now()});
    });
    auto [ingested, at] = result.get();
    EXPECT_TRUE(ingested.ok) << ingested.error;
    return at;
  }

  std::vector<store::Delivery> Deliveries(const std::string& sub_id) {
    store::DeliveryQuery query;
    query.org_id = kOrg;
    query.subscription_id = sub_id;
    query.limit = 500;
    return store_->ListDeliveries(query);
  }

  int64_t OnlyDelivery(const std::string& sub_id) {
    auto deliveries = Deliveries(sub_id);
    EXPECT_EQ(deliveries.size(), 1u) << sub_id;
    return deliveries.empty() ? 0 : deliveries[0].id;
  }

  // The delivery (with its attempts) once `done` holds for it; fails the
  // test after a bounded wait.
  store::Delivery WaitFor(int64_t id, const std::function<bool(const store::Delivery&)>& done,
                          const std::string& what) {
    std::optional<store::Delivery> d;
    bool reached = WaitUntil([&] {
      d = store_->GetDelivery(kOrg, id);
      return d && done(*d);
    });
    EXPECT_TRUE(reached) << "delivery " << id << " never got " << what << "; it is "
                         << (d ? std::string(StateName(d->state)) : "missing") << " after "
                         << (d ? d->attempt_count : 0) << " attempts";
    return d.value_or(store::Delivery{});
  }
  store::Delivery WaitForState(int64_t id, DeliveryState state) {
    return WaitFor(
        id, [state](const auto& d) { return d.state == state; }, std::string(StateName(state)));
  }
  // Waits for the n-th attempt to be recorded.
  store::Delivery WaitForAttempts(int64_t id, int n) {
    return WaitFor(
        id,
        [n](const auto& d) { return d.attempt_count >= n && d.state != DeliveryState::kInFlight; },
        std::to_string(n) + " attempts");
  }

  // A subscription of one slot whose receiver answers 400 ms late, and a
  // backlog of `n`: returns once the first request is open, the next ones
  // claimed ahead (in the dispatcher's queue and the plain client's lane).
  void StartSlowBacklog(const std::string& name, int n) {
    Create(Webhook(name, /*max_in_flight=*/1));
    receiver_.Script(name, {{.status = 200, .delay = 400ms}});
    StartDispatcher();
    Ingest(Events(n));
    ASSERT_TRUE(receiver_.WaitForCount(name, 1));
  }

  // The event ids of the webhooks `name` received; each must be JSON and
  // signed with secret_.
  std::set<std::string> SignedEventIds(const std::string& name) {
    std::set<std::string> ids;
    for (const Received& r : receiver_.Requests(name)) {
      boost::system::error_code ec;
      boost::json::value body = boost::json::parse(r.request.body, ec);
      if (ec || !body.is_object()) {
        ADD_FAILURE() << "not a webhook body: '" << r.request.body << "'";
        continue;
      }
      ids.insert(std::string(body.at("data").at("id").as_string()));
      EXPECT_EQ(webhook::Verify(
                    secret_, r.request.Header("webhook-id"), r.request.Header("webhook-timestamp"),
                    r.request.Header("webhook-signature"), r.request.body, clock_.Now() / 1000),
                webhook::VerifyResult::kOk);
    }
    return ids;
  }

  store::Subscription Sub(const std::string& sub_id) {
    return store_->GetSubscription(kOrg, sub_id).value_or(store::Subscription{});
  }

  ManualClock clock_;
  const security::Sealer sealer_ = *security::Sealer::FromKey(std::string(32, 'k'));
  const std::string secret_ = webhook::GenerateSecret();
  const DestinationGuard loopback_allowed_{{*net::Cidr::Parse("127.0.0.0/8")}};
  const DestinationGuard nothing_allowed_{{}};
  fs::path dir_;
  Receiver receiver_;
  std::unique_ptr<store::Store> store_;
  std::mutex dispatcher_mu_;
  std::unique_ptr<Dispatcher> dispatcher_;  // guarded by dispatcher_mu_
};

TEST_F(DispatcherTest, DeliversWebhookWithStandardWebhooksHeaders) {
  Create(Webhook("hook"));
  receiver_.Script("hook", {{.status = 200, .body = "thanks", .delay = 30ms}});
  StartDispatcher();
  store::NewEvent event = Event("evt-1");
  Ingest({event});

  store::Delivery d = WaitForState(OnlyDelivery("sub_hook"), DeliveryState::kDelivered);
  ASSERT_EQ(receiver_.Count("hook"), 1u);
  http::Request got = receiver_.Requests("hook")[0].request;
  int64_t now_seconds = clock_.Now() / 1000;
  EXPECT_EQ(got.Header("webhook-id"), "msg_" + StatementId(kOrg, "evt-1"));
  EXPECT_EQ(got.Header("webhook-timestamp"), std::to_string(now_seconds));
  EXPECT_EQ(webhook::Verify(secret_, got.Header("webhook-id"), got.Header("webhook-timestamp"),
                            got.Header("webhook-signature"), got.body, now_seconds),
            webhook::VerifyResult::kOk);
  EXPECT_EQ(got.Header("authorization"), kWebhookToken);
  EXPECT_EQ(got.Header("content-type"), "application/json");
  EXPECT_EQ(got.Header("x-experience-api-version"), "");
  EXPECT_EQ(got.body, event.webhook_body);  // byte for byte, "Zoë" included

  EXPECT_EQ(d.attempt_count, 1);
  ASSERT_EQ(d.attempts.size(), 1u);
  EXPECT_EQ(d.attempts[0].at, clock_.Now());
  EXPECT_EQ(d.attempts[0].status, 200);
  EXPECT_GE(d.attempts[0].latency_ms, 30);
  EXPECT_LT(d.attempts[0].latency_ms, 5000);
  EXPECT_EQ(d.attempts[0].response, "thanks");
  EXPECT_EQ(d.attempts[0].error, "");
}

TEST_F(DispatcherTest, RotatedSecretSignsWithBothSecrets) {
  std::string old_secret = webhook::GenerateSecret();
  store::Subscription sub = Webhook("hook");
  sub.secret_sealed = sealer_.Seal(secret_ + " " + old_secret, sub.id);
  Create(sub);
  StartDispatcher();
  Ingest({Event("evt-1")});

  WaitForState(OnlyDelivery("sub_hook"), DeliveryState::kDelivered);
  http::Request got = receiver_.Requests("hook")[0].request;
  for (const std::string& secret : {secret_, old_secret}) {
    EXPECT_EQ(webhook::Verify(secret, got.Header("webhook-id"), got.Header("webhook-timestamp"),
                              got.Header("webhook-signature"), got.body, clock_.Now() / 1000),
              webhook::VerifyResult::kOk);
  }
}

TEST_F(DispatcherTest, XapiCarriesBasicTokenAndVersionPerSubscription) {
  Create(Xapi("lrs1", "1.0.3"));
  Create(Xapi("lrs2", "2.0.0"));
  StartDispatcher();
  store::NewEvent event = Event("evt-1");
  Ingest({event});

  WaitForState(OnlyDelivery("sub_lrs1"), DeliveryState::kDelivered);
  WaitForState(OnlyDelivery("sub_lrs2"), DeliveryState::kDelivered);
  for (auto [name, version] : {std::pair{"lrs1", "1.0.3"}, std::pair{"lrs2", "2.0.0"}}) {
    ASSERT_EQ(receiver_.Count(name), 1u) << name;
    http::Request got = receiver_.Requests(name)[0].request;
    EXPECT_EQ(got.path, std::string("/") + name + "/statements");
    EXPECT_EQ(got.Header("authorization"), std::string("Basic ") + kXapiToken);
    EXPECT_EQ(got.Header("x-experience-api-version"), version);
    EXPECT_EQ(got.Header("content-type"), "application/json");
    EXPECT_EQ(got.Header("webhook-id"), "");
    EXPECT_EQ(got.body, event.statement_body);
  }
}

TEST_F(DispatcherTest, XapiConflictOnSingleStatementIsDeliveredWithNote) {
  Create(Xapi("lrs"));
  receiver_.Script("lrs", {{.status = 409, .body = "duplicate id"}});
  StartDispatcher();
  Ingest({Event("evt-1")});

  store::Delivery d = WaitForState(OnlyDelivery("sub_lrs"), DeliveryState::kDelivered);
  ASSERT_EQ(d.attempts.size(), 1u);
  EXPECT_EQ(d.attempts[0].status, 409);
  EXPECT_NE(d.attempts[0].error.find("conflict"), std::string::npos) << d.attempts[0].error;
  EXPECT_EQ(d.attempts[0].response, "duplicate id");
}

// xAPI: a 2xx whose body is not the ids the LRS stored (a page at a wrong
// URL, "[]", a shorter list) delivers nothing: the attempt fails and is
// retried on the schedule.
TEST_F(DispatcherTest, AnXapiSuccessNotListingTheStatementsSentIsAFailedAttempt) {
  Create(Xapi("lrs", "1.0.3", /*max_in_flight=*/1));
  const std::string first = StatementId(kOrg, "evt-0");
  receiver_.Script("lrs", {{.status = 200, .body = "<html>welcome</html>"},
                           {.status = 200, .body = "[\"" + first + "\"]"},
                           {.status = 200, .ids = true}});
  Ingest(Events(3));
  StartDispatcher();

  std::vector<store::Delivery> due = Deliveries("sub_lrs");
  ASSERT_EQ(due.size(), 3u);
  store::Delivery d = WaitForAttempts(due[0].id, 1);
  EXPECT_EQ(d.state, DeliveryState::kRetrying);
  EXPECT_EQ(d.attempts[0].status, 200);
  EXPECT_NE(d.attempts[0].error.find("not counted as delivered"), std::string::npos)
      << d.attempts[0].error;
  EXPECT_EQ(d.attempts[0].response, "<html>welcome</html>");
  EXPECT_EQ(store::HealthState(Sub("sub_lrs")), "failing");

  AdvanceTo(d.next_attempt_at);
  d = WaitForAttempts(due[0].id, 2);
  EXPECT_EQ(d.state, DeliveryState::kRetrying);
  EXPECT_NE(d.attempts[1].error.find("2 of the 3"), std::string::npos) << d.attempts[1].error;

  AdvanceTo(d.next_attempt_at);
  for (const store::Delivery& each : due) {
    store::Delivery done = WaitForState(each.id, DeliveryState::kDelivered);
    EXPECT_EQ(done.attempt_count, 3);
  }
  EXPECT_EQ(receiver_.Count("lrs"), 3u);
  EXPECT_EQ(store::HealthState(Sub("sub_lrs")), "healthy");
}

TEST_F(DispatcherTest, XapiBacklogGoesOutInBatchesOfTheSubscriptionsSize) {
  Create(Xapi("lrs", "1.0.3", /*max_in_flight=*/1, /*batch_size=*/100));
  Create(Xapi("small", "1.0.3", /*max_in_flight=*/1, /*batch_size=*/7));
  Ingest(Events(250));
  StartDispatcher();

  for (const char* sub : {"sub_lrs", "sub_small"}) {
    for (const store::Delivery& d : Deliveries(sub)) {
      store::Delivery done = WaitForState(d.id, DeliveryState::kDelivered);
      EXPECT_EQ(done.attempt_count, 1);
    }
  }
  std::vector<size_t> sizes;
  std::set<std::string> ids;
  for (const Received& r : receiver_.Requests("lrs")) {
    std::vector<std::string> batch = StatementIds(r.request.body);
    sizes.push_back(batch.size());
    ids.insert(batch.begin(), batch.end());
    EXPECT_EQ(r.request.Header("x-experience-api-version"), "1.0.3");
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{100, 100, 50}));
  EXPECT_EQ(ids.size(), 250u);  // each once
  EXPECT_TRUE(ids.count(StatementId(kOrg, "evt-249")));
  EXPECT_EQ(receiver_.Count("small"), 36u);  // 35 x 7 + 5
  for (const Received& r : receiver_.Requests("small")) {
    EXPECT_LE(StatementIds(r.request.body).size(), 7u);
  }
}

TEST_F(DispatcherTest, WebhooksGoOneEventPerRequest) {
  Create(Webhook("hook", /*max_in_flight=*/1));
  Ingest(Events(5));
  StartDispatcher();
  for (const store::Delivery& d : Deliveries("sub_hook")) {
    WaitForState(d.id, DeliveryState::kDelivered);
  }
  ASSERT_EQ(receiver_.Count("hook"), 5u);
  for (const Received& r : receiver_.Requests("hook")) {
    EXPECT_TRUE(boost::json::parse(r.request.body).is_object());
  }
}

TEST_F(DispatcherTest, APoisonedStatementIsSplitOutAndDiesWhileTheRestAreDelivered) {
  Create(Xapi("lrs", "1.0.3", /*max_in_flight=*/1));
  const std::string poison = StatementId(kOrg, "evt-6");
  receiver_.Decide("lrs", [poison](const http::Request& request) {
    if (request.body.find(poison) != std::string::npos) {
      return Reply{.status = 400, .body = "statement " + poison + " is invalid"};
    }
    return Reply{.status = 200, .ids = true};
  });
  Ingest(Events(10));
  StartDispatcher();

  store::Delivery dead;
  for (const store::Delivery& d : Deliveries("sub_lrs")) {
    bool poisoned = d.event_id == "evt-6";
    store::Delivery done =
        WaitForState(d.id, poisoned ? DeliveryState::kDead : DeliveryState::kDelivered);
    EXPECT_EQ(done.attempt_count, 1) << d.event_id;  // halving is not a retry
    if (poisoned) dead = done;
  }
  // 10 -> 5 + 5 -> the poisoned 5 as 2 + 3 -> 1 + 2 -> the poison alone.
  ASSERT_EQ(dead.attempts.size(), 4u);
  for (size_t i = 0; i + 1 < dead.attempts.size(); ++i) {
    EXPECT_EQ(dead.attempts[i].status, 400);
    EXPECT_NE(dead.attempts[i].error.find("halves"), std::string::npos) << dead.attempts[i].error;
  }
  EXPECT_EQ(dead.attempts.back().response, "statement " + poison + " is invalid");
  EXPECT_NE(dead.attempts.back().error.find("refused"), std::string::npos);
  std::set<std::string> delivered;
  for (const Received& r : receiver_.Requests("lrs")) {
    if (r.request.body.find(poison) != std::string::npos) continue;
    for (auto& id : StatementIds(r.request.body)) EXPECT_TRUE(delivered.insert(id).second) << id;
  }
  EXPECT_EQ(delivered.size(), 9u);  // each good statement accepted exactly once
  // The statements after the poisoned one succeeded: the LRS is healthy.
  EXPECT_EQ(store::HealthState(Sub("sub_lrs")), "healthy");
}

TEST_F(DispatcherTest, AStatementTheLrsRefusesIsDeadAndLeavesHealthUnchanged) {
  Create(Xapi("lrs"));
  receiver_.Script(
      "lrs", {{.status = 200, .ids = true}, {.status = 422, .body = "statement has no verb"}});
  StartDispatcher();
  Ingest({Event("evt-good")});
  WaitForState(OnlyDelivery("sub_lrs"), DeliveryState::kDelivered);
  Ingest({Event("evt-bad")});
  store::Delivery dead;
  for (const store::Delivery& d : Deliveries("sub_lrs")) {
    if (d.event_id == "evt-bad") dead = WaitForState(d.id, DeliveryState::kDead);
  }
  ASSERT_EQ(dead.attempts.size(), 1u);
  EXPECT_EQ(dead.attempts[0].status, 422);
  EXPECT_EQ(dead.attempts[0].response, "statement has no verb");
  store::Subscription sub = Sub("sub_lrs");
  EXPECT_EQ(store::HealthState(sub), "healthy");
  EXPECT_EQ(sub.consecutive_failures, 0);
  EXPECT_EQ(sub.last_failure_at, 0);
  EXPECT_EQ(sub.failing_since, 0);
}

TEST_F(DispatcherTest, ServerErrorRetriesOnTheScheduleThenDies) {
  Create(Xapi("lrs"));
  receiver_.Script("lrs", {{.status = 500, .body = "down"}});
  StartDispatcher();
  store::NewEvent event = Event("evt-1");
  Ingest({event});
  int64_t id = OnlyDelivery("sub_lrs");

  store::Delivery d = WaitForAttempts(id, 1);
  EXPECT_EQ(d.state, DeliveryState::kRetrying);
  EXPECT_EQ(d.next_attempt_at, clock_.Now() + Jittered(1000));

  // Not a moment early: just before it is due, a wake sends nothing.
  AdvanceTo(d.next_attempt_at - 1);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(receiver_.Count("lrs"), 1u);

  for (int attempt = 2; attempt <= 3; ++attempt) {
    AdvanceTo(d.next_attempt_at);
    d = WaitForAttempts(id, attempt);
    EXPECT_EQ(d.state, DeliveryState::kRetrying) << attempt;
    EXPECT_EQ(d.next_attempt_at, clock_.Now() + Jittered(1000 * attempt)) << attempt;
  }
  AdvanceTo(d.next_attempt_at);
  d = WaitForAttempts(id, 4);
  EXPECT_EQ(d.state, DeliveryState::kDead);
  ASSERT_EQ(d.attempts.size(), 4u);
  for (const store::Attempt& a : d.attempts) EXPECT_EQ(a.status, 500);
  EXPECT_NE(d.attempts.back().error.find("retries used up"), std::string::npos);

  auto requests = receiver_.Requests("lrs");
  ASSERT_EQ(requests.size(), 4u);
  for (const Received& r : requests) EXPECT_EQ(r.request.body, event.statement_body);
}

TEST_F(DispatcherTest, RetryAfterIsHonouredInSecondsAndAsHttpDate) {
  Create(Webhook("secs"));
  Create(Webhook("date"));
  std::time_t in_nine = static_cast<std::time_t>(clock_.Now() / 1000 + 9);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", std::gmtime(&in_nine));
  receiver_.Script("secs", {{.status = 503, .headers = {{"Retry-After", "7"}}}});
  receiver_.Script("date", {{.status = 429, .headers = {{"Retry-After", date}}}});
  StartDispatcher();
  Ingest({Event("evt-1")});

  store::Delivery secs = WaitForAttempts(OnlyDelivery("sub_secs"), 1);
  EXPECT_EQ(secs.state, DeliveryState::kRetrying);
  EXPECT_EQ(secs.next_attempt_at, clock_.Now() + 7000);
  store::Delivery by_date = WaitForAttempts(OnlyDelivery("sub_date"), 1);
  EXPECT_EQ(by_date.state, DeliveryState::kRetrying);
  EXPECT_EQ(by_date.next_attempt_at, clock_.Now() + 9000);
}

// Curl hands the header callback whole lines, CRLF included.
TEST(DispatcherRetryAfter, ParsesTheValueOfAHeaderLine) {
  EXPECT_EQ(ParseRetryAfter(" 7\r\n", 0), 7000);
  EXPECT_EQ(ParseRetryAfter("\t120 \r\n", 0), 120000);
}

TEST_F(DispatcherTest, DeliversAfterRetriesWithEveryAttemptLoggedAndTheSameBytes) {
  Create(Webhook("hook"));
  receiver_.Script("hook", {{.status = 500}, {.status = 502}, {.status = 200, .body = "at last"}});
  StartDispatcher();
  store::NewEvent event = Event("evt-1");
  Ingest({event});
  int64_t id = OnlyDelivery("sub_hook");

  store::Delivery d = WaitForAttempts(id, 1);
  AdvanceTo(d.next_attempt_at);
  d = WaitForAttempts(id, 2);
  AdvanceTo(d.next_attempt_at);
  d = WaitForState(id, DeliveryState::kDelivered);

  EXPECT_EQ(d.attempt_count, 3);
  ASSERT_EQ(d.attempts.size(), 3u);
  EXPECT_EQ(d.attempts[0].status, 500);
  EXPECT_EQ(d.attempts[1].status, 502);
  EXPECT_EQ(d.attempts[2].status, 200);
  EXPECT_EQ(d.attempts[2].response, "at last");
  EXPECT_LT(d.attempts[0].at, d.attempts[1].at);
  EXPECT_LT(d.attempts[1].at, d.attempts[2].at);

  auto requests = receiver_.Requests("hook");
  ASSERT_EQ(requests.size(), 3u);
  for (size_t i = 0; i < requests.size(); ++i) {
    const http::Request& got = requests[i].request;
    EXPECT_EQ(got.body, event.webhook_body) << i;
    EXPECT_EQ(got.Header("webhook-id"), "msg_" + StatementId(kOrg, "evt-1")) << i;
    int64_t at_seconds = d.attempts[i].at / 1000;  // each attempt signs its own time
    EXPECT_EQ(got.Header("webhook-timestamp"), std::to_string(at_seconds)) << i;
    EXPECT_EQ(webhook::Verify(secret_, got.Header("webhook-id"), got.Header("webhook-timestamp"),
                              got.Header("webhook-signature"), got.body, at_seconds),
              webhook::VerifyResult::kOk)
        << i;
  }
}

TEST_F(DispatcherTest, KeepsOnly4096BytesOfALargeResponse) {
  Create(Webhook("hook"));
  std::string big(100 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  receiver_.Script("hook", {{.status = 200, .body = big}});
  StartDispatcher();
  Ingest({Event("evt-1")});

  store::Delivery d = WaitForState(OnlyDelivery("sub_hook"), DeliveryState::kDelivered);
  ASSERT_EQ(d.attempts.size(), 1u);
  EXPECT_EQ(d.attempts[0].response.size(), 4096u);
  EXPECT_EQ(d.attempts[0].response, big.substr(0, 4096));
}

// The attempt log keeps the answer's first 4096 bytes, which may end inside
// a UTF-8 character, and a receiver may answer in Latin-1 or in binary. The
// delivery the API shows must still be JSON (RFC 8259: UTF-8): strict
// parsers (Boost.JSON, Python's json.loads on bytes) refused it whole.
TEST_F(DispatcherTest, AnAnswerCutInsideACharacterIsShownAsValidJson) {
  Create(Webhook("cut"));
  Create(Webhook("latin1"));
  receiver_.Script("cut", {{.status = 200, .body = std::string(4095, 'a') + "\xc3\xa9 and more"}});
  receiver_.Script("latin1", {{.status = 500, .body = "caf\xe9 ferm\xe9"}});
  StartDispatcher();
  Ingest({Event("evt-1")});

  store::Delivery cut = WaitForState(OnlyDelivery("sub_cut"), DeliveryState::kDelivered);
  store::Delivery latin1 = WaitForAttempts(OnlyDelivery("sub_latin1"), 1);
  for (const store::Delivery* d : {&cut, &latin1}) {
    std::string json = ToJson(api::DeliveryView(*d, true));
    boost::system::error_code ec;
    boost::json::value view = boost::json::parse(json, ec);
    ASSERT_FALSE(ec) << d->subscription_id << ": " << ec.message();
    const auto& response = view.at("attempts").at(0).at("response").as_string();
    if (d == &cut) {
      EXPECT_EQ(std::string_view(response), std::string(4095, 'a') + "\xef\xbf\xbd");
    } else {
      EXPECT_EQ(std::string_view(response), "caf\xef\xbf\xbd ferm\xef\xbf\xbd");
    }
  }
}

TEST_F(DispatcherTest, DoesNotFollowRedirects) {
  Create(Webhook("hook"));
  receiver_.Script("hook",
                   {{.status = 302, .headers = {{"Location", receiver_.Url("elsewhere")}}}});
  StartDispatcher();
  Ingest({Event("evt-1")});

  store::Delivery d = WaitForAttempts(OnlyDelivery("sub_hook"), 1);
  EXPECT_EQ(d.state, DeliveryState::kRetrying);
  ASSERT_EQ(d.attempts.size(), 1u);
  EXPECT_EQ(d.attempts[0].status, 302);
  EXPECT_EQ(receiver_.Count("hook"), 1u);
  EXPECT_EQ(receiver_.Count("elsewhere"), 0u);
}

TEST_F(DispatcherTest, DestinationGuardRefusesLoopbackUnlessARangeAllowsIt) {
  Create(Webhook("hook"));
  DispatcherOptions closed = Options();
  closed.transport.guard = &nothing_allowed_;
  StartDispatcher(closed);
  Ingest({Event("evt-1")});
  int64_t id = OnlyDelivery("sub_hook");

  store::Delivery d = WaitForAttempts(id, 1);
  EXPECT_EQ(d.state, DeliveryState::kRetrying);
  ASSERT_EQ(d.attempts.size(), 1u);
  EXPECT_EQ(d.attempts[0].status, 0);
  EXPECT_NE(d.attempts[0].error.find("destination refused"), std::string::npos)
      << d.attempts[0].error;
  EXPECT_NE(d.attempts[0].error.find("127.0.0.1"), std::string::npos) << d.attempts[0].error;
  EXPECT_EQ(receiver_.Count("hook"), 0u);

  StopDispatcher();
  StartDispatcher(Options());  // 127.0.0.0/8 allowed
  AdvanceTo(d.next_attempt_at);
  WaitForState(id, DeliveryState::kDelivered);
  EXPECT_EQ(receiver_.Count("hook"), 1u);
}

// The stuck receiver's requests hang for as long as the test runs (their
// timeout is ten minutes): whatever the fine one gets, it got while they
// hung, however slow the machine.
TEST_F(DispatcherTest, HungReceiverCostsOnlyItsOwnSubscriptionsSlots) {
  Create(Webhook("stuck", /*max_in_flight=*/2));
  Create(Webhook("fine", /*max_in_flight=*/2));
  receiver_.Script("stuck", {{.hang = true}});
  DispatcherOptions options = Options();
  options.transport.total_timeout_ms = 10 * 60 * 1000;
  StartDispatcher(options);
  std::vector<store::NewEvent> events;
  for (int i = 0; i < 20; ++i) events.push_back(Event("evt-" + std::to_string(i)));
  Ingest(events);

  // The fine one gets all twenty while the stuck one's first two hang and
  // its other eighteen wait for a slot.
  ASSERT_TRUE(receiver_.WaitForCount("fine", 20, 60s)) << receiver_.Count("fine");
  EXPECT_EQ(receiver_.Count("stuck"), 2u);
  for (const store::Delivery& d : Deliveries("sub_fine")) {
    WaitForState(d.id, DeliveryState::kDelivered);
  }
  int in_flight = 0, pending = 0;
  for (const store::Delivery& d : Deliveries("sub_stuck")) {
    in_flight += d.state == DeliveryState::kInFlight;
    pending += d.state == DeliveryState::kPending;
  }
  // Two requests open, fourteen more claimed ahead (eight times the two
  // slots are claimed: in_flight, waiting in the plain client's lane or in
  // the dispatcher for a slot), four left pending.
  EXPECT_EQ(in_flight, 16);
  EXPECT_EQ(pending, 4);
}

// The hung two time out, free their slots, and the next two go (and hang).
TEST_F(DispatcherTest, HungRequestsTimeOutAndFreeTheirSlots) {
  Create(Webhook("stuck", /*max_in_flight=*/2));
  receiver_.Script("stuck", {{.hang = true}});
  DispatcherOptions options = Options();
  options.transport.total_timeout_ms = 2000;
  StartDispatcher(options);
  Ingest(Events(20));

  ASSERT_TRUE(receiver_.WaitForCount("stuck", 4, 60s)) << receiver_.Count("stuck");
  // The two that timed out wait for their retry, the error saying why; each
  // was open its whole timeout (measured by the client that timed it out).
  std::vector<store::Delivery> retrying;
  EXPECT_TRUE(WaitUntil(
      [&] {
        retrying.clear();
        for (const store::Delivery& d : Deliveries("sub_stuck")) {
          if (d.state != DeliveryState::kRetrying) continue;
          retrying.push_back(store_->GetDelivery(kOrg, d.id).value_or(d));
        }
        return retrying.size() >= 2;
      },
      60s));
  for (const store::Delivery& d : retrying) {
    ASSERT_EQ(d.attempts.size(), 1u);
    EXPECT_EQ(d.attempts[0].status, 0);
    EXPECT_NE(d.attempts[0].error.find("timed out"), std::string::npos) << d.attempts[0].error;
    EXPECT_GE(d.attempts[0].latency_ms, 2000);
  }
}

// --max-in-flight bounds the requests open at the receivers: those waiting
// in a plain-client lane beyond their subscription's max_in_flight do not
// take another subscription's share of it.
TEST_F(DispatcherTest, RequestsWaitingInALaneLeaveTheTotalToOthers) {
  Create(Webhook("a", /*max_in_flight=*/2));
  Create(Webhook("b", /*max_in_flight=*/2));
  receiver_.Script("a", {{.hang = true}});
  receiver_.Script("b", {{.hang = true}});
  DispatcherOptions options = Options();
  options.max_in_flight = 4;
  StartDispatcher(options);
  std::vector<store::NewEvent> events;
  for (int i = 0; i < 8; ++i) events.push_back(Event("evt-" + std::to_string(i)));
  Ingest(events);

  // Each gets its two open; the ones handed ahead wait in their lanes.
  EXPECT_TRUE(receiver_.WaitForCount("a", 2, 2s)) << receiver_.Count("a");
  EXPECT_TRUE(receiver_.WaitForCount("b", 2, 2s)) << receiver_.Count("b");
  std::this_thread::sleep_for(200ms);  // nothing more may arrive while they hang
  EXPECT_EQ(receiver_.Count("a"), 2u);
  EXPECT_EQ(receiver_.Count("b"), 2u);
  EXPECT_EQ(receiver_.MaxOpen("a"), 2);
  EXPECT_EQ(receiver_.MaxOpen("b"), 2);
}

// Also a regression: a finished request freed its slot but the dispatcher
// slept up to a second before claiming the backlog behind it.
// With no idle poll to fall back on, only claiming as a request ends gets
// the three waves out within the bound.
TEST_F(DispatcherTest, SlowReceiverSeesMaxInFlightRequestsAndNoMore) {
  Create(Webhook("slow", /*max_in_flight=*/2));
  receiver_.Script("slow", {{.status = 200, .delay = 100ms}});
  StartDispatcher(WithoutIdlePoll());
  std::vector<store::NewEvent> events;
  for (int i = 0; i < 6; ++i) events.push_back(Event("evt-" + std::to_string(i)));
  Ingest(events);

  ASSERT_TRUE(receiver_.WaitForCount("slow", 6, 60s)) << receiver_.Count("slow");
  for (const store::Delivery& d : Deliveries("sub_slow")) {
    WaitForState(d.id, DeliveryState::kDelivered);
  }
  EXPECT_EQ(receiver_.Count("slow"), 6u);
  EXPECT_EQ(receiver_.MaxOpen("slow"), 2);  // in parallel, and no more than allowed
}

// Without an idle poll, a dispatcher the commit did not wake would wait ten
// minutes: each event arriving within the bound shows the commit woke it.
TEST_F(DispatcherTest, CommitWakesAnIdleDispatcherWithoutTheClockMoving) {
  Create(Webhook("hook"));
  StartDispatcher(WithoutIdlePoll());
  std::this_thread::sleep_for(100ms);  // most likely idle: it has claimed nothing and waits

  for (int i = 0; i < 5; ++i) {
    Ingest({Event("evt-" + std::to_string(i))});
    ASSERT_TRUE(receiver_.WaitForCount("hook", i + 1, 60s)) << i;
    std::this_thread::sleep_for(50ms);  // most likely idle again
  }
}

TEST_F(DispatcherTest, DisabledSubscriptionHoldsItsDeliveriesUntilEnabled) {
  store::Subscription off = Webhook("off");
  off.enabled = false;
  Create(off);
  Create(Webhook("on"));
  StartDispatcher();
  Ingest({Event("evt-1")});

  // The enabled one shows the dispatcher has been through the claim.
  WaitForState(OnlyDelivery("sub_on"), DeliveryState::kDelivered);
  int64_t held = OnlyDelivery("sub_off");
  store::Delivery d = *store_->GetDelivery(kOrg, held);
  EXPECT_EQ(d.state, DeliveryState::kHeld);
  EXPECT_EQ(d.attempt_count, 0);
  EXPECT_EQ(receiver_.Count("off"), 0u);

  store::Subscription enabled = Sub("sub_off");
  enabled.enabled = true;
  ASSERT_TRUE(store_->UpdateSubscription(enabled).ok());
  d = WaitForState(held, DeliveryState::kDelivered);
  EXPECT_EQ(d.attempt_count, 1);
  EXPECT_EQ(receiver_.Count("off"), 1u);
}

// What was claimed ahead (waiting in the dispatcher, or handed to a
// plain-client lane) is built into requests only when it starts: disabling
// the subscription must stop it, not let a slow receiver get several more.
TEST_F(DispatcherTest, DisablingSendsNothingMoreThanTheRequestAlreadyOpen) {
  ASSERT_NO_FATAL_FAILURE(StartSlowBacklog("hook", 6));

  store::Subscription off = Sub("sub_hook");
  off.enabled = false;
  ASSERT_TRUE(store_->UpdateSubscription(off).ok());
  std::this_thread::sleep_for(1200ms);  // three more answers' time
  EXPECT_EQ(receiver_.Count("hook"), 1u);
  int delivered = 0;
  for (const store::Delivery& d : Deliveries("sub_hook")) {
    if (d.attempt_count == 0) {
      EXPECT_EQ(WaitForState(d.id, DeliveryState::kHeld).attempt_count, 0);
    } else {
      ++delivered;
      WaitForState(d.id, DeliveryState::kDelivered);  // the open one's answer still lands
    }
  }
  EXPECT_EQ(delivered, 1);

  store::Subscription on = Sub("sub_hook");
  on.enabled = true;
  ASSERT_TRUE(store_->UpdateSubscription(on).ok());
  for (const store::Delivery& d : Deliveries("sub_hook")) {
    EXPECT_EQ(WaitForState(d.id, DeliveryState::kDelivered).attempt_count, 1);
  }
  EXPECT_EQ(receiver_.Count("hook"), 6u);
}

// A new URL (or secret) applies to every request not yet open: none of those
// claimed before the change goes to the old URL.
TEST_F(DispatcherTest, AChangedUrlTakesEveryRequestNotYetOpen) {
  ASSERT_NO_FATAL_FAILURE(StartSlowBacklog("old", 4));

  store::Subscription moved = Sub("sub_old");
  moved.url = receiver_.Url("new");
  ASSERT_TRUE(store_->UpdateSubscription(moved).ok());
  EXPECT_TRUE(receiver_.WaitForCount("new", 3)) << receiver_.Count("new");
  for (const store::Delivery& d : Deliveries("sub_old")) {
    EXPECT_EQ(WaitForState(d.id, DeliveryState::kDelivered).attempt_count, 1);
  }
  EXPECT_EQ(receiver_.Count("old"), 1u);
  EXPECT_EQ(receiver_.Count("new"), 3u);
  // Regression: those taken back from the plain client's lane were built
  // anew with an empty body (a batch of one hands its body to its request).
  EXPECT_EQ(SignedEventIds("new"), (std::set<std::string>{"evt-1", "evt-2", "evt-3"}));
}

// The same with a change a millisecond or more later than the copy, and
// events that come after it: those claimed ahead and those claimed later
// all go to the new URL.
TEST_F(DispatcherTest, AChangedUrlTakesWhatWasClaimedAheadAndWhatComesAfter) {
  ASSERT_NO_FATAL_FAILURE(StartSlowBacklog("old", 4));
  clock_.Advance(1000);  // the change's updated_at differs from the copy's
  store::Subscription moved = Sub("sub_old");
  moved.url = receiver_.Url("new");
  ASSERT_TRUE(store_->UpdateSubscription(moved).ok());
  std::vector<store::NewEvent> more;
  for (int i = 0; i < 4; ++i) more.push_back(Event("later-" + std::to_string(i)));
  Ingest(more);
  EXPECT_TRUE(receiver_.WaitForCount("new", 7)) << receiver_.Count("new");
  for (const store::Delivery& d : Deliveries("sub_old")) {
    EXPECT_EQ(WaitForState(d.id, DeliveryState::kDelivered).attempt_count, 1);
  }
  EXPECT_EQ(receiver_.Count("old"), 1u);
  EXPECT_EQ(SignedEventIds("new"), (std::set<std::string>{"evt-1", "evt-2", "evt-3", "later-0",
                                                          "later-1", "later-2", "later-3"}));
}

// Regression: a move from https:// to http:// left the requests still open
// at the old URL (libcurl's) out of the plain client's lane, which opened
// max_in_flight more at once: two requests of a subscription of one slot
// were open together.
TEST_F(DispatcherTest, AMoveFromHttpsToHttpKeepsMaxInFlightWhileTheOldRequestIsOpen) {
  SilentPort tls;
  store::Subscription sub = Webhook("new", /*max_in_flight=*/1);
  sub.url = tls.Url("hook");
  Create(sub);
  DispatcherOptions options = Options();
  options.transport.connect_timeout_ms = 60'000;
  options.transport.total_timeout_ms = 60'000;
  StartDispatcher(options);
  Ingest(Events(3));
  ASSERT_TRUE(WaitUntil([&] { return tls.Count() >= 1; }));

  store::Subscription moved = Sub("sub_new");
  moved.url = receiver_.Url("new");
  ASSERT_TRUE(store_->UpdateSubscription(moved).ok());
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(receiver_.Count("new"), 0u);  // the request open at the old URL holds the slot
  tls.Close();                            // it fails, and frees the slot
  EXPECT_TRUE(receiver_.WaitForCount("new", 2)) << receiver_.Count("new");
  EXPECT_EQ(tls.Count(), 0u);
}

// Regression: a lane's requests still open when an admin lowered its
// subscription's max_in_flight were counted as waiting in the lane beyond
// the new max_in_flight, not as open: --max-in-flight let that many more
// open for other subscriptions.
TEST_F(DispatcherTest, ALoweredMaxInFlightKeepsTheTotalWhileTheOldRequestsAreOpen) {
  Create(Webhook("a", /*max_in_flight=*/4));
  receiver_.Script("a", {{.hang = true}});
  receiver_.Script("b", {{.hang = true}});
  DispatcherOptions options = Options();
  options.max_in_flight = 4;
  options.transport.total_timeout_ms = 5000;
  StartDispatcher(options);
  Ingest(Events(8));
  ASSERT_TRUE(receiver_.WaitForCount("a", 4)) << receiver_.Count("a");
  store::Subscription lowered = Sub("sub_a");
  lowered.max_in_flight = 1;
  ASSERT_TRUE(store_->UpdateSubscription(lowered).ok());
  Create(Webhook("b", /*max_in_flight=*/4));
  Ingest({Event("b-0"), Event("b-1"), Event("b-2")});
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(receiver_.Count("a"), 4u);
  EXPECT_EQ(receiver_.Count("b"), 0u);  // a's four still open hold the whole total

  // They time out: a opens one (its new max_in_flight), b the rest.
  EXPECT_TRUE(receiver_.WaitForCount("b", 3, 60s)) << receiver_.Count("b");
  EXPECT_TRUE(receiver_.WaitForCount("a", 5, 60s)) << receiver_.Count("a");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(receiver_.Count("a"), 5u);
  EXPECT_EQ(receiver_.Count("b"), 3u);
}

// Regression: a claim that filled the total (--max-in-flight) asked the
// subscription for less than its slots, and the shortfall marked it as
// having nothing more due: no claim visited it again until a commit or the
// clock's next retry (never, with this clock), its backlog pending.
TEST_F(DispatcherTest, AClaimCutShortByTheTotalLeavesTheRestClaimable) {
  Create(Webhook("hook", /*max_in_flight=*/4));  // may claim 32 ahead
  DispatcherOptions options = Options();
  options.max_in_flight = 1;  // a claim takes 4 requests in all
  StartDispatcher(options);
  Ingest(Events(20));
  EXPECT_TRUE(receiver_.WaitForCount("hook", 20)) << receiver_.Count("hook");
  for (const store::Delivery& d : Deliveries("sub_hook")) {
    EXPECT_EQ(WaitForState(d.id, DeliveryState::kDelivered).attempt_count, 1);
  }
}

TEST_F(DispatcherTest, DeletingSendsNothingMoreThanTheRequestAlreadyOpen) {
  ASSERT_NO_FATAL_FAILURE(StartSlowBacklog("hook", 6));

  ASSERT_TRUE(store_->DeleteSubscription(kOrg, "sub_hook").ok());
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(receiver_.Count("hook"), 1u);
  EXPECT_TRUE(Deliveries("sub_hook").empty());
}

TEST_F(DispatcherTest, StopLeavesRequestsInFlightAndResetMakesThemPending) {
  Create(Webhook("hook"));
  receiver_.Script("hook", {{.hang = true}, {.hang = true}, {.status = 200}});
  StartDispatcher();
  Ingest({Event("evt-1"), Event("evt-2")});
  ASSERT_TRUE(receiver_.WaitForCount("hook", 2));

  StopDispatcher();
  auto deliveries = Deliveries("sub_hook");
  ASSERT_EQ(deliveries.size(), 2u);
  for (const store::Delivery& d : deliveries) {
    EXPECT_EQ(d.state, DeliveryState::kInFlight);
    EXPECT_EQ(d.attempt_count, 0);
  }

  EXPECT_EQ(store_->ResetInFlight(), 2);
  for (const store::Delivery& d : Deliveries("sub_hook")) {
    EXPECT_EQ(d.state, DeliveryState::kPending);
  }

  StartDispatcher();  // a restart sends them again
  for (const store::Delivery& d : deliveries) WaitForState(d.id, DeliveryState::kDelivered);
  EXPECT_EQ(receiver_.Count("hook"), 4u);
}

// Regression: the dispatcher never told the store what an attempt said about
// its subscription, so 410, 401/403, and five days of failure changed nothing.
// Regression: the request still open at the old URL answered 410 after an
// admin had moved the subscription to a new URL (often away from that very
// receiver), and the 410 disabled the moved subscription: nothing went to
// the new URL, the backlog read as held.
TEST_F(DispatcherTest, AGoneFromTheFormerUrlDoesNotDisableTheMovedSubscription) {
  Create(Webhook("old", /*max_in_flight=*/1));
  receiver_.Script("old", {{.status = 410, .delay = 400ms}});
  StartDispatcher();
  Ingest(Events(4));
  ASSERT_TRUE(receiver_.WaitForCount("old", 1));
  store::Subscription moved = Sub("sub_old");
  moved.url = receiver_.Url("new");
  ASSERT_TRUE(store_->UpdateSubscription(moved).ok());

  EXPECT_TRUE(receiver_.WaitForCount("new", 3)) << receiver_.Count("new");
  store::Subscription sub = Sub("sub_old");
  EXPECT_TRUE(sub.enabled) << sub.disabled_reason;
  // The delivery the old URL refused is retried, at the new one.
  int retrying = 0;
  for (const store::Delivery& d : Deliveries("sub_old")) {
    store::Delivery now = WaitForAttempts(d.id, 1);
    if (now.state != DeliveryState::kRetrying) continue;
    ++retrying;
    ASSERT_FALSE(now.attempts.empty());
    EXPECT_NE(now.attempts[0].error.find("former URL"), std::string::npos) << now.attempts[0].error;
  }
  EXPECT_EQ(retrying, 1);
  AdvanceTo(clock_.Now() + Jittered(1000));
  EXPECT_TRUE(receiver_.WaitForCount("new", 4)) << receiver_.Count("new");
  EXPECT_EQ(receiver_.Count("old"), 1u);
}

TEST_F(DispatcherTest, GoneDisablesTheSubscriptionAndHoldsItsDelivery) {
  LogCapture log;
  Create(Webhook("hook"));
  receiver_.Script("hook", {{.status = 410}});
  StartDispatcher();
  Ingest({Event("evt-1")});

  store::Delivery d = WaitForAttempts(OnlyDelivery("sub_hook"), 1);
  EXPECT_EQ(d.state, DeliveryState::kHeld);
  store::Subscription sub = Sub("sub_hook");
  EXPECT_FALSE(sub.enabled);
  EXPECT_NE(sub.disabled_reason.find("410"), std::string::npos) << sub.disabled_reason;
  // The operator sees it in the log too, once.
  auto told = log.With("\"subscription disabled\"");
  ASSERT_EQ(told.size(), 1u);
  EXPECT_NE(told[0].find("sub_hook"), std::string::npos) << told[0];
  EXPECT_NE(told[0].find("410"), std::string::npos) << told[0];
}

// After a 410 nothing claimed ahead is sent: the plain client's lane starts
// none of its queued requests after that answer (before the dispatcher has
// seen it), and the dispatcher gives back what waits with it.
TEST_F(DispatcherTest, GoneStopsTheRequestsClaimedAhead) {
  Create(Webhook("hook", /*max_in_flight=*/1));
  receiver_.Script("hook", {{.status = 410}});
  StartDispatcher();
  Ingest(Events(8));

  ASSERT_TRUE(WaitUntil([&] { return !Sub("sub_hook").enabled; }));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(receiver_.Count("hook"), 1u);
  int untried = 0;
  for (const store::Delivery& d : Deliveries("sub_hook")) {
    if (d.attempt_count > 0) continue;
    ++untried;
    WaitForState(d.id, DeliveryState::kHeld);
  }
  EXPECT_EQ(untried, 7);
}

TEST_F(DispatcherTest, CredentialsRefusedShowsOnTheSubscriptionUntilASuccess) {
  Create(Webhook("hook"));
  receiver_.Script("hook", {{.status = 401}, {.status = 200}});
  StartDispatcher();
  Ingest({Event("evt-1")});
  int64_t id = OnlyDelivery("sub_hook");

  store::Delivery d = WaitForAttempts(id, 1);
  EXPECT_EQ(d.state, DeliveryState::kRetrying);
  EXPECT_TRUE(Sub("sub_hook").credentials_refused);
  EXPECT_EQ(store::HealthState(Sub("sub_hook")), "credentials_refused");

  AdvanceTo(d.next_attempt_at);
  WaitForState(id, DeliveryState::kDelivered);
  store::Subscription sub = Sub("sub_hook");
  EXPECT_FALSE(sub.credentials_refused);
  EXPECT_EQ(sub.last_success_at, clock_.Now());
  EXPECT_EQ(store::HealthState(sub), "healthy");
}

TEST_F(DispatcherTest, FailingForMoreThanFiveDaysDisablesTheSubscription) {
  constexpr Millis kDay = 24 * 3600 * 1000LL;
  Create(Webhook("hook"));
  receiver_.Script("hook", {{.status = 500}});
  StartDispatcher(Options(), RetryPolicy({1000, 6 * kDay, 6 * kDay}, 0));
  Ingest({Event("evt-1"), Event("evt-2")});
  auto deliveries = Deliveries("sub_hook");
  ASSERT_EQ(deliveries.size(), 2u);

  Millis first_failure = clock_.Now();
  WaitForAttempts(deliveries[0].id, 1);
  WaitForAttempts(deliveries[1].id, 1);
  EXPECT_EQ(Sub("sub_hook").failing_since, first_failure);
  EXPECT_TRUE(Sub("sub_hook").enabled);

  AdvanceTo(first_failure + 5 * kDay + 1000);  // both due again, failing for > 5 days
  WaitForAttempts(deliveries[0].id, 2);
  WaitForAttempts(deliveries[1].id, 2);
  store::Subscription sub = Sub("sub_hook");
  EXPECT_FALSE(sub.enabled);
  EXPECT_NE(sub.disabled_reason.find("failing since"), std::string::npos) << sub.disabled_reason;
  for (const store::Delivery& held : Deliveries("sub_hook")) {
    EXPECT_EQ(held.state, DeliveryState::kHeld);
  }
}

}  // namespace
}  // namespace punt::delivery
