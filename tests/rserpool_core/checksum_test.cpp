#include <gtest/gtest.h>

#include "rserpool/core/pe_checksum.hpp"

namespace rserpool::core {
namespace {

TEST(InternetChecksum, Rfc1071WorkedExample) {
  // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 after the
  // end-around carry; the checksum is its complement.
  const Bytes data{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(internet_checksum(data), 0x220d);
}

TEST(InternetChecksum, OddLengthPadsWithZero) {
  const Bytes odd{0x12, 0x34, 0x56};
  const Bytes even{0x12, 0x34, 0x56, 0x00};
  EXPECT_EQ(internet_checksum(odd), internet_checksum(even));
}

TEST(PeChecksum, EmptySetIsAllOnes) { EXPECT_EQ(PeChecksum{}.value(), 0xFFFF); }

TEST(PeChecksum, OneBlockMatchesHandComputation) {
  // "abc" padded: 61 62 63 00, PE id 01 02 03 04.
  // 0x6162 + 0x6300 + 0x0102 + 0x0304 = 0xC868 -> ~ = 0x3797.
  PeChecksum c;
  c.add(PoolHandle("abc"), 0x01020304);
  EXPECT_EQ(c.value(), 0x3797);
  const Bytes block{0x61, 0x62, 0x63, 0x00, 0x01, 0x02, 0x03, 0x04};
  EXPECT_EQ(internet_checksum(block), 0x3797);
}

TEST(PeChecksum, AddThenRemoveRestoresAndOrderDoesNotMatter) {
  PeChecksum a, b;
  a.add(PoolHandle("gwc"), 7);
  a.add(PoolHandle("other-pool"), 0xFFFFFFFF);
  b.add(PoolHandle("other-pool"), 0xFFFFFFFF);
  b.add(PoolHandle("gwc"), 7);
  EXPECT_EQ(a.value(), b.value());
  a.remove(PoolHandle("other-pool"), 0xFFFFFFFF);
  PeChecksum c;
  c.add(PoolHandle("gwc"), 7);
  EXPECT_EQ(a, c);
}

TEST(PeChecksum, CarriesFoldAcrossManyBlocks) {
  // Enough blocks of 0xFFFF words to overflow 16 bits many times over.
  PeChecksum c;
  Bytes all;
  const PoolHandle h(std::string_view("\xff\xff\xff\xff", 4));
  for (int i = 0; i < 1000; ++i) {
    c.add(h, 0xFFFFFFFF);
    for (int k = 0; k < 8; ++k) all.push_back(0xFF);
  }
  EXPECT_EQ(c.value(), internet_checksum(all));
}

TEST(PeChecksum, RsplibCompatibleValueMatchesUntilTheSumPasses32Bits) {
  PeChecksum c;
  const PoolHandle h("gwc-pool");
  PeIdentifier id = 0;
  // Small sets: identical.
  for (; id < 1000; ++id) c.add(h, id * 2654435761U);
  EXPECT_EQ(c.value(), c.value_rsplib());
  // Large sets: the rsplib value is the fold of the sum modulo 2^32.
  while (c.raw_sum() <= 0xFFFFFFFFULL) c.add(h, id++ * 2654435761U);
  std::uint64_t truncated = c.raw_sum() & 0xFFFFFFFFULL;
  while (truncated >> 16) truncated = (truncated & 0xFFFF) + (truncated >> 16);
  EXPECT_EQ(c.value_rsplib(), static_cast<std::uint16_t>(~truncated & 0xFFFF));
  EXPECT_NE(c.value(), c.value_rsplib()) << "the carry lost at 2^32 shows";
}

}  // namespace
}  // namespace rserpool::core
