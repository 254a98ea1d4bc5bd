#include <gtest/gtest.h>

#include "net/cidr.h"

namespace punt::net {
namespace {

using boost::asio::ip::make_address;

TEST(Cidr, ContainsAddressesInItsRange) {
  auto loopback = Cidr::Parse("127.0.0.0/8");
  ASSERT_TRUE(loopback);
  EXPECT_TRUE(loopback->Contains(make_address("127.0.0.1")));
  EXPECT_TRUE(loopback->Contains(make_address("127.255.1.2")));
  EXPECT_TRUE(loopback->Contains(make_address("::ffff:127.0.0.1")));
  EXPECT_FALSE(loopback->Contains(make_address("128.0.0.1")));
  EXPECT_FALSE(loopback->Contains(make_address("::1")));

  auto odd = Cidr::Parse("10.1.2.0/23");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->Contains(make_address("10.1.3.255")));
  EXPECT_FALSE(odd->Contains(make_address("10.1.4.0")));
  EXPECT_EQ(odd->ToString(), "10.1.2.0/23");

  auto v6 = Cidr::Parse("fe80::/10");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->Contains(make_address("febf::1")));
  EXPECT_FALSE(v6->Contains(make_address("fec0::1")));
}

TEST(Cidr, BareAddressIsOneHost) {
  auto host = Cidr::Parse("::1");
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->Contains(make_address("::1")));
  EXPECT_FALSE(host->Contains(make_address("::2")));
}

TEST(Cidr, RejectsWhatIsNotARange) {
  for (const char* bad : {"", "localhost", "127.0.0.0/33", "127.0.0.0/", "127.0.0.0/x", "::/129",
                          "1.2.3/8"}) {
    EXPECT_FALSE(Cidr::Parse(bad)) << bad;
  }
}

// An IPv4-mapped base is judged as its IPv4 address, and its prefix counts
// the 96 bits of ::ffff:0:0/96 before the IPv4 ones: ::ffff:127.0.0.0/104 is
// 127.0.0.0/8. A shorter prefix reaches past the mapped range (::/8 holds
// ::1), which no IPv4 range can say: refused, not read as an IPv4 prefix.
TEST(Cidr, AMappedBaseCountsItsPrefixInIpv6Bits) {
  auto mapped = Cidr::Parse("::ffff:127.0.0.0/104");
  ASSERT_TRUE(mapped);
  EXPECT_TRUE(mapped->Contains(make_address("127.0.0.1")));
  EXPECT_TRUE(mapped->Contains(make_address("::ffff:127.9.9.9")));
  EXPECT_FALSE(mapped->Contains(make_address("128.0.0.1")));
  EXPECT_EQ(mapped->ToString(), "127.0.0.0/8");

  auto all = Cidr::Parse("::ffff:0:0/96");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->Contains(make_address("10.1.2.3")));
  EXPECT_FALSE(all->Contains(make_address("::1")));

  auto host = Cidr::Parse("::ffff:10.0.0.1/128");
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->Contains(make_address("10.0.0.1")));
  EXPECT_FALSE(host->Contains(make_address("10.0.0.2")));

  for (const char* bad : {"::ffff:10.0.0.1/8", "::ffff:10.0.0.0/95", "::ffff:10.0.0.0/129"}) {
    EXPECT_FALSE(Cidr::Parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace punt::net
