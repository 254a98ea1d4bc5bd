#include "delivery/plain_client.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <deque>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "util/thread_name.h"

namespace punt::delivery {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr uint32_t kHeaderLimit = 64u << 10;
// A connection's read buffer: a head at the limit and the read after it.
constexpr size_t kReadBufferLimit = 2 * kHeaderLimit;
constexpr size_t kMaxIdlePerHost = 1024;
constexpr size_t kMaxAddresses = 4096;  // parsed URLs kept; all are dropped when full

struct Address {
  std::string host;         // a name, or an IP address without brackets
  std::string port;         // "80" when the URL names none
  std::string target;       // path and query
  std::string host_header;  // host[:port] as the URL has it
  std::string key;          // host and port, the connection pool's key
};

std::optional<Address> ParseAddress(const std::string& url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || parsed->scheme_id() != boost::urls::scheme::http) return std::nullopt;
  Address a;
  a.host = std::string(parsed->encoded_host_address());
  a.port = parsed->has_port() && !parsed->port().empty() ? std::string(parsed->port()) : "80";
  a.target = std::string(parsed->encoded_target());
  if (a.target.empty()) a.target = "/";
  a.host_header = std::string(parsed->encoded_host_and_port());
  a.key = a.host + " " + a.port;
  if (a.host.empty() || parsed->has_userinfo()) return std::nullopt;
  return a;
}

