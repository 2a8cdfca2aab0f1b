#pragma once
// Process-level harness for the gateway's end-to-end tests: sgd, gwc-sim,
// ss7-gen and rserpool-registrar as real processes on loopback (or UML's
// addresses), their machine-readable output lines ("stats k=v ...",
// "event k=v ...", "summary k=v ...") parsed back, and the sgd CLI driven
// over telnet. Every listener binds port 0 and the harness reads back what
// was bound (the daemons' --ports-file, gwc-sim's "event listening" line):
// no port is ever picked in advance.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ports_file.hpp"
#include "process.hpp"

namespace e2e {

using namespace std::chrono_literals;
using Fields = std::map<std::string, std::string>;

// "stats a=1 b=x" -> {a:1, b:x}; the first word is the kind.
Fields parse_fields(const std::string& line);
std::int64_t num(const Fields& f, const std::string& key, std::int64_t fallback = -1);

// Lines of a child's log that start with `kind ` (stats, event, summary).
std::vector<Fields> lines(const std::string& log_path, const std::string& kind);
std::optional<Fields> last_line(const std::string& log_path, const std::string& kind);
// Event lines whose first field is `event` (e.g. "registered", "duna").
std::vector<Fields> events(const std::string& log_path, const std::string& event);

std::int64_t unix_ms_now();

std::string transport();  // SG_TEST_TRANSPORT (tcp on the host, sctp in UML); default tcp
std::string local_ip();   // 127.0.0.1 with tcp, 198.18.0.1 with sctp (rsplib-friendly in UML)

struct Bin {
  static std::string sgd();
  static std::string gwc_sim();
  static std::string ss7_gen();
  static std::string registrar();
};

// A test's working directory (logs, configs), kept when the test fails.
class WorkDir {
 public:
  explicit WorkDir(const std::string& test_name);
  std::string path(const std::string& file) const { return dir_ + "/" + file; }
  const std::string& dir() const { return dir_; }
  // Copies the directory (logs, traces, configurations as they are now) to
  // a directory that outlives the test's machine: a UML guest's temp dir
  // goes with the guest, the host's file system (hostfs) stays. The root is
  // SG_E2E_KEEP_DIR, else the build tree's e2e-failed/ when the test was
  // built with one; the copy's path, empty when there is no root or the
  // copy failed.
  std::string keep() const;

 private:
  std::string dir_;
};

struct SgdSpec {
  std::string pool_extra;  // lines appended to the pool node (e.g. " pool-wait 1000")
  std::string sg_extra;    // lines appended to the sg node (e.g. " pe-audit-bound 100")
  bool colocated = true;
  std::vector<std::string> remote_registrars;  // "ADDR PORT"
  std::string timer_profile = "aggressive";
  std::string ss7_peer_ip;  // the SS7 peer's address (default: local_ip())
  // A restart binds the ports its first run reported (0: the kernel chooses).
  std::uint16_t ss7_port = 0;
  std::uint16_t asap_port = 0;
  std::uint16_t enrp_port = 0;
  std::vector<std::string> enrp_peers;  // "ADDR PORT": the co-located registrar's ENRP peers (mentor)
  std::vector<std::string> enrp_allow;  // addresses whose ENRP associations it accepts
  std::uint32_t server_id = 0;          // 0: random
  std::string pool_memory;              // sgd --pool-memory PATH (empty: none)
  std::string standby_lock;             // sgd --standby-lock PATH (empty: none)
};

std::string sgd_config(const SgdSpec& s);
// sgd's command line for `s`, its configuration written to CFG.
std::vector<std::string> sgd_argv(const SgdSpec& s, const std::string& cfg, const std::string& ports_file);

class Process {
 public:
  Process() = default;
  Process(sgtest::ChildProcess p, std::string log, sgtest::PortMap ports = {})
      : child_(std::move(p)), log_(std::move(log)), ports_(std::move(ports)) {}
  bool started() const { return child_.has_value(); }
  // A port the process reported it bound ("m3ua", "asap", "enrp", "vty",
  // "metrics"); 0 when it reported none of that name.
  std::uint16_t port(const std::string& name) const {
    auto it = ports_.find(name);
    return it == ports_.end() ? 0 : it->second;
  }
  // Why start_* returned a process that did not start (for the assertion).
  const std::string& failure() const { return failure_; }
  static Process failed(std::string why) {
    Process p;
    p.failure_ = std::move(why);
    return p;
  }
  sgtest::ChildProcess& child() { return *child_; }
  const std::string& log() const { return log_; }
  std::string output() const { return sgtest::read_file(log_); }
  // Waits until a line `kind ...` with field `key`=`value` (or any value
  // when empty) appears.
  bool wait_line(const std::string& kind, const std::string& first_word, std::chrono::milliseconds timeout) const;
  std::optional<Fields> last(const std::string& kind) const { return last_line(log_, kind); }
  void kill_now();
  // Its per-message trace (gwc-sim and ss7-gen --trace), empty when none.
  const std::string& trace() const { return trace_; }
  void set_trace(std::string path) { trace_ = std::move(path); }

