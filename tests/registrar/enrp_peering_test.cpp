// ENRP side of the registrar, sans-I/O, on virtual time.
#include <gtest/gtest.h>

#include "rserpool/wire/parameters.hpp"
#include "test_support.hpp"

using namespace regtest;
namespace asap = rserpool::wire::asap;
namespace enrp = rserpool::wire::enrp;

namespace {

constexpr ServerIdentifier kA = 0x100, kB = 0x200, kC = 0x300;

RegistrarConfig config(ServerIdentifier id, std::vector<ServerIdentifier> peers) {
  auto c = RegistrarConfig::aggressive(id);
  c.peers = std::move(peers);
  c.check_pe_addresses = false;
  c.keep_alive_audit = false;
  return c;
}

std::vector<Action> deliver(Registrar& r, const enrp::Message& m, TimePoint now) {
  return r.on_enrp_message(enrp::encode(m), now);
}

PoolElementParameter owned(PeIdentifier id, ServerIdentifier home) {
  auto pe = make_pe(id, 1, -1);
  pe.home_registrar = home;
  TransportParameter t;
  t.port = 3863;
  t.addresses = {ip(1)};
  pe.asap_transport = t;
  return pe;
}

TEST(EnrpPeering, StartAnnouncesAndArmsHeartbeat) {
  Registrar a(config(kA, {kB, kC}));
  auto acts = a.start(at(0ms));
  auto pres = enrp_of<enrp::Presence>(acts);
  ASSERT_EQ(pres.size(), 2u);
  EXPECT_TRUE(pres[0].second.reply_required);
  EXPECT_EQ(pres[0].second.pe_checksum, 0xFFFF);
  EXPECT_EQ(*a.deadline(TimerKey{TimerKind::peer_heartbeat, 0}), at(2444ms));
  acts = a.on_timeout(at(2444ms));
  // Both peers stayed silent past MAX-TIME-NO-RESPONSE: dead; configured
  // peers still get our heartbeat so they find us again when they return.
  EXPECT_TRUE(has_event(acts, Event::peer_dead));
  EXPECT_EQ(enrp_of<enrp::Presence>(acts).size(), 2u);
  EXPECT_FALSE(a.peer_active(kB));
  Registrar b(config(kB, {kA}));
  (void)b.start(at(0ms));
  acts = b.on_timeout(at(1000ms));
  EXPECT_TRUE(enrp_of<enrp::Presence>(acts).empty());  // not yet due
}

TEST(EnrpPeering, ReplyRequiredPresenceIsAnsweredWithServerInformation) {
  auto cfg = config(kA, {});
  TransportParameter t;
  t.port = 9901;
  t.addresses = {ip(100)};
  cfg.enrp_transport = t;
  Registrar a(cfg);
  (void)a.start(at(0ms));
  auto acts = deliver(a, enrp::Presence{kB, kA, true, 0xFFFF, {}}, at(10ms));
  auto pres = enrp_of<enrp::Presence>(acts);
  ASSERT_EQ(pres.size(), 1u);
  EXPECT_EQ(pres[0].first, kB);
  EXPECT_FALSE(pres[0].second.reply_required);
  ASSERT_TRUE(pres[0].second.server_information);
  EXPECT_EQ(pres[0].second.server_information->transport.port, 9901);
  EXPECT_TRUE(a.peer_active(kB));
  EXPECT_TRUE(has_event(acts, Event::peer_up));
}

TEST(EnrpPeering, LocalChangesAreSentAsHandleUpdates) {
  Registrar a(config(kA, {kB}));
  (void)a.start(at(0ms));
  (void)a.on_asap_association_up(1, {ip(1)}, 5000, at(0ms));
  auto acts = a.on_asap_message(1, registration("pool", make_pe(7, 1)), at(10ms));
  auto ups = enrp_of<enrp::HandleUpdate>(acts);
  ASSERT_EQ(ups.size(), 1u);
  EXPECT_EQ(ups[0].first, kB);
  EXPECT_EQ(ups[0].second.action, enrp::UpdateAction::add_pe);
  EXPECT_EQ(ups[0].second.pool_element.home_registrar, kA);
  ASSERT_TRUE(ups[0].second.pool_element.asap_transport);
  acts = a.on_asap_message(1, asap::encode(asap::Deregistration{PoolHandle{"pool"}, 7}), at(20ms));
  ups = enrp_of<enrp::HandleUpdate>(acts);
  ASSERT_EQ(ups.size(), 1u);
  EXPECT_EQ(ups[0].second.action, enrp::UpdateAction::del_pe);
}

TEST(EnrpPeering, PeerUpdatesAreAppliedAndOnlyTheOwnerMayDelete) {
  Registrar a(config(kA, {kB, kC}));
  (void)a.start(at(0ms));
  (void)deliver(a, enrp::HandleUpdate{kB, kA, false, enrp::UpdateAction::add_pe, PoolHandle{"p"}, owned(5, kB)},
                at(1ms));
  const auto* e = a.handlespace().find(PoolHandle{"p"}, 5);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->owner(), kB);
  (void)deliver(a, enrp::HandleUpdate{kC, kA, false, enrp::UpdateAction::del_pe, PoolHandle{"p"}, owned(5, kC)},
                at(2ms));
  EXPECT_NE(a.handlespace().find(PoolHandle{"p"}, 5), nullptr);
  (void)deliver(a, enrp::HandleUpdate{kB, kA, false, enrp::UpdateAction::del_pe, PoolHandle{"p"}, owned(5, kB)},
                at(3ms));
  EXPECT_EQ(a.handlespace().find(PoolHandle{"p"}, 5), nullptr);
  // Misaddressed messages are dropped.
  (void)deliver(a, enrp::HandleUpdate{kB, kC, false, enrp::UpdateAction::add_pe, PoolHandle{"p"}, owned(6, kB)},
                at(4ms));
  EXPECT_EQ(a.handlespace().element_count(), 0u);
  EXPECT_EQ(a.counters().enrp_misaddressed, 1u);
}

