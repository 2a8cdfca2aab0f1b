// The ENRP peer directory, sans-I/O, on virtual time: trust, binding of
// associations to server ids, routing, configured-peer connections and the
// mentor choice.
#include <gtest/gtest.h>

#include "registrar/peer_directory.hpp"
#include "test_support.hpp"

using namespace regtest;
namespace enrp = rserpool::wire::enrp;

namespace {

const TransportAddress kPeer{IpAddress::v4({10, 0, 0, 2}), 9901};
const TransportAddress kStranger{IpAddress::v4({10, 0, 0, 66}), 40000};

template <class A>
std::vector<A> of(const std::vector<DirectoryAction>& acts) {
  std::vector<A> out;
  for (const auto& a : acts) {
    if (const auto* x = std::get_if<A>(&a)) out.push_back(*x);
  }
  return out;
}

bool has(const std::vector<DirectoryAction>& acts, DirectoryEvent::Kind k) {
  for (const auto& e : of<DirectoryEvent>(acts)) {
    if (e.kind == k) return true;
  }
  return false;
}

DirectoryConfig config() {
  DirectoryConfig c;
  c.self = 0x100;
  c.peers = {kPeer};
  c.reconnect_interval = 1000ms;
  c.mentor_wait = 5000ms;
  return c;
}

// What the driver does: decode once, ask the directory, deliver.
PeerDirectory::Delivery deliver(PeerDirectory& d, LinkId link, const enrp::Message& m, TimePoint now,
                                std::vector<DirectoryAction>* acts = nullptr) {
  const Bytes raw = enrp::encode(m);
  auto decoded = enrp::decode(raw);
  std::vector<DirectoryAction> out;
  auto r = d.on_message(link, raw, decoded, now, out);
  if (acts) *acts = std::move(out);
  return r;
}

TEST(PeerDirectory, ConnectsConfiguredPeersAndBacksOffWhileTheyFail) {
  auto cfg = config();
  cfg.mentor_from_peers = false;
  PeerDirectory d(cfg);
  auto acts = d.start(at(0ms));
  auto c = of<ConnectPeer>(acts);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].to, kPeer);
  ASSERT_TRUE(c[0].slot.has_value());
  d.on_connecting(c[0], 7, at(0ms));
  d.on_down(7, true, at(10ms));  // refused
  // Retries every reconnect interval, doubling per failure (x8 at most).
  std::vector<TimePoint> tries;
  TimePoint t = at(0ms);
  LinkId link = 8;
  for (int i = 0; i < 6; ++i) {
    t = *d.next_deadline();
    auto r = of<ConnectPeer>(d.on_timeout(t));
    ASSERT_EQ(r.size(), 1u);
    tries.push_back(t);
    d.on_connecting(r[0], link, t);
    d.on_down(link++, true, t + 1ms);
  }
  EXPECT_EQ(tries[1] - tries[0], 2000ms);
  EXPECT_EQ(tries[2] - tries[1], 4000ms);
  EXPECT_EQ(tries[5] - tries[4], 8000ms);  // capped
  // Up: our reply-required PRESENCE on it, and the backoff is forgotten.
  t = *d.next_deadline();
  auto r = of<ConnectPeer>(d.on_timeout(t));
  ASSERT_EQ(r.size(), 1u);
  d.on_connecting(r[0], 50, t);
  acts = d.on_up(50, {kPeer}, t + 1ms);
  ASSERT_EQ(of<SendPresenceOn>(acts).size(), 1u);
  EXPECT_EQ(of<SendPresenceOn>(acts)[0].link, 50u);
}

TEST(PeerDirectory, AnAssociationSpeaksForOneServerOnly) {
  PeerDirectory d(config());
  (void)d.start(at(0ms));
  d.on_accepted(3);
  ASSERT_TRUE(of<AbortLink>(d.on_up(3, {kPeer}, at(1ms))).empty());
  std::vector<DirectoryAction> acts;
  auto r = deliver(d, 3, enrp::Presence{0x200, 0x100, false, 0xFFFF, {}}, at(2ms), &acts);
  EXPECT_TRUE(r.deliver);
  EXPECT_EQ(r.from, 0x200u);
  EXPECT_TRUE(has(acts, DirectoryEvent::Kind::bound));
  // Another id on the same association is dropped and counted.
  r = deliver(d, 3, enrp::Presence{0x300, 0x100, false, 0xFFFF, {}}, at(3ms), &acts);
  EXPECT_FALSE(r.deliver);
  EXPECT_TRUE(has(acts, DirectoryEvent::Kind::sender_changed));
  EXPECT_EQ(d.counters().sender_changed, 1u);
  // Messages to 0x200 go on the association it spoke on.
  EXPECT_EQ(d.route(0x200, at(4ms)).link, std::optional<LinkId>{3});
  EXPECT_FALSE(d.route(0x300, at(4ms)).link.has_value());
}

