// The test button's request (delivery/probe.h): what it sends, and that the
// destination guard holds for it as for deliveries.
#include "delivery/probe.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "api/http/router.h"
#include "api/http/server.h"
#include "net/cidr.h"

namespace punt::delivery {
namespace {

TEST(ProbeTest, TestEventBodyIsAPuntTestEnvelope) {
  EXPECT_EQ(TestEventBody("sub_abc", 1'764'331'200'123),
            R"({"type":"punt.test","timestamp":"2025-11-28T12:00:00.123Z",)"
            R"("data":{"subscription_id":"sub_abc"}})");
}

TEST(ProbeTest, XapiProbeUrlAsksForOneStatement) {
  EXPECT_EQ(XapiProbeUrl("https://lrs.example/xapi/statements"),
            "https://lrs.example/xapi/statements?limit=1");
  EXPECT_EQ(XapiProbeUrl("https://lrs.example/statements?tenant=7"),
            "https://lrs.example/statements?tenant=7&limit=1");
  EXPECT_EQ(XapiProbeUrl("https://lrs.example/statements#x"),
            "https://lrs.example/statements?limit=1");
}

Target LoopbackTarget(store::SubscriptionKind kind) {
  Target t;
  t.id = "sub_probe";
  t.kind = kind;
  t.url = "http://127.0.0.1:9/statements";  // never reached: the guard refuses it
  t.xapi_version = "1.0.3";
  t.signing_keys = {"0123456789abcdef0123456789abcdef"};
  return t;
}

TEST(ProbeTest, NoGuardRefusesLoopback) {
  for (auto kind : {store::SubscriptionKind::kWebhook, store::SubscriptionKind::kXapi}) {
    ProbeResult r = Probe(LoopbackTarget(kind), TransportOptions{}, 1'764'331'200'000);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.error,
              "destination refused: 127.0.0.1 is not a public address and no "
              "--allow-destination range holds it");
  }
}

// The test button refuses a header that would add headers of its own, as a
// delivery does, before anything is resolved or sent.
TEST(ProbeTest, RefusesAHeaderWithALineBreak) {
  for (auto kind : {store::SubscriptionKind::kWebhook, store::SubscriptionKind::kXapi}) {
    Target target = LoopbackTarget(kind);
    target.authorization = "Bearer x\r\nEvil: 1";
    ProbeResult r = Probe(target, TransportOptions{}, 1'764'331'200'000);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.error, "a request header holds a line break");
  }
}

TEST(ProbeTest, AGuardWithoutRangesRefusesLoopback) {
  DestinationGuard guard({});
  TransportOptions options;
  options.guard = &guard;
  ProbeResult r = Probe(LoopbackTarget(store::SubscriptionKind::kWebhook), options, 0);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("destination refused"), std::string::npos) << r.error;
}

TEST(ProbeTest, OnlyHttpAndHttpsAreUsed) {
  Target t = LoopbackTarget(store::SubscriptionKind::kWebhook);
  t.url = "file:///etc/passwd";
  ProbeResult r = Probe(t, TransportOptions{}, 0);
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error.empty());
  EXPECT_TRUE(r.body.empty());
}

// Sets an environment variable for one scope, then puts back what was there.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { old_ ? setenv(name_, old_->c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A loopback port nothing listens on: a proxy there refuses every connection.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// libcurl takes a proxy from the environment unless told otherwise. Through
// one, the guard would check the proxy's address instead of the receiver's,
// and only https would go that way (the plain client uses none): punt uses
// none, whatever the environment says.
TEST(ProbeTest, AProxyFromTheEnvironmentIsNotUsed) {
  http::Router router;
  router.Add("POST", "/hook",
             [](http::Request&, http::Respond respond) { respond(http::Text(204, "")); });
  http::Server receiver(router, http::ServerOptions{});
  std::string error;
  ASSERT_TRUE(receiver.Start(&error)) << error;
  const std::string proxy = "http://127.0.0.1:" + std::to_string(ClosedPort());
  ScopedEnv http_proxy("http_proxy", proxy);
  ScopedEnv all_proxy("ALL_PROXY", proxy);

  DestinationGuard loopback({*net::Cidr::Parse("127.0.0.0/8")});
  TransportOptions options;
  options.guard = &loopback;
  Target t = LoopbackTarget(store::SubscriptionKind::kWebhook);
  t.url = "http://127.0.0.1:" + std::to_string(receiver.port()) + "/hook";
  ProbeResult r = Probe(t, options, 0);
  EXPECT_EQ(r.status, 204) << r.error;
  receiver.Stop(std::chrono::seconds(0));
}

}  // namespace
}  // namespace punt::delivery
