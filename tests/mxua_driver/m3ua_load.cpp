// M3UA load through a relay: ASP A sends DATA for ASP B's point code, the
// relay forwards it, B measures the one-way latency (send timestamp carried
// in the user data) and answers each arrival by letting A send one more
// (closed loop with a fixed window of messages in flight).
//
//   m3ua_load [--relay ours|osmo|both] [--transport tcp|sctp] [--seconds N] [--window W] [--size BYTES]
//
//   ours  our SgpServer relays: DATA from A arrives as a DataIndication and
//         is routed (routing key DPC = B's point code) to B.
//   osmo  osmo-stp relays between A and B, both registered with RKM
//         (kernel SCTP only, i.e. inside UML; osmo-stp must be installed).
//   both  ours then osmo in the same run, and the ratio.
//
//   m3ua_load --echo-asp ADDR:PORT --echo-rc RC [--echo-pc PC] [--local ADDR] [--local-port P]
//             [--transport tcp|sctp] [--bundle on|off]
//
//   An ASP behind an STP that returns every DATA to its sender (OPC and
//   DPC swapped, the user data unchanged): the far end of a closed loop
//   driven by ss7-gen --max-rate (tests/bench/sgd-vs-osmo-stp-uml.sh).
//   With --echo-pc it registers routing key (RC, DPC = PC, loadshare) with
//   RKM first; without, it only activates RC in loadshare mode (an ASP the
//   STP has configured statically: osmo-stp 1.6 matches it by its address
//   and port, hence --local/--local-port, and only then counts it for the
//   AS). Prints "echo-asp active rc=N" once ACTIVE and
//   "echo-asp echoed=N" on SIGTERM.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <boost/asio/signal_set.hpp>

#include "harness.hpp"
#include "process.hpp"
#include "rserpool/base/log.hpp"
#include "rserpool/transport/endpoint.hpp"

using namespace m3uatest;
using namespace mxua;
using namespace mxua::driver;

namespace {

constexpr std::uint32_t kPcA = 100;
constexpr std::uint32_t kPcB = 200;
constexpr std::uint32_t kRcA = 1;
constexpr std::uint32_t kRcB = 2;

struct Options {
  std::string relay = "ours";
  tr::TransportKind kind = tr::TransportKind::tcp;
  int seconds = 5;
  unsigned window = 32;
  std::size_t size = 60;
};

struct Result {
  double rate = 0;
  double p50_us = 0;
  double p99_us = 0;
  std::uint64_t messages = 0;
  bool ok = false;
};

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

tr::EndpointConfig endpoint(const Options& o) {
  tr::EndpointConfig c;
  c.kind = o.kind;
  c.sctp.nodelay = true;  // SCTP_NODELAY: latency over bundling
  return c;
}

// The load itself, once A and B are active and `send` puts one DATA into A.
struct Load {
  Load(boost::asio::io_context& i, const Options& opt) : io(i), o(opt) {}
  boost::asio::io_context& io;
  const Options& o;
  std::function<void(Data&)> send;
  std::uint32_t seq = 0;
  std::uint64_t received = 0;
  std::vector<std::uint64_t> latencies_ns;
  bool measuring = false;
  bool sending = true;

