// ASAP/ENRP codec cost per message: encode (into a reused buffer) and
// decode, for the messages on the hot paths: a PE registration, a handle
// resolution answer with 3 PEs, and the ENRP update and heartbeat.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>

#include "samples.hpp"

namespace {

using namespace wiretest;

asap::Message registration() { return asap::Registration{PoolHandle("gwc"), gwc_pe()}; }

asap::Message resolution_response() {
  return asap::HandleResolutionResponse{
      false, PoolHandle("gwc"), policy(PolicyType::least_used),
      {pe(1, 0x0a0b0c0d, 90000, sctp(2905, {v4(10, 0, 0, 1), v4(10, 0, 1, 1)}), policy(PolicyType::least_used, 10),
          sctp(3863, {v4(10, 0, 0, 1)})),
       pe(2, 0x0a0b0c0d, 90000, sctp(2905, {v4(10, 0, 0, 2), v4(10, 0, 1, 2)}), policy(PolicyType::least_used, 20),
          sctp(3863, {v4(10, 0, 0, 2)})),
       pe(3, 0x0a0b0c0d, 90000, sctp(2905, {v4(10, 0, 0, 3), v4(10, 0, 1, 3)}), policy(PolicyType::least_used, 30),
          sctp(3863, {v4(10, 0, 0, 3)}))},
      {}};
}

enrp::Message handle_update() {
  return enrp::HandleUpdate{0x01020304, 0, false, enrp::UpdateAction::add_pe, PoolHandle("gwc"),
                            pe(0x11223344, 0x01020304, 90000, sctp(2905, {v4(10, 0, 0, 1), v4(10, 0, 1, 1)}),
                               policy(PolicyType::least_used, 10), sctp(3863, {v4(10, 0, 0, 1)}))};
}

enrp::Message presence() {
  return enrp::Presence{0x01020304, 0, false, 0xabcd,
                        ServerInformation{0x01020304, sctp(9901, {v4(10, 0, 0, 10)})}};
}

template <class Msg, class Encode>
void run_encode(benchmark::State& state, const Msg& m, Encode encode_into) {
  Bytes buf;
  buf.reserve(512);
  for (auto _ : state) {
    buf.clear();
    encode_into(m, buf);
    benchmark::DoNotOptimize(buf.data());
  }
  state.counters["bytes"] = static_cast<double>(buf.size());
}

template <class Decode>
void run_decode(benchmark::State& state, const Bytes& wire, Decode decode) {
  for (auto _ : state) {
    auto d = decode(wire);
    if (!d.ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(d);
  }
}

void BM_Encode_AsapRegistration(benchmark::State& s) {
  run_encode(s, registration(), [](const auto& m, Bytes& b) { asap::encode_into(m, b); });
}
void BM_Decode_AsapRegistration(benchmark::State& s) {
  run_decode(s, asap::encode(registration()), [](const Bytes& b) { return asap::decode(b); });
}
void BM_Encode_AsapHandleResolutionResponse3Pe(benchmark::State& s) {
  run_encode(s, resolution_response(), [](const auto& m, Bytes& b) { asap::encode_into(m, b); });
}
void BM_Decode_AsapHandleResolutionResponse3Pe(benchmark::State& s) {
  run_decode(s, asap::encode(resolution_response()), [](const Bytes& b) { return asap::decode(b); });
}
void BM_Encode_EnrpHandleUpdate(benchmark::State& s) {
  run_encode(s, handle_update(), [](const auto& m, Bytes& b) { enrp::encode_into(m, b); });
}
void BM_Decode_EnrpHandleUpdate(benchmark::State& s) {
  run_decode(s, enrp::encode(handle_update()), [](const Bytes& b) { return enrp::decode(b); });
}
void BM_Encode_EnrpPresence(benchmark::State& s) {
  run_encode(s, presence(), [](const auto& m, Bytes& b) { enrp::encode_into(m, b); });
}
void BM_Decode_EnrpPresence(benchmark::State& s) {
  run_decode(s, enrp::encode(presence()), [](const Bytes& b) { return enrp::decode(b); });
}

void BM_Encode_AsapHandleResolutionResponse3PeCached(benchmark::State& s) {
  const auto m = resolution_response();
  const auto& r = std::get<asap::HandleResolutionResponse>(m);
  std::vector<Bytes> pes;
  for (const auto& p : r.pool_elements) pes.push_back(encode_parameter(p));
  const std::vector<ByteView> views(pes.begin(), pes.end());
  Bytes buf;
  buf.reserve(512);
  for (auto _ : s) {
    buf.clear();
    asap::encode_resolution_response(buf, r.accepted, r.pool_handle, r.overall_policy, views);
    benchmark::DoNotOptimize(buf.data());
  }
}

BENCHMARK(BM_Encode_AsapRegistration);
BENCHMARK(BM_Encode_AsapHandleResolutionResponse3PeCached);
BENCHMARK(BM_Decode_AsapRegistration);
BENCHMARK(BM_Encode_AsapHandleResolutionResponse3Pe);
BENCHMARK(BM_Decode_AsapHandleResolutionResponse3Pe);
BENCHMARK(BM_Encode_EnrpHandleUpdate);
BENCHMARK(BM_Decode_EnrpHandleUpdate);
BENCHMARK(BM_Encode_EnrpPresence);
BENCHMARK(BM_Decode_EnrpPresence);

// `bench_wire --loop <operation> <n>` runs one operation n times without the
// benchmark harness, for instruction counts under callgrind: run with n and
// with 0 and divide the difference by n.
int loop(const std::string& op, long n) {
  const asap::Message reg = registration();
  const asap::Message hrr = resolution_response();
  const enrp::Message upd = handle_update();
  const enrp::Message pres = presence();
  const Bytes reg_wire = asap::encode(reg);
  const Bytes hrr_wire = asap::encode(hrr);
  const Bytes upd_wire = enrp::encode(upd);
  const Bytes pres_wire = enrp::encode(pres);
  const asap::Message reg_resp = asap::RegistrationResponse{false, PoolHandle("gwc"), 0x11223344, {}};
  std::vector<Bytes> hrr_pes;
  for (const auto& p : std::get<asap::HandleResolutionResponse>(hrr).pool_elements) {
    hrr_pes.push_back(encode_parameter(p));
  }
  const std::vector<ByteView> hrr_pe_views(hrr_pes.begin(), hrr_pes.end());
  Bytes buf;
  buf.reserve(512);
  const std::map<std::string, std::function<void()>> ops = {
      {"encode_registration", [&] { buf.clear(); asap::encode_into(reg, buf); }},
      {"decode_registration", [&] { benchmark::DoNotOptimize(asap::decode(reg_wire)); }},
      {"encode_hrr3", [&] { buf.clear(); asap::encode_into(hrr, buf); }},
      {"decode_hrr3", [&] { benchmark::DoNotOptimize(asap::decode(hrr_wire)); }},
      {"encode_hrr3_cached", [&] {
         buf.clear();
         const auto& r = std::get<asap::HandleResolutionResponse>(hrr);
         asap::encode_resolution_response(buf, r.accepted, r.pool_handle, r.overall_policy, hrr_pe_views);
       }},
      {"encode_registration_response", [&] { buf.clear(); asap::encode_into(reg_resp, buf); }},
      {"encode_handle_update", [&] { buf.clear(); enrp::encode_into(upd, buf); }},
      {"decode_handle_update", [&] { benchmark::DoNotOptimize(enrp::decode(upd_wire)); }},
      {"encode_presence", [&] { buf.clear(); enrp::encode_into(pres, buf); }},
      {"decode_presence", [&] { benchmark::DoNotOptimize(enrp::decode(pres_wire)); }},
  };
  const auto it = ops.find(op);
  if (it == ops.end()) return 2;
  for (long i = 0; i < n; ++i) it->second();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--loop") == 0) return loop(argv[2], std::atol(argv[3]));
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