TEST(EnrpPeering, ChecksumMismatchTriggersResyncWithSweep) {
  Registrar a(config(kA, {kB}));
  (void)a.start(at(0ms));
  // A believes B owns 1 and 2; B really owns 2 and 3.
  for (PeIdentifier id : {1u, 2u}) {
    (void)deliver(a, enrp::HandleUpdate{kB, kA, false, enrp::UpdateAction::add_pe, PoolHandle{"p"}, owned(id, kB)},
                  at(1ms));
  }
  rserpool::core::PeChecksum truth;
  truth.add(PoolHandle{"p"}, 2);
  truth.add(PoolHandle{"p"}, 3);
  auto acts = deliver(a, enrp::Presence{kB, kA, false, truth.value(), {}}, at(10ms));
  auto reqs = enrp_of<enrp::HandleTableRequest>(acts);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_TRUE(reqs[0].second.own_children_only);
  EXPECT_TRUE(has_event(acts, Event::resync_started));
  enrp::HandleTableResponse page1{kB, kA, true, false, {enrp::PoolEntry{PoolHandle{"p"}, {owned(2, kB)}}}};
  acts = deliver(a, page1, at(20ms));
  reqs = enrp_of<enrp::HandleTableRequest>(acts);
  ASSERT_EQ(reqs.size(), 1u);  // M=1: ask again
  enrp::HandleTableResponse page2{kB, kA, false, false, {enrp::PoolEntry{PoolHandle{"p"}, {owned(3, kB)}}}};
  acts = deliver(a, page2, at(30ms));
  EXPECT_TRUE(has_event(acts, Event::resync_done));
  EXPECT_EQ(a.handlespace().find(PoolHandle{"p"}, 1), nullptr);
  EXPECT_NE(a.handlespace().find(PoolHandle{"p"}, 2), nullptr);
  EXPECT_NE(a.handlespace().find(PoolHandle{"p"}, 3), nullptr);
  EXPECT_EQ(a.handlespace().pe_checksum(kB), truth.value());
  acts = deliver(a, enrp::Presence{kB, kA, false, truth.value(), {}}, at(40ms));
  EXPECT_TRUE(enrp_of<enrp::HandleTableRequest>(acts).empty());
}