  Data next() {
    auto d = make_data(kPcA, kPcB, 5, static_cast<std::uint8_t>(seq % 16), seq, std::nullopt, o.size);
    ++seq;
    const auto t = now_ns();
    for (int i = 0; i < 8; ++i) d.protocol_data.user_data[8 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(t >> (8 * i));
    return d;
  }
  void arrived(const Data& d) {
    std::uint64_t t = 0;
    for (int i = 0; i < 8; ++i) t |= std::uint64_t{d.protocol_data.user_data[8 + static_cast<std::size_t>(i)]} << (8 * i);
    if (measuring) {
      ++received;
      latencies_ns.push_back(now_ns() - t);
    }
    if (sending) {
      auto n = next();
      send(n);
    }
  }
  Result run() {
    for (unsigned i = 0; i < o.window; ++i) {
      auto n = next();
      send(n);
    }
    io.run_for(std::chrono::milliseconds(500));  // warm-up
    io.restart();
    measuring = true;
    const auto t0 = Clock::now();
    io.run_for(std::chrono::seconds(o.seconds));
    io.restart();
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    measuring = false;
    sending = false;
    io.run_for(std::chrono::milliseconds(200));
    io.restart();
    Result r;
    r.messages = received;
    r.rate = static_cast<double>(received) / secs;
    if (!latencies_ns.empty()) {
      std::sort(latencies_ns.begin(), latencies_ns.end());
      r.p50_us = static_cast<double>(latencies_ns[latencies_ns.size() / 2]) / 1000.0;
      r.p99_us = static_cast<double>(latencies_ns[latencies_ns.size() * 99 / 100]) / 1000.0;
    }
    r.ok = received > 0;
    return r;
  }
};

struct Sink : Recorder {
  std::function<void(const Data&)> hook;
  void on_data(DataIndication&& d) override {
    if (hook) hook(d.data);
  }
};

bool wait_active(boost::asio::io_context& io, const std::function<bool()>& done) { return run_until(io, done, 10s); }

Result run_ours(const Options& o) {
  boost::asio::io_context io;
  Sink sgp_ev;
  SgpServerConfig sc;
  sc.transport = endpoint(o);
  sc.transport.local_addresses = {ip("127.0.0.1")};
  sc.accept_any = true;
  for (auto [rc, pcv] : {std::pair{kRcA, kPcA}, std::pair{kRcB, kPcB}}) {
    AsConfig as;
    as.name = "as-" + std::to_string(rc);
    as.routing_context = rc;
    as.mode = TrafficMode::Override;
    as.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{pcv}}, {}, {}}};
    sc.sgp.application_servers.push_back(as);
  }
  sc.sgp.pending_queue_limit = 1 << 16;
  auto sgp = SgpServer::open(io, sc, sgp_ev);
  if (!sgp) {
    std::fprintf(stderr, "SGP: %s\n", sgp.error().message().c_str());
    return {};
  }
  // The relay: DATA from A loses A's RC and is routed by its DPC.
  sgp_ev.hook = [&](const Data& d) {
    DataView v = to_view(d);
    v.routing_context.reset();
    (*sgp)->route(v);
  };
  auto asp = [&](std::uint32_t rc, Events& ev) {
    AspConnectionConfig c;
    c.transport = endpoint(o);
    c.transport.remote_addresses = {ip("127.0.0.1")};
    c.transport.remote_port = (*sgp)->port();
    c.asp.activations = {AspActivation{{rc}, TrafficMode::Override}};
    c.reconnect = false;
    auto conn = AspConnection::create(io, c, ev);
    conn->start();
    return conn;
  };
  Sink ev_a, ev_b;
  auto a = asp(kRcA, ev_a);
  auto b = asp(kRcB, ev_b);
  if (!wait_active(io, [&] { return a->active_for(kRcA) && b->active_for(kRcB); })) {
    std::fprintf(stderr, "ours: ASPs did not become active\n");
    return {};
  }
  Load load(io, o);
  load.send = [&](Data& d) {
    d.routing_context = kRcA;
    a->send_data(to_view(d));
  };
  ev_b.hook = [&](const Data& d) { load.arrived(d); };
  auto r = load.run();
  a->stop();
  b->stop();
  return r;
}

