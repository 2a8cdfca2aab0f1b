// tshark decodes our ISUP and SCCP encodings, carried in M3UA DATA, as the
// messages we meant, with the right CIC and no malformed packets.
#include <gtest/gtest.h>

#include "pcap_writer.hpp"
#include "sg/ss7/isup.hpp"
#include "sg/ss7/sccp.hpp"
#include "tshark.hpp"

namespace sg::ss7 {
namespace {

// A minimal M3UA DATA around an MTP3-user message, built by hand so that
// this test does not depend on our M3UA codec.
rserpool::Bytes m3ua_data(std::uint8_t si, std::uint8_t sls, const rserpool::Bytes& user) {
  rserpool::Bytes out;
  rserpool::ByteWriter w(out);
  w.u8(1);
  w.u8(0);
  w.u8(1);
  w.u8(1);
  w.u32(0);  // length, patched below
  w.u16(0x0210);
  w.u16(static_cast<std::uint16_t>(16 + user.size()));
  w.u32(0x0001);  // OPC
  w.u32(0x0002);  // DPC
  w.u8(si);
  w.u8(2);  // NI national
  w.u8(0);
  w.u8(sls);
  w.bytes(user);
  w.pad_to_4();
  w.patch_u32(4, static_cast<std::uint32_t>(out.size()));
  return out;
}

TEST(Ss7Tshark, DecodesIsupCallFlowAndSccpUdt) {
  SG_REQUIRE_TSHARK();
  const std::string path = ::testing::TempDir() + "ss7_tshark_test.pcap";
  {
    sgtest::PcapWriter w(path);
    w.sctp_data(2905, 2905, 3, 1, m3ua_data(5, 1, encode_iam(291, "4930123456", "4940987654")));
    w.sctp_data(2905, 2905, 3, 1, m3ua_data(5, 1, encode_acm(291)));
    w.sctp_data(2905, 2905, 3, 1, m3ua_data(5, 1, encode_anm(291)));
    w.sctp_data(2905, 2905, 3, 1, m3ua_data(5, 1, encode_rel(291)));
    w.sctp_data(2905, 2905, 3, 1, m3ua_data(5, 1, encode_rlc(291)));
    SccpUnitdata u;
    u.called = {2, 6};
    u.calling = {1, 8};
    u.data = {0x01, 0x02, 0x03};
    w.sctp_data(2905, 2905, 3, 2, m3ua_data(3, 2, encode_udt(u)));
  }
  auto out = sgtest::tshark_decode(path, "-o m3ua.version:rfc4666");
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->find("Malformed"), std::string::npos) << *out;
  EXPECT_EQ(out->find("Expert Info (Error"), std::string::npos) << *out;
  for (const char* name : {"Initial address", "Address complete", "Answer", "Release", "Release complete"})
    EXPECT_NE(out->find(std::string("Message Type: ") + name), std::string::npos) << name << "\n" << *out;
  EXPECT_NE(out->find("CIC: 291"), std::string::npos) << *out;
  EXPECT_NE(out->find("4930123456"), std::string::npos) << *out;
  EXPECT_NE(out->find("Normal call clearing"), std::string::npos) << *out;
  EXPECT_NE(out->find("Unitdata"), std::string::npos) << *out;
}

}  // namespace
}  // namespace sg::ss7
