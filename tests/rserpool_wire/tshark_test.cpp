// Conformance against Wireshark's ASAP and ENRP dissectors: every message we
// encode, framed in SCTP with the IANA PPIDs and ports, must decode with no
// malformed packet or error-level expert info, and show the right names and
// field values.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "pcap_writer.hpp"
#include "samples.hpp"
#include "tshark.hpp"

namespace {

using namespace wiretest;

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

class Tshark : public ::testing::Test {
 protected:
  void SetUp() override {
    SG_REQUIRE_TSHARK();
  }

  std::string decode_all() {
    // One file per process: ctest runs this suite's tests as parallel
    // processes, and other checkouts' runs share /tmp; a shared name let one
    // process's writer truncate the capture another's tshark was reading
    // (every expected field missing, seen once under ctest -j2).
    const std::string path =
        ::testing::TempDir() + "rserpool_wire_tshark." + std::to_string(::getpid()) + ".pcap";
    {
      sgtest::PcapWriter w(path);
      EXPECT_TRUE(w.ok());
      for (const auto& m : asap_samples()) w.sctp_data(3863, 3863, 11, 0, asap::encode(m));
      for (const auto& g : asap_golden()) w.sctp_data(3863, 3863, 11, 0, g.bytes);
      for (const auto& m : enrp_samples()) w.sctp_data(9901, 9901, 12, 0, enrp::encode(m));
      for (const auto& g : enrp_golden()) w.sctp_data(9901, 9901, 12, 0, g.bytes);
    }
    auto out = sgtest::tshark_decode(path);
    std::remove(path.c_str());
    EXPECT_TRUE(out.has_value());
    return out.value_or("");
  }
};

TEST_F(Tshark, EveryMessageDecodesWithoutErrors) {
  const std::string out = decode_all();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.find("Malformed"), std::string::npos) << out;
  EXPECT_EQ(out.find("Expert Info (Error"), std::string::npos) << out;
  EXPECT_EQ(out.find("Expert Info (Warning"), std::string::npos) << out;

  const char* asap_names[] = {
      "Type: ASAP Registration (1)",
      "Type: ASAP Deregistration (2)",
      "Type: ASAP Registration Response (3)",
      "Type: ASAP Deregistration Response (4)",
      "Type: ASAP Handle Resolution (5)",
      "Type: ASAP Handle Resolution Response (6)",
      "Type: ASAP Endpoint Keep-Alive (7)",
      "Type: ASAP Endpoint Keep-Alive Acknowledgement (8)",
      "Type: ASAP Endpoint Unreachable (9)",
      "Type: ASAP Server Announce (10)",
      "Type: ASAP Cookie (11)",
      "Type: ASAP Cookie Echo (12)",
      "Type: ASAP Business Card (13)",
      "Type: ASAP Error (14)",
  };
  for (const char* n : asap_names) EXPECT_NE(out.find(n), std::string::npos) << n;
  const char* enrp_names[] = {
      "Type: ENRP Presence (1)",
      "Type: ENRP Handle Table Request (2)",
      "Type: ENRP Handle Table Response (3)",
      "Type: ENRP Handle Update (4)",
      "Type: ENRP List Request (5)",
      "Type: ENRP List Response (6)",
      "Type: ENRP Init Takeover (7)",
      "Type: ENRP Init Takeover Ack (8)",
      "Type: ENRP Takeover Server (9)",
      "Type: ENRP Error (10)",
  };
  for (const char* n : enrp_names) EXPECT_NE(out.find(n), std::string::npos) << n;
}

TEST_F(Tshark, KeyFieldValuesAreReadAsWeMeantThem) {
  const std::string out = decode_all();
  ASSERT_FALSE(out.empty());
  const char* fields[] = {
      // Flags.
      "R Bit: Rejected",
      "H Bit: Want to be new ENRP server",
      "R Bit: Reply required",
      "W Bit: Only information for own PEs",
      "M Bit: More information available",
      "T Bit: Takeover suggested",
      // Pool element contents.
      "Pool Handle: 677763 (gwc)",
      "PE Identifier: 0x11223344",
      "Registration Life: 30000ms",
      "Registration Life: -1ms",
      "Home ENRP Server Identifier: 0x0a0b0c0d",
      "Transport Use: Data plus control (1)",
      "IP Version 4 Address: 10.0.0.2",
      "IP Version 6 Address: 2001:db8::2",
      "Port: 2905",
      "Service Code: 1397179185",
      "IP Version 6 Address: 2001:db8::5",
      "Parameter Type: UDP-Lite Transport Address Parameter (0x0007)",
      // Policies.
      "Policy Type: Least Used (LU) (0x40000001)",
      "Policy Load: 12.50%",
      "Policy Type: Priority (PRI) (0x00000005)",
      "Policy Priority: 9",
      "Policy Type: Weighted Round Robin (WRR) (0x00000002)",
      "Policy Weight: 3",
      "Policy Type: Random (RAND) (0x00000003)",
      "Policy Type: Weighted Random (WRAND) (0x00000004)",
      "Policy Type: Randomized Least Used (RLU) (0x40000004)",
      "Policy Type: Least Used with Degradation (LUD) (0x40000002)",
      "Policy Type: Priority Least Used (PLU) (0x40000003)",
      "Policy Degradation: 50.00%",
      "Policy Distance: 25",
      "Policy Distance: 50",
      // ENRP specifics.
      "Sender Server's ID: 0x01020304",
      "Receiver Server's ID: 0x05060708",
      "Target Server's ID: 0x0badf00d",
      "Update Action: Delete pool element (1)",
      "PE Checksum: 0xabcd",
      "Server Identifier: 0x01020304",
      // HROPT and errors.
      "Items: 3",
      "Cause Code: Pooling policy inconsistent (0x0005)",
      "Cause Code: Unrecognized parameter (0x0001)",
      "Cause Code: Unknown pool handle (0x0009)",
  };
  for (const char* f : fields) EXPECT_NE(out.find(f), std::string::npos) << f;
  // Every PE we sent is seen as one Pool Element Parameter.
  std::size_t pes = 0;
  for (const auto& m : asap_samples()) {
    if (std::holds_alternative<asap::Registration>(m)) pes += 1;
    if (const auto* r = std::get_if<asap::HandleResolutionResponse>(&m)) pes += r->pool_elements.size();
    if (const auto* r = std::get_if<asap::BusinessCard>(&m)) pes += r->pool_elements.size();
  }
  for (const auto& g : asap_golden()) {
    if (std::holds_alternative<asap::Registration>(g.message)) pes += 1;
    if (const auto* r = std::get_if<asap::HandleResolutionResponse>(&g.message)) pes += r->pool_elements.size();
  }
  for (const auto& m : enrp_samples()) {
    if (std::holds_alternative<enrp::HandleUpdate>(m)) pes += 1;
    if (const auto* r = std::get_if<enrp::HandleTableResponse>(&m)) {
      for (const auto& p : r->pools) pes += p.pool_elements.size();
    }
  }
  for (const auto& g : enrp_golden()) {
    if (std::holds_alternative<enrp::HandleUpdate>(g.message)) pes += 1;
    if (const auto* r = std::get_if<enrp::HandleTableResponse>(&g.message)) {
      for (const auto& p : r->pools) pes += p.pool_elements.size();
    }
  }
  EXPECT_EQ(count(out, "Parameter Type: Pool Element Parameter (0x000a)"), pes);
}

}  // namespace
