// The gateway's SS7 side (sg/src/gateway/ss7_side.cpp) over real
// associations: the configuration reaches the cores (peer ownership of
// routing contexts, traffic modes and their negotiation on `connect`), the
// return path follows the peer that owns a point code, and `show m3ua`
// tells the operator what happened, with the ERR codes by name. The rules
// themselves are tested in virtual time in tests/mxua; this is the wiring.
// One source, two backends (SG_TEST_TRANSPORT=tcp on the host, sctp in UML).
#include <gtest/gtest.h>

#include "event_loop.hpp"
#include "mtp_conversion.hpp"
#include "mxua/driver/asp_connection.hpp"
#include "mxua/driver/sgp_server.hpp"
#include "ss7_plan.hpp"
#include "ss7_side.hpp"

namespace sg::gateway {
namespace {

namespace tr = rserpool::transport;
using namespace std::chrono_literals;
using sgtest::backend;
using sgtest::run_until;

rserpool::IpAddress ip(const char* t) { return *rserpool::IpAddress::parse(t); }

struct Recorder : mxua::driver::Events {
  std::vector<mxua::Data> data;
  std::vector<mxua::ErrIndication> errs;
  void on_data(mxua::DataIndication&& d) override { data.push_back(std::move(d.data)); }
  void on_err(const mxua::ErrIndication& e) override { errs.push_back(e); }
};

mxua::Data isup(std::uint32_t opc, std::uint32_t dpc, std::uint32_t rc) {
  mxua::Data d;
  d.routing_context = rc;
  d.protocol_data = mxua::ProtocolData{mxua::PointCode{opc}, mxua::PointCode{dpc}, kSiIsup, 2, 0, 3, {1, 2, 3, 4}};
  return d;
}

struct Ss7SideFixture : ::testing::Test {
  boost::asio::io_context io;
  GatewayCounters counters;
  std::vector<MtpMessage> from_ss7;
  std::unique_ptr<M3uaSide> side;

