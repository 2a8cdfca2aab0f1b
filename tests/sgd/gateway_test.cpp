// The gateway in one process with its co-located registrar, three gateway
// controllers registered through ASAP and an SS7 peer: distribution, CIC
// stickiness, failover with cookie before data and nothing lost, pool
// unavailable (DUNA) and back (DAVA), operator drain. Host: TCP mapping;
// UML: kernel SCTP (SG_TEST_TRANSPORT=sctp).
#include <gtest/gtest.h>

#include <spdlog/sinks/base_sink.h>

#include <algorithm>
#include <mutex>
#include <set>

#include "harness.hpp"
#include "rserpool/base/log.hpp"

namespace sgdtest {
namespace {

struct GatewayFixture : ::testing::Test {
  boost::asio::io_context io;
  std::unique_ptr<sg::Gateway> gw;
  std::vector<std::unique_ptr<TestPe>> pes;
  std::unique_ptr<Ss7Peer> peer;

  void start_gateway(sg::SgConfig cfg) {
    auto g = sg::Gateway::start(io, std::move(cfg), sg::GatewayOptions{42});
    ASSERT_TRUE(g) << g.error();
    gw = std::move(*g);
    ASSERT_TRUE(gw->ss7_port());
    ASSERT_TRUE(gw->registrar_asap_port());
  }
  TestPe& add_pe(rserpool::PeIdentifier id) {
    pes.push_back(std::make_unique<TestPe>(io, rserpool::TransportAddress{loopback(), *gw->registrar_asap_port()}, id));
    pes.back()->start();
    return *pes.back();
  }
  const sg::PoolDistributor& pool() const { return *gw->distributor("gwc"); }
  std::size_t active_members() const {
    std::size_t n = 0;
    for (auto id : pool().members())
      if (pool().state_of(id) == sg::MemberState::active) ++n;
    return n;
  }
  void start_peer() {
    peer = std::make_unique<Ss7Peer>(io, *gw->ss7_port());
    ASSERT_TRUE(run_until(io, [&] { return peer->active(); }, 5s)) << gw->show_ss7();
  }
  TestPe* pe_by_id(rserpool::PeIdentifier id) {
    for (auto& p : pes)
      if (p->id() == id) return p.get();
    return nullptr;
  }
  void TearDown() override {
    peer.reset();
    pes.clear();
    gw.reset();
    run_for(io, 20ms);
  }
};

std::map<std::uint16_t, std::set<rserpool::PeIdentifier>> owners(const std::vector<std::unique_ptr<TestPe>>& pes) {
  std::map<std::uint16_t, std::set<rserpool::PeIdentifier>> o;
  for (const auto& p : pes)
    for (const auto& e : p->events)
      if (!e.cookie_echo && e.cic) o[*e.cic].insert(p->id());
  return o;
}

TEST_F(GatewayFixture, DistributesCallsOverThePoolAndKeepsEachCircuitOnOnePe) {
  start_gateway(test_config());
  for (rserpool::PeIdentifier id : {0x11111111u, 0x22222222u, 0x33333333u}) add_pe(id);
  ASSERT_TRUE(run_until(io, [&] { return active_members() == 3; }, 8s)) << gw->show_pools();
  start_peer();

  constexpr std::uint16_t kCalls = 60;
  for (std::uint16_t cic = 1; cic <= kCalls; ++cic) ASSERT_TRUE(peer->send(isup(sg::ss7::encode_iam(cic, "4930123"), cic)));
  for (std::uint16_t cic = 1; cic <= kCalls; ++cic) ASSERT_TRUE(peer->send(isup(sg::ss7::encode_acm(cic), cic)));
  std::size_t total = 0;
  ASSERT_TRUE(run_until(io, [&] {
    total = 0;
    for (auto& p : pes) total += p->data_count;
    return total == 2 * kCalls;
  })) << gw->show_pools();

  const auto o = owners(pes);
  ASSERT_EQ(o.size(), kCalls);
  for (const auto& [cic, who] : o) EXPECT_EQ(who.size(), 1U) << "CIC " << cic << " went to several PEs";
  for (auto& p : pes) EXPECT_GE(p->data_count, 2U * kCalls / 6) << "PE " << std::hex << p->id() << " starved";
  const auto flows = gw->show_flows("gwc");
  EXPECT_NE(flows.find("pool gwc: 60 flow(s)"), std::string::npos) << flows;
  EXPECT_NE(flows.find(" cic "), std::string::npos) << flows;

  // The controller answers: the gateway relays it to the SS7 side.
  auto& first = *pes.front();
  const auto cic = *first.events.front().cic;
  mxua::Data anm = isup(sg::ss7::encode_anm(cic), cic, sg::gwc_link::kRoutingContext);
  std::swap(anm.protocol_data.opc, anm.protocol_data.dpc);
  first.send(anm);
  ASSERT_TRUE(run_until(io, [&] { return peer->received.size() == 1; })) << gw->show_counters();
  EXPECT_EQ(peer->received[0].protocol_data.user_data, anm.protocol_data.user_data);
  EXPECT_EQ(gw->counters().ss7_in.messages, 2U * kCalls);
  EXPECT_EQ(gw->counters().ss7_out.messages, 1U);
  EXPECT_EQ(pool().counters().accepted, 2U * kCalls);
  EXPECT_EQ(pool().counters().sent, 2U * kCalls);
  const auto table = gw->show_counters();
  EXPECT_NE(table.find("sg_ss7_messages_total{direction=\"in\"} 120"), std::string::npos) << table;
}

TEST_F(GatewayFixture, FailedPeFlowsMoveToOneHeirThatGetsTheCookieFirstAndNothingIsLost) {
  start_gateway(test_config());
  for (rserpool::PeIdentifier id : {0x11111111u, 0x22222222u, 0x33333333u}) add_pe(id);
  ASSERT_TRUE(run_until(io, [&] { return active_members() == 3; }, 8s)) << gw->show_pools();
  start_peer();

  constexpr std::uint16_t kCalls = 48;
  for (std::uint16_t cic = 1; cic <= kCalls; ++cic) ASSERT_TRUE(peer->send(isup(sg::ss7::encode_iam(cic, "4930123"), cic)));
  ASSERT_TRUE(run_until(io, [&] {
    std::size_t n = 0;
    for (auto& p : pes) n += p->data_count;
    return n == kCalls;
  }));
  const auto before = owners(pes);
  // The victim: the PE with the most calls. It hands the gateway its state.
  TestPe* victim = pes.front().get();
  for (auto& p : pes)
    if (p->data_count > victim->data_count) victim = p.get();
  std::set<std::uint16_t> victim_cics;
  for (const auto& [cic, who] : before)
    if (who.count(victim->id())) victim_cics.insert(cic);
  ASSERT_FALSE(victim_cics.empty());
  ASSERT_TRUE(victim->send_cookie("calls-of-victim"));
  ASSERT_TRUE(run_until(io, [&] { return gw->collect().size() > 0 && pool().counters().accepted == kCalls; }));
  run_for(io, 50ms);  // the cookie crosses

  // Mid-stream: the victim dies while the second message of every call is sent.
  for (std::uint16_t cic = 1; cic <= kCalls; ++cic) {
    ASSERT_TRUE(peer->send(isup(sg::ss7::encode_acm(cic), cic)));
    if (cic == kCalls / 2) {
      run_for(io, 5ms);
      victim->stop();
    }
  }
  // Every ACM reaches exactly one live PE (or the victim before it died).
  auto acm_receivers = [&](std::uint16_t cic) {
    std::set<rserpool::PeIdentifier> who;
    for (const auto& p : pes)
      for (const auto& e : p->events)
        if (!e.cookie_echo && e.cic == cic && sg::ss7::parse_isup_header(e.message.data)->message_type == static_cast<std::uint8_t>(sg::ss7::IsupMessageType::acm))
          who.insert(p->id());
    return who;
  };
  // Over the TCP mapping the hand-back is exact: every ACM arrives. Kernel
  // SCTP hands back only what never reached the kernel; what the dead PE's
  // kernel had received but its application had not read dies with it,
  // as with any crashed host (the ACMs of the victim's calls may be lost).
  const bool exact = !sctp_backend();
  ASSERT_TRUE(run_until(io, [&] {
    for (std::uint16_t cic = 1; cic <= kCalls; ++cic)
      if (acm_receivers(cic).empty() && (exact || !victim_cics.count(cic))) return false;
    return true;
  }, 8s)) << gw->show_pools();
  run_for(io, exact ? 100ms : 1000ms);

  // One heir for all of the victim's calls whose ACM was not delivered to it.
  std::set<rserpool::PeIdentifier> heirs;
  for (auto cic : victim_cics)
    for (auto who : acm_receivers(cic))
      if (who != victim->id()) heirs.insert(who);
  ASSERT_EQ(heirs.size(), 1U) << gw->show_pools();
  TestPe& heir = *pe_by_id(*heirs.begin());
  // The heir got the victim's cookie before any of the victim's calls.
  std::optional<std::size_t> echo_at, first_moved_at;
  for (std::size_t i = 0; i < heir.events.size(); ++i) {
    const auto& e = heir.events[i];
    if (e.cookie_echo && std::string(e.cookie.begin(), e.cookie.end()) == "calls-of-victim" && !echo_at) echo_at = i;
    if (!e.cookie_echo && e.cic && victim_cics.count(*e.cic) && !first_moved_at) first_moved_at = i;
  }
  ASSERT_TRUE(echo_at) << "no COOKIE_ECHO at the heir";
  ASSERT_TRUE(first_moved_at);
  EXPECT_LT(*echo_at, *first_moved_at);
  // SCTP orders per stream only: every moved call's data must find the
  // cookie ahead of it on its own stream (repeated per stream, never on
  // stream 0, which carries no DATA).
  std::set<std::uint16_t> cookie_streams;
  std::size_t moved_checked = 0;
  for (const auto& e : heir.events) {
    if (e.cookie_echo && std::string(e.cookie.begin(), e.cookie.end()) == "calls-of-victim") {
      EXPECT_NE(e.stream, 0U) << "COOKIE_ECHO on stream 0, where no DATA follows it";
      EXPECT_TRUE(cookie_streams.insert(e.stream).second) << "cookie twice on stream " << e.stream;
    } else if (!e.cookie_echo && e.cic && victim_cics.count(*e.cic)) {
      ++moved_checked;
      EXPECT_TRUE(cookie_streams.count(e.stream)) << "CIC " << *e.cic << " on stream " << e.stream
                                                  << " arrived before the cookie on that stream";
    }
  }
  EXPECT_GT(moved_checked, 0U);
  // Calls of the survivors did not move.
  for (const auto& [cic, who] : before) {
    if (who.count(victim->id())) continue;
    EXPECT_EQ(acm_receivers(cic), who) << "CIC " << cic;
  }

  const auto& c = pool().counters();
  EXPECT_EQ(c.accepted, 2U * kCalls);
  EXPECT_EQ(c.dropped(sg::DropReason::pool_unavailable) + c.dropped(sg::DropReason::queue_full), 0U);
  EXPECT_EQ(c.failovers, 1U);
  EXPECT_EQ(c.cookies_echoed, 1U);
  EXPECT_EQ(c.flows_moved, victim_cics.size());
  // Unreachable reported once, even though the gateway retries the PE.
  run_for(io, 1200ms);
  const auto samples = gw->collect();
  auto value = [&](const std::string& name) {
    for (const auto& s : samples)
      if (s.name == name) return s.value;
    return -1.0;
  };
  EXPECT_EQ(value("sg_unreachable_reported_total"), 1.0);
  EXPECT_EQ(value("sg_failovers_total"), 1.0);
}

TEST_F(GatewayFixture, HungPeIsDetectedByM3uaBeatAndItsCallsMove) {
  start_gateway(test_config());
  for (rserpool::PeIdentifier id : {0x11111111u, 0x22222222u}) add_pe(id);
  ASSERT_TRUE(run_until(io, [&] { return active_members() == 2; }, 8s)) << gw->show_pools();
  start_peer();
  for (std::uint16_t cic = 1; cic <= 10; ++cic) ASSERT_TRUE(peer->send(isup(sg::ss7::encode_iam(cic, "49"), cic)));
  ASSERT_TRUE(run_until(io, [&] { return pes[0]->data_count + pes[1]->data_count == 10; }));
  TestPe& hung = *pes[0];
  TestPe& other = *pes[1];
  ASSERT_GT(hung.data_count, 0U);
  const auto moved = hung.data_count;
  hung.hang();  // the transport still answers its own heartbeats
  const auto t0 = Clock::now();
  ASSERT_TRUE(run_until(io, [&] { return pool().counters().failovers == 1; }, 3s)) << gw->show_pools();
  const auto detection = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  // Aggressive profile: 2 x 500 ms BEAT. The exact bound is the link
  // core's, tested in virtual time (AspClient.BeatAckEchoesAndTimeoutAtTwiceTbeat);
  // here, over sockets on a loaded machine (1,538 ms seen inside UML), only
  // that BEAT, not something faster or much later, failed the link.
  EXPECT_LE(detection, 2500ms) << "aggressive profile: 2 x 500 ms BEAT";
  EXPECT_GE(detection, 400ms) << "faster than BEAT allows: something else failed the link";
  // The hung PE's calls continue on the other one.
  for (std::uint16_t cic = 1; cic <= 10; ++cic) ASSERT_TRUE(peer->send(isup(sg::ss7::encode_rel(cic), cic)));
  ASSERT_TRUE(run_until(io, [&] { return other.data_count == (10 - moved) + 10; })) << gw->show_pools();
  EXPECT_EQ(pool().counters().flows_moved, moved);
}

TEST_F(GatewayFixture, PoolWithoutPeSendsDunaThenDavaWhenAPeArrives) {
  start_gateway(test_config(300ms));
  start_peer();
  ASSERT_TRUE(peer->send(isup(sg::ss7::encode_iam(7, "4930"), 7)));
  // The message waits pool-wait, then is dropped; DUNA was due already.
  ASSERT_TRUE(run_until(io, [&] { return pool().counters().dropped(sg::DropReason::pool_unavailable) == 1; }, 3s)) << gw->show_pools();
  ASSERT_TRUE(run_until(io, [&] { return !peer->destinations.empty(); }, 1s)) << gw->show_pools();
  EXPECT_EQ(peer->destinations[0].availability, mxua::DestinationAvailability::Unavailable);
  EXPECT_EQ(peer->destinations[0].destination.pc.value, kGatewayPc);
  EXPECT_EQ(peer->destinations.size(), 1U) << "DUNA once";
  EXPECT_GE(gw->counters().duna_sent, 1U);

  add_pe(0x44444444u);
  ASSERT_TRUE(run_until(io, [&] { return peer->destinations.size() >= 2; }, 8s)) << gw->show_pools();
  EXPECT_EQ(peer->destinations[1].availability, mxua::DestinationAvailability::Available);
  EXPECT_EQ(gw->counters().dava_sent, 1U);
  ASSERT_TRUE(peer->send(isup(sg::ss7::encode_iam(8, "4930"), 8)));
  ASSERT_TRUE(run_until(io, [&] { return pes[0]->data_count == 1; }));
}

// Start-up with an empty pool: the SS7 side must not have to send traffic
// into the void to learn it. DUNA at once (a pool that has had no active PE
// since start is unavailable without waiting for pool-wait), once, and DAVA
// when a PE's association is up.
TEST_F(GatewayFixture, PoolEmptyAtStartUpIsAnnouncedWithoutAnyTraffic) {
  start_gateway(test_config(300ms));
  start_peer();
  ASSERT_TRUE(run_until(io, [&] { return !peer->destinations.empty(); }, 3s)) << gw->show_pools();
  EXPECT_EQ(peer->destinations[0].availability, mxua::DestinationAvailability::Unavailable);
  EXPECT_EQ(peer->destinations[0].destination.pc.value, kGatewayPc);
  EXPECT_EQ(pool().counters().accepted, 0U);
  EXPECT_FALSE(pool().pool_available());
  run_for(io, 200ms);
  EXPECT_EQ(peer->destinations.size(), 1U) << "DUNA once, not per pool-wait period";

  add_pe(0x44444444u);
  ASSERT_TRUE(run_until(io, [&] { return peer->destinations.size() >= 2; }, 8s)) << gw->show_pools();
  EXPECT_EQ(peer->destinations[1].availability, mxua::DestinationAvailability::Available);
  EXPECT_TRUE(pool().pool_available());
}

// The SS7 peer becomes ASP-ACTIVE after the pool was announced unavailable
// (to nobody): it hears DUNA at activation, since the pool is still empty.
TEST_F(GatewayFixture, AnAspActivatingWhileThePoolIsEmptyHearsDuna) {
  start_gateway(test_config(200ms));
  ASSERT_TRUE(run_until(io, [&] { return gw->counters().duna_sent == 1; }, 3s)) << gw->show_pools();
  run_for(io, 100ms);
  start_peer();
  ASSERT_TRUE(run_until(io, [&] { return !peer->destinations.empty(); }, 2s)) << gw->show_ss7();
  EXPECT_EQ(peer->destinations[0].availability, mxua::DestinationAvailability::Unavailable);
  EXPECT_EQ(peer->destinations[0].destination.pc.value, kGatewayPc);
  add_pe(0x44444444u);
  ASSERT_TRUE(run_until(io, [&] { return peer->destinations.size() >= 2; }, 8s)) << gw->show_pools();
  EXPECT_EQ(peer->destinations[1].availability, mxua::DestinationAvailability::Available);
  // A peer that activates once the pool is back hears nothing.
  auto late = std::make_unique<Ss7Peer>(io, *gw->ss7_port());
  ASSERT_TRUE(run_until(io, [&] { return late->active(); }, 5s));
  run_for(io, 100ms);
  EXPECT_TRUE(late->destinations.empty());
}

// A controller crashed, but its registration lives on (the registrar still
// lists it): the gateway fences it (no reconnection before the registrar's
// audit bound, 3 s with the aggressive profile), then retries with a
// back-off, and reports it unreachable once for the whole failure, not once
// per failed retry (the registrar would drop it after MAX-BAD-PE-REPORT
// retries otherwise).
TEST_F(GatewayFixture, ListedButDeadPeIsReportedUnreachableOnceAcrossFailedRetries) {
  start_gateway(test_config());
  for (rserpool::PeIdentifier id : {0x11111111u, 0x22222222u}) add_pe(id);
  ASSERT_TRUE(run_until(io, [&] { return active_members() == 2; }, 8s)) << gw->show_pools();
  start_peer();
  for (std::uint16_t cic = 1; cic <= 10; ++cic) ASSERT_TRUE(peer->send(isup(sg::ss7::encode_iam(cic, "49"), cic)));
  ASSERT_TRUE(run_until(io, [&] { return pes[0]->data_count + pes[1]->data_count == 10; }));
  TestPe& dead = *pes[0];
  ASSERT_GT(dead.data_count, 0U);
  dead.crash_keeping_registration();
  auto value = [&](const std::string& name, const std::string& label = {}) {
    for (const auto& s : gw->collect())
      if (s.name == name && (label.empty() || (s.labels.count("pe") && s.labels.at("pe") == label))) return s.value;
    return -1.0;
  };
  ASSERT_TRUE(run_until(io, [&] { return value("sg_pe_link_failures_total", "11111111") == 1.0; }, 3s));
  // Fenced: no attempt while the registrar may still be auditing it.
  run_for(io, 2s);
  EXPECT_EQ(value("sg_pe_link_failures_total", "11111111"), 1.0) << "reconnected before the audit bound";
  EXPECT_EQ(value("sg_pool_fenced_total"), 1.0) << gw->show_counters();
  // Then at the audit bound (3 s) and 0.5, 1 s after that: three more fail.
  ASSERT_TRUE(run_until(io, [&] { return value("sg_pe_link_failures_total", "11111111") >= 4.0; }, 8s))
      << gw->show_pools();
  EXPECT_EQ(value("sg_unreachable_reported_total"), 1.0) << gw->show_counters();
  EXPECT_EQ(value("sg_failovers_total"), 1.0) << "failed retries are not new failovers";
  EXPECT_GE(value("sg_pool_audits_passed_total"), 1.0);
  EXPECT_NE(gw->show_registrar().find("unreachable-reports 1 "), std::string::npos) << gw->show_registrar();
  // Still listed, still retried.
  EXPECT_TRUE(pool().state_of(dead.id())) << gw->show_pools();
  EXPECT_NE(gw->show_pools().find("11111111"), std::string::npos);
}

// Issue 14: a controller stopped under calls is failed over by M3UA BEAT;
// its association is aborted and not reopened before the registrar's audit
// bound, although the controller keeps accepting; once the bound passed
// with the controller still registered, it is reconnected and serves again.
TEST_F(GatewayFixture, AFrozenControllerIsFencedThenReconnectedAfterTheAuditBound) {
  start_gateway(test_config());
  for (rserpool::PeIdentifier id : {0x11111111u, 0x22222222u}) add_pe(id);
  ASSERT_TRUE(run_until(io, [&] { return active_members() == 2; }, 8s)) << gw->show_pools();
  start_peer();
  for (std::uint16_t cic = 1; cic <= 10; ++cic) ASSERT_TRUE(peer->send(isup(sg::ss7::encode_iam(cic, "49"), cic)));
  ASSERT_TRUE(run_until(io, [&] { return pes[0]->data_count + pes[1]->data_count == 10; }));
  TestPe& frozen = *pes[0];
  ASSERT_EQ(frozen.accepts, 1U);
  frozen.freeze();
  ASSERT_TRUE(run_until(io, [&] { return pool().counters().failovers == 1; }, 3s)) << gw->show_pools();
  EXPECT_EQ(pool().state_of(frozen.id()), sg::MemberState::failed);
  EXPECT_EQ(pool().counters().fenced, 1U);
  run_for(io, 1500ms);
  EXPECT_EQ(frozen.accepts, 1U) << "reconnected before the registrar could audit it";
  ASSERT_TRUE(run_until(io, [&] { return pool().state_of(frozen.id()) == sg::MemberState::active; }, 6s))
      << gw->show_pools();
  EXPECT_EQ(frozen.accepts, 2U);
  EXPECT_EQ(pool().counters().audits_passed, 1U);
  EXPECT_NE(gw->show_pools().find("fenced 1 audits-passed 1"), std::string::npos) << gw->show_pools();
}

// `point-code-format ansi`: ANSI ISUP CICs are 14 bits, so circuits 4096
// apart are two circuits with two calls, on two flows.
TEST_F(GatewayFixture, AnsiCircuitsFourThousandNinetySixApartAreTwoFlows) {
  auto cfg = test_config();
  cfg.pc_format = mxua::PcFormat::Ansi;
  start_gateway(cfg);
  add_pe(0x11111111u);
  ASSERT_TRUE(run_until(io, [&] { return active_members() == 1; }, 8s)) << gw->show_pools();
  start_peer();
  ASSERT_TRUE(peer->send(isup(sg::ss7::encode_iam(5, "49"), 5)));
  ASSERT_TRUE(peer->send(isup(sg::ss7::encode_iam(4101, "49"), 4101)));
  ASSERT_TRUE(run_until(io, [&] { return pes[0]->data_count == 2; }));
  EXPECT_NE(gw->show_flows("gwc").find("pool gwc: 2 flow(s)"), std::string::npos) << gw->show_flows("gwc");
  EXPECT_NE(gw->show_pools().find("ISUP CIC ANSI 14-bit"), std::string::npos) << gw->show_pools();
  // The release of 4101 ends that call only.
  ASSERT_TRUE(peer->send(isup(sg::ss7::encode_rlc(4101), 4101)));
  ASSERT_TRUE(run_until(io, [&] { return pes[0]->data_count == 3; }));
  EXPECT_EQ(pool().flow_count(), 1U);
}

// Log lines of one category, kept for the duration of a test.
class CapturedLog {
  struct Sink : spdlog::sinks::base_sink<std::mutex> {
    std::vector<std::pair<spdlog::level::level_enum, std::string>> lines;
    void sink_it_(const spdlog::details::log_msg& m) override {
      lines.emplace_back(m.level, std::string(m.payload.data(), m.payload.size()));
    }
    void flush_() override {}
  };

