// Bounds and trust rules of the registrar's cores, in virtual time (issue
// 14 items 2, 3 and 8): association caps with room kept for PEs, bounded
// subscriptions and resolution answers, the outbound queue policy for
// peers that do not read, ENRP trust by every address, and the read-only
// monitor role.
#include <gtest/gtest.h>

#include "registrar/outbound_queues.hpp"
#include "registrar/peer_directory.hpp"
#include "rserpool/wire/parameters.hpp"
#include "test_support.hpp"

using namespace regtest;
namespace asap = rserpool::wire::asap;
namespace enrp = rserpool::wire::enrp;

namespace {

std::vector<AssociationId> aborted(const std::vector<Action>& acts) {
  std::vector<AssociationId> out;
  for (const auto& a : acts) {
    if (const auto* x = std::get_if<AbortAsap>(&a)) out.push_back(x->association);
  }
  return out;
}

RegistrarConfig capped(std::size_t max, std::size_t reserved, std::size_t per_address) {
  auto c = RegistrarConfig::rfc_defaults(0x1000);
  c.caps.max_associations = max;
  c.caps.reserved_for_pes = reserved;
  c.caps.max_per_address = per_address;
  c.caps.client_idle = 10s;
  c.check_pe_addresses = false;
  c.keep_alive_audit = false;  // PEs here never answer: only admission is looked at
  return c;
}

// Issue 14 item 3: 1,009 idle associations locked out every new PE and PU.
TEST(AssociationCaps, OneAddressCannotHoldMoreThanItsShare) {
  Registrar reg(capped(100, 20, 10));
  const TimePoint t = at(0ms);
  for (AssociationId a = 1; a <= 10; ++a) EXPECT_TRUE(aborted(reg.on_asap_association_up(a, {ip(66)}, 4000, t)).empty());
  auto acts = reg.on_asap_association_up(11, {ip(66)}, 4000, t);
  EXPECT_EQ(aborted(acts), std::vector<AssociationId>{11});
  EXPECT_TRUE(has_event(acts, Event::asap_association_refused_per_address));
  EXPECT_EQ(reg.counters().associations_refused_per_address, 1u);
  // Messages on the refused association are not acted on.
  auto r = reg.on_asap_message(11, registration("p", make_pe(5, 66)), t);
  EXPECT_TRUE(asap_sent(r, 11).empty());
  EXPECT_EQ(reg.handlespace().element_count(), 0u);
  // Another address is still welcome.
  EXPECT_TRUE(aborted(reg.on_asap_association_up(12, {ip(7)}, 4000, t)).empty());
  // One going away frees its address's slot.
  (void)reg.on_asap_association_down(3, t);
  EXPECT_TRUE(aborted(reg.on_asap_association_up(13, {ip(66)}, 4000, t)).empty());
}

TEST(AssociationCaps, IdleClientsMakeRoomPesAreNeverEvictedNewcomersRefusedWhenNoneIdle) {
  Registrar reg(capped(10, 4, 0));
  TimePoint t = at(0ms);
  // 4 PEs register (they carry PEs: never evicted), 2 pool users subscribe.
  for (AssociationId a = 1; a <= 4; ++a) {
    (void)reg.on_asap_association_up(a, {ip(static_cast<std::uint8_t>(a))}, 4000, t);
    ASSERT_FALSE(asap_of<asap::RegistrationResponse>(reg.on_asap_message(a, registration("p", make_pe(static_cast<PeIdentifier>(a), 1, -1)), t), a)
                     .at(0)
                     .rejected);
  }
  for (AssociationId a = 5; a <= 6; ++a) {
    (void)reg.on_asap_association_up(a, {ip(static_cast<std::uint8_t>(a))}, 4000, t);
    (void)reg.on_asap_message(a, asap::encode(asap::HandleResolution{true, PoolHandle{"p"}, {}}), t);
  }
  // The client share (10 - 4 = 6) fills with 4 attackers that stay silent.
  for (AssociationId a = 7; a <= 10; ++a) EXPECT_TRUE(aborted(reg.on_asap_association_up(a, {ip(99)}, 4000, t)).empty());
  // Full, nobody idle long enough: refused.
  t += 5s;
  auto acts = reg.on_asap_association_up(11, {ip(11)}, 4000, t);
  EXPECT_EQ(aborted(acts), std::vector<AssociationId>{11});
  EXPECT_TRUE(has_event(acts, Event::asap_association_refused_full));
  // Past client_idle the longest idle client without PE or subscription goes.
  t += 6s;
  (void)reg.on_asap_message(8, asap::encode(asap::HandleResolution{false, PoolHandle{"p"}, {}}), t - 1s);  // 8 is active
  acts = reg.on_asap_association_up(12, {ip(12)}, 4000, t);
  ASSERT_EQ(aborted(acts).size(), 1u);
  EXPECT_EQ(aborted(acts)[0], 7u);
  EXPECT_TRUE(has_event(acts, Event::asap_association_evicted));
  EXPECT_EQ(reg.counters().associations_evicted, 1u);
  // The newcomer is a PE: it registers and is then safe.
  EXPECT_FALSE(asap_of<asap::RegistrationResponse>(reg.on_asap_message(12, registration("p", make_pe(12, 1, -1)), t), 12)
                   .at(0)
                   .rejected);
  for (int i = 0; i < 10; ++i) {
    t += 20s;
    acts = reg.on_asap_association_up(static_cast<AssociationId>(100 + i), {ip(100)}, 4000, t);
    for (AssociationId victim : aborted(acts)) {
      EXPECT_FALSE(victim >= 1 && victim <= 6) << "a PE or a subscriber was evicted: " << victim;
      EXPECT_NE(victim, 12u);
    }
  }
  EXPECT_EQ(reg.handlespace().element_count(), 5u);
}

// A burst of connections: each accepted one holds a descriptor before it is
// up, so the global cap applies at accept (the driver refuses at once and
// the process never runs out of descriptors while aborts are under way).
TEST(AssociationCaps, AcceptedAssociationsCountBeforeTheyAreUp) {
  Registrar reg(capped(10, 2, 0));
  TimePoint t = at(0ms);
  for (AssociationId a = 1; a <= 10; ++a) EXPECT_TRUE(aborted(reg.on_asap_association_accepted(a, t)).empty());
  auto acts = reg.on_asap_association_accepted(11, t);
  EXPECT_EQ(aborted(acts), std::vector<AssociationId>{11});
  EXPECT_TRUE(has_event(acts, Event::asap_association_refused_full));
  // One that never comes up and goes: room again.
  (void)reg.on_asap_association_down(4, t);
  EXPECT_TRUE(aborted(reg.on_asap_association_accepted(12, t)).empty());
  // Up ones idle past client_idle make room at accept too.
  for (AssociationId a : {1u, 2u, 3u}) (void)reg.on_asap_association_up(a, {ip(static_cast<std::uint8_t>(a))}, 4000, t);
  t += 11s;
  acts = reg.on_asap_association_accepted(13, t);
  ASSERT_EQ(aborted(acts).size(), 1u);
  EXPECT_EQ(aborted(acts)[0], 1u);
  EXPECT_TRUE(has_event(acts, Event::asap_association_evicted));
}

TEST(AssociationCaps, SubscriptionsAndResolutionAnswersAreBounded) {
  auto cfg = capped(0, 0, 0);
  cfg.max_subscriptions_per_association = 3;
  cfg.max_resolution_bytes = 1000;
  cfg.registration_rate = {};
  Registrar reg(cfg);
  const TimePoint t = at(0ms);
  (void)reg.on_asap_association_up(1, {ip(1)}, 4000, t);
  (void)reg.on_asap_association_up(9, {ip(9)}, 4000, t);
  for (int i = 0; i < 5; ++i) {
    auto r = asap_of<asap::HandleResolutionResponse>(
        reg.on_asap_message(9, asap::encode(asap::HandleResolution{true, PoolHandle{"s" + std::to_string(i)}, {}}), t), 9);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].accepted, i < 3) << i;
  }
  EXPECT_EQ(reg.counters().subscriptions_refused, 2u);
  // PEs with 30 addresses each: ~270 bytes of PE parameter apiece.
  for (PeIdentifier id = 1; id <= 40; ++id) {
    auto pe = make_pe(id, 1);
    for (std::uint8_t k = 2; k < 31; ++k) pe.user_transport.addresses.push_back(IpAddress::v4({10, 1, static_cast<std::uint8_t>(id), k}));
    ASSERT_FALSE(asap_of<asap::RegistrationResponse>(reg.on_asap_message(1, registration("big", pe), t), 1).at(0).rejected);
  }
  auto r = asap_of<asap::HandleResolutionResponse>(
      reg.on_asap_message(9, asap::encode(asap::HandleResolution{false, PoolHandle{"big"}, 40u}), t), 9);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_GE(r[0].pool_elements.size(), 1u);
  EXPECT_LT(r[0].pool_elements.size(), 40u);
  std::size_t bytes = 0;
  for (const auto& pe : r[0].pool_elements) bytes += rserpool::wire::encode_parameter(pe).size();
  EXPECT_LE(bytes, 1000u);
  EXPECT_EQ(reg.counters().resolutions_truncated, 1u);
}

