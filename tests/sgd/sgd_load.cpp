// Throughput of the gateway's data path in one process: SS7 peer -> SGP ->
// route -> distributor -> 3 PE links -> 3 gateway controllers, all on ONE
// thread (the peer and the controllers share the core with the gateway, so
// the gateway alone goes faster). Windowed: at most WINDOW messages in
// flight. Prints messages/s and the gateway's counters.
//
//   sgd_load [MESSAGES] [WINDOW]       (SG_TEST_TRANSPORT=tcp|sctp)
#include <cstdio>
#include <cstdlib>

#include "harness.hpp"
#include "rserpool/base/log.hpp"

int main(int argc, char** argv) {
  using namespace sgdtest;
  const std::size_t total = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200000;
  const std::size_t window = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 2000;
  rserpool::log::set_default_level(spdlog::level::warn);
  rserpool::log::set_level("all", "warn");
  boost::asio::io_context io;
  auto gw = sg::Gateway::start(io, test_config(), sg::GatewayOptions{7});
  if (!gw) {
    std::fprintf(stderr, "gateway: %s\n", gw.error().c_str());
    return 1;
  }
  std::vector<std::unique_ptr<TestPe>> pes;
  for (rserpool::PeIdentifier id : {0x11111111u, 0x22222222u, 0x33333333u}) {
    pes.push_back(std::make_unique<TestPe>(io, rserpool::TransportAddress{loopback(), *(*gw)->registrar_asap_port()}, id));
    pes.back()->start();
  }
  const auto* pool = (*gw)->distributor("gwc");
  auto active = [&] {
    std::size_t n = 0;
    for (auto id : pool->members()) n += pool->state_of(id) == sg::MemberState::active;
    return n;
  };
  if (!run_until(io, [&] { return active() == 3; }, 10s)) {
    std::fprintf(stderr, "PEs did not come up\n%s", (*gw)->show_pools().c_str());
    return 1;
  }
  Ss7Peer peer(io, *(*gw)->ss7_port());
  if (!run_until(io, [&] { return peer.active(); }, 5s)) return 1;
  auto received = [&] {
    std::size_t n = 0;
    for (auto& p : pes) {
      n += p->data_count;
      p->events.clear();  // keep memory flat
    }
    return n;
  };
  std::size_t sent = 0, got = 0;
  const auto t0 = Clock::now();
  while (got < total) {
    while (sent < total && sent - got < window) {
      const auto cic = static_cast<std::uint16_t>(1 + sent % 4000);
      if (!peer.send(isup(sg::ss7::encode_acm(cic), cic))) break;
      ++sent;
    }
    io.poll();
    io.restart();
    got = received();
    if (Clock::now() - t0 > 120s) break;
  }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("transport %s: %zu messages in %.3f s = %.0f msg/s (window %zu)\n", sctp_backend() ? "sctp" : "tcp", got, s,
              static_cast<double>(got) / s, window);
  for (auto& p : pes) std::printf("  PE %08x: %zu\n", p->id(), p->data_count);
  std::printf("%s", (*gw)->show_pools().c_str());
  pes.clear();
  gw->reset();
  return got == total ? 0 : 1;
}
