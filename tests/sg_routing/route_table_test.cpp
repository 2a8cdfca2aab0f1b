#include "sg/routing/route_table.hpp"

#include <gtest/gtest.h>

namespace sg {
namespace {

MtpMessage msg(std::uint32_t opc, std::uint32_t dpc, std::uint8_t si, std::uint8_t ni = 2) {
  MtpMessage m;
  m.opc = opc;
  m.dpc = dpc;
  m.si = si;
  m.ni = ni;
  return m;
}

Route route(std::string name, RoutingKey key, std::string pool) {
  return Route{std::move(name), key, rserpool::PoolHandle(pool)};
}

TEST(PointCodeMatch, MaskIgnoresLowBits) {
  PointCodeMatch exact{0x1234, 0};
  EXPECT_TRUE(exact.matches(0x1234));
  EXPECT_FALSE(exact.matches(0x1235));
  PointCodeMatch block{0x1200, 8};
  EXPECT_TRUE(block.matches(0x12FF));
  EXPECT_FALSE(block.matches(0x1300));
  PointCodeMatch all{0, 24};
  EXPECT_TRUE(all.matches(0xABCDEF));
}

TEST(RouteTable, MostSpecificRouteWins) {
  RouteTable t;
  RoutingKey any_to_100;
  any_to_100.dpc = {100, 0};
  RoutingKey isup_to_100 = any_to_100;
  isup_to_100.service_indicators.set(kSiIsup);
  RoutingKey cic_block = isup_to_100;
  cic_block.cics = CicRange{0, 31};
  RoutingKey from_7 = any_to_100;
  from_7.opc = PointCodeMatch{7, 0};
  ASSERT_TRUE(t.add(route("default", any_to_100, "sccp-pool")));
  ASSERT_TRUE(t.add(route("isup", isup_to_100, "gwc")));
  ASSERT_TRUE(t.add(route("e1-0", cic_block, "gwc-e1")));
  ASSERT_TRUE(t.add(route("from7", from_7, "gwc-7")));

  EXPECT_EQ(t.lookup(msg(1, 100, kSiSccp), std::nullopt)->name, "default");
  EXPECT_EQ(t.lookup(msg(1, 100, kSiIsup), std::uint16_t{40})->name, "isup");
  EXPECT_EQ(t.lookup(msg(1, 100, kSiIsup), std::uint16_t{31})->name, "e1-0");
  EXPECT_EQ(t.lookup(msg(7, 100, kSiIsup), std::uint16_t{40})->name, "from7");
  EXPECT_EQ(t.lookup(msg(7, 100, kSiIsup), std::uint16_t{3})->name, "e1-0");  // CIC range beats OPC
  EXPECT_EQ(t.lookup(msg(1, 101, kSiIsup), std::uint16_t{3}), nullptr);
}

TEST(RouteTable, EqualSpecificityKeepsConfigurationOrder) {
  RouteTable t;
  RoutingKey k;
  k.dpc = {100, 0};
  ASSERT_TRUE(t.add(route("first", k, "a")));
  ASSERT_TRUE(t.add(route("second", k, "b")));
  EXPECT_EQ(t.lookup(msg(1, 100, 3), std::nullopt)->name, "first");
  EXPECT_TRUE(t.remove("first"));
  EXPECT_EQ(t.lookup(msg(1, 100, 3), std::nullopt)->name, "second");
  EXPECT_FALSE(t.remove("first"));
}

TEST(RouteTable, RejectsBadRoutes) {
  RouteTable t;
  RoutingKey k;
  k.dpc = {100, 0};
  ASSERT_TRUE(t.add(route("r", k, "a")));
  EXPECT_EQ(t.add(route("r", k, "b")).error(), RouteError::duplicate_name);
  EXPECT_EQ(t.add(route("", k, "b")).error(), RouteError::empty_name);
  EXPECT_EQ(t.add(route("x", k, "")).error(), RouteError::empty_pool);
  RoutingKey bad = k;
  bad.cics = CicRange{10, 5};
  EXPECT_EQ(t.add(route("x", bad, "a")).error(), RouteError::bad_cic_range);
  bad = k;
  bad.dpc.wildcard_bits = 25;
  EXPECT_EQ(t.add(route("x", bad, "a")).error(), RouteError::bad_mask);
}

TEST(RouteTable, NetworkIndicatorAndRoutesToPool) {
  RouteTable t;
  RoutingKey national;
  national.dpc = {100, 0};
  national.network_indicator = 2;
  ASSERT_TRUE(t.add(route("nat", national, "gwc")));
  RoutingKey other;
  other.dpc = {200, 0};
  ASSERT_TRUE(t.add(route("other", other, "gwc")));
  EXPECT_NE(t.lookup(msg(1, 100, 5, 2), std::nullopt), nullptr);
  EXPECT_EQ(t.lookup(msg(1, 100, 5, 0), std::nullopt), nullptr);
  EXPECT_EQ(t.routes_to(rserpool::PoolHandle("gwc")).size(), 2U);
  EXPECT_TRUE(t.routes_to(rserpool::PoolHandle("none")).empty());
}

}  // namespace
}  // namespace sg
