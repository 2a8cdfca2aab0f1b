// m3ua-forwarder: the minimal M3UA forwarder sgd's relay rate is quoted
// against (issue 16; docs/performance.md, "Issue 16: daemon-level
// figures"). It takes sgd's place between ss7-gen and the gateway
// controllers (gwc-sim, connected to with --controller) or echoing ASPs
// (m3ua_load --echo-asp, accepted on --downstream-listen): DATA from the
// SS7 side to the next ACTIVE downstream peer in turn, answers back, over
// the project's transport with sgd's options. Machine-readable lines on
// stdout: "event listening ...", "event downstream-active n=K", "event
// ready" (every --controller ACTIVE), "stats ..." every --stats-interval
// and at exit (SIGTERM / SIGINT).
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "forwarder.hpp"
#include "rserpool/base/log.hpp"
#include "sg/sim/command_line.hpp"

namespace {

namespace tr = rserpool::transport;

constexpr const char* kUsage =
    "usage: m3ua-forwarder [options]\n"
    "  --listen ADDR:PORT            SS7 side: ASPs connect here (port 0: ephemeral; default 127.0.0.1:0)\n"
    "  --controller ADDR:PORT        a gateway controller to connect to as IPSP (repeatable)\n"
    "  --controller-rc N             routing context of DATA towards the controllers (default 1)\n"
    "  --downstream-listen ADDR:PORT downstream ASPs (m3ua_load --echo-asp) connect here\n"
    "  --transport auto|sctp|tcp\n"
    "  --aggressive                  the aggressive SCTP / TCP-mapping profile (sgd's timer-profile aggressive)\n"
    "  --stats-interval MS           periodic 'stats' lines (default 0: only at exit)\n";

struct Options {
  rserpool::TransportAddress listen = *rserpool::TransportAddress::parse("127.0.0.1:0");
  std::vector<rserpool::TransportAddress> controllers;
  std::uint32_t controller_rc = 1;
  std::optional<rserpool::TransportAddress> downstream_listen;
  tr::TransportKind transport = tr::TransportKind::automatic;
  bool aggressive = false;
  std::chrono::milliseconds stats_interval{0};
};

std::optional<Options> parse(int argc, char** argv, int& code) {
  Options o;
  code = 2;
  auto fail = [&](const std::string& why) -> std::optional<Options> {
    std::fprintf(stderr, "m3ua-forwarder: %s\n%s", why.c_str(), kUsage);
    return std::nullopt;
  };
  sg::sim::ArgCursor args(argc, argv, sg::sim::NumberBase::decimal);
  while (args.next()) {
    const std::string_view arg = args.flag();
    auto address = [&](rserpool::TransportAddress& out) {
      auto v = args.value();
      auto a = v ? rserpool::TransportAddress::parse(*v) : std::nullopt;
      if (a) out = *a;
      return a.has_value();
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      code = 0;
      return std::nullopt;
    } else if (arg == "--listen") {
      if (!address(o.listen)) return fail("--listen needs ADDR:PORT");
    } else if (arg == "--controller") {
      rserpool::TransportAddress a;
      if (!address(a) || a.port == 0) return fail("--controller needs ADDR:PORT");
      o.controllers.push_back(a);
    } else if (arg == "--controller-rc") {
      if (!args.number(o.controller_rc)) return fail("--controller-rc needs a number");
    } else if (arg == "--downstream-listen") {
      rserpool::TransportAddress a;
      if (!address(a)) return fail("--downstream-listen needs ADDR:PORT");
      o.downstream_listen = a;
    } else if (arg == "--transport") {
      auto v = args.value();
      auto k = v ? tr::parse_transport_kind(*v) : std::nullopt;
      if (!k) return fail("--transport is auto, sctp or tcp");
      o.transport = *k;
    } else if (arg == "--aggressive") {
      o.aggressive = true;
    } else if (arg == "--stats-interval") {
      if (!args.milliseconds(o.stats_interval)) return fail("--stats-interval needs milliseconds");
    } else {
      return fail("unknown option " + std::string(arg));
    }
  }
  if (o.controllers.empty() && !o.downstream_listen) return fail("no downstream: --controller or --downstream-listen");
  code = 0;
  return o;
}

tr::EndpointConfig endpoint(const Options& o, const std::string& name) {
  tr::EndpointConfig c;
  c.kind = tr::resolve_kind(o.transport);
  if (o.aggressive) {
    c.sctp = tr::SctpOptions::aggressive();
    c.tcp = tr::TcpMappingOptions::aggressive();
  }
  c.name = name;
  return c;
}

void print_stats(const sg::bench::Forwarder& f) {
  const auto& c = f.counters();
  std::printf("stats from_ss7=%" PRIu64 " to_downstream=%" PRIu64 " from_downstream=%" PRIu64 " to_ss7=%" PRIu64
              " no_peer=%" PRIu64 " refused=%" PRIu64 " unsent=%" PRIu64 " management=%" PRIu64 " ignored=%" PRIu64
              " malformed=%" PRIu64 " downstream_active=%zu\n",
              c.from_ss7, c.to_downstream, c.from_downstream, c.to_ss7, c.no_peer, c.refused, c.unsent, c.management,
              c.ignored, c.malformed, f.active_downstream());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int code = 0;
  auto o = parse(argc, argv, code);
  if (!o) return code;
  std::signal(SIGPIPE, SIG_IGN);
  boost::asio::io_context io;

  sg::bench::ForwarderConfig cfg;
  cfg.ss7 = endpoint(*o, "ss7");
  cfg.ss7.local_addresses = {o->listen.ip};
  cfg.ss7.local_port = o->listen.port;
  for (std::size_t i = 0; i < o->controllers.size(); ++i) {
    auto c = endpoint(*o, "controller-" + std::to_string(i + 1));
    c.remote_addresses = {o->controllers[i].ip};
    c.remote_port = o->controllers[i].port;
    cfg.controllers.push_back(std::move(c));
  }
  cfg.controller_rc = o->controller_rc;
  if (o->downstream_listen) {
    auto d = endpoint(*o, "downstream");
    d.local_addresses = {o->downstream_listen->ip};
    d.local_port = o->downstream_listen->port;
    cfg.downstream_listen = std::move(d);
  }

  sg::bench::Forwarder f(io, std::move(cfg));
  const std::size_t wanted = o->controllers.size();
  f.on_downstream_change([wanted](std::size_t n) {
    std::printf("event downstream-active n=%zu\n", n);
    if (wanted != 0 && n == wanted) std::printf("event ready\n");
    std::fflush(stdout);
  });
  if (auto r = f.start(); !r) {
    std::fprintf(stderr, "m3ua-forwarder: %s\n", r.error().c_str());
    return 1;
  }
  std::printf("event listening ss7_port=%u", f.ss7_port());
  if (auto d = f.downstream_port()) std::printf(" downstream_port=%u", *d);
  std::printf(" transport=%s\n", std::string(tr::to_string(tr::resolve_kind(o->transport))).c_str());
  std::fflush(stdout);

  boost::asio::steady_timer stats(io);
  std::function<void()> schedule = [&] {
    if (o->stats_interval.count() <= 0) return;
    stats.expires_after(o->stats_interval);
    stats.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      print_stats(f);
      schedule();
    });
  };
  schedule();

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer exit_timer(io);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    print_stats(f);
    stats.cancel();
    f.close();
    // Let the graceful closes go out, then stop.
    exit_timer.expires_after(std::chrono::milliseconds(100));
    exit_timer.async_wait([&](boost::system::error_code) { io.stop(); });
  });
  io.run();
  return 0;
}
