// SS7 peer isolation in the SGP core (issue 14 item 4), traffic-mode
// negotiation at the SGP (RFC 4666 4.3.4.3), and SSNM to an ASP that
// becomes active while destinations are down (RFC 4666 4.5.1). Virtual
// time only; each rule has a test that fails without it.
#include "mxua/fsm/sgp_node.hpp"

#include "fsm_helpers.hpp"

namespace mxua {
namespace {

using namespace test;

constexpr std::uint32_t kRcA = 100, kRcB = 200;
constexpr AssocId kIsoA1 = 1, kIsoA2 = 2, kIsoB1 = 3, kIsoX = 4;

rserpool::IpAddress ip(const char* t) { return *rserpool::IpAddress::parse(t); }

// Peer "stp-a" (two addresses, multi-homed) owns RC 100, peer "stp-b" owns
// RC 200; RC 100's key is DPC 0x101c.
SgpConfig two_peers() {
  SgpConfig c;
  c.peers = {SgpPeerConfig{"stp-a", {ip("192.0.2.1"), ip("2001:db8::1")}, {}},
             SgpPeerConfig{"stp-b", {ip("192.0.2.2")}, {}}};
  AsConfig a;
  a.name = "a";
  a.routing_context = kRcA;
  a.owners = {"stp-a"};
  a.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{0x101c}}, {}, {}}};
  AsConfig b;
  b.name = "b";
  b.routing_context = kRcB;
  b.owners = {"stp-b"};
  c.application_servers = {a, b};
  c.rkm = RkmPermission::DynamicPermitted;
  return c;
}

