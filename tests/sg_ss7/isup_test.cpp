#include "sg/ss7/isup.hpp"

#include <gtest/gtest.h>

namespace sg::ss7 {
namespace {

TEST(Isup, HeaderCarriesCicAndType) {
  for (int c : {0, 1, 255, 256, 4095}) {
    const auto cic = static_cast<std::uint16_t>(c);
    for (const auto& msg : {encode_iam(cic, "4930123"), encode_acm(cic), encode_anm(cic), encode_rel(cic), encode_rlc(cic)}) {
      auto h = parse_isup_header(msg);
      ASSERT_TRUE(h);
      EXPECT_EQ(h->cic, cic);
    }
  }
  EXPECT_EQ(parse_isup_header(encode_iam(1, "1"))->message_type, 0x01);
  EXPECT_EQ(parse_isup_header(encode_acm(1))->message_type, 0x06);
  EXPECT_EQ(parse_isup_header(encode_anm(1))->message_type, 0x09);
  EXPECT_EQ(parse_isup_header(encode_rel(1))->message_type, 0x0c);
  EXPECT_EQ(parse_isup_header(encode_rlc(1))->message_type, 0x10);
}

TEST(Isup, CicWidthDependsOnVariant) {
  const rserpool::Bytes raw{0xFF, 0xFF, 0x01};
  EXPECT_EQ(parse_isup_header(raw, IsupVariant::itu)->cic, 0x0FFF);
  EXPECT_EQ(parse_isup_header(raw, IsupVariant::ansi)->cic, 0x3FFF);
  EXPECT_FALSE(parse_isup_header(rserpool::Bytes{0x01, 0x00}));
}

TEST(Isup, IamLayoutMatchesQ763) {
  // CIC 0x123, called 12345 (odd), no calling number.
  const auto iam = encode_iam(0x123, "12345");
  const rserpool::Bytes expected{0x23, 0x01, 0x01,   // CIC, IAM
                                 0x00, 0x20, 0x01,   // NCI, FCI
                                 0x0a, 0x00,         // CPC, TMR
                                 0x02, 0x00,         // pointers: called party, no optional part
                                 0x05, 0x83, 0x10,   // length, odd + national, E.164
                                 0x21, 0x43, 0x05};  // BCD 1 2 3 4 5
  EXPECT_EQ(iam, expected);
}

TEST(Isup, ReleaseCauseRoundTrips) {
  EXPECT_EQ(*parse_rel_cause(encode_rel(7)), kCauseNormalClearing);
  EXPECT_EQ(*parse_rel_cause(encode_rel(7, kCauseTemporaryFailure)), kCauseTemporaryFailure);
  EXPECT_FALSE(parse_rel_cause(encode_rlc(7)));
  auto rel = encode_rel(7);
  rel[3] = 40;  // pointer beyond the message
  EXPECT_FALSE(parse_rel_cause(rel));
}

TEST(Isup, EveryTruncationIsHandled) {
  for (const auto& msg : {encode_iam(9, "4930123456", "4940987"), encode_rel(9)}) {
    for (std::size_t n = 0; n < msg.size(); ++n) {
      rserpool::ByteView cut(msg.data(), n);
      auto h = parse_isup_header(cut);
      EXPECT_EQ(h.ok(), n >= 3);
      (void)parse_rel_cause(cut);  // must not read out of bounds (ASan checks)
    }
  }
}

}  // namespace
}  // namespace sg::ss7
