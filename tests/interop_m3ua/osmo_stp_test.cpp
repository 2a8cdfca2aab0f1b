// Our M3UA ASP and SGP against osmo-stp (libosmo-sigtran) over kernel SCTP,
// inside UML. (a) osmo-stp is the STP/SGP: two of our ASPs register their
// point codes with RKM and exchange DATA through it. (b) osmo-stp is an ASP
// (client role) of OUR SGP; it relays between our SGP and one of our ASPs
// registered on its own listener, so DATA crosses its ASP link both ways.
// (c) Traffic modes (RFC 4666 4.3.4.3) in both topologies, with osmo-stp's
// AS in override (its default) and in loadshare, against our strict and
// following configurations: what is refused is refused with ERR 0x05 and
// reported, what is negotiated carries DATA both ways.
// Skipped only when not root or without kernel SCTP (not inside UML);
// a missing osmo-stp is a failure.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "harness.hpp"
#include "process.hpp"
#include "telnet_client.hpp"
#include "rserpool/transport/endpoint.hpp"

using namespace m3uatest;
using namespace mxua;
using namespace mxua::driver;

namespace {

constexpr std::uint16_t kStpPort = 2905;
constexpr std::uint16_t kOurSgpPort = 3905;
constexpr std::uint32_t kPcStp = 1;    // osmo-stp's own point code
constexpr std::uint32_t kPcA = 100;    // our ASP A
constexpr std::uint32_t kPcB = 200;    // our ASP B / our SGP's side in (b)
constexpr std::uint32_t kPcC = 300;    // our ASP C in (b)
constexpr std::uint32_t kRcSg = 10;    // the AS osmo-stp serves towards our SGP in (b)
constexpr std::uint32_t kPcSgd = 400;  // our "connect" ASP's point code in (c)
constexpr std::uint32_t kRcSgd = 20;   // its AS at osmo-stp

// Progress with elapsed time, so a slow UML run shows where the time went.
void stage(const char* what) {
  static const auto t0 = Clock::now();
  std::cerr << "[" << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count() << " ms] "
            << what << "\n";
}

std::string pc(std::uint32_t v) { return format_point_code(PointCode{v}, PcFormat::Itu); }

bool in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "");
  std::string dir;
  while (std::getline(ss, dir, ':'))
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  return false;
}

struct OsmoStpFixture : ::testing::Test {
  boost::asio::io_context io;
  std::filesystem::path dir;
  std::string log_path;
  std::optional<sgtest::ChildProcess> stp;

  void SetUp() override {
    if (::geteuid() != 0 || !tr::kernel_sctp_available())
      GTEST_SKIP() << "needs root and kernel SCTP: run inside UML (tests/uml/run-in-uml.sh)";
    char templ[] = "/tmp/sg-osmo-stp.XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    dir = templ;
    log_path = (dir / "osmo-stp.log").string();
  }