// Issue 14 item 2: clients that never read grew the registrar by 15 MB/s.
TEST(OutboundQueues, APeerThatDoesNotReadIsAbortedAtItsBound) {
  OutboundConfig cfg;
  cfg.asap = {100, 10'000};
  cfg.enrp = {1000, 1'000'000};
  cfg.max_total_bytes = 50'000;
  OutboundQueues q(cfg);
  // A reader: the transport keeps one or two unacknowledged, nothing grows.
  for (int i = 0; i < 10'000; ++i) ASSERT_FALSE(q.on_sent(1, LinkClass::asap, 80, 1 + static_cast<std::size_t>(i % 2)));
  EXPECT_LE(q.held_bytes(1), 160u);
  // A pool user that never reads: over 100 messages, aborted.
  std::optional<OutboundQueues::Abort> a;
  int sent = 0;
  while (!a) a = q.on_sent(2, LinkClass::asap, 50, static_cast<std::size_t>(++sent));
  EXPECT_EQ(a->link, 2u);
  EXPECT_EQ(a->reason, OutboundQueues::Reason::messages);
  EXPECT_EQ(sent, 101);
  EXPECT_EQ(q.held_bytes(2), 0u);
  // Big answers: the byte bound comes first.
  a.reset();
  sent = 0;
  while (!a) a = q.on_sent(3, LinkClass::asap, 3000, static_cast<std::size_t>(++sent));
  EXPECT_EQ(a->reason, OutboundQueues::Reason::bytes);
  EXPECT_EQ(sent, 4);
  // Many slow peers together: the one holding most goes.
  for (QueueLink l = 10; l < 14; ++l) ASSERT_FALSE(q.on_sent(l, LinkClass::enrp, 9'000, 1));
  ASSERT_FALSE(q.on_sent(13, LinkClass::enrp, 9'000, 2));
  a = q.on_sent(14, LinkClass::enrp, 9'000, 1);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->link, 13u);
  EXPECT_EQ(a->reason, OutboundQueues::Reason::total);
  EXPECT_LE(q.total_bytes(), 50'000u);
  EXPECT_EQ(q.counters().aborted_messages, 1u);
  EXPECT_EQ(q.counters().aborted_bytes, 1u);
  EXPECT_EQ(q.counters().aborted_total, 1u);
  q.forget(10);
  EXPECT_EQ(q.held_bytes(10), 0u);
}

// The queue of the last send is remembered (issue 16): a link that ended
// and a link used in between must not find another link's queue, nor one
// that was dropped.
TEST(OutboundQueues, EachLinkKeepsItsOwnQueueAcrossAbortAndForget) {
  OutboundConfig cfg;
  cfg.asap = {3, 1'000'000};
  OutboundQueues q(cfg);
  ASSERT_FALSE(q.on_sent(1, LinkClass::asap, 100, 1));
  ASSERT_FALSE(q.on_sent(2, LinkClass::asap, 10, 1));
  ASSERT_FALSE(q.on_sent(1, LinkClass::asap, 100, 2));
  EXPECT_EQ(q.held_bytes(1), 200u);
  EXPECT_EQ(q.held_bytes(2), 10u);
  q.forget(1);
  ASSERT_FALSE(q.on_sent(1, LinkClass::asap, 7, 1));  // afresh: nothing of before
  EXPECT_EQ(q.held_bytes(1), 7u);
  ASSERT_FALSE(q.on_sent(1, LinkClass::asap, 7, 2));
  ASSERT_FALSE(q.on_sent(1, LinkClass::asap, 7, 3));
  const auto a = q.on_sent(1, LinkClass::asap, 7, 4);  // over 3 messages: aborted, its queue dropped
  ASSERT_TRUE(a);
  EXPECT_EQ(a->link, 1u);
  EXPECT_EQ(a->held_messages, 4u);
  EXPECT_EQ(q.held_bytes(1), 0u);
  ASSERT_FALSE(q.on_sent(1, LinkClass::asap, 5, 1));
  EXPECT_EQ(q.held_bytes(1), 5u);
  EXPECT_EQ(q.held_bytes(2), 10u);
  EXPECT_EQ(q.total_bytes(), 15u);
}

// Issue 14 item 8: hsdump on 198.18.0.1 was accepted as the configured peer
// 198.18.0.2 because its INIT listed .2 as well.
TEST(EnrpTrust, EveryAddressOfTheAssociationMustBelongToThePeer) {
  DirectoryConfig cfg;
  cfg.self = 0x100;
  const auto peer = *IpAddress::parse("198.18.0.2");
  const auto tool = *IpAddress::parse("198.18.0.1");
  cfg.peers = {TransportAddress{peer, 9901}};
  cfg.mentor_from_peers = false;
  PeerDirectory d(cfg);
  (void)d.start(at(0ms));
  d.on_accepted(1);
  auto acts = d.on_up(1, {TransportAddress{tool, 40000}, TransportAddress{peer, 40000}}, at(1ms));
  ASSERT_EQ(acts.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<AbortLink>(acts[1]));
  EXPECT_EQ(d.counters().associations_refused, 1u);
  // The peer itself, single- or multi-homed on allowed addresses, is fine.
  d.on_accepted(2);
  EXPECT_TRUE(d.on_up(2, {TransportAddress{peer, 9901}}, at(2ms)).empty());
  cfg.allowed = {*IpAddress::parse("2001:2::2")};
  PeerDirectory d2(cfg);
  d2.on_accepted(3);
  EXPECT_TRUE(d2.on_up(3, {TransportAddress{peer, 9901}, TransportAddress{*IpAddress::parse("2001:2::2"), 9901}}, at(0ms))
                  .empty());
}

const IpAddress kMonitor = *IpAddress::parse("198.18.0.1");

DirectoryConfig with_monitor() {
  DirectoryConfig cfg;
  cfg.self = 0x100;
  cfg.monitors = {kMonitor, *IpAddress::parse("2001:2::1")};
  cfg.max_monitor_links = 2;
  return cfg;
}

TEST(EnrpTrust, MonitorsAreAcceptedBoundedAndNeverConnectedTo) {
  PeerDirectory d(with_monitor());
  (void)d.start(at(0ms));
  d.on_accepted(1);
  ASSERT_TRUE(d.on_up(1, {TransportAddress{kMonitor, 40001}, TransportAddress{*IpAddress::parse("2001:2::1"), 40001}},
                      at(1ms))
                  .empty());
  EXPECT_EQ(d.counters().monitors_accepted, 1u);
  enrp::Presence p{0x4d4d, 0, true, 0xFFFF,
                   ServerInformation{0x4d4d, TransportParameter{TransportProtocol::sctp, 40001, TransportUse::data_only, 0,
                                                                 {kMonitor}, {}}}};
  const Bytes raw = enrp::encode(p);
  auto decoded = enrp::decode(raw);
  std::vector<DirectoryAction> out;
  const auto del = d.on_message(1, raw, decoded, at(2ms), out);
  EXPECT_TRUE(del.deliver);
  EXPECT_EQ(del.role, EnrpRole::monitor);
  EXPECT_EQ(del.from, 0x4d4du);
  // Answers go back on its association; once it is gone, nothing connects back.
  EXPECT_EQ(d.route(0x4d4d, at(3ms)).link, std::optional<LinkId>{1});
  d.on_down(1, false, at(4ms));
  const auto r = d.route(0x4d4d, at(5s));
  EXPECT_FALSE(r.link.has_value());
  EXPECT_FALSE(r.connect.has_value());
  // At most max_monitor_links at once.
  for (LinkId l = 10; l < 13; ++l) {
    d.on_accepted(l);
    auto acts = d.on_up(l, {TransportAddress{kMonitor, static_cast<std::uint16_t>(50000 + l)}}, at(6s));
    EXPECT_EQ(!acts.empty(), l == 12) << l;
  }
  EXPECT_EQ(d.counters().associations_refused_full, 1u);
}

// A handlespace dump (rsplib's hsdump) in the monitor role: it gets our
// PRESENCE, the whole table in pages and the server list; it never becomes
// a peer, so its departure is no peer death and no takeover.
TEST(MonitorRole, ReadsTheHandlespaceAndIsNeverAPeer) {
  auto cfg = RegistrarConfig::aggressive(0x100);
  cfg.handle_table_page_size = 2;
  cfg.check_pe_addresses = false;
  TransportParameter me;
  me.port = 9901;
  me.addresses = {ip(100)};
  cfg.enrp_transport = me;
  Registrar reg(cfg);
  TimePoint t = at(0ms);
  (void)reg.start(t);
  (void)reg.on_asap_association_up(1, {ip(1)}, 4000, t);
  for (PeIdentifier id = 1; id <= 5; ++id) (void)reg.on_asap_message(1, registration("p", make_pe(id, 1, -1)), t);
  constexpr ServerIdentifier kDump = 0x4d4d;
  const auto as_monitor = [&](const enrp::Message& m) {
    return reg.on_enrp_message(enrp::encode(m), t, kDump, EnrpRole::monitor);
  };
  auto acts = as_monitor(enrp::Presence{kDump, 0, true, 0xFFFF, {}});
  auto pres = enrp_of<enrp::Presence>(acts);
  ASSERT_EQ(pres.size(), 1u);
  EXPECT_EQ(pres[0].first, kDump);
  EXPECT_TRUE(pres[0].second.server_information.has_value());
  EXPECT_FALSE(has_event(acts, Event::peer_up));
  std::size_t pages = 0, pes = 0;
  for (bool more = true; more;) {
    auto resp = enrp_of<enrp::HandleTableResponse>(as_monitor(enrp::HandleTableRequest{kDump, 0x100, false}));
    ASSERT_EQ(resp.size(), 1u);
    for (const auto& pool : resp[0].second.pools) pes += pool.pool_elements.size();
    more = resp[0].second.more_to_send;
    ++pages;
  }
  EXPECT_EQ(pes, 5u);
  EXPECT_EQ(pages, 3u);
  EXPECT_EQ(enrp_of<enrp::ListResponse>(as_monitor(enrp::ListRequest{kDump, 0x100})).size(), 1u);
  // What a peer would send is ignored from a monitor.
  auto pe = make_pe(77, 1, -1);
  pe.home_registrar = kDump;
  (void)as_monitor(enrp::HandleUpdate{kDump, 0x100, false, enrp::UpdateAction::add_pe, PoolHandle{"p"}, pe});
  (void)as_monitor(enrp::HandleUpdate{kDump, 0x100, false, enrp::UpdateAction::del_pe, PoolHandle{"p"}, make_pe(1, 1)});
  (void)as_monitor(enrp::TakeoverServer{kDump, 0x100, 0x100});
  EXPECT_EQ(reg.handlespace().element_count(), 5u);
  EXPECT_EQ(reg.counters().monitor_ignored, 3u);
  EXPECT_TRUE(reg.active_peers().empty());
  // The dump leaves. Long after: no peer-dead, no takeover, nothing sent to it.
  for (int i = 0; i < 40; ++i) {
    t += 1s;
    acts = reg.on_timeout(t);
    EXPECT_FALSE(has_event(acts, Event::peer_dead));
    EXPECT_FALSE(has_event(acts, Event::takeover_started));
    for (const auto& a : acts) {
      if (const auto* s = std::get_if<SendEnrp>(&a)) ADD_FAILURE() << "ENRP sent to " << std::hex << s->peer;
    }
  }
  EXPECT_EQ(reg.counters().peers_dead, 0u);
}

}  // namespace