  Ss7Profile profile() {
    Ss7Profile p;
    p.kind = backend();
    p.sctp = tr::SctpOptions::aggressive();
    p.tcp = tr::TcpMappingOptions::aggressive();
    p.retry_initial = 200ms;
    p.retry_max = 400ms;
    return p;
  }
  void open(const SgConfig& c) {
    Ss7Hooks hooks;
    hooks.data = [this](MtpMessage&& m) { from_ss7.push_back(std::move(m)); };
    auto s = M3uaSide::open(io, c, profile(), std::move(hooks), counters);
    ASSERT_TRUE(s.ok()) << s.error();
    side = std::move(*s);
  }
  std::shared_ptr<mxua::driver::AspConnection> asp(Recorder& ev, const char* from, std::uint32_t rc,
                                                   std::uint16_t port) {
    mxua::driver::AspConnectionConfig c;
    c.transport.kind = backend();
    c.transport.sctp = tr::SctpOptions::aggressive();
    c.transport.tcp = tr::TcpMappingOptions::aggressive();
    c.transport.remote_addresses = {ip("127.0.0.1")};
    c.transport.remote_port = port;
    c.transport.local_addresses = {ip(from)};
    c.asp.activations = {mxua::AspActivation{{rc}, mxua::TrafficMode::Loadshare}};
    c.asp.retry_initial = 10s;
    c.reconnect = false;
    auto a = mxua::driver::AspConnection::create(io, c, ev);
    a->start();
    return a;
  }
};

// The plan: what the configuration makes of the cores, without I/O (the
// same plan a simulation builds from).
TEST(Ss7Plan, PeersAndConnectsBecomeCoreConfigurations) {
  SgConfig c;
  c.ss7.listen_ips = {ip("192.0.2.10")};
  Ss7Peer a{"stp-a", {ip("192.0.2.1")}, 100};
  a.traffic_mode = mxua::TrafficMode::Override;
  a.negotiation = ModeNegotiation::follow;
  a.allowed_opcs = {mxua::MaskedPointCode{0, mxua::PointCode{0x111}}};
  Ss7Peer b{"stp-b", {ip("192.0.2.2")}, 100};  // a mated pair: one AS, two owners
  b.traffic_mode = mxua::TrafficMode::Override;
  b.negotiation = ModeNegotiation::follow;
  Ss7Peer d{"stp-d", {ip("192.0.2.4")}, 300};
  c.ss7.peers = {a, b, d};
  Ss7Connect k;
  k.name = "stp-k";
  k.remote_ips = {ip("192.0.2.9")};
  k.routing_context = 7;
  k.negotiation = ModeNegotiation::follow;
  c.ss7.connects.push_back(k);
  auto plan = plan_ss7(c, 500ms, 5s);
  ASSERT_TRUE(plan.sgp);
  ASSERT_EQ(plan.sgp->peers.size(), 3U);
  EXPECT_EQ(plan.sgp->peers[0].originating_point_codes, a.allowed_opcs);
  ASSERT_EQ(plan.sgp->application_servers.size(), 2U);
  const auto& as100 = plan.sgp->application_servers[0];
  EXPECT_EQ(as100.routing_context, 100U);
  EXPECT_EQ(as100.owners, (std::vector<std::string>{"stp-a", "stp-b"}));
  EXPECT_EQ(as100.mode, mxua::TrafficMode::Override);
  EXPECT_TRUE(as100.accept_peer_mode);
  EXPECT_EQ(plan.sgp->application_servers[1].owners, (std::vector<std::string>{"stp-d"}));
  EXPECT_FALSE(plan.sgp->accept_unknown_peers);
  ASSERT_EQ(plan.connects.size(), 1U);
  EXPECT_TRUE(plan.connects[0].asp.follow_peer_mode);
  EXPECT_EQ(plan.connects[0].asp.retry_initial, 500ms);
  EXPECT_EQ(plan.connects[0].asp.activations.at(0).routing_contexts, (std::vector<std::uint32_t>{7}));
  // Unknown destinations: AS 100 through either owner, then AS 300, then the connection.
  std::vector<mxua::ReturnPath> offered;
  plan.return_paths.route(mxua::PointCode{0x999}, [&](const mxua::ReturnPath& p) {
    offered.push_back(p);
    return false;
  });
  EXPECT_EQ(offered, (std::vector<mxua::ReturnPath>{{0, 100}, {1, 100}, {2, 300}, {Ss7Plan::kConnectionOwner, 7}}));
  // stp-a's own point code: only stp-a's path.
  offered.clear();
  plan.return_paths.route(mxua::PointCode{0x111}, [&](const mxua::ReturnPath& p) {
    offered.push_back(p);
    return false;
  });
  EXPECT_EQ(offered, (std::vector<mxua::ReturnPath>{{0, 100}}));
}

// Two configured peers, each owning a routing context. Peer B cannot
// activate A's; the answers for a point code follow the peer that taught
// it, not the one that repeated it later; `show m3ua` says all of this.
TEST_F(Ss7SideFixture, PeersOwnTheirRoutingContextsAndTheirPointCodesReturnPaths) {
  SgConfig c;
  c.ss7.listen_ips = {ip("127.0.0.1")};
  c.ss7.listen_port = 0;
  c.ss7.peers.push_back(Ss7Peer{"peer-a", {ip("127.0.0.1")}, 100});
  c.ss7.peers.push_back(Ss7Peer{"peer-b", {ip("127.0.0.2")}, 200});
  open(c);
  const auto port = *side->sgp_port();

  Recorder ev_a, ev_b, ev_b2;
  auto b_steals = asp(ev_b, "127.0.0.2", 100, port);
  ASSERT_TRUE(run_until(io, [&] { return !ev_b.errs.empty(); })) << side->show();
  EXPECT_EQ(ev_b.errs[0].err.code, mxua::ErrorCode::InvalidRoutingContext);
  EXPECT_FALSE(b_steals->active_for(100));

  auto a = asp(ev_a, "127.0.0.1", 100, port);
  auto b = asp(ev_b2, "127.0.0.2", 200, port);
  ASSERT_TRUE(run_until(io, [&] { return a->active_for(100) && b->active_for(200); })) << side->show();

  // A teaches the return path of OPC 0x0111; B's DATA with the same OPC does not move it.
  constexpr std::uint32_t kX = 0x0111, kGw = 0x00b9;
  auto d = isup(kX, kGw, 100);
  ASSERT_TRUE(a->send_data(mxua::to_view(d)));
  ASSERT_TRUE(run_until(io, [&] { return from_ss7.size() == 1; }));
  d.routing_context = 200;
  ASSERT_TRUE(b->send_data(mxua::to_view(d)));
  ASSERT_TRUE(run_until(io, [&] { return from_ss7.size() == 2; }));
  MtpMessage answer{kGw, kX, kSiIsup, 2, 0, 5, {9, 9}};
  side->send(answer);
  ASSERT_TRUE(run_until(io, [&] { return ev_a.data.size() + ev_b2.data.size() == 1; })) << side->show();
  ASSERT_EQ(ev_a.data.size(), 1U) << "the answer for A's point code went to B";
  EXPECT_EQ(ev_a.data[0].routing_context, 100U);
  EXPECT_EQ(counters.ss7_out.messages, 1U);

  const std::string show = side->show();
  for (const char* expected :
       {"peer peer-a (127.0.0.1", "peer peer-b (127.0.0.2", "AS peer-a RC 100: AS-ACTIVE, loadshare, active ASPs 1",
        "ERR sent: Invalid Routing Context=1", "return paths: 1 of 65536, learned 1, refused 1",
        "refused associations 0"})
    EXPECT_NE(show.find(expected), std::string::npos) << expected << "\n" << show;
  b_steals->stop();
  a->stop();
  b->stop();
}

// `connect` towards an SGP whose AS is override (as osmo-stp's default):
// strict is refused with ERR 0x05, retried, and shown with the reason;
// follow asks again without a mode and is accepted in override.
TEST_F(Ss7SideFixture, ConnectReportsTheRefusedTrafficModeOrFollowsTheSgps) {
  Recorder sgp_events;
  mxua::driver::SgpServerConfig sc;
  sc.transport.kind = backend();
  sc.transport.tcp = tr::TcpMappingOptions::aggressive();
  sc.transport.sctp = tr::SctpOptions::aggressive();
  sc.transport.local_addresses = {ip("127.0.0.1")};
  sc.allowed_peers = {ip("127.0.0.1")};
  mxua::AsConfig as;
  as.name = "stp-as";
  as.routing_context = 20;
  as.mode = mxua::TrafficMode::Override;
  sc.sgp.application_servers = {as};
  auto stp = mxua::driver::SgpServer::open(io, sc, sgp_events);
  ASSERT_TRUE(stp.ok());

  for (auto negotiation : {ModeNegotiation::strict, ModeNegotiation::follow}) {
    SgConfig c;
    Ss7Connect k;
    k.name = "stp";
    k.remote_ips = {ip("127.0.0.1")};
    k.remote_port = (*stp)->port();
    k.routing_context = 20;
    k.traffic_mode = mxua::TrafficMode::Loadshare;
    k.negotiation = negotiation;
    c.ss7.connects.push_back(k);
    open(c);
    if (negotiation == ModeNegotiation::strict) {
      // Refused, reported with its reason, tried again after the back-off.
      ASSERT_TRUE(run_until(io, [&] { return side->status().connections.at(0).refusals >= 2; })) << side->show();
      const std::string show = side->show();
      for (const char* expected :
           {"connect stp to 127.0.0.1", "ASP-INACTIVE", "traffic mode loadshare (strict)",
            "ASPAC RC 20 (loadshare): ERR Unsupported Traffic Mode Type (0x05)",
            "ERR received: Unsupported Traffic Mode Type="})
        EXPECT_NE(show.find(expected), std::string::npos) << expected << "\n" << show;
      // DATA for the STP has no active path: counted where the operator looks.
      MtpMessage for_stp{1, 2, kSiIsup, 2, 0, 1, {1}};
      side->send(for_stp);
      EXPECT_NE(side->show().find("DATA to SS7 not sent: no path configured 0, no path active 1"), std::string::npos)
          << side->show();
    } else {
      ASSERT_TRUE(run_until(io, [&] { return side->status().connections.at(0).state == mxua::AspState::Active; }))
          << side->show();
      EXPECT_NE(side->show().find("traffic mode loadshare (follow), accepted override"), std::string::npos)
          << side->show();
    }
    side->stop();
    run_until(io, [&] { return side->open_associations() == 0; }, 2s);
    side.reset();
  }
}

}  // namespace
}  // namespace sg::gateway
