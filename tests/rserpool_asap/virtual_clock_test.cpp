// End-to-end timing in virtual time: a tiny driver advances to each core's
// next_deadline() and calls on_timeout(), exactly as the Asio drivers do
// with one OS timer per core; a scripted registrar answers. Checks the
// re-registration schedule, the T5 rounds against silent registrars, and
// how fast a pool element and a pool user find a registrar that restarts
// (RFC 5352 3.6 SH4 with the sweep back-off).
#include <cstdio>
#include <deque>

#include "asap_test_support.hpp"
#include "rserpool/asap/pool_element.hpp"
#include "rserpool/asap/pool_user.hpp"

namespace rserpool::asap::test {
namespace {

PoolElementConfig config() {
  PoolElementConfig c;
  c.pool = PoolHandle("p");
  c.pe_id = 0x42;
  c.registration_life_ms = 30'000;
  c.hunt = hunt_config(3);
  return c;
}

TEST(VirtualClock, ReregistrationEveryLifeMinusTwentySeconds) {
  PoolElement p(config());
  std::vector<TimePoint> registrations;
  Actions a;
  p.register_pe(at(0ms), a);
  Actions c;
  p.on_registrar_connected(0, at(0ms), c);
  // The registrar answers every REGISTRATION 50 ms later.
  std::deque<std::pair<TimePoint, wire::asap::RegistrationResponse>> answers;
  auto serve = [&](const Actions& acts, TimePoint now) {
    for (const auto& [assoc, reg] : sent<wire::asap::Registration>(acts)) {
      registrations.push_back(now);
      answers.emplace_back(now + 50ms,
                           wire::asap::RegistrationResponse{false, reg.pool_handle, reg.pool_element.id, {}});
    }
  };
  serve(c, at(0ms));
  for (;;) {
    const auto timer = p.next_deadline();
    const bool answer_first = !answers.empty() && (!timer || answers.front().first <= *timer);
    if (answer_first) {
      auto [when, resp] = answers.front();
      answers.pop_front();
      Actions r;
      p.on_registrar_message(0, resp, when, r);
      continue;
    }
    if (!timer || *timer > at(65s)) break;
    serve(fire(p, *timer), *timer);
  }
  // T4 = 10 s, restarted when each grant arrives (50 ms after the send).
  EXPECT_EQ(registrations, (std::vector<TimePoint>{at(0ms), at(10'050ms), at(20'100ms), at(30'150ms), at(40'200ms),
                                                   at(50'250ms), at(60'300ms)}));
  EXPECT_EQ(p.state(), PoolElement::State::registered);
}

TEST(VirtualClock, SilentRegistrarsGiveDoublingHuntRounds) {
  PoolElement p(config());
  std::vector<TimePoint> rounds;
  std::size_t max_pending = 0;
  Actions a;
  p.register_pe(at(0ms), a);
  rounds.push_back(at(0ms));
  // Attempts that never answer (a black-holed address): no failure ever
  // comes back, so only T5 starts new rounds.
  while (p.next_deadline() && *p.next_deadline() <= at(200s)) {
    const TimePoint now = *p.next_deadline();
    Actions x = fire(p, now);
    if (count<ConnectRegistrar>(x) > 0) rounds.push_back(now);
    max_pending = std::max(max_pending, p.hunt().pending_attempts());
  }
  // 10 s, then 20, 40, 60, 60 ...: rounds start at 0, 10, 30, 70, 130, 190.
  EXPECT_EQ(rounds, (std::vector<TimePoint>{at(0s), at(10s), at(30s), at(70s), at(130s), at(190s)}));
  EXPECT_LE(max_pending, 3u);
}

// One registrar that goes away at `lost` and listens again at `back`:
// attempts before that are refused after `rtt` (RST / ABORT), later ones
// come up after `rtt`, and a REGISTRATION is answered after `rtt`.
struct RestartingRegistrar {
  TimePoint back;
  Duration rtt = 1ms;
};

// Runs a PE whose home registrar dies at 0 and returns at `down_for`;
// returns when the PE was registered again (nullopt: not within 60 s).
std::optional<TimePoint> reregistered_after_restart(Duration down_for, std::uint64_t seed) {
  auto cfg = config();
  cfg.hunt = hunt_config(1);
  cfg.seed = seed;
  PoolElement p(cfg);
  Actions a;
  p.register_pe(at(-10s), a);
  p.on_registrar_connected(0, at(-10s), a);
  Actions g;
  p.on_registrar_message(0, wire::asap::RegistrationResponse{false, PoolHandle("p"), 0x42, {}}, at(-10s), g);
  EXPECT_EQ(p.state(), PoolElement::State::registered);

  RestartingRegistrar reg{at(0s) + down_for};
  // Events the registrar will deliver, in time order.
  struct Event {
    TimePoint when;
    enum { refused, up, granted } what;
  };
  std::deque<Event> events;
  auto react = [&](const Actions& acts, TimePoint now) {
    for (AssocId id : connects(acts)) {
      EXPECT_EQ(id, 0u);
      events.push_back({now + reg.rtt, now >= reg.back ? Event::up : Event::refused});
    }
    if (!sent<wire::asap::Registration>(acts).empty()) events.push_back({now + reg.rtt, Event::granted});
  };
  Actions l;
  p.on_registrar_lost(0, at(0s), l);  // the registrar process died: RST / ABORT
  react(l, at(0s));
  while (p.state() != PoolElement::State::registered) {
    const auto timer = p.next_deadline();
    if (!events.empty() && (!timer || events.front().when <= *timer)) {
      const Event e = events.front();
      events.pop_front();
      Actions x;
      if (e.what == Event::refused) p.on_registrar_connect_failed(0, e.when, x);
      if (e.what == Event::up) p.on_registrar_connected(0, e.when, x);
      if (e.what == Event::granted)
        p.on_registrar_message(0, wire::asap::RegistrationResponse{false, PoolHandle("p"), 0x42, {}}, e.when, x);
      react(x, e.when);
      if (p.state() == PoolElement::State::registered) return e.when;
      continue;
    }
    if (!timer || *timer > at(60s)) return std::nullopt;
    react(fire(p, *timer), *timer);
  }
  return std::nullopt;
}

// Issue 15: a PE whose registrar restarts 1 s later is registered again
// within the sweeps' cap (200 ms) of the registrar's return (before the
// sweep back-off: only when T5 expired, 10 s after the loss; with a
// doubling back-off alone: up to 1.1 s after the return).
TEST(VirtualClock, PeFindsARegistrarThatRestartsOneSecondLater) {
  const auto t = reregistered_after_restart(1s, 1);
  ASSERT_TRUE(t.has_value());
  const Duration after_return = *t - at(1s);
  std::printf("registrar back 1 s after the loss: PE registered again %lld ms after its return\n",
              static_cast<long long>(to_millis(after_return)));
  EXPECT_LE(after_return, 200ms + 25ms);
  EXPECT_GE(after_return, 2ms);  // at least connect + answer
}

// The bound holds whatever the outage and whatever the seed: the first
// sweep after the return comes within about 1/0.9 of the outage (+ the
// first back-off) and within the cap (200 ms), never later than T5 would.
TEST(VirtualClock, ReturnIsFoundWithinAboutATenthMoreThanTheOutageAndTheCap) {
  for (Duration down : {50ms, 100ms, 250ms, 500ms, 1000ms, 2000ms, 5000ms}) {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      const auto t = reregistered_after_restart(down, seed);
      ASSERT_TRUE(t.has_value()) << to_millis(down) << " ms, seed " << seed;
      const Duration after = *t - (at(0s) + down);
      EXPECT_LE(after, std::min<Duration>(down + down / 9, 200ms) + 25ms) << to_millis(down) << " ms, seed " << seed;
    }
  }
}

// The same for a pool user: a resolution asked while its registrar is
// restarting is answered soon after the registrar returns.
TEST(VirtualClock, PuResolvesSoonAfterItsRegistrarRestarts) {
  PoolUserConfig c;
  c.hunt = hunt_config(1);
  c.seed = 3;
  PoolUser pu(c);
  Actions a;
  pu.resolve(PoolHandle("p"), at(0s), a);  // no home yet: the hunt starts
  const TimePoint back = at(700ms);
  std::optional<TimePoint> asked;
  TimePoint now = at(0s);
  std::deque<std::pair<TimePoint, bool>> answers;  // (when, up?)
  auto react = [&](const Actions& acts, TimePoint t) {
    for (AssocId id : connects(acts)) {
      (void)id;
      answers.emplace_back(t + 1ms, t >= back);
    }
    if (!sent<wire::asap::HandleResolution>(acts).empty()) asked = t;
  };
  react(a, now);
  while (!asked) {
    const auto timer = pu.next_deadline();
    ASSERT_TRUE(timer || !answers.empty());
    if (!answers.empty() && (!timer || answers.front().first <= *timer)) {
      auto [when, up] = answers.front();
      answers.pop_front();
      Actions x;
      if (up) pu.on_registrar_connected(0, when, x);
      else pu.on_registrar_connect_failed(0, when, x);
      react(x, when);
      continue;
    }
    now = *timer;
    ASSERT_LT(now, at(10s)) << "not before T5";
    react(fire(pu, now), now);
  }
  EXPECT_LE(*asked - back, 700ms + 700ms / 9 + 25ms);
}

}  // namespace
}  // namespace rserpool::asap::test