TEST(PeerDirectory, StrangersAreRefusedAndTheirListedServersDropped) {
  PeerDirectory d(config());
  (void)d.start(at(0ms));
  d.on_accepted(4);
  auto acts = d.on_up(4, {kStranger}, at(1ms));
  ASSERT_EQ(of<AbortLink>(acts).size(), 1u);
  EXPECT_TRUE(has(acts, DirectoryEvent::Kind::refused_untrusted));
  EXPECT_EQ(d.counters().associations_refused, 1u);
  EXPECT_FALSE(d.link_known(4));
  // A trusted peer's LIST_RESPONSE naming a stranger: the stranger is removed
  // before the core sees it (it would become a peer, then be taken over).
  d.on_accepted(5);
  (void)d.on_up(5, {kPeer}, at(2ms));
  enrp::ListResponse list{0x200, 0x100, false,
                          {ServerInformation{0x200, TransportParameter{TransportProtocol::sctp, 9901,
                                                                       TransportUse::data_only, 0, {kPeer.ip}, {}}},
                           ServerInformation{0x666, TransportParameter{TransportProtocol::sctp, 9901,
                                                                       TransportUse::data_only, 0, {kStranger.ip}, {}}}}};
  const Bytes raw = enrp::encode(list);
  auto decoded = enrp::decode(raw);
  std::vector<DirectoryAction> out;
  ASSERT_TRUE(d.on_message(5, raw, decoded, at(3ms), out).deliver);
  const auto& kept = std::get<enrp::ListResponse>(decoded.value().message);
  ASSERT_EQ(kept.servers.size(), 1u);
  EXPECT_EQ(kept.servers[0].id, 0x200u);
  EXPECT_EQ(d.counters().listed_servers_refused, 1u);
}

TEST(PeerDirectory, TheFirstConfiguredPeerToAnswerIsTheMentor) {
  PeerDirectory d(config());
  auto acts = d.start(at(0ms));
  EXPECT_EQ(d.mentor_wait(), MentorWait::waiting);
  auto c = of<ConnectPeer>(acts).at(0);
  d.on_connecting(c, 9, at(0ms));
  (void)d.on_up(9, {kPeer}, at(5ms));
  std::vector<DirectoryAction> out;
  ASSERT_TRUE(deliver(d, 9, enrp::Presence{0x200, 0, false, 0xFFFF, {}}, at(6ms), &out).deliver);
  auto start = of<StartMentorDownload>(out);
  ASSERT_EQ(start.size(), 1u);
  EXPECT_EQ(start[0].mentor, 0x200u);
  EXPECT_EQ(d.mentor_wait(), MentorWait::chosen);
  // Nobody answering within mentor_wait: we start alone.
  PeerDirectory lonely(config());
  (void)lonely.start(at(0ms));
  EXPECT_TRUE(has(lonely.on_timeout(at(5000ms)), DirectoryEvent::Kind::mentor_timed_out));
  EXPECT_EQ(lonely.mentor_wait(), MentorWait::timed_out);
}

TEST(PeerDirectory, ATrustedServerLearntFromItsPresenceIsConnectedOncePerInterval) {
  auto cfg = config();
  cfg.peers.clear();
  cfg.allowed = {IpAddress::v4({10, 0, 0, 3})};
  PeerDirectory d(cfg);
  (void)d.start(at(0ms));
  d.on_accepted(11);
  (void)d.on_up(11, {TransportAddress{IpAddress::v4({10, 0, 0, 3}), 50000}}, at(1ms));
  enrp::Presence p{0x300, 0x100, false, 0xFFFF,
                   ServerInformation{0x300, TransportParameter{TransportProtocol::sctp, 9901, TransportUse::data_only, 0,
                                                               {IpAddress::v4({10, 0, 0, 3})}, {}}}};
  ASSERT_TRUE(deliver(d, 11, p, at(2ms)).deliver);
  d.on_down(11, false, at(3ms));
  auto r = d.route(0x300, at(4ms));
  ASSERT_TRUE(r.connect.has_value());
  EXPECT_EQ(r.connect->to, (TransportAddress{IpAddress::v4({10, 0, 0, 3}), 9901}));
  EXPECT_EQ(r.connect->expected, 0x300u);
  d.on_connect_failed(*r.connect, at(4ms));
  // Not again within the reconnect interval: unroutable, counted.
  r = d.route(0x300, at(500ms));
  EXPECT_FALSE(r.connect.has_value());
  EXPECT_FALSE(r.link.has_value());
  EXPECT_EQ(d.counters().unroutable, 1u);
  EXPECT_TRUE(d.route(0x300, at(1004ms)).connect.has_value());
}

}  // namespace