// The receiver closed a kept-alive connection before it answered.
bool ClosedBeforeAnswer(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

struct Connection {
  explicit Connection(asio::io_context& io) : socket(io) {}
  tcp::socket socket;
  // Bounded: a body streams through it, but the parser holds a head, a
  // chunk-size line (extensions and all) or a trailer whole until it ends,
  // and the parser's header_limit bounds only the head. An endless line
  // would otherwise grow it until the total timeout.
  boost::beast::flat_buffer buffer{kReadBufferLimit};
  std::chrono::steady_clock::time_point idle_since;  // when it was last put back in the pool

  // An idle connection the receiver has closed reads as end of file (or an
  // error) at once; a live one has nothing to read. One with bytes to read
  // (the receiver sent more after its answer) is not usable either: they
  // would be read as the next request's answer.
  bool LooksOpen() {
    char byte;
    ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
};

// Reads an answer whole and keeps what an attempt records: the status, a
// Retry-After, and the body's first `keep` bytes (the rest is read and
// dropped, so the connection stays usable, as libcurl does; the total
// timeout bounds an endless one). No header is stored and nothing is
// allocated per field, unlike http::response_parser.
class KeptAnswerParser final : public http::basic_parser<false> {
 public:
  explicit KeptAnswerParser(size_t keep) : keep_(keep) {
    body_limit(boost::none);
    header_limit(kHeaderLimit);
  }

  int status() const { return status_; }
  std::optional<std::string>& retry_after() { return retry_after_; }
  std::string& body() { return body_; }

 private:
  void on_request_impl(http::verb, boost::beast::string_view, boost::beast::string_view, int,
                       error_code&) override {}
  void on_response_impl(int code, boost::beast::string_view, int, error_code&) override {
    status_ = code;
  }
  void on_field_impl(http::field name, boost::beast::string_view, boost::beast::string_view value,
                     error_code&) override {
    if (name == http::field::retry_after && !retry_after_) retry_after_ = std::string(value);
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  size_t on_body_impl(boost::beast::string_view data, error_code&) override {
    Keep(data);
    return data.size();
  }
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view data, error_code&) override {
    Keep(data);
    return data.size();
  }
  void on_finish_impl(error_code&) override {}

  void Keep(boost::beast::string_view data) {
    if (body_.size() < keep_)
      body_.append(data.data(), std::min(data.size(), keep_ - body_.size()));
  }

  const size_t keep_;
  int status_ = 0;
  std::optional<std::string> retry_after_;
  std::string body_;
};

class Exchange;

}  // namespace

class PlainClient::Impl {
 public:
  Impl(const TransportOptions& options, std::function<void()> on_finished,
       std::function<bool(int)> stops_lane)
      : options_(options),
        on_finished_(std::move(on_finished)),
        stops_lane_(std::move(stops_lane)),
        resolver_(io_) {}

  void Start() {
    thread_ = std::thread([this] {
      NameThisThread("punt-plain-http");
      io_.run();
    });
  }

  void Stop() {
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  void Submit(std::vector<Call> calls) {
    asio::post(io_, [this, calls = std::move(calls)]() mutable {
      for (Call& call : calls) Begin(std::move(call));
    });
  }

  void Withdraw(const std::string& key) {
    asio::post(io_, [this, key] {
      stopped_.erase(key);
      auto it = lanes_.find(key);
      if (it == lanes_.end()) return;
      Lane& lane = it->second;
      WithdrawQueued(lane);
      if (lane.open == 0) lanes_.erase(it);
    });
  }

  std::vector<Finished> TakeFinished() {
    std::lock_guard lock(finished_mutex_);
    return std::exchange(finished_, {});
  }

  // Finished requests are handed over once per turn of the event loop: the
  // first posts a flush that runs after the completions already ready, so
  // the caller is woken once for all of them.
  void Finish(uint64_t tag, TransferResult result, bool withdrawn = false, std::string body = {}) {
    if (finishing_.empty()) asio::post(io_, [this] { Flush(); });
    finishing_.push_back({tag, std::move(result), withdrawn, std::move(body)});
  }

  void Flush() {
    bool was_empty;
    {
      std::lock_guard lock(finished_mutex_);
      was_empty = finished_.empty();
      if (was_empty) {
        finished_.swap(finishing_);
      } else {
        std::move(finishing_.begin(), finishing_.end(), std::back_inserter(finished_));
      }
    }
    finishing_.clear();
    if (was_empty && on_finished_) on_finished_();
  }

  // The URL's parts, parsed once per URL; null for a URL this client does
  // not carry.
  std::shared_ptr<const Address> AddressOf(const std::string& url) {
    auto it = addresses_.find(url);
    if (it != addresses_.end()) return it->second;
    std::optional<Address> parsed = ParseAddress(url);
    if (!parsed) return nullptr;
    if (addresses_.size() >= kMaxAddresses) addresses_.clear();
    auto address = std::make_shared<const Address>(std::move(*parsed));
    addresses_.emplace(url, address);
    return address;
  }

  // The most recently used first: it is the likeliest to be open still.
  // Every one is checked (a syscall per request): one idle for a moment
  // only may hold bytes the receiver sent after its answer.
  std::unique_ptr<Connection> TakeIdle(const std::string& key) {
    auto it = idle_.find(key);
    while (it != idle_.end() && !it->second.empty()) {
      std::unique_ptr<Connection> conn = std::move(it->second.back());
      it->second.pop_back();
      if (conn->LooksOpen()) return conn;
    }
    return nullptr;
  }

  void KeepIdle(const std::string& key, std::unique_ptr<Connection> conn) {
    auto& pool = idle_[key];
    if (pool.size() >= kMaxIdlePerHost) return;
    conn->idle_since = std::chrono::steady_clock::now();
    pool.push_back(std::move(conn));
    if (!reaper_armed_) ArmReaper();
  }

  // Idle connections not taken again within options_.keep_idle_ms are
  // closed: a receiver no subscription sends to any more (moved, deleted)
  // would otherwise keep its connections, and their file descriptors, open
  // for good, half-closed once the receiver times them out. A pool is in the
  // order its connections went idle, the oldest first: the timer is armed
  // for the oldest of all.
  void ArmReaper() {
    std::optional<std::chrono::steady_clock::time_point> oldest;
    for (const auto& [key, pool] : idle_) {  // TakeIdle may leave a pool empty
      if (!pool.empty() && (!oldest || pool.front()->idle_since < *oldest)) {
        oldest = pool.front()->idle_since;
      }
    }
    reaper_armed_ = oldest.has_value();
    if (!reaper_armed_) return;
    reaper_.expires_at(*oldest + std::chrono::milliseconds(options_.keep_idle_ms));
    reaper_.async_wait([this](const error_code& ec) {
      if (!ec) Reap();
    });
  }
  void Reap() {
    const auto oldest_kept =
        std::chrono::steady_clock::now() - std::chrono::milliseconds(options_.keep_idle_ms);
    for (auto it = idle_.begin(); it != idle_.end();) {
      auto& pool = it->second;
      auto kept = std::find_if(pool.begin(), pool.end(),
                               [&](const auto& conn) { return conn->idle_since > oldest_kept; });
      pool.erase(pool.begin(), kept);
      it = pool.empty() ? idle_.erase(it) : std::next(it);
    }
    ArmReaper();
  }

  // A lane's open requests and those waiting for one of its slots.
  struct Lane {
    std::string key;
    int limit = 1;
    int open = 0;
    std::deque<Call> queued;
    bool pumping = false;  // a Pump's loop runs: a nested one leaves the work to it
  };

  // Takes a call in: at once, or into its lane's queue.
  void Begin(Call call);
  // Starts a call's exchange; `lane`, if any, counts it as open.
  void Launch(Call call, Lane* lane);
  // Starts the lane's queued calls while it has slots; forgets an idle lane.
  void Pump(Lane* lane);
  // One of the lane's exchanges is done (Exchange::Done), with `status`.
  void Release(Lane* lane, int status) {
    --lane->open;
    if (stops_lane_ && stops_lane_(status)) {
      WithdrawQueued(*lane);
      stopped_.insert(lane->key);
    }
    Pump(lane);
  }
  // Hands the lane's calls not yet started back, withdrawn.
  void WithdrawQueued(Lane& lane) {
    for (Call& call : lane.queued) {
      Finish(call.tag, {}, /*withdrawn=*/true, std::move(call.request.body));
    }
    lane.queued.clear();
  }

  // The total timeout's bookkeeping. Every exchange gets the same timeout,
  // so the open ones, kept in the order they started, are in the order of
  // their deadlines: one timer, armed for the oldest, serves them all
  // instead of a timer armed and cancelled per request.
  void Track(Exchange* exchange);
  void Untrack(Exchange* exchange);
  void ArmDeadline();
  void OnDeadline();

  // The open exchanges, oldest first (an intrusive list through Exchange).
  Exchange* oldest_ = nullptr;
  Exchange* newest_ = nullptr;
  const TransportOptions& options_;
  std::function<void()> on_finished_;
  std::function<bool(int)> stops_lane_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  tcp::resolver resolver_;
  std::thread thread_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
  std::unordered_map<std::string, std::shared_ptr<const Address>> addresses_;
  std::vector<Finished> finishing_;  // the client's thread's, not yet handed over
  std::mutex finished_mutex_;
  std::vector<Finished> finished_;
  asio::steady_timer deadline_{io_};  // armed for oldest_'s deadline, while any is open
  bool deadline_armed_ = false;
  asio::steady_timer reaper_{io_};  // armed while idle_ holds a connection
  bool reaper_armed_ = false;
  std::unordered_map<std::string, Lane> lanes_;  // pointers to them stay valid
  // Lanes a stop answer stopped, until the caller's Withdraw: kept apart
  // from lanes_, which forgets an idle lane.
  std::unordered_set<std::string> stopped_;
};

namespace {

// One request from start to answer (or failure), on the client's thread.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  // The request head is written out here, in one string: every value in it
  // was checked for line breaks (OutgoingRequest::AddHeader; a refused
  // request fails at Start), and the body goes after it as is.
  Exchange(PlainClient::Impl& client, uint64_t tag, std::shared_ptr<const Address> address,
           OutgoingRequest request, PlainClient::Impl::Lane* lane)
      : client_(client),
        tag_(tag),
        lane_(lane),
        address_holder_(std::move(address)),
        address_(*address_holder_),
        body_(std::move(request.body)) {
    head_.reserve(160 + address_.target.size() + address_.host_header.size() +
                  request.header_lines.size());
    head_.append("POST ").append(address_.target).append(" HTTP/1.1\r\nHost: ");
    head_.append(address_.host_header).append("\r\nUser-Agent: punt/" PUNT_VERSION "\r\n");
    head_.append(request.header_lines);
    head_.append("Content-Length: ").append(std::to_string(body_.size())).append("\r\n\r\n");
  }

  ~Exchange() { client_.Untrack(this); }  // abandoned at Stop without Done

  void Start(const std::string& refused) {
    start_ = std::chrono::steady_clock::now();
    if (!refused.empty()) return Fail(refused);
    deadline_at_ = start_ + std::chrono::milliseconds(client_.options_.total_timeout_ms);
    client_.Track(this);
    conn_ = client_.TakeIdle(address_.key);
    if (conn_) {
      reused_ = true;
      return Write();
    }
    Resolve();
  }

 private:
  void Resolve() {
    client_.resolver_.async_resolve(
        address_.host, address_.port, tcp::resolver::numeric_service,
        [self = shared_from_this()](const error_code& ec, tcp::resolver::results_type results) {
          self->OnResolved(ec, std::move(results));
        });
  }

  void OnResolved(const error_code& ec, tcp::resolver::results_type results) {
    if (done_) return;
    if (ec) return Fail("could not resolve host " + address_.host + ": " + ec.message());
    std::vector<tcp::endpoint> allowed;
    std::string refused;
    for (const auto& entry : results) {
      const tcp::endpoint& endpoint = entry.endpoint();
      const DestinationGuard* guard = client_.options_.guard;
      if (guard && !guard->Allows(endpoint.address())) {
        if (refused.empty()) refused = endpoint.address().to_string();
      } else {
        allowed.push_back(endpoint);
      }
    }
    if (allowed.empty()) {
      if (refused.empty()) return Fail("could not resolve host " + address_.host);
      return Fail("destination refused: " + refused +
                  " is not a public address and no --allow-destination range holds it");
    }
    conn_ = std::make_unique<Connection>(client_.io_);
    // New connections are rare beside kept-alive ones: their timer is made
    // only for them.
    if (!connect_deadline_) connect_deadline_.emplace(client_.io_);
    connect_deadline_->expires_after(
        std::chrono::milliseconds(client_.options_.connect_timeout_ms));
    // The timer's handler may be queued already (it expired) when the
    // connect's runs and cancels it, and then sees no error: `connecting_`
    // says which of the two came first.
    connecting_ = true;
    connect_deadline_->async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec && self->connecting_)
        self->TimedOut("connection to " + self->address_.host_header + " timed out after " +
                       std::to_string(self->client_.options_.connect_timeout_ms) + " ms");
    });
    asio::async_connect(conn_->socket, allowed,
                        [self = shared_from_this()](const error_code& ec, const tcp::endpoint&) {
                          self->OnConnected(ec);
                        });
  }

  void OnConnected(const error_code& ec) {
    connecting_ = false;
    connect_deadline_->cancel();
    if (done_) return;
    if (ec) return Fail("could not connect to " + address_.host_header + ": " + ec.message());
    error_code ignored;
    conn_->socket.set_option(tcp::no_delay(true), ignored);
    Write();
  }

  void Write() {
    std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(body_)};
    asio::async_write(conn_->socket, buffers,
                      [self = shared_from_this()](const error_code& ec, size_t) {
                        self->OnWritten(ec);
                      });
  }

  void OnWritten(const error_code& ec) {
    if (done_) return;
    if (ec) {
      // The receiver may have answered before reading the whole body (a 413)
      // and closed: that answer, if it came whole, counts, as libcurl reads
      // it. Otherwise the write's error decides.
      write_error_ = ec;
      if (ClosedBeforeAnswer(ec)) return ReadAnswer();
      return RetryOrFail(ec, "sending the request failed: ");
    }
    ReadAnswer();
  }

  void ReadAnswer() {
    parser_.emplace(client_.options_.response_keep);
    http::async_read(conn_->socket, conn_->buffer, *parser_,
                     [self = shared_from_this()](const error_code& ec, size_t) {
                       self->OnRead(ec);
                     });
  }

  void OnRead(const error_code& ec) {
    if (done_) return;
    if (ec && write_error_) {
      if (parser_->got_some()) return Fail("reading the answer failed: " + ec.message());
      return RetryOrFail(write_error_, "sending the request failed: ");
    }
    if (ec) return RetryOrFail(ec, "reading the answer failed: ");
    // An interim answer (100 Continue, 102, 103 Early Hints) is not the
    // answer: the final one follows on this connection (as libcurl reads
    // it). 101 Switching Protocols is final, and ends the connection's HTTP.
    const int status = parser_->status();
    if (status >= 100 && status < 200 && status != 101) {
      interim_ = true;
      return ReadAnswer();
    }
    TransferResult result;
    result.status = parser_->status();
    result.retry_after = std::move(parser_->retry_after());
    result.response = std::move(parser_->body());
    if (!write_error_ && status != 101 && parser_->keep_alive() && !parser_->need_eof()) {
      conn_->buffer.consume(conn_->buffer.size());
      client_.KeepIdle(address_.key, std::move(conn_));
    }
    Done(std::move(result));
  }

  // A reused connection the receiver closed before answering: once more on
  // a new one. Anything else is the attempt's failure.
  void RetryOrFail(const error_code& ec, const std::string& what) {
    bool answered = interim_ || (parser_ && parser_->got_some());
    if (reused_ && !answered && ClosedBeforeAnswer(ec)) {
      reused_ = false;
      write_error_ = {};
      conn_.reset();
      parser_.reset();
      return Resolve();
    }
    Fail(what + ec.message());
  }

  // The total timeout passed (Impl::OnDeadline).
  void TimedOut() {
    TimedOut("timed out after " + std::to_string(client_.options_.total_timeout_ms) +
             " ms without a complete answer");
  }

  void TimedOut(const std::string& error) {
    if (done_) return;
    Fail(error);
  }

  void Fail(const std::string& error) {
    TransferResult result;
    result.error = error;
    Done(std::move(result));
  }

  void Done(TransferResult result) {
    done_ = true;
    client_.Untrack(this);
    if (connect_deadline_) connect_deadline_->cancel();
    if (conn_) {  // a failed exchange leaves its connection unusable
      // Closed, not destroyed: an operation still open gets its handler
      // called (which sees done_) and may touch the buffer until then.
      error_code ignored;
      conn_->socket.close(ignored);
    }
    auto elapsed = std::chrono::steady_clock::now() - start_;
    result.latency_ms =
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
    const int status = result.status;
    client_.Finish(tag_, std::move(result));
    if (lane_) client_.Release(lane_, status);  // its next request may start now
  }

  PlainClient::Impl& client_;
  const uint64_t tag_;
  PlainClient::Impl::Lane* const lane_;
  const std::shared_ptr<const Address> address_holder_;
  const Address& address_;
  std::string head_;
  const std::string body_;
  std::optional<KeptAnswerParser> parser_;
  std::unique_ptr<Connection> conn_;
  std::optional<asio::steady_timer> connect_deadline_;
  std::chrono::steady_clock::time_point start_;
  bool reused_ = false;
  bool connecting_ = false;  // a connect is open: its timer's expiry times it out
  error_code write_error_;  // the request was not sent whole
  bool interim_ = false;  // an interim (1xx) answer came: the receiver has the request
  bool done_ = false;

  // Impl's list of open exchanges, oldest first.
  friend class PlainClient::Impl;
  std::chrono::steady_clock::time_point deadline_at_;
  Exchange* older_ = nullptr;
  Exchange* newer_ = nullptr;
  bool tracked_ = false;
};

}  // namespace

