#include "sg/sim/circuit_history.hpp"

#include <gtest/gtest.h>

namespace sg::sim {
namespace {

MtpMessage isup(rserpool::Bytes data) {
  MtpMessage m;
  m.si = kSiIsup;
  m.data = std::move(data);
  return m;
}

// 17:41:49.429 UTC on some day.
constexpr std::int64_t kAt = 1796492509429;

TEST(CircuitHistory, KeepsTheLastMessagesOfEachCircuitInOrder) {
  CircuitHistory h(3);
  h.record(isup(ss7::encode_iam(1333, "1")), false, kAt, 0);
  h.record(isup(ss7::encode_acm(1333)), true, kAt + 12, 0);
  h.record(isup(ss7::encode_iam(7, "1")), true, kAt + 20, 2);
  EXPECT_EQ(h.describe(1333), ">IAM a0 17:41:49.429 <ACM a0 17:41:49.441");
  EXPECT_EQ(h.describe(7), "<IAM a2 17:41:49.449");
  h.record(isup(ss7::encode_anm(1333)), true, kAt + 30, 0);
  h.record(isup(ss7::encode_rel(1333)), false, kAt + 230, 0);
  // Three kept: the IAM is gone, the rest oldest first.
  EXPECT_EQ(h.describe(1333), "<ACM a0 17:41:49.441 <ANM a0 17:41:49.459 >REL a0 17:41:49.659");
  EXPECT_EQ(h.describe(8), "none");
  EXPECT_EQ(h.circuits(), (std::vector<std::uint16_t>{7, 1333}));
  // Not ISUP, or not decodable: not recorded.
  MtpMessage sccp;
  sccp.si = kSiSccp;
  sccp.data = {1, 2, 3};
  h.record(sccp, true, kAt, 0);
  h.record(isup({0x01}), true, kAt, 0);
  EXPECT_EQ(h.circuits().size(), 2U);
}

}  // namespace
}  // namespace sg::sim