Actions up_from(SgpNode& n, AssocId a, std::vector<rserpool::IpAddress> from) {
  Actions out = n.association_up(a, from, 5, at(0ms));
  auto more = n.receive(a, 0, encode(Message{AspUp{a + 100, {}}}), at(0ms));
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

Actions aspac(SgpNode& n, AssocId a, std::vector<std::uint32_t> rcs, std::optional<TrafficMode> mode = std::nullopt,
              TimePoint now = at(1ms)) {
  return n.receive(a, 0, encode(Message{AspAc{mode, std::move(rcs), {}}}), now);
}

Bytes data_from(std::uint32_t opc, std::optional<std::uint32_t> rc) {
  Data d;
  d.routing_context = rc;
  d.protocol_data = ProtocolData{PointCode{opc}, PointCode{0x0813}, si::kIsup, 2, 0, 1, Bytes{1, 0, 0x10, 0}};
  return encode(Message{d});
}

bool refused(const Actions& a) { return !all_of<AssociationRefused>(a).empty(); }

// --------------------------------------------------------------- binding

// An association is a peer's only if EVERY one of its addresses is the
// peer's: one configured address among others is not enough.
TEST(SgpPeers, AssociationIsBoundOnlyWhenEveryAddressBelongsToThePeer) {
  SgpNode n(two_peers());
  EXPECT_FALSE(refused(n.association_up(kIsoA1, {ip("192.0.2.1")}, 5, at(0ms))));
  EXPECT_EQ(n.peer_of(kIsoA1), PeerId{0});
  EXPECT_FALSE(refused(n.association_up(kIsoA2, {ip("2001:db8::1"), ip("192.0.2.1")}, 5, at(0ms))));
  EXPECT_EQ(n.peer_of(kIsoA2), PeerId{0});
  // stp-a's address plus a stranger's: refused ("any one matches" took it).
  EXPECT_TRUE(refused(n.association_up(kIsoX, {ip("192.0.2.1"), ip("198.51.100.7")}, 5, at(0ms))));
  // Addresses of two different peers: neither peer's.
  EXPECT_TRUE(refused(n.association_up(kIsoX, {ip("192.0.2.1"), ip("192.0.2.2")}, 5, at(0ms))));
  EXPECT_TRUE(refused(n.association_up(kIsoX, {}, 5, at(0ms))));
  EXPECT_EQ(n.refused_associations(), 3U);
  // The core keeps nothing of a refused association.
  EXPECT_EQ(n.asp_state(kIsoX), AspState::Down);
  EXPECT_EQ(count_drops(n.receive(kIsoX, 0, encode(Message{AspUp{}}), at(1ms)), DropReason::UnknownAssociation), 1);
  // An IPv4 peer seen on a dual-stack socket (::ffff:a.b.c.d) is the same peer.
  EXPECT_FALSE(refused(n.association_up(kIsoB1, {ip("::ffff:192.0.2.2")}, 5, at(0ms))));
  EXPECT_EQ(n.peer_of(kIsoB1), PeerId{1});
}

// Issue 14 (connection floods): a host with a peer's address (the same
// machine, the same NAT) opens idle associations without end. The peer
// holds at most max_associations_per_peer; a newcomer closes the oldest
// idle one (ASP DOWN), never an ASP that is up; with none idle it is
// refused. Other peers are not affected.
TEST(SgpPeers, APeersAssociationsAreCappedIdleOnesMakeRoomUpOnesStay) {
  SgpConfig c = two_peers();
  c.max_associations_per_peer = 3;
  SgpNode n(c);
  const auto a = ip("192.0.2.1");
  EXPECT_FALSE(refused(up_from(n, 10, {a})));  // ASP up (ASPUP accepted)
  EXPECT_FALSE(refused(n.association_up(11, {a}, 5, at(0ms))));  // idle
  EXPECT_FALSE(refused(n.association_up(12, {a}, 5, at(0ms))));  // idle
  // Full: the oldest idle one (11) makes room.
  auto acts = n.association_up(13, {a}, 5, at(1ms));
  auto closed = all_of<AssociationRefused>(acts);
  ASSERT_EQ(closed.size(), 1U);
  EXPECT_EQ(closed[0].assoc, 11U);
  EXPECT_EQ(closed[0].why, AssociationRefused::Why::evicted);
  EXPECT_EQ(n.evicted_associations(), 1U);
  EXPECT_EQ(n.peer_of(11), std::nullopt);
  EXPECT_EQ(n.peer_of(13), PeerId{0});
  // Everything up: the newcomer is refused; the up ASP stays.
  (void)n.receive(12, 0, encode(Message{AspUp{112, {}}}), at(2ms));
  (void)n.receive(13, 0, encode(Message{AspUp{113, {}}}), at(2ms));
  closed = all_of<AssociationRefused>(n.association_up(14, {a}, 5, at(3ms)));
  ASSERT_EQ(closed.size(), 1U);
  EXPECT_EQ(closed[0].assoc, 14U);
  EXPECT_EQ(closed[0].why, AssociationRefused::Why::peer_full);
  EXPECT_EQ(n.asp_state(10), AspState::Inactive);
  // Another peer has its own share.
  EXPECT_FALSE(refused(n.association_up(20, {ip("192.0.2.2")}, 5, at(3ms))));
  // An SCTP restart of a held association is not a newcomer.
  EXPECT_FALSE(refused(n.association_up(12, {a}, 5, at(4ms))));
}

TEST(SgpPeers, TwoPeersSharingAnAddressAreNeitherTrustedWithIt) {
  auto cfg = two_peers();
  cfg.peers[1].addresses.push_back(ip("192.0.2.1"));
  SgpNode n(cfg);
  EXPECT_TRUE(refused(n.association_up(kIsoA1, {ip("192.0.2.1")}, 5, at(0ms))));
}

TEST(SgpPeers, UnknownPeersWhenAcceptedServeNoOwnedAs) {
  auto cfg = two_peers();
  cfg.accept_unknown_peers = true;
  SgpNode n(cfg);
  auto a = up_from(n, kIsoX, {ip("198.51.100.7")});
  EXPECT_FALSE(refused(a));
  EXPECT_EQ(n.peer_of(kIsoX), std::nullopt);
  EXPECT_EQ(errs(aspac(n, kIsoX, {kRcA})), (std::vector<ErrorCode>{ErrorCode::InvalidRoutingContext}));
  EXPECT_EQ(errs(aspac(n, kIsoX, {})), (std::vector<ErrorCode>{ErrorCode::NoConfiguredAsForAsp}));
}

// --------------------------------------------------------------- ownership

// A second peer cannot activate the first one's routing context, and gets
// the RFC 4666 3.8.1 error naming it; the owner still can.
TEST(SgpPeers, AspacForAnotherPeersRoutingContextIsInvalid) {
  SgpNode n(two_peers());
  (void)up_from(n, kIsoA1, {ip("192.0.2.1")});
  (void)up_from(n, kIsoB1, {ip("192.0.2.2")});
  auto a = aspac(n, kIsoB1, {kRcA});
  auto e = sent_of<Err>(a, kIsoB1);
  ASSERT_EQ(e.size(), 1U);
  EXPECT_EQ(e[0].code, ErrorCode::InvalidRoutingContext);
  EXPECT_EQ(e[0].routing_contexts, (std::vector<std::uint32_t>{kRcA}));
  EXPECT_TRUE(sent_of<AspAcAck>(a).empty());
  EXPECT_EQ(n.asp_state(kIsoB1, kRcA), AspState::Inactive);
  EXPECT_NE(n.as_state(kRcA), AsState::Active);
  EXPECT_EQ(n.errors().sent_of(ErrorCode::InvalidRoutingContext), 1U);
  // Without RC, B activates what it owns and nothing else.
  (void)aspac(n, kIsoB1, {});
  EXPECT_EQ(n.asp_state(kIsoB1, kRcB), AspState::Active);
  EXPECT_EQ(n.asp_state(kIsoB1, kRcA), AspState::Inactive);
  // The owner is not disturbed.
  EXPECT_EQ(sent_of<AspAcAck>(aspac(n, kIsoA1, {kRcA})).size(), 1U);
  EXPECT_EQ(n.active_asps(kRcA), (std::vector<AssocId>{kIsoA1}));
  // Traffic for RC 100 goes to A only; B's DATA in RC 100 is refused.
  for (std::uint8_t sls = 0; sls < 8; ++sls) {
    DataView d;
    static const Bytes payload{1, 2, 3};
    d.routing_context = kRcA;
    d.protocol_data = ProtocolDataView{PointCode{1}, PointCode{2}, si::kIsup, 2, 0, sls, ByteView(payload)};
    for (const auto& s : sent(n.route(d, at(2ms)))) EXPECT_EQ(s.assoc, kIsoA1);
  }
  auto bad = n.receive(kIsoB1, 1, data_from(0x200, kRcA), at(3ms));
  EXPECT_EQ(errs(bad, kIsoB1), (std::vector<ErrorCode>{ErrorCode::InvalidRoutingContext}));
  EXPECT_TRUE(all_of<DataIndication>(bad).empty());
}

TEST(SgpPeers, RegistrationOfAnotherPeersKeyIsPermissionDenied) {
  SgpNode n(two_peers());
  (void)up_from(n, kIsoA1, {ip("192.0.2.1")});
  (void)up_from(n, kIsoA2, {ip("192.0.2.1")});
  (void)up_from(n, kIsoB1, {ip("192.0.2.2")});
  auto reg = [&](AssocId a, RoutingKey k) {
    auto acts = n.receive(a, 0, encode(Message{RegReq{{std::move(k)}}}), at(1ms));
    auto rsp = sent_of<RegRsp>(acts, a);
    EXPECT_EQ(rsp.size(), 1U);
    return rsp.empty() ? RegistrationResult{} : rsp[0].results.at(0);
  };
  RoutingKey k100;
  k100.local_rk_id = 1;
  k100.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{0x101c}}, {}, {}}};
  // B asks for A's configured key, by its destinations or by its RC.
  EXPECT_EQ(reg(kIsoB1, k100).status, RegistrationStatus::PermissionDenied);
  auto by_rc = k100;
  by_rc.routing_context = kRcA;
  EXPECT_EQ(reg(kIsoB1, by_rc).status, RegistrationStatus::PermissionDenied);
  EXPECT_EQ(reg(kIsoA1, k100).status, RegistrationStatus::Success);
  // A key A registers dynamically is A's: B is refused, A's other association joins.
  RoutingKey dyn;
  dyn.local_rk_id = 2;
  dyn.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{0x2222}}, {}, {}}};
  const auto r = reg(kIsoA1, dyn);
  ASSERT_EQ(r.status, RegistrationStatus::Success);
  EXPECT_EQ(reg(kIsoB1, dyn).status, RegistrationStatus::PermissionDenied);
  const auto joined = reg(kIsoA2, dyn);
  EXPECT_EQ(joined.status, RegistrationStatus::Success);
  EXPECT_EQ(joined.routing_context, r.routing_context);
}

