// Issue 15 end to end, as processes: a restart of sgd under calls, and the
// loss of one of two mated sgd. sgd, three gwc-sim controllers (cookies) and
// ss7-gen on ports the daemons chose and reported; SIGKILL as the fault; a
// restart binds the ports its first run reported. Host: TCP mapping; UML
// (SG_TEST_TRANSPORT=sctp): kernel SCTP.
//
// What an operator checks: after the SS7 side has moved its traffic, no
// failed call, no message for an unknown call at a controller, no duplicate
// at the SS7 side; after a restart, traffic within a second and every call
// in progress continuing on the controller that holds it.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

#include "harness.hpp"

namespace e2e {
namespace {

class SgdHitless : public ::testing::Test {
 protected:
  void SetUp() override { work_.emplace(::testing::UnitTest::GetInstance()->current_test_info()->name()); }
  void TearDown() override {
    if (HasFailure()) {
      std::fprintf(stderr, "logs kept in %s\n", work_->dir().c_str());
      for (const auto& p : procs_) {
        const auto out = p->output();
        std::fprintf(stderr, "---- %s (tail)\n%s\n", p->log().c_str(),
                     out.substr(out.size() > 3000 ? out.size() - 3000 : 0).c_str());
      }
      // Each failed call, from the SS7 side through the gateways to the
      // controllers: a failure on a CI machine explains itself.
      if (gen_) {
        std::vector<const Process*> gateways;
        for (const auto& p : procs_)
          if (p.get() != gen_ && std::find(pes_.begin(), pes_.end(), p.get()) == pes_.end()) gateways.push_back(p.get());
        const auto why = explain_failed_calls(*gen_, controllers(), gateways, marks_);
        std::fprintf(stderr, "---- failed calls\n%s\n", why.empty() ? "(none)" : why.c_str());
        const auto unknown = explain_unknown_calls(*gen_, controllers(), gateways, marks_);
        std::fprintf(stderr, "---- unknown calls at the controllers\n%s\n",
                     unknown.empty() ? "(none)" : unknown.c_str());
      }
      const auto kept = work_->keep();
      std::fprintf(stderr, "logs and traces copied to %s\n", kept.empty() ? "(nowhere: no keep dir)" : kept.c_str());
    }
  }
  static bool uml() { return transport() == "sctp"; }
  Process& keep(Process p) {
    procs_.push_back(std::make_unique<Process>(std::move(p)));
    return *procs_.back();
  }
  // The ports a restart must bind again.
  static SgdSpec again(SgdSpec spec, const Process& first) {
    spec.ss7_port = first.port("m3ua");
    spec.asap_port = first.port("asap");
    spec.enrp_port = first.port("enrp");
    return spec;
  }
  std::vector<const Process*> controllers() const { return {pes_.begin(), pes_.end()}; }
  std::vector<Process*> pes() {
    std::vector<Process*> v;
    for (auto* p : pes_) v.push_back(p);
    return v;
  }
  void start_pes(const std::vector<std::string>& registrars) {
    for (auto n : {"pe1", "pe2", "pe3"}) {
      // No controller is hung here: an SG association lost abnormally is
      // always a killed sgd, also right after a stall that was only the
      // machine's load (a loaded UML guest stopped every process for 1.2 s
      // before a kill: a controller took the kill for a fence and gave up 8
      // calls, whose RELs then came as unknown calls).
      auto& p = keep(start_gwc(*work_, GwcSpec{n, registrars, {}, true, true, false}));
      ASSERT_TRUE(p.started()) << p.failure();
      pes_.push_back(&p);
    }
  }
  // Every controller has `n` SG associations up.
  bool pes_linked(std::int64_t n, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      bool all = true;
      for (auto* p : pes_) {
        auto f = p->last("stats");
        all = all && f && num(*f, "associations", 0) >= n;
      }
      if (all) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  Fields finish(Process& gen, std::chrono::milliseconds timeout) {
    auto rc = gen.child().wait(timeout);
    EXPECT_TRUE(rc.has_value()) << "ss7-gen did not finish";
    auto s = gen.last("summary");
    EXPECT_TRUE(s.has_value()) << "no summary from ss7-gen";
    return s.value_or(Fields{});
  }
  // The first `event NAME sg=SG` at or after `t` (unix ms), -1 if none.
  static std::int64_t event_after(const Process& p, const std::string& name, int sg, std::int64_t t) {
    for (auto& f : events(p.log(), name))
      if (num(f, "sg") == sg && num(f, "unix_ms") >= t) return num(f, "unix_ms");
    return -1;
  }
  // Messages for unknown calls at the controllers, once each has reported
  // (stats line) after the SS7 side finished.
  static std::int64_t wait_event_after(const Process& p, const std::string& name, int sg, std::int64_t t,
                                       std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto at = event_after(p, name, sg, t);
      if (at >= 0 || std::chrono::steady_clock::now() >= deadline) return at;
      std::this_thread::sleep_for(20ms);
    }
  }
  std::int64_t unknown_at_controllers() {
    EXPECT_TRUE(stats_after(pes(), unix_ms_now(), 5s)) << "a controller stopped reporting";
    return sum_last(pes(), "unknown_call");
  }
  // The kill's in-flight window runs from in_flight_since() (the path's
  // latency just before the kill) until the SS7 side saw the loss. A
  // failed call whose last message left outside it is a real loss. An IAM
  // that left the SS7 side shortly before the kill, or the answer to one, is
  // what a killed gateway can take with it (a REL or its RLC is recovered:
  // the SS7 side repeats the REL at T1, `--t1`).
  // A duplicate has one known source: the transports' at-least-once
  // hand-back (docs/transport.md). A message the killed gateway had passed
  // on, whose acknowledgment had not reached its sender yet, comes back from
  // the sender's transport and is sent again (the SS7 side's through the
  // mate, a controller's through the mate or the restarted gateway): the
  // controller sees an IAM twice (a seizure of a busy circuit) or the SS7
  // side an answer twice. Rare (about 1 run in 20 on the host), and allowed
  // only that way: inside `windows`, no more than what the SS7 side re-sent
  // and the controllers had handed back, and a controller's repeated
  // seizures no more than that. Anything else is a real duplicate.
  void expect_duplicates_only_from_hand_back(const Process& gen, const Fields& s,
                                             const std::vector<std::pair<std::int64_t, std::int64_t>>& windows) {
    std::int64_t inside = 0, outside = 0;
    for (auto& e : events(gen.log(), "unexpected")) {
      const auto t = num(e, "unix_ms");
      bool in = false;
      for (auto [from, to] : windows) in = in || (t >= from && t <= to);
      ++(in ? inside : outside);
    }
    EXPECT_EQ(outside, 0) << "duplicates or unknown answers at the SS7 side, not at a kill";
    EXPECT_LE(inside, num(s, "resent", 0) + sum_last(pes(), "handed_back"))
        << "more duplicates at a kill than messages handed back and sent again";
    EXPECT_LE(sum_last(pes(), "order_violations"), inside)
        << "a controller saw a circuit seized twice (or a message out of order) other than by a re-sent IAM";
  }
  static void sleep_until(std::int64_t unix_ms) {
    const auto now = unix_ms_now();
    if (unix_ms > now) std::this_thread::sleep_for(std::chrono::milliseconds(unix_ms - now));
  }

