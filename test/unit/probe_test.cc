// The test button's request (delivery/probe.h): what it sends, and that the
// destination guard holds for it as for deliveries.
#include "delivery/probe.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace punt::delivery
