#include <gtest/gtest.h>
#include <poll.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <cerrno>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/http/router.h"
#include "api/http/server.h"
#include "api/http/wire.h"
#include "util/json.h"
#include "util/log.h"

namespace punt::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;
using ClientResponse = bhttp::response<bhttp::string_body>;

// A blocking HTTP/1.1 client on one connection.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  void Send(bhttp::verb method, std::string target, std::string body = "", bool keep_alive = true) {
    bhttp::request<bhttp::string_body> request(method, target, 11);
    request.set(bhttp::field::host, "127.0.0.1");
    if (!body.empty()) request.set(bhttp::field::content_type, "application/json");
    request.body() = std::move(body);
    request.keep_alive(keep_alive);
    request.prepare_payload();
    bhttp::write(socket_, request);
  }

  ClientResponse Read() {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(8 << 20);
    bhttp::read(socket_, buffer_, parser);
    return parser.release();
  }

  ClientResponse Call(bhttp::verb method, std::string target, std::string body = "") {
    Send(method, std::move(target), std::move(body));
    return Read();
  }

  void WriteRaw(std::string_view bytes) { asio::write(socket_, asio::buffer(bytes)); }

  // Everything until the server closes the connection.
  std::string ReadToEnd() {
    std::string out(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    buffer_.consume(buffer_.size());
    boost::system::error_code ec;
    char chunk[4096];
    while (true) {
      size_t n = socket_.read_some(asio::buffer(chunk), ec);
      out.append(chunk, n);
      if (ec) break;
    }
    return out;
  }

  // Whether the server closes the connection within `bound`; what it sent
  // before closing goes to *got. The bound only keeps a server that never
  // closes from hanging the test: it is no speed target.
  bool ClosesWithin(std::chrono::milliseconds bound, std::string* got) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      pollfd readable{socket_.native_handle(), POLLIN, 0};
      int ready = ::poll(&readable, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno != EINTR) return false;
      if (ready <= 0) continue;
      boost::system::error_code ec;
      char chunk[4096];
      size_t n = socket_.read_some(asio::buffer(chunk), ec);
      got->append(chunk, n);
      if (ec) return true;
    }
  }

  tcp::socket& socket() { return socket_; }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

boost::json::object BodyJson(const ClientResponse& response) {
  return boost::json::parse(response.body()).as_object();
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/healthz", [](Request&, Respond respond) {
      respond(Json(200, {{"status", "ok"}}));
    });
    router_.Add("POST", "/echo", [](Request& request, Respond respond) {
      respond(Text(200, std::move(request.body), std::string(request.Header("content-type"))));
    });
    router_.Add("GET", "/v1/subscriptions/{id}/deliveries", [](Request& request, Respond respond) {
      boost::json::object query, params;
      for (auto& [k, v] : request.query) query[k] = v;
      for (auto& [k, v] : request.params) params[k] = v;
      respond(Json(200, {{"path", request.path}, {"params", params}, {"query", query}}));
    });
    router_.Add("GET", "/later", [this](Request&, Respond respond) {
      RespondLater(std::chrono::milliseconds(20), std::move(respond));
    });
    // Answers once the test calls release_slow_.set_value().
    router_.Add("GET", "/slow", [this](Request&, Respond respond) {
      slow_started_.set_value();
      std::lock_guard lock(mu_);
      threads_.emplace_back(
          [released = release_slow_.get_future().share(), respond = std::move(respond)] {
            released.wait();
            respond(Json(200, {{"late", true}}));
          });
    });
    router_.Add("GET", "/throw",
                [](Request&, Respond) -> void { throw std::runtime_error("boom"); });
    router_.Add("GET", "/forget", [](Request&, Respond) {});
    previous_sink_ = SetLogSink([this](std::string_view line) {
      std::lock_guard lock(mu_);
      log_lines_.emplace_back(line);
    });
  }

  void TearDown() override {
    if (server_) server_->Stop(0ms);
    try {
      release_slow_.set_value();  // a test that failed before releasing /slow
    } catch (const std::future_error&) {
    }
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      threads.swap(threads_);
    }
    for (auto& thread : threads) thread.join();
    SetLogSink(std::move(previous_sink_));
  }

  void StartServer(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<Server>(router_, options);
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
    ASSERT_NE(server_->port(), 0);
  }

  void RespondLater(std::chrono::milliseconds delay, Respond respond) {
    std::lock_guard lock(mu_);
    threads_.emplace_back([delay, respond = std::move(respond)] {
      std::this_thread::sleep_for(delay);
      respond(Json(200, {{"late", true}}));
    });
  }

  std::vector<std::string> LogLines() {
    std::lock_guard lock(mu_);
    return log_lines_;
  }

  Router router_;
  std::unique_ptr<Server> server_;
  std::promise<void> slow_started_;
  std::promise<void> release_slow_;
  std::mutex mu_;
  std::vector<std::thread> threads_;    // Guarded by mu_.
  std::vector<std::string> log_lines_;  // Guarded by mu_.
  LogSink previous_sink_;
};

