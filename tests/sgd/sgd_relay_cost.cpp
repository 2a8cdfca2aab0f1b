// The gateway's relay path, with the gateway on a thread of its own, for
// instruction counts (issue 16): run it under callgrind with
// --separate-threads=yes, twice (N = 0 and N = some thousands, after the
// same warm-up), and the gateway thread's difference divided by N is what
// one relayed DATA costs the gateway, its event loop, transport, M3UA,
// routing and pool selection included (tests/sgd/relay-instructions.sh
// does this and prints the command).
//
//   sgd_relay_cost N [WARMUP] [WINDOW]     (TCP mapping on loopback)
#include <cstdio>
#include <cstdlib>

#include "gateway_thread.hpp"
#include "rserpool/base/log.hpp"

int main(int argc, char** argv) {
  using namespace sgdtest;
  const std::size_t count = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10000;
  const std::size_t warm_up = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 2000;
  const std::size_t window = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 32;
  rserpool::log::set_default_level(spdlog::level::warn);
  rserpool::log::set_level("all", "warn");
  auto cfg = test_config();
  cfg.pe_beat_ms = 0;  // timers are not what is measured
  cfg.registrar.colocated->keep_alive_interval_ms = 600000;
  cfg.registrar.colocated->keep_alive_timeout_ms = 60000;
  GatewayThread gt;
  if (auto e = gt.start(cfg); !e.empty()) {
    std::fprintf(stderr, "gateway: %s\n", e.c_str());
    return 1;
  }
  boost::asio::io_context io;
  const auto asap_port = gt.on_gateway([&] { return *gt.gateway()->registrar_asap_port(); });
  const auto ss7_port = gt.on_gateway([&] { return *gt.gateway()->ss7_port(); });
  std::vector<std::unique_ptr<TestPe>> pes;
  for (rserpool::PeIdentifier id : {0x11111111u, 0x22222222u, 0x33333333u}) {
    pes.push_back(std::make_unique<TestPe>(io, rserpool::TransportAddress{loopback(), asap_port}, id));
    pes.back()->registration_life_ms = 600000;  // no re-registration while measuring
    pes.back()->start();
  }
  if (!run_until(io, [&] { return gt.active_members("gwc") == 3; }, 60s)) {
    std::fprintf(stderr, "PEs did not come up\n");
    return 1;
  }
  Ss7Peer peer(io, ss7_port);
  if (!run_until(io, [&] { return peer.active(); }, 60s)) return 1;
  std::size_t sent = 0;
  if (!relay(io, peer, pes, sent, warm_up, window)) return 1;
  if (count > 0 && !relay(io, peer, pes, sent, count, window)) return 1;
  std::printf("relayed %zu DATA after a warm-up of %zu (window %zu)\n", count, warm_up, window);
  for (auto& p : pes) p->detach();
  run_for(io, 50ms);
  pes.clear();
  return 0;
}