TEST(EnrpPeering, HandleTableIsServedInPagesWithMoreBit) {
  auto cfg = config(kA, {});
  cfg.handle_table_page_size = 2;
  Registrar a(cfg);
  (void)a.start(at(0ms));
  (void)a.on_asap_association_up(1, {ip(1)}, 5000, at(0ms));
  for (PeIdentifier i = 1; i <= 3; ++i) (void)a.on_asap_message(1, registration("mine", make_pe(i, 1)), at(1ms));
  (void)deliver(a, enrp::HandleUpdate{kC, kA, false, enrp::UpdateAction::add_pe, PoolHandle{"theirs"}, owned(9, kC)},
                at(2ms));
  auto collect = [&](bool w) {
    std::size_t total = 0, pages = 0;
    bool more = true;
    while (more) {
      auto acts = deliver(a, enrp::HandleTableRequest{kB, kA, w}, at(3ms));
      auto resp = enrp_of<enrp::HandleTableResponse>(acts);
      EXPECT_EQ(resp.size(), 1u);
      if (resp.empty()) break;
      for (auto& p : resp[0].second.pools) total += p.pool_elements.size();
      more = resp[0].second.more_to_send;
      ++pages;
    }
    return std::pair{total, pages};
  };
  EXPECT_EQ(collect(false), (std::pair<std::size_t, std::size_t>{4, 2}));
  EXPECT_EQ(collect(true), (std::pair<std::size_t, std::size_t>{3, 2}));
}

TEST(EnrpPeering, FailureDetectionLeadsToTakeoverAndExecution) {
  Registrar a(config(kA, {kB, kC}));
  (void)a.start(at(0ms));
  (void)deliver(a, enrp::Presence{kB, kA, false, 0xFFFF, {}}, at(1ms));
  (void)deliver(a, enrp::Presence{kC, kA, false, 0xFFFF, {}}, at(1ms));
  (void)deliver(a, enrp::HandleUpdate{kC, kA, false, enrp::UpdateAction::add_pe, PoolHandle{"p"}, owned(5, kC)},
                at(2ms));
  // B keeps talking, C goes silent.
  (void)deliver(a, enrp::Presence{kB, kA, false, 0xFFFF, {}}, at(4000ms));
  auto acts = a.on_timeout(at(5002ms));
  auto pres = enrp_of<enrp::Presence>(acts);
  ASSERT_EQ(pres.size(), 1u);
  EXPECT_EQ(pres[0].first, kC);
  EXPECT_TRUE(pres[0].second.reply_required);
  acts = a.on_timeout(at(7002ms));
  EXPECT_TRUE(has_event(acts, Event::peer_dead));
  auto inits = enrp_of<enrp::InitTakeover>(acts);
  ASSERT_EQ(inits.size(), 2u);  // B and the target C
  EXPECT_TRUE(a.takeover_in_progress(kC));
  acts = deliver(a, enrp::InitTakeoverAck{kB, kA, kC}, at(7100ms));
  EXPECT_TRUE(has_event(acts, Event::takeover_won));
  auto ts = enrp_of<enrp::TakeoverServer>(acts);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].first, kB);
  EXPECT_EQ(a.handlespace().find(PoolHandle{"p"}, 5)->owner(), kA);
  bool home_ka = false;
  for (const auto& act : acts) {
    if (const auto* s = std::get_if<SendAsapToElement>(&act)) {
      const auto& ka = std::get<asap::EndpointKeepAlive>(s->message);
      home_ka = ka.home && ka.server_id == kA && s->pe == 5;
    }
  }
  EXPECT_TRUE(home_ka);
}