Result run_osmo(const Options& o) {
  if (o.kind != tr::TransportKind::sctp) {
    std::fprintf(stderr, "osmo-stp needs kernel SCTP (--transport sctp, inside UML)\n");
    return {};
  }
  char templ[] = "/tmp/sg-m3ua-load.XXXXXX";
  if (!::mkdtemp(templ)) return {};
  const std::filesystem::path dir = templ;
  const auto cfg = (dir / "osmo-stp.cfg").string();
  const auto log = (dir / "osmo-stp.log").string();
  std::ofstream(cfg) << "log stderr\n logging level set-all notice\n"
                        "cs7 instance 0\n point-code 0.0.1\n"
                        " xua rkm routing-key-allocation dynamic-permitted\n"
                        " listen m3ua 2905\n  local-ip 198.18.0.1\n  accept-asp-connections dynamic-permitted\n";
  Result r;
  {
    auto stp = sgtest::ChildProcess::spawn({"osmo-stp", "-c", cfg}, log);
    if (!stp || !sgtest::wait_for_listener(sgtest::Protocol::sctp, 2905, std::chrono::seconds(5))) {
      std::fprintf(stderr, "osmo-stp did not start:\n%s\n", sgtest::read_file(log).c_str());
      return {};
    }
    boost::asio::io_context io;
    auto asp = [&](std::uint32_t pcv, Events& ev) {
      AspConnectionConfig c;
      c.transport = endpoint(o);
      c.transport.remote_addresses = {ip("198.18.0.1")};
      c.transport.remote_port = 2905;
      RoutingKey k;
      k.local_rk_id = 1;
      k.traffic_mode = TrafficMode::Override;
      k.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{pcv}}, {}, {}}};
      c.registrations = {k};
      c.reconnect = false;
      auto conn = AspConnection::create(io, c, ev);
      conn->start();
      return conn;
    };
    Sink ev_a, ev_b;
    auto a = asp(kPcA, ev_a);
    auto b = asp(kPcB, ev_b);
    auto active = [](const std::shared_ptr<AspConnection>& c) {
      return !c->registered_contexts().empty() && c->active_for(c->registered_contexts().front());
    };
    if (!wait_active(io, [&] { return active(a) && active(b); })) {
      std::fprintf(stderr, "osmo: ASPs did not become active\n%s\n", sgtest::read_file(log).c_str());
      return {};
    }
    const auto rc_a = a->registered_contexts().front();
    Load load(io, o);
    load.send = [&](Data& d) {
      d.routing_context = rc_a;
      a->send_data(to_view(d));
    };
    ev_b.hook = [&](const Data& d) { load.arrived(d); };
    r = load.run();
    a->stop();
    b->stop();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return r;
}

void print(const char* name, const Options& o, const Result& r) {
  std::printf("%-5s transport=%s window=%u size=%zu: %llu DATA in %d s = %.0f msg/s, latency p50 %.0f us, p99 %.0f us\n",
              name, std::string(tr::to_string(o.kind)).c_str(), o.window, o.size,
              static_cast<unsigned long long>(r.messages), o.seconds, r.rate, r.p50_us, r.p99_us);
}


// --- echoing ASP (see the header comment) ---

struct EchoOptions {
  rserpool::TransportAddress stp;
  std::optional<rserpool::IpAddress> local;
  std::uint32_t local_port = 0;
  std::uint32_t rc = 0;
  std::uint32_t pc = 0;
  tr::TransportKind kind = tr::TransportKind::sctp;
  bool bundle = false;  // --bundle on: what is written together leaves bundled
};

int run_echo_asp(const EchoOptions& o) {
  boost::asio::io_context io;
  AspConnectionConfig c;
  c.transport.kind = o.kind;
  c.transport.sctp.nodelay = true;
  c.transport.sctp.bundle = o.bundle;
  c.transport.remote_addresses = {o.stp.ip};
  c.transport.remote_port = o.stp.port;
  if (o.local) c.transport.local_addresses = {*o.local};
  c.transport.local_port = static_cast<std::uint16_t>(o.local_port);
  if (o.pc != 0) {
    RoutingKey k;
    k.local_rk_id = 1;
    k.routing_context = o.rc;
    k.traffic_mode = TrafficMode::Loadshare;
    k.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{o.pc}}, {}, {}}};
    c.registrations = {k};
  } else {
    c.asp.activations = {AspActivation{{o.rc}, TrafficMode::Loadshare}};
  }
  c.reconnect = false;
  Sink ev;
  auto conn = AspConnection::create(io, c, ev);
  std::uint64_t echoed = 0;
  std::uint64_t refused = 0;
  std::optional<std::uint32_t> rc;
  ev.hook = [&](const Data& d) {
    if (!rc) return;  // DATA before ACTIVE cannot be answered on our RC
    DataView v = to_view(d);
    std::swap(v.protocol_data.opc, v.protocol_data.dpc);
    v.routing_context = rc;
    if (conn->send_data(v)) ++echoed;
    else ++refused;
  };
  conn->start();
  bool stopping = false;
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int) { stopping = true; });
  const auto our_rc = [&]() -> std::optional<std::uint32_t> {
    if (o.pc == 0) return o.rc;
    if (conn->registered_contexts().empty()) return std::nullopt;
    return conn->registered_contexts().front();
  };
  if (!run_until(io, [&] { return stopping || (our_rc() && conn->active_for(our_rc())); }, 15s) || stopping) {
    std::fprintf(stderr, "echo-asp: not ACTIVE at %s (registration refused or STP absent)\n", o.stp.to_string().c_str());
    return 1;
  }
  rc = our_rc();
  std::printf("echo-asp active rc=%u\n", *rc);
  std::fflush(stdout);
  while (!stopping) {
    io.run_for(200ms);
    io.restart();
  }
  conn->stop();
  io.run_for(100ms);
  std::printf("echo-asp echoed=%llu refused=%llu\n", static_cast<unsigned long long>(echoed),
              static_cast<unsigned long long>(refused));
  return 0;
}

