#include "sg/ss7/sccp.hpp"

#include <gtest/gtest.h>

namespace sg::ss7 {
namespace {

SccpUnitdata sample() {
  SccpUnitdata u;
  u.called = {0x0123, 6};
  u.calling = {0x0456, 8};
  u.data = {0x62, 0x03, 0x01, 0x02, 0x03};
  return u;
}

TEST(Sccp, UdtRoundTrips) {
  const auto bytes = encode_udt(sample());
  EXPECT_EQ(bytes[0], kSccpUdt);
  auto back = decode_udt(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, sample());
}

TEST(Sccp, TruncationsAndBadPointersAreErrors) {
  const auto bytes = encode_udt(sample());
  for (std::size_t n = 0; n < bytes.size(); ++n) EXPECT_FALSE(decode_udt(rserpool::ByteView(bytes.data(), n))) << n;
  auto bad = bytes;
  bad[4] = 0;
  EXPECT_EQ(decode_udt(bad).error(), SccpError::bad_pointer);
  bad = bytes;
  bad[0] = 0x11;
  EXPECT_EQ(decode_udt(bad).error(), SccpError::not_udt);
}

TEST(Sccp, GlobalTitleAddressesAreReportedUnsupported) {
  auto bytes = encode_udt(sample());
  bytes[6] = 0x12;  // called address indicator with a global title
  EXPECT_EQ(decode_udt(bytes).error(), SccpError::unsupported_address);
}

}  // namespace
}  // namespace sg::ss7