TEST(EnrpPeering, TakenOverPeIsBoundByItsAckAndAuditedThere) {
  auto cfg = config(kA, {kC});
  cfg.keep_alive_audit = true;
  Registrar a(cfg);
  (void)a.start(at(0ms));
  (void)deliver(a, enrp::HandleUpdate{kC, kA, false, enrp::UpdateAction::add_pe, PoolHandle{"p"}, owned(5, kC)},
                at(1ms));
  (void)a.on_timeout(at(5001ms));  // silent: reply-required PRESENCE
  (void)a.on_timeout(at(7001ms));  // no answer: dead, no other peer to ask
  ASSERT_EQ(a.handlespace().find(PoolHandle{"p"}, 5)->owner(), kA);
  // The PE connects and acknowledges the H=1 keep-alive on a new association.
  (void)a.on_asap_association_up(77, {ip(1)}, 6000, at(7010ms));
  (void)a.on_asap_message(77, asap::encode(asap::EndpointKeepAliveAck{PoolHandle{"p"}, 5}), at(7020ms));
  const auto due = *a.deadline(TimerKey{TimerKind::keep_alive, 0});
  auto acts = a.on_timeout(due);
  EXPECT_EQ(asap_of<asap::EndpointKeepAlive>(acts, 77).size(), 1u);
  // Its association going down now removes it (rspregistrar's behaviour).
  acts = a.on_asap_association_down(77, due + 1ms);
  EXPECT_EQ(a.handlespace().find(PoolHandle{"p"}, 5), nullptr);
}

TEST(EnrpPeering, PeerChangesArePushedToSubscribersAndPeerCopiesExpire) {
  Registrar a(config(kA, {kB}));
  (void)a.start(at(0ms));
  (void)a.on_asap_association_up(9, {ip(9)}, 9000, at(0ms));
  (void)a.on_asap_message(9, asap::encode(asap::HandleResolution{true, PoolHandle{"p"}, {}}), at(1ms));
  auto pe = owned(5, kB);
  pe.registration_life_ms = 3000;
  auto acts = deliver(a, enrp::HandleUpdate{kB, kA, false, enrp::UpdateAction::add_pe, PoolHandle{"p"}, pe}, at(10ms));
  auto pushed = asap_of<asap::HandleResolutionResponse>(acts, 9);
  ASSERT_EQ(pushed.size(), 1u);
  EXPECT_EQ(pushed[0].pool_elements.size(), 1u);
  // B's copy expires here too, without a DEL_PE from us (not ours).
  acts = a.on_timeout(at(3010ms));
  EXPECT_EQ(a.handlespace().element_count(), 0u);
  EXPECT_TRUE(enrp_of<enrp::HandleUpdate>(acts).empty());
  EXPECT_EQ(asap_of<asap::HandleResolutionResponse>(acts, 9).size(), 1u);
}

TEST(EnrpPeering, PeersApplyTakeoverServer) {
  Registrar b(config(kB, {kA, kC}));
  (void)b.start(at(0ms));
  (void)deliver(b, enrp::HandleUpdate{kC, kB, false, enrp::UpdateAction::add_pe, PoolHandle{"p"}, owned(5, kC)},
                at(2ms));
  auto acts = deliver(b, enrp::InitTakeover{kA, kB, kC}, at(10ms));
  auto acks = enrp_of<enrp::InitTakeoverAck>(acts);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].first, kA);
  EXPECT_FALSE(b.peer_active(kC));
  (void)deliver(b, enrp::TakeoverServer{kA, kB, kC}, at(20ms));
  EXPECT_EQ(b.handlespace().find(PoolHandle{"p"}, 5)->owner(), kA);
}

