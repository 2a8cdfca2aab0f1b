// What a seed draws: topology, load, network and faults (seed_world.hpp).
#include <algorithm>
#include <cstdio>
#include <random>

#include "seed_world.hpp"

namespace sg::sim::seeded {

using namespace std::chrono_literals;

std::string_view to_string(FaultKind k) noexcept {
  switch (k) {
    case FaultKind::controller_kill: return "controller-kill";
    case FaultKind::controller_hang: return "controller-hang";
    case FaultKind::controller_exit_notice: return "controller-exit-notice";
    case FaultKind::gateway_kill: return "gateway-kill";
    case FaultKind::pool_outage: return "pool-outage";
    case FaultKind::ss7_partition: return "ss7-partition";
    case FaultKind::enrp_partition: return "enrp-partition";
    case FaultKind::controller_partition: return "controller-partition";
  }
  return "?";
}

namespace {
long ms_of(rserpool::Duration d) { return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()); }
}  // namespace

std::string Plan::describe() const {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "seed %llu: %zu gateway(s), %zu controllers, %.0f calls/s, %.0f queries/s, hold %ld ms, "
                "%u streams, retransmit p=%.3f rto %ld ms (SS7 association p=%.3f rto %ld ms), BEAT detection %ld ms",
                static_cast<unsigned long long>(seed), gateways, controllers, calls_per_second, sccp_per_second,
                ms_of(hold_time), streams, retransmit_probability, ms_of(rto), ss7_retransmit_probability,
                ms_of(ss7_rto), ms_of(beat_detection));
  std::string s = buf;
  for (const auto& f : faults) {
    std::snprintf(buf, sizeof buf, "; %s #%zu at %ld ms (a %ld ms, b %ld ms, c %ld ms%s%s)",
                  std::string(to_string(f.kind)).c_str(), f.target, ms_of(f.at), ms_of(f.a), ms_of(f.b), ms_of(f.c),
                  f.graceful ? ", deregisters" : "",
                  f.kind == FaultKind::controller_partition ? (f.gateway == 0 ? ", from gateway 0" : ", from gateway 1")
                                                            : "");
    s += buf;
  }
  return s;
}