// --------------------------------------------------------------- OPC screening

TEST(SgpPeers, OpcScreeningDropsAndCountsWhatThePeerMayNotOriginate) {
  auto cfg = two_peers();
  cfg.peers[0].originating_point_codes = {MaskedPointCode{2, PointCode{0x100}}};  // 0x100-0x103
  SgpNode n(cfg);
  (void)up_from(n, kIsoA1, {ip("192.0.2.1")});
  (void)up_from(n, kIsoB1, {ip("192.0.2.2")});
  (void)aspac(n, kIsoA1, {kRcA});
  (void)aspac(n, kIsoB1, {kRcB});
  auto ok = n.receive(kIsoA1, 1, data_from(0x102, kRcA), at(2ms));
  ASSERT_EQ(all_of<DataIndication>(ok).size(), 1U);
  auto screened = n.receive(kIsoA1, 1, data_from(0x200, kRcA), at(2ms));
  EXPECT_TRUE(all_of<DataIndication>(screened).empty());
  EXPECT_EQ(count_drops(screened, DropReason::OpcScreened), 1);
  EXPECT_TRUE(errs(screened).empty());  // no hint to the sender
  EXPECT_EQ(n.drops()[DropReason::OpcScreened], 1U);
  // A peer without a list is not screened.
  EXPECT_EQ(all_of<DataIndication>(n.receive(kIsoB1, 1, data_from(0x200, kRcB), at(2ms))).size(), 1U);
}

