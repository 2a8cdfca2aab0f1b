// Cost of the gateway's routing core per message: route lookup, flow
// classification, and the pool distributor's sticky assignment.
#include <benchmark/benchmark.h>

#include "sg/routing/pool_distributor.hpp"
#include "sg/routing/route_table.hpp"

namespace sg {
namespace {

class FirstCandidate : public MemberSelector {
 public:
  rserpool::PeIdentifier pick(const Placement&, std::span<const Candidate> c) override { return c[n_++ % c.size()].id; }

 private:
  std::size_t n_ = 0;
};

MtpMessage isup(rserpool::Bytes data) {
  MtpMessage m;
  m.opc = 100;
  m.dpc = 200;
  m.si = kSiIsup;
  m.data = std::move(data);
  return m;
}

RouteTable ten_routes() {
  RouteTable t;
  for (std::uint32_t i = 0; i < 10; ++i) {
    RoutingKey k;
    k.dpc = {191 + i, 0};
    k.service_indicators.set(kSiIsup);
    (void)t.add(Route{"r" + std::to_string(i), k, rserpool::PoolHandle("gwc")});
  }
  return t;
}

void BM_RouteLookup(benchmark::State& state) {
  const RouteTable t = ten_routes();
  const MtpMessage m = isup(ss7::encode_anm(5));
  for (auto _ : state) benchmark::DoNotOptimize(t.lookup(m, std::uint16_t{5}));  // matches the last route
}
BENCHMARK(BM_RouteLookup);

void BM_Classify(benchmark::State& state) {
  const MtpMessage m = isup(ss7::encode_rel(77));
  for (auto _ : state) benchmark::DoNotOptimize(classify(m));
}
BENCHMARK(BM_Classify);

// A message of a call in progress, among `calls` calls on three PEs.
void BM_DistributeExistingFlow(benchmark::State& state) {
  FirstCandidate sel;
  PoolDistributor d(DistributorConfig{}, sel);
  const TimePoint t{};
  std::vector<rserpool::PoolElementParameter> pool(3);
  for (rserpool::PeIdentifier pe : {1U, 2U, 3U}) pool[pe - 1].id = pe;
  (void)d.handlespace(pool, t);
  for (rserpool::PeIdentifier pe : {1U, 2U, 3U}) (void)d.association_up(pe, t);
  const auto calls = static_cast<std::uint16_t>(state.range(0));
  for (std::uint16_t cic = 0; cic < calls; ++cic) (void)d.message(isup(ss7::encode_iam(cic, "1")), t);
  std::vector<MtpMessage> msgs;
  for (std::uint16_t cic = 0; cic < calls; ++cic) msgs.push_back(isup(ss7::encode_anm(cic)));
  std::size_t i = 0;
  for (auto _ : state) {
    auto actions = d.message(msgs[i], t);
    benchmark::DoNotOptimize(actions);
    if (++i == msgs.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_DistributeExistingFlow)->Arg(100)->Arg(4000);

// A whole call as the SG sees it from the SS7 side: IAM (new flow, policy
// selection), REL, and the RLC that ends the flow.
void BM_DistributeCallLifecycle(benchmark::State& state) {
  FirstCandidate sel;
  PoolDistributor d(DistributorConfig{}, sel);
  const TimePoint t{};
  std::vector<rserpool::PoolElementParameter> pool(3);
  for (rserpool::PeIdentifier pe : {1U, 2U, 3U}) pool[pe - 1].id = pe;
  (void)d.handlespace(pool, t);
  for (rserpool::PeIdentifier pe : {1U, 2U, 3U}) (void)d.association_up(pe, t);
  const MtpMessage iam = isup(ss7::encode_iam(9, "4930123456"));
  const MtpMessage rel = isup(ss7::encode_rel(9));
  const MtpMessage rlc = isup(ss7::encode_rlc(9));
  for (auto _ : state) {
    benchmark::DoNotOptimize(d.message(iam, t));
    benchmark::DoNotOptimize(d.message(rel, t));
    benchmark::DoNotOptimize(d.message(rlc, t));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 3);
}
BENCHMARK(BM_DistributeCallLifecycle);

}  // namespace
}  // namespace sg

BENCHMARK_MAIN();