TEST_F(HttpServerTest, ServesJsonWithStandardHeaders) {
  StartServer();
  Client client(server_->port());
  auto response = client.Call(bhttp::verb::get, "/healthz");
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response.body(), R"({"status":"ok"})");
  EXPECT_EQ(response[bhttp::field::content_type], "application/json");
  EXPECT_EQ(response[bhttp::field::content_length], "15");
  EXPECT_EQ(response[bhttp::field::server], "punt");
  EXPECT_TRUE(response.keep_alive());
}

TEST_F(HttpServerTest, FillsPathParamsAndDecodesQuery) {
  StartServer();
  Client client(server_->port());
  auto response = client.Call(bhttp::verb::get,
                              "/v1/subscriptions/sub%201/deliveries?state=dead&limit=5"
                              "&cursor=a%20b&plus=c+d&empty");
  ASSERT_EQ(response.result_int(), 200u) << response.body();
  auto body = BodyJson(response);
  EXPECT_EQ(body["path"], "/v1/subscriptions/sub 1/deliveries");
  EXPECT_EQ(ToJson(body["params"]), R"({"id":"sub 1"})");
  EXPECT_EQ(ToJson(body["query"]),
            R"({"cursor":"a b","empty":"","limit":"5","plus":"c d","state":"dead"})");
}

TEST_F(HttpServerTest, AnswersUnknownPathWith404AndWrongMethodWith405) {
  StartServer();
  Client client(server_->port());
  auto not_found = client.Call(bhttp::verb::get, "/nope");
  EXPECT_EQ(not_found.result_int(), 404u);
  EXPECT_EQ(not_found.body(),
            R"({"error":{"code":"not_found","message":"no such resource","fields":[]}})");
  auto wrong_method = client.Call(bhttp::verb::delete_, "/healthz");
  EXPECT_EQ(wrong_method.result_int(), 405u);
  EXPECT_EQ(wrong_method[bhttp::field::allow], "GET, HEAD");
  EXPECT_EQ(BodyJson(wrong_method)["error"].at("code"), "method_not_allowed");
  EXPECT_EQ(client.Call(bhttp::verb::get, "/healthz").result_int(), 200u);  // Still open.
}

TEST_F(HttpServerTest, AcceptsBodyAtTheLimitAndRejectsOneByteMoreWith413) {
  StartServer();
  Client client(server_->port());
  auto at_limit = client.Call(bhttp::verb::post, "/echo", std::string(1 << 20, 'a'));
  EXPECT_EQ(at_limit.result_int(), 200u);
  EXPECT_EQ(at_limit.body().size(), size_t{1} << 20);

  auto over = client.Call(bhttp::verb::post, "/echo", std::string((1 << 20) + 1, 'a'));
  EXPECT_EQ(over.result_int(), 413u);
  EXPECT_EQ(BodyJson(over)["error"].at("code"), "payload_too_large");
  EXPECT_FALSE(over.keep_alive());
}

// The read buffer grows for a large body and shrinks back once it is empty;
// neither loses or mixes bytes of the requests around it.
TEST_F(HttpServerTest, ServesLargeAndSmallBodiesInTurnOnOneConnection) {
  StartServer();
  Client client(server_->port());
  for (size_t size : {size_t{1} << 20, size_t{10}, size_t{200} << 10, size_t{1} << 10, size_t{0}}) {
    std::string body(size, static_cast<char>('a' + size % 26));
    auto response = client.Call(bhttp::verb::post, "/echo", body);
    ASSERT_EQ(response.result_int(), 200u) << size;
    EXPECT_EQ(response.body(), body) << size;
  }
  std::string big(300 << 10, 'x');
  client.WriteRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: " +
                  std::to_string(big.size()) + "\r\n\r\n" + big +
                  "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                  "Content-Length: 5\r\n\r\nsmall");
  EXPECT_EQ(client.Read().body(), big);
  EXPECT_EQ(client.Read().body(), "small");
}

