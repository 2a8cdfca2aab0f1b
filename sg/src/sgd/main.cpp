// sgd: the signalling gateway daemon. M3UA from the SS7 side, load-shared
// over a pool of gateway controllers found through RSerPool (ASAP/ENRP).
//
//   sgd [-c FILE] [-t] [-p VTY_PORT] [--ports-file PATH] [--pool-memory PATH] [--standby-lock PATH]
//
// Without -c the embedded default configuration (conf/sgd-default.cfg) is
// used. -t checks the configuration and exits (0: valid). Configuration
// errors name file, line and reason, and sgd refuses to start. The telnet
// CLI listens on 127.0.0.1:4260 (libosmocore `line vty` / `bind` changes it).
// Every listener accepts port 0 (the kernel chooses); --ports-file writes
// what was bound, "NAME PORT" per line (m3ua, asap, enrp, vty, metrics), once
// all listeners are open. --pool-memory keeps each pool's PE list across
// restarts, so that a restarted sgd alone settles as soon as its controllers
// are back (docs/gateway.md, "A gateway that starts"). --standby-lock: a
// warm standby, loaded and configured, that opens its listeners the moment
// the sgd holding the lock dies (the kernel releases a dead process's
// flock): a restart without the process's own start. SIGTERM / SIGINT:
// graceful shutdown, exit 0.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/asio/detail/concurrency_hint.hpp>  // BOOST_ASIO_CONCURRENCY_HINT_UNSAFE (public, defined here)
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include "rserpool/base/log.hpp"
#include "rserpool/ops/ports_file.hpp"
#include "rserpool/ops/vty.hpp"
#include "sg/config/sg_config.hpp"
#include "sg/config/sg_config_commands.hpp"
#include "sg/gateway/cli.hpp"
#include "sg/gateway/gateway.hpp"
#include "sg/sgd_default_config.hpp"

namespace {

constexpr const char* kVersion = "0.1";

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: sgd [-c FILE] [-t] [-p PORT] [--ports-file PATH] [--pool-memory PATH]\n"
               "           [--standby-lock PATH]\n"
               "  -c, --config FILE     configuration file (default: the embedded default)\n"
               "  -t, --test            check the configuration and exit\n"
               "  -p, --vty-port PORT   telnet CLI port on 127.0.0.1 (default %u; 0: any free port;\n"
               "                        a `line vty` / `bind ADDRESS PORT` in the configuration wins)\n"
               "      --ports-file PATH once every listener is open, write the ports bound there,\n"
               "                        one \"NAME PORT\" line each (m3ua, asap, enrp, vty, metrics)\n"
               "      --pool-memory PATH  remember each pool's PE list there across restarts: a\n"
               "                        restart settles as soon as the same list is back\n"
               "      --standby-lock PATH hold an exclusive lock on PATH while running; when another\n"
               "                        sgd holds it, wait (loaded and configured) until it ends,\n"
               "                        then start: a warm standby on the same configured ports\n"
               "  -h, --help            this text\n"
               "  -V, --version         version\n"
               "The configuration commands are in docs/configuration.md; the CLI's `list`\n"
               "and `?` show them on a running daemon.\n",
               static_cast<unsigned>(sg::kSgdVtyPort));
}

struct Args {
  std::string config_file;
  std::string ports_file;
  std::string pool_memory;
  std::string standby_lock;
  bool test = false;
  std::uint16_t vty_port = sg::kSgdVtyPort;
};

// 0: run; otherwise the exit status (-1 means 0 after --help/--version).
int parse(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* what) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sgd: %s needs a value\n", what);
        return nullptr;
      }
      return argv[++i];
    };
    if (arg == "-c" || arg == "--config") {
      const char* v = value("-c");
      if (!v) return 2;
      a.config_file = v;
    } else if (arg == "--ports-file") {
      const char* v = value("--ports-file");
      if (!v) return 2;
      a.ports_file = v;
    } else if (arg == "--pool-memory") {
      const char* v = value("--pool-memory");
      if (!v) return 2;
      a.pool_memory = v;
    } else if (arg == "--standby-lock") {
      const char* v = value("--standby-lock");
      if (!v) return 2;
      a.standby_lock = v;
    } else if (arg == "-t" || arg == "--test") {
      a.test = true;
    } else if (arg == "-p" || arg == "--vty-port") {
      const char* v = value("-p");
      if (!v) return 2;
      char* end = nullptr;
      const long port = std::strtol(v, &end, 10);
      if (*end != '\0' || port < 0 || port > 65535) {
        std::fprintf(stderr, "sgd: invalid port '%s'\n", v);
        return 2;
      }
      a.vty_port = static_cast<std::uint16_t>(port);
    } else if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return -1;
    } else if (arg == "-V" || arg == "--version") {
      std::printf("sgd %s\n", kVersion);
      return -1;
    } else {
      std::fprintf(stderr, "sgd: unknown argument '%s'\n", arg.c_str());
      usage(stderr);
      return 2;
    }
  }
  return 0;
}

