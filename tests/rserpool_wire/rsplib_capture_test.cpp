// Decodes what rsplib 3.4.4 really sends (tests/captures/rsplib-3.4.4.pcap,
// captured in UML by tests/captures/make-rsplib-capture.sh): every ASAP and
// ENRP message must decode, and must re-encode to the very same bytes.
#include <gtest/gtest.h>

#include <map>

#include "pcap_reader.hpp"
#include "samples.hpp"

namespace {

using namespace wiretest;

TEST(RsplibCapture, EveryMessageDecodesAndReencodesByteExact) {
  const auto read = sgtest::read_sctp_messages(std::string(SG_CAPTURES_DIR) + "/rsplib-3.4.4.pcap");
  ASSERT_TRUE(read.has_value()) << "capture missing or unreadable";
  const auto& messages = *read;
  ASSERT_GT(messages.size(), 20U);
  std::map<int, int> asap_types;
  std::map<int, int> enrp_types;
  for (const auto& m : messages) {
    SCOPED_TRACE("frame " + std::to_string(m.frame));
    if (m.ppid == 11) {
      auto d = asap::decode(m.payload);
      ASSERT_TRUE(d.ok()) << d.error().detail;
      EXPECT_TRUE(d->unrecognized.empty());
      EXPECT_EQ(asap::encode(d->message), m.payload);
      ++asap_types[m.payload[0]];
      if (const auto* r = std::get_if<asap::Registration>(&d->message)) {
        // rspserver re-registers every 30 s and asks for 3x that: 90 s,
        // sent as 90000, i.e. milliseconds on the wire.
        EXPECT_EQ(r->pool_element.registration_life_ms, 90000);
        EXPECT_EQ(r->pool_handle, PoolHandle("EchoPool"));
        EXPECT_EQ(r->pool_element.policy.type, PolicyType::least_used);
      }
    } else if (m.ppid == 12) {
      auto d = enrp::decode(m.payload);
      ASSERT_TRUE(d.ok()) << d.error().detail;
      EXPECT_TRUE(d->unrecognized.empty());
      EXPECT_EQ(enrp::encode(d->message), m.payload);
      ++enrp_types[m.payload[0]];
    }
  }
  for (int t : {1, 2, 3, 4, 5, 6, 7, 8}) EXPECT_GT(asap_types[t], 0) << "ASAP type " << t;
  for (int t : {1, 2, 3, 4, 5, 6}) EXPECT_GT(enrp_types[t], 0) << "ENRP type " << t;
}

}  // namespace
