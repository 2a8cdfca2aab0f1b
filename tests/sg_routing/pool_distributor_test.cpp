#include "sg/routing/pool_distributor.hpp"
#include "sg/routing/pool_member_selector.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>
#include <set>

namespace sg {
namespace {

using namespace std::chrono_literals;
using rserpool::PeIdentifier;

// Round robin over the candidates' order, like an RR pool user.
class RoundRobinSelector : public MemberSelector {
 public:
  PeIdentifier pick(const Placement&, std::span<const Candidate> c) override { return c[next_++ % c.size()].id; }

 private:
  std::size_t next_ = 0;
};

constexpr std::uint32_t kRemote = 100;
constexpr std::uint32_t kLocal = 200;

MtpMessage isup(rserpool::Bytes data, std::uint8_t sls = 0) {
  MtpMessage m;
  m.opc = kRemote;
  m.dpc = kLocal;
  m.si = kSiIsup;
  m.sls = sls;
  m.data = std::move(data);
  return m;
}

// What a controller sends back about a call.
MtpMessage isup_back(rserpool::Bytes data) {
  MtpMessage m = isup(std::move(data));
  std::swap(m.opc, m.dpc);
  return m;
}

MtpMessage sccp(std::uint8_t sls, std::uint8_t tag) {
  MtpMessage m;
  m.opc = kRemote;
  m.dpc = kLocal;
  m.si = kSiSccp;
  m.sls = sls;
  m.data = {tag};
  return m;
}

template <class T>
std::vector<T> only(const std::vector<Action>& actions) {
  std::vector<T> out;
  for (const auto& a : actions)
    if (auto* p = std::get_if<T>(&a)) out.push_back(*p);
  return out;
}

bool has_news(const std::vector<Action>& actions, PeIdentifier pe, MemberNews what) {
  for (const auto& n : only<action::News>(actions))
    if (n.pe == pe && n.what == what) return true;
  return false;
}

// A PE as the registrar lists it; `port` stands for its registration (a
// restarted controller registers another one).
rserpool::PoolElementParameter listing(PeIdentifier id, std::uint16_t port = 4000) {
  rserpool::PoolElementParameter p;
  p.id = id;
  p.user_transport.addresses = {*rserpool::IpAddress::parse("192.0.2.1")};
  p.user_transport.port = static_cast<std::uint16_t>(port + id);
  p.user_transport.protocol = rserpool::TransportProtocol::sctp;
  return p;
}

struct Fixture : ::testing::Test {
  RoundRobinSelector selector;
  DistributorConfig config;
  DistributorProfile profile;
  TimePoint t0{};

