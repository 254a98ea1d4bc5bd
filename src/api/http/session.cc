#include "api/http/session.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/url/parse.hpp>
#include <exception>
#include <utility>

#include "api/http/wire.h"
#include "util/log.h"

namespace punt::http::internal {
namespace {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;
using boost::system::error_code;

constexpr std::chrono::seconds kLinger{1};
constexpr size_t kMaxDrain = 4 << 20;
constexpr size_t kKeepCapacity = 64 << 10;
// Room for a whole request head and a small body in one read: Beast reads
// only max(512, free room) bytes at a time, so an empty buffer would take a
// 1 KiB event in three recv calls.
constexpr size_t kReadRoom = 8 << 10;
// What Beast reads at most at once: bytes of the next pipelined request may
// come in with the end of this one.
constexpr size_t kReadAhead = 64 << 10;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string FormatEndpoint(const asio::ip::tcp::endpoint& endpoint) {
  auto address = endpoint.address();
  std::string text = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return text + ":" + std::to_string(endpoint.port());
}

bool IsParseError(error_code ec) {
  return ec.category() == beast_http::make_error_code(beast_http::error::bad_target).category();
}

void ReleaseIfLarge(std::string& s) {
  if (s.capacity() > kKeepCapacity) std::string().swap(s);
}

// The most a request's unparsed bytes may take in the read buffer. Beast
// bounds the head by header_limit and the body's data by body_limit, but not
// a chunk's size line (its extensions) nor the trailer: this bound refuses
// those too (error::buffer_overflow) instead of buffering all a client sends.
size_t ReadBufferLimit(const ServerOptions& options) {
  return options.header_limit + options.body_limit + kReadAhead;
}

// A buffer grown for a large body goes back to kReadRoom once it is empty
// (pipelined bytes, if any, keep it as it is).
void ReleaseIfLarge(boost::beast::flat_buffer& buffer) {
  if (buffer.capacity() <= kKeepCapacity || buffer.size() != 0) return;
  buffer = boost::beast::flat_buffer(buffer.max_size());
  buffer.reserve(kReadRoom);
}

// Shared by every copy of one request's Respond.
struct Responder {
  explicit Responder(std::shared_ptr<Session> s) : session(std::move(s)) {}
  ~Responder() {
    if (done.load(std::memory_order_acquire)) return;
    LogError("http handler dropped its Respond without calling it");
    session->Deliver(Error(500, "internal", "internal error"));
  }
  std::shared_ptr<Session> session;
  std::atomic<bool> done{false};
};

// A Respond that answers through `responder` once (later calls do nothing).
Respond Through(std::shared_ptr<Responder> responder) {
  return [responder = std::move(responder)](Response response) {
    if (responder->done.exchange(true, std::memory_order_acq_rel)) return;
    responder->session->Deliver(std::move(response));
  };
}

}  // namespace

Session::Session(std::shared_ptr<ServerState> state, Socket socket)
    : state_(std::move(state)),
      socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      buffer_(ReadBufferLimit(state_->options)) {}

Session::~Session() {
  if (!registered_) return;
  std::lock_guard lock(state_->mu);
  state_->sessions.erase(this);
  if (state_->sessions.empty()) state_->sessions_empty.notify_all();
}

void Session::Start() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->OnStart(); });
}

void Session::BeginStop() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->OnStop(); });
}

void Session::ForceClose() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->Close(); });
}

void Session::Deliver(Response response) {
  if (socket_.get_executor().running_in_this_thread()) {
    OnResponse(std::move(response));
    return;
  }
  std::lock_guard lock(state_->mu);
  if (state_->closed) return;  // The threads are gone or going; drop it.
  asio::post(socket_.get_executor(),
             [self = shared_from_this(), r = std::move(response)]() mutable {
               self->OnResponse(std::move(r));
             });
}

void Session::OnStart() {
  {
    std::lock_guard lock(state_->mu);
    registered_ = !state_->stopping;
    if (registered_) state_->sessions.insert(this);
  }
  if (!registered_) {
    Close();
    return;
  }
  error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  auto endpoint = socket_.remote_endpoint(ec);
  if (!ec) remote_ = FormatEndpoint(endpoint);
  buffer_.reserve(kReadRoom);
  ReadRequest();
  ArmTimer();
}

