// Handlespace throughput: registration, deregistration, re-registration and
// handle resolution at 10 ... 100,000 PEs per pool, for RR, WRAND and LU,
// and over 500 pools x 200 PEs. Counters: items_per_second = operations/s.
//
// Registration and deregistration are measured in blocks of B operations
// on a pool kept at its nominal size (take B PEs out, put them back), with
// manual timing around the measured half only.
#include <benchmark/benchmark.h>

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rserpool/core/handlespace.hpp"
#include "rserpool/core/pool_user_selection.hpp"

namespace rserpool::core {
namespace {

// The measured calls go through these out-of-line wrappers so that
// `valgrind --tool=callgrind --toggle-collect=*measured_*` counts them and
// not the set-up, which calls the handlespace directly.
[[gnu::noinline]] bool measured_register(Handlespace& hs, const PoolHandle& h, const PoolElementParameter& pe,
                                         const RegistrationContext& ctx) {
  return hs.register_element(h, pe, ctx).ok();
}
[[gnu::noinline]] bool measured_deregister(Handlespace& hs, const PoolHandle& h, PeIdentifier id) {
  return hs.deregister_element(h, id).has_value();
}
[[gnu::noinline]] std::optional<std::size_t> measured_pick(PoolUserSelector& s,
                                                         std::span<const PoolElementParameter> list,
                                                         std::span<const PeIdentifier> excluded, Random& rng) {
  return s.select(list, excluded, rng);
}
[[gnu::noinline]] bool measured_resolve(Handlespace& hs, const PoolHandle& h, std::vector<const PoolElementEntry*>& out) {
  return hs.resolve(h, 3, out).ok();
}

PoolElementParameter make_pe(PeIdentifier id, PolicyType type, Random& rng) {
  PoolElementParameter pe;
  pe.id = id;
  pe.registration_life_ms = 30'000;
  pe.user_transport.protocol = TransportProtocol::sctp;
  pe.user_transport.port = 2905;
  pe.user_transport.addresses.push_back(IpAddress::v4({10, static_cast<std::uint8_t>(id >> 16),
                                                       static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id)}));
  pe.policy.type = type;
  pe.policy.weight = static_cast<std::uint32_t>(1 + rng.uniform(100));
  pe.policy.load = static_cast<std::uint32_t>(rng.uniform(0xFFFFFFFFULL));
  return pe;
}

PolicyType policy_arg(std::int64_t v) {
  switch (v) {
    case 1: return PolicyType::weighted_random;
    case 2: return PolicyType::least_used;
    default: return PolicyType::round_robin;
  }
}

const char* policy_label(PolicyType t) {
  switch (t) {
    case PolicyType::weighted_random: return "WRAND";
    case PolicyType::least_used: return "LU";
    default: return "RR";
  }
}

struct Setup {
  Handlespace hs{HandlespaceConfig{42, 1}};
  std::vector<PoolHandle> pools;
  std::vector<std::vector<PoolElementParameter>> pes;  // per pool
  Random rng{7};

  Setup(std::size_t pool_count, std::size_t per_pool, PolicyType type) {
    for (std::size_t p = 0; p < pool_count; ++p) {
      pools.emplace_back(pool_count == 1 ? std::string("gwc") : "gwc-" + std::to_string(p));
      pes.emplace_back();
      for (std::size_t i = 0; i < per_pool; ++i) {
        pes.back().push_back(make_pe(static_cast<PeIdentifier>(0x1000 + i), type, rng));
        RegistrationContext ctx;
        ctx.owner = 1 + static_cast<ServerIdentifier>(i % 4);
        (void)hs.register_element(pools.back(), pes.back().back(), ctx);
      }
    }
  }
};

using Clock = std::chrono::steady_clock;

// args: policy, PEs per pool, pools
void BM_Registration(benchmark::State& state) {
  const PolicyType type = policy_arg(state.range(0));
  const auto per_pool = static_cast<std::size_t>(state.range(1));
  const auto pool_count = static_cast<std::size_t>(state.range(2));
  Setup s(pool_count, per_pool, type);
  const std::size_t block = std::max<std::size_t>(1, std::min<std::size_t>(1000, per_pool / 2));
  RegistrationContext ctx;
  ctx.owner = 1;
  std::size_t cursor = 0;
  for (auto _ : state) {
    const std::size_t p = s.rng.uniform(pool_count);
    const std::size_t first = cursor % (per_pool - block + 1);
    cursor += block;
    for (std::size_t i = first; i < first + block; ++i) (void)s.hs.deregister_element(s.pools[p], s.pes[p][i].id);
    const auto t0 = Clock::now();
    for (std::size_t i = first; i < first + block; ++i) {
      auto r = measured_register(s.hs, s.pools[p], s.pes[p][i], ctx);
      benchmark::DoNotOptimize(r);
    }
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(block));
  state.SetLabel(policy_label(type));
}

void BM_Deregistration(benchmark::State& state) {
  const PolicyType type = policy_arg(state.range(0));
  const auto per_pool = static_cast<std::size_t>(state.range(1));
  const auto pool_count = static_cast<std::size_t>(state.range(2));
  Setup s(pool_count, per_pool, type);
  const std::size_t block = std::max<std::size_t>(1, std::min<std::size_t>(1000, per_pool / 2));
  RegistrationContext ctx;
  ctx.owner = 1;
  std::size_t cursor = 0;
  for (auto _ : state) {
    const std::size_t p = s.rng.uniform(pool_count);
    const std::size_t first = cursor % (per_pool - block + 1);
    cursor += block;
    const auto t0 = Clock::now();
    for (std::size_t i = first; i < first + block; ++i) {
      auto r = measured_deregister(s.hs, s.pools[p], s.pes[p][i].id);
      benchmark::DoNotOptimize(r);
    }
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - t0).count());
    for (std::size_t i = first; i < first + block; ++i) (void)s.hs.register_element(s.pools[p], s.pes[p][i], ctx);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(block));
  state.SetLabel(policy_label(type));
}

