// Speed of the TCP mapping: the sans-I/O codec and session in process, and
// whole associations over loopback (one io_context thread, both ends).
#include <benchmark/benchmark.h>

#include <boost/asio/io_context.hpp>

#include "rserpool/transport/endpoint.hpp"
#include "rserpool/transport/tcp_frame.hpp"
#include "rserpool/transport/tcp_mapping_session.hpp"

using namespace rserpool;
using namespace rserpool::transport;

namespace {

constexpr std::size_t kPayload = 60;  // a typical M3UA DATA carrying ISUP

void BM_EncodeData(benchmark::State& state) {
  const Bytes payload(kPayload, 0x42);
  Bytes out;
  out.reserve(4096);
  std::uint32_t seq = 0;
  for (auto _ : state) {
    out.clear();
    tcpmap::FrameEncoder::encode_data(++seq, 3, 1, false, payload, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeData);

void BM_DecodeData(benchmark::State& state) {
  Bytes stream;
  constexpr int kFrames = 1000;
  for (int i = 0; i < kFrames; ++i)
    tcpmap::FrameEncoder::encode_data(static_cast<std::uint32_t>(i), 3, 1, false, Bytes(kPayload, 1), stream);
  for (auto _ : state) {
    tcpmap::FrameDecoder d(70000);
    std::size_t pos = 0;
    int n = 0;
    while (pos < stream.size()) {
      std::size_t consumed = 0;
      auto r = d.next(ByteView(stream).subspan(pos), consumed);
      pos += consumed;
      if (r.ok() && r->has_value()) ++n;
    }
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * kFrames);
}
BENCHMARK(BM_DecodeData);

// submit -> produce -> peer on_bytes -> ack back: the whole per-message
// protocol work of both ends, batches of 64 as a read would bring them.
void BM_SessionRoundTrip(benchmark::State& state) {
  tcpmap::TimePoint t{};
  tcpmap::Session a({}, t);
  tcpmap::Session b({}, t);
  Bytes ab, ba;
  a.produce(ab);
  b.produce(ba);
  tcpmap::SessionEvents ev;
  b.on_bytes(ab, t, ev);
  a.on_bytes(ba, t, ev);
  const Message m{3, 1, false, Bytes(kPayload, 7)};
  constexpr int kBatch = 64;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) (void)a.submit(m);
    ab.clear();
    a.produce(ab);
    tcpmap::SessionEvents got;
    b.on_bytes(ab, t, got);
    ba.clear();
    b.produce(ba);
    tcpmap::SessionEvents acks;
    a.on_bytes(ba, t, acks);
    benchmark::DoNotOptimize(got.messages.size());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_SessionRoundTrip);

struct Counter : AssociationHandler {
  std::size_t received = 0;
  bool up = false;
  void on_up(Association&, const AssociationInfo&) override { up = true; }
  void on_message(Association&, Message&&) override { ++received; }
};

// One-way throughput over loopback: pipelined sends, the listener counts.
void BM_TcpMappingLoopback(benchmark::State& state) {
  boost::asio::io_context io;
  EndpointConfig cfg;
  cfg.kind = TransportKind::tcp;
  cfg.local_addresses = {IpAddress::v4_loopback()};
  auto sink = std::make_shared<Counter>();
  auto listener = Listener::open(io, cfg, [sink](const std::shared_ptr<Association>&) { return sink; });
  if (!listener) {
    state.SkipWithError("listen failed");
    return;
  }
  auto client = std::make_shared<Counter>();
  EndpointConfig cc = cfg;
  cc.local_addresses.clear();
  cc.remote_addresses = {IpAddress::v4_loopback()};
  cc.remote_port = (*listener)->port();
  auto assoc = transport::connect(io, cc, client);
  while (!client->up) io.run_one();
  const Message m{3, 1, false, Bytes(kPayload, 9)};
  const auto batch = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    const std::size_t target = sink->received + batch;
    for (std::size_t i = 0; i < batch; ++i) (void)(*assoc)->send(m);
    while (sink->received < target) io.run_one();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
  (*assoc)->abort();
  (*listener)->close();
  io.run_for(std::chrono::milliseconds(20));
}
BENCHMARK(BM_TcpMappingLoopback)->Arg(1)->Arg(64)->Arg(1024)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
