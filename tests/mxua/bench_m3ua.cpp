// M3UA hot paths, in process: DATA encode/decode (60-byte ISUP payload) and
// the SGP loadshare routing decision. Run:
//   build-m3ua/tests/mxua/bench_m3ua --benchmark_min_time=0.5
// or, for instruction counts under callgrind, one operation n times:
//   bench_m3ua --loop <op> <n>
#include <benchmark/benchmark.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mxua/codec.hpp"
#include "mxua/fsm/sgp_node.hpp"

namespace {

using namespace mxua;
using namespace std::chrono_literals;

const Bytes& isup60() {
  static const Bytes b = [] {
    Bytes p(60);
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(i * 7);
    return p;
  }();
  return b;
}

DataView sample(std::uint8_t sls = 5) {
  DataView d;
  d.routing_context = 100;
  d.protocol_data = ProtocolDataView{PointCode{0x0813}, PointCode{0x101c}, si::kIsup, 2, 0, sls, ByteView(isup60())};
  return d;
}

void BM_DataEncodeIntoBuffer(benchmark::State& st) {
  const DataView d = sample();
  std::array<std::uint8_t, 256> buf{};
  for (auto _ : st) {
    auto n = encode_data(d, std::span<std::uint8_t>(buf));
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(buf.data());
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}
BENCHMARK(BM_DataEncodeIntoBuffer);

void BM_DataEncodeReusedVector(benchmark::State& st) {
  const DataView d = sample();
  Bytes out;
  for (auto _ : st) {
    encode_data(d, out);
    benchmark::DoNotOptimize(out.data());
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}
BENCHMARK(BM_DataEncodeReusedVector);

void BM_DataDecodeView(benchmark::State& st) {
  Bytes wire;
  encode_data(sample(), wire);
  for (auto _ : st) {
    auto d = decode_data(wire);
    benchmark::DoNotOptimize(d);
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}
BENCHMARK(BM_DataDecodeView);

void BM_DataDecodeOwning(benchmark::State& st) {
  Bytes wire;
  encode_data(sample(), wire);
  for (auto _ : st) {
    auto m = decode(wire);
    benchmark::DoNotOptimize(m);
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}
BENCHMARK(BM_DataDecodeOwning);

SgpNode loadshare_node(unsigned asps) {
  SgpConfig c;
  AsConfig a;
  a.routing_context = 100;
  a.mode = TrafficMode::Loadshare;
  a.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{0x101c}}, {si::kIsup}, {}}};
  c.application_servers = {a};
  SgpNode n(c);
  for (AssocId id = 1; id <= asps; ++id) {
    (void)n.association_up(id, 17, TimePoint{});
    (void)n.receive(id, 0, encode(Message{AspUp{id, {}}}), TimePoint{});
    (void)n.receive(id, 0, encode(Message{AspAc{TrafficMode::Loadshare, {100}, {}}}), TimePoint{});
  }
  return n;
}

// Routing decision by RC (the DATA from the SS7 side already names its AS).
void BM_SgpLoadshareDecideByRc(benchmark::State& st) {
  const SgpNode n = loadshare_node(static_cast<unsigned>(st.range(0)));
  DataView d = sample();
  std::uint8_t sls = 0;
  for (auto _ : st) {
    d.protocol_data.sls = static_cast<std::uint8_t>(sls++ & 15U);
    auto t = n.decide(d);
    benchmark::DoNotOptimize(t);
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}
BENCHMARK(BM_SgpLoadshareDecideByRc)->Arg(2)->Arg(8);

// Routing decision by routing key (DPC, OPC, SI, NA lookup first).
void BM_SgpLoadshareDecideByKey(benchmark::State& st) {
  const SgpNode n = loadshare_node(4);
  DataView d = sample();
  d.routing_context.reset();
  std::uint8_t sls = 0;
  for (auto _ : st) {
    d.protocol_data.sls = static_cast<std::uint8_t>(sls++ & 15U);
    auto t = n.decide(d);
    benchmark::DoNotOptimize(t);
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}
BENCHMARK(BM_SgpLoadshareDecideByKey);

// Whole SS7 -> ASP step: decide, one SendData action (the driver encodes it).
void BM_SgpRouteAndEncode(benchmark::State& st) {
  SgpNode n = loadshare_node(4);
  DataView d = sample();
  Actions out;
  std::uint8_t sls = 0;
  for (auto _ : st) {
    out.clear();
    d.protocol_data.sls = static_cast<std::uint8_t>(sls++ & 15U);
    n.route(d, TimePoint{}, out);
    benchmark::DoNotOptimize(out.data());
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}
BENCHMARK(BM_SgpRouteAndEncode);

// ASP -> SGP step: bytes in, DataIndication out.
void BM_SgpReceiveData(benchmark::State& st) {
  SgpNode n = loadshare_node(1);
  Bytes wire;
  encode_data(sample(), wire);
  Actions out;
  for (auto _ : st) {
    out.clear();
    n.receive(1, 1, wire, TimePoint{}, out);
    benchmark::DoNotOptimize(out.data());
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}
BENCHMARK(BM_SgpReceiveData);

// --loop: a fixed number of one operation, so callgrind can count
// instructions per operation (run with n and with 0, subtract, divide).
int loop(const std::string& op, long n) {
  Bytes wire;
  encode_data(sample(), wire);
  std::array<std::uint8_t, 256> buf{};
  SgpNode node = loadshare_node(4);
  SgpNode one = loadshare_node(1);
  DataView d = sample();
  DataView by_key = sample();
  by_key.routing_context.reset();
  Actions out;
  std::size_t sink = 0;
  for (long i = 0; i < n; ++i) {
    const auto sls = static_cast<std::uint8_t>(i & 15);
    d.protocol_data.sls = sls;
    by_key.protocol_data.sls = sls;
    if (op == "encode_data") {
      sink += encode_data(d, std::span<std::uint8_t>(buf));
    } else if (op == "decode_data_view") {
      sink += decode_data(wire).ok();
    } else if (op == "decode_data_owning") {
      sink += decode(wire).ok();
    } else if (op == "decide_rc") {
      sink += node.decide(d)->asps.front();
    } else if (op == "decide_key") {
      sink += node.decide(by_key)->asps.front();
    } else if (op == "route_encode") {
      out.clear();
      node.route(d, TimePoint{}, out);
      sink += out.size();
    } else if (op == "receive_data") {
      out.clear();
      one.receive(1, 1, wire, TimePoint{}, out);
      sink += out.size();
    } else {
      std::fprintf(stderr, "unknown op %s\n", op.c_str());
      return 2;
    }
  }
  std::printf("%zu\n", sink);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--loop") return loop(argv[2], std::atol(argv[3]));
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