TEST_F(HttpServerTest, MalformedRequestLineGets400AndClose) {
  StartServer();
  Client client(server_->port());
  client.WriteRaw("GET /healthz HTTP/1.1 extra\r\nHost: x\r\n\r\n");
  std::string raw = client.ReadToEnd();
  EXPECT_EQ(raw.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << raw;
  EXPECT_NE(raw.find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(raw.find(R"("code":"bad_request")"), std::string::npos);
}

TEST_F(HttpServerTest, ServesManyRequestsOnOneKeepAliveConnection) {
  StartServer();
  Client client(server_->port());
  for (int i = 0; i < 100; ++i) {
    auto response = client.Call(bhttp::verb::get, "/healthz");
    ASSERT_EQ(response.result_int(), 200u) << i;
  }
  EXPECT_GE(server_->requests(), 100u);
}

// Each thread runs an io_context of its own and takes new connections in
// turn: a connection's requests are all handled on one thread, and two
// connections opened one after the other on different threads.
TEST_F(HttpServerTest, ConnectionsGoToTheThreadsInTurnAndStayOnTheirs) {
  std::mutex mu;
  std::vector<std::thread::id> handled_on;  // per request, in order
  router_.Add("GET", "/thread", [&](Request&, Respond respond) {
    {
      std::lock_guard lock(mu);
      handled_on.push_back(std::this_thread::get_id());
    }
    respond(Json(200, {{"ok", true}}));
  });
  ServerOptions options;
  options.threads = 2;
  StartServer(options);
  Client first(server_->port());
  for (int i = 0; i < 5; ++i) ASSERT_EQ(first.Call(bhttp::verb::get, "/thread").result_int(), 200u);
  Client second(server_->port());
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(second.Call(bhttp::verb::get, "/thread").result_int(), 200u);
  }
  std::lock_guard lock(mu);
  ASSERT_EQ(handled_on.size(), 10u);
  std::set<std::thread::id> first_threads(handled_on.begin(), handled_on.begin() + 5);
  std::set<std::thread::id> second_threads(handled_on.begin() + 5, handled_on.end());
  EXPECT_EQ(first_threads.size(), 1u);
  EXPECT_EQ(second_threads.size(), 1u);
  EXPECT_NE(*first_threads.begin(), *second_threads.begin());
  EXPECT_EQ(first_threads.count(std::this_thread::get_id()), 0u);
}

// Regression: HEAD matched no route, and its 405 went out with a body,
// which a client reads as the start of the next answer on the connection.
// HEAD now answers as GET does, with the head only.
TEST_F(HttpServerTest, AnswersHeadWithTheHeadOfGetAndNoBody) {
  StartServer();
  Client client(server_->port());
  const std::string get_body = client.Call(bhttp::verb::get, "/healthz").body();
  ASSERT_FALSE(get_body.empty());
  client.WriteRaw(
      "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string raw = client.ReadToEnd();
  const size_t second = raw.find("HTTP/1.1", 1);
  ASSERT_NE(second, std::string::npos) << raw;
  const std::string head = raw.substr(0, second);
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Length: " + std::to_string(get_body.size()) + "\r\n"),
            std::string::npos)
      << head;
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n") << "a body followed the head: " << head;
  EXPECT_EQ(raw.substr(raw.size() - get_body.size()), get_body);  // the GET, whole
}

TEST_F(HttpServerTest, AnswersPipelinedRequestsInOrder) {
  StartServer();
  Client client(server_->port());
  std::string batch;
  for (int i = 0; i < 10; ++i) {
    batch += "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: " +
             std::to_string(std::to_string(i).size()) + "\r\n\r\n" + std::to_string(i);
  }
  client.WriteRaw(batch);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(client.Read().body(), std::to_string(i));
}

TEST_F(HttpServerTest, HandlerMayRespondFromAnotherThread) {
  StartServer();
  Client client(server_->port());
  for (int i = 0; i < 3; ++i) {
    auto response = client.Call(bhttp::verb::get, "/later");
    EXPECT_EQ(response.result_int(), 200u);
    EXPECT_EQ(response.body(), R"({"late":true})");
  }
}

TEST_F(HttpServerTest, ThrowingHandlerGets500AndTheServerKeepsServing) {
  StartServer();
  Client client(server_->port());
  auto response = client.Call(bhttp::verb::get, "/throw");
  EXPECT_EQ(response.result_int(), 500u);
  EXPECT_EQ(BodyJson(response)["error"].at("code"), "internal");
  EXPECT_EQ(client.Call(bhttp::verb::get, "/healthz").result_int(), 200u);
  auto lines = LogLines();
  ASSERT_FALSE(lines.empty());
  auto line = boost::json::parse(lines.back()).as_object();
  EXPECT_EQ(line["level"], "error");
  EXPECT_EQ(line["path"], "/throw");
  EXPECT_EQ(line["error"], "boom");
}

TEST_F(HttpServerTest, HandlerThatDropsRespondGets500) {
  StartServer();
  Client client(server_->port());
  EXPECT_EQ(client.Call(bhttp::verb::get, "/forget").result_int(), 500u);
  EXPECT_EQ(client.Call(bhttp::verb::get, "/healthz").result_int(), 200u);
}

TEST_F(HttpServerTest, HonoursConnectionClose) {
  StartServer();
  Client client(server_->port());
  client.Send(bhttp::verb::get, "/healthz", "", /*keep_alive=*/false);
  std::string raw = client.ReadToEnd();
  EXPECT_EQ(raw.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << raw;
  EXPECT_NE(raw.find("Connection: close\r\n"), std::string::npos);
}

TEST_F(HttpServerTest, SendsContinueBeforeReadingAnExpectedBody) {
  StartServer();
  Client client(server_->port());
  client.WriteRaw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
      "Expect: 100-continue\r\n\r\n");
  std::string interim(25, '\0');
  asio::read(client.socket(), asio::buffer(interim));
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  client.WriteRaw("hi");
  EXPECT_EQ(client.Read().body(), "hi");
}

TEST_F(HttpServerTest, OversizedHeaderGets431) {
  StartServer({.header_limit = 1024});
  Client client(server_->port());
  client.WriteRaw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2048, 'b') +
                  "\r\n\r\n");
  EXPECT_EQ(client.ReadToEnd().rfind("HTTP/1.1 431 ", 0), 0u);
}

