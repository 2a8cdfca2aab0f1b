#include <gtest/gtest.h>

#include "pcap_writer.hpp"
#include "tshark.hpp"

namespace {

// A hand-made M3UA ASPUP and a hand-made ASAP handle resolution prove that
// the frames we write are what tshark expects, independently of our codecs.
TEST(PcapWriter, TsharkDecodesHandMadeM3uaAndAsap) {
  SG_REQUIRE_TSHARK();
  const std::string path = ::testing::TempDir() + "pcap_writer_test.pcap";
  {
    sgtest::PcapWriter w(path);
    ASSERT_TRUE(w.ok());
    const rserpool::Bytes aspup{0x01, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 0x08};
    w.sctp_data(2905, 2905, 3, 0, aspup);
    // ASAP_HANDLE_RESOLUTION, pool handle "gwc".
    const rserpool::Bytes resolution{0x05, 0x00, 0x00, 0x0b, 0x00, 0x09, 0x00, 0x07, 'g', 'w', 'c', 0x00};
    w.udp(3863, 3863, resolution);
  }
  auto out = sgtest::tshark_decode(path);
  ASSERT_TRUE(out.has_value());
  EXPECT_NE(out->find("ASPUP"), std::string::npos) << *out;
  EXPECT_NE(out->find("Type: ASAP Handle Resolution (5)"), std::string::npos) << *out;
  EXPECT_EQ(out->find("Malformed"), std::string::npos) << *out;
}

}  // namespace
