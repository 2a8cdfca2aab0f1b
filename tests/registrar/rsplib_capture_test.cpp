// What rsplib 3.4.4 really sent (tests/captures/rsplib-3.4.4.pcap), fed to
// our registrar core: rspserver's ASAP requests must be accepted, and
// rspregistrar's ENRP messages must be understood without ENRP_ERRORs.
#include <gtest/gtest.h>

#include <cstdio>

#include "pcap_reader.hpp"
#include "test_support.hpp"

using namespace regtest;
namespace asap = rserpool::wire::asap;
namespace enrp = rserpool::wire::enrp;

namespace {

constexpr std::uint32_t kAsapPpid = 11, kEnrpPpid = 12;

TEST(RsplibCapture, RspserverRequestsAreAcceptedByOurRegistrar) {
  const auto read = sgtest::read_sctp_messages(std::string(SG_CAPTURES_DIR) + "/rsplib-3.4.4.pcap");
  ASSERT_TRUE(read);
  auto cfg = RegistrarConfig::rfc_defaults(0x12345678);
  Registrar reg(cfg);
  (void)reg.start(at(0ms));
  std::size_t registrations = 0, accepted = 0, resolutions = 0, answered = 0, enrp_messages = 0;
  AssociationId next = 1;
  for (const auto& m : *read) {
    if (m.ppid == kAsapPpid && m.dst_port == 3863) {
      auto d = asap::decode(m.payload);
      ASSERT_TRUE(d) << "frame " << m.frame;
      const AssociationId aid = next++;
      std::vector<IpAddress> addrs;
      if (const auto* r = std::get_if<asap::Registration>(&d.value().message)) {
        addrs = r->pool_element.user_transport.addresses;  // the association's peer addresses
      }
      (void)reg.on_asap_association_up(aid, addrs, m.src_port, at(1000ms));
      auto acts = reg.on_asap_message(aid, m.payload, at(1000ms));
      EXPECT_TRUE(asap_of<asap::Error>(acts, aid).empty()) << "frame " << m.frame;
      if (std::holds_alternative<asap::Registration>(d.value().message)) {
        ++registrations;
        auto resp = asap_of<asap::RegistrationResponse>(acts, aid);
        if (resp.size() == 1 && !resp[0].rejected) ++accepted;
      } else if (std::holds_alternative<asap::HandleResolution>(d.value().message)) {
        ++resolutions;
        auto resp = asap_of<asap::HandleResolutionResponse>(acts, aid);
        if (resp.size() == 1) ++answered;
      }
    } else if (m.ppid == kEnrpPpid) {
      auto d = enrp::decode(m.payload);
      ASSERT_TRUE(d) << "frame " << m.frame;
      ++enrp_messages;
      // Address it to us, as if we were rspregistrar's peer.
      auto msg = d.value().message;
      std::visit([&](auto& x) { x.receiver_id = x.receiver_id == 0 ? 0 : cfg.server_id; }, msg);
      auto acts = reg.on_enrp_message(enrp::encode(msg), at(2000ms));
      EXPECT_TRUE(enrp_of<enrp::Error>(acts).empty()) << "frame " << m.frame;
    }
  }
  EXPECT_GT(registrations, 0u);
  EXPECT_EQ(accepted, registrations);
  EXPECT_EQ(answered, resolutions);
  std::printf("rsplib capture: %zu registrations accepted, %zu resolutions answered, %zu ENRP messages applied\n",
              accepted, answered, enrp_messages);
}

}  // namespace
