#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>
#include <vector>

#include "golden.h"
#include "util/base64.h"
#include "util/event_id.h"
#include "util/json.h"
#include "util/time.h"
#include "webhook/envelope.h"
#include "webhook/signature.h"

namespace punt::webhook {
namespace {

// The reference vector of the Standard Webhooks specification.
constexpr std::string_view kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kMsgId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kTimestamp = 1614265330;
constexpr std::string_view kBody = R"({"test": 2432232314})";
constexpr std::string_view kSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

TEST(WebhookSignature, MatchesStandardWebhooksReferenceVector) {
  auto key = DecodeSecret(kSecret);
  ASSERT_TRUE(key);
  EXPECT_EQ(Sign(*key, kMsgId, kTimestamp, kBody), kSignature);
}

// Each thread keeps keyed contexts: signing again with a key, between
// signatures with other keys, must give the same answer as the first time.
TEST(WebhookSignature, SigningAgainWithAKeyGivesTheSameSignature) {
  auto key = DecodeSecret(kSecret);
  ASSERT_TRUE(key);
  std::string other = "another key of some length";
  std::string other_first = Sign(other, kMsgId, kTimestamp, kBody);
  EXPECT_NE(other_first, kSignature);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Sign(*key, kMsgId, kTimestamp, kBody), kSignature);
    EXPECT_EQ(Sign(other, kMsgId, kTimestamp, kBody), other_first);
    EXPECT_NE(Sign(*key, kMsgId, kTimestamp + 1, kBody), kSignature);
  }
}

TEST(WebhookSignature, VerifiesReferenceVector) {
  EXPECT_EQ(Verify(kSecret, kMsgId, "1614265330", kSignature, kBody, kTimestamp),
            VerifyResult::kOk);
}

TEST(WebhookSignature, RejectsTamperedBodyIdAndTimestamp) {
  EXPECT_EQ(
      Verify(kSecret, kMsgId, "1614265330", kSignature, R"({"test": 2432232315})", kTimestamp),
      VerifyResult::kNoMatchingSignature);
  EXPECT_EQ(Verify(kSecret, "msg_other", "1614265330", kSignature, kBody, kTimestamp),
            VerifyResult::kNoMatchingSignature);
  EXPECT_EQ(Verify(kSecret, kMsgId, "1614265331", kSignature, kBody, kTimestamp),
            VerifyResult::kNoMatchingSignature);
}

TEST(WebhookSignature, ChecksTimestampTolerance) {
  auto verify_at = [](int64_t now) {
    return Verify(kSecret, kMsgId, "1614265330", kSignature, kBody, now);
  };
  EXPECT_EQ(verify_at(kTimestamp + 300), VerifyResult::kOk);
  EXPECT_EQ(verify_at(kTimestamp - 300), VerifyResult::kOk);
  EXPECT_EQ(verify_at(kTimestamp + 301), VerifyResult::kTimestampTooOld);
  EXPECT_EQ(verify_at(kTimestamp - 301), VerifyResult::kTimestampTooNew);
  EXPECT_EQ(Verify(kSecret, kMsgId, "1614265330", kSignature, kBody, kTimestamp + 1000, 1000),
            VerifyResult::kOk);
}

TEST(WebhookSignature, RejectsBadSecretAndTimestamp) {
  EXPECT_EQ(Verify("whsec_!!!", kMsgId, "1614265330", kSignature, kBody, kTimestamp),
            VerifyResult::kBadSecret);
  EXPECT_EQ(Verify("whsec_", kMsgId, "1614265330", kSignature, kBody, kTimestamp),
            VerifyResult::kBadSecret);
  for (const char* bad : {"", "abc", "1614265330.5", " 1614265330", "1614265330x"}) {
    EXPECT_EQ(Verify(kSecret, kMsgId, bad, kSignature, kBody, kTimestamp),
              VerifyResult::kBadTimestamp)
        << bad;
  }
}

TEST(WebhookSignature, FindsV1AmongSeveralEntriesAndIgnoresOtherVersions) {
  std::string header =
      "v1a,junk v2," + std::string(kSignature.substr(3)) + " v1,AAAA " + std::string(kSignature);
  EXPECT_EQ(Verify(kSecret, kMsgId, "1614265330", header, kBody, kTimestamp), VerifyResult::kOk);
  std::string only_other_versions = "v2," + std::string(kSignature.substr(3));
  EXPECT_EQ(Verify(kSecret, kMsgId, "1614265330", only_other_versions, kBody, kTimestamp),
            VerifyResult::kNoMatchingSignature);
  EXPECT_EQ(Verify(kSecret, kMsgId, "1614265330", "", kBody, kTimestamp),
            VerifyResult::kNoMatchingSignature);
}