void Session::SetPhase(Phase phase, Clock::duration timeout) {
  phase_ = phase;
  deadline_ = Clock::now() + timeout;
}

void Session::ReadRequest() {
  if (stopping_) {
    Close();
    return;
  }
  SetPhase(Phase::kReading, state_->options.idle_timeout);
  parser_.reset();          // its fields' memory goes back (to the arena: a no-op)
  fields_arena_.release();  // the next request's fields start in fields_space_ again
  parser_.emplace(std::piecewise_construct, std::make_tuple(),
                  std::make_tuple(FieldsAllocator(&fields_arena_)));
  // The body is read into the last request's buffer (OnRequest moved it to
  // request_.body): one allocation per connection instead of per request.
  request_.body.clear();
  parser_->get().body() = std::move(request_.body);
  parser_->header_limit(static_cast<std::uint32_t>(state_->options.header_limit));
  parser_->body_limit(state_->options.body_limit);
  beast_http::async_read_header(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
}

void Session::OnHeader(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec) return OnReadError(ec);
  if (parser_->is_done()) return OnRequest();
  if (EqualsIgnoreCase(parser_->get()[beast_http::field::expect], "100-continue")) {
    asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](error_code ec, size_t) {
                        if (self->phase_ == Phase::kClosed) return;
                        if (ec) return self->Close();
                        self->ReadBody();
                      });
    return;
  }
  ReadBody();
}

void Session::ReadBody() {
  // The declared body in as few reads as the peer's writes allow.
  if (auto length = parser_->content_length()) {
    size_t body = static_cast<size_t>(std::min<uint64_t>(*length, state_->options.body_limit));
    buffer_.reserve(std::min(buffer_.max_size(), buffer_.size() + body));
  }
  beast_http::async_read(socket_, buffer_, *parser_,
                         [self = shared_from_this()](error_code ec, size_t) {
                           if (self->phase_ == Phase::kClosed) return;
                           if (ec) return self->OnReadError(ec);
                           self->OnRequest();
                         });
}

void Session::OnReadError(error_code ec) {
  if (ec == beast_http::error::body_limit) {
    return SendErrorAndClose(
        Error(413, "payload_too_large",
              "request body exceeds " + std::to_string(state_->options.body_limit) + " bytes"));
  }
  if (ec == beast_http::error::buffer_overflow) {
    return SendErrorAndClose(Error(413, "payload_too_large",
                                   "a chunk line or the trailer of the request body is too long"));
  }
  if (ec == beast_http::error::header_limit) {
    return SendErrorAndClose(Error(431, "header_too_large", "request header fields too large"));
  }
  if (IsParseError(ec) && ec != beast_http::error::end_of_stream &&
      ec != beast_http::error::partial_message) {
    return SendErrorAndClose(Error(400, "bad_request", "malformed HTTP request"));
  }
  Close();  // Peer gone, timed out, or we closed it.
}

void Session::OnRequest() {
  auto& message = parser_->get();
  version_ = message.version();
  keep_alive_ = message.keep_alive();
  head_request_ = message.method() == boost::beast::http::verb::head;
  if (state_->options.log_requests) request_start_ = Clock::now();
  SetPhase(Phase::kHandling, state_->options.idle_timeout);
  auto url = boost::urls::parse_origin_form(std::string_view(message.target()));
  if (!url) {
    request_.method.assign(message.method_string());
    request_.path.assign(message.target());
    return OnResponse(Error(400, "bad_request", "malformed request target"));
  }
  request_.method.assign(message.method_string());
  request_.path = url->path();
  request_.query.clear();
  for (auto param : url->params()) request_.query.emplace(param.key, param.value);
  request_.params.clear();
  size_t n = 0;
  for (const auto& field : message) {
    if (n == request_.headers.size()) request_.headers.emplace_back();
    request_.headers[n].first.assign(field.name_string());
    request_.headers[n].second.assign(field.value());
    ++n;
  }
  request_.headers.resize(n);
  request_.body = std::move(message.body());
  request_.remote = remote_;
  Handle(url->encoded_path());
}