  Fixture() {
    profile.membership.retry_initial = 500ms;
    profile.membership.retry_max = 2s;
    profile.membership.audit_bound = 3s;
    profile.membership.suspicion = 1500ms;
  }
  std::unique_ptr<PoolDistributor> make() { return std::make_unique<PoolDistributor>(config, selector, profile); }
  static std::vector<Action> list(PoolDistributor& d, std::initializer_list<PeIdentifier> pes, TimePoint t) {
    std::vector<rserpool::PoolElementParameter> l;
    for (auto pe : pes) l.push_back(listing(pe));
    return d.handlespace(l, t);
  }
  void bring_up(PoolDistributor& d, std::initializer_list<PeIdentifier> pes) {
    auto a = list(d, pes, t0);
    ASSERT_EQ(only<action::Connect>(a).size(), pes.size());
    for (auto pe : pes) (void)d.association_up(pe, t0);
  }
};

TEST_F(Fixture, CallsAreSpreadAndStickToTheirPe) {
  auto d = make();
  bring_up(*d, {1, 2, 3});
  std::map<std::uint16_t, PeIdentifier> owner;
  std::map<PeIdentifier, int> per_pe;
  for (std::uint16_t cic = 0; cic < 30; ++cic) {
    auto sent = only<action::SendData>(d->message(isup(ss7::encode_iam(cic, "123")), t0));
    ASSERT_EQ(sent.size(), 1U);
    owner[cic] = sent[0].pe;
    ++per_pe[sent[0].pe];
  }
  EXPECT_EQ(per_pe, (std::map<PeIdentifier, int>{{1, 10}, {2, 10}, {3, 10}}));
  for (std::uint16_t cic = 0; cic < 30; ++cic) {
    for (auto msg : {ss7::encode_anm(cic), ss7::encode_rel(cic), ss7::encode_rlc(cic)}) {
      auto sent = only<action::SendData>(d->message(isup(msg, static_cast<std::uint8_t>(cic % 16)), t0));
      ASSERT_EQ(sent.size(), 1U);
      EXPECT_EQ(sent[0].pe, owner[cic]) << "cic " << cic;
    }
  }
  EXPECT_EQ(d->flow_count(), 0U);  // RLC ended every call
  EXPECT_EQ(d->counters().sent, 120U);
}

// ANSI T1.113 ISUP carries a 14-bit CIC: circuits 4096 apart are different
// circuits, with their own calls and their own flows.
TEST_F(Fixture, AnsiCircuitsFourThousandNinetySixApartAreSeparateFlows) {
  profile.isup_variant = ss7::IsupVariant::ansi;
  auto d = make();
  bring_up(*d, {1, 2});
  const auto first = only<action::SendData>(d->message(isup(ss7::encode_iam(5, "1")), t0));
  const auto second = only<action::SendData>(d->message(isup(ss7::encode_iam(4101, "1")), t0));
  ASSERT_EQ(first.size(), 1U);
  ASSERT_EQ(second.size(), 1U);
  EXPECT_EQ(d->flow_count(), 2U);
  EXPECT_NE(first[0].pe, second[0].pe) << "round robin: two flows, two PEs";
  // The release of one circuit leaves the other's call in place.
  (void)d->message(isup(ss7::encode_rlc(4101)), t0);
  EXPECT_EQ(d->flow_count(), 1U);
  EXPECT_EQ(only<action::SendData>(d->message(isup(ss7::encode_rel(5)), t0))[0].pe, first[0].pe);
}

TEST_F(Fixture, FailoverResendsHandedBackFirstEchoesCookieOnceAndReportsOnce) {
  auto d = make();
  bring_up(*d, {1, 2});
  d->cookie_received(1, {0xC0, 0x01});
  // Two SCCP flows land on PE 1 and 2; then PE 1 dies with two messages of
  // its flow unacknowledged.
  auto first = only<action::SendData>(d->message(sccp(1, 10), t0));
  ASSERT_EQ(first[0].pe, 1U);
  ASSERT_EQ(only<action::SendData>(d->message(sccp(2, 20), t0))[0].pe, 2U);
  (void)d->message(sccp(1, 11), t0);
  (void)d->message(sccp(1, 12), t0);

  auto actions = d->association_failed(1, {sccp(1, 11), sccp(1, 12)}, t0 + 1ms);
  ASSERT_EQ(only<action::ReportUnreachable>(actions).size(), 1U);
  ASSERT_EQ(only<action::Fence>(actions).size(), 1U);
  // Cookie first, then the handed-back messages in order, all to PE 2.
  std::vector<std::string> order;
  for (const auto& a : actions) {
    if (auto* c = std::get_if<action::SendCookieEcho>(&a)) {
      EXPECT_EQ(c->pe, 2U);
      EXPECT_EQ(c->cookie, (rserpool::Bytes{0xC0, 0x01}));
      order.push_back("cookie");
    } else if (auto* s = std::get_if<action::SendData>(&a)) {
      EXPECT_EQ(s->pe, 2U);
      order.push_back(std::to_string(s->message.data[0]));
    }
  }
  EXPECT_EQ(order, (std::vector<std::string>{"cookie", "11", "12"}));
  // Newer traffic of the flow follows; no second cookie, no second report.
  auto later = d->message(sccp(1, 13), t0 + 2ms);
  EXPECT_TRUE(only<action::SendCookieEcho>(later).empty());
  EXPECT_EQ(only<action::SendData>(later)[0].pe, 2U);
  EXPECT_TRUE(only<action::ReportUnreachable>(d->association_failed(1, {}, t0 + 3ms)).empty());
  EXPECT_EQ(d->counters().resent_after_failover, 2U);
  EXPECT_EQ(d->counters().cookies_echoed, 1U);
}

TEST_F(Fixture, AFailedPesFlowsAllGoToOneHeirWithTheCookie) {
  auto d = make();
  bring_up(*d, {1, 2, 3});
  d->cookie_received(1, {0x01});
  std::vector<std::uint16_t> on_pe1;
  for (std::uint16_t cic = 0; cic < 30; ++cic) {
    auto sent = only<action::SendData>(d->message(isup(ss7::encode_iam(cic, "1")), t0));
    if (sent[0].pe == 1) on_pe1.push_back(cic);
  }
  ASSERT_EQ(on_pe1.size(), 10U);
  (void)d->association_failed(1, {}, t0);
  std::set<PeIdentifier> heirs;
  std::size_t cookies = 0;
  for (auto cic : on_pe1) {
    auto a = d->message(isup(ss7::encode_rel(cic)), t0);
    cookies += only<action::SendCookieEcho>(a).size();
    heirs.insert(only<action::SendData>(a)[0].pe);
  }
  EXPECT_EQ(heirs.size(), 1U);  // one heir, not a spread
  EXPECT_EQ(cookies, 1U);       // which got the cookie once
  // New calls are balanced over both survivors again.
  std::map<PeIdentifier, int> fresh;
  for (std::uint16_t cic = 100; cic < 110; ++cic)
    ++fresh[only<action::SendData>(d->message(isup(ss7::encode_iam(cic, "1")), t0))[0].pe];
  EXPECT_EQ(fresh.size(), 2U);
}

// Seen end to end: the PE's association failed, then a reconnection
// attempt failed, then the registrar dropped it. Neither may pick a second
// heir and echo the same calls to it: two controllers would answer one call.
TEST_F(Fixture, LaterRemovalOrRetryOfAFailedPeKeepsItsOneHeir) {
  auto d = make();
  bring_up(*d, {1, 2, 3});
  d->cookie_received(1, {0x01});
  std::vector<std::uint16_t> on_pe1;
  for (std::uint16_t cic = 0; cic < 30; ++cic) {
    auto sent = only<action::SendData>(d->message(isup(ss7::encode_iam(cic, "1")), t0));
    if (sent[0].pe == 1) on_pe1.push_back(cic);
  }
  ASSERT_GE(on_pe1.size(), 4U);
  (void)d->association_failed(1, {}, t0);
  std::set<PeIdentifier> heirs;
  std::size_t cookies = 0;
  auto send_rel = [&](std::uint16_t cic, TimePoint t) {
    auto a = d->message(isup(ss7::encode_rel(cic)), t);
    cookies += only<action::SendCookieEcho>(a).size();
    heirs.insert(only<action::SendData>(a)[0].pe);
  };
  send_rel(on_pe1[0], t0);
  // Still listed after the audit bound: reconnected, and that attempt fails.
  ASSERT_EQ(only<action::Connect>(d->on_timeout(t0 + 3s)).size(), 1U);
  (void)d->association_failed(1, {}, t0 + 3100ms);
  send_rel(on_pe1[1], t0 + 3200ms);
  (void)list(*d, {2, 3}, t0 + 4s);  // the registrar dropped it
  EXPECT_FALSE(d->state_of(1));
  for (std::size_t i = 2; i < on_pe1.size(); ++i) send_rel(on_pe1[i], t0 + 4s);
  EXPECT_EQ(heirs.size(), 1U);
  EXPECT_EQ(cookies, 1U);
}

TEST_F(Fixture, ConnectingPeQueuesAndFlushesInOrderAfterCookies) {
  auto d = make();
  bring_up(*d, {1});
  d->cookie_received(1, {0xAA});
  (void)d->message(sccp(3, 1), t0);
  ASSERT_EQ(only<action::Connect>(list(*d, {1, 2}, t0)).size(), 1U);  // 2 is connecting
  auto failed = d->association_failed(1, {sccp(3, 1)}, t0);
  // The only usable PE is connecting: the re-sent message waits there.
  EXPECT_TRUE(only<action::SendData>(failed).empty());
  (void)d->message(sccp(3, 2), t0);
  auto up = d->association_up(2, t0 + 5ms);
  ASSERT_EQ(up.size(), 3U);
  EXPECT_TRUE(std::holds_alternative<action::SendCookieEcho>(up[0]));
  EXPECT_EQ(std::get<action::SendData>(up[1]).message.data[0], 1);
  EXPECT_EQ(std::get<action::SendData>(up[2]).message.data[0], 2);
}

TEST_F(Fixture, PoolUnavailableQueuesThenDropsAndSignalsDunaThenDava) {
  config.pool_wait = 100ms;
  auto d = make();
  bring_up(*d, {1});
  (void)d->association_failed(1, {}, t0);
  (void)list(*d, {}, t0);  // and the registrar forgets it
  (void)d->message(sccp(0, 1), t0 + 10ms);
  EXPECT_EQ(d->pool_wait_depth(), 1U);
  ASSERT_TRUE(d->next_deadline());
  EXPECT_EQ(*d->next_deadline(), t0 + 100ms);
  auto expired = d->on_timeout(t0 + 100ms);
  EXPECT_EQ(only<action::PoolUnavailable>(expired).size(), 1U);
  EXPECT_TRUE(only<action::Drop>(expired).empty());  // waited only 90 ms so far
  auto dropped = d->on_timeout(t0 + 110ms);
  ASSERT_EQ(only<action::Drop>(dropped).size(), 1U);
  EXPECT_EQ(only<action::Drop>(dropped)[0].reason, DropReason::pool_unavailable);
  EXPECT_EQ(d->counters().dropped(DropReason::pool_unavailable), 1U);
  EXPECT_FALSE(d->pool_available());
  // Traffic during the outage waits; a returning PE gets it and DAVA goes up.
  (void)d->message(sccp(0, 2), t0 + 120ms);
  ASSERT_EQ(only<action::Connect>(list(*d, {1}, t0 + 130ms)).size(), 1U);
  auto up = d->association_up(1, t0 + 140ms);
  EXPECT_EQ(only<action::PoolAvailable>(up).size(), 1U);
  ASSERT_EQ(only<action::SendData>(up).size(), 1U);
  EXPECT_EQ(only<action::SendData>(up)[0].message.data[0], 2);
  EXPECT_TRUE(d->pool_available());
}

TEST_F(Fixture, OperatorDrainKeepsCallsUntilReleasedThenDisconnects) {
  auto d = make();
  bring_up(*d, {1, 2});
  ASSERT_EQ(only<action::SendData>(d->message(isup(ss7::encode_iam(5, "1")), t0))[0].pe, 1U);
  ASSERT_EQ(only<action::SendData>(d->message(isup(ss7::encode_iam(6, "1")), t0))[0].pe, 2U);
  auto drained = d->drain(1, std::nullopt, t0);
  ASSERT_TRUE(drained);
  EXPECT_TRUE(only<action::Disconnect>(*drained).empty());
  EXPECT_EQ(d->state_of(1), MemberState::draining);
  EXPECT_FALSE(d->drain(1, std::nullopt, t0)) << "draining twice";
  EXPECT_FALSE(d->drain(9, std::nullopt, t0)) << "no such PE";
  // New calls avoid PE 1; the call in progress stays there.
  for (std::uint16_t cic = 10; cic < 14; ++cic)
    EXPECT_EQ(only<action::SendData>(d->message(isup(ss7::encode_iam(cic, "1")), t0))[0].pe, 2U);
  EXPECT_EQ(only<action::SendData>(d->message(isup(ss7::encode_rel(5)), t0))[0].pe, 1U);
  auto rlc = d->message(isup(ss7::encode_rlc(5)), t0);
  EXPECT_EQ(only<action::SendData>(rlc)[0].pe, 1U);
  EXPECT_EQ(only<action::Disconnect>(rlc).size(), 1U);
  EXPECT_FALSE(d->state_of(1));
  // Still listed, but the operator's word holds: never reconnected.
  EXPECT_TRUE(only<action::Connect>(list(*d, {1, 2}, t0 + 1s)).empty());
  EXPECT_TRUE(d->membership().operator_drained(1));
}

// The drain also ends when the controller releases the last call (RLC from
// the controller, answering the SS7 side's REL).
TEST_F(Fixture, DrainEndsWhenTheControllersRlcEndsTheLastCall) {
  auto d = make();
  bring_up(*d, {1, 2});
  ASSERT_EQ(only<action::SendData>(d->message(isup(ss7::encode_iam(5, "1")), t0))[0].pe, 1U);
  ASSERT_TRUE(d->drain(1, std::nullopt, t0));
  (void)d->message(isup(ss7::encode_rel(5)), t0);
  auto r = d->from_member(1, isup_back(ss7::encode_rlc(5)), t0 + 1ms);
  EXPECT_TRUE(r.forward);
  EXPECT_EQ(only<action::Disconnect>(r.actions).size(), 1U);
  EXPECT_FALSE(d->state_of(1));
}

// At the drain deadline the remaining calls move to an heir with the cookie;
// the old controller is cut off (fenced), not closed gracefully: it must
// not answer the calls that moved.
TEST_F(Fixture, DrainDeadlineMovesRemainingCallsWithCookieAndFencesThePe) {
  config.drain_deadline = 1s;
  auto d = make();
  bring_up(*d, {1, 2});
  d->cookie_received(1, {0x42});
  ASSERT_EQ(only<action::SendData>(d->message(isup(ss7::encode_iam(5, "1")), t0))[0].pe, 1U);
  ASSERT_TRUE(d->drain(1, std::nullopt, t0));
  EXPECT_EQ(*d->next_deadline(), t0 + 1s);
  auto expired = d->on_timeout(t0 + 1s);
  EXPECT_EQ(only<action::Fence>(expired).size(), 1U);
  EXPECT_TRUE(only<action::Disconnect>(expired).empty());
  auto moved = d->message(isup(ss7::encode_rel(5)), t0 + 1s);
  ASSERT_EQ(moved.size(), 2U);
  EXPECT_EQ(std::get<action::SendCookieEcho>(moved[0]).cookie, (rserpool::Bytes{0x42}));
  EXPECT_EQ(std::get<action::SendData>(moved[1]).pe, 2U);
  // What the fenced association hands back is re-routed, not lost.
  auto back = d->handed_back(1, {isup(ss7::encode_anm(5))}, t0 + 1100ms);
  ASSERT_EQ(only<action::SendData>(back).size(), 1U);
  EXPECT_EQ(only<action::SendData>(back)[0].pe, 2U);
}

TEST_F(Fixture, BoundedQueuesDropWithReasonAndSignalCongestion) {
  config.max_queue = 10;
  config.congestion_onset = 8;
  config.congestion_abatement = 2;
  auto d = make();
  (void)list(*d, {1}, t0);  // connecting: everything queues
  std::vector<Action> all;
  for (std::uint8_t i = 0; i < 12; ++i) {
    auto a = d->message(sccp(0, i), t0);
    all.insert(all.end(), a.begin(), a.end());
  }
  ASSERT_EQ(only<action::Congestion>(all).size(), 1U);
  EXPECT_TRUE(only<action::Congestion>(all)[0].onset);
  EXPECT_EQ(only<action::Drop>(all).size(), 2U);
  EXPECT_EQ(d->counters().dropped(DropReason::queue_full), 2U);
  auto up = d->association_up(1, t0);
  EXPECT_EQ(only<action::SendData>(up).size(), 10U);
  ASSERT_EQ(only<action::Congestion>(up).size(), 1U);
  EXPECT_FALSE(only<action::Congestion>(up)[0].onset);
}

TEST_F(Fixture, CallsOriginatedByAPeStayWithIt) {
  auto d = make();
  bring_up(*d, {1, 2});
  EXPECT_TRUE(d->from_member(2, isup(ss7::encode_iam(77, "1")), t0).forward);
  for (auto msg : {ss7::encode_acm(77), ss7::encode_anm(77)})
    EXPECT_EQ(only<action::SendData>(d->message(isup(msg), t0))[0].pe, 2U);
  EXPECT_TRUE(d->from_member(2, isup(ss7::encode_rlc(77)), t0).forward);
  EXPECT_EQ(d->flow_count(), 0U);
}

// A PE the registrar keeps listing is reconnected (after the fence: the
// registrar's audit bound), then with a back-off; each attempt that fails
// belongs to the same failure event: one ENDPOINT_UNREACHABLE, one
// failover. A successful reconnection ends the event, so the next failure
// is reported again.
TEST_F(Fixture, FailedRetriesOfAListedPeAreOneFailureEventUntilItIsUpAgain) {
  auto d = make();
  bring_up(*d, {1, 2});
  (void)d->message(sccp(1, 1), t0);  // PE 1 carried traffic: worth reporting
  std::size_t reports = 0;
  reports += only<action::ReportUnreachable>(d->association_failed(1, {}, t0)).size();
  // Attempts at the audit bound (3 s), then 0.5, 1, 2, 2 s after each failure.
  std::vector<TimePoint> attempts;
  TimePoint t = t0;
  while (attempts.size() < 5) {
    const auto next = d->next_deadline();
    ASSERT_TRUE(next);
    t = *next;
    auto a = d->on_timeout(t);
    if (only<action::Connect>(a).empty()) continue;
    attempts.push_back(t);
    (void)d->message(sccp(1, 2), t);  // the flow goes on at its heir meanwhile
    reports += only<action::ReportUnreachable>(d->association_failed(1, {}, t + 10ms)).size();
  }
  EXPECT_EQ(attempts, (std::vector<TimePoint>{t0 + 3s, t0 + 3510ms, t0 + 4520ms, t0 + 6530ms, t0 + 8540ms}));
  EXPECT_EQ(reports, 1U);
  EXPECT_EQ(d->counters().failovers, 1U);
  EXPECT_EQ(d->counters().audits_passed, 1U);
  // Back for real, then failing again: a new event, reported again.
  ASSERT_EQ(only<action::Connect>(d->on_timeout(*d->next_deadline())).size(), 1U);
  (void)d->association_up(1, t0 + 11s);
  (void)d->message(sccp(5, 3), t0 + 11s);
  EXPECT_EQ(only<action::ReportUnreachable>(d->association_failed(1, {}, t0 + 12s)).size(), 1U);
  EXPECT_EQ(d->counters().failovers, 2U);
}

// --- Fencing (a hung controller that resumes must not answer moved calls) ---

TEST_F(Fixture, AFailedPeIsFencedAndReconnectedOnlyAfterTheAuditBound) {
  auto d = make();
  bring_up(*d, {1, 2});
  ASSERT_EQ(only<action::SendData>(d->message(isup(ss7::encode_iam(5, "1")), t0))[0].pe, 1U);
  auto failed = d->association_failed(1, {}, t0 + 100ms);
  EXPECT_EQ(only<action::Fence>(failed).size(), 1U);
  EXPECT_EQ(only<action::ReportUnreachable>(failed).size(), 1U);
  EXPECT_TRUE(has_news(failed, 1, MemberNews::fenced));
  EXPECT_EQ(d->state_of(1), MemberState::failed);
  // Listed all along: nothing before the registrar had time to audit it.
  EXPECT_EQ(*d->next_deadline(), t0 + 3100ms);
  EXPECT_TRUE(only<action::Connect>(d->on_timeout(t0 + 3099ms)).empty());
  EXPECT_TRUE(only<action::Connect>(list(*d, {1, 2}, t0 + 2s)).empty()) << "the same listing is no news";
  auto audited = d->on_timeout(t0 + 3100ms);
  EXPECT_EQ(only<action::Connect>(audited).size(), 1U);
  EXPECT_TRUE(has_news(audited, 1, MemberNews::audit_passed));
}

TEST_F(Fixture, AFencedPeThatRegistersAnewIsReconnectedAtOnce) {
  auto d = make();
  bring_up(*d, {1, 2, 3});
  (void)d->message(sccp(1, 1), t0);
  (void)d->message(sccp(3, 1), t0);  // on 2 and 3... and 1: round robin
  (void)d->association_failed(1, {}, t0);
  (void)d->association_failed(3, {}, t0);
  // PE 1 left the handlespace and came back (a restart under its identifier).
  auto gone = list(*d, {2, 3}, t0 + 100ms);
  EXPECT_FALSE(d->state_of(1));
  EXPECT_TRUE(only<action::Connect>(gone).empty());
  EXPECT_EQ(only<action::Connect>(list(*d, {1, 2, 3}, t0 + 200ms)).size(), 1U);
  // PE 3 registered another user transport: the registrar's word that it lives.
  std::vector<rserpool::PoolElementParameter> l{listing(1), listing(2), listing(3, 5000)};
  auto moved = d->handlespace(l, t0 + 300ms);
  ASSERT_EQ(only<action::Connect>(moved).size(), 1U);
  EXPECT_EQ(only<action::Connect>(moved)[0].pe, 3U);
  EXPECT_EQ(only<action::Connect>(moved)[0].transport.port, 5003U);
}

// A controller stopped longer than failure detection resumes and answers
// calls that moved to an heir meanwhile: those answers are dropped and
// counted, never forwarded; its newer cookie does not replace the one the
// heir holds; its calls stay with the heir.
TEST_F(Fixture, WhatAFencedPeStillSendsIsDroppedAndCounted) {
  auto d = make();
  bring_up(*d, {1, 2});
  d->cookie_received(1, {0x01});
  ASSERT_EQ(only<action::SendData>(d->message(isup(ss7::encode_iam(5, "1")), t0))[0].pe, 1U);
  (void)d->association_failed(1, {}, t0 + 1s);
  auto r = d->from_member(1, isup_back(ss7::encode_anm(5)), t0 + 3s);
  EXPECT_FALSE(r.forward);
  EXPECT_EQ(d->counters().dropped(DropReason::fenced_member), 1U);
  d->cookie_received(1, {0x02});  // the stale controller's view of its calls
  auto moved = d->message(isup(ss7::encode_rel(5)), t0 + 3s);
  ASSERT_EQ(only<action::SendCookieEcho>(moved).size(), 1U);
  EXPECT_EQ(only<action::SendCookieEcho>(moved)[0].cookie, (rserpool::Bytes{0x01}));
  EXPECT_EQ(only<action::SendData>(moved)[0].pe, 2U);
  // Reconnected after the audit, the old calls are still the heir's.
  ASSERT_EQ(only<action::Connect>(d->on_timeout(t0 + 4s)).size(), 1U);
  (void)d->association_up(1, t0 + 4s);
  EXPECT_EQ(only<action::SendData>(d->message(isup(ss7::encode_rlc(5)), t0 + 4s))[0].pe, 2U);
}

// Issue 14 item 6 at the daemon: a fenced controller resumes, registers
// anew and is reconnected; it then sends what it held for its old
// association (answers for calls that moved to the heir). Those are the
// heir's calls: dropped and counted, never forwarded (a second ANM at the SS7
// side). The heir's own messages on them pass; so do the controller's
// messages on circuits it holds.
TEST_F(Fixture, AReconnectedPeCannotSpeakForTheHeirsCalls) {
  auto d = make();
  bring_up(*d, {1, 2});
  d->cookie_received(1, {0x01});
  ASSERT_EQ(only<action::SendData>(d->message(isup(ss7::encode_iam(5, "1")), t0))[0].pe, 1U);
  (void)d->association_failed(1, {}, t0 + 1s);
  ASSERT_EQ(only<action::SendData>(d->message(isup(ss7::encode_rel(5)), t0 + 2s))[0].pe, 2U);  // the heir's now
  // PE 1 registers anew (a new user transport): reconnected at once.
  std::vector<rserpool::PoolElementParameter> l{listing(1, 5000), listing(2)};
  ASSERT_EQ(only<action::Connect>(d->handlespace(l, t0 + 3s)).size(), 1U);
  (void)d->association_up(1, t0 + 3s);
  EXPECT_FALSE(d->from_member(1, isup_back(ss7::encode_anm(5)), t0 + 3s).forward);
  EXPECT_FALSE(d->from_member(1, isup_back(ss7::encode_rlc(5)), t0 + 3s).forward);
  EXPECT_EQ(d->counters().dropped(DropReason::foreign_call), 2U);
  EXPECT_TRUE(d->from_member(2, isup_back(ss7::encode_rlc(5)), t0 + 3s).forward);
  // The heir finished the call (the circuit is free): what PE 1 still says
  // about it is stale all the same.
  EXPECT_FALSE(d->from_member(1, isup_back(ss7::encode_anm(5)), t0 + 3s).forward);
  EXPECT_EQ(d->counters().dropped(DropReason::foreign_call), 3U);
  // A new call on circuit 5 placed on PE 1 is its own again.
  for (std::uint16_t n = 0; n < 20; ++n) {
    auto sent = only<action::SendData>(d->message(isup(ss7::encode_iam(5, "1")), t0 + 3s));
    ASSERT_EQ(sent.size(), 1U);
    if (sent[0].pe == 1) {
      EXPECT_TRUE(d->from_member(1, isup_back(ss7::encode_anm(5)), t0 + 3s).forward);
      break;
    }
    (void)d->from_member(sent[0].pe, isup_back(ss7::encode_rlc(5)), t0 + 3s);
  }
  // A new call on circuit 6 placed on PE 1 is its own to answer.
  for (std::uint16_t cic = 6; cic < 40; ++cic) {
    auto sent = only<action::SendData>(d->message(isup(ss7::encode_iam(cic, "1")), t0 + 3s));
    if (sent.size() == 1 && sent[0].pe == 1) {
      EXPECT_TRUE(d->from_member(1, isup_back(ss7::encode_anm(cic)), t0 + 3s).forward);
      break;
    }
  }
  EXPECT_EQ(d->counters().dropped(DropReason::foreign_call), 3U);
}

// Issue 13 (seen in the three-minute soak, host, TCP mapping): a stalled
// gateway lost every controller at once; a controller came back first, and a
// call taken from it at its failure went back to it as its own estate's
// heir (the only usable member) before any other message of that call. Its
// answers on that call are the call's owner speaking: forwarded. They were
// dropped as "another's" (the call was once taken from it), so the SS7
// side's REL never saw its RLC and the call failed.
TEST_F(Fixture, ACallTakenFromAPeAndGivenBackToItIsItsOwnAgain) {
  auto d = make();
  bring_up(*d, {1, 2});
  d->cookie_received(1, {0x01});
  ASSERT_EQ(only<action::SendData>(d->message(isup(ss7::encode_iam(5, "1")), t0))[0].pe, 1U);
  EXPECT_TRUE(d->from_member(1, isup_back(ss7::encode_acm(5)), t0).forward);
  // Both fail (the gateway stalled past their heartbeat timeout); PE 1 is
  // removed by the registrar and registers again at once.
  (void)d->association_failed(1, {}, t0 + 1s);
  (void)d->association_failed(2, {}, t0 + 1s);
  (void)list(*d, {2}, t0 + 1s);
  ASSERT_EQ(only<action::Connect>(list(*d, {1, 2}, t0 + 1s)).size(), 1U);
  (void)d->association_up(1, t0 + 1s);
  // The SS7 side releases the call: it goes to PE 1, the one usable member
  // (with PE 1's own cookie first).
  auto rel = d->message(isup(ss7::encode_rel(5)), t0 + 1200ms);
  ASSERT_EQ(only<action::SendData>(rel).size(), 1U);
  ASSERT_EQ(only<action::SendData>(rel)[0].pe, 1U);
  // Its RLC ends the call at the SS7 side.
  EXPECT_TRUE(d->from_member(1, isup_back(ss7::encode_rlc(5)), t0 + 1200ms).forward);
  EXPECT_EQ(d->counters().dropped(DropReason::foreign_call), 0U);
  EXPECT_EQ(d->counters().dropped(DropReason::fenced_member), 0U);
}

// The same, for the other calls of its estate: once the PE is its own
// estate's heir (its cookie echoed back to it), every call taken from it at
// that failure is its own again, including those no message has been routed
// for since: its ANM on a ringing one (the SS7 side waits for it and sends
// nothing) is the call's answer, not another's.
TEST_F(Fixture, APeThatIsItsOwnHeirAnswersTheRestOfItsCalls) {
  auto d = make();
  bring_up(*d, {1, 2});
  d->cookie_received(1, {0x01});
  ASSERT_EQ(only<action::SendData>(d->message(isup(ss7::encode_iam(5, "1")), t0))[0].pe, 1U);
  ASSERT_EQ(only<action::SendData>(d->message(isup(ss7::encode_iam(6, "1")), t0))[0].pe, 2U);
  ASSERT_EQ(only<action::SendData>(d->message(isup(ss7::encode_iam(7, "1")), t0))[0].pe, 1U);
  (void)d->association_failed(1, {}, t0 + 1s);
  (void)d->association_failed(2, {}, t0 + 1s);
  (void)list(*d, {2}, t0 + 1s);
  ASSERT_EQ(only<action::Connect>(list(*d, {1, 2}, t0 + 1s)).size(), 1U);
  (void)d->association_up(1, t0 + 1s);
  // Before any message of its calls was routed, nothing is decided yet: what
  // it says of them is dropped (an heir may still get them).
  EXPECT_FALSE(d->from_member(1, isup_back(ss7::encode_anm(7)), t0 + 1100ms).forward);
  auto rel = d->message(isup(ss7::encode_rel(5)), t0 + 1200ms);
  ASSERT_EQ(only<action::SendCookieEcho>(rel).size(), 1U);
  ASSERT_EQ(only<action::SendCookieEcho>(rel)[0].pe, 1U);
  ASSERT_EQ(only<action::SendData>(rel)[0].pe, 1U);
  // Its own heir: call 7's answer (after the cookie came back to it) passes,
  // and so does the rest of that call.
  EXPECT_TRUE(d->from_member(1, isup_back(ss7::encode_anm(7)), t0 + 1200ms).forward);
  ASSERT_EQ(only<action::SendData>(d->message(isup(ss7::encode_rel(7)), t0 + 1400ms))[0].pe, 1U);
  EXPECT_TRUE(d->from_member(1, isup_back(ss7::encode_rlc(7)), t0 + 1400ms).forward);
  EXPECT_EQ(d->counters().dropped(DropReason::foreign_call), 1U);
}

// --- A registrar's loss notice is a failure suspicion (issue 15) -------------

struct Suspicion : Fixture {
  std::unique_ptr<PoolDistributor> d;
  std::vector<std::uint16_t> on_1;  // calls of PE 1
  void SetUp() override {
    d = make();
    bring_up(*d, {1, 2});
    d->cookie_received(1, {0x11});
    for (std::uint16_t cic = 1; cic <= 4; ++cic)
      if (only<action::SendData>(d->message(isup(ss7::encode_iam(cic, "1")), t0))[0].pe == 1) on_1.push_back(cic);
    ASSERT_EQ(on_1.size(), 2U);
  }
};

TEST_F(Suspicion, NoNewTrafficGoesToASuspectButItsCallsContinue) {
  auto notice = list(*d, {2}, t0 + 10ms);
  EXPECT_TRUE(has_news(notice, 1, MemberNews::suspected));
  EXPECT_TRUE(only<action::Disconnect>(notice).empty());
  EXPECT_EQ(d->state_of(1), MemberState::suspect);
  for (std::uint16_t cic = 10; cic < 16; ++cic)
    EXPECT_EQ(only<action::SendData>(d->message(isup(ss7::encode_iam(cic, "1")), t0 + 11ms))[0].pe, 2U);
  auto rel = only<action::SendData>(d->message(isup(ss7::encode_rel(on_1[0])), t0 + 12ms));
  ASSERT_EQ(rel.size(), 1U);
  EXPECT_EQ(rel[0].pe, 1U);
  EXPECT_EQ(d->kept_depth(1), 1U);
}

// The case seen in kernel SCTP: the registrar saw the controller's death
// 26 ms before the link failed; the REL sent meanwhile was acknowledged by
// the dying kernel, so the transport cannot hand it back. The kept copy
// reaches the heir, after the cookie.
TEST_F(Suspicion, WhatWasSentSinceTheNoticeGoesToTheHeirIfTheLinkFails) {
  (void)list(*d, {2}, t0 + 10ms);
  (void)d->message(isup(ss7::encode_rel(on_1[0])), t0 + 20ms);
  auto failed = d->association_failed(1, {}, t0 + 36ms);
  EXPECT_EQ(only<action::ReportUnreachable>(failed).size(), 1U);
  std::vector<std::string> order;
  for (const auto& a : failed) {
    if (auto* c = std::get_if<action::SendCookieEcho>(&a)) {
      EXPECT_EQ(c->pe, 2U);
      order.push_back("cookie");
    } else if (auto* s = std::get_if<action::SendData>(&a)) {
      EXPECT_EQ(s->pe, 2U);
      order.push_back(std::string(ss7::to_string(static_cast<ss7::IsupMessageType>(s->message.data[2]))) + " " +
                      std::to_string(*d->classify(s->message).cic));
    }
  }
  EXPECT_EQ(order, (std::vector<std::string>{"cookie", "REL " + std::to_string(on_1[0])}));
  EXPECT_EQ(d->counters().kept_since_notice, 1U);
  EXPECT_FALSE(d->state_of(1)) << "not listed: forgotten, not reconnected";
}

// A copy the transport also hands back is re-sent once; what it hands back
// from before the notice comes first.
TEST_F(Suspicion, KeptCopiesAndTheHandBackAreMergedWithoutDuplicates) {
  const auto before = isup(ss7::encode_acm(on_1[1]));
  (void)d->message(before, t0 + 5ms);
  (void)list(*d, {2}, t0 + 10ms);
  const auto rel0 = isup(ss7::encode_rel(on_1[0]));
  const auto rel1 = isup(ss7::encode_rel(on_1[1]));
  (void)d->message(rel0, t0 + 20ms);
  (void)d->message(rel1, t0 + 21ms);
  // rel0 reached the dying kernel; `before` and rel1 come back.
  auto failed = d->association_failed(1, {before, rel1}, t0 + 36ms);
  auto sent = only<action::SendData>(failed);
  ASSERT_EQ(sent.size(), 3U);
  EXPECT_EQ(sent[0].message, before);
  EXPECT_EQ(sent[1].message, rel0);
  EXPECT_EQ(sent[2].message, rel1);
}

TEST_F(Suspicion, ASuspectWhoseLinkStaysUpProvesAliveAndIsDrained) {
  (void)list(*d, {2}, t0 + 10ms);
  (void)d->message(isup(ss7::encode_rel(on_1[0])), t0 + 20ms);
  EXPECT_EQ(*d->next_deadline(), t0 + 1510ms);
  auto alive = d->on_timeout(t0 + 1510ms);
  EXPECT_TRUE(has_news(alive, 1, MemberNews::proven_alive));
  EXPECT_EQ(d->state_of(1), MemberState::draining);
  EXPECT_EQ(d->kept_depth(1), 0U) << "copies released";
  EXPECT_EQ(d->counters().suspicions_cleared, 1U);
  // Its calls finish there; the drain ends with the last one.
  EXPECT_EQ(only<action::SendData>(d->message(isup(ss7::encode_rlc(on_1[0])), t0 + 2s))[0].pe, 1U);
  (void)d->message(isup(ss7::encode_rel(on_1[1])), t0 + 2s);
  auto last = d->message(isup(ss7::encode_rlc(on_1[1])), t0 + 2s);
  EXPECT_EQ(only<action::Disconnect>(last).size(), 1U);
  // A later failure would have had nothing to re-send: copies are gone.
  EXPECT_EQ(d->counters().kept_since_notice, 0U);
}

TEST_F(Suspicion, ASuspectListedAgainIsBackInService) {
  (void)list(*d, {2}, t0 + 10ms);
  (void)d->message(isup(ss7::encode_rel(on_1[0])), t0 + 20ms);
  auto back = list(*d, {1, 2}, t0 + 200ms);
  EXPECT_TRUE(has_news(back, 1, MemberNews::relisted));
  EXPECT_EQ(d->state_of(1), MemberState::active);
  EXPECT_EQ(d->kept_depth(1), 0U);
  EXPECT_FALSE(d->next_deadline()) << "no suspicion timer left";
  std::set<PeIdentifier> fresh;
  for (std::uint16_t cic = 20; cic < 24; ++cic)
    fresh.insert(only<action::SendData>(d->message(isup(ss7::encode_iam(cic, "1")), t0 + 201ms))[0].pe);
  EXPECT_EQ(fresh, (std::set<PeIdentifier>{1, 2}));
}

// The copies are bounded: beyond max_queue, the suspect's traffic waits
// (in order) for the verdict instead of growing memory.
TEST_F(Suspicion, CopiesAreBoundedAndTheRestWaitsForTheVerdict) {
  config.max_queue = 2;
  d = make();
  bring_up(*d, {1, 2});
  ASSERT_EQ(only<action::SendData>(d->message(sccp(1, 0), t0))[0].pe, 1U);
  (void)list(*d, {2}, t0 + 10ms);
  std::size_t sent = 0;
  for (std::uint8_t i = 1; i <= 4; ++i) sent += only<action::SendData>(d->message(sccp(1, i), t0 + 20ms)).size();
  EXPECT_EQ(sent, 2U);
  EXPECT_EQ(d->kept_depth(1), 2U);
  EXPECT_EQ(d->queue_depth(1), 2U);
  auto failed = d->association_failed(1, {}, t0 + 30ms);
  auto again = only<action::SendData>(failed);
  ASSERT_EQ(again.size(), 4U);
  for (std::uint8_t i = 0; i < 4; ++i) {
    EXPECT_EQ(again[i].pe, 2U);
    EXPECT_EQ(again[i].message.data[0], i + 1);
  }
}

// --- An heir that is suspected or fails (seeded simulation, issue 15) --------

// The lowest identifier among the candidates: a function of the candidates
// alone, so each test knows who is chosen (new flows and heirs alike).
class LowestSelector : public MemberSelector {
 public:
  PeIdentifier pick(const Placement&, std::span<const Candidate> c) override {
    PeIdentifier best = c[0].id;
    for (const auto& x : c) best = std::min(best, x.id);
    return best;
  }
};

// PE 1 holds calls on circuits 1-3 (cookie 0xA1) and fails; PE 2 is its
// heir, PE 3 the next one; PE 2's own cookie (0xB1) predates its adoption.
struct HeirCascade : Fixture {
  LowestSelector lowest;
  std::unique_ptr<PoolDistributor> d;
  const rserpool::Bytes cookie_a{0xA1};
  const rserpool::Bytes cookie_b{0xB1};
  void SetUp() override {
    d = std::make_unique<PoolDistributor>(config, lowest, profile);
    bring_up(*d, {1, 2, 3});
    d->cookie_received(1, cookie_a);
    d->cookie_received(2, cookie_b);
    for (std::uint16_t cic = 1; cic <= 3; ++cic)
      ASSERT_EQ(only<action::SendData>(d->message(isup(ss7::encode_iam(cic, "1")), t0))[0].pe, 1U);
    (void)d->association_failed(1, {}, t0 + 10ms);
    // Circuit 1's next message takes PE 1's cookie to its heir.
    auto a = d->message(isup(ss7::encode_acm(1)), t0 + 20ms);
    ASSERT_EQ(only<action::SendCookieEcho>(a).size(), 1U);
    ASSERT_EQ(only<action::SendCookieEcho>(a)[0].pe, 2U);
    ASSERT_EQ(only<action::SendData>(a)[0].pe, 2U);
  }
  // The cookies and data of `actions`, in order, as "pe:cookie-byte" or
  // "pe:cic".
  std::vector<std::string> trail(const std::vector<Action>& actions) const {
    std::vector<std::string> out;
    for (const auto& a : actions) {
      if (auto* c = std::get_if<action::SendCookieEcho>(&a))
        out.push_back(std::to_string(c->pe) + ":cookie " + std::to_string(c->cookie.at(0)));
      else if (auto* s = std::get_if<action::SendData>(&a))
        out.push_back(std::to_string(s->pe) + ":cic " + std::to_string(*d->classify(s->message).cic));
    }
    return out;
  }
};

// Seed 1095: the registrar lost the heir (hung, its registration gone with
// a restarted registrar) while our link to it was up. A new heir then got
// PE 1's cookie although PE 2 lived and held it: two controllers answering
// one call. A suspect heir keeps its estate; what it is sent is kept.
TEST_F(HeirCascade, ASuspectedHeirKeepsItsEstate) {
  auto notice = list(*d, {3}, t0 + 30ms);
  ASSERT_EQ(d->state_of(2), MemberState::suspect);
  EXPECT_TRUE(only<action::SendCookieEcho>(notice).empty());
  auto a = d->message(isup(ss7::encode_acm(2)), t0 + 40ms);
  EXPECT_EQ(trail(a), (std::vector<std::string>{"2:cic 2"})) << "no second heir for PE 1's cookie";
  EXPECT_EQ(d->kept_depth(2), 1U);
}

// Seeds 2733, 3381: the heir died before it sent a cookie of its own. The
// calls it had inherited (bound to it, one handed back unsent) went with
// its own estate to its heir, which got only PE 2's old cookie and did not
// hold them; PE 1's remaining orphans went to another heir. Now PE 2's
// estate carries PE 1's cookie and its orphans: one heir, both cookies
// (its own first), before any data.
TEST_F(HeirCascade, AFailedHeirPassesOnWhatItInherited) {
  (void)list(*d, {2, 3}, t0 + 25ms);  // PE 1 leaves the handlespace
  auto failed = d->association_failed(2, {isup(ss7::encode_rel(1))}, t0 + 30ms);
  EXPECT_EQ(trail(failed), (std::vector<std::string>{"3:cookie 177", "3:cookie 161", "3:cic 1"}));
  // PE 1's orphans still waiting go the same way, with no cookie again.
  EXPECT_EQ(trail(d->message(isup(ss7::encode_acm(3)), t0 + 40ms)), (std::vector<std::string>{"3:cic 3"}));
}

// The same after a suspicion: the copies kept since the notice reach the
// one heir after both cookies.
TEST_F(HeirCascade, ASuspectedHeirThatFailsPassesOnItsEstateAndTheCopies) {
  (void)list(*d, {3}, t0 + 30ms);
  (void)d->message(isup(ss7::encode_acm(2)), t0 + 40ms);
  auto failed = d->association_failed(2, {}, t0 + 50ms);
  EXPECT_EQ(trail(failed), (std::vector<std::string>{"3:cookie 177", "3:cookie 161", "3:cic 2"}));
  EXPECT_EQ(trail(d->message(isup(ss7::encode_acm(3)), t0 + 60ms)), (std::vector<std::string>{"3:cic 3"}));
}

// Once the heir has answered an inherited call and then sent a cookie, its
// own cookie covers what it inherited: only that one is passed on (PE 1's
// older one would revive calls it has finished since).
TEST_F(HeirCascade, AnHeirsOwnCookieCoversWhatItAdopted) {
  for (std::uint16_t cic = 2; cic <= 3; ++cic) (void)d->message(isup(ss7::encode_acm(cic)), t0 + 21ms);
  ASSERT_TRUE(d->from_member(2, isup_back(ss7::encode_anm(1)), t0 + 22ms).forward);
  d->cookie_received(2, {0xB2});
  (void)d->association_failed(2, {}, t0 + 30ms);
  EXPECT_EQ(trail(d->message(isup(ss7::encode_rel(1)), t0 + 40ms)),
            (std::vector<std::string>{"3:cookie 178", "3:cic 1"}));
}

// No traffic needed, and no pool-wait either: a pool served from start()
// that has had no active PE yet cannot reach any controller and is
// unavailable at once (a restarted gateway of a pair must not attract the
// STP's traffic while its view of the pool is empty: seeds 3353, 4938, ...
// of tests/sg_sim), announced only once; DAVA when a PE comes up.
TEST_F(Fixture, PoolWithoutActivePeAtStartIsAnnouncedUnavailableAtOnce) {
  config.pool_wait = 100ms;
  auto d = make();
  d->start(t0);
  ASSERT_TRUE(d->next_deadline());
  EXPECT_EQ(*d->next_deadline(), t0) << "due at start, not after pool-wait";
  const auto at_start = only<action::PoolUnavailable>(d->on_timeout(t0));
  ASSERT_EQ(at_start.size(), 1U);
  EXPECT_TRUE(at_start[0].since_start);
  EXPECT_FALSE(d->pool_available());
  // A PE listed and still connecting does not make it available.
  (void)list(*d, {1}, t0 + 50ms);
  EXPECT_FALSE(d->pool_available());
  // Nothing more is due (no busy timer), until the PE comes up: DAVA.
  EXPECT_FALSE(d->next_deadline());
  EXPECT_TRUE(only<action::PoolUnavailable>(d->on_timeout(t0 + 300ms)).empty());
  EXPECT_EQ(only<action::PoolAvailable>(d->association_up(1, t0 + 400ms)).size(), 1U);
  EXPECT_TRUE(d->pool_available());
}

// Traffic that arrives anyway (an STP with no other route, or one that
// ignores DUNA) is not lost silently: it waits pool-wait for a PE, goes to
// the first one that comes up, and is dropped with a counted reason past
// pool-wait.
TEST_F(Fixture, TrafficAtAStartWithoutActivePeWaitsPoolWait) {
  config.pool_wait = 100ms;
  auto d = make();
  d->start(t0);
  (void)d->on_timeout(t0);
  (void)d->message(sccp(0, 1), t0 + 10ms);
  (void)d->message(sccp(1, 2), t0 + 60ms);
  EXPECT_EQ(d->pool_wait_depth(), 2U);
  auto expired = d->on_timeout(t0 + 110ms);
  ASSERT_EQ(only<action::Drop>(expired).size(), 1U);
  EXPECT_EQ(only<action::Drop>(expired)[0].reason, DropReason::pool_unavailable);
  EXPECT_EQ(d->counters().dropped(DropReason::pool_unavailable), 1U);
  (void)list(*d, {1}, t0 + 120ms);
  auto up = d->association_up(1, t0 + 130ms);
  EXPECT_EQ(only<action::PoolAvailable>(up).size(), 1U);
  ASSERT_EQ(only<action::SendData>(up).size(), 1U);
  EXPECT_EQ(only<action::SendData>(up)[0].message.data[0], 2);
}

// Once a PE has been active, a pool that empties keeps the hold-and-announce
// rule: DUNA only after pool-wait with no active PE (a PE usually comes back
// within it), whether or not traffic waits.
TEST_F(Fixture, APoolThatEmptiesAfterItHadAnActivePeIsAnnouncedAfterPoolWait) {
  config.pool_wait = 100ms;
  auto d = make();
  d->start(t0);
  (void)d->on_timeout(t0);
  (void)list(*d, {1}, t0 + 1ms);
  EXPECT_EQ(only<action::PoolAvailable>(d->association_up(1, t0 + 2ms)).size(), 1U);
  (void)d->association_failed(1, {}, t0 + 10ms);
  ASSERT_TRUE(d->next_deadline());
  EXPECT_EQ(*d->next_deadline(), t0 + 110ms);
  EXPECT_TRUE(only<action::PoolUnavailable>(d->on_timeout(t0 + 109ms)).empty());
  EXPECT_TRUE(d->pool_available());
  const auto after_loss = only<action::PoolUnavailable>(d->on_timeout(t0 + 110ms));
  ASSERT_EQ(after_loss.size(), 1U);
  EXPECT_FALSE(after_loss[0].since_start);
  EXPECT_FALSE(d->pool_available());
}

TEST_F(Fixture, PoolWithAnActivePeWithinPoolWaitAnnouncesNothing) {
  config.pool_wait = 100ms;
  auto d = make();
  d->start(t0);
  (void)list(*d, {1}, t0 + 10ms);
  EXPECT_TRUE(only<action::PoolAvailable>(d->association_up(1, t0 + 20ms)).empty()) << "never said unavailable";
  EXPECT_FALSE(d->next_deadline());
  EXPECT_TRUE(d->on_timeout(t0 + 200ms).empty());
  EXPECT_TRUE(d->pool_available());
}

// Operator changes reach a running pool: the pool-wait clock uses the new
// value, the congestion state follows the new thresholds.
TEST_F(Fixture, ReconfigureTakesEffectOnARunningPool) {
  config.pool_wait = 2s;
  config.congestion_onset = 100;
  config.congestion_abatement = 10;
  auto d = make();
  d->start(t0);
  (void)list(*d, {1}, t0);
  (void)d->association_up(1, t0);
  (void)d->association_failed(1, {}, t0);  // had an active PE: the pool-wait rule
  (void)list(*d, {}, t0);                   // and the registrar forgets it
  EXPECT_EQ(*d->next_deadline(), t0 + 2s);
  for (std::uint8_t i = 0; i < 5; ++i) (void)d->message(sccp(i, i), t0);  // waiting: no PE
  DistributorConfig changed = config;
  changed.pool_wait = 300ms;
  changed.congestion_onset = 5;
  changed.congestion_abatement = 1;
  auto a = d->reconfigure(changed, t0 + 1ms);
  ASSERT_EQ(only<action::Congestion>(a).size(), 1U);
  EXPECT_TRUE(only<action::Congestion>(a)[0].onset);
  EXPECT_EQ(d->config().pool_wait, 300ms);
  EXPECT_EQ(*d->next_deadline(), t0 + 300ms);
  EXPECT_EQ(only<action::PoolUnavailable>(d->on_timeout(t0 + 300ms)).size(), 1U);
}

// Every drop reason the distributor exports is one it produces, each
// counted where it happens (a reason nothing produces would be a counter
// that can never move).
TEST_F(Fixture, EveryDropReasonIsProducedAndCounted) {
  config.max_queue = 1;
  config.pool_wait = 10ms;
  auto d = make();
  d->start(t0);
  std::map<DropReason, std::size_t> seen;
  auto note = [&](const std::vector<Action>& a) {
    for (const auto& drop : only<action::Drop>(a)) ++seen[drop.reason];
  };
  note(d->message(sccp(0, 1), t0));
  note(d->message(sccp(0, 2), t0));            // queue-full
  note(d->on_timeout(t0 + 10ms));              // pool-unavailable
  bring_up(*d, {1});
  (void)d->message(isup(ss7::encode_iam(9, "1")), t0);                      // circuit 9: PE 1's call
  EXPECT_FALSE(d->from_member(7, isup_back(ss7::encode_anm(9)), t0).forward);  // foreign-call
  (void)d->association_failed(1, {}, t0);
  EXPECT_FALSE(d->from_member(1, sccp(0, 4), t0).forward);  // fenced-pe
  for (std::size_t i = 0; i < kDropReasons; ++i) {
    const auto r = static_cast<DropReason>(i);
    EXPECT_EQ(d->counters().dropped(r), 1U) << to_string(r);
    if (r != DropReason::fenced_member && r != DropReason::foreign_call) {
      EXPECT_EQ(seen[r], 1U) << to_string(r);
    }
  }
}

// Deterministic simulation: random traffic, PE failures with random
// hand-backs, registrar loss notices (suspicions), returns through the
// distributor's own reconnection timers, in virtual time. After each run:
// every accepted message was received exactly once or dropped with a
// reason, and each flow's messages arrived in the order they were accepted.
TEST_F(Fixture, SimulatedFailuresLoseNothingAndKeepFlowOrder) {
  DistributorCounters total;  // the paths the seeds went through, summed
  for (std::uint32_t seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    config.max_queue = 1000000;
    config.pool_wait = 50ms;
    profile.membership.audit_bound = 30ms;
    profile.membership.retry_initial = 5ms;
    profile.membership.retry_max = 20ms;
    profile.membership.suspicion = 15ms;
    auto d = make();
    struct Pe {
      bool up = false;
      bool connecting = false;
      bool listed = true;
      std::deque<std::uint32_t> in_flight;  // sent, not yet acknowledged
    };
    std::map<PeIdentifier, Pe> pes;
    std::map<std::uint32_t, MtpMessage> by_id;
    std::map<std::uint32_t, int> received;
    std::map<std::uint8_t, std::vector<std::uint32_t>> per_flow;  // arrival order
    std::set<std::uint32_t> dropped;
    // Sent to a PE the registrar did not list: if it was suspected and then
    // failed, its kept copy is re-sent although it may have been processed.
    std::set<std::uint32_t> may_repeat;
    std::uint32_t next_id = 0;
    TimePoint now = t0;
    auto id_of = [](const MtpMessage& m) {
      return std::uint32_t{m.data[0]} | (std::uint32_t{m.data[1]} << 8) | (std::uint32_t{m.data[2]} << 16);
    };
    auto acknowledge = [&](PeIdentifier pe, std::size_t n) {
      auto& p = pes[pe];
      for (std::size_t i = 0; i < n && !p.in_flight.empty(); ++i) {
        auto id = p.in_flight.front();
        p.in_flight.pop_front();
        if (received[id]++ == 0) per_flow[by_id[id].sls].push_back(id);  // order of first arrivals
      }
    };
    std::function<void(const std::vector<Action>&)> apply = [&](const std::vector<Action>& actions) {
      for (const auto& a : actions) {
        if (auto* s = std::get_if<action::SendData>(&a)) {
          ASSERT_TRUE(pes[s->pe].up) << "seed " << seed << ": data to a PE whose association is down";
          pes[s->pe].in_flight.push_back(id_of(s->message));
          if (!pes[s->pe].listed) may_repeat.insert(id_of(s->message));
        } else if (auto* dr = std::get_if<action::Drop>(&a)) {
          dropped.insert(id_of(dr->message));
        } else if (auto* c = std::get_if<action::Connect>(&a)) {
          ASSERT_FALSE(pes[c->pe].up) << "seed " << seed << ": connect to a PE that is up";
          pes[c->pe].connecting = true;
        } else if (auto* dc = std::get_if<action::Disconnect>(&a)) {
          // Graceful: what is in flight is delivered first.
          acknowledge(dc->pe, pes[dc->pe].in_flight.size());
          pes[dc->pe].up = false;
          pes[dc->pe].connecting = false;
        } else if (auto* f = std::get_if<action::Fence>(&a)) {
          // Abort: the transport hands back what it holds.
          auto& p = pes[f->pe];
          std::vector<MtpMessage> back;
          for (auto id : p.in_flight) back.push_back(by_id[id]);
          p.in_flight.clear();
          p.up = false;
          p.connecting = false;
          if (!back.empty()) apply(d->handed_back(f->pe, back, now));
        }
      }
    };
    auto publish = [&] {
      std::vector<rserpool::PoolElementParameter> l;
      for (auto& [id, p] : pes)
        if (p.listed) l.push_back(listing(id));
      apply(d->handlespace(l, now));
    };
    // The link fails: some of what was in flight got through, the rest is
    // handed back (exact) or lost with the kernel unless the distributor
    // kept a copy (`lossy`: the kernel-SCTP case).
    auto fail = [&](PeIdentifier pe, bool lossy) {
      auto& p = pes[pe];
      acknowledge(pe, rng() % (p.in_flight.size() + 1));
      std::vector<MtpMessage> back;
      std::size_t lost = 0;
      if (lossy && d->state_of(pe) == MemberState::suspect) lost = std::min(p.in_flight.size(), d->kept_depth(pe));
      for (std::size_t i = 0; i < p.in_flight.size(); ++i)
        if (i + lost < p.in_flight.size()) back.push_back(by_id[p.in_flight[i]]);  // the kept tail is "lost"
      p.in_flight.clear();
      p.up = false;
      p.connecting = false;
      apply(d->association_failed(pe, back, now));
    };
    for (PeIdentifier pe = 1; pe <= 3; ++pe) pes[pe];
    publish();
    for (PeIdentifier pe = 1; pe <= 3; ++pe) {
      pes[pe].up = true;
      pes[pe].connecting = false;
      apply(d->association_up(pe, now));
    }
    for (int step = 0; step < 400; ++step) {
      now += 1ms;
      apply(d->on_timeout(now));
      const int r = static_cast<int>(rng() % 100);
      const auto pe = static_cast<PeIdentifier>(1 + rng() % 3);
      if (r < 68) {
        MtpMessage m = sccp(static_cast<std::uint8_t>(rng() % 8), 0);
        const std::uint32_t id = next_id++;
        m.data = {static_cast<std::uint8_t>(id), static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id >> 16)};
        by_id[id] = m;
        apply(d->message(m, now));
      } else if (r < 83) {
        if (pes[pe].up) acknowledge(pe, rng() % 4);
      } else if (r < 89) {
        if (pes[pe].connecting && rng() % 2 == 0) {  // the connection attempt fails
          pes[pe].connecting = false;
          apply(d->association_failed(pe, {}, now));
        } else if (pes[pe].up) {
          fail(pe, rng() % 2 == 0);
        }
      } else if (r < 93) {
        if (!pes[pe].connecting) continue;
        pes[pe].connecting = false;
        pes[pe].up = true;
        apply(d->association_up(pe, now));
      } else if (r < 97) {
        pes[pe].listed = !pes[pe].listed;  // the registrar lost it, or it registered again
        publish();
      }
    }
    // Quiesce: everyone listed, every pending decision taken, everyone up,
    // everything delivered.
    for (auto& [id, p] : pes) p.listed = true;
    publish();
    for (int round = 0; round < 10; ++round) {
      now += 100ms;
      apply(d->on_timeout(now));
      for (auto& [id, p] : pes) {
        if (!p.connecting) continue;
        p.connecting = false;
        p.up = true;
        apply(d->association_up(id, now));
      }
      for (auto& [id, p] : pes) acknowledge(id, p.in_flight.size());
    }
    for (std::uint32_t id = 0; id < next_id; ++id) {
      const int got = received.count(id) ? received[id] : 0;
      if (dropped.count(id) && may_repeat.count(id)) {
        // A kept copy (possible duplicate) may be dropped after the
        // original was processed.
        EXPECT_LE(got, 1) << "seed " << seed << " id " << id << " dropped and delivered twice";
      } else if (dropped.count(id)) {
        EXPECT_EQ(got, 0) << "seed " << seed << " id " << id << " dropped and delivered";
      } else if (may_repeat.count(id)) {
        EXPECT_GE(got, 1) << "seed " << seed << " id " << id << " lost";
        EXPECT_LE(got, 2) << "seed " << seed << " id " << id << " more than one repeat";
      } else {
        EXPECT_EQ(got, 1) << "seed " << seed << " id " << id << " lost or duplicated";
      }
    }
    for (const auto& [flow, ids] : per_flow)
      EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end())) << "seed " << seed << " flow " << int{flow} << " reordered";
    EXPECT_EQ(d->counters().dropped(DropReason::pool_unavailable) + d->counters().dropped(DropReason::queue_full),
              dropped.size());
    if (HasFailure()) return;
    const auto& c = d->counters();
    total.failovers += c.failovers;
    total.fenced += c.fenced;
    total.audits_passed += c.audits_passed;
    total.reconnect_attempts += c.reconnect_attempts;
    total.suspicions += c.suspicions;
    total.suspicions_cleared += c.suspicions_cleared;
    total.kept_since_notice += c.kept_since_notice;
    total.resent_after_failover += c.resent_after_failover;
  }
  // The seeds reach every path this test is about.
  EXPECT_GT(total.failovers, 200U);
  EXPECT_GT(total.fenced, 100U);
  EXPECT_GT(total.audits_passed, 50U);
  EXPECT_GT(total.reconnect_attempts, total.audits_passed);
  EXPECT_GT(total.suspicions, 50U);
  EXPECT_GT(total.suspicions_cleared, 10U);
  EXPECT_GT(total.kept_since_notice, 10U);
  EXPECT_GT(total.resent_after_failover, 200U);
  std::printf("failovers %llu fenced %llu audits %llu reconnects %llu suspicions %llu cleared %llu kept %llu\n",
              static_cast<unsigned long long>(total.failovers), static_cast<unsigned long long>(total.fenced),
              static_cast<unsigned long long>(total.audits_passed),
              static_cast<unsigned long long>(total.reconnect_attempts),
              static_cast<unsigned long long>(total.suspicions),
              static_cast<unsigned long long>(total.suspicions_cleared),
              static_cast<unsigned long long>(total.kept_since_notice));
}