  void TearDown() override {
    if (HasFailure() && !log_path.empty()) {
      std::cerr << "----- osmo-stp log (" << log_path << ") -----\n"
                << sgtest::read_file(log_path) << "----- end of osmo-stp log -----\n";
    }
    stp.reset();  // SIGKILL + reap
    if (!dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }

  // Starts osmo-stp with `cs7` (the cs7 instance body) and waits for its
  // M3UA listener.
  void start_stp(const std::string& cs7) {
    ASSERT_TRUE(in_path("osmo-stp")) << "osmo-stp is not installed (apt-get install osmo-stp)";
    const auto cfg = (dir / "osmo-stp.cfg").string();
    std::ofstream f(cfg);
    f << "log stderr\n"
         " logging filter all 1\n"
         " logging color 0\n"
         " logging print category 1\n"
         " logging timestamp 1\n"
         " logging level set-all info\n"
         " logging level lm3ua debug\n"
         " logging level lss7 debug\n"
         "line vty\n"
         " no login\n"
         "cs7 instance 0\n"
      << cs7;
    f.close();
    stage("starting osmo-stp");
    stp = sgtest::ChildProcess::spawn({"osmo-stp", "-c", cfg}, log_path);
    ASSERT_TRUE(stp.has_value()) << "cannot start osmo-stp";
    ASSERT_TRUE(sgtest::wait_for_listener(sgtest::Protocol::sctp, kStpPort, 20s))
        << "osmo-stp does not listen on SCTP port " << kStpPort;
    ASSERT_TRUE(stp->running()) << "osmo-stp exited";
    stage("osmo-stp listening");
  }

  tr::EndpointConfig sctp_to(const char* addr, std::uint16_t port) {
    tr::EndpointConfig c;
    c.kind = tr::TransportKind::sctp;
    c.sctp = tr::SctpOptions::aggressive();
    c.sctp.nodelay = true;
    c.remote_addresses = {ip(addr)};
    c.remote_port = port;
    return c;
  }

  // An ASP that registers DPC `own_pc` with RKM (override) and activates the RC it gets.
  std::shared_ptr<AspConnection> rkm_asp(Recorder& ev, std::uint32_t own_pc, std::uint32_t asp_id) {
    AspConnectionConfig c;
    c.transport = sctp_to("198.18.0.1", kStpPort);
    c.transport.name = "asp-" + pc(own_pc);
    c.asp.asp_id = asp_id;
    RoutingKey k;
    k.local_rk_id = 1;
    k.traffic_mode = TrafficMode::Override;
    k.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{own_pc}}, {}, {}}};
    c.registrations = {k};
    c.reconnect = false;
    auto conn = AspConnection::create(io, c, ev);
    conn->start();
    return conn;
  }

  static bool active(const std::shared_ptr<AspConnection>& c) {
    return !c->registered_contexts().empty() && c->active_for(c->registered_contexts().front());
  }

  // Sends n DATA over 16 SLS values and checks they arrive in order per SLS
  // with the routing label intact.
  void check_relay(const std::function<void(const Data&)>& send, Recorder& rx, std::uint32_t opc,
                   std::uint32_t dpc, std::uint32_t n) {
    stage("relay start");
    const auto before = rx.data.size();
    for (std::uint32_t i = 0; i < n; ++i) {
      send(make_data(opc, dpc, 5, static_cast<std::uint8_t>(i % 16), i, std::nullopt, 30 + i % 40));
      if (i % 64 == 63) io.poll();
    }
    ASSERT_TRUE(run_until(io, [&] { return rx.data.size() >= before + n; }, 8s))
        << "received " << rx.data.size() - before << " of " << n;
    std::map<std::uint8_t, std::uint32_t> last;
    for (std::size_t k = before; k < rx.data.size(); ++k) {
      const auto& p = rx.data[k].data.protocol_data;
      const auto seq = seq_of(rx.data[k].data);
      EXPECT_EQ(p.opc.value, opc);
      EXPECT_EQ(p.dpc.value, dpc);
      EXPECT_EQ(p.si, 5);
      EXPECT_EQ(p.sls, seq % 16);
      EXPECT_EQ(p.user_data.size(), 30 + seq % 40);
      EXPECT_EQ(p.user_data[4], p.sls);
      if (auto it = last.find(p.sls); it != last.end()) {
        EXPECT_GT(seq, it->second) << "SLS " << int(p.sls) << " out of order";
      }
      last[p.sls] = seq;
    }
    EXPECT_EQ(last.size(), 16U);
    stage("relay done");
  }
};

std::string stp_listener_config() {
  return " point-code " + pc(kPcStp) +
         "\n"
         " xua rkm routing-key-allocation dynamic-permitted\n"
         " listen m3ua " +
         std::to_string(kStpPort) +
         "\n"
         "  local-ip 198.18.0.1\n"
         "  accept-asp-connections dynamic-permitted\n";
}

