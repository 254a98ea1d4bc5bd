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

}  // namespace
}  // namespace punt::net