TEST(EnrpPeering, OrphanedPesAreTakenOverWhenTheInitiatorVanishes) {
  Registrar b(config(kB, {kA, kC}));
  (void)b.start(at(0ms));
  (void)deliver(b, enrp::HandleUpdate{kC, kB, false, enrp::UpdateAction::add_pe, PoolHandle{"p"}, owned(5, kC)},
                at(2ms));
  (void)deliver(b, enrp::InitTakeover{kA, kB, kC}, at(10ms));  // we ACK, C is no longer watched
  ASSERT_FALSE(b.peer_active(kC));
  // A never completes (it died too). After 2 x TAKEOVER-EXPIRE, B takes over.
  const auto due = *b.deadline(TimerKey{TimerKind::orphan_check, kC});
  EXPECT_EQ(due, at(6010ms));
  (void)deliver(b, enrp::Presence{kA, kB, false, 0xFFFF, {}}, at(5000ms));  // A alive but silent about C
  auto acts = b.on_timeout(due);
  EXPECT_TRUE(has_event(acts, Event::takeover_started));
  acts = deliver(b, enrp::InitTakeoverAck{kA, kB, kC}, due + 10ms);
  EXPECT_TRUE(has_event(acts, Event::takeover_won));
  EXPECT_EQ(b.handlespace().find(PoolHandle{"p"}, 5)->owner(), kB);
}

TEST(EnrpPeering, ConflictingTakeoversHigherIdWins) {
  Registrar a(config(kA, {kB, kC}));
  Registrar b(config(kB, {kA, kC}));
  (void)a.start(at(0ms));
  (void)b.start(at(0ms));
  // Both consider C dead (it never answered the start-up PRESENCE).
  (void)deliver(a, enrp::Presence{kB, kA, false, 0xFFFF, {}}, at(1900ms));
  (void)deliver(b, enrp::Presence{kA, kB, false, 0xFFFF, {}}, at(1900ms));
  (void)a.on_timeout(at(2000ms));
  (void)b.on_timeout(at(2000ms));
  ASSERT_TRUE(a.takeover_in_progress(kC));
  ASSERT_TRUE(b.takeover_in_progress(kC));
  // RFC 5353 3.9.1: A (lower id) aborts and acknowledges B's attempt; B
  // (higher id) ignores A's and wins.
  ASSERT_LT(kA, kB);
  auto acts = deliver(b, enrp::InitTakeover{kA, kB, kC}, at(2010ms));
  EXPECT_TRUE(enrp_of<enrp::InitTakeoverAck>(acts).empty());
  EXPECT_TRUE(b.takeover_in_progress(kC));
  acts = deliver(a, enrp::InitTakeover{kB, kA, kC}, at(2010ms));
  EXPECT_EQ(enrp_of<enrp::InitTakeoverAck>(acts).size(), 1u);
  EXPECT_FALSE(a.takeover_in_progress(kC));
  EXPECT_TRUE(has_event(acts, Event::takeover_aborted));
  acts = deliver(b, enrp::InitTakeoverAck{kA, kB, kC}, at(2020ms));
  EXPECT_TRUE(has_event(acts, Event::takeover_won));
}