TEST_F(OsmoStpFixture, TwoRkmAspsExchangeDataThroughOsmoStp) {
  start_stp(stp_listener_config());
  Recorder ev_a, ev_b;
  auto a = rkm_asp(ev_a, kPcA, 1);
  auto b = rkm_asp(ev_b, kPcB, 2);
  ASSERT_TRUE(run_until(io, [&] { return active(a) && active(b); }, 8s))
      << "A: " << to_string(a->state()) << " registrations " << ev_a.reg.size() << ", B: " << to_string(b->state())
      << " registrations " << ev_b.reg.size();
  stage("A and B active");
  const auto rc_a = a->registered_contexts().front();
  const auto rc_b = b->registered_contexts().front();
  EXPECT_NE(rc_a, rc_b);

  check_relay(
      [&](const Data& d) {
        auto x = d;
        x.routing_context = rc_a;
        EXPECT_TRUE(a->send_data(to_view(x)));
      },
      ev_b, kPcA, kPcB, 150);
  for (const auto& ind : ev_b.data) EXPECT_EQ(ind.data.routing_context, rc_b);
  check_relay(
      [&](const Data& d) {
        auto x = d;
        x.routing_context = rc_b;
        EXPECT_TRUE(b->send_data(to_view(x)));
      },
      ev_a, kPcB, kPcA, 150);
  EXPECT_TRUE(ev_a.err.empty());
  EXPECT_TRUE(ev_b.err.empty());

  // osmo-stp's own view, through its VTY.
  const auto t_vty = Clock::now();
  auto vty = sgtest::TelnetClient::connect("127.0.0.1", 4239);
  ASSERT_TRUE(vty.has_value());
  ASSERT_TRUE(vty->read_until_prompt().has_value());
  auto asps = vty->run("show cs7 instance 0 asp");
  ASSERT_TRUE(asps.has_value());
  EXPECT_NE(asps->find("ASP_ACTIVE"), std::string::npos) << *asps;
  std::cerr << "VTY check took " << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t_vty).count()
            << " ms\n";
}

TEST_F(OsmoStpFixture, OsmoStpAsAspOfOurSgpExchangesDataBothWays) {
  Recorder ev_sgp;
  SgpServerConfig sc;
  sc.transport.kind = tr::TransportKind::sctp;
  sc.transport.sctp = tr::SctpOptions::aggressive();
  sc.transport.local_addresses = {ip("198.18.0.1")};
  sc.transport.local_port = kOurSgpPort;
  sc.allowed_peers = {ip("198.18.0.2")};  // osmo-stp's client ASP binds this one
  AsConfig as;
  as.name = "as-osmo";
  as.routing_context = kRcSg;
  as.mode = TrafficMode::Override;
  // What our SGP sends towards osmo-stp: traffic for ASP C behind it.
  as.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{kPcC}}, {}, {}}};
  sc.sgp.application_servers = {as};
  auto sgp = SgpServer::open(io, sc, ev_sgp);
  ASSERT_TRUE(sgp.ok()) << sgp.error().message();

  start_stp(stp_listener_config() +
            " asp to-our-sgp " + std::to_string(kOurSgpPort) +
            " 0 m3ua\n"
            "  remote-ip 198.18.0.1\n"
            "  local-ip 198.18.0.2\n"
            "  role asp\n"
            "  sctp-role client\n"
            " as as-our-sgp m3ua\n"
            "  asp to-our-sgp\n"
            "  traffic-mode override\n"
            "  routing-key " + std::to_string(kRcSg) + " " + pc(kPcStp) +
            "\n"
            " route-table system\n"
            "  update route " + pc(kPcB) + " 7.255.7 linkset as-our-sgp\n");

  Recorder ev_c;
  auto c = rkm_asp(ev_c, kPcC, 3);
  ASSERT_TRUE(run_until(io, [&] { return active(c) && (*sgp)->node().as_state(kRcSg) == AsState::Active; }, 8s))
      << "C: " << to_string(c->state()) << ", our AS " << kRcSg << ": "
      << ((*sgp)->node().as_state(kRcSg) ? to_string(*(*sgp)->node().as_state(kRcSg)) : "none")
      << ", associations at our SGP: " << (*sgp)->associations().size();
  EXPECT_EQ((*sgp)->counters().refused_peers, 0U);

  // Our SGP -> osmo-stp (as our ASP) -> ASP C.
  check_relay([&](const Data& d) { (*sgp)->route(to_view(d)); }, ev_c, kPcB, kPcC, 100);
  // ASP C -> osmo-stp -> our SGP (osmo-stp sending as an ASP, RC 10).
  const auto rc_c = c->registered_contexts().front();
  check_relay(
      [&](const Data& d) {
        auto x = d;
        x.routing_context = rc_c;
        EXPECT_TRUE(c->send_data(to_view(x)));
      },
      ev_sgp, kPcC, kPcB, 100);
  for (const auto& ind : ev_sgp.data) EXPECT_EQ(ind.routing_context, kRcSg);
  // osmo-stp repeats its ASP Up when our ASP Up Ack takes longer than its
  // T(ack) (2 s: a loaded guest, clean-clone run x32 of stop 24). We answer
  // each ASP Up, as RFC 4666 4.3.4.1 asks; osmo-stp, already ASP-INACTIVE,
  // answers the second Ack with ERR Unexpected Message. That one ERR per
  // repeat is osmo-stp's, and is allowed only then.
  const bool stp_repeated_asp_up =
      sgtest::read_file(log_path).find("re-transmitting event ASPSM-ASP_UP") != std::string::npos;
  for (const auto& e : ev_sgp.err)
    EXPECT_TRUE(stp_repeated_asp_up && e.err.code == mxua::ErrorCode::UnexpectedMessage)
        << "ERR from osmo-stp (code " << static_cast<int>(e.err.code) << ")"
        << (stp_repeated_asp_up ? "" : " without a repeated ASP Up");
  EXPECT_EQ((*sgp)->node().drops()[DropReason::Malformed], 0U);
}