// Wall-clock milliseconds: the start-up phases are compared with the
// restart time the test scripts take with `date` (the same clock).
std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Takes the exclusive lock on `path`, waiting while another sgd holds it.
bool take_lock(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::fprintf(stderr, "sgd: cannot open the standby lock %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
  if (errno != EWOULDBLOCK) {
    std::fprintf(stderr, "sgd: cannot lock %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  rserpool::log::get("sgd")->info("standby: another sgd holds {}: waiting, configured, to take over", path);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      std::fprintf(stderr, "sgd: cannot lock %s: %s\n", path.c_str(), std::strerror(errno));
      return false;
    }
  }
  rserpool::log::get("sgd")->info("standby: {} released: taking over at unix_ms={}", path, unix_ms());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // Where a restart's time goes (docs/performance.md, "Hitless"): from
  // here (the dynamic loader and static initialisers are before it), the
  // configuration read through the VTY, the gateway started (every
  // listener open), the ports file written.
  const std::int64_t main_entered = unix_ms();
  Args args;
  if (int rc = parse(argc, argv, args); rc != 0) return rc < 0 ? 0 : rc;
  std::signal(SIGPIPE, SIG_IGN);

  const std::string source = args.config_file.empty() ? std::string("sgd-default.cfg") : args.config_file;
  // One thread runs the data path, and no other thread touches it: the VTY
  // thread (show commands, configuration changes: GatewayCli) hands its
  // work to the io_context's inbox (rserpool/transport/io_inbox.hpp, made
  // by GatewayCli's constructor, before the io_context runs), never to the
  // io_context itself. So neither the scheduler nor the reactor locks
  // (issue 16: a lock and an unlock around every handler run, every post,
  // and every start and completion of a wait). Anything that posts to this
  // io_context or starts I/O on it from another thread must not be added.
  boost::asio::io_context io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE);
  sg::SgConfig config;
  rserpool::ops::VtyOptions vo;
  vo.app_name = "sgd";
  vo.version = kVersion;
  vo.telnet_port = args.test ? 0 : args.vty_port;
  vo.telnet_any_port = !args.test && args.vty_port == 0;
  rserpool::ops::Vty vty(vo);
  sg::GatewayCli cli(vty, io);
  sg::declare_config_commands(vty, config, cli.config_change_handler(config));

  auto started = vty.start(args.config_file, args.config_file.empty() ? std::string(sg::kSgdDefaultConfig) : std::string(),
                           source);
  if (!started) {
    std::fprintf(stderr, "%s\n", started.error().to_string().c_str());
    return 1;
  }
  sg::SgConfig running;
  vty.run_on([&] { running = config; });
  const std::int64_t configured = unix_ms();
  if (auto problems = sg::validate(running); !problems.empty()) {
    for (const auto& p : problems) std::fprintf(stderr, "%s: %s\n", source.c_str(), p.c_str());
    vty.stop();
    return 1;
  }
  if (args.test) {
    std::printf("%s: configuration OK\n", source.c_str());
    vty.stop();
    return 0;
  }

  // A warm standby waits here, everything but the gateway loaded, until the
  // running sgd ends (its lock goes with its process, however it dies).
  // The lock's descriptor stays open for this process's life.
  if (!args.standby_lock.empty()) {
    if (!take_lock(args.standby_lock)) {
      vty.stop();
      return 1;
    }
  }
  sg::GatewayOptions options;
  options.pool_memory = args.pool_memory;
  auto gateway = sg::Gateway::start(io, std::move(running), options);
  if (!gateway) {
    std::fprintf(stderr, "sgd: cannot start: %s\n", gateway.error().c_str());
    vty.stop();
    return 1;
  }
  cli.attach(gateway->get());
  const std::int64_t listening = unix_ms();

  if (!args.ports_file.empty()) {
    rserpool::ops::BoundPorts bound;
    const auto& g = **gateway;
    if (auto p = g.ss7_port()) bound.emplace_back("m3ua", *p);
    if (auto p = g.registrar_asap_port()) bound.emplace_back("asap", *p);
    if (auto p = g.registrar_enrp_port()) bound.emplace_back("enrp", *p);
    if (auto p = rserpool::ops::vty_bound_port()) bound.emplace_back("vty", *p);
    if (auto p = g.metrics_port()) bound.emplace_back("metrics", *p);
    if (auto written = rserpool::ops::write_ports_file(args.ports_file, bound); !written) {
      std::fprintf(stderr, "sgd: cannot write the ports file %s\n", written.error().c_str());
      cli.attach(nullptr);
      vty.stop();
      return 1;
    }
  }

  rserpool::log::get("sgd")->info("start-up: main at unix_ms={}, configuration read +{} ms, listeners open +{} ms, "
                                  "ports written +{} ms; listening at unix_ms={}",
                                  main_entered, configured - main_entered, listening - main_entered,
                                  unix_ms() - main_entered, listening);

  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  bool stopping = false;
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    rserpool::log::get("sgd")->info("signal {}: graceful shutdown", sig);
    stopping = true;
    (*gateway)->shutdown([&] {
      cli.attach(nullptr);
      io.stop();
    });
  });
  rserpool::log::get("sgd")->info("sgd {} running; CLI on telnet port {}", kVersion, vty.telnet_port());
  io.run();
  cli.attach(nullptr);
  vty.stop();
  gateway->reset();
  return stopping ? 0 : 1;
}