TEST(EnrpPeering, TargetPresenceAbortsAndExpiryAbandons) {
  Registrar a(config(kA, {kB, kC}));
  (void)a.start(at(0ms));
  (void)deliver(a, enrp::Presence{kB, kA, false, 0xFFFF, {}}, at(1900ms));
  (void)a.on_timeout(at(2000ms));
  ASSERT_TRUE(a.takeover_in_progress(kC));
  auto acts = deliver(a, enrp::Presence{kC, kA, false, 0xFFFF, {}}, at(2100ms));
  EXPECT_TRUE(has_event(acts, Event::takeover_aborted));
  EXPECT_FALSE(a.takeover_in_progress(kC));
  EXPECT_TRUE(a.peer_active(kC));
  // The target itself answers an INIT_TAKEOVER with PRESENCE to everyone.
  Registrar c(config(kC, {kA, kB}));
  (void)c.start(at(0ms));
  acts = deliver(c, enrp::InitTakeover{kA, kC, kC}, at(10ms));
  EXPECT_EQ(enrp_of<enrp::Presence>(acts).size(), 2u);
  // No ACK in time: abandoned.
  (void)deliver(a, enrp::Presence{kB, kA, false, 0xFFFF, {}}, at(7000ms));
  (void)a.on_timeout(at(7200ms));  // C silent again
  (void)a.on_timeout(at(9300ms));
  ASSERT_TRUE(a.takeover_in_progress(kC));
  acts = a.on_timeout(at(12400ms));
  EXPECT_FALSE(a.takeover_in_progress(kC));
}

TEST(EnrpPeering, ListRequestAndResponse) {
  auto cfg = config(kA, {});
  TransportParameter t;
  t.port = 9901;
  t.addresses = {ip(100)};
  cfg.enrp_transport = t;
  Registrar a(cfg);
  (void)a.start(at(0ms));
  auto info_b = ServerInformation{kB, t};
  (void)deliver(a, enrp::Presence{kB, kA, false, 0xFFFF, info_b}, at(1ms));
  auto acts = deliver(a, enrp::ListRequest{kC, kA}, at(2ms));
  auto lists = enrp_of<enrp::ListResponse>(acts);
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(lists[0].second.servers.size(), 2u);  // A itself and B
  // A new server learns its peers from a mentor.
  auto cfg_d = config(0x400, {});
  cfg_d.mentor = kA;
  Registrar d(cfg_d);
  acts = d.start(at(0ms));
  EXPECT_EQ(enrp_of<enrp::ListRequest>(acts).size(), 1u);
  EXPECT_EQ(enrp_of<enrp::HandleTableRequest>(acts).size(), 1u);
  auto mine = lists[0].second;
  mine.sender_id = kA;
  mine.receiver_id = 0x400;
  // Until the mentor's table is complete, D refuses to serve its own (R=1).
  auto busy = enrp_of<enrp::HandleTableResponse>(deliver(d, enrp::HandleTableRequest{kB, 0x400, false}, at(4ms)));
  ASSERT_EQ(busy.size(), 1u);
  EXPECT_TRUE(busy[0].second.rejected);
  acts = deliver(d, mine, at(5ms));
  EXPECT_TRUE(d.peer_active(kB));
  (void)deliver(d, enrp::HandleTableResponse{kA, 0x400, false, false, {enrp::PoolEntry{PoolHandle{"p"}, {owned(8, kA)}}}},
                at(6ms));
  EXPECT_NE(d.handlespace().find(PoolHandle{"p"}, 8), nullptr);
  busy = enrp_of<enrp::HandleTableResponse>(deliver(d, enrp::HandleTableRequest{kB, 0x400, false}, at(7ms)));
  ASSERT_EQ(busy.size(), 1u);
  EXPECT_FALSE(busy[0].second.rejected);
  EXPECT_EQ(busy[0].second.pools.size(), 1u);
}

TEST(EnrpPeering, UnknownMessagesAndParametersGetEnrpError) {
  Registrar a(config(kA, {kB}));
  (void)a.start(at(0ms));
  // Type 0x4b (top bits 01): Unrecognized Message, addressed to the driver-known peer.
  Bytes unknown{0x4b, 0x00, 0x00, 0x0c, 0, 0, 0x02, 0x00, 0, 0, 0x01, 0x00};
  auto acts = a.on_enrp_message(unknown, at(1ms), kB);
  auto errs = enrp_of<enrp::Error>(acts);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].first, kB);
  EXPECT_EQ(errs[0].second.causes.at(0).code, ErrorCause::unrecognized_message);
  // Garbage: dropped, counted.
  acts = a.on_enrp_message(Bytes{1, 2, 3}, at(2ms), kB);
  EXPECT_TRUE(enrp_of<enrp::Error>(acts).empty());
  std::uint64_t counted = 0;
  for (auto c : a.counters().enrp_decode_errors) counted += c;
  EXPECT_EQ(counted, 2u);
  // An ENRP_ERROR is never answered.
  acts = deliver(a, enrp::Error{kB, kA, {OperationErrorCause{ErrorCause::unspecified, {}}}}, at(3ms));
  EXPECT_TRUE(enrp_of<enrp::Error>(acts).empty());
  EXPECT_EQ(a.counters().enrp_errors_received, 1u);
}

}  // namespace