// --------------------------------------------------------------- (c) traffic modes

// osmo-stp's `traffic-mode` line for an AS: "" keeps osmo-stp's default
// (override, not sent in its ASPAC).
std::string mode_line(const std::string& mode) { return mode.empty() ? std::string() : "  traffic-mode " + mode + "\n"; }

struct StpAsCase {
  const char* osmo_mode;       // osmo-stp's AS: "override", "loadshare", "" (its default)
  TrafficMode ours;            // what our side is configured with
  bool follow;                 // traffic-mode-negotiation follow
  bool negotiated;             // expected: the AS goes ACTIVE and DATA flows
};
std::ostream& operator<<(std::ostream& o, const StpAsCase& c) {
  return o << "osmo " << (*c.osmo_mode ? c.osmo_mode : "default") << ", ours " << to_string(c.ours)
           << (c.follow ? " follow" : " strict");
}

// (c1) Our ASP (as sgd's `connect`) towards osmo-stp's listener, where a
// static AS (RC 20, DPC kPcSgd) is served by a static ASP matching our
// address: osmo-stp checks our ASPAC's traffic mode against its AS's.
struct StpAsTrafficMode : OsmoStpFixture, ::testing::WithParamInterface<StpAsCase> {};

TEST_P(StpAsTrafficMode, OurAspTowardsOsmoStp) {
  const auto& tc = GetParam();
  start_stp(stp_listener_config() +
            " asp asp-sgd 0 " + std::to_string(kStpPort) + " m3ua\n"
            "  remote-ip 198.18.0.2\n"
            "  local-ip 198.18.0.1\n"
            "  role sg\n"
            "  sctp-role server\n"
            " as as-sgd m3ua\n"
            "  asp asp-sgd\n" + mode_line(tc.osmo_mode) +
            "  routing-key " + std::to_string(kRcSgd) + " " + pc(kPcSgd) + "\n"
            " route-table system\n"
            "  update route " + pc(kPcSgd) + " 7.255.7 linkset as-sgd\n");
  Recorder ev_c, ev_sgd;
  auto c = rkm_asp(ev_c, kPcC, 3);
  AspConnectionConfig ac;
  ac.transport = sctp_to("198.18.0.1", kStpPort);
  ac.transport.local_addresses = {ip("198.18.0.2")};
  ac.transport.name = "connect-stp";
  ac.asp.activations = {AspActivation{{kRcSgd}, tc.ours}};
  ac.asp.follow_peer_mode = tc.follow;
  ac.asp.retry_initial = 400ms;
  ac.reconnect = false;
  auto sgd = AspConnection::create(io, ac, ev_sgd);
  sgd->start();
  if (!tc.negotiated) {
    // Refused with ERR Unsupported Traffic Mode Type, reported, retried.
    ASSERT_TRUE(run_until(io, [&] { return sgd->client().refusals() >= 2; }, 8s))
        << "refusals " << sgd->client().refusals() << ", state " << to_string(sgd->state());
    EXPECT_FALSE(sgd->active_for(kRcSgd));
    ASSERT_TRUE(sgd->client().last_refusal());
    EXPECT_EQ(sgd->client().last_refusal()->error, ErrorCode::UnsupportedTrafficModeType);
    EXPECT_GE(sgd->client().errors().received_of(ErrorCode::UnsupportedTrafficModeType), 2U);
    return;
  }
  ASSERT_TRUE(run_until(io, [&] { return active(c) && sgd->active_for(kRcSgd); }, 8s))
      << "ours: " << to_string(sgd->state()) << ", refusals " << sgd->client().refusals() << ", C "
      << to_string(c->state());
  stage("our ASP active at osmo-stp");
  if (tc.follow) {
    EXPECT_EQ(sgd->client().mode_retries(), std::string(tc.osmo_mode) == "override" ? 1U : 0U);
  }
  const auto rc_c = c->registered_contexts().front();
  // Ours -> osmo-stp -> C, and C -> osmo-stp -> ours (routed by osmo-stp's routing key DPC kPcSgd).
  check_relay(
      [&](const Data& d) {
        auto x = d;
        x.routing_context = kRcSgd;
        EXPECT_TRUE(sgd->send_data(to_view(x)));
      },
      ev_c, kPcSgd, kPcC, 100);
  check_relay(
      [&](const Data& d) {
        auto x = d;
        x.routing_context = rc_c;
        EXPECT_TRUE(c->send_data(to_view(x)));
      },
      ev_sgd, kPcC, kPcSgd, 100);
  for (const auto& ind : ev_sgd.data) EXPECT_EQ(ind.data.routing_context, kRcSgd);
  sgd->stop();
}

