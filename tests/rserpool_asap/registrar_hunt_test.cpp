// Server hunt (RFC 5352 3.6): three parallel attempts at most, T5 backoff,
// and the sweep back-off after attempts that all failed (SH4).
#include "rserpool/asap/registrar_hunt.hpp"

#include <algorithm>

#include "asap_test_support.hpp"

namespace rserpool::asap::test {
namespace {

// A hunt with its own generator, as its owners (PoolElement, PoolUser)
// give it theirs.
struct Hunt {
  explicit Hunt(HuntConfig c, std::uint64_t seed = 7) : rng(seed), h(std::move(c), rng) {}
  core::Random rng;
  RegistrarHunt h;
  const TimerSet<Timer>& timers() const { return h.timers(); }
  std::optional<TimePoint> next_deadline() const { return h.next_deadline(); }
  void on_timeout(TimePoint now, Actions& out) { (void)h.on_timeout(now, out); }
};

TEST(RegistrarHunt, StartsAtMostThreeAttemptsAndT5) {
  Hunt x(hunt_config(5));
  Actions a;
  x.h.start(at(0ms), a);
  EXPECT_EQ(connects(a), (std::vector<AssocId>{0, 1, 2}));
  EXPECT_TRUE(armed_at(x, TimerKind::t5_server_hunt, at(10s)));
  EXPECT_TRUE(x.h.hunting());
  // A second start while hunting changes nothing.
  Actions b;
  x.h.start(at(1ms), b);
  EXPECT_TRUE(b.empty());
}

TEST(RegistrarHunt, MaxParallelIsClampedToThree) {
  auto cfg = hunt_config(6);
  cfg.max_parallel = 6;
  Hunt x(cfg);
  Actions a;
  x.h.start(at(0ms), a);
  EXPECT_EQ(count<ConnectRegistrar>(a), 3u);
}

TEST(RegistrarHunt, FailedAttemptIsReplacedByAnUntriedAddress) {
  Hunt x(hunt_config(4));
  Actions a;
  x.h.start(at(0ms), a);
  Actions b;
  x.h.on_connect_failed(1, at(1ms), b);
  EXPECT_EQ(connects(b), (std::vector<AssocId>{3}));
  EXPECT_EQ(x.h.pending_attempts(), 3u);
  // Every address tried this sweep: a further failure starts nothing, and
  // while attempts are pending no new sweep is scheduled either.
  Actions c;
  x.h.on_connect_failed(0, at(2ms), c);
  EXPECT_TRUE(connects(c).empty());
  EXPECT_EQ(x.h.pending_attempts(), 2u);
  EXPECT_FALSE(armed(x, TimerKind::hunt_retry));
}

TEST(RegistrarHunt, T5DoublesUpToRetranMaxAndAbortsPendingAttempts) {
  Hunt x(hunt_config(4));
  Actions a;
  x.h.start(at(0ms), a);
  // Attempts that hang (no answer at all) are only ended by T5 (SH5).
  TimePoint t = at(10s);
  const std::vector<Duration> expected{20s, 40s, 60s, 60s};
  for (Duration d : expected) {
    Actions e;
    EXPECT_TRUE(x.h.on_timeout(t, e));
    EXPECT_EQ(count<DisconnectRegistrar>(e), 3u);
    EXPECT_EQ(count<ConnectRegistrar>(e), 3u);
    EXPECT_TRUE(armed_at(x, TimerKind::t5_server_hunt, t + d)) << to_millis(d);
    EXPECT_LE(x.h.pending_attempts(), 3u);
    t += d;
  }
}

TEST(RegistrarHunt, NewRoundTriesADifferentSet) {
  Hunt x(hunt_config(4));
  Actions a;
  x.h.start(at(0ms), a);
  Actions e;
  x.h.on_timeout(at(10s), e);
  // The cursor moved on: the round starts with the address not tried before.
  EXPECT_EQ(connects(e).front(), 3u);
}

TEST(RegistrarHunt, FirstConnectionBecomesHomeAndResetsT5) {
  Hunt x(hunt_config(3));
  Actions a;
  x.h.start(at(0ms), a);
  Actions e;
  x.h.on_timeout(at(10s), e);
  EXPECT_EQ(x.h.current_t5(), 20s);
  Actions c;
  EXPECT_TRUE(x.h.on_connected(1, at(11s), c));
  EXPECT_FALSE(armed(x, TimerKind::t5_server_hunt));
  EXPECT_EQ(count<DisconnectRegistrar>(c), 2u);
  EXPECT_EQ(only<HomeRegistrarChanged>(c).assoc, 1u);
  EXPECT_EQ(x.h.home(), AssocId{1});
  EXPECT_EQ(x.h.current_t5(), 10s);
  EXPECT_FALSE(x.h.hunting());
  // A late success of an aborted attempt is closed again.
  Actions late;
  EXPECT_FALSE(x.h.on_connected(2, at(12s), late));
  EXPECT_EQ(only<DisconnectRegistrar>(late).assoc, 2u);
}

TEST(RegistrarHunt, LosingHomeStartsANewHunt) {
  Hunt x(hunt_config(2));
  Actions a;
  x.h.start(at(0ms), a);
  x.h.on_connected(0, at(1ms), a);
  Actions l;
  EXPECT_TRUE(x.h.on_lost(0, at(5s), l));
  EXPECT_FALSE(x.h.home());
  EXPECT_TRUE(x.h.hunting());
  EXPECT_EQ(count<ConnectRegistrar>(l), 2u);  // at once, not after a back-off
  EXPECT_TRUE(armed_at(x, TimerKind::t5_server_hunt, at(15s)));
}

TEST(RegistrarHunt, AdoptStopsAHuntInProgress) {
  Hunt x(hunt_config(2));
  Actions a;
  x.h.start(at(0ms), a);
  Actions b;
  EXPECT_TRUE(x.h.adopt(kInboundAssocBase, 0x1234, b));
  EXPECT_FALSE(armed(x, TimerKind::t5_server_hunt));
  EXPECT_EQ(count<DisconnectRegistrar>(b), 2u);
  EXPECT_EQ(x.h.home(), kInboundAssocBase);
  EXPECT_EQ(x.h.home_server_id(), 0x1234u);
  Actions c;
  EXPECT_FALSE(x.h.adopt(kInboundAssocBase, 0x1234, c));
}

TEST(RegistrarHunt, AlternativeHuntSkipsHomeAndGivesUpAfterOneRound) {
  Hunt x(hunt_config(5));
  Actions a;
  x.h.start(at(0ms), a);
  x.h.on_connected(2, at(1ms), a);
  Actions alt;
  x.h.start_alternative(at(15s), alt);
  auto tried = connects(alt);
  EXPECT_EQ(tried.size(), 3u);
  EXPECT_EQ(std::count(tried.begin(), tried.end(), 2u), 0);
  EXPECT_TRUE(armed_at(x, TimerKind::t5_server_hunt, at(25s)));
  // Its attempts failing does not start sweeps: it is one round by
  // definition.
  Actions f;
  for (AssocId id : tried) x.h.on_connect_failed(id, at(16s), f);
  EXPECT_FALSE(armed(x, TimerKind::hunt_retry));
  Actions e;
  EXPECT_FALSE(x.h.on_timeout(at(25s), e));
  EXPECT_EQ(count<ConnectRegistrar>(e), 0u);
  EXPECT_FALSE(x.next_deadline().has_value());
  EXPECT_EQ(x.h.home(), AssocId{2});
  EXPECT_FALSE(x.h.hunting());
  // Only the home configured: nothing to try, no T5.
  Hunt single(hunt_config(1));
  Actions s;
  single.h.start(at(0ms), s);
  single.h.on_connected(0, at(1ms), s);
  Actions alt1;
  single.h.start_alternative(at(2ms), alt1);
  EXPECT_TRUE(alt1.empty());
  EXPECT_FALSE(single.next_deadline().has_value());
}

TEST(RegistrarHunt, ServerAnnounceAddsRegistrarsForT7) {
  Hunt x(hunt_config(1));
  const auto src = *IpAddress::parse("10.9.9.9");
  // No transport parameters: the source address, well-known port.
  Actions a;
  x.h.on_server_announce(wire::asap::ServerAnnounce{0x11, {}}, src, at(0ms), a);
  EXPECT_TRUE(armed_at(x, TimerKind::t7_enrp_outdate, at(5s), 1));
  EXPECT_EQ(x.h.known_registrars(), 2u);
  // Announced again: same id, T7 restarted, nothing added.
  Actions again;
  x.h.on_server_announce(wire::asap::ServerAnnounce{0x11, {}}, src, at(1s), again);
  EXPECT_TRUE(armed_at(x, TimerKind::t7_enrp_outdate, at(6s), 1));
  EXPECT_EQ(x.h.known_registrars(), 2u);
  // SCTP transport with an address and port; a TCP one is skipped.
  TransportParameter sctp;
  sctp.protocol = TransportProtocol::sctp;
  sctp.port = 3999;
  sctp.addresses.push_back(*IpAddress::parse("10.8.8.8"));
  TransportParameter tcp = sctp;
  tcp.protocol = TransportProtocol::tcp;
  tcp.addresses = {*IpAddress::parse("10.7.7.7")};
  Actions b;
  x.h.on_server_announce(wire::asap::ServerAnnounce{0x12, {sctp, tcp}}, src, at(2s), b);
  EXPECT_EQ(x.timers().size(), 2u);  // T7 for ids 1 and 2
  EXPECT_EQ(x.h.known_registrars(), 3u);
  // A hunt tries all three; after T7 the learned one at id 1 is left out
  // (configured registrars never expire).
  Actions t7;
  x.h.on_timeout(at(6s), t7);
  EXPECT_EQ(x.h.known_registrars(), 2u);
  Actions s;
  x.h.start(at(6s), s);
  auto c = all<ConnectRegistrar>(s);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].assoc, 0u);
  EXPECT_EQ(c[1].assoc, 2u);
  EXPECT_EQ(c[1].address.to_string(), "10.8.8.8:3999");
}

