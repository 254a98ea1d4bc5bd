// A read that fails is told apart from "not found": in the store (the
// `failed` status of each read) and in the API (503, not 404 or 401).
#include <gtest/gtest.h>

#include <string>

#include "api/context.h"
#include "api/http/router.h"
#include "api/routes.h"
#include "security/api_keys.h"
#include "security/sealer.h"
#include "store_fixture.h"

namespace punt::store::testing {
namespace {

class ReadFailureTest : public StoreFixture {
 protected:
  void FailReads(bool fail) {
    static_cast<sqlite::SqliteStore&>(*store_).readers_for_test().FailForTest(fail);
  }
};

TEST_F(ReadFailureTest, EachReadSaysWhetherItFailedOrFoundNothing) {
  CreateOrg("acme");
  CreateSub("acme", "sub_1", SubscriptionKind::kWebhook, {"*"});
  DeliveryQuery query;
  query.org_id = "acme";
  query.subscription_id = "sub_1";

  // Not there: nothing found, nothing failed.
  Status failed;
  EXPECT_FALSE(store_->GetSubscription("acme", "sub_missing", &failed));
  EXPECT_FALSE(store_->GetOrg("nobody", &failed));
  EXPECT_FALSE(store_->FindApiKey("hash_nobody", &failed));
  EXPECT_FALSE(store_->GetDelivery("acme", 12345, &failed));
  EXPECT_TRUE(store_->CountDeliveries("acme", "sub_missing", &failed).empty());
  EXPECT_TRUE(failed.ok()) << failed.message;

  FailReads(true);
  auto expect_failed = [](const Status& s, const char* what) {
    EXPECT_EQ(s.code, Status::Code::kFailed) << what;
    EXPECT_NE(s.message.find("cannot read"), std::string::npos) << what << ": " << s.message;
  };
  Status f1, f2, f3, f4, f5, f6, f7;
  EXPECT_FALSE(store_->GetSubscription("acme", "sub_1", &f1));
  expect_failed(f1, "GetSubscription");
  EXPECT_TRUE(store_->ListSubscriptions("acme", &f2).empty());
  expect_failed(f2, "ListSubscriptions");
  EXPECT_FALSE(store_->GetOrg("other", &f3));  // "acme" may be cached: another one
  expect_failed(f3, "GetOrg");
  EXPECT_FALSE(store_->FindApiKey("hash_other", &f4));
  expect_failed(f4, "FindApiKey");
  EXPECT_TRUE(store_->ListDeliveries(query, &f5).empty());
  expect_failed(f5, "ListDeliveries");
  EXPECT_FALSE(store_->GetDelivery("acme", 1, &f6));
  expect_failed(f6, "GetDelivery");
  EXPECT_TRUE(store_->CountDeliveries("acme", "sub_1", &f7).empty());
  expect_failed(f7, "CountDeliveries");

  FailReads(false);
  Status again;
  EXPECT_TRUE(store_->GetSubscription("acme", "sub_1", &again));
  EXPECT_TRUE(again.ok()) << again.message;
}

// The API answers a read it could not make with 503, which a client retries,
// never with 404 or 401, which tell it its subscription or key is gone.
TEST_F(ReadFailureTest, TheApiAnswersAnUnreadableStoreWith503) {
  const std::string key = security::GenerateApiKey();
  const std::string other_key = security::GenerateApiKey();
  ASSERT_TRUE(store_
                  ->CreateOrg({.id = "acme", .name = "Acme", .platform_url = "https://acme.test"},
                              {.id = "key_a", .org_id = "acme", .hash = security::HashApiKey(key)})
                  .ok());
  ASSERT_TRUE(
      store_
          ->CreateOrg({.id = "beta", .name = "Beta", .platform_url = "https://beta.test"},
                      {.id = "key_b", .org_id = "beta", .hash = security::HashApiKey(other_key)})
          .ok());
  CreateSub("acme", "sub_1", SubscriptionKind::kWebhook, {"*"});

  std::optional<security::Sealer> sealer = security::Sealer::FromKey(std::string(32, 'k'));
  ASSERT_TRUE(sealer);
  api::Context ctx{*store_, *sealer, clock_, "admin-key", {}};
  http::Router router;
  api::AddSubscriptionRoutes(router, ctx);
  api::AddDeliveryRoutes(router, ctx);
  auto call = [&](const std::string& path, const std::string& bearer) {
    http::Request request;
    request.method = "GET";
    request.path = path;
    request.headers = {{"Authorization", "Bearer " + bearer}};
    unsigned status = 0;
    router.Dispatch(request, path, [&](http::Response response) { status = response.status; });
    return status;
  };

  EXPECT_EQ(call("/v1/subscriptions/sub_1", key), 200u);  // the key is now cached
  EXPECT_EQ(call("/v1/subscriptions/sub_missing", key), 404u);
  EXPECT_EQ(call("/v1/subscriptions/sub_1", "not-a-key"), 401u);

  FailReads(true);
  EXPECT_EQ(call("/v1/subscriptions/sub_1", key), 503u);
  EXPECT_EQ(call("/v1/subscriptions", key), 503u);
  EXPECT_EQ(call("/v1/subscriptions/sub_1/deliveries", key), 503u);
  EXPECT_EQ(call("/v1/deliveries/1", key), 503u);
  EXPECT_EQ(call("/v1/subscriptions/sub_1", other_key), 503u);  // its key never read: not 401

  FailReads(false);
  EXPECT_EQ(call("/v1/subscriptions/sub_1", key), 200u);
}

// Once a commit failed the store refuses every write until a restart:
// /healthz says so (a supervisor restarts a punt that fails it), where it
// answered 200 while every ingest got 503.
TEST_F(ReadFailureTest, HealthzFailsOnceTheStoreRefusesWrites) {
  std::optional<security::Sealer> sealer = security::Sealer::FromKey(std::string(32, 'k'));
  ASSERT_TRUE(sealer);
  api::Context ctx{*store_, *sealer, clock_, "admin-key", {}};
  http::Router router;
  api::AddMetaRoutes(router, ctx);
  auto healthz = [&] {
    http::Request request;
    request.method = "GET";
    request.path = "/healthz";
    http::Response answer;
    router.Dispatch(request, request.path, [&](http::Response r) { answer = std::move(r); });
    return answer;
  };
  EXPECT_EQ(healthz().status, 200u);
  EXPECT_EQ(store_->WriteRefusal(), "");

  CreateOrg("acme");
  static_cast<sqlite::SqliteStore&>(*store_).writer_for_test().FailNextCommitForTest();
  EXPECT_FALSE(store_->UpdateOrg(*store_->GetOrg("acme")).ok());
  http::Response failing = healthz();
  EXPECT_EQ(failing.status, 503u);
  EXPECT_NE(failing.body.find("\"failing\""), std::string::npos) << failing.body;
  EXPECT_NE(failing.body.find("injected commit failure"), std::string::npos) << failing.body;
  EXPECT_EQ(store_->WriteRefusal(), "injected commit failure");
}

}  // namespace
}  // namespace punt::store::testing