INSTANTIATE_TEST_SUITE_P(
    Modes, StpAsTrafficMode,
    ::testing::Values(StpAsCase{"override", TrafficMode::Loadshare, false, false},  // the report
                      StpAsCase{"override", TrafficMode::Loadshare, true, true},    // follow: asks again
                      StpAsCase{"override", TrafficMode::Override, false, true},
                      StpAsCase{"loadshare", TrafficMode::Loadshare, false, true},
                      StpAsCase{"", TrafficMode::Loadshare, true, true}),  // osmo-stp's default AS
    [](const auto& param_info) {
      const auto& c = param_info.param;
      return std::string(*c.osmo_mode ? c.osmo_mode : "default") + "_ours_" + std::string(to_string(c.ours)) +
             (c.follow ? "_follow" : "_strict");
    });

// (c2) osmo-stp's ASP towards our SGP, its AS in each mode; our AS in
// loadshare, strict or following.
struct SgpTrafficMode : OsmoStpFixture, ::testing::WithParamInterface<StpAsCase> {};

TEST_P(SgpTrafficMode, OsmoStpAspTowardsOurSgp) {
  const auto& tc = GetParam();
  Recorder ev_sgp;
  SgpServerConfig sc;
  sc.transport.kind = tr::TransportKind::sctp;
  sc.transport.sctp = tr::SctpOptions::aggressive();
  sc.transport.local_addresses = {ip("198.18.0.1")};
  sc.transport.local_port = kOurSgpPort;
  sc.sgp.peers = {SgpPeerConfig{"osmo-stp", {ip("198.18.0.2")}, {}}};
  AsConfig as;
  as.name = "as-osmo";
  as.routing_context = kRcSg;
  as.mode = tc.ours;
  as.accept_peer_mode = tc.follow;
  as.owners = {"osmo-stp"};
  as.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{kPcC}}, {}, {}}};
  sc.sgp.application_servers = {as};
  auto sgp = SgpServer::open(io, sc, ev_sgp);
  ASSERT_TRUE(sgp.ok()) << sgp.error().message();
  start_stp(stp_listener_config() +
            " asp to-our-sgp " + std::to_string(kOurSgpPort) +
            " 0 m3ua\n"
            "  remote-ip 198.18.0.1\n"
            "  local-ip 198.18.0.2\n"
            "  role asp\n"
            "  sctp-role client\n"
            " as as-our-sgp m3ua\n"
            "  asp to-our-sgp\n" + mode_line(tc.osmo_mode) +
            "  routing-key " + std::to_string(kRcSg) + " " + pc(kPcStp) +
            "\n"
            " route-table system\n"
            "  update route " + pc(kPcB) + " 7.255.7 linkset as-our-sgp\n");
  const auto& node = (*sgp)->node();
  if (!tc.negotiated) {
    ASSERT_TRUE(run_until(io, [&] { return node.errors().sent_of(ErrorCode::UnsupportedTrafficModeType) >= 1; }, 8s))
        << "associations " << (*sgp)->associations().size();
    run_for(io, 500ms);
    EXPECT_NE(node.as_state(kRcSg), AsState::Active);
    return;
  }
  Recorder ev_c;
  auto c = rkm_asp(ev_c, kPcC, 3);
  ASSERT_TRUE(run_until(io, [&] { return active(c) && node.as_state(kRcSg) == AsState::Active; }, 8s))
      << "C: " << to_string(c->state()) << ", our AS: "
      << (node.as_state(kRcSg) ? to_string(*node.as_state(kRcSg)) : "none") << ", ERR 0x05 sent "
      << node.errors().sent_of(ErrorCode::UnsupportedTrafficModeType);
  EXPECT_EQ(node.errors().sent_of(ErrorCode::UnsupportedTrafficModeType), 0U);
  if (std::string(tc.osmo_mode) == "override") {
    EXPECT_EQ(node.application_server(kRcSg)->mode(), TrafficMode::Override);
  }
  check_relay([&](const Data& d) { (*sgp)->route(to_view(d)); }, ev_c, kPcB, kPcC, 100);
  const auto rc_c = c->registered_contexts().front();
  check_relay(
      [&](const Data& d) {
        auto x = d;
        x.routing_context = rc_c;
        EXPECT_TRUE(c->send_data(to_view(x)));
      },
      ev_sgp, kPcC, kPcB, 100);
  for (const auto& ind : ev_sgp.data) EXPECT_EQ(ind.routing_context, kRcSg);
}

INSTANTIATE_TEST_SUITE_P(
    Modes, SgpTrafficMode,
    ::testing::Values(StpAsCase{"override", TrafficMode::Loadshare, false, false},  // ERR 0x05, as the issue saw
                      StpAsCase{"override", TrafficMode::Loadshare, true, true},    // our AS follows
                      StpAsCase{"loadshare", TrafficMode::Loadshare, false, true},
                      StpAsCase{"", TrafficMode::Loadshare, false, true}),  // osmo-stp's default, mode not sent
    [](const auto& param_info) {
      const auto& c = param_info.param;
      return std::string(*c.osmo_mode ? c.osmo_mode : "default") + "_ours_" + std::string(to_string(c.ours)) +
             (c.follow ? "_follow" : "_strict");
    });

}  // namespace