void Session::Handle(std::string_view encoded_path) {
  // The handler gets the one Respond (a copy of it is a heap allocation); a
  // throw answers through the responder they share.
  auto responder = std::make_shared<Responder>(shared_from_this());
  try {
    state_->router.Dispatch(request_, encoded_path, Through(responder));
  } catch (const std::exception& e) {
    LogError("http handler threw",
             {{"method", request_.method}, {"path", request_.path}, {"error", e.what()}});
    Through(responder)(Error(500, "internal", "internal error"));
  } catch (...) {
    LogError("http handler threw", {{"method", request_.method}, {"path", request_.path}});
    Through(responder)(Error(500, "internal", "internal error"));
  }
}

void Session::OnResponse(Response response) {
  if (phase_ != Phase::kHandling) return;
  if (state_->options.log_requests) {
    auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - request_start_);
    LogInfo("request", {{"method", request_.method},
                        {"path", request_.path},
                        {"status", response.status},
                        {"us", micros.count()},
                        {"remote", remote_}});
  }
  WriteResponse(std::move(response));
}

void Session::SendErrorAndClose(Response response) {
  keep_alive_ = false;
  head_request_ = false;
  request_.method.clear();
  request_.path.clear();
  if (state_->options.log_requests) request_start_ = Clock::now();
  SetPhase(Phase::kHandling, state_->options.idle_timeout);
  OnResponse(std::move(response));
}

void Session::WriteResponse(Response response) {
  state_->responses.fetch_add(1, std::memory_order_relaxed);
  response.status = NormalizeStatus(response.status);
  close_after_write_ = !keep_alive_ || stopping_;
  ConnectionHeader connection = ConnectionHeader::kNone;
  if (close_after_write_) {
    connection = ConnectionHeader::kClose;
  } else if (version_ < 11) {
    connection = ConnectionHeader::kKeepAlive;
  }
  WriteResponseHead(head_, response, connection);
  // A HEAD's answer ends with its head (RFC 9110 9.3.2): a body after it
  // would be read as the start of the next answer on the connection.
  if (StatusHasNoBody(response.status) || head_request_) {
    body_.clear();
  } else {
    body_ = std::move(response.body);
  }
  SetPhase(Phase::kWriting, state_->options.idle_timeout);
  std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(body_)};
  asio::async_write(socket_, buffers,
                    [self = shared_from_this()](error_code ec, size_t) { self->OnWritten(ec); });
}

void Session::OnWritten(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec) return Close();
  ReleaseIfLarge(body_);
  ReleaseIfLarge(request_.body);
  ReleaseIfLarge(buffer_);
  if (close_after_write_) return LingerAndClose();
  ReadRequest();
}

// Half-closes, then reads until the peer closes too (or kLinger passes), so
// that unread request bytes do not turn our close into a reset that could
// destroy the response before the client reads it.
void Session::LingerAndClose() {
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) return Close();
  SetPhase(Phase::kLingering, kLinger);
  ArmTimer();
  buffer_.clear();
  drained_ = 0;
  Drain();
}

void Session::Drain() {
  socket_.async_read_some(buffer_.prepare(16 << 10),
                          [self = shared_from_this()](error_code ec, size_t n) {
                            if (self->phase_ != Phase::kLingering) return;
                            self->drained_ += n;
                            if (ec || self->drained_ > kMaxDrain) return self->Close();
                            self->Drain();
                          });
}

bool Session::IsIdle() const {
  return phase_ == Phase::kReading && buffer_.size() == 0 && !(parser_ && parser_->got_some());
}

void Session::OnStop() {
  stopping_ = true;
  if (IsIdle()) Close();
  // Otherwise the current request finishes and its response says Connection: close.
}

void Session::ArmTimer() {
  if (phase_ == Phase::kClosed) return;
  timer_.expires_at(deadline_);
  timer_.async_wait([self = shared_from_this()](error_code ec) { self->OnTimer(ec); });
}

void Session::OnTimer(error_code ec) {
  if (ec == asio::error::operation_aborted || phase_ == Phase::kClosed) return;
  if (phase_ == Phase::kHandling) {
    deadline_ = Clock::now() + state_->options.idle_timeout;  // Not idle: the handler works.
  } else if (Clock::now() >= deadline_) {
    return Close();
  }
  ArmTimer();
}

void Session::Close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  error_code ec;
  socket_.close(ec);
  timer_.cancel();
}

}  // namespace punt::http::internal