namespace {

// Delivers every ENRP message `from` addressed to `to`, back and forth,
// until both are quiet (a reliable, instantaneous network of two).
void pump(Registrar& x, Registrar& y, std::vector<Action> acts, TimePoint now) {
  Registrar* from = &x;
  Registrar* to = &y;
  for (int round = 0; round < 10000 && !acts.empty(); ++round) {
    std::vector<Action> next;
    for (const auto& a : acts) {
      if (const auto* s = std::get_if<SendEnrp>(&a); s && s->peer == to->id()) {
        auto r = to->on_enrp_message(enrp::encode(s->message), now);
        next.insert(next.end(), r.begin(), r.end());
      }
    }
    acts = std::move(next);
    std::swap(from, to);
  }
}

// A mentor holding 5 PEs: 3 of its own, 2 whose home is kC.
Registrar mentor_with_five(TimePoint now) {
  auto cfg = config(kA, {kC});
  cfg.handle_table_page_size = 2;
  Registrar a(cfg);
  (void)a.start(now);
  (void)a.on_asap_association_up(1, {ip(1)}, 5000, now);
  for (PeIdentifier id : {1u, 2u, 3u}) (void)a.on_asap_message(1, registration("p", make_pe(id, 1)), now);
  for (PeIdentifier id : {4u, 5u}) {
    (void)deliver(a, enrp::HandleUpdate{kC, kA, false, enrp::UpdateAction::add_pe, PoolHandle{"q"}, owned(id, kC)}, now);
  }
  return a;
}

}  // namespace

TEST(EnrpPeering, MentorLearntAtRunTimeGivesTheWholeTableInPages) {
  Registrar a = mentor_with_five(at(0ms));
  ASSERT_EQ(a.handlespace().element_count(), 5u);
  Registrar d(config(0x400, {}));
  (void)d.start(at(0ms));
  EXPECT_EQ(d.mentor_download().state, MentorDownload::State::none);
  // The driver has just learnt which id speaks for the mentor's address.
  auto acts = d.start_mentor_download(kA, at(10ms));
  EXPECT_EQ(enrp_of<enrp::ListRequest>(acts).size(), 1u);
  auto req = enrp_of<enrp::HandleTableRequest>(acts);
  ASSERT_EQ(req.size(), 1u);
  EXPECT_FALSE(req[0].second.own_children_only);  // W=0: everything, not just the mentor's own
  EXPECT_EQ(d.mentor_download().state, MentorDownload::State::downloading);
  EXPECT_EQ(d.mentor_download().mentor, kA);
  // Still learning: another server's table request is refused (R=1).
  auto busy = enrp_of<enrp::HandleTableResponse>(deliver(d, enrp::HandleTableRequest{kB, 0x400, false}, at(11ms)));
  ASSERT_EQ(busy.size(), 1u);
  EXPECT_TRUE(busy[0].second.rejected);
  // A second call while one runs changes nothing.
  EXPECT_TRUE(enrp_of<enrp::HandleTableRequest>(d.start_mentor_download(kB, at(12ms))).empty());

  pump(d, a, std::move(acts), at(20ms));
  const Registrar& dd = d;
  EXPECT_EQ(dd.handlespace().element_count(), 5u);
  ASSERT_NE(dd.handlespace().find(PoolHandle{"q"}, 4), nullptr);
  EXPECT_EQ(dd.handlespace().find(PoolHandle{"q"}, 4)->owner(), kC);  // not only the mentor's own PEs
  EXPECT_EQ(dd.handlespace().find(PoolHandle{"p"}, 1)->owner(), kA);
  EXPECT_EQ(dd.mentor_download().state, MentorDownload::State::done);
  EXPECT_EQ(dd.mentor_download().pages, 3u);  // 2 + 2 + 1 with page size 2
  EXPECT_EQ(dd.mentor_download().elements, 5u);
  EXPECT_EQ(dd.counters().mentor_elements, 5u);
  EXPECT_EQ(dd.counters().resyncs, 0u);
}

