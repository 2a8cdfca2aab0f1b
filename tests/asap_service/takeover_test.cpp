// ENRP takeover seen from the pool element (RFC 5353 3.9, RFC 5352 3.5):
// the PE listens on the ASAP transport address its home registrar records
// (the source port of its registrar associations); when the home dies, the
// registrar that takes over connects there, sends ENDPOINT_KEEP_ALIVE with
// the H bit, and the PE adopts it and registers there. TCP mapping on the
// host, kernel SCTP in UML.
#include "harness.hpp"
#include "rserpool/asap/service/control_channel.hpp"
#include "rserpool/asap/service/endpoint_mapping.hpp"
#include "rserpool/transport/endpoint.hpp"

namespace asaptest {
namespace {

namespace asap = rserpool::asap;
namespace transport = rserpool::transport;

const PoolHandle kTakeoverPool("TakeoverPool");

// Peer failure detection in about a second, so the takeover is quick.
void fast_peering(rserpool::registrar::ServerConfig& c) {
  c.core.peer_heartbeat_cycle = std::chrono::milliseconds{300};
  c.core.max_time_last_heard = std::chrono::milliseconds{800};
  c.core.max_time_no_response = std::chrono::milliseconds{400};
  c.core.takeover_expire = std::chrono::milliseconds{1000};
}

TEST(AsapTakeover, PeIsAdoptedThroughTheAssociationTheNewHomeOpens) {
  boost::asio::io_context io;
  auto a = start_registrar(io, 0x7001, {}, fast_peering);
  ASSERT_TRUE(a);
  auto b = start_registrar(io, 0x7002, {{IpAddress::v4_loopback(), a->enrp_port()}}, fast_peering);
  ASSERT_TRUE(b);
  ASSERT_TRUE(run_until(io, [&] { return a->core().peer_active(0x7002) && b->core().peer_active(0x7001); }, 5s));

  // The PE knows only A: after A dies, its hunt cannot succeed, so a new
  // home can only come through B's takeover.
  EchoPe pe(io, kTakeoverPool, 0xC1, access_to({asap_address(*a)}));
  ASSERT_TRUE(run_until(io, [&] { return pe.granted() == 1; }, 5s));
  ASSERT_NE(pe.element->asap_port(), 0);
  EXPECT_EQ(pe.element->home(), 0u);
  // A recorded our listening port as the ASAP transport, and told B.
  const auto* at_a = a->core().handlespace().find(kTakeoverPool, 0xC1);
  ASSERT_NE(at_a, nullptr);
  ASSERT_TRUE(at_a->element().asap_transport.has_value());
  EXPECT_EQ(at_a->element().asap_transport->port, pe.element->asap_port());
  ASSERT_TRUE(run_until(io, [&] {
    const auto* e = b->core().handlespace().find(kTakeoverPool, 0xC1);
    return e && e->element().asap_transport.has_value();
  }, 5s));

  const auto t0 = std::chrono::steady_clock::now();
  a->stop();
  ASSERT_TRUE(run_until(io, [&] { return pe.granted() == 2; }, 15s))
      << "homes by takeover " << pe.element->counters().homes_by_takeover << ", B element connects "
      << b->counters().element_connects;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::printf("takeover: PE re-registered at the new home %lld ms after its home stopped\n",
              static_cast<long long>(ms.count()));

  const auto& c = pe.element->counters();
  EXPECT_EQ(c.homes_by_hunt, 1u);      // the first home only
  EXPECT_EQ(c.homes_by_takeover, 1u);  // then B, on the association B opened
  EXPECT_EQ(c.homes_by_keep_alive, 0u);
  EXPECT_EQ(c.inbound_associations, 1u);
  EXPECT_EQ(c.inbound_ignored, 0u);
  ASSERT_TRUE(pe.element->home().has_value());
  EXPECT_GE(*pe.element->home(), asap::kInboundAssocBase);
  EXPECT_EQ(pe.results.back().code, asap::RegistrationCode::granted);
  EXPECT_TRUE(pe.results.back().renewal);
  EXPECT_EQ(b->core().counters().takeovers_won, 1u);
  EXPECT_GE(b->counters().element_connects, 1u);
  const auto* at_b = b->core().handlespace().find(kTakeoverPool, 0xC1);
  ASSERT_NE(at_b, nullptr);
  EXPECT_EQ(at_b->element().home_registrar, b->id());

  // B keeps the PE: its keep-alive audit is answered on the same association.
  const auto kas = c.keep_alives;
  ASSERT_TRUE(run_until(io, [&] { return pe.element->counters().keep_alives > kas; }, 6s));
  run_for(io, 300ms);
  EXPECT_NE(b->core().handlespace().find(kTakeoverPool, 0xC1), nullptr);
  EXPECT_EQ(pe.element->counters().homes_by_takeover, 1u);

  // A pool user at B finds the PE and is served by it.
  asap::PoolUserConfig puc;
  puc.stale_cache = 300ms;
  asap::PoolUserService pu(io, puc, access_to({asap_address(*b)}));
  auto session = pu.open_session(kTakeoverPool);
  std::vector<std::string> replies;
  session->on_data([&](PeIdentifier, transport::Message&& m) { replies.push_back(text(m.payload)); });
  ASSERT_TRUE(session->send(text("after-takeover")));
  ASSERT_TRUE(run_until(io, [&] { return replies.size() == 1; }, 5s));
  EXPECT_EQ(replies[0], "after-takeover");
}

// Collects what arrives on a raw association to the PE's ASAP port.
struct RawRegistrar : transport::AssociationHandler {
  void on_up(transport::Association&, const transport::AssociationInfo&) override { up = true; }
  void on_message(transport::Association&, transport::Message&& m) override {
    auto d = asap::decode_control(m.payload);
    if (d.message) received.push_back(*d.message);
  }
  void on_down(transport::Association&, transport::DownReason) override { down = true; }
  bool up = false;
  bool down = false;
  std::vector<rserpool::wire::asap::Message> received;
};

// Anyone may connect to the ASAP port; the PE answers registrar messages
// only, counts and ignores the rest, and an H bit for a foreign pool is
// dropped silently (KA1).
TEST(AsapTakeover, InboundAssociationsOnlyCarryRegistrarMessages) {
  boost::asio::io_context io;
  auto reg = start_registrar(io, 0x7101);
  ASSERT_TRUE(reg);
  EchoPe pe(io, kTakeoverPool, 0xC2, access_to({asap_address(*reg)}));
  ASSERT_TRUE(run_until(io, [&] { return pe.granted() == 1; }, 5s));
  ASSERT_NE(pe.element->asap_port(), 0);

  transport::EndpointConfig cfg;
  cfg.kind = test_kind();
  cfg.remote_addresses = {IpAddress::v4_loopback()};
  cfg.remote_port = pe.element->asap_port();
  auto raw = std::make_shared<RawRegistrar>();
  auto assoc = transport::connect(io, cfg, raw);
  ASSERT_TRUE(assoc.ok());
  ASSERT_TRUE(run_until(io, [&] { return raw->up && pe.element->counters().inbound_associations == 1; }, 5s));

  using rserpool::wire::asap::EndpointKeepAlive;
  rserpool::wire::asap::HandleResolution hr;
  hr.pool_handle = kTakeoverPool;
  ASSERT_TRUE((*assoc)->send(asap::control_message(hr)).ok());
  ASSERT_TRUE((*assoc)->send(asap::control_message(EndpointKeepAlive{true, 0x9999, PoolHandle("other"), 0})).ok());
  ASSERT_TRUE((*assoc)->send(asap::control_message(EndpointKeepAlive{false, 0x9999, kTakeoverPool, 0})).ok());
  ASSERT_TRUE(run_until(io, [&] { return !raw->received.empty(); }, 5s));
  run_for(io, 200ms);
  // One answer: the ACK to the keep-alive for our pool (H=0: home unchanged).
  ASSERT_EQ(raw->received.size(), 1u);
  const auto* ack = std::get_if<rserpool::wire::asap::EndpointKeepAliveAck>(&raw->received[0]);
  ASSERT_NE(ack, nullptr);
  EXPECT_EQ(ack->pe_id, 0xC2u);
  EXPECT_EQ(ack->pool_handle, kTakeoverPool);
  const auto& c = pe.element->counters();
  EXPECT_EQ(c.inbound_ignored, 1u);  // the HANDLE_RESOLUTION
  EXPECT_EQ(c.homes_by_takeover, 0u);
  EXPECT_EQ(pe.element->home(), 0u);
  EXPECT_EQ(pe.element->state(), asap::PoolElement::State::registered);
  (*assoc)->close();
  run_for(io, 100ms);
}

// The ASAP port is open to anyone: associations beyond max_associations are
// refused (and counted); the ones already accepted keep working.
TEST(AsapTakeover, AssociationsBeyondTheLimitAreRefused) {
  boost::asio::io_context io;
  auto reg = start_registrar(io, 0x7102);
  ASSERT_TRUE(reg);
  asap::PoolElementConfig cfg;
  cfg.pool = kTakeoverPool;
  cfg.pe_id = 0xC3;
  cfg.user_transport = asap::user_transport_for(test_kind(), {IpAddress::v4_loopback()}, 9);
  asap::TakeoverListen listen;
  listen.local_addresses = {IpAddress::v4_loopback()};
  listen.max_associations = 1;
  asap::PoolElementService pe(io, cfg, access_to({asap_address(*reg)}), listen);
  pe.register_pe();
  ASSERT_TRUE(run_until(io, [&] { return pe.counters().registrations_granted == 1; }, 5s));
  ASSERT_NE(pe.asap_port(), 0);

  transport::EndpointConfig to_pe;
  to_pe.kind = test_kind();
  to_pe.remote_addresses = {IpAddress::v4_loopback()};
  to_pe.remote_port = pe.asap_port();
  auto first = std::make_shared<RawRegistrar>();
  auto a1 = transport::connect(io, to_pe, first);
  ASSERT_TRUE(a1.ok());
  ASSERT_TRUE(run_until(io, [&] { return first->up && pe.counters().inbound_associations == 1; }, 5s));
  auto second = std::make_shared<RawRegistrar>();
  auto a2 = transport::connect(io, to_pe, second);
  ASSERT_TRUE(a2.ok());
  ASSERT_TRUE(run_until(io, [&] { return second->down; }, 5s));
  EXPECT_EQ(pe.counters().inbound_refused, 1u);
  EXPECT_EQ(pe.counters().inbound_associations, 1u);

  using rserpool::wire::asap::EndpointKeepAlive;
  ASSERT_TRUE((*a1)->send(asap::control_message(EndpointKeepAlive{false, 0x42, kTakeoverPool, 0})).ok());
  ASSERT_TRUE(run_until(io, [&] { return !first->received.empty(); }, 5s));
  EXPECT_TRUE(std::holds_alternative<rserpool::wire::asap::EndpointKeepAliveAck>(first->received[0]));
  (*a1)->close();
  run_for(io, 100ms);
}

}  // namespace
}  // namespace asaptest