// Draws the plan from the run's one generator (the world goes on drawing
// from it: network delays and retransmissions).
Plan draw_plan(std::uint64_t seed, std::mt19937_64& rng) {
  auto uniform = [&](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  auto millis = [&](long lo, long hi) { return rserpool::Duration(std::chrono::milliseconds(uniform(lo, hi))); };
  Plan p;
  p.seed = seed;
  p.gateways = uniform(0, 1) == 0 ? 1 : 2;
  p.controllers = static_cast<std::size_t>(uniform(3, 5));
  p.calls_per_second = static_cast<double>(uniform(50, 200));
  p.sccp_per_second = static_cast<double>(uniform(0, 400));
  p.hold_time = millis(100, 600);
  p.originate_for = millis(1200, 2000);
  p.end = p.originate_for + 5000ms;
  p.streams = static_cast<std::uint16_t>(uniform(2, 8));
  const long loss = uniform(0, 2);
  p.retransmit_probability = loss == 0 ? 0.0 : loss == 1 ? 0.005 : 0.03;
  p.rto = millis(20, 120);
  p.beat_detection = millis(1000, 1500);
  // Faults on distinct controllers, at least two left untouched; at most
  // one gateway kill.
  const auto n = uniform(0, 3);
  std::vector<bool> touched(p.controllers, false);
  std::size_t touched_count = 0;
  bool gateway_killed = false;
  for (long i = 0; i < n; ++i) {
    Fault f;
    f.at = millis(200, static_cast<long>(ms_of(p.originate_for)) - 100);
    const auto kind = uniform(0, 9);
    if (kind >= 8) {
      if (gateway_killed) continue;
      gateway_killed = true;
      f.kind = FaultKind::gateway_kill;
      f.target = static_cast<std::size_t>(uniform(0, static_cast<long>(p.gateways) - 1));
      // Alone: it restarts; one of a pair: its mate carries the load, it may come back.
      f.a = p.gateways == 1 || uniform(0, 1) == 0 ? millis(100, 1000) : rserpool::Duration{0};
      p.faults.push_back(f);
      continue;
    }
    if (touched_count + 2 >= p.controllers) continue;
    std::size_t c = 0;
    do c = static_cast<std::size_t>(uniform(0, static_cast<long>(p.controllers) - 1));
    while (touched[c]);
    touched[c] = true;
    ++touched_count;
    f.target = c;
    if (kind < 3) {
      f.kind = FaultKind::controller_kill;
      f.b = uniform(0, 1) == 0 ? millis(300, 1500) : rserpool::Duration{0};
    } else if (kind < 6) {
      f.kind = FaultKind::controller_hang;
      f.a = millis(100, 3000);
    } else {
      f.kind = FaultKind::controller_exit_notice;
      f.a = millis(0, 30);
      f.b = millis(0, 50);
    }
    p.faults.push_back(f);
  }
  // One seed in eight empties the pool for a while (DUNA / DAVA). Drawn
  // from a generator of its own, so the draws above (and the world's,
  // which go on from `rng`) are those of the seeds before this fault kind.
  std::mt19937_64 outage_rng(seed ^ 0x6f75746167650000ULL);
  auto draw = [&](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(outage_rng); };
  if (draw(0, 7) == 0) {
    Fault f;
    f.kind = FaultKind::pool_outage;
    f.at = std::chrono::milliseconds(draw(300, static_cast<long>(ms_of(p.originate_for)) - 300));
    f.a = std::chrono::milliseconds(draw(500, 4000));
    p.faults.push_back(f);
  }
  // One seed in eight cuts the STP off from one gateway (not one that is
  // killed) for 0.2-3 s; each end's SCTP declares the association lost
  // 0.6-1.5 s into the cut (path failure detection), independently.
  std::mt19937_64 cut_rng(seed ^ 0x7061727469740000ULL);
  auto cut = [&](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(cut_rng); };
  if (cut(0, 7) == 0) {
    Fault f;
    f.kind = FaultKind::ss7_partition;
    f.target = static_cast<std::size_t>(cut(0, static_cast<long>(p.gateways) - 1));
    f.at = std::chrono::milliseconds(cut(200, static_cast<long>(ms_of(p.originate_for)) - 200));
    f.a = std::chrono::milliseconds(cut(200, 3000));
    f.b = std::chrono::milliseconds(cut(600, 1500));
    f.c = std::chrono::milliseconds(cut(600, 1500));
    const bool killed = std::any_of(p.faults.begin(), p.faults.end(), [&](const Fault& k) {
      return k.kind == FaultKind::gateway_kill && k.target == f.target;
    });
    if (!killed) p.faults.push_back(f);
  }
  // The registrars (own generator too): half the exits are graceful (the
  // controller deregisters first); one pair in four loses the ENRP
  // association between its registrars for 0.2-3 s (SCTP gives it up
  // 0.6-1.5 s into the cut).
  std::mt19937_64 reg_rng(seed ^ 0x656e727000000000ULL);
  auto rd = [&](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(reg_rng); };
  for (auto& f : p.faults)
    if (f.kind == FaultKind::controller_exit_notice) f.graceful = rd(0, 1) == 1;
  if (p.gateways == 2 && rd(0, 3) == 0) {
    Fault f;
    f.kind = FaultKind::enrp_partition;
    f.at = std::chrono::milliseconds(rd(200, static_cast<long>(ms_of(p.originate_for))));
    f.a = std::chrono::milliseconds(rd(200, 3000));
    f.b = std::chrono::milliseconds(rd(600, 1500));
    p.faults.push_back(f);
  }
  // The SS7 association loses and retransmits as the others do (own
  // generator: the draws above and the world's stay those of the seeds
  // before; the world's draws for it come from a generator of its own too).
  std::mt19937_64 ss7_loss_rng(seed ^ 0x7373376c6f737300ULL);
  auto sl = [&](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(ss7_loss_rng); };
  const long ss7_loss = sl(0, 2);
  p.ss7_retransmit_probability = ss7_loss == 0 ? 0.0 : ss7_loss == 1 ? 0.005 : 0.03;
  p.ss7_rto = std::chrono::milliseconds(sl(20, 120));
  // One seed in eight (own generator) cuts one controller off from one
  // gateway for 0.2-3 s while it still reaches the other gateway and the
  // registrars: a controller no other fault touches, a gateway not killed.
  // The gateway's link goes heartbeat-silent (M3UA BEAT fails it after the
  // plan's beat detection); the controller's SCTP gives the association up
  // 0.6-1.5 s into the cut.
  std::mt19937_64 ctl_rng(seed ^ 0x63746c6375740000ULL);
  auto cd = [&](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(ctl_rng); };
  if (cd(0, 7) == 0) {
    Fault f;
    f.kind = FaultKind::controller_partition;
    f.gateway = static_cast<std::size_t>(cd(0, static_cast<long>(p.gateways) - 1));
    f.target = static_cast<std::size_t>(cd(0, static_cast<long>(p.controllers) - 1));
    f.at = std::chrono::milliseconds(cd(200, static_cast<long>(ms_of(p.originate_for)) - 200));
    f.a = std::chrono::milliseconds(cd(200, 3000));
    f.b = std::chrono::milliseconds(cd(600, 1500));
    const bool clash = std::any_of(p.faults.begin(), p.faults.end(), [&](const Fault& k) {
      const bool on_controller = k.kind == FaultKind::controller_kill || k.kind == FaultKind::controller_hang ||
                                 k.kind == FaultKind::controller_exit_notice;
      return (on_controller && k.target == f.target) || (k.kind == FaultKind::gateway_kill && k.target == f.gateway);
    });
    if (!clash) p.faults.push_back(f);
  }
  return p;
}

}  // namespace sg::sim::seeded
