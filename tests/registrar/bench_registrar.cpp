// Registrar core costs per ASAP operation, in process (decode, handlespace,
// action vector, and the driver's encoding of each message it sends): the
// PERFORMANCE.md rows "register one PE" and "handle resolution (pool of 100
// PEs, 3 items)".
#include <benchmark/benchmark.h>

#include "test_support.hpp"

using namespace regtest;
namespace asap = rserpool::wire::asap;

namespace {

// What a driver does with the actions of one event: encode each message once.
std::size_t encode_all(const std::vector<Action>& actions) {
  std::size_t bytes = 0;
  Bytes out;
  for (const auto& a : actions) {
    if (const auto* s = std::get_if<SendAsap>(&a)) {
      out.clear();
      encode_into(s->message, out);
      bytes += out.size();
    } else if (const auto* e = std::get_if<SendEnrp>(&a)) {
      out.clear();
      rserpool::wire::enrp::encode_into(e->message, out);
      bytes += out.size();
    }
  }
  return bytes;
}

RegistrarConfig bench_config() {
  auto c = RegistrarConfig::rfc_defaults(0x1000);
  c.registration_rate = {};
  c.resolution_rate = {};
  c.max_pes_per_association = 1u << 30;
  return c;
}

// New PEs, one association, no ENRP peers.
void BM_RegisterNewPe(benchmark::State& state) {
  Registrar reg(bench_config());
  (void)reg.on_asap_association_up(1, {ip(1)}, 4000, at(0ms));
  std::vector<Bytes> msgs;
  for (PeIdentifier i = 1; i <= 20000; ++i) msgs.push_back(registration("pool-" + std::to_string(i % 500), make_pe(i, 1)));
  std::size_t n = 0;
  for (auto _ : state) {
    if (n == msgs.size()) {
      state.PauseTiming();
      reg = Registrar(bench_config());
      (void)reg.on_asap_association_up(1, {ip(1)}, 4000, at(0ms));
      n = 0;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(encode_all(reg.on_asap_message(1, msgs[n++], at(1ms))));
  }
}
BENCHMARK(BM_RegisterNewPe);

// Re-registration of one of 1000 PEs (the steady state: every PE re-registers periodically).
void BM_Reregister(benchmark::State& state) {
  Registrar reg(bench_config());
  (void)reg.on_asap_association_up(1, {ip(1)}, 4000, at(0ms));
  std::vector<Bytes> msgs;
  for (PeIdentifier i = 1; i <= 1000; ++i) {
    msgs.push_back(registration("pool", make_pe(i, 1)));
    (void)reg.on_asap_message(1, msgs.back(), at(1ms));
  }
  std::size_t n = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(encode_all(reg.on_asap_message(1, msgs[n], at(2ms))));
    n = (n + 1) % msgs.size();
  }
}
BENCHMARK(BM_Reregister);

void BM_HandleResolution100(benchmark::State& state) {
  auto cfg = bench_config();
  cfg.check_pe_addresses = false;
  Registrar reg(cfg);
  (void)reg.on_asap_association_up(1, {ip(1)}, 4000, at(0ms));
  (void)reg.on_asap_association_up(2, {ip(2)}, 4001, at(0ms));
  for (PeIdentifier i = 1; i <= 100; ++i) (void)reg.on_asap_message(1, registration("pool", make_pe(i, 1)), at(1ms));
  const Bytes q = asap::encode(asap::HandleResolution{false, PoolHandle{"pool"}, 3u});
  for (auto _ : state) benchmark::DoNotOptimize(encode_all(reg.on_asap_message(2, q, at(2ms))));
}
BENCHMARK(BM_HandleResolution100);

}  // namespace

BENCHMARK_MAIN();