 private:
  std::optional<sgtest::ChildProcess> child_;
  std::string log_;
  std::string trace_;
  sgtest::PortMap ports_;
  std::string failure_;
};

// sgd on port 0 everywhere; the ports it bound are in Process::port().
Process start_sgd(const WorkDir& w, const SgdSpec& s, const std::string& name = "sgd");
struct GwcSpec {
  std::string name;
  std::vector<std::string> registrars;  // ADDR:PORT
  std::vector<std::string> extra;       // more options
  bool cookies = true;
  bool aggressive = true;
  // gwc-sim --no-self-fence when false: for tests that never hang a
  // controller, an SG association lost abnormally is always the SG's death,
  // also right after a stall that was only the machine's load.
  bool self_fence = true;
};
Process start_gwc(const WorkDir& w, const GwcSpec& g);
Process start_ss7gen(const WorkDir& w, std::uint16_t sgp_port, const std::vector<std::string>& extra,
                     const std::string& name = "ss7-gen");
// rserpool-registrar on port 0 everywhere (asap, enrp, vty read back from
// its --ports-file). It peers with the registrars whose ENRP ports are in
// `enrp_peers`; with none it accepts any peer (the later ones announce
// themselves to it).
Process start_registrar(const WorkDir& w, const std::string& name, const std::vector<std::uint16_t>& enrp_peers,
                        std::uint32_t server_id);

// Sends a command to a daemon's CLI (enable first); its output.
std::optional<std::string> cli(std::uint16_t vty_port, const std::string& command);

// ss7-gen's failed calls ("event failed-call ... last_sent_unix_ms=T"), split
// by whether the call's last message toward the gateways left inside one of
// `windows` ([from, to], unix ms) or outside all of them. That message is
// the SS7 side's last (the IAM or the REL whose answer never came) or, when
// later, a controller's last answer on that circuit before the call failed
// (its trace's "out" lines): what a killed gateway took with it may be the
// answer, and on a loaded machine the answer left a controller up to 230 ms
// after the IAM left the SS7 side (UML, two busy loops: an ANM sent 54 ms
// before the kill to the gateway that was killed, for an IAM sent 279 ms
// before it, failed "outside" a window that began 250 ms before the kill).
struct FailedCalls {
  std::int64_t inside = 0;
  std::int64_t outside = 0;
};
FailedCalls failed_calls(const Process& gen, const std::vector<std::pair<std::int64_t, std::int64_t>>& windows,
                         const std::vector<const Process*>& controllers = {});

// A killed gateway takes with it what it held: over kernel SCTP what its
// kernel acknowledged and the process had not read, over either transport
// what the process had read and not yet passed on. So the kill's in-flight
// window starts at the kill minus the time the path took just then (the
// worst answer the SS7 side saw in the second before the kill, at least
// kKillWindow: a starved machine holds messages longer).
inline constexpr std::int64_t kKillWindow = 200;
std::int64_t in_flight_since(const Process& gen, std::int64_t kill);

// When the SS7 side moved a killed gateway's share to its mate (the STP's
// M3UA ASP failover, RFC 4666 4.3.4.2): the first message a controller
// received through the survivor on a signalling link selection that reached
// the controllers through the killed gateway in the 3 s before the kill.
// Until then the STP still routes that share to the dead gateway and loses
// it (osmo-stp does so silently while its send path has not read the
// association's end): the "after the SS7 side moves its traffic".
// Controllers' links are matched to gateways by port (the gateway's
// transport log names its local port, the controller's log the peer's).
// -1 when the traces do not show it.
std::int64_t ss7_side_moved(const Process& killed_gateway, const Process& survivor,
                            const std::vector<const Process*>& controllers, std::int64_t kill);

// What a killed gateway can take with it is what crossed it within the
// kill's window: at most the calls started in it (each call has one message
// outstanding at a time), and at least a few (one scheduling slice).
inline std::int64_t in_flight_allowed(double cps, std::pair<std::int64_t, std::int64_t> window) {
  return std::max<std::int64_t>(
      4, static_cast<std::int64_t>(cps * static_cast<double>(window.second - window.first) / 1000.0) + 1);
}

// The first line of a process's trace with `what=WHAT` at or after
// `unix_ms` (its unix ms), -1 if none.
std::int64_t first_traced(const Process& p, const std::string& what, std::int64_t unix_ms);

// How long the machine ran nothing of ours in an interval: a thread that
// sleeps 5 ms at a time and records each wake that came more than 20 ms
// late. A UML guest that the loaded host does not schedule stops every
// process in it, the gateway's too (seen: the standby's listeners 4.3 s
// after the kill, traffic 1.2 s after a restarted sgd listened, with two
// guests, two busy loops and a build on the 2 cores); a time bound on the
// gateway's own part is checked against the wall time less that. A wake
// late by 20 ms or less is the guest's own scheduling (its processes share
// one CPU) and counts as running.
class StallMeter {
 public:
  StallMeter();
  ~StallMeter();
  StallMeter(const StallMeter&) = delete;
  StallMeter& operator=(const StallMeter&) = delete;
  // The time (ms) within [from, to] (unix ms) that the late wakes cover.
  std::int64_t stalled(std::int64_t from, std::int64_t to) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A daemon's log line "[2026-12-05 18:40:00.217] ..." (spdlog, local
// time): its unix ms; -1 for other lines.
std::int64_t log_line_unix_ms(const std::string& line);

// Instants of a test (name, unix ms: "kill", "restart") that the
// explanation of a failed call measures its times from.
using Marks = std::vector<std::pair<std::string, std::int64_t>>;

// Why calls failed, for a failing test's output: every "failed-call" of
// ss7-gen (CIC, reason, last message, times relative to `marks`), what
// ss7-gen's and each controller's trace recorded for that CIC (queued,
// sent on which SG, in/out on which association, held, handed back), and
// each gateway's log lines from just before the call's last message until
// its failure. Empty when no call failed.
std::string explain_failed_calls(const Process& gen, const std::vector<const Process*>& controllers,
                                 const std::vector<const Process*>& gateways, const Marks& marks);

// Why controllers got messages for calls they do not hold, for a failing
// test's output: each controller's "unknown" trace lines (CIC, type, the
// SG association it came on and that association's life relative to
// `marks`, which tells which gateway sent it), that controller's history
// with the CIC before it, which other controller held the call, ss7-gen's
// trace of the CIC, and the gateways' log lines of that moment. At most
// `limit` messages in detail; a summary of all. Empty when there were none.
std::string explain_unknown_calls(const Process& gen, const std::vector<const Process*>& controllers,
                                  const std::vector<const Process*>& gateways, const Marks& marks,
                                  std::size_t limit = 16);

// The controllers a gateway fenced (its log's "... PE <id> ...: fenced"):
// each with the time (unix ms) of the fence. `controllers` are matched by
// the pe_id of their stats lines.
std::vector<std::pair<const Process*, std::int64_t>> fenced_controllers(const Process& gateway,
                                                                        const std::vector<const Process*>& controllers);

// Messages for unknown calls at the controllers (their traces' "unknown"
// lines), split by whether they belong to a fenced controller's calls: the
// message reached that controller, or its circuit passed through it within
// the 10 s before. A gateway fences a controller it heard nothing from for
// 2 x pe-beat; its mate may not have (one-sided: docs/gateway.md, "What the
// pair does not cover"), and then the fenced controller's calls, and the
// calls the fencing gateway placed elsewhere meanwhile, meet the
// controllers that do not hold them. Anything else is unexplained.
struct UnknownCalls {
  std::int64_t of_fenced = 0;
  std::int64_t other = 0;
};
UnknownCalls unknown_calls(const std::vector<const Process*>& controllers, const std::vector<const Process*>& fenced);

// ss7-gen's "reordered" events (an ACM that came after its call's ANM:
// Q.764 answers the call on the ANM and discards the ACM), split by
// whether the pair's one order it cannot keep explains them: the ACM left a
// controller within `window` (unix ms: the kill's in-flight window) on an
// SG association that went down within 5 s after `kill` (the killed
// gateway's), so the dead gateway's kernel may have delivered it to the
// STP after the ANM the controller sent through the mate (docs/gateway.md,
// "Order across the two gateways at the STP"). `detail` tells each one.
struct Reordered {
  std::int64_t at_the_kill = 0;
  std::int64_t other = 0;
  std::string detail;
};
Reordered reordered_calls(const Process& gen, const std::vector<const Process*>& controllers,
                          std::pair<std::int64_t, std::int64_t> window, std::int64_t kill);

// Waits until every process has written a stats line stamped (unix_ms) at
// or after `unix_ms`: its counters then include everything up to then.
bool stats_after(const std::vector<Process*>& ps, std::int64_t unix_ms, std::chrono::milliseconds timeout);

// Sum of a stats field over the last stats line of several processes.
std::int64_t sum_last(const std::vector<Process*>& ps, const std::string& key);

}  // namespace e2e