// --------------------------------------------------------------- RFC 4666 4.5.1

TEST(SgpSsnm, AspBecomingActiveHearsOfUnavailableAndRestrictedDestinations) {
  SgpNode n(two_peers());
  const MaskedPointCode down{0, PointCode{0x0813}}, cluster{3, PointCode{0x0900}}, slow{0, PointCode{0x0a00}};
  (void)n.announce(down, DestinationAvailability::Unavailable, at(0ms));
  (void)n.announce(cluster, DestinationAvailability::Unavailable, at(0ms));
  (void)n.announce(slow, DestinationAvailability::Restricted, at(0ms));
  (void)up_from(n, kIsoA1, {ip("192.0.2.1")});
  auto a = aspac(n, kIsoA1, {kRcA});
  const int ack = index_of<AspAcAck>(a, kIsoA1);
  const int duna_at = index_of<Duna>(a, kIsoA1);
  ASSERT_GE(ack, 0);
  ASSERT_GT(duna_at, ack);  // SSNM only once the ASP is active, after the ACK
  auto duna = sent_of<Duna>(a, kIsoA1);
  ASSERT_EQ(duna.size(), 1U);
  EXPECT_EQ(duna[0].routing_contexts, (std::vector<std::uint32_t>{kRcA}));
  EXPECT_EQ(duna[0].affected_point_codes, (std::vector<MaskedPointCode>{down, cluster}));
  auto drst = sent_of<Drst>(a, kIsoA1);
  ASSERT_EQ(drst.size(), 1U);
  EXPECT_EQ(drst[0].affected_point_codes, (std::vector<MaskedPointCode>{slow}));
  // An ASPAC for an AS the ASP is already active in repeats nothing.
  EXPECT_TRUE(sent_of<Duna>(aspac(n, kIsoA1, {kRcA})).empty());
  // Once available again, the next ASP is told only what is still down.
  (void)n.announce(down, DestinationAvailability::Available, at(2ms));
  (void)n.announce(cluster, DestinationAvailability::Available, at(2ms));
  (void)up_from(n, kIsoA2, {ip("192.0.2.1")});
  a = aspac(n, kIsoA2, {kRcA});
  EXPECT_TRUE(sent_of<Duna>(a, kIsoA2).empty());
  EXPECT_EQ(sent_of<Drst>(a, kIsoA2).size(), 1U);
}

