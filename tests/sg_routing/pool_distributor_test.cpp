#include "sg/routing/pool_distributor.hpp"

#include <gtest/gtest.h>

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
  PeIdentifier pick(std::span<const Candidate> c) override { return c[next_++ % c.size()].id; }

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

struct Fixture : ::testing::Test {
  RoundRobinSelector selector;
  DistributorConfig config;
  TimePoint t0{};
  rserpool::PolicyParameters rr{};

  std::unique_ptr<PoolDistributor> make() { return std::make_unique<PoolDistributor>(config, selector); }
  void bring_up(PoolDistributor& d, std::initializer_list<PeIdentifier> pes) {
    for (auto pe : pes) {
      auto a = d.member_added(pe, rr, t0);
      ASSERT_EQ(only<action::Connect>(a).size(), 1U);
      (void)d.association_up(pe, t0);
    }
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

// Seen end to end: the PE's association failed, then the registrar dropped
// it (or a reconnect attempt failed again). Neither may pick a second heir
// and echo the same calls to it: two controllers would answer one call.
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
  auto send_rel = [&](std::uint16_t cic) {
    auto a = d->message(isup(ss7::encode_rel(cic)), t0);
    cookies += only<action::SendCookieEcho>(a).size();
    heirs.insert(only<action::SendData>(a)[0].pe);
  };
  send_rel(on_pe1[0]);
  (void)d->association_failed(1, {}, t0 + 500ms);  // a reconnect attempt failed
  send_rel(on_pe1[1]);
  (void)d->member_removed(1, t0 + 1s);             // the registrar dropped it
  for (std::size_t i = 2; i < on_pe1.size(); ++i) send_rel(on_pe1[i]);
  EXPECT_EQ(heirs.size(), 1U);
  EXPECT_EQ(cookies, 1U);
}

TEST_F(Fixture, ConnectingPeQueuesAndFlushesInOrderAfterCookies) {
  auto d = make();
  bring_up(*d, {1});
  d->cookie_received(1, {0xAA});
  (void)d->message(sccp(3, 1), t0);
  (void)d->member_added(2, rr, t0);  // 2 is connecting
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
  (void)d->message(sccp(0, 1), t0 + 10ms);
  EXPECT_EQ(d->pool_wait_depth(), 1U);
  ASSERT_TRUE(d->next_deadline());
  EXPECT_EQ(*d->next_deadline(), t0 + 100ms);
  auto expired = d->advance(t0 + 100ms);
  EXPECT_EQ(only<action::PoolUnavailable>(expired).size(), 1U);
  EXPECT_TRUE(only<action::Drop>(expired).empty());  // waited only 90 ms so far
  auto dropped = d->advance(t0 + 110ms);
  ASSERT_EQ(only<action::Drop>(dropped).size(), 1U);
  EXPECT_EQ(only<action::Drop>(dropped)[0].reason, DropReason::pool_unavailable);
  EXPECT_EQ(d->counters().dropped_pool_unavailable, 1U);
  EXPECT_FALSE(d->pool_available());
  // Traffic during the outage waits; a returning PE gets it and DAVA goes up.
  (void)d->message(sccp(0, 2), t0 + 120ms);
  (void)d->member_added(1, rr, t0 + 130ms);
  auto up = d->association_up(1, t0 + 140ms);
  EXPECT_EQ(only<action::PoolAvailable>(up).size(), 1U);
  ASSERT_EQ(only<action::SendData>(up).size(), 1U);
  EXPECT_EQ(only<action::SendData>(up)[0].message.data[0], 2);
  EXPECT_TRUE(d->pool_available());
}

TEST_F(Fixture, DrainKeepsCallsUntilReleasedThenDisconnects) {
  auto d = make();
  bring_up(*d, {1, 2});
  ASSERT_EQ(only<action::SendData>(d->message(isup(ss7::encode_iam(5, "1")), t0))[0].pe, 1U);
  ASSERT_EQ(only<action::SendData>(d->message(isup(ss7::encode_iam(6, "1")), t0))[0].pe, 2U);
  EXPECT_TRUE(d->member_removed(1, t0).empty());
  EXPECT_EQ(d->state_of(1), MemberState::draining);
  // New calls avoid PE 1; the call in progress stays there.
  for (std::uint16_t cic = 10; cic < 14; ++cic)
    EXPECT_EQ(only<action::SendData>(d->message(isup(ss7::encode_iam(cic, "1")), t0))[0].pe, 2U);
  EXPECT_EQ(only<action::SendData>(d->message(isup(ss7::encode_rel(5)), t0))[0].pe, 1U);
  auto rlc = d->message(isup(ss7::encode_rlc(5)), t0);
  EXPECT_EQ(only<action::SendData>(rlc)[0].pe, 1U);
  EXPECT_EQ(only<action::Disconnect>(rlc).size(), 1U);
  EXPECT_FALSE(d->state_of(1));
}

TEST_F(Fixture, DrainDeadlineMovesRemainingCallsWithCookie) {
  config.drain_deadline = 1s;
  auto d = make();
  bring_up(*d, {1, 2});
  d->cookie_received(1, {0x42});
  ASSERT_EQ(only<action::SendData>(d->message(isup(ss7::encode_iam(5, "1")), t0))[0].pe, 1U);
  (void)d->member_removed(1, t0);
  EXPECT_EQ(*d->next_deadline(), t0 + 1s);
  auto expired = d->advance(t0 + 1s);
  EXPECT_EQ(only<action::Disconnect>(expired).size(), 1U);
  auto moved = d->message(isup(ss7::encode_rel(5)), t0 + 1s);
  ASSERT_EQ(moved.size(), 2U);
  EXPECT_EQ(std::get<action::SendCookieEcho>(moved[0]).cookie, (rserpool::Bytes{0x42}));
  EXPECT_EQ(std::get<action::SendData>(moved[1]).pe, 2U);
}

TEST_F(Fixture, BoundedQueuesDropWithReasonAndSignalCongestion) {
  config.max_queue = 10;
  config.congestion_onset = 8;
  config.congestion_abatement = 2;
  auto d = make();
  (void)d->member_added(1, rr, t0);  // connecting: everything queues
  std::vector<Action> all;
  for (std::uint8_t i = 0; i < 12; ++i) {
    auto a = d->message(sccp(0, i), t0);
    all.insert(all.end(), a.begin(), a.end());
  }
  ASSERT_EQ(only<action::Congestion>(all).size(), 1U);
  EXPECT_TRUE(only<action::Congestion>(all)[0].onset);
  EXPECT_EQ(only<action::Drop>(all).size(), 2U);
  EXPECT_EQ(d->counters().dropped_queue_full, 2U);
  auto up = d->association_up(1, t0);
  EXPECT_EQ(only<action::SendData>(up).size(), 10U);
  ASSERT_EQ(only<action::Congestion>(up).size(), 1U);
  EXPECT_FALSE(only<action::Congestion>(up)[0].onset);
}

TEST_F(Fixture, CallsOriginatedByAPeStayWithIt) {
  auto d = make();
  bring_up(*d, {1, 2});
  d->observe_from_member(2, isup(ss7::encode_iam(77, "1")));
  for (auto msg : {ss7::encode_acm(77), ss7::encode_anm(77)})
    EXPECT_EQ(only<action::SendData>(d->message(isup(msg), t0))[0].pe, 2U);
  d->observe_from_member(2, isup(ss7::encode_rlc(77)));
  EXPECT_EQ(d->flow_count(), 0U);
}

// A PE the registrar keeps listing is retried; each retry that fails
// belongs to the same failure event: one ENDPOINT_UNREACHABLE, one
// failover. A successful reconnection ends the event, so the next failure
// is reported again.
TEST_F(Fixture, FailedRetriesOfAListedPeAreOneFailureEventUntilItIsUpAgain) {
  auto d = make();
  bring_up(*d, {1, 2});
  (void)d->message(sccp(1, 1), t0);  // PE 1 carried traffic: worth reporting
  std::size_t reports = 0;
  reports += only<action::ReportUnreachable>(d->association_failed(1, {}, t0)).size();
  for (int retry = 1; retry <= 4; ++retry) {
    const auto t = t0 + retry * 500ms;
    ASSERT_EQ(only<action::Connect>(d->member_added(1, rr, t)).size(), 1U) << "retry " << retry;
    (void)d->message(sccp(1, 2), t);  // the flow goes on at its heir meanwhile
    reports += only<action::ReportUnreachable>(d->association_failed(1, {}, t + 10ms)).size();
  }
  EXPECT_EQ(reports, 1U);
  EXPECT_EQ(d->counters().failovers, 1U);
  // Back for real, then failing again: a new event, reported again.
  (void)d->member_added(1, rr, t0 + 3s);
  (void)d->association_up(1, t0 + 3s);
  (void)d->message(sccp(5, 3), t0 + 3s);
  EXPECT_EQ(only<action::ReportUnreachable>(d->association_failed(1, {}, t0 + 4s)).size(), 1U);
  EXPECT_EQ(d->counters().failovers, 2U);
}

// No traffic needed: a pool served from start() with no active PE is
// announced unavailable once pool-wait has passed, and only once.
TEST_F(Fixture, PoolWithoutActivePeAtStartIsAnnouncedUnavailableWithoutTraffic) {
  config.pool_wait = 100ms;
  auto d = make();
  d->start(t0);
  ASSERT_TRUE(d->next_deadline());
  EXPECT_EQ(*d->next_deadline(), t0 + 100ms);
  EXPECT_TRUE(only<action::PoolUnavailable>(d->advance(t0 + 99ms)).empty());
  // A PE that is still connecting at the deadline does not count.
  (void)d->member_added(1, rr, t0 + 50ms);
  EXPECT_EQ(only<action::PoolUnavailable>(d->advance(t0 + 100ms)).size(), 1U);
  EXPECT_FALSE(d->pool_available());
  // Nothing more is due (no busy timer), until the PE comes up: DAVA.
  EXPECT_FALSE(d->next_deadline());
  EXPECT_TRUE(only<action::PoolUnavailable>(d->advance(t0 + 300ms)).empty());
  EXPECT_EQ(only<action::PoolAvailable>(d->association_up(1, t0 + 400ms)).size(), 1U);
  EXPECT_TRUE(d->pool_available());
}

TEST_F(Fixture, PoolWithAnActivePeWithinPoolWaitAnnouncesNothing) {
  config.pool_wait = 100ms;
  auto d = make();
  d->start(t0);
  (void)d->member_added(1, rr, t0 + 10ms);
  EXPECT_TRUE(only<action::PoolAvailable>(d->association_up(1, t0 + 20ms)).empty()) << "never said unavailable";
  EXPECT_FALSE(d->next_deadline());
  EXPECT_TRUE(d->advance(t0 + 200ms).empty());
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
  EXPECT_EQ(only<action::PoolUnavailable>(d->advance(t0 + 300ms)).size(), 1U);
}

// Deterministic simulation: random traffic, PE failures with random
// hand-backs, returns, drains. After each run: every accepted message was
// received exactly once or dropped with a reason, and each flow's messages
// arrived in the order they were accepted.
TEST_F(Fixture, SimulatedFailuresLoseNothingAndKeepFlowOrder) {
  for (std::uint32_t seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    config.max_queue = 1000000;
    config.pool_wait = 50ms;
    auto d = make();
    struct Pe {
      bool up = false;
      bool connecting = false;
      std::deque<std::uint32_t> in_flight;  // sent, not yet acknowledged
    };
    std::map<PeIdentifier, Pe> pes;
    std::map<std::uint32_t, MtpMessage> by_id;
    std::map<std::uint32_t, int> received;
    std::map<std::uint8_t, std::vector<std::uint32_t>> per_flow;  // arrival order
    std::set<std::uint32_t> dropped;
    std::uint32_t next_id = 0;
    TimePoint now = t0;
    auto id_of = [](const MtpMessage& m) {
      return std::uint32_t{m.data[0]} | (std::uint32_t{m.data[1]} << 8) | (std::uint32_t{m.data[2]} << 16);
    };
    auto apply = [&](const std::vector<Action>& actions) {
      for (const auto& a : actions) {
        if (auto* s = std::get_if<action::SendData>(&a)) {
          ASSERT_TRUE(pes[s->pe].up) << "seed " << seed << ": data to a PE whose association is down";
          pes[s->pe].in_flight.push_back(id_of(s->message));
        } else if (auto* dr = std::get_if<action::Drop>(&a)) {
          dropped.insert(id_of(dr->message));
        }
      }
    };
    auto acknowledge = [&](PeIdentifier pe, std::size_t n) {
      auto& p = pes[pe];
      for (std::size_t i = 0; i < n && !p.in_flight.empty(); ++i) {
        auto id = p.in_flight.front();
        p.in_flight.pop_front();
        ++received[id];
        per_flow[by_id[id].sls].push_back(id);
      }
    };
    for (PeIdentifier pe = 1; pe <= 3; ++pe) {
      apply(d->member_added(pe, rr, now));
      pes[pe].up = true;
      apply(d->association_up(pe, now));
    }
    for (int step = 0; step < 400; ++step) {
      now += 1ms;
      const int r = static_cast<int>(rng() % 100);
      if (r < 70) {
        MtpMessage m = sccp(static_cast<std::uint8_t>(rng() % 8), 0);
        const std::uint32_t id = next_id++;
        m.data = {static_cast<std::uint8_t>(id), static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id >> 16)};
        by_id[id] = m;
        apply(d->message(m, now));
      } else if (r < 85) {
        const auto pe = static_cast<PeIdentifier>(1 + rng() % 3);
        if (pes[pe].up) acknowledge(pe, rng() % 4);
      } else if (r < 92) {
        const auto pe = static_cast<PeIdentifier>(1 + rng() % 3);
        if (pes[pe].connecting && rng() % 2 == 0) {  // the connection attempt fails
          pes[pe].connecting = false;
          apply(d->association_failed(pe, {}, now));
          continue;
        }
        if (!pes[pe].up) continue;
        acknowledge(pe, rng() % (pes[pe].in_flight.size() + 1));  // some got through
        std::vector<MtpMessage> back;
        for (auto id : pes[pe].in_flight) back.push_back(by_id[id]);
        pes[pe].in_flight.clear();
        pes[pe].up = false;
        apply(d->association_failed(pe, back, now));
      } else if (r < 95) {
        const auto pe = static_cast<PeIdentifier>(1 + rng() % 3);
        if (pes[pe].up || pes[pe].connecting) continue;
        pes[pe].connecting = true;  // traffic may queue behind it meanwhile
        apply(d->member_added(pe, rr, now));
      } else if (r < 98) {
        const auto pe = static_cast<PeIdentifier>(1 + rng() % 3);
        if (!pes[pe].connecting) continue;
        pes[pe].connecting = false;
        pes[pe].up = true;
        apply(d->association_up(pe, now));
      } else {
        apply(d->advance(now));
      }
    }
    // Quiesce: bring everyone up, deliver everything.
    for (PeIdentifier pe = 1; pe <= 3; ++pe) {
      if (!pes[pe].up) {
        if (!pes[pe].connecting) apply(d->member_added(pe, rr, now));
        pes[pe].connecting = false;
        pes[pe].up = true;
        apply(d->association_up(pe, now));
      }
    }
    for (PeIdentifier pe = 1; pe <= 3; ++pe) acknowledge(pe, pes[pe].in_flight.size());
    for (std::uint32_t id = 0; id < next_id; ++id) {
      const int got = received.count(id) ? received[id] : 0;
      if (dropped.count(id)) {
        EXPECT_EQ(got, 0) << "seed " << seed << " id " << id << " dropped and delivered";
      } else {
        EXPECT_EQ(got, 1) << "seed " << seed << " id " << id << " lost or duplicated";
      }
    }
    for (const auto& [flow, ids] : per_flow)
      EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end())) << "seed " << seed << " flow " << int{flow} << " reordered";
    EXPECT_EQ(d->counters().dropped_pool_unavailable + d->counters().dropped_queue_full, dropped.size());
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace sg
