#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "pcap_reader.hpp"
#include "pcap_writer.hpp"

namespace {

TEST(PcapReader, ReadsBackWhatTheWriterWrote) {
  const std::string path = ::testing::TempDir() + "pcap_reader_roundtrip.pcap";
  const rserpool::Bytes a{1, 2, 3, 4, 5};
  const rserpool::Bytes b(1000, 0x5a);
  {
    sgtest::PcapWriter w(path);
    w.sctp_data(2905, 12905, 3, 7, a);
    w.udp(3863, 3863, a);  // not SCTP: must be skipped
    w.sctp_data(3863, 4000, 11, 0, b);
  }
  auto msgs = sgtest::read_sctp_messages(path);
  ASSERT_TRUE(msgs);
  ASSERT_EQ(msgs->size(), 2U);
  EXPECT_EQ((*msgs)[0].frame, 1U);
  EXPECT_EQ((*msgs)[0].ppid, 3U);
  EXPECT_EQ((*msgs)[0].stream, 7);
  EXPECT_EQ((*msgs)[0].dst_port, 12905);
  EXPECT_EQ((*msgs)[0].payload, a);
  EXPECT_EQ((*msgs)[1].frame, 3U);
  EXPECT_EQ((*msgs)[1].payload, b);
}

TEST(PcapReader, RejectsNonPcap) {
  EXPECT_FALSE(sgtest::read_sctp_messages("/nonexistent.pcap"));
  EXPECT_FALSE(sgtest::read_sctp_messages("/etc/hostname"));
}

// The committed rsplib capture (tests/captures/make-rsplib-capture.sh) holds
// every ASAP and ENRP message type rsplib uses in a registrar pair's life.
TEST(PcapReader, FindsRsplibAsapAndEnrpMessageTypes) {
  auto msgs = sgtest::read_sctp_messages(SG_CAPTURES_DIR "/rsplib-3.4.4.pcap");
  ASSERT_TRUE(msgs);
  std::set<int> asap, enrp;
  for (const auto& m : *msgs) {
    if (m.payload.empty()) continue;
    if (m.ppid == 11) asap.insert(m.payload[0]);
    if (m.ppid == 12) enrp.insert(m.payload[0]);
  }
  EXPECT_EQ(asap, (std::set<int>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(enrp, (std::set<int>{1, 2, 3, 4, 5, 6}));
}

}  // namespace
