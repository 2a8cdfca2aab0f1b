// rserpool-registrar: an ENRP server (RFC 5352 server side, RFC 5353) with
// an Osmocom-style config file and telnet CLI.
//
//   rserpool-registrar [-c FILE] [-t] [--transport auto|sctp|tcp] [--ports-file PATH]
//
// The data path (RegistrarServer) runs on the main thread's io_context; the
// VTY runs on its own thread and reaches the data path through the
// io_context's inbox.
#include <boost/asio/detail/concurrency_hint.hpp>  // BOOST_ASIO_CONCURRENCY_HINT_UNSAFE (public, defined here)
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "daemon_config.hpp"
#include "daemon_ops.hpp"
#include "registrar/server.hpp"
#include "rserpool/base/log.hpp"
#include "rserpool/ops/prometheus_endpoint.hpp"
#include "rserpool/ops/vty.hpp"

namespace {

using namespace rserpool;
using namespace rserpool::registrar;

constexpr std::uint16_t kVtyPort = 4261;
constexpr const char* kEmbeddedConfig = "registrar\n";

struct Options {
  std::string config_file;
  bool check_only = false;
  std::optional<transport::TransportKind> transport;
  std::string ports_file;
};

void usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [-c FILE] [-t] [--transport auto|sctp|tcp] [--ports-file PATH]\n"
               "  -c FILE       configuration (default: built-in, all addresses, ports 3863/9901)\n"
               "  -t            check the configuration and exit\n"
               "  --transport   override the configured transport\n"
               "  --ports-file  once every listener is bound, write `NAME PORT` lines (asap, enrp,\n"
               "                vty, metrics) to PATH, atomically: with port 0 in the configuration\n"
               "                this is how a supervisor or a test learns the ports\n"
               "The CLI listens on telnet 127.0.0.1:%u (change with `line vty` / `bind ADDR [PORT]`).\n",
               argv0, kVtyPort);
}

std::optional<Options> parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-c" && i + 1 < argc) {
      o.config_file = argv[++i];
    } else if (a == "-t") {
      o.check_only = true;
    } else if (a == "--ports-file" && i + 1 < argc) {
      o.ports_file = argv[++i];
    } else if (a == "--transport" && i + 1 < argc) {
      o.transport = transport::parse_transport_kind(argv[++i]);
      if (!o.transport) return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  return o;
}

// Written to a temporary file in the same directory, then renamed: a reader
// sees either no file or the whole list.
bool write_ports_file(const std::string& path, const std::vector<std::pair<std::string, std::uint16_t>>& ports) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::trunc);
    for (const auto& [name, port] : ports) f << name << " " << port << "\n";
    f.flush();
    if (!f) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// The caps must agree with the open-file limit (systemd's LimitNOFILE):
// every association is a descriptor, and running out of descriptors locks
// out every new PE (issue 14 item 3: `accept: Too many open files`). What
// the process itself holds is kept aside, then the ENRP associations
// (inbound bound + ours to configured peers); ASAP gets the rest at most.
std::optional<std::string> fit_caps_to_open_file_limit(ServerConfig& sc) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return std::nullopt;
  const auto limit = static_cast<std::size_t>(rl.rlim_cur);
  constexpr std::size_t kProcess = 64;  // listeners, telnet, metrics, logs, epoll, eventfds, announces
  const std::size_t enrp = sc.max_enrp_links + 2 * sc.enrp_peers.size() + 2;
  if (limit < kProcess + enrp + 16) {
    return "the open-file limit (" + std::to_string(limit) + ") leaves no room for associations: raise it (" +
           std::to_string(kProcess + enrp + 16) + " at least) or lower max-enrp-associations";
  }
  const std::size_t budget = limit - kProcess - enrp;
  auto& caps = sc.core.caps;
  if (caps.max_associations == 0 || caps.max_associations > budget) {
    log::get("registrar")
        ->warn("max-associations {} lowered to {} to stay below the open-file limit {} (LimitNOFILE)",
               caps.max_associations == 0 ? std::string("unlimited") : std::to_string(caps.max_associations), budget,
               limit);
    caps.max_associations = budget;
    caps.reserved_for_pes = std::min(caps.reserved_for_pes, budget / 4);
  }
  log::get("registrar")
      ->info("associations: ASAP at most {} ({} per address, {} kept for PEs), ENRP inbound at most {}; open-file "
             "limit {}",
             caps.max_associations, caps.max_per_address, caps.reserved_for_pes, sc.max_enrp_links, limit);
  return std::nullopt;
}