  std::optional<WorkDir> work_;
  std::vector<std::unique_ptr<Process>> procs_;
  std::vector<Process*> pes_;
  StallMeter meter_;              // the machine's own stops, for the time bounds
  const Process* gen_ = nullptr;  // ss7-gen, once started
  Marks marks_;                   // the faults' instants, for explain_failed_calls
};

// kill -9 of sgd under 200 calls/s (40 in UML), restarted 1 s later on its
// ports: the controllers register again with its registrar, the SS7 side
// reconnects; traffic flows within a second of the restart and every call
// in progress continues on its controller.
TEST_F(SgdHitless, ARestartedSgdCarriesTrafficWithinASecondAndKeepsEveryCall) {
  // The default placement-settle (600 ms) on the host: the controllers
  // find the restarted registrar within the hunt's cap (200 ms) of its
  // return, so their registrations spread less than the settle. In UML on
  // a loaded machine they spread up to 1.3 s (stop 21's CI: 0.6 s between
  // the first and the second, and the settle's timer ended between them),
  // so there the settle's timer is 1.5 s and the pool-wait long enough for
  // it (half of it bounds the settle). The settle's timer is the fallback
  // only: with its pool memory the restarted sgd settles as soon as the
  // three are listed again, which the last assertion checks.
  SgdSpec spec;
  spec.pool_memory = work_->path("sgd.memory");
  if (uml()) spec.pool_extra = " pool-wait 4000\n placement-settle 1500\n";
  auto* sgd = &keep(start_sgd(*work_, spec));
  ASSERT_TRUE(sgd->started()) << sgd->failure();
  start_pes({local_ip() + ":" + std::to_string(sgd->port("asap"))});
  ASSERT_TRUE(pes_linked(1, 8s));
  auto& gen = keep(start_ss7gen(*work_, sgd->port("m3ua"),
                                // 10 s of holding while no SG is ACTIVE, an answer timeout
                                // of 15 s (ISUP's T7 is 20-30 s) and the drain to match:
                                // the outage is the 1 s before the restart plus the process
                                // start. In UML with two guests, two busy loops and a build
                                // on the 2 cores it lasted 2.0-6.0 s (16 runs), and at 6 s
                                // ss7-gen discarded what it held (6 s then): 11 IAMs, failed
                                // calls the kill's window took for the gateway's.
                                {"--cps", uml() ? "40" : "200", "--hold", "300", "--answer-timeout", "15000", "--t1", "2000",
                                 "--sccp-rate", uml() ? "10" : "50", "--duration", "6", "--aggressive",
                                 "--hold-while-down", "10000", "--drain-timeout", "16000", "--stats-interval", "100"}));
  gen_ = &gen;
  ASSERT_TRUE(gen.wait_line("event", "active", 10s));
  const auto t0 = num(events(gen.log(), "active").front(), "unix_ms");
  sleep_until(t0 + 2000);
  const auto killed = unix_ms_now();
  sgd->kill_now();
  marks_.emplace_back("kill", killed);
  sleep_until(killed + 1000);
  const auto restarted = unix_ms_now();
  marks_.emplace_back("restart", restarted);
  sgd = &keep(start_sgd(*work_, again(spec, *sgd), "sgd-restarted"));
  ASSERT_TRUE(sgd->started()) << sgd->failure();
  const auto listening = unix_ms_now();  // it has reported its ports: every listener is open

  auto s = finish(gen, 30s);
  const auto traffic = event_after(gen, "sg-traffic", 0, restarted);
  std::printf("[restart] killed, restarted 1 s later: traffic %lld ms after the restart; calls %s, failed %s, "
              "unexpected at the SS7 side %s, waited %s, discarded %s\n",
              static_cast<long long>(traffic < 0 ? -1 : traffic - restarted), s["calls_attempted"].c_str(),
              s["calls_failed"].c_str(), s["unexpected"].c_str(), s["waited"].c_str(), s["discarded"].c_str());
  ASSERT_GE(traffic, 0) << "no traffic through the restarted sgd";
  // Within a second of the restart. In UML the process itself takes
  // 0.2-2.2 s to start on a loaded machine (loading, not the gateway's
  // doing): there the gateway's own part, from listening to traffic (the
  // controllers' hunt, capped at 200 ms, their links, the SS7 side's
  // reconnection), must fit in the second, and the whole stays far from
  // the 10 s it took before issue 15. tests/bench/sgd-hitless.sh measures
  // the whole over repeated restarts.
  //
  // Traffic through the restarted sgd is its first message either way: at
  // the SS7 side (sg-traffic) or at a controller (its trace; the killed sgd
  // is gone by then). ss7-gen reading late is not the gateway's doing: in a
  // loaded UML guest (two busy loops beside the other builds) its 100 ms
  // stats lines stopped for 340 ms while its answers waited in its socket,
  // and it saw traffic 1039 ms after listening; the controllers had the SS7
  // side's first messages through the gateway 270 ms earlier.
  std::int64_t through = traffic;
  for (auto* p : pes_)
    if (const auto t = first_traced(*p, "in", restarted); t >= 0) through = std::min(through, t);
  // Both bounds count the gateway's own time: the wall time less the time
  // the machine ran nothing of ours (StallMeter).
  const auto from = uml() ? listening : restarted;
  const auto stalled = meter_.stalled(from, through);
  std::printf("[restart] listening %lld ms after the restart, traffic %lld ms after listening (at the SS7 side %lld); "
              "the machine ran nothing of ours for %lld ms of it\n",
              static_cast<long long>(listening - restarted), static_cast<long long>(through - listening),
              static_cast<long long>(traffic - listening), static_cast<long long>(stalled));
  EXPECT_LE(through - from - stalled, 1000) << "traffic later than a second after the restart";
  EXPECT_LE(traffic - restarted - meter_.stalled(restarted, traffic), uml() ? 5000 : 2000);
  EXPECT_GT(num(s, "calls_attempted"), uml() ? 150 : 800);
  EXPECT_EQ(unknown_at_controllers(), 0) << "a call in progress reached a controller that does not hold it";
  // What was handed back at the kill goes out once the gateway is back.
  expect_duplicates_only_from_hand_back(gen, s, {{killed - kKillWindow, traffic + 500}});
  // What the killed sgd held is lost, as with any crashed host: IAMs (or
  // their answers) that left just before the kill; RELs are repeated (T1).
  const auto lost = event_after(gen, "sg-lost", 0, killed - kKillWindow);
  const std::pair<std::int64_t, std::int64_t> window{in_flight_since(gen, killed), std::max(killed, lost) + 50};
  const auto failed = failed_calls(gen, {window}, controllers());
  std::printf("[restart] failed calls: %lld in the kill's in-flight window (%lld ms), %lld outside; RELs repeated %lld\n",
              static_cast<long long>(failed.inside), static_cast<long long>(window.second - window.first),
              static_cast<long long>(failed.outside), static_cast<long long>(num(s, "releases_repeated", 0)));
  EXPECT_EQ(failed.outside, 0) << "calls failed whose last message did not leave at the kill";
  EXPECT_LE(failed.inside, in_flight_allowed(uml() ? 40 : 200, window)) << "more lost at the kill than it could hold";
  EXPECT_EQ(num(s, "calls_failed"), failed.inside + failed.outside);
  EXPECT_EQ(num(s, "calls_unfinished"), 0);
  // What the SS7 side held outlasted its hold: those calls failed on its
  // side, not in the gateway, whatever window their IAM left in.
  EXPECT_EQ(num(s, "discarded"), 0) << "the outage outlasted the SS7 side's --hold-while-down";
  EXPECT_NE(sgtest::read_file(sgd->log()).find("the list equals the one the previous run placed by: settled"),
            std::string::npos)
      << "the restarted sgd did not settle on its remembered list";
}

// A warm standby (--standby-lock), loaded and configured on the running
// sgd's ports, waits while that one runs and opens its listeners the moment
// it is killed: no process start in the restart. Calls flow again through
// it, and the calls in progress continue on their controllers.
TEST_F(SgdHitless, AWarmStandbyTakesOverTheMomentTheRunningSgdIsKilled) {
  SgdSpec spec;
  spec.pool_memory = work_->path("sgd.memory");
  spec.standby_lock = work_->path("sgd.lock");
  auto& sgd = keep(start_sgd(*work_, spec));
  ASSERT_TRUE(sgd.started()) << sgd.failure();
  start_pes({local_ip() + ":" + std::to_string(sgd.port("asap"))});
  ASSERT_TRUE(pes_linked(1, 8s));
  const auto standby_spec = again(spec, sgd);
  const auto cfg = work_->path("standby.cfg");
  std::ofstream(cfg) << sgd_config(standby_spec);
  const auto ports_file = work_->path("standby.ports");
  auto standby_child = sgtest::ChildProcess::spawn(sgd_argv(standby_spec, cfg, ports_file), work_->path("standby.log"));
  ASSERT_TRUE(standby_child);
  // Kept with the others: its log is shown (and explains failed calls) too.
  auto* standby = &keep(Process(std::move(*standby_child), work_->path("standby.log"))).child();
  auto& gen = keep(start_ss7gen(*work_, sgd.port("m3ua"),
                                // As in the restart test: the standby was seen to listen
                                // 4.3 s after the kill in a loaded UML.
                                {"--cps", uml() ? "40" : "200", "--hold", "300", "--answer-timeout", "15000", "--t1", "2000",
                                 "--duration", "4", "--aggressive", "--hold-while-down", "10000", "--drain-timeout", "16000",
                                 "--stats-interval", "100"}));
  gen_ = &gen;
  ASSERT_TRUE(gen.wait_line("event", "active", 10s));
  const auto t0 = num(events(gen.log(), "active").front(), "unix_ms");
  sleep_until(t0 + 1500);
  std::string why;
  EXPECT_FALSE(sgtest::wait_for_ports_file(ports_file, *standby, 10ms, &why)) << "the standby started beside the running sgd";
  EXPECT_TRUE(standby->running());
  const auto killed = unix_ms_now();
  sgd.kill_now();
  marks_.emplace_back("kill", killed);
  auto ports = sgtest::wait_for_ports_file(ports_file, *standby, 10s, &why);
  ASSERT_TRUE(ports) << why << "\n" << sgtest::read_file(work_->path("standby.log"));
  const auto listening = unix_ms_now();
  EXPECT_EQ(ports->at("m3ua"), sgd.port("m3ua"));
  auto s = finish(gen, 30s);
  const auto traffic = event_after(gen, "sg-traffic", 0, killed);
  std::printf("[standby] killed: the standby listening %lld ms later, traffic %lld ms after the kill; calls %s, failed %s\n",
              static_cast<long long>(listening - killed), static_cast<long long>(traffic < 0 ? -1 : traffic - killed),
              s["calls_attempted"].c_str(), s["calls_failed"].c_str());
  ASSERT_GE(traffic, 0) << "no traffic through the standby";
  // Inside UML on a loaded machine the SS7 side's reconnection and the
  // controllers' links were seen to take 2 s; tests/bench/sgd-hitless.sh
  // --standby measures the take-over over repeated kills.
  const auto stalled = meter_.stalled(killed, traffic);
  std::printf("[standby] the machine ran nothing of ours for %lld ms of it\n", static_cast<long long>(stalled));
  EXPECT_LE(traffic - killed - stalled, uml() ? 4000 : 1000) << "traffic later than a second after the kill";
  EXPECT_EQ(unknown_at_controllers(), 0) << "a call in progress reached a controller that does not hold it";
  const auto lost = event_after(gen, "sg-lost", 0, killed - kKillWindow);
  const std::pair<std::int64_t, std::int64_t> window{in_flight_since(gen, killed), std::max(killed, lost) + 50};
  const auto failed = failed_calls(gen, {window}, controllers());
  EXPECT_EQ(failed.outside, 0) << "calls failed whose last message did not leave at the kill";
  EXPECT_LE(failed.inside, in_flight_allowed(uml() ? 40 : 200, window)) << "more lost at the kill than it could hold";
  EXPECT_EQ(num(s, "discarded"), 0) << "the outage outlasted the SS7 side's --hold-while-down";
  standby->signal(SIGKILL);
  (void)standby->wait(2s);
}

// Two sgd with peered co-located registrars, the controllers registered
// with both, ss7-gen load-sharing over both by SLS. sgd B is killed, comes
// back and takes its share back; then sgd A is killed: the SS7 side moves
// the traffic each time, and no call fails (over kernel SCTP: none but an
// IAM the killed gateway's kernel acknowledged in the instant before the
// kill), no controller sees an unknown call, no duplicate reaches the SS7
// side.
TEST_F(SgdHitless, EitherOfAMatedPairDiesAndComesBackWithoutAFailedCall) {
  SgdSpec spec_a;
  spec_a.enrp_allow = {local_ip()};
  spec_a.server_id = 0x5341;
  auto& a = keep(start_sgd(*work_, spec_a, "sgd-a"));
  ASSERT_TRUE(a.started()) << a.failure();
  SgdSpec spec_b;
  spec_b.enrp_peers = {local_ip() + " " + std::to_string(a.port("enrp"))};
  spec_b.server_id = 0x5342;
  auto* b = &keep(start_sgd(*work_, spec_b, "sgd-b"));
  ASSERT_TRUE(b->started()) << b->failure();
  start_pes({local_ip() + ":" + std::to_string(a.port("asap")), local_ip() + ":" + std::to_string(b->port("asap"))});
  ASSERT_TRUE(pes_linked(2, 10s)) << "every controller must be linked to both gateways";

  const std::string cps = uml() ? "40" : "200";
  auto& gen = keep(start_ss7gen(*work_, a.port("m3ua"),
                                {"--mate", local_ip() + ":" + std::to_string(b->port("m3ua")), "--cps", cps, "--hold",
                                 "300", "--answer-timeout", "4000", "--t1", "2000", "--sccp-rate", uml() ? "10" : "50", "--duration",
                                 // In UML an upper bound: origination stops (SIGTERM) once
                                 // A's loss has been seen; B's restart took 7.6 s there under
                                 // load, and A was killed after a fixed 10 s had run out.
                                 uml() ? "40" : "7", "--aggressive", "--hold-while-down", "2000", "--stats-interval", "100"}));
  gen_ = &gen;
  ASSERT_TRUE(gen.wait_line("event", "active", 10s));
  const auto t0 = num(events(gen.log(), "active").front(), "unix_ms");
  sleep_until(t0 + 1500);
  const auto b_killed = unix_ms_now();
  b->kill_now();
  marks_.emplace_back("B-kill", b_killed);
  sleep_until(b_killed + 1500);
  const auto b_restarted = unix_ms_now();
  marks_.emplace_back("B-restart", b_restarted);
  spec_b = again(spec_b, *b);
  b = &keep(start_sgd(*work_, spec_b, "sgd-b-restarted"));
  ASSERT_TRUE(b->started()) << b->failure();
  // A goes once B carries its share again (and calls have been set up
  // through it since).
  // The restarted process's start inside UML on a loaded machine takes up
  // to a few seconds of this.
  const auto b_back = wait_event_after(gen, "sg-traffic", 1, b_restarted, 15s);
  ASSERT_GE(b_back, 0) << "the restarted sgd took no traffic back";
  sleep_until(b_back + 700);
  const auto a_killed = unix_ms_now();
  a.kill_now();
  marks_.emplace_back("A-kill", a_killed);
  if (uml()) {
    // Calls through B alone for a while after the SS7 side moved them.
    const auto a_lost_seen = wait_event_after(gen, "sg-lost", 0, a_killed, 10s);
    sleep_until((a_lost_seen < 0 ? unix_ms_now() : a_lost_seen) + 1500);
    EXPECT_TRUE(gen.child().signal(SIGTERM));
  }

  auto s = finish(gen, 40s);
  std::printf("[pair] B killed, restarted 1.5 s later (its share back after %lld ms), A killed: calls %s, failed %s, "
              "unexpected at the SS7 side %s, re-sent %s, changebacks %s\n",
              static_cast<long long>(b_back < 0 ? -1 : b_back - b_restarted), s["calls_attempted"].c_str(),
              s["calls_failed"].c_str(), s["unexpected"].c_str(), s["resent"].c_str(), s["sg_changebacks"].c_str());
  EXPECT_GT(num(s, "calls_attempted"), uml() ? 200 : 1000);
  EXPECT_GE(event_after(gen, "sg-lost", 1, b_killed), 0);
  EXPECT_GE(event_after(gen, "sg-lost", 0, a_killed), 0);
  // Each kill's in-flight window ends when the SS7 side saw the loss.
  const auto b_lost = event_after(gen, "sg-lost", 1, b_killed - kKillWindow);
  const auto a_lost = event_after(gen, "sg-lost", 0, a_killed - kKillWindow);
  const std::pair<std::int64_t, std::int64_t> b_window{in_flight_since(gen, b_killed), std::max(b_killed, b_lost) + 20};
  const std::pair<std::int64_t, std::int64_t> a_window{in_flight_since(gen, a_killed), std::max(a_killed, a_lost) + 20};
  const auto failed = failed_calls(gen, {b_window, a_window}, controllers());
  std::printf("[pair] failed calls: %lld in the kills' in-flight windows, %lld outside\n",
              static_cast<long long>(failed.inside), static_cast<long long>(failed.outside));
  EXPECT_EQ(failed.outside, 0) << "a call failed whose last message did not leave at a kill";
  // Each gateway carries half of the calls.
  EXPECT_LE(failed.inside, in_flight_allowed(std::stod(cps) / 2, b_window) + in_flight_allowed(std::stod(cps) / 2, a_window))
      << "more lost at the kills than the gateways could hold";
  EXPECT_EQ(num(s, "calls_failed"), failed.inside + failed.outside);
  EXPECT_EQ(num(s, "calls_completed") + num(s, "calls_failed"), num(s, "calls_attempted"));
  EXPECT_EQ(unknown_at_controllers(), 0) << "a call reached a controller that does not hold it";
  expect_duplicates_only_from_hand_back(gen, s, {{b_killed - kKillWindow, std::max(b_killed, b_lost) + 200},
                                                 {a_killed - kKillWindow, std::max(a_killed, a_lost) + 200}});
}

}  // namespace
}  // namespace e2e