// A registered PE re-registers with a new load through its home registrar,
// 1 ms after the previous re-registration: the steady-state ASAP load (the
// expiry moves to the end of the expiry index, the owner stays).
void BM_ReRegistration(benchmark::State& state) {
  const PolicyType type = policy_arg(state.range(0));
  const auto per_pool = static_cast<std::size_t>(state.range(1));
  const auto pool_count = static_cast<std::size_t>(state.range(2));
  Setup s(pool_count, per_pool, type);
  RegistrationContext ctx;
  for (auto _ : state) {
    const std::size_t p = s.rng.uniform(pool_count);
    const std::size_t i = s.rng.uniform(per_pool);
    PoolElementParameter& pe = s.pes[p][i];
    pe.policy.load = static_cast<std::uint32_t>(s.rng.uniform(0xFFFFFFFFULL));
    ctx.owner = 1 + static_cast<ServerIdentifier>(i % 4);
    ctx.now += std::chrono::milliseconds(1);
    auto r = measured_register(s.hs, s.pools[p], pe, ctx);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(policy_label(type));
}

// Handle resolution returning 3 PEs (rsplib's default item count).
void BM_Resolution(benchmark::State& state) {
  const PolicyType type = policy_arg(state.range(0));
  const auto per_pool = static_cast<std::size_t>(state.range(1));
  const auto pool_count = static_cast<std::size_t>(state.range(2));
  Setup s(pool_count, per_pool, type);
  std::vector<const PoolElementEntry*> out;
  out.reserve(16);
  for (auto _ : state) {
    const std::size_t p = pool_count == 1 ? 0 : s.rng.uniform(pool_count);
    auto r = measured_resolve(s.hs, s.pools[p], out);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(policy_label(type));
}

// Pool-user side: one pick from a resolved list (what the SG does per
// message), 3 or 16 entries, one of them excluded as failed.
void BM_PoolUserPick(benchmark::State& state) {
  const PolicyType type = policy_arg(state.range(0));
  const auto entries = static_cast<std::size_t>(state.range(1));
  Random rng(3);
  std::vector<PoolElementParameter> list;
  for (std::size_t i = 0; i < entries; ++i) list.push_back(make_pe(static_cast<PeIdentifier>(100 + i), type, rng));
  const PeIdentifier failed[] = {101};
  PoolUserSelector selector(type);
  for (auto _ : state) {
    auto r = measured_pick(selector, list, failed, rng);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(policy_label(type));
}
BENCHMARK(BM_PoolUserPick)->ArgNames({"policy", "entries"})->ArgsProduct({{0, 1, 2}, {3, 16}});

void one_pool_sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"policy", "pes", "pools"});
  for (std::int64_t policy : {0, 1, 2})
    for (std::int64_t pes : {10, 100, 1000, 10000, 100000}) b->Args({policy, pes, 1});
  for (std::int64_t policy : {0, 1, 2}) b->Args({policy, 200, 500});
}

BENCHMARK(BM_Registration)->Apply(one_pool_sizes)->UseManualTime();
BENCHMARK(BM_Deregistration)->Apply(one_pool_sizes)->UseManualTime();
BENCHMARK(BM_ReRegistration)->Apply(one_pool_sizes);
BENCHMARK(BM_Resolution)->Apply(one_pool_sizes);

}  // namespace
}  // namespace rserpool::core

BENCHMARK_MAIN();