// --------------------------------------------------------------- traffic mode (RFC 4666 4.3.4.3)

TEST(SgpTrafficMode, AnotherModeIsRefusedUnlessTheAsFollowsItsAsps) {
  auto cfg = two_peers();
  SgpNode strict(cfg);
  (void)up_from(strict, kIsoA1, {ip("192.0.2.1")});
  auto a = aspac(strict, kIsoA1, {kRcA}, TrafficMode::Override);
  EXPECT_EQ(errs(a, kIsoA1), (std::vector<ErrorCode>{ErrorCode::UnsupportedTrafficModeType}));
  EXPECT_EQ(sent_of<Err>(a, kIsoA1)[0].routing_contexts, (std::vector<std::uint32_t>{kRcA}));
  EXPECT_EQ(strict.errors().sent_of(ErrorCode::UnsupportedTrafficModeType), 1U);
  // Without a mode the AS's own applies, and the ACK says which.
  a = aspac(strict, kIsoA1, {kRcA});
  auto ack = sent_of<AspAcAck>(a, kIsoA1);
  ASSERT_EQ(ack.size(), 1U);
  EXPECT_EQ(ack[0].traffic_mode, TrafficMode::Loadshare);

  cfg.application_servers[0].accept_peer_mode = true;
  SgpNode follow(cfg);
  (void)up_from(follow, kIsoA1, {ip("192.0.2.1")});
  (void)up_from(follow, kIsoA2, {ip("192.0.2.1")});
  a = aspac(follow, kIsoA1, {kRcA}, TrafficMode::Override);
  ack = sent_of<AspAcAck>(a, kIsoA1);
  ASSERT_EQ(ack.size(), 1U);
  EXPECT_EQ(ack[0].traffic_mode, TrafficMode::Override);
  EXPECT_EQ(follow.application_server(kRcA)->mode(), TrafficMode::Override);
  EXPECT_EQ(follow.as_state(kRcA), AsState::Active);
  // While it is in use in override, loadshare is refused...
  EXPECT_EQ(errs(aspac(follow, kIsoA2, {kRcA}, TrafficMode::Loadshare), kIsoA2),
            (std::vector<ErrorCode>{ErrorCode::UnsupportedTrafficModeType}));
  // ...and override takes over as RFC 4666 says.
  a = aspac(follow, kIsoA2, {kRcA}, TrafficMode::Override);
  EXPECT_TRUE(has_ntfy(a, kIsoA1, StatusType::Other, status_info::kAlternateAspActive));
  // Out of use (T(r) expired), the AS is back to its configured mode.
  (void)follow.association_down(kIsoA2, at(10ms));
  (void)advance(follow, at(10s));
  EXPECT_EQ(follow.as_state(kRcA), AsState::Inactive);
  EXPECT_EQ(follow.application_server(kRcA)->mode(), TrafficMode::Loadshare);
}

}  // namespace
}  // namespace mxua
