#include "rserpool/base/bytes.hpp"

#include <gtest/gtest.h>

namespace rserpool {
namespace {

TEST(ByteWriter, WritesBigEndianAndPatches) {
  Bytes out;
  ByteWriter w(out);
  w.u8(0x01);
  w.u16(0x0203);
  const auto at = w.size();
  w.u32(0);
  w.bytes(std::string_view("ab"));
  w.pad_to_4();
  w.patch_u32(at, 0x04050607);
  EXPECT_EQ(out, (Bytes{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 'a', 'b', 0, 0, 0}));
}

TEST(ByteReader, ShortReadFailsStickyWithoutOverrun) {
  const Bytes in{0x00, 0x10, 0xAB};
  ByteReader r(in);
  EXPECT_EQ(r.u16(), 0x0010);
  EXPECT_FALSE(r.failed());
  EXPECT_EQ(r.u16(), 0);  // only one byte left
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.u8(), 0);  // stays failed even though a byte remains
  EXPECT_EQ(r.remaining(), 0U);
  EXPECT_TRUE(r.take(1).empty());
}

TEST(Pad4, RoundsUp) {
  EXPECT_EQ(pad4(0), 0U);
  EXPECT_EQ(pad4(1), 4U);
  EXPECT_EQ(pad4(4), 4U);
  EXPECT_EQ(pad4(5), 8U);
}

}  // namespace
}  // namespace rserpool