ServerIdentifier random_server_id() {
  std::random_device rd;
  std::uniform_int_distribution<std::uint32_t> d(1, 0xffffffffU);
  return d(rd);
}

}  // namespace

int main(int argc, char** argv) {
  auto opts = parse_args(argc, argv);
  if (!opts) {
    usage(argv[0]);
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  // One thread runs the data path, and no other thread touches it: the VTY
  // thread (show commands: on_io() in show_commands.cpp) hands its work to
  // the io_context's inbox (rserpool/transport/io_inbox.hpp), never to the
  // io_context itself. So neither the scheduler nor the reactor locks
  // (issue 16: a lock and an unlock around every handler run, every post,
  // and every start and completion of a wait). Anything that posts to this
  // io_context or starts I/O on it from another thread must not be added.
  boost::asio::io_context io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE);
  daemon::DaemonConfig dc;
  daemon::Running running{io, nullptr, {}};
  ops::VtyOptions vo;
  vo.app_name = "rserpool-registrar";
  vo.version = "0.1";
  vo.telnet_port = opts->check_only ? 0 : kVtyPort;
  ops::Vty vty(vo);
  daemon::declare_config_commands(vty, dc);
  daemon::declare_show_commands(vty, running);
  vty.set_config_writer([&dc] { return daemon::render(dc); });
  const std::string source = opts->config_file.empty() ? "<built-in>" : opts->config_file;
  if (auto r = vty.start(opts->config_file, opts->config_file.empty() ? kEmbeddedConfig : "", source); !r) {
    std::fprintf(stderr, "%s\n", r.error().to_string().c_str());
    return 1;
  }
  // The VTY thread filled dc while reading; start() returned after that.
  if (opts->transport) dc.transport = *opts->transport;
  if (auto problem = daemon::validate(dc); !problem.empty()) {
    std::fprintf(stderr, "%s: %s\n", source.c_str(), problem.c_str());
    vty.stop();
    return 1;
  }
  if (opts->check_only) {
    std::printf("%s: configuration OK\n", source.c_str());
    vty.stop();
    return 0;
  }
  for (const auto& [category, level] : dc.log_levels) log::set_level(category, level);

  const ServerIdentifier id = dc.server_id ? *dc.server_id : random_server_id();
  auto sc = daemon::to_server_config(dc, id);
  if (auto problem = fit_caps_to_open_file_limit(sc)) {
    std::fprintf(stderr, "rserpool-registrar: %s\n", problem->c_str());
    vty.stop();
    return 1;
  }
  auto server = RegistrarServer::start(io, std::move(sc));
  if (!server) {
    std::fprintf(stderr, "rserpool-registrar: %s\n", server.error().c_str());
    vty.stop();
    return 1;
  }
  daemon::describe_metrics(running);
  running.server = server->get();
  std::shared_ptr<ops::PrometheusEndpoint> prometheus;
  if (dc.metrics_port) {
    auto p = ops::PrometheusEndpoint::open(io, TransportAddress{IpAddress::v4_loopback(), *dc.metrics_port},
                                           running.metrics);
    if (!p) {
      std::fprintf(stderr, "rserpool-registrar: cannot listen for metrics on 127.0.0.1 port %u: %s\n",
                   *dc.metrics_port, p.error().message().c_str());
      (*server)->stop();
      vty.stop();
      return 1;
    }
    prometheus = *p;
  }
  if (!opts->ports_file.empty()) {
    std::vector<std::pair<std::string, std::uint16_t>> ports = {
        {"asap", (*server)->asap_port()}, {"enrp", (*server)->enrp_port()}, {"vty", vty.telnet_port()}};
    if (prometheus) ports.emplace_back("metrics", prometheus->port());
    if (!write_ports_file(opts->ports_file, ports)) {
      std::fprintf(stderr, "rserpool-registrar: cannot write the ports file %s: %s\n", opts->ports_file.c_str(),
                   std::strerror(errno));
      (*server)->stop();
      vty.stop();
      return 1;
    }
  }

  // SIGTERM/SIGINT: close associations gracefully (queued messages still
  // go out), give that a moment, then leave the loop.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer grace(io);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::get("registrar")->info("signal {}: shutting down", sig);
    (*server)->stop();
    if (prometheus) prometheus->close();
    grace.expires_after(std::chrono::milliseconds(300));
    grace.async_wait([&io](const boost::system::error_code&) { io.stop(); });
  });
  log::get("registrar")->info("rserpool-registrar running, server id {:08x}", id);
  io.run();
  vty.stop();
  running.server = nullptr;
  return 0;
}
