// End-to-end timing with a virtual clock: a tiny driver keeps the timers
// the cores ask for and fires them in deadline order, and a scripted
// registrar answers. Checks the re-registration schedule and the hunt
// backoff as seen over minutes of virtual time.
#include <map>

#include "asap_test_support.hpp"
#include "rserpool/asap/pool_element.hpp"

namespace rserpool::asap::test {
namespace {

// Timers by name; StartTimer replaces a running one, as the API promises.
class VirtualTimers {
 public:
  void apply(const Actions& a, Time now) {
    for (const auto& x : a) {
      if (const auto* s = std::get_if<StartTimer>(&x)) deadlines_[key(s->timer)] = {s->timer, now + s->after};
      if (const auto* s = std::get_if<StopTimer>(&x)) deadlines_.erase(key(s->timer));
    }
  }
  // The earliest timer due at or before `until`, removed.
  std::optional<std::pair<Timer, Time>> pop(Time until) {
    auto best = deadlines_.end();
    for (auto it = deadlines_.begin(); it != deadlines_.end(); ++it)
      if (best == deadlines_.end() || it->second.second < best->second.second) best = it;
    if (best == deadlines_.end() || best->second.second > until) return std::nullopt;
    auto r = best->second;
    deadlines_.erase(best);
    return r;
  }

 private:
  static std::uint64_t key(const Timer& t) { return (std::uint64_t{static_cast<std::uint8_t>(t.kind)} << 32) | t.key; }
  std::map<std::uint64_t, std::pair<Timer, Time>> deadlines_;
};

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
  VirtualTimers timers;
  std::vector<Time> registrations;
  Actions a;
  p.register_pe(0ms, a);
  timers.apply(a, 0ms);
  a.clear();
  p.on_registrar_connected(0, 0ms, a);
  // The registrar answers every REGISTRATION 50 ms later.
  auto serve = [&](const Actions& acts, Time now) {
    timers.apply(acts, now);
    for (const auto& [assoc, reg] : sent<wire::asap::Registration>(acts)) {
      registrations.push_back(now);
      Actions r;
      p.on_registrar_message(assoc, wire::asap::RegistrationResponse{false, reg.pool_handle, reg.pool_element.id, {}},
                             now + 50ms, r);
      timers.apply(r, now + 50ms);
    }
  };
  serve(a, 0ms);
  while (auto t = timers.pop(65s)) {
    Actions x;
    p.on_timer(t->first, t->second, x);
    serve(x, t->second);
  }
  // T4 = 10 s, restarted when each grant arrives (50 ms after the send).
  EXPECT_EQ(registrations, (std::vector<Time>{0ms, 10'050ms, 20'100ms, 30'150ms, 40'200ms, 50'250ms, 60'300ms}));
  EXPECT_EQ(p.state(), PoolElement::State::registered);
}

TEST(VirtualClock, SilentRegistrarsGiveDoublingHuntRounds) {
  PoolElement p(config());
  VirtualTimers timers;
  std::vector<Time> rounds;
  std::size_t max_pending = 0;
  Actions a;
  p.register_pe(0ms, a);
  timers.apply(a, 0ms);
  rounds.push_back(0ms);
  while (auto t = timers.pop(200s)) {
    Actions x;
    p.on_timer(t->first, t->second, x);
    timers.apply(x, t->second);
    if (count<ConnectRegistrar>(x) > 0) rounds.push_back(t->second);
    max_pending = std::max(max_pending, p.hunt().pending_attempts());
  }
  // 10 s, then 20, 40, 60, 60 ...: rounds start at 0, 10, 30, 70, 130, 190.
  EXPECT_EQ(rounds, (std::vector<Time>{0s, 10s, 30s, 70s, 130s, 190s}));
  EXPECT_LE(max_pending, 3u);
}

}  // namespace
}  // namespace rserpool::asap::test