// Beast bounds neither a chunk's size line (its extensions) nor the trailer
// by header_limit or body_limit: without a bound of its own, the read buffer
// took all a client sent, hundreds of MB on one connection.
TEST_F(HttpServerTest, EndlessChunkLineOrTrailerGets413InsteadOfFillingMemory) {
  for (std::string_view start : {"1;ext=", "0\r\nX-Trailer: "}) {
    StartServer(
        {.body_limit = 1024, .idle_timeout = std::chrono::seconds(5), .header_limit = 1024});
    Client client(server_->port());
    client.WriteRaw(std::string("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n") +
                    std::string(start) + std::string(1 << 20, 'a'));
    std::string raw = client.ReadToEnd();
    EXPECT_EQ(raw.rfind("HTTP/1.1 413 ", 0), 0u) << start << ": " << raw;
    server_->Stop(0ms);
  }
}

// The close must come from the idle timer: not before it runs out, and
// within a bound that a server waiting for its 60 s default (or for ever)
// would overrun. How soon after the second it comes is no test's business.
TEST_F(HttpServerTest, ClosesIdleConnectionsAfterTheIdleTimeout) {
  StartServer({.idle_timeout = std::chrono::seconds(1)});
  auto start = std::chrono::steady_clock::now();
  Client client(server_->port());
  std::string got;
  ASSERT_TRUE(client.ClosesWithin(30s, &got)) << "the idle connection was never closed";
  EXPECT_EQ(got, "");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1s);
}

TEST_F(HttpServerTest, StopLetsAnInFlightRequestFinishThenRefusesConnections) {
  StartServer();
  uint16_t port = server_->port();
  auto slow = std::async(std::launch::async, [port] {
    Client client(port);
    return client.Call(bhttp::verb::get, "/slow");
  });
  Client idle(port);  // A keep-alive connection with nothing in flight.
  ASSERT_EQ(idle.Call(bhttp::verb::get, "/healthz").result_int(), 200u);
  slow_started_.get_future().wait();

  // The grace is far longer than any bound below: Stop returns once the
  // request is answered, or this test fails instead of timing anything.
  auto stopped = std::async(std::launch::async, [this] { server_->Stop(2min); });
  EXPECT_EQ(stopped.wait_for(100ms), std::future_status::timeout)
      << "Stop returned while a request was in flight";
  release_slow_.set_value();
  ASSERT_EQ(stopped.wait_for(60s), std::future_status::ready)
      << "Stop waited on after the last request was answered";

  auto response = slow.get();
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response.body(), R"({"late":true})");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_EQ(idle.ReadToEnd(), "");  // Closed by Stop.

  asio::io_context ioc;
  tcp::socket socket(ioc);
  boost::system::error_code ec;
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  EXPECT_EQ(ec, asio::error::connection_refused);
}