void PlainClient::Impl::Track(Exchange* exchange) {
  exchange->older_ = newest_;
  exchange->newer_ = nullptr;
  (newest_ ? newest_->newer_ : oldest_) = exchange;
  newest_ = exchange;
  exchange->tracked_ = true;
  if (!deadline_armed_) ArmDeadline();
}

void PlainClient::Impl::Untrack(Exchange* exchange) {
  if (!exchange->tracked_) return;
  exchange->tracked_ = false;
  (exchange->older_ ? exchange->older_->newer_ : oldest_) = exchange->newer_;
  (exchange->newer_ ? exchange->newer_->older_ : newest_) = exchange->older_;
  exchange->older_ = exchange->newer_ = nullptr;
  // The timer stays armed for the old deadline: when it fires, it re-arms
  // for whichever exchange is the oldest then.
}

void PlainClient::Impl::ArmDeadline() {
  deadline_armed_ = oldest_ != nullptr;
  if (!deadline_armed_) return;
  deadline_.expires_at(oldest_->deadline_at_);
  deadline_.async_wait([this](const error_code& ec) {
    if (!ec) OnDeadline();
  });
}

void PlainClient::Impl::OnDeadline() {
  const auto now = std::chrono::steady_clock::now();
  while (oldest_ && oldest_->deadline_at_ <= now) {
    // Alive while it fails: its open operation's handler holds it too.
    std::shared_ptr<Exchange> expired = oldest_->shared_from_this();
    Untrack(expired.get());  // Done would, but only if not done already
    expired->TimedOut();
  }
  ArmDeadline();
}