 public:
  explicit CapturedLog(const char* category)
      : logger_(rserpool::log::get(category)), sink_(std::make_shared<Sink>()), level_(logger_->level()) {
    logger_->sinks().push_back(sink_);
    logger_->set_level(spdlog::level::debug);
  }
  ~CapturedLog() {
    auto& sinks = logger_->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
    logger_->set_level(level_);
  }
  std::size_t count(spdlog::level::level_enum level, const std::string& text) const {
    return static_cast<std::size_t>(std::count_if(sink_->lines.begin(), sink_->lines.end(), [&](const auto& l) {
      return l.first == level && l.second.find(text) != std::string::npos;
    }));
  }

 private:
  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<Sink> sink_;
  spdlog::level::level_enum level_;
};

// The pool user re-resolves a watched pool about every second; while the
// pool is empty each attempt fails the same way. One info line says so,
// the repeats go to debug, and the pool's return is said at info again.
TEST_F(GatewayFixture, AnEmptyPoolsRepeatedResolutionFailureIsLoggedAtInfoOnce) {
  CapturedLog log("asap");
  start_gateway(test_config());
  run_for(io, 3s);
  const std::string failed = "resolution of gwc failed";
  EXPECT_EQ(log.count(spdlog::level::info, failed), 1U);
  EXPECT_GE(log.count(spdlog::level::debug, failed), 2U) << "the repeats are still there at debug level";
  add_pe(0x11111111u);
  ASSERT_TRUE(run_until(io, [&] { return active_members() == 1; }, 8s)) << gw->show_pools();
  EXPECT_EQ(log.count(spdlog::level::info, "gwc resolves again"), 1U);
}

TEST_F(GatewayFixture, DrainedPeKeepsItsCallsUntilReleasedAndTakesNoNewOnes) {
  start_gateway(test_config());
  for (rserpool::PeIdentifier id : {0x11111111u, 0x22222222u}) add_pe(id);
  ASSERT_TRUE(run_until(io, [&] { return active_members() == 2; }, 8s)) << gw->show_pools();
  start_peer();
  for (std::uint16_t cic = 1; cic <= 10; ++cic) ASSERT_TRUE(peer->send(isup(sg::ss7::encode_iam(cic, "49"), cic)));
  ASSERT_TRUE(run_until(io, [&] { return pes[0]->data_count + pes[1]->data_count == 10; }));
  TestPe& drained = *pes[0];
  std::set<std::uint16_t> kept;
  for (const auto& e : drained.events)
    if (e.cic) kept.insert(*e.cic);
  ASSERT_FALSE(kept.empty());

  ASSERT_TRUE(gw->drain("", drained.id(), std::nullopt));
  EXPECT_FALSE(gw->drain("", drained.id(), std::nullopt)) << "draining twice is refused";
  EXPECT_FALSE(gw->drain("", 0x99999999u, std::nullopt));
  EXPECT_EQ(pool().state_of(drained.id()), sg::MemberState::draining);
  const std::size_t before = drained.data_count;
  for (std::uint16_t cic = 100; cic < 120; ++cic) ASSERT_TRUE(peer->send(isup(sg::ss7::encode_iam(cic, "49"), cic)));
  ASSERT_TRUE(run_until(io, [&] { return pes[1]->data_count == 10 - before + 20; })) << gw->show_pools();
  EXPECT_EQ(drained.data_count, before) << "a drained PE took a new call";

  // Its calls still reach it, and end there.
  for (auto cic : kept) ASSERT_TRUE(peer->send(isup(sg::ss7::encode_rel(cic), cic)));
  ASSERT_TRUE(run_until(io, [&] { return drained.data_count == before + kept.size(); }));
  for (auto cic : kept) ASSERT_TRUE(peer->send(isup(sg::ss7::encode_rlc(cic), cic)));
  // The last release completes the drain: the PE leaves the distributor.
  ASSERT_TRUE(run_until(io, [&] { return !pool().state_of(drained.id()); })) << gw->show_pools();
  ASSERT_TRUE(run_until(io, [&] { return drained.data_count == before + 2 * kept.size(); }));
  EXPECT_NE(gw->show_pools().find("drained"), std::string::npos) << gw->show_pools();
}

TEST_F(GatewayFixture, RoutesChangeAtRunTimeAndUnroutedTrafficIsCounted) {
  start_gateway(test_config());
  add_pe(0x11111111u);
  ASSERT_TRUE(run_until(io, [&] { return active_members() == 1; }, 8s));
  start_peer();
  ASSERT_TRUE(gw->remove_route("isup"));
  ASSERT_TRUE(peer->send(isup(sg::ss7::encode_iam(1, "49"), 1)));
  ASSERT_TRUE(run_until(io, [&] { return gw->counters().dropped(sg::GatewayDrop::no_route) == 1; }));
  // Counted once, by the gateway (no pool saw it); every drop reason a pool
  // exports is one its distributor produces.
  double no_route = 0;
  for (const auto& sample : gw->collect()) {
    if (sample.name != "sg_drops_total") continue;
    const auto& reason = sample.labels.at("reason");
    if (reason == "no-route") {
      EXPECT_FALSE(sample.labels.count("pool")) << "no-route counted per pool too";
      no_route += sample.value;
    }
    if (sample.labels.count("pool")) {
      EXPECT_TRUE(reason == "pool-unavailable" || reason == "queue-full" || reason == "fenced-pe" ||
                  reason == "foreign-call")
          << reason;
    }
  }
  EXPECT_EQ(no_route, 1.0);
  sg::RouteSettings r;
  r.name = "isup-again";
  r.key.dpc = sg::PointCodeMatch{kGatewayPc, 0};
  r.key.service_indicators.set(sg::kSiIsup);
  r.has_dpc = true;
  r.pool = "nowhere";
  EXPECT_FALSE(gw->set_route(r)) << "a route to an unknown pool is refused";
  r.pool = "gwc";
  ASSERT_TRUE(gw->set_route(r));
  EXPECT_NE(gw->show_routes().find("isup-again"), std::string::npos);
  ASSERT_TRUE(peer->send(isup(sg::ss7::encode_iam(2, "49"), 2)));
  ASSERT_TRUE(run_until(io, [&] { return pes[0]->data_count == 1; }));
}

}  // namespace
}  // namespace sgdtest