TEST(RegistrarHunt, AnnounceDuringAHuntIsTriedAtOnce) {
  Hunt x(HuntConfig{});
  Actions s;
  x.h.start(at(0ms), s);
  Actions a;
  x.h.on_server_announce(wire::asap::ServerAnnounce{0x11, {}}, *IpAddress::parse("10.9.9.9"), at(1ms), a);
  auto c = all<ConnectRegistrar>(a);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].assoc, 0u);
  EXPECT_EQ(c[0].address.to_string(), "10.9.9.9:3863");
}

TEST(RegistrarHunt, NoRegistrarsConfiguredOnlyRunsT5) {
  Hunt x(HuntConfig{});
  Actions a;
  x.h.start(at(0ms), a);
  EXPECT_EQ(count<ConnectRegistrar>(a), 0u);
  EXPECT_FALSE(armed(x, TimerKind::hunt_retry));  // nobody to sweep over
  Actions e;
  EXPECT_TRUE(x.h.on_timeout(at(10s), e));
  EXPECT_TRUE(armed_at(x, TimerKind::t5_server_hunt, at(30s)));
}

// SH4 with every address refused (a registrar that is restarting refuses
// at once): the next sweep starts after 20 ms, then 40, 80 ... each drawn
// from [0.9 d, d], never above the running T5.
TEST(RegistrarHunt, RefusedSweepsBackOffFromTwentyMillisecondsCappedByRetryMax) {
  Hunt x(hunt_config(2));
  Actions a;
  x.h.start(at(0ms), a);
  std::vector<Duration> gaps;
  TimePoint last = at(0ms);
  TimePoint now = at(0ms);
  auto refuse_all = [&](const Actions& acts) {
    for (AssocId id : connects(acts)) {
      Actions f;
      x.h.on_connect_failed(id, now, f);
      ASSERT_TRUE(connects(f).empty());  // nobody untried within a sweep
    }
  };
  refuse_all(a);
  while (now < at(60s)) {
    now = *x.next_deadline();
    Actions e;
    x.h.on_timeout(now, e);
    if (connects(e).empty()) continue;
    gaps.push_back(now - last);
    last = now;
    refuse_all(e);
  }
  ASSERT_GE(gaps.size(), 8u);
  // 20, 40, 80, 160 ms, then retry_max (200 ms) for as long as the hunt
  // lasts, each drawn from [0.9 d, d] (a T5 expiry, at 10 s and 30 s,
  // starts a round of its own in between: only the upper bound there).
  Duration nominal = 20ms;
  TimePoint when = at(0ms);
  for (std::size_t i = 0; i < gaps.size(); ++i) {
    when += gaps[i];
    if (when < at(10s)) {
      EXPECT_GE(gaps[i], nominal * 9 / 10) << i;
    }
    EXPECT_LE(gaps[i], nominal) << i;
    nominal = std::min<Duration>(nominal * 2, 200ms);
  }
  EXPECT_GE(gaps.size(), 250u);  // about five sweeps a second for 60 s
  EXPECT_EQ(x.h.current_retry(), 200ms);
  // T5 keeps its RFC schedule (10, 20, 40 s ...) regardless.
  EXPECT_EQ(x.h.current_t5(), 40s);
  // A registrar that answers ends it all and resets both.
  Actions s;
  while (connects(s).empty()) {
    now = *x.next_deadline();
    s.clear();
    x.h.on_timeout(now, s);
  }
  Actions up;
  EXPECT_TRUE(x.h.on_connected(connects(s).front(), now, up));
  EXPECT_FALSE(x.next_deadline().has_value());
  EXPECT_EQ(x.h.current_retry(), 20ms);
  EXPECT_EQ(x.h.current_t5(), 10s);
}

