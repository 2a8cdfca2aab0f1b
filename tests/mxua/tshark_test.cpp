#include <gtest/gtest.h>

#include <regex>

#include "golden.hpp"
#include "mxua/codec.hpp"
#include "pcap_writer.hpp"
#include "tshark.hpp"

namespace mxua {
namespace {

// Every message type as our encoder writes it, one SCTP DATA chunk each
// (PPID 3, port 2905; DATA on stream 1, management on stream 0).
std::vector<Message> every_type() {
  std::vector<Message> ms;
  for (const auto& g : golden::all()) ms.push_back(g.value);
  // Variants with more fields than the golden vectors.
  ms.push_back(Err{ErrorCode::InvalidRoutingContext, {100}, 7, {MaskedPointCode{0, PointCode{golden::kDpc}}}, std::nullopt});
  ms.push_back(Ntfy{Status{StatusType::Other, status_info::kAlternateAspActive}, 2, {100}, std::string("takeover")});
  ms.push_back(AspUp{std::nullopt, std::string("asp-1")});
  return ms;
}

TEST(M3uaTshark, EveryMessageTypeDecodesCleanly) {
  SG_REQUIRE_TSHARK();
  const std::string path = ::testing::TempDir() + "mxua_every_type.pcap";
  const auto ms = every_type();
  {
    sgtest::PcapWriter w(path);
    ASSERT_TRUE(w.ok());
    for (const auto& m : ms) {
      const auto id = message_id(m);
      w.sctp_data(kSctpPort, kSctpPort, kPpid, id.msg_class == 1 ? 1 : 0, encode(m));
    }
  }
  auto out = sgtest::tshark_decode(path, "-o m3ua.version:rfc4666");
  ASSERT_TRUE(out.has_value());
  const std::string& s = *out;
  EXPECT_EQ(s.find("Malformed"), std::string::npos) << s;
  EXPECT_EQ(s.find("Expert Info (Error"), std::string::npos) << s;
  EXPECT_EQ(s.find("Unknown"), std::string::npos) << s;
  // Each frame carries exactly one M3UA message whose name tshark prints.
  for (const char* name : {"ERR", "NTFY", "DATA", "DUNA", "DAVA", "DAUD", "SCON", "DUPU", "DRST", "ASPUP", "ASPDN",
                           "BEAT", "ASPUP_ACK", "ASPDN_ACK", "BEAT_ACK", "ASPAC", "ASPIA", "ASPAC_ACK", "ASPIA_ACK",
                           "REG_REQ", "REG_RSP", "DEREG_REQ", "DEREG_RSP"}) {
    const std::regex re(std::string("Message Type: [^\\n]*\\(") + name + "\\) \\(");
    EXPECT_TRUE(std::regex_search(s, re)) << "missing " << name << "\n" << s;
  }
  std::size_t versions = 0;
  for (auto p = s.find("Version: Release 1 (1)"); p != std::string::npos; p = s.find("Version: Release 1 (1)", p + 1))
    ++versions;
  EXPECT_EQ(versions, ms.size());
  // DATA: the routing label and the ISUP inside.
  EXPECT_NE(s.find("OPC: 2067"), std::string::npos) << s;
  EXPECT_NE(s.find("DPC: 4124"), std::string::npos) << s;
  EXPECT_NE(s.find("SI: ISUP (5)"), std::string::npos) << s;
  EXPECT_NE(s.find("SLS: 10"), std::string::npos) << s;
  EXPECT_NE(s.find("Correlation Identifier: 305419896"), std::string::npos) << s;
  EXPECT_NE(s.find("Release complete"), std::string::npos) << s;
  // Nested routing key and results.
  EXPECT_NE(s.find("Local routing key identifier: 1"), std::string::npos) << s;
  EXPECT_NE(s.find("Successfully Registered"), std::string::npos) << s;
  EXPECT_NE(s.find("Successfully Deregistered"), std::string::npos) << s;
  EXPECT_NE(s.find("Alternate ASP active"), std::string::npos) << s;
}

TEST(M3uaTshark, FieldExtractionOfData) {
  SG_REQUIRE_TSHARK();
  const std::string path = ::testing::TempDir() + "mxua_data_fields.pcap";
  {
    sgtest::PcapWriter w(path);
    for (std::uint8_t sls = 0; sls < 3; ++sls) {
      Data d;
      d.routing_context = 100;
      d.protocol_data = ProtocolData{PointCode{golden::kOpc}, PointCode{golden::kDpc}, 5, 2, 0, sls,
                                     Bytes{0x01, 0x00, 0x10, 0x00}};
      w.sctp_data(kSctpPort, kSctpPort, kPpid, 1, encode(Message{d}));
    }
  }
  auto out = sgtest::tshark_decode(path, "-o m3ua.version:rfc4666 -T fields -e m3ua.protocol_data_opc "
                                         "-e m3ua.protocol_data_dpc -e m3ua.protocol_data_si -e m3ua.protocol_data_sls "
                                         "-e m3ua.routing_context");
  ASSERT_TRUE(out.has_value());
  EXPECT_NE(out->find("2067\t4124\t5\t0\t100"), std::string::npos) << *out;
  EXPECT_NE(out->find("2067\t4124\t5\t2\t100"), std::string::npos) << *out;
}

}  // namespace
}  // namespace mxua
