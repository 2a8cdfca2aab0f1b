#include <gtest/gtest.h>

#include "sg/routing/flow.hpp"
#include "sg/routing/flow_table.hpp"

namespace sg {
namespace {

MtpMessage flow_isup(std::uint32_t opc, std::uint32_t dpc, rserpool::Bytes data, std::uint8_t sls = 0) {
  MtpMessage m;
  m.opc = opc;
  m.dpc = dpc;
  m.si = kSiIsup;
  m.sls = sls;
  m.data = std::move(data);
  return m;
}

TEST(Classify, IsupIsKeyedByCircuitInBothDirections) {
  auto iam = classify(flow_isup(1, 2, ss7::encode_iam(77, "123"), 5));
  auto acm_back = classify(flow_isup(2, 1, ss7::encode_acm(77), 9));
  EXPECT_TRUE(iam.flow.circuit);
  EXPECT_EQ(iam.flow.selector, 77);
  EXPECT_EQ(iam.event, CallEvent::setup);
  EXPECT_EQ(iam.flow, acm_back.flow);  // same call, other direction, other SLS
  EXPECT_EQ(classify(flow_isup(1, 2, ss7::encode_rel(77))).event, CallEvent::release);
  EXPECT_EQ(classify(flow_isup(1, 2, ss7::encode_rlc(77))).event, CallEvent::release_complete);
  EXPECT_NE(classify(flow_isup(1, 2, ss7::encode_iam(78, "1"))).flow, iam.flow);
}

// ANSI T1.113 CICs are 14 bits; ITU-T Q.763 CICs 12 (the two bits above
// are spare there). Circuits 4096 apart are distinct circuits in ANSI.
TEST(Classify, AnsiCicsAreFourteenBits) {
  const auto high = flow_isup(1, 2, ss7::encode_iam(4101, "1"));
  const auto low = flow_isup(1, 2, ss7::encode_iam(5, "1"));
  EXPECT_EQ(classify(high, ss7::IsupVariant::ansi).cic, 4101);
  EXPECT_NE(classify(high, ss7::IsupVariant::ansi).flow, classify(low, ss7::IsupVariant::ansi).flow);
  EXPECT_EQ(classify(high, ss7::IsupVariant::itu).cic, 5) << "ITU ignores the spare bits";
  EXPECT_EQ(classify(flow_isup(1, 2, ss7::encode_rlc(16383)), ss7::IsupVariant::ansi).cic, 16383);
}

TEST(Classify, OtherUserPartsAndBrokenIsupUseSls) {
  MtpMessage sccp;
  sccp.opc = 1;
  sccp.dpc = 2;
  sccp.si = kSiSccp;
  sccp.sls = 11;
  auto c = classify(sccp);
  EXPECT_FALSE(c.flow.circuit);
  EXPECT_EQ(c.flow.selector, 11);
  auto broken = classify(flow_isup(1, 2, {0x01}, 4));
  EXPECT_FALSE(broken.flow.circuit);
  EXPECT_EQ(broken.flow.selector, 4);
  EXPECT_FALSE(broken.cic.has_value());
}

TEST(FlowTable, AssignRebindReleaseAndTakeOver) {
  FlowTable t;
  FlowKey a{1, 2, 5, true, 10};
  FlowKey b{1, 2, 5, true, 11};
  FlowKey c{1, 2, 3, false, 4};
  t.assign(a, 100);
  t.assign(b, 100);
  t.assign(c, 200);
  EXPECT_EQ(t.find(a), 100U);
  EXPECT_EQ(t.count_of(100), 2U);
  t.assign(b, 200);  // rebind moves the index too
  EXPECT_EQ(t.count_of(100), 1U);
  EXPECT_EQ(t.count_of(200), 2U);
  EXPECT_TRUE(t.release(a));
  EXPECT_FALSE(t.release(a));
  EXPECT_EQ(t.count_of(100), 0U);
  auto moved = t.take_flows_of(200);
  EXPECT_EQ(moved.size(), 2U);
  EXPECT_EQ(t.size(), 0U);
  EXPECT_FALSE(t.find(c));
}

}  // namespace
}  // namespace sg
