// The seeded whole-gateway simulation (seed_world.hpp) over many seeds.
//
// The sweep runs SG_SIM_SEEDS seeds (default 10,000) in ten shards, one
// CTest test each; a failing seed prints its plan, the broken invariants
// and the command that replays it with a trace:
//   SG_SIM_SEED=<n> build/tests/sg_sim/sg_seed_sim_test --gtest_filter=SeededSimulation.ReplayOneSeed
//   build/tests/sg_sim/sg-sim-seed <n> --trace
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "seed_world.hpp"

namespace sg::sim::seeded {
namespace {

constexpr std::uint64_t kShards = 10;

// Seeds of 1-10,000 that break an invariant, not fixed yet: kKnownFailing
// in seed_known_failing.cpp (shared with sg-sim-seed), each with its
// reason. Pinned both ways: any other seed that fails fails the sweep, and
// so does one of these once it passes (take it off the list then).

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

std::string report(const Outcome& o) {
  std::string s = o.plan.describe() + "\n";
  for (const auto& v : o.violations) s += "  broken: " + v + "\n";
  s += "  replay: " + replay_command(o.plan.seed) + "\n";
  return s;
}

class SeedSweep : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(SeedSweep, EveryInvariantHolds) {
  const std::uint64_t seeds = env_or("SG_SIM_SEEDS", 10000);
  const std::uint64_t first = env_or("SG_SIM_FIRST_SEED", 1);
  const std::uint64_t shard = GetParam();
  const std::uint64_t per = (seeds + kShards - 1) / kShards;
  const std::uint64_t from = first + shard * per;
  const std::uint64_t to = std::min(first + seeds, from + per);
  std::uint64_t failed = 0, calls = 0, exempt = 0, exposed = 0, failovers = 0, kills = 0, echoes = 0, duna = 0, dava = 0;
  std::uint64_t first_failed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::uint64_t seed = from; seed < to; ++seed) {
    const Outcome o = run(seed);
    calls += o.calls_started;
    exempt += o.exempt_calls;
    exposed += o.exposed_by_membership;
    failovers += o.failovers;
    kills += o.gateway_kills;
    echoes += o.cookies_echoed;
    duna += o.duna_seen;
    dava += o.dava_seen;
    EXPECT_GT(o.calls_started, 0U) << o.plan.describe();
    if (known_failing(seed)) {
      EXPECT_FALSE(o.violations.empty()) << "seed " << seed << " passes now: take it off kKnownFailing";
      continue;
    }
    if (!o.violations.empty()) {
      if (failed++ == 0) first_failed = seed;
      if (failed <= 3) ADD_FAILURE() << report(o);
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("  seeds %llu..%llu: %llu failed (first %llu); %llu calls, %llu failed as the model allows, %llu exposed "
              "by the membership bound, "
              "%llu failovers, %llu cookie echoes, %llu gateway kills, %llu DUNA, %llu DAVA; %.1f s\n",
              static_cast<unsigned long long>(from), static_cast<unsigned long long>(to - 1),
              static_cast<unsigned long long>(failed), static_cast<unsigned long long>(first_failed),
              static_cast<unsigned long long>(calls), static_cast<unsigned long long>(exempt),
              static_cast<unsigned long long>(exposed), static_cast<unsigned long long>(failovers),
              static_cast<unsigned long long>(echoes), static_cast<unsigned long long>(kills),
              static_cast<unsigned long long>(duna), static_cast<unsigned long long>(dava), secs);
  EXPECT_EQ(failed, 0U) << "first failing seed " << first_failed << ": " << replay_command(first_failed);
}

INSTANTIATE_TEST_SUITE_P(Shard, SeedSweep, ::testing::Range<std::uint64_t>(0, kShards));

// The same seed gives the same trace.
TEST(SeededSimulation, TheSameSeedGivesTheSameTrace) {
  for (std::uint64_t seed : {1ULL, 7ULL, 42ULL, 1234ULL, 99991ULL}) {
    const Outcome a = run(seed);
    const Outcome b = run(seed);
    EXPECT_EQ(a.trace_hash, b.trace_hash) << "seed " << seed;
    EXPECT_EQ(a.events, b.events) << "seed " << seed;
    EXPECT_GT(a.events, 1000U);
    const Outcome traced = run(seed, Options{true});
    EXPECT_EQ(traced.trace_hash, a.trace_hash) << "tracing must not change the run";
    EXPECT_EQ(traced.trace.size(), traced.events);
  }
  EXPECT_NE(run(1).trace_hash, run(2).trace_hash);
}

// The seeds draw every fault the world knows, on one gateway and on a pair.
TEST(SeededSimulation, TheSeedsCoverEveryFault) {
  std::map<std::pair<FaultKind, std::size_t>, int> seen;
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    const Outcome o = run(seed);
    for (const auto& f : o.plan.faults) ++seen[{f.kind, o.plan.gateways}];
  }
  for (auto k : {FaultKind::controller_kill, FaultKind::controller_hang, FaultKind::controller_exit_notice,
                 FaultKind::gateway_kill, FaultKind::pool_outage, FaultKind::ss7_partition,
                 FaultKind::controller_partition})
    for (std::size_t g : {1U, 2U}) EXPECT_GT((seen[{k, g}]), 5) << to_string(k) << " with " << g << " gateway(s)";
  EXPECT_GT((seen[{FaultKind::enrp_partition, 2U}]), 5);  // a pair's registrars only
  EXPECT_EQ((seen[{FaultKind::enrp_partition, 1U}]), 0);
}

// The DUNA/DAVA invariant is not vacuous: a pool outage longer than
// pool-wait (2 s) plus the announcement's lag shows the SS7 side a DUNA
// and then a DAVA from every gateway; one shorter than pool-wait shows
// none (the pool is back before the gateway gives up on it).
TEST(SeededSimulation, APoolOutageIsAnnouncedToTheSs7Side) {
  int long_outages = 0, short_outages = 0;
  for (std::uint64_t seed = 1; seed <= 400; ++seed) {
    if (known_failing(seed)) continue;
    const Outcome o = run(seed);
    // An outage, and no fault that empties a gateway's pool another way
    // (a gateway killed and restarted starts empty; a partition).
    const Fault* outage = nullptr;
    bool other = false;
    for (const auto& f : o.plan.faults) {
      if (f.kind == FaultKind::pool_outage) outage = &f;
      if (f.kind == FaultKind::gateway_kill || f.kind == FaultKind::ss7_partition) other = true;
    }
    if (!outage || other) continue;
    // Counted from the outage on: at the start a gateway is unavailable
    // until its first controller is up, and an STP's ASP that activates
    // before that hears DUNA, then DAVA.
    std::uint64_t duna = 0, dava = 0;
    for (const auto& [when, available] : o.announcements)
      if (when >= outage->at) ++(available ? dava : duna);
    const auto down = outage->a;
    if (down > std::chrono::milliseconds(2500)) {
      ++long_outages;
      EXPECT_EQ(duna, o.plan.gateways) << o.plan.describe();
      EXPECT_EQ(dava, o.plan.gateways) << o.plan.describe();
    } else if (down < std::chrono::milliseconds(1500)) {
      ++short_outages;
      EXPECT_EQ(duna, 0U) << o.plan.describe();
      EXPECT_EQ(dava, 0U) << o.plan.describe();
    }
    EXPECT_TRUE(o.violations.empty()) << o.plan.describe();
  }
  EXPECT_GT(long_outages, 3);
  EXPECT_GT(short_outages, 1);
}

// The registrars are in the loop: every controller registers over ASAP;
// graceful exits deregister; a pair's restarted gateway brings its
// registrar back with a mentor download from the mate's; divergence across
// an ENRP partition ends in a resynchronisation; the
// convergence and pool-view checks ran (and held).
TEST(SeededSimulation, TheRegistrarsServeThePool) {
  std::uint64_t graceful = 0, deregistered = 0, restarts_in_pair = 0, mentors = 0, lost_enrp = 0, resyncs = 0,
                converged = 0, views = 0;
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    if (known_failing(seed)) continue;
    const Outcome o = run(seed);
    EXPECT_GE(o.registrations, o.plan.controllers) << o.plan.describe();
    for (const auto& f : o.plan.faults) {
      if (f.kind == FaultKind::controller_exit_notice && f.graceful) ++graceful;
      if (f.kind == FaultKind::gateway_kill && o.plan.gateways == 2 && f.a.count() > 0) ++restarts_in_pair;
    }
    deregistered += o.deregistrations;
    mentors += o.mentor_downloads;
    lost_enrp += o.enrp_cut_lost;
    resyncs += o.resyncs;
    converged += o.convergence_checks;
    views += o.view_checks;
    EXPECT_TRUE(o.violations.empty()) << o.plan.describe();
  }
  EXPECT_GT(graceful, 3U);
  // A graceful exit deregisters when it is registered then (not while its
  // home registrar is being replaced, nor when it hung first).
  EXPECT_LE(deregistered, graceful);
  EXPECT_GE(2 * deregistered, graceful);
  EXPECT_GT(restarts_in_pair, 3U);
  EXPECT_GE(mentors, restarts_in_pair);
  EXPECT_GT(lost_enrp, 3U);
  EXPECT_GT(resyncs, 3U);  // a lost association resyncs when the handlespaces diverged meanwhile
  EXPECT_GT(converged, 100U);
  EXPECT_GT(views, 300U);
}

// SG_SIM_SEED=<n>: replays one seed and prints its trace.
TEST(SeededSimulation, ReplayOneSeed) {
  const char* v = std::getenv("SG_SIM_SEED");
  if (!v || !*v) GTEST_SKIP() << "set SG_SIM_SEED=<n> to replay one seed with its trace";
  const auto seed = std::strtoull(v, nullptr, 10);
  const Outcome o = run(seed, Options{true});
  for (const auto& line : o.trace) std::printf("%s\n", line.c_str());
  std::printf("%s\ntrace hash %016llx, %llu events\n", o.plan.describe().c_str(),
              static_cast<unsigned long long>(o.trace_hash), static_cast<unsigned long long>(o.events));
  EXPECT_TRUE(o.violations.empty()) << report(o);
}

}  // namespace
}  // namespace sg::sim::seeded