// A hung controller (SIGSTOP) is fenced; if the registrar's audit passes it
// late, the reconnection reaches its kernel, which accepts the association
// its stopped process never serves. New flows must not wait behind that
// attempt (they stalled for seconds in UML: sgd_e2e_sctp HungPe...): a PE
// reconnecting after a failure takes new flows only once it is ACTIVE, also
// with the shared (rendezvous) placement.
TEST_F(Fixture, APeReconnectingAfterAFailureTakesNoNewFlowsUntilItIsActive) {
  sg::PoolMemberSelector shared{sg::PlacementMode::rendezvous};
  PoolDistributor d(config, shared, profile);
  bring_up(d, {1, 2, 3});
  (void)d.association_failed(3, {}, t0 + 100ms);
  auto audited = d.on_timeout(t0 + 3100ms);
  ASSERT_EQ(only<action::Connect>(audited).size(), 1U);
  ASSERT_EQ(d.state_of(3), MemberState::connecting);
  std::size_t sent_at_once = 0;
  for (std::uint16_t cic = 1; cic <= 300; ++cic)
    for (const auto& s : only<action::SendData>(d.message(isup(ss7::encode_iam(cic, "1")), t0 + 3200ms)))
      sent_at_once += s.pe == 1 || s.pe == 2 ? 1U : 0U;
  EXPECT_EQ(sent_at_once, 300U) << "new calls wait behind a PE that has not proven alive";
  // Once ACTIVE it takes its share again; nothing was waiting for it.
  EXPECT_TRUE(only<action::SendData>(d.association_up(3, t0 + 3300ms)).empty());
  std::size_t to_three = 0;
  for (std::uint16_t cic = 301; cic <= 600; ++cic)
    for (const auto& s : only<action::SendData>(d.message(isup(ss7::encode_iam(cic, "1")), t0 + 3400ms)))
      to_three += s.pe == 3 ? 1U : 0U;
  EXPECT_GT(to_three, 50U);
}

}  // namespace
}  // namespace sg