// Without the cap (retry_max up to T5) the back-off doubles to the running
// T5, as the RFC's own schedule would.
TEST(RegistrarHunt, RetryMaxAtT5LetsTheBackOffDoubleToT5) {
  auto cfg = hunt_config(1);
  cfg.retry_max = cfg.t5_initial;
  Hunt x(cfg);
  Actions a;
  x.h.start(at(0ms), a);
  TimePoint now = at(0ms);
  Actions f;
  x.h.on_connect_failed(0, now, f);
  std::vector<Duration> gaps;
  TimePoint last = now;
  while (gaps.size() < 9) {
    now = *x.next_deadline();
    Actions e;
    x.h.on_timeout(now, e);
    if (connects(e).empty()) continue;
    gaps.push_back(now - last);
    last = now;
    Actions g;
    x.h.on_connect_failed(0, now, g);
  }
  EXPECT_GE(gaps[8], 5120ms * 9 / 10);  // 20 ms x 2^8, past any 200 ms cap
  EXPECT_LE(x.h.current_retry(), x.h.current_t5());
}

TEST(RegistrarHunt, BackOffJitterComesFromTheOwnersSeed) {
  auto sweep_times = [](std::uint64_t seed) {
    Hunt x(hunt_config(1), seed);
    Actions a;
    x.h.start(at(0ms), a);
    std::vector<TimePoint> times;
    TimePoint now = at(0ms);
    Actions f;
    x.h.on_connect_failed(0, now, f);
    while (times.size() < 6) {
      now = *x.next_deadline();
      Actions e;
      x.h.on_timeout(now, e);
      if (connects(e).empty()) continue;
      times.push_back(now);
      x.h.on_connect_failed(0, now, f);
    }
    return times;
  };
  EXPECT_EQ(sweep_times(11), sweep_times(11));  // reproducible
  EXPECT_NE(sweep_times(11), sweep_times(12));  // and spread across endpoints
}

TEST(RegistrarHunt, ZeroRetryInitialKeepsOneSweepPerRound) {
  auto cfg = hunt_config(1);
  cfg.retry_initial = Duration::zero();
  Hunt x(cfg);
  Actions a;
  x.h.start(at(0ms), a);
  Actions f;
  x.h.on_connect_failed(0, at(1ms), f);
  EXPECT_EQ(x.next_deadline(), at(10s));  // only T5
}

}  // namespace
}  // namespace rserpool::asap::test
