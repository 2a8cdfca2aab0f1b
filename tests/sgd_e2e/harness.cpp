#include "harness.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "telnet_client.hpp"

namespace e2e {

Fields parse_fields(const std::string& line) {
  Fields f;
  std::istringstream in(line);
  std::string word;
  bool first = true;
  while (in >> word) {
    if (first) {
      f["kind"] = word;
      first = false;
      continue;
    }
    const auto eq = word.find('=');
    if (eq == std::string::npos) {
      if (!f.count("event")) f["event"] = word;  // "event registered ..."
      continue;
    }
    f[word.substr(0, eq)] = word.substr(eq + 1);
  }
  return f;
}

std::int64_t num(const Fields& f, const std::string& key, std::int64_t fallback) {
  auto it = f.find(key);
  if (it == f.end()) return fallback;
  return std::strtoll(it->second.c_str(), nullptr, 0);
}

std::vector<Fields> lines(const std::string& log_path, const std::string& kind) {
  std::vector<Fields> out;
  std::istringstream in(sgtest::read_file(log_path));
  std::string line;
  const std::string prefix = kind + " ";
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) out.push_back(parse_fields(line));
  return out;
}

std::optional<Fields> last_line(const std::string& log_path, const std::string& kind) {
  auto all = lines(log_path, kind);
  if (all.empty()) return std::nullopt;
  return all.back();
}