void PlainClient::Impl::Begin(Call call) {
  if (call.lane.empty()) return Launch(std::move(call), nullptr);
  if (stopped_.count(call.lane)) {
    return Finish(call.tag, {}, /*withdrawn=*/true, std::move(call.request.body));
  }
  auto [it, added] = lanes_.try_emplace(call.lane);
  Lane& lane = it->second;
  if (added) lane.key = call.lane;
  lane.limit = std::max(call.lane_limit, 1);
  lane.queued.push_back(std::move(call));
  Pump(&lane);
}

void PlainClient::Impl::Pump(Lane* lane) {
  // An exchange that fails as it starts releases its slot from within
  // Launch: the loop below, further up the stack, goes on from there.
  if (lane->pumping) return;
  lane->pumping = true;
  while (lane->open < lane->limit && !lane->queued.empty()) {
    Call call = std::move(lane->queued.front());
    lane->queued.pop_front();
    Launch(std::move(call), lane);
  }
  lane->pumping = false;
  if (lane->open == 0 && lane->queued.empty()) lanes_.erase(lane->key);
}

void PlainClient::Impl::Launch(Call call, Lane* lane) {
  std::shared_ptr<const Address> address = AddressOf(call.request.url);
  if (address == nullptr) {
    TransferResult result;
    result.error = "not a plain http:// URL: " + call.request.url;
    return Finish(call.tag, std::move(result));
  }
  if (lane) ++lane->open;
  std::string refused = std::move(call.request.refused);
  auto exchange = std::make_shared<Exchange>(*this, call.tag, std::move(address),
                                             std::move(call.request), lane);
  exchange->Start(refused);
}

PlainClient::PlainClient(const TransportOptions& options, std::function<void()> on_finished,
                         std::function<bool(int)> stops_lane)
    : impl_(std::make_unique<Impl>(options, std::move(on_finished), std::move(stops_lane))) {}

PlainClient::~PlainClient() { Stop(); }

bool PlainClient::Carries(const std::string& url) { return ParseAddress(url).has_value(); }

void PlainClient::Start() { impl_->Start(); }

void PlainClient::Stop() { impl_->Stop(); }

void PlainClient::Submit(std::vector<Call> calls) { impl_->Submit(std::move(calls)); }

void PlainClient::Withdraw(const std::string& lane) { impl_->Withdraw(lane); }

std::vector<PlainClient::Finished> PlainClient::TakeFinished() { return impl_->TakeFinished(); }

}  // namespace punt::delivery
