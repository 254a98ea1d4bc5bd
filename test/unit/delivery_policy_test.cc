#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "delivery/destination_guard.h"
#include "delivery/outcome.h"
#include "delivery/retry_policy.h"

namespace punt::delivery {
namespace {

using boost::asio::ip::make_address;

TEST(DestinationGuard, RefusesNonPublicAddressesUnlessAllowed) {
  DestinationGuard strict({});
  for (const char* a :
       {"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "::1", "fe80::1", "fd00::1", "fd00:ec2::254", "::ffff:127.0.0.1", "224.0.0.1",
        // IPv4 inside IPv6: compatible, NAT64 local-use, 6to4, Teredo;
        // and the old site-local range.
        "::7f00:1", "64:ff9b:1::a00:1", "2002:a00:1::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "fec0::1"}) {
    EXPECT_FALSE(strict.Allows(make_address(a))) << a;
  }
  for (const char* a : {"93.184.216.34", "1.1.1.1", "2606:4700::1111", "2001:4860::8888"}) {
    EXPECT_TRUE(strict.Allows(make_address(a))) << a;
  }
  DestinationGuard loopback({*net::Cidr::Parse("127.0.0.0/8")});
  EXPECT_TRUE(loopback.Allows(make_address("127.0.0.1")));
  EXPECT_FALSE(loopback.Allows(make_address("10.0.0.1")));
}

TEST(RetryPolicy, FollowsTheScheduleWithJitterThenGivesUp) {
  RetryPolicy policy;
  const Millis now = 1'000'000;
  EXPECT_EQ(policy.NextAttemptAt(now, 1, 0.5), now + 5000);
  EXPECT_EQ(policy.NextAttemptAt(now, 1, 0.0), now + 4000);    // -20%
  EXPECT_EQ(policy.NextAttemptAt(now, 2, 0.5), now + 30000);
  EXPECT_EQ(policy.NextAttemptAt(now, 11, 0.5), now + 24 * 3600 * 1000LL);
  EXPECT_FALSE(policy.NextAttemptAt(now, 12, 0.5));
  EXPECT_EQ(policy.max_retries(), 11u);
  Millis total = 0;
  for (int i = 1; i <= 11; ++i) total += *policy.NextAttemptAt(0, i, 0.5);
  EXPECT_NEAR(total / 3600000.0, 70.71, 0.01);  // about three days
}

TEST(RetryPolicy, RetryAfterIsHonouredAndClamped) {
  RetryPolicy policy;
  EXPECT_EQ(policy.NextAttemptAt(0, 1, 0.5, 120000), 120000);
  EXPECT_EQ(policy.NextAttemptAt(0, 1, 0.5, 0), 1000);
  EXPECT_EQ(policy.NextAttemptAt(0, 1, 0.5, 7LL * 24 * 3600 * 1000), 24LL * 3600 * 1000);
}

TEST(Outcome, ClassifiesAnswersAsDesignSection3Says) {
  EXPECT_EQ(Classify({204, "", false, 1}).verdict, Verdict::kDelivered);
  EXPECT_EQ(Classify({200, "", true, 1, R"(["a"])", false, {"a"}}).verdict, Verdict::kDelivered);
  EXPECT_EQ(Classify({409, "", true, 1}).verdict, Verdict::kDelivered);
  EXPECT_EQ(Classify({409, "", false, 1}).verdict, Verdict::kRetry);
  EXPECT_EQ(Classify({409, "", true, 10}).verdict, Verdict::kSplit);
  EXPECT_EQ(Classify({400, "", true, 10}).verdict, Verdict::kSplit);
  EXPECT_EQ(Classify({422, "", true, 1}).verdict, Verdict::kDead);
  EXPECT_EQ(Classify({413, "", true, 1}).verdict, Verdict::kDead);
  EXPECT_EQ(Classify({400, "", false, 1}).verdict, Verdict::kRetry);
  EXPECT_EQ(Classify({401, "", true, 1}).effect, SubscriptionEffect::kCredentialsRefused);
  EXPECT_EQ(Classify({403, "", false, 1}).verdict, Verdict::kRetry);
  EXPECT_EQ(Classify({410, "", false, 1}).effect, SubscriptionEffect::kDisable);
  EXPECT_EQ(Classify({500, "", false, 1}).verdict, Verdict::kRetry);
  EXPECT_EQ(Classify({302, "", false, 1}).verdict, Verdict::kRetry);
  EXPECT_EQ(Classify({0, "timeout", true, 1}).verdict, Verdict::kRetry);
}

// xAPI: the LRS answers a POST /statements with 200 and the array of the
// ids it stored; only an answer listing every statement sent delivers them.
TEST(Outcome, AnXapiSuccessMustListEveryStatementSent) {
  const std::vector<std::string> sent = {"11111111-aaaa-4aaa-8aaa-000000000001",
                                         "11111111-aaaa-4aaa-8aaa-000000000002"};
  auto classify = [&](int status, std::string_view body, bool cut = false) {
    return Classify({status, "", true, static_cast<int>(sent.size()), body, cut, sent});
  };
  const std::string both = "[\"" + sent[0] + "\",\"" + sent[1] + "\"]";
  EXPECT_EQ(classify(200, both).verdict, Verdict::kDelivered);
  // In any order and case, with white space.
  std::string other = "[ \"" + sent[1] + "\" ,\n \"" + sent[0] + "\" ]\n";
  for (char& c : other) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(classify(200, other).verdict, Verdict::kDelivered);
  // An answer cut off after complete ids of this batch: what is readable holds.
  EXPECT_EQ(classify(200, "[\"" + sent[0] + "\",\"11111", true).verdict, Verdict::kDelivered);

  for (const std::string& body : {std::string("ok"), std::string(), std::string("[]"),
                                  "[\"" + sent[0] + "\"]", "<html>" + both + "</html>", both + "x",
                                  std::string("{\"ids\":[]}"), "[\"" + sent[0] + "\",\"other\"]"}) {
    Outcome o = classify(200, body);
    EXPECT_EQ(o.verdict, Verdict::kRetry) << body;
    EXPECT_EQ(o.effect, SubscriptionEffect::kNone) << body;
    EXPECT_NE(o.note.find("not counted as delivered"), std::string::npos) << o.note;
  }
  // A 204 has no body: taken at its word.
  EXPECT_EQ(classify(204, "").verdict, Verdict::kDelivered);
  EXPECT_EQ(classify(200, "[\"11111", true).verdict, Verdict::kRetry);
  EXPECT_EQ(classify(200, both.substr(0, 10), false).verdict, Verdict::kRetry);
  // A webhook's 2xx needs no body.
  EXPECT_EQ(Classify({200, "", false, 1}).verdict, Verdict::kDelivered);
}

TEST(Outcome, ParsesRetryAfterInSecondsOrAsHttpDate) {
  EXPECT_EQ(ParseRetryAfter("120", 0), 120000);
  EXPECT_EQ(ParseRetryAfter(" 3 ", 0), 3000);
  // Sun, 06 Nov 1994 08:49:37 GMT is 784111777 s after the epoch.
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111777000LL - 5000), 5000);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111777000LL + 5000), 0);
  // The obsolete forms of the same date (RFC 9110, 5.6.7).
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", 784111777000LL - 5000), 5000);
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:49:37 1994", 784111777000LL - 5000), 5000);
  EXPECT_FALSE(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37", 0));  // no zone
  EXPECT_FALSE(ParseRetryAfter("soon", 0));
  EXPECT_FALSE(ParseRetryAfter("", 0));
}

// A receiver asking for more seconds than a 64-bit count of milliseconds
// holds (or than from_chars reads) waits the longest delay, 24 h: it was
// retried after 1 s (the product wrapped negative) or on the schedule (the
// value read as garbage).
TEST(Outcome, HugeRetryAfterWaitsTheLongestDelay) {
  RetryPolicy policy;
  constexpr Millis kDay = 24 * 3600 * 1000LL;
  for (const char* huge : {"9223372036854776", "99999999999999999", "9223372036854775807",
                           "99999999999999999999999999"}) {
    auto delay = ParseRetryAfter(huge, 0);
    ASSERT_TRUE(delay) << huge;
    EXPECT_GE(*delay, kDay) << huge;
    EXPECT_EQ(policy.NextAttemptAt(0, 1, 0.5, delay), kDay) << huge;
  }
}

}  // namespace
}  // namespace punt::delivery