int echo_main(int argc, char** argv) {
  EchoOptions o;
  bool have_stp = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const std::string v = i + 1 < argc ? argv[i + 1] : "";
    auto number = [&](std::uint32_t& out) {
      char* end = nullptr;
      const auto n = std::strtoul(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0') return false;
      out = static_cast<std::uint32_t>(n);
      return true;
    };
    bool ok = true;
    if (a == "--echo-asp") {
      auto t = rserpool::TransportAddress::parse(v);
      ok = t.has_value();
      if (ok) o.stp = *t;
      have_stp = ok;
    } else if (a == "--echo-rc") {
      ok = number(o.rc);
    } else if (a == "--echo-pc") {
      ok = number(o.pc);
    } else if (a == "--local") {
      o.local = rserpool::IpAddress::parse(v);
      ok = o.local.has_value();
    } else if (a == "--local-port") {
      ok = number(o.local_port) && o.local_port <= 65535;
    } else if (a == "--transport") {
      o.kind = v == "tcp" ? tr::TransportKind::tcp : tr::TransportKind::sctp;
    } else if (a == "--bundle") {
      ok = v == "on" || v == "off";
      o.bundle = v == "on";
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr,
                   "usage: %s --echo-asp ADDR:PORT --echo-rc RC [--echo-pc PC] [--local ADDR] [--local-port P]"
                   " [--transport tcp|sctp] [--bundle on|off]\n",
                   argv[0]);
      return 2;
    }
    ++i;
  }
  if (!have_stp || o.rc == 0) {
    std::fprintf(stderr, "echo-asp needs --echo-asp ADDR:PORT and --echo-rc (non-zero)\n");
    return 2;
  }
  rserpool::log::set_level("all", "warn");
  return run_echo_asp(o);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--echo-asp") return echo_main(argc, argv);
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--relay") o.relay = val();
    else if (a == "--transport") o.kind = val() == "sctp" ? tr::TransportKind::sctp : tr::TransportKind::tcp;
    else if (a == "--seconds") o.seconds = std::max(1, std::atoi(val().c_str()));
    else if (a == "--window") o.window = static_cast<unsigned>(std::max(1, std::atoi(val().c_str())));
    else if (a == "--size") o.size = static_cast<std::size_t>(std::max(16, std::atoi(val().c_str())));
    else {
      std::fprintf(stderr, "usage: %s [--relay ours|osmo|both] [--transport tcp|sctp] [--seconds N] [--window W] [--size B]\n", argv[0]);
      return 2;
    }
  }
  rserpool::log::set_level("all", "warn");
  Result ours, osmo;
  if (o.relay == "ours" || o.relay == "both") {
    ours = run_ours(o);
    if (!ours.ok) return 1;
    print("ours", o, ours);
  }
  if (o.relay == "osmo" || o.relay == "both") {
    osmo = run_osmo(o);
    if (!osmo.ok) return 1;
    print("osmo", o, osmo);
  }
  if (ours.ok && osmo.ok) std::printf("ratio ours/osmo-stp: %.2f x throughput\n", ours.rate / osmo.rate);
  return 0;
}