TEST_F(HttpServerTest, StartFailsWhenThePortIsTaken) {
  StartServer();
  Server second(router_, {.host = "127.0.0.1", .port = server_->port()});
  std::string error;
  EXPECT_FALSE(second.Start(&error));
  EXPECT_NE(error.find("bind"), std::string::npos) << error;
}

TEST(HttpWire, WritesHeadAndDropsReservedOrUnsafeHeaders) {
  Response response = Json(201, {{"ok", true}});
  response.headers = {{"Location", "/v1/x"}, {"Content-Length", "99"}, {"X-Bad", "a\r\nb"}};
  std::string head;
  WriteResponseHead(head, response, ConnectionHeader::kClose);
  EXPECT_EQ(head,
            "HTTP/1.1 201 Created\r\nServer: punt\r\nContent-Type: application/json\r\n"
            "Content-Length: 11\r\nConnection: close\r\nLocation: /v1/x\r\n\r\n");
  response.status = 204;
  WriteResponseHead(head, response, ConnectionHeader::kNone);
  EXPECT_EQ(head.find("Content-Length"), std::string::npos);
}

TEST(HttpResponse, ErrorHasTheOneShapeWithFields) {
  auto response = Error(422, "invalid_event", "bad event", {{"/3/user/id", "required"}});
  EXPECT_EQ(response.status, 422u);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, R"({"error":{"code":"invalid_event","message":"bad event","fields":)"
                           R"([{"path":"/3/user/id","message":"required"}]}})");
}

// Router on its own: responses are captured synchronously.
Response Route(const Router& router, std::string method, std::string path, Request* out = nullptr) {
  Request request;
  request.method = std::move(method);
  Response result;
  router.Dispatch(request, path, [&](Response response) { result = std::move(response); });
  if (out) *out = request;
  return result;
}

Handler Named(std::string name) {
  return [name](Request&, Respond respond) { respond(Text(200, name)); };
}

TEST(Router, LiteralSegmentBeatsParameter) {
  Router router;
  router.Add("POST", "/v1/subscriptions/{id}", Named("param"));
  router.Add("POST", "/v1/subscriptions/test", Named("literal"));
  EXPECT_EQ(Route(router, "POST", "/v1/subscriptions/test").body, "literal");
  EXPECT_EQ(Route(router, "POST", "/v1/subscriptions/s-1").body, "param");
}

TEST(Router, ParameterIsOneNonEmptyDecodedSegment) {
  Router router;
  router.Add("GET", "/v1/subscriptions/{id}/deliveries", Named("deliveries"));
  Request request;
  EXPECT_EQ(Route(router, "GET", "/v1/subscriptions/a%2Fb/deliveries", &request).body,
            "deliveries");
  EXPECT_EQ(request.params["id"], "a/b");
  EXPECT_EQ(Route(router, "GET", "/v1/subscriptions//deliveries").status, 404u);
  EXPECT_EQ(Route(router, "GET", "/v1/subscriptions/x/deliveries/").status, 404u);
  EXPECT_EQ(Route(router, "GET", "/v1/subscriptions/x").status, 404u);
}

TEST(Router, ListsEveryAllowedMethodOn405) {
  Router router;
  router.Add("GET", "/v1/subscriptions/{id}", Named("get"));
  router.Add("DELETE", "/v1/subscriptions/{id}", Named("delete"));
  router.Add("POST", "/v1/subscriptions/test", Named("test"));
  auto response = Route(router, "PUT", "/v1/subscriptions/test");
  EXPECT_EQ(response.status, 405u);
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].second, "POST, GET, HEAD, DELETE");
  EXPECT_EQ(Route(router, "GET", "/v1/subscriptions/test").body, "get");
}

TEST(Router, RejectsMalformedAndDuplicateRoutes) {
  Router router;
  router.Add("GET", "/a/{id}", Named("a"));
  EXPECT_THROW(router.Add("GET", "/a/{other}", Named("b")), std::invalid_argument);
  EXPECT_THROW(router.Add("GET", "relative", Named("c")), std::invalid_argument);
  EXPECT_THROW(router.Add("GET", "/a/x{y}", Named("d")), std::invalid_argument);
  EXPECT_THROW(router.Add("GET", "/a", nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace punt::http
