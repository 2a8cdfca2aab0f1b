#include "rserpool/base/ip_address.hpp"

#include <gtest/gtest.h>

namespace rserpool {
namespace {

TEST(IpAddress, ParsesAndPrintsBothFamilies) {
  auto v4 = IpAddress::parse("198.18.0.1");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->to_string(), "198.18.0.1");
  auto v6 = IpAddress::parse("[2001:db8::1]");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->is_v6());
  EXPECT_EQ(v6->to_string(), "2001:db8::1");
  EXPECT_FALSE(IpAddress::parse("300.1.1.1"));
  EXPECT_FALSE(IpAddress::parse(""));
  EXPECT_FALSE(IpAddress::parse("gateway"));
}

TEST(IpAddress, LoopbackAndOrdering) {
  EXPECT_TRUE(IpAddress::v4_loopback().is_loopback());
  EXPECT_TRUE(IpAddress::v6_loopback().is_loopback());
  EXPECT_FALSE(IpAddress::parse("10.0.0.1")->is_loopback());
  EXPECT_NE(IpAddress::v4_loopback(), IpAddress::v6_loopback());
  EXPECT_TRUE(IpAddress().is_unspecified());
}

TEST(TransportAddress, ParsesPortsAndBrackets) {
  auto a = TransportAddress::parse("127.0.0.1:2905");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 2905);
  EXPECT_EQ(a->to_string(), "127.0.0.1:2905");
  auto b = TransportAddress::parse("[::1]:3863");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->ip.is_v6());
  EXPECT_EQ(b->to_string(), "[::1]:3863");
  EXPECT_FALSE(TransportAddress::parse("::1:3863"));  // ambiguous without brackets
  EXPECT_FALSE(TransportAddress::parse("1.2.3.4:70000"));
  EXPECT_FALSE(TransportAddress::parse("1.2.3.4:"));
  EXPECT_FALSE(TransportAddress::parse("1.2.3.4:12x"));
}

}  // namespace
}  // namespace rserpool
