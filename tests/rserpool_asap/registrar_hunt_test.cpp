// Server hunt (RFC 5352 3.6): three parallel attempts at most, T5 backoff.
#include "rserpool/asap/registrar_hunt.hpp"

#include <algorithm>

#include "asap_test_support.hpp"

namespace rserpool::asap::test {
namespace {

TEST(RegistrarHunt, StartsAtMostThreeAttemptsAndT5) {
  RegistrarHunt h(hunt_config(5));
  Actions a;
  h.start(a);
  EXPECT_EQ(connects(a), (std::vector<AssocId>{0, 1, 2}));
  EXPECT_TRUE(starts(a, TimerKind::t5_server_hunt, 10s));
  EXPECT_TRUE(h.hunting());
  // A second start while hunting changes nothing.
  Actions b;
  h.start(b);
  EXPECT_TRUE(b.empty());
}

TEST(RegistrarHunt, MaxParallelIsClampedToThree) {
  auto cfg = hunt_config(6);
  cfg.max_parallel = 6;
  RegistrarHunt h(cfg);
  Actions a;
  h.start(a);
  EXPECT_EQ(count<ConnectRegistrar>(a), 3u);
}

TEST(RegistrarHunt, FailedAttemptIsReplacedByAnUntriedAddress) {
  RegistrarHunt h(hunt_config(4));
  Actions a;
  h.start(a);
  Actions b;
  h.on_connect_failed(1, b);
  EXPECT_EQ(connects(b), (std::vector<AssocId>{3}));
  EXPECT_EQ(h.pending_attempts(), 3u);
  // Every address tried this round: a further failure starts nothing.
  Actions c;
  h.on_connect_failed(0, c);
  EXPECT_TRUE(connects(c).empty());
  EXPECT_EQ(h.pending_attempts(), 2u);
}

TEST(RegistrarHunt, T5DoublesUpToRetranMaxAndAbortsPendingAttempts) {
  RegistrarHunt h(hunt_config(4));
  Actions a;
  h.start(a);
  const std::vector<Duration> expected{20s, 40s, 60s, 60s};
  for (Duration d : expected) {
    Actions e;
    EXPECT_TRUE(h.on_t5_expiry(e));
    EXPECT_EQ(count<DisconnectRegistrar>(e), 3u);
    EXPECT_EQ(count<ConnectRegistrar>(e), 3u);
    EXPECT_TRUE(starts(e, TimerKind::t5_server_hunt, d)) << d.count();
    EXPECT_LE(h.pending_attempts(), 3u);
  }
}

TEST(RegistrarHunt, NewRoundTriesADifferentSet) {
  RegistrarHunt h(hunt_config(4));
  Actions a;
  h.start(a);
  Actions e;
  h.on_t5_expiry(e);
  // The cursor moved on: the round starts with the address not tried before.
  EXPECT_EQ(connects(e).front(), 3u);
}

TEST(RegistrarHunt, FirstConnectionBecomesHomeAndResetsT5) {
  RegistrarHunt h(hunt_config(3));
  Actions a;
  h.start(a);
  Actions e;
  h.on_t5_expiry(e);
  EXPECT_EQ(h.current_t5(), 20s);
  Actions c;
  EXPECT_TRUE(h.on_connected(1, c));
  EXPECT_TRUE(stops(c, TimerKind::t5_server_hunt));
  EXPECT_EQ(count<DisconnectRegistrar>(c), 2u);
  EXPECT_EQ(only<HomeRegistrarChanged>(c).assoc, 1u);
  EXPECT_EQ(h.home(), AssocId{1});
  EXPECT_EQ(h.current_t5(), 10s);
  EXPECT_FALSE(h.hunting());
  // A late success of an aborted attempt is closed again.
  Actions late;
  EXPECT_FALSE(h.on_connected(2, late));
  EXPECT_EQ(only<DisconnectRegistrar>(late).assoc, 2u);
}

TEST(RegistrarHunt, LosingHomeStartsANewHunt) {
  RegistrarHunt h(hunt_config(2));
  Actions a;
  h.start(a);
  h.on_connected(0, a);
  Actions l;
  EXPECT_TRUE(h.on_lost(0, l));
  EXPECT_FALSE(h.home());
  EXPECT_TRUE(h.hunting());
  EXPECT_EQ(count<ConnectRegistrar>(l), 2u);
}

TEST(RegistrarHunt, AdoptStopsAHuntInProgress) {
  RegistrarHunt h(hunt_config(2));
  Actions a;
  h.start(a);
  Actions b;
  EXPECT_TRUE(h.adopt(kInboundAssocBase, 0x1234, b));
  EXPECT_TRUE(stops(b, TimerKind::t5_server_hunt));
  EXPECT_EQ(count<DisconnectRegistrar>(b), 2u);
  EXPECT_EQ(h.home(), kInboundAssocBase);
  EXPECT_EQ(h.home_server_id(), 0x1234u);
  Actions c;
  EXPECT_FALSE(h.adopt(kInboundAssocBase, 0x1234, c));
}

TEST(RegistrarHunt, AlternativeHuntSkipsHomeAndGivesUpAfterOneRound) {
  RegistrarHunt h(hunt_config(5));
  Actions a;
  h.start(a);
  h.on_connected(2, a);
  Actions alt;
  h.start_alternative(alt);
  auto tried = connects(alt);
  EXPECT_EQ(tried.size(), 3u);
  EXPECT_EQ(std::count(tried.begin(), tried.end(), 2u), 0);
  EXPECT_TRUE(starts(alt, TimerKind::t5_server_hunt, 10s));
  Actions e;
  EXPECT_FALSE(h.on_t5_expiry(e));
  EXPECT_EQ(count<DisconnectRegistrar>(e), 3u);
  EXPECT_EQ(count<ConnectRegistrar>(e), 0u);
  EXPECT_EQ(count<StartTimer>(e), 0u);
  EXPECT_EQ(h.home(), AssocId{2});
  EXPECT_FALSE(h.hunting());
  // Only the home configured: nothing to try, no T5.
  RegistrarHunt single(hunt_config(1));
  Actions s;
  single.start(s);
  single.on_connected(0, s);
  Actions alt1;
  single.start_alternative(alt1);
  EXPECT_TRUE(alt1.empty());
}

TEST(RegistrarHunt, ServerAnnounceAddsRegistrarsForT7) {
  RegistrarHunt h(hunt_config(1));
  const auto src = *IpAddress::parse("10.9.9.9");
  // No transport parameters: the source address, well-known port.
  Actions a;
  h.on_server_announce(wire::asap::ServerAnnounce{0x11, {}}, src, a);
  EXPECT_TRUE(starts(a, TimerKind::t7_enrp_outdate, 5s, 1));
  EXPECT_EQ(h.known_registrars(), 2u);
  // Announced again: same id, T7 restarted, nothing added.
  Actions again;
  h.on_server_announce(wire::asap::ServerAnnounce{0x11, {}}, src, again);
  EXPECT_TRUE(starts(again, TimerKind::t7_enrp_outdate, 5s, 1));
  EXPECT_EQ(h.known_registrars(), 2u);
  // SCTP transport with an address and port; a TCP one is skipped.
  TransportParameter sctp;
  sctp.protocol = TransportProtocol::sctp;
  sctp.port = 3999;
  sctp.addresses.push_back(*IpAddress::parse("10.8.8.8"));
  TransportParameter tcp = sctp;
  tcp.protocol = TransportProtocol::tcp;
  tcp.addresses = {*IpAddress::parse("10.7.7.7")};
  Actions b;
  h.on_server_announce(wire::asap::ServerAnnounce{0x12, {sctp, tcp}}, src, b);
  EXPECT_EQ(count<StartTimer>(b), 1u);
  EXPECT_EQ(h.known_registrars(), 3u);
  // A hunt tries all three; after T7 the learned one at id 1 is left out.
  h.on_t7_expiry(1);
  h.on_t7_expiry(0);  // configured registrars never expire
  EXPECT_EQ(h.known_registrars(), 2u);
  Actions s;
  h.start(s);
  auto c = all<ConnectRegistrar>(s);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].assoc, 0u);
  EXPECT_EQ(c[1].assoc, 2u);
  EXPECT_EQ(c[1].address.to_string(), "10.8.8.8:3999");
}

TEST(RegistrarHunt, AnnounceDuringAHuntIsTriedAtOnce) {
  RegistrarHunt h(HuntConfig{});
  Actions s;
  h.start(s);
  Actions a;
  h.on_server_announce(wire::asap::ServerAnnounce{0x11, {}}, *IpAddress::parse("10.9.9.9"), a);
  auto c = all<ConnectRegistrar>(a);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].assoc, 0u);
  EXPECT_EQ(c[0].address.to_string(), "10.9.9.9:3863");
}

TEST(RegistrarHunt, NoRegistrarsConfiguredOnlyRunsT5) {
  RegistrarHunt h(HuntConfig{});
  Actions a;
  h.start(a);
  EXPECT_EQ(count<ConnectRegistrar>(a), 0u);
  Actions e;
  EXPECT_TRUE(h.on_t5_expiry(e));
  EXPECT_TRUE(starts(e, TimerKind::t5_server_hunt, 20s));
}

}  // namespace
}  // namespace rserpool::asap::test