TEST(EnrpPeering, MentorDownloadQueuesBehindAnAuditOfTheSameServer) {
  Registrar d(config(0x400, {}));
  (void)d.start(at(0ms));
  // The mentor's PRESENCE reached the core first: its checksum differs, so
  // an audit download (W=1) is in flight; responses carry no W bit.
  auto acts = deliver(d, enrp::Presence{kA, 0x400, false, 0x1234, std::nullopt}, at(1ms));
  auto audit = enrp_of<enrp::HandleTableRequest>(acts);
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_TRUE(audit[0].second.own_children_only);
  acts = d.start_mentor_download(kA, at(2ms));
  EXPECT_TRUE(enrp_of<enrp::HandleTableRequest>(acts).empty());
  EXPECT_EQ(d.mentor_download().state, MentorDownload::State::queued);
  // The audit's last page: now the whole table is asked for.
  acts = deliver(d, enrp::HandleTableResponse{kA, 0x400, false, false, {enrp::PoolEntry{PoolHandle{"p"}, {owned(8, kA)}}}},
                 at(3ms));
  auto req = enrp_of<enrp::HandleTableRequest>(acts);
  ASSERT_EQ(req.size(), 1u);
  EXPECT_FALSE(req[0].second.own_children_only);
  EXPECT_EQ(d.mentor_download().state, MentorDownload::State::downloading);
  (void)deliver(d, enrp::HandleTableResponse{kA, 0x400, false, false,
                                             {enrp::PoolEntry{PoolHandle{"p"}, {owned(8, kA), owned(9, kC)}}}},
                at(4ms));
  EXPECT_EQ(d.mentor_download().state, MentorDownload::State::done);
  EXPECT_EQ(d.mentor_download().elements, 2u);
  EXPECT_NE(d.handlespace().find(PoolHandle{"p"}, 9), nullptr);
}

TEST(EnrpPeering, MentorThatRefusesOrFallsSilentEndsTheDownload) {
  Registrar d(config(0x400, {}));
  (void)d.start(at(0ms));
  (void)d.start_mentor_download(kA, at(1ms));
  // The mentor is itself still starting: R=1.
  (void)deliver(d, enrp::HandleTableResponse{kA, 0x400, false, true, {}}, at(2ms));
  EXPECT_EQ(d.mentor_download().state, MentorDownload::State::rejected);
  // Not learning any more: our table is served.
  auto served = enrp_of<enrp::HandleTableResponse>(deliver(d, enrp::HandleTableRequest{kB, 0x400, false}, at(3ms)));
  ASSERT_EQ(served.size(), 1u);
  EXPECT_FALSE(served[0].second.rejected);

  Registrar e(config(0x500, {}));
  (void)e.start(at(0ms));
  (void)e.start_mentor_download(kA, at(1ms));
  const auto deadline = *e.deadline(TimerKey{TimerKind::table_request, kA});
  (void)e.on_timeout(deadline);
  EXPECT_EQ(e.mentor_download().state, MentorDownload::State::stalled);
  EXPECT_EQ(e.mentor_download().finished, deadline);
}