std::vector<Fields> events(const std::string& log_path, const std::string& event) {
  std::vector<Fields> out;
  for (auto& f : lines(log_path, "event"))
    if (f["event"] == event) out.push_back(f);
  return out;
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string transport() {
  const char* t = std::getenv("SG_TEST_TRANSPORT");
  return t && *t ? t : "tcp";
}

std::string local_ip() { return transport() == "sctp" ? "198.18.0.1" : "127.0.0.1"; }

std::string Bin::sgd() { return SG_SGD_BIN; }
std::string Bin::gwc_sim() { return SG_GWC_SIM_BIN; }
std::string Bin::ss7_gen() { return SG_SS7_GEN_BIN; }
std::string Bin::registrar() { return SG_REGISTRAR_BIN; }

std::string WorkDir::keep() const {
  std::string root;
  if (const char* r = std::getenv("SG_E2E_KEEP_DIR"); r && *r) root = r;
#ifdef SG_E2E_KEEP_DIR_DEFAULT
  if (root.empty()) root = SG_E2E_KEEP_DIR_DEFAULT;
#endif
  if (root.empty()) return {};
  // Stamped: repeated runs (--repeat until-fail) keep every failure.
  const auto dest = std::filesystem::path(root) / (std::filesystem::path(dir_).filename().string() + "-" +
                                                   std::to_string(unix_ms_now()));
  std::error_code ec;
  std::filesystem::create_directories(dest, ec);
  if (!ec)
    std::filesystem::copy(dir_, dest,
                          std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing,
                          ec);
  return ec ? std::string{} : dest.string();
}

WorkDir::WorkDir(const std::string& test_name) {
  const char* base = std::getenv("SG_E2E_DIR");
  std::filesystem::path root = base && *base ? base : std::filesystem::temp_directory_path() / "sgd-e2e";
  std::filesystem::path d = root / (test_name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  dir_ = d.string();
}

std::string sgd_config(const SgdSpec& s) {
  const std::string ip = local_ip();
  std::ostringstream c;
  c << "line vty\n bind 127.0.0.1 0\n"
    << "sg\n point-code-format itu\n point-code 0.23.1\n network-indicator national\n transport " << transport()
    << "\n timer-profile " << s.timer_profile << "\n" << s.sg_extra
    << "ss7-side\n local-ip " << ip << "\n local-port " << s.ss7_port << "\n accept-peers configured\n"
    << " peer ss7-gen\n  remote-ip " << (s.ss7_peer_ip.empty() ? ip : s.ss7_peer_ip)
    << "\n  routing-context 100\n"
    << "registrar\n";
  if (s.colocated) {
    c << " colocated\n  asap-ip " << ip << "\n  asap-port " << s.asap_port << "\n  enrp-ip " << ip
      << "\n  enrp-port " << s.enrp_port << "\n";
    for (const auto& p : s.enrp_peers) c << "  enrp-peer " << p << "\n";
    for (const auto& a : s.enrp_allow) c << "  enrp-allow " << a << "\n";
    if (s.server_id != 0) c << "  server-id " << s.server_id << "\n";
  }
  for (const auto& r : s.remote_registrars) c << " remote " << r << "\n";
  c << "pool gwc\n pool-wait 2000\n drain-deadline 30000\n max-queue 10000\n congestion onset 8000 abatement 2000\n"
    << s.pool_extra << "route isup-to-gwc\n dpc 0.23.1\n si isup\n pool gwc\n"
    << "route sccp-to-gwc\n dpc 0.23.1\n si sccp\n pool gwc\n";
  return c.str();
}

bool Process::wait_line(const std::string& kind, const std::string& first_word,
                        std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (auto& f : lines(log_, kind))
      if (first_word.empty() || f["event"] == first_word) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

void Process::kill_now() {
  if (child_) {
    child_->signal(SIGKILL);
    (void)child_->wait(2s);
  }
}

std::vector<std::string> sgd_argv(const SgdSpec& s, const std::string& cfg, const std::string& ports_file) {
  std::vector<std::string> argv{Bin::sgd(), "-c", cfg, "-p", "0", "--ports-file", ports_file};
  if (!s.pool_memory.empty()) argv.insert(argv.end(), {"--pool-memory", s.pool_memory});
  if (!s.standby_lock.empty()) argv.insert(argv.end(), {"--standby-lock", s.standby_lock});
  return argv;
}

Process start_sgd(const WorkDir& w, const SgdSpec& s, const std::string& name) {
  const auto cfg = w.path(name + ".cfg");
  std::ofstream(cfg) << sgd_config(s);
  const auto log = w.path(name + ".log");
  const auto ports_file = w.path(name + ".ports");
  auto p = sgtest::ChildProcess::spawn(sgd_argv(s, cfg, ports_file), log);
  if (!p) return Process::failed("cannot start " + Bin::sgd());
  std::string why;
  auto ports = sgtest::wait_for_ports_file(ports_file, *p, 10s, &why);
  if (!ports) return Process::failed(name + ": " + why + "\n" + sgtest::read_file(log));
  for (const char* needed : {"m3ua", "vty"})
    if (!ports->count(needed)) return Process::failed(name + " reported no " + needed + " port");
  if (s.colocated && !ports->count("asap")) return Process::failed(name + " reported no asap port");
  return Process(std::move(*p), log, std::move(*ports));
}

Process start_gwc(const WorkDir& w, const GwcSpec& g) {
  std::vector<std::string> argv{Bin::gwc_sim(), "--name", g.name, "--pool", "gwc", "--transport", transport(),
                                "--listen", local_ip() + ":0", "--stats-interval", "250"};
  for (const auto& r : g.registrars) {
    argv.push_back("--registrar");
    argv.push_back(r);
  }
  if (g.cookies) argv.push_back("--cookies");
  if (g.aggressive) argv.push_back("--aggressive");
  if (!g.self_fence) argv.push_back("--no-self-fence");
  const auto trace = w.path(g.name + ".trace");
  argv.insert(argv.end(), {"--trace", trace});
  argv.insert(argv.end(), g.extra.begin(), g.extra.end());
  const auto log = w.path(g.name + ".log");
  auto p = sgtest::ChildProcess::spawn(argv, log);
  if (!p) return Process::failed("cannot start " + Bin::gwc_sim());
  Process proc(std::move(*p), log);
  proc.set_trace(trace);
  if (!proc.wait_line("event", "registered", 10s))
    return Process::failed(g.name + " did not register within 10 s\n" + proc.output());
  return proc;
}

Process start_ss7gen(const WorkDir& w, std::uint16_t sgp_port, const std::vector<std::string>& extra,
                     const std::string& name) {
  std::vector<std::string> argv{Bin::ss7_gen(), "--name", name, "--transport", transport(), "--connect",
                                local_ip() + ":" + std::to_string(sgp_port), "--stats-interval", "250"};
  const auto trace = w.path(name + ".trace");
  argv.insert(argv.end(), {"--trace", trace});
  argv.insert(argv.end(), extra.begin(), extra.end());
  const auto log = w.path(name + ".log");
  auto p = sgtest::ChildProcess::spawn(argv, log);
  if (!p) return Process::failed("cannot start " + Bin::ss7_gen());
  Process proc(std::move(*p), log);
  proc.set_trace(trace);
  return proc;
}

Process start_registrar(const WorkDir& w, const std::string& name, const std::vector<std::uint16_t>& enrp_peers,
                        std::uint32_t server_id) {
  const std::string ip = local_ip();
  const auto cfg = w.path(name + ".cfg");
  {
    std::ofstream c(cfg);
    c << "line vty\n bind 127.0.0.1 0\n"
      << "registrar\n server-id " << server_id << "\n transport " << transport() << "\n asap local-ip " << ip
      << "\n asap-port 0\n enrp local-ip " << ip << "\n enrp-port 0\n";
    for (auto p : enrp_peers) c << " peer " << ip << " " << p << "\n";
    c << " accept-peers " << (enrp_peers.empty() ? "any" : "configured") << "\n timer-profile aggressive\n";
  }
  const auto log = w.path(name + ".log");
  const auto ports_file = w.path(name + ".ports");
  auto p = sgtest::ChildProcess::spawn({Bin::registrar(), "-c", cfg, "--ports-file", ports_file}, log);
  if (!p) return Process::failed("cannot start " + Bin::registrar());
  std::string why;
  auto ports = sgtest::wait_for_ports_file(ports_file, *p, 10s, &why);
  if (!ports) return Process::failed(name + ": " + why + "\n" + sgtest::read_file(log));
  for (const char* needed : {"asap", "enrp"})
    if (!ports->count(needed)) return Process::failed(name + " reported no " + needed + " port");
  return Process(std::move(*p), log, std::move(*ports));
}

std::optional<std::string> cli(std::uint16_t vty_port, const std::string& command) {
  auto t = sgtest::TelnetClient::connect("127.0.0.1", vty_port);
  if (!t || !t->read_until_prompt()) return std::nullopt;
  if (!t->run("enable")) return std::nullopt;
  return t->run(command);
}

std::int64_t sum_last(const std::vector<Process*>& ps, const std::string& key) {
  std::int64_t s = 0;
  for (auto* p : ps)
    if (auto f = p->last("stats")) s += std::max<std::int64_t>(0, num(*f, key, 0));
  return s;
}

std::int64_t in_flight_since(const Process& gen, std::int64_t kill) {
  std::int64_t worst_us = 0, last_line = -1;
  for (auto& f : lines(gen.log(), "stats")) {
    const auto t = num(f, "unix_ms");
    if (t <= kill + 100) {
      if (t > kill - 1000) worst_us = std::max(worst_us, num(f, "interval_max_answer_us", 0));
      last_line = t;
      continue;
    }
    // The first line after: its interval holds the kill. Read only when the
    // generator printed nothing for 500 ms around the kill (starved: no line
    // for 1.2 s around A's kill in a guest at load 11, its worst answer
    // then 3.0 s, the path's latency). Otherwise the lines above tell the
    // latency, and this line's worst answers are those the kill delayed.
    if (last_line < 0 || t - last_line > 500) worst_us = std::max(worst_us, num(f, "interval_max_answer_us", 0));
    break;
  }
  return kill - std::max<std::int64_t>(kKillWindow, worst_us / 1000 + 50);
}

namespace {

// The local ports of a gateway's controller links, from its transport log
// ("gwc/<pe>: association #5 127.0.0.1:44941,198.18.0.1:44941 -> ... up").
std::vector<std::string> controller_link_ports(const Process& gateway) {
  std::vector<std::string> ports;
  std::istringstream in(sgtest::read_file(gateway.log()));
  std::string line;
  while (std::getline(in, line)) {
    const auto at = line.find("] gwc/");
    const auto hash = line.find(": association #", at == std::string::npos ? 0 : at);
    if (at == std::string::npos || hash == std::string::npos || line.find(" up (") == std::string::npos) continue;
    const auto from = line.find(' ', hash + 15);
    const auto end = line.find_first_of(", ", from + 1);
    const auto colon = line.rfind(':', end);
    if (from == std::string::npos || end == std::string::npos || colon == std::string::npos || colon < from) continue;
    ports.push_back(line.substr(colon + 1, end - colon - 1));
  }
  return ports;
}

// A controller's link numbers whose peer port is one of `ports` ("SG
// association 2 up from 198.18.0.1:53000").
std::vector<std::string> links_to(const Process& controller, const std::vector<std::string>& ports) {
  std::vector<std::string> links;
  std::istringstream in(sgtest::read_file(controller.log()));
  std::string line;
  const std::string key = "SG association ";
  while (std::getline(in, line)) {
    const auto at = line.find(key);
    const auto up = line.find(" up from ", at == std::string::npos ? 0 : at);
    if (at == std::string::npos || up == std::string::npos) continue;
    const auto port = line.substr(line.rfind(':') + 1);
    if (std::find(ports.begin(), ports.end(), port) != ports.end())
      links.push_back(line.substr(at + key.size(), up - at - key.size()));
  }
  return links;
}

}  // namespace

std::int64_t ss7_side_moved(const Process& killed_gateway, const Process& survivor,
                            const std::vector<const Process*>& controllers, std::int64_t kill) {
  const auto dead_ports = controller_link_ports(killed_gateway);
  const auto live_ports = controller_link_ports(survivor);
  struct In {
    std::int64_t t;
    bool through_dead;
    std::string sls;
  };
  std::vector<In> ins;
  for (const auto* c : controllers) {
    if (c->trace().empty()) continue;
    const auto dead = links_to(*c, dead_ports), live = links_to(*c, live_ports);
    for (auto& f : lines(c->trace(), "trace")) {
      if (f["what"] != "in") continue;
      const auto& link = f["link"];
      const bool d = std::find(dead.begin(), dead.end(), link) != dead.end();
      if (!d && std::find(live.begin(), live.end(), link) == live.end()) continue;
      ins.push_back({num(f, "unix_ms"), d, f["sls"]});
    }
  }
  std::vector<std::string> share;
  for (const auto& i : ins)
    if (i.through_dead && i.t > kill - 3000 && i.t <= kill) share.push_back(i.sls);
  std::int64_t moved = -1;
  for (const auto& i : ins)
    if (!i.through_dead && i.t > kill && std::find(share.begin(), share.end(), i.sls) != share.end() &&
        (moved < 0 || i.t < moved))
      moved = i.t;
  return moved;
}

namespace {

// The times of circuit `cic`'s `what` lines ("in" or "out") in a
// controller's trace within [from, to], in the trace's order.
std::vector<std::int64_t> trace_times(const Process& c, const char* what, unsigned cic, std::int64_t from,
                                      std::int64_t to) {
  std::vector<std::int64_t> times;
  if (c.trace().empty()) return times;
  std::istringstream in(sgtest::read_file(c.trace()));
  std::string line;
  const std::string kind = std::string(" what=") + what + " ";
  const std::string key = " cic=" + std::to_string(cic) + " ";
  while (std::getline(in, line)) {
    if (line.find(kind) == std::string::npos || line.find(key) == std::string::npos) continue;
    const auto t = num(parse_fields(line), "unix_ms");
    if (t >= from && t <= to) times.push_back(t);
  }
  return times;
}

// The last "out" of circuit `cic` in a controller's trace within [from, to].
std::int64_t last_out(const Process& c, unsigned cic, std::int64_t from, std::int64_t to) {
  const auto times = trace_times(c, "out", cic, from, to);
  return times.empty() ? -1 : *std::max_element(times.begin(), times.end());
}

// The first "in" of circuit `cic` in a controller's trace within [from, to].
std::int64_t first_in(const Process& c, unsigned cic, std::int64_t from, std::int64_t to) {
  const auto times = trace_times(c, "in", cic, from, to);
  return times.empty() ? -1 : times.front();
}

}  // namespace

FailedCalls failed_calls(const Process& gen, const std::vector<std::pair<std::int64_t, std::int64_t>>& windows,
                         const std::vector<const Process*>& controllers) {
  FailedCalls f;
  for (auto& e : events(gen.log(), "failed-call")) {
    auto t = num(e, "last_sent_unix_ms", num(e, "started_unix_ms"));
    // A circuit's next call starts only after this one failed: the
    // controllers' answers between its start and its failure are its own.
    const auto failed_at = num(e, "unix_ms", -1);
    if (failed_at >= 0)
      for (const auto* c : controllers)
        t = std::max(t, last_out(*c, static_cast<unsigned>(num(e, "cic")), num(e, "started_unix_ms"), failed_at));
    bool in = false;
    for (auto [from, to] : windows) in = in || (t >= from && t <= to);
    ++(in ? f.inside : f.outside);
  }
  return f;
}

// A gateway's log line "[2026-12-05 18:40:00.217] [pool] ..." (spdlog,
// local time): its unix ms, -1 for other lines.
std::int64_t log_line_unix_ms(const std::string& line) {
  std::tm tm{};
  int ms = 0;
  if (line.size() < 25 || line[0] != '[' ||
      std::sscanf(line.c_str(), "[%d-%d-%d %d:%d:%d.%d]", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &ms) != 7)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_isdst = -1;
  const auto secs = std::mktime(&tm);
  return secs < 0 ? -1 : static_cast<std::int64_t>(secs) * 1000 + ms;
}

namespace {

// "kill+350 ms restart-650 ms"
std::string relative(std::int64_t t, const Marks& marks) {
  std::string out;
  for (const auto& [name, at] : marks) {
    const auto d = t - at;
    out += (out.empty() ? "" : " ") + name + (d >= 0 ? "+" : "") + std::to_string(d) + " ms";
  }
  return out;
}


// The trace lines of CIC `cic` from `from` on, their times relative to
// `marks`.
std::string trace_of(const std::string& path, unsigned cic, std::int64_t from, const Marks& marks) {
  std::string out;
  std::istringstream in(sgtest::read_file(path));
  std::string line;
  const std::string key = " cic=" + std::to_string(cic) + " ";
  while (std::getline(in, line)) {
    if (line.find(key) == std::string::npos) continue;
    const auto t = num(parse_fields(line), "unix_ms");
    if (t < from) continue;
    out += "      " + line.substr(line.find(' ') + 1) + "  (" + relative(t, marks) + ")\n";
  }
  return out.empty() ? "      (nothing)\n" : out;
}

}  // namespace

struct StallMeter::Impl {
  std::atomic<bool> stop{false};
  mutable std::mutex m;
  std::vector<std::pair<std::int64_t, std::int64_t>> late;  // [from, to] unix ms that nothing ran
  std::thread t;
};

StallMeter::StallMeter() : impl_(std::make_unique<Impl>()) {
  impl_->t = std::thread([i = impl_.get()] {
    constexpr std::int64_t kSleep = 5, kSlack = 20;
    while (!i->stop.load()) {
      const auto before = unix_ms_now();
      std::this_thread::sleep_for(std::chrono::milliseconds(kSleep));
      const auto after = unix_ms_now();
      if (after - before > kSleep + kSlack) {
        std::lock_guard<std::mutex> g(i->m);
        i->late.emplace_back(before + kSleep, after);
      }
    }
  });
}

StallMeter::~StallMeter() {
  impl_->stop = true;
  impl_->t.join();
}

std::int64_t StallMeter::stalled(std::int64_t from, std::int64_t to) const {
  std::lock_guard<std::mutex> g(impl_->m);
  std::int64_t sum = 0;
  for (auto [a, b] : impl_->late) sum += std::max<std::int64_t>(0, std::min(b, to) - std::max(a, from));
  return sum;
}

std::int64_t first_traced(const Process& p, const std::string& what, std::int64_t unix_ms) {
  if (p.trace().empty()) return -1;
  std::istringstream in(sgtest::read_file(p.trace()));
  std::string line;
  const std::string key = " what=" + what + " ";
  while (std::getline(in, line)) {
    if (line.find(key) == std::string::npos) continue;
    if (const auto t = num(parse_fields(line), "unix_ms"); t >= unix_ms) return t;
  }
  return -1;
}

std::string explain_failed_calls(const Process& gen, const std::vector<const Process*>& controllers,
                                 const std::vector<const Process*>& gateways, const Marks& marks) {
  std::string out;
  for (auto& f : events(gen.log(), "failed-call")) {
    const auto cic = static_cast<unsigned>(num(f, "cic"));
    const auto started = num(f, "started_unix_ms");
    const auto last = num(f, "last_sent_unix_ms", started);
    const auto at = num(f, "unix_ms", last);
    out += "failed call cic=" + std::to_string(cic) + " reason=" + f["reason"] + " last_sent=" + f["last_sent"] +
           " acm=" + f["acm"] + ": started " + relative(started, marks) + ", last sent " + relative(last, marks) +
           ", failed " + relative(at, marks) + "\n";
    // A circuit is used again only after its call ended: from its start on.
    if (!gen.trace().empty()) out += "    " + gen.log() + " trace:\n" + trace_of(gen.trace(), cic, started - 1, marks);
    for (const auto* c : controllers)
      if (!c->trace().empty()) out += "    " + c->log() + " trace:\n" + trace_of(c->trace(), cic, started - 1, marks);
    // The gateways do not log per call: their lines from just before the
    // call's last message for 3 s (or until it failed): pool, links, drops,
    // the SS7 side; not the transports' association chatter.
    const auto until = std::min(at + 100, last + 3000);
    for (const auto* g : gateways) {
      std::istringstream in(g->output());
      std::string line, lines;
      int n = 0;
      while (std::getline(in, line)) {
        const auto t = log_line_unix_ms(line);
        if (t < 0 || t < last - 300 || t > until || line.find("] [transport] [info] ") != std::string::npos) continue;
        if (++n > 30) {
          lines += "      ...\n";
          break;
        }
        lines += "      " + line + "  (" + relative(t, marks) + ")\n";
      }
      out += "    " + g->log() + " from 300 ms before its last message, for 3 s:\n" +
             (lines.empty() ? "      (nothing)\n" : lines);
    }
  }
  return out;
}

namespace {

// A controller's SG associations: id -> (up, down) in unix ms (-1: not
// seen), from its log's "SG association N up from ..." and "... down: ...".
std::map<std::uint64_t, std::pair<std::int64_t, std::int64_t>> association_lives(const Process& c) {
  std::map<std::uint64_t, std::pair<std::int64_t, std::int64_t>> lives;
  std::istringstream in(c.output());
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find("SG association ");
    if (at == std::string::npos) continue;
    const auto t = log_line_unix_ms(line);
    const auto rest = line.substr(at + 15);
    const auto id = std::strtoull(rest.c_str(), nullptr, 10);
    auto& life = lives.try_emplace(id, std::pair<std::int64_t, std::int64_t>{-1, -1}).first->second;
    if (rest.find(" up from ") != std::string::npos) life.first = t;
    if (rest.find(" down: ") != std::string::npos) life.second = t;
  }
  return lives;
}

// Trace lines of CIC `cic` within [from, to], at most `max` (the last ones).
std::string trace_window(const std::string& path, unsigned cic, std::int64_t from, std::int64_t to, const Marks& marks,
                         std::size_t max = 12) {
  std::vector<std::string> hits;
  std::istringstream in(sgtest::read_file(path));
  const std::string key = " cic=" + std::to_string(cic) + " ";
  for (std::string line; std::getline(in, line);) {
    if (line.find(key) == std::string::npos) continue;
    const auto t = num(parse_fields(line), "unix_ms");
    if (t < from || t > to) continue;
    hits.push_back("      " + line.substr(line.find(' ') + 1) + "  (" + relative(t, marks) + ")\n");
  }
  std::string out = hits.size() > max ? "      ...\n" : "";
  for (std::size_t i = hits.size() > max ? hits.size() - max : 0; i < hits.size(); ++i) out += hits[i];
  return out.empty() ? "      (nothing)\n" : out;
}

}  // namespace

std::string explain_unknown_calls(const Process& gen, const std::vector<const Process*>& controllers,
                                  const std::vector<const Process*>& gateways, const Marks& marks, std::size_t limit) {
  std::string detail, summary;
  std::size_t total = 0;
  for (const auto* c : controllers) {
    if (c->trace().empty()) continue;
    const auto lives = association_lives(*c);
    std::map<std::string, std::size_t> by_kind;  // "type on association N"
    std::istringstream in(sgtest::read_file(c->trace()));
    for (std::string line; std::getline(in, line);) {
      if (line.find(" what=unknown ") == std::string::npos) continue;
      auto f = parse_fields(line);
      const auto t = num(f, "unix_ms");
      const auto link = static_cast<std::uint64_t>(num(f, "link", 0));
      const auto cic = static_cast<unsigned>(num(f, "cic"));
      std::string life = "association " + std::to_string(link);
      if (auto it = lives.find(link); it != lives.end()) {
        life += " (up " + (it->second.first < 0 ? std::string("before the log") : relative(it->second.first, marks));
        life += it->second.second < 0 ? ", still up)" : ", down " + relative(it->second.second, marks) + ")";
      }
      ++by_kind[f["type"] + " on " + life];
      if (++total > limit) continue;
      detail += "unknown call at " + c->log() + ": " + f["type"] + " cic=" + std::to_string(cic) + " sls=" + f["sls"] +
                " at " + relative(t, marks) + " on " + life + "\n";
      detail += "    this controller's history with the CIC (10 s before):\n" +
                trace_window(c->trace(), cic, t - 10000, t + 50, marks);
      for (const auto* o : controllers)
        if (o != c && !o->trace().empty())
          detail += "    " + o->log() + " with the CIC (10 s before, 1 s after):\n" +
                    trace_window(o->trace(), cic, t - 10000, t + 1000, marks, 8);
      if (!gen.trace().empty())
        detail += "    " + gen.log() + " trace of the CIC (10 s before, 1 s after):\n" +
                  trace_window(gen.trace(), cic, t - 10000, t + 1000, marks);
      for (const auto* g : gateways) {
        std::istringstream gl(g->output());
        std::string lines;
        int n = 0;
        for (std::string l; std::getline(gl, l);) {
          const auto lt = log_line_unix_ms(l);
          if (lt < 0 || lt < t - 300 || lt > t + 50 || l.find("] [transport] [info] ") != std::string::npos) continue;
          if (++n > 12) {
            lines += "      ...\n";
            break;
          }
          lines += "      " + l + "  (" + relative(lt, marks) + ")\n";
        }
        detail += "    " + g->log() + " from 300 ms before:\n" + (lines.empty() ? "      (nothing)\n" : lines);
      }
    }
    for (const auto& [kind, n] : by_kind) summary += "  " + c->log() + ": " + std::to_string(n) + " x " + kind + "\n";
  }
  if (total == 0) return {};
  return std::to_string(total) + " message(s) for unknown calls:\n" + summary +
         (total > limit ? "the first " + std::to_string(limit) + " in detail:\n" : "") + detail;
}

Reordered reordered_calls(const Process& gen, const std::vector<const Process*>& controllers,
                          std::pair<std::int64_t, std::int64_t> window, std::int64_t kill) {
  Reordered r;
  for (auto& e : events(gen.log(), "reordered")) {
    const auto cic = static_cast<unsigned>(num(e, "cic", 0));
    const auto at = num(e, "unix_ms");
    std::string why;
    for (const auto* c : controllers) {
      if (c->trace().empty()) continue;
      const auto lives = association_lives(*c);
      std::istringstream in(sgtest::read_file(c->trace()));
      const std::string key = " cic=" + std::to_string(cic) + " ";
      for (std::string line; std::getline(in, line);) {
        if (line.find(" what=out ") == std::string::npos || line.find(key) == std::string::npos ||
            line.find(" type=ACM ") == std::string::npos)
          continue;
        auto f = parse_fields(line);
        const auto t = num(f, "unix_ms");
        const auto link = static_cast<std::uint64_t>(num(f, "link", 0));
        auto life = lives.find(link);
        const auto down = life == lives.end() ? -1 : life->second.second;
        if (t < window.first || t > window.second || t > at || down < kill || down > kill + 5000) continue;
        why = c->log() + ": ACM out on SG association " + std::to_string(link) + " " + std::to_string(t - kill) +
              " ms from the kill, that association down " + std::to_string(down - kill) + " ms after it";
      }
    }
    (why.empty() ? r.other : r.at_the_kill) += 1;
    r.detail += "  circuit " + std::to_string(cic) + ", ACM after ANM at ss7-gen " + std::to_string(at - kill) +
                " ms from the kill: " + (why.empty() ? "NOT an ACM sent through the killed gateway at the kill" : why) +
                "\n";
  }
  return r;
}

std::vector<std::pair<const Process*, std::int64_t>> fenced_controllers(const Process& gateway,
                                                                        const std::vector<const Process*>& controllers) {
  std::vector<std::pair<const Process*, std::int64_t>> out;
  std::istringstream in(gateway.output());
  for (std::string line; std::getline(in, line);) {
    if (line.find(": fenced") == std::string::npos) continue;
    const auto at = line.find(" PE ");
    if (at == std::string::npos) continue;
    const auto id = std::strtoull(line.c_str() + at + 4, nullptr, 16);
    for (const auto* c : controllers)
      if (auto f = c->last("stats"); f && static_cast<std::uint64_t>(num(*f, "pe_id", -1)) == id)
        out.emplace_back(c, log_line_unix_ms(line));
  }
  return out;
}

UnknownCalls unknown_calls(const std::vector<const Process*>& controllers, const std::vector<const Process*>& fenced) {
  UnknownCalls u;
  for (const auto* c : controllers) {
    if (c->trace().empty()) continue;
    std::istringstream in(sgtest::read_file(c->trace()));
    for (std::string line; std::getline(in, line);) {
      if (line.find(" what=unknown ") == std::string::npos) continue;
      const auto f = parse_fields(line);
      const auto t = num(f, "unix_ms");
      const auto cic = static_cast<unsigned>(num(f, "cic"));
      bool of_fenced = std::find(fenced.begin(), fenced.end(), c) != fenced.end();
      for (const auto* x : fenced)
        of_fenced = of_fenced || (!x->trace().empty() && last_out(*x, cic, t - 10000, t) >= 0) ||
                    (!x->trace().empty() && first_in(*x, cic, t - 10000, t) >= 0);
      ++(of_fenced ? u.of_fenced : u.other);
    }
  }
  return u;
}

bool stats_after(const std::vector<Process*>& ps, std::int64_t unix_ms, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    bool all = true;
    for (auto* p : ps) {
      auto f = p->last("stats");
      all = all && f && num(*f, "unix_ms", 0) >= unix_ms;
    }
    if (all) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

}  // namespace e2e