TEST(WebhookSignature, RotationHeaderVerifiesWithEachSecret) {
  std::string old_secret = GenerateSecret();
  std::string new_secret = GenerateSecret();
  std::vector<std::string> keys = {*DecodeSecret(new_secret), *DecodeSecret(old_secret)};
  Headers headers = MakeHeaders(keys, "msg_1", 1700000000, "{}");
  EXPECT_EQ(headers.id, "msg_1");
  EXPECT_EQ(headers.timestamp, "1700000000");
  EXPECT_EQ(headers.signature, Sign(keys[0], "msg_1", 1700000000, "{}") + " " +
                                   Sign(keys[1], "msg_1", 1700000000, "{}"));
  for (const auto& secret : {new_secret, old_secret}) {
    EXPECT_EQ(Verify(secret, "msg_1", headers.timestamp, headers.signature, "{}", 1700000000),
              VerifyResult::kOk);
  }
  EXPECT_EQ(
      Verify(GenerateSecret(), "msg_1", headers.timestamp, headers.signature, "{}", 1700000000),
      VerifyResult::kNoMatchingSignature);
}

TEST(WebhookSignature, GeneratesDistinct32ByteSecrets) {
  std::string a = GenerateSecret();
  EXPECT_TRUE(a.starts_with("whsec_"));
  ASSERT_TRUE(DecodeSecret(a));
  EXPECT_EQ(DecodeSecret(a)->size(), 32u);
  EXPECT_EQ(a, "whsec_" + EncodeBase64(*DecodeSecret(a)));
  EXPECT_NE(a, GenerateSecret());
}

TEST(WebhookSignature, DecodesSecretWithOrWithoutPrefix) {
  EXPECT_EQ(DecodeSecret(kSecret), DecodeSecret(kSecret.substr(6)));
  EXPECT_FALSE(DecodeSecret(""));
  EXPECT_FALSE(DecodeSecret("whsec_not base64"));
}

TEST(WebhookEnvelope, KeepsUnknownFieldsAndNormalisesTimestamp) {
  auto event = boost::json::parse(
      R"({"id":"evt-1","type":"term.searched","occurred_at":"2026-11-28T13:30:00.5+01:30",)"
      R"("user":{"id":"u-1","x_custom":[1,2]},"term":"ohm","zeta":true,"alpha":0.92})");
  EXPECT_EQ(WebhookBody(event),
            R"({"type":"term.searched","timestamp":"2026-11-28T12:00:00.500Z","data":)"
            R"({"id":"evt-1","type":"term.searched","occurred_at":"2026-11-28T13:30:00.5+01:30",)"
            R"("user":{"id":"u-1","x_custom":[1,2]},"term":"ohm","zeta":true,"alpha":0.92}})");
}

// The body is written straight out; it must be the bytes of the envelope
// object {type, timestamp, data} serialized, for every event of the catalog.
TEST(WebhookEnvelope, IsTheSerializedEnvelopeForEveryGoldenEvent) {
  for (const auto& file : std::filesystem::directory_iterator(testing::GoldenDir() / "events")) {
    boost::json::value event = boost::json::parse(testing::ReadFile(file.path()));
    const auto& fields = event.as_object();
    boost::json::object envelope;
    envelope["type"] = fields.at("type");
    envelope["timestamp"] = FormatTimestamp(*ParseRfc3339(fields.at("occurred_at").as_string()));
    envelope["data"] = event;
    EXPECT_EQ(WebhookBody(event), ToJson(envelope)) << file.path();
  }
}

TEST(WebhookEnvelope, MessageIdIsStableStatementIdWithPrefix) {
  // Python: uuid.uuid5(uuid.NAMESPACE_URL, "punt:acme:evt-8812")
  EXPECT_EQ(MessageId("acme", "evt-8812"), "msg_5bb64e54-9315-5529-8832-160427866ab4");
  EXPECT_EQ(MessageId("acme", "evt-8812"), "msg_" + StatementId("acme", "evt-8812"));
  EXPECT_NE(MessageId("other", "evt-8812"), MessageId("acme", "evt-8812"));
}

}  // namespace
}  // namespace punt::webhook
