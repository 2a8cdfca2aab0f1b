// DATA_SEND by transport address through a PoolSession: a pass-through
// channel to a host outside the pool, reused across sends, with replies;
// an address that refuses; no effect on the session's PE. TCP mapping on
// the host, kernel SCTP in UML.
#include <map>

#include "harness.hpp"

namespace asaptest {
namespace {

namespace asap = rserpool::asap;
namespace transport = rserpool::transport;

const PoolHandle kPassPool("PassPool");

// An echo server outside any pool, on `address`.
struct SideServer {
  SideServer(boost::asio::io_context& io, IpAddress address) {
    transport::EndpointConfig listen;
    listen.local_addresses = {address};
    listen.kind = test_kind();
    auto s = asap::PeSessionServer::open(io, listen, PoolHandle("none"));
    if (!s) return;
    server = std::move(*s);
    server->on_pu_up([this](asap::PuId) { ++associations; });
    server->on_data([this](asap::PuId pu, transport::Message&& m) {
      seen.push_back(text(m.payload));
      server->send(pu, std::move(m));
    });
  }
  std::unique_ptr<asap::PeSessionServer> server;
  std::vector<std::string> seen;
  int associations = 0;
};

struct Served {
  boost::asio::io_context io;
  std::unique_ptr<rserpool::registrar::RegistrarServer> reg = start_registrar(io, 0x7201);
  std::optional<EchoPe> pe;
  std::optional<asap::PoolUserService> pu;
  std::unique_ptr<asap::PoolSession> session;
  std::vector<std::string> replies;

  void start() {
    ASSERT_TRUE(reg);
    pe.emplace(io, kPassPool, 0xD1, access_to({asap_address(*reg)}), false);
    ASSERT_TRUE(run_until(io, [&] { return pe->granted() == 1; }, 5s));
    asap::PoolUserConfig c;
    c.stale_cache = 300ms;
    pu.emplace(io, c, access_to({asap_address(*reg)}));
    asap::SessionOptions o;
    o.aggressive = true;
    session = pu->open_session(kPassPool, o);
    session->on_data([&](PeIdentifier, transport::Message&& m) { replies.push_back(text(m.payload)); });
    ASSERT_TRUE(session->send(text("hello")));
    ASSERT_TRUE(run_until(io, [&] { return replies.size() == 1; }, 5s));
  }
};

TEST(AsapPassThrough, SendsToATransportAddressOutsideThePoolAndReusesTheChannel) {
  Served s;
  s.start();
  if (HasFatalFailure()) return;
  // IPv6 loopback where the host has it (UML does), else IPv4.
  std::optional<SideServer> side;
  side.emplace(s.io, IpAddress::v6_loopback());
  if (!side->server) side.emplace(s.io, IpAddress::v4_loopback());
  ASSERT_TRUE(side->server);
  const auto address = side->server->user_transport();

  std::vector<std::pair<rserpool::TransportParameter, std::string>> pass_replies;
  s.session->on_pass_through_data([&](const rserpool::TransportParameter& from, transport::Message&& m) {
    pass_replies.emplace_back(from, text(m.payload));
  });
  std::optional<asap::ChannelId> channel;
  for (int i = 0; i < 5; ++i) {
    auto r = s.session->send_to_address(address, text("pt" + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << asap::to_string(r.error());
    if (channel) {
      EXPECT_EQ(*r, *channel);  // one channel, reused
    }
    channel = *r;
  }
  ASSERT_TRUE(run_until(s.io, [&] { return pass_replies.size() == 5; }, 5s));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(pass_replies[static_cast<std::size_t>(i)].second, "pt" + std::to_string(i));
    EXPECT_EQ(pass_replies[static_cast<std::size_t>(i)].first, address);
  }
  EXPECT_EQ(side->associations, 1);
  EXPECT_EQ(side->seen.size(), 5u);
  // The pool's PE saw none of it, and the session still goes there.
  std::size_t pe_data = 0;
  for (const auto& [pu, seen] : s.pe->seen) pe_data += seen.size();
  EXPECT_EQ(pe_data, 1u);
  const auto& c = s.session->counters();
  EXPECT_EQ(c.pass_through_sent, 5u);
  EXPECT_EQ(c.pass_through_received, 5u);
  EXPECT_EQ(c.pass_through_failures, 0u);
  EXPECT_EQ(c.received, 1u);  // pool data only
  ASSERT_TRUE(s.session->send(text("again")));
  ASSERT_TRUE(run_until(s.io, [&] { return s.replies.size() == 2; }, 5s));

  // Closing the channel; the next send opens a new one.
  s.session->close_address(address);
  auto r = s.session->send_to_address(address, text("pt-new"));
  ASSERT_TRUE(r.ok());
  EXPECT_NE(*r, *channel);
  ASSERT_TRUE(run_until(s.io, [&] { return pass_replies.size() == 6; }, 5s));
  EXPECT_EQ(side->associations, 2);
}

TEST(AsapPassThrough, AnAddressThatRefusesIsReportedAndTheSessionCarriesOn) {
  Served s;
  s.start();
  if (HasFatalFailure()) return;
  // A port bound and never listening: SCTP answers the INIT with ABORT,
  // TCP with RST.
  RefusingPort refuser;
  ASSERT_NE(refuser.port, 0);
  const rserpool::TransportParameter refusing =
      asap::user_transport_for(test_kind(), {IpAddress::v4_loopback()}, refuser.port);

  std::vector<asap::PassThroughFailed> failures;
  s.session->on_pass_through_failed([&](const asap::PassThroughFailed& f) { failures.push_back(f); });
  auto r1 = s.session->send_to_address(refusing, text("x1"));
  auto r2 = s.session->send_to_address(refusing, text("x2"));
  ASSERT_TRUE(r1.ok());
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(*r1, *r2);
  ASSERT_TRUE(run_until(s.io, [&] { return !failures.empty(); }, 5s));
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].reason, asap::PassThroughFailure::connect_failed);
  EXPECT_EQ(failures[0].dropped, 2u);
  EXPECT_EQ(failures[0].address, refusing);
  EXPECT_EQ(failures[0].channel, *r1);

  // The session's PE is untouched: no failover, no unreachable report.
  EXPECT_TRUE(s.session->established());
  EXPECT_EQ(s.session->current_pe(), 0xD1u);
  EXPECT_EQ(s.session->counters().failovers, 0u);
  EXPECT_EQ(s.pu->counters().unreachable_reports, 0u);
  ASSERT_TRUE(s.session->send(text("still-here")));
  ASSERT_TRUE(run_until(s.io, [&] { return s.replies.size() == 2; }, 5s));
  EXPECT_EQ(s.replies[1], "still-here");
  const auto& c = s.session->counters();
  EXPECT_EQ(c.pass_through_failures, 1u);
  EXPECT_EQ(c.pass_through_dropped, 2u);
  EXPECT_EQ(c.pass_through_sent, 0u);

  // Refusals are values, counted.
  auto udp = refusing;
  udp.protocol = rserpool::TransportProtocol::udp;
  auto bad = s.session->send_to_address(udp, text("u"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), asap::PassThroughError::bad_address);
  EXPECT_EQ(s.session->counters().pass_through_refused, 1u);
  s.session->close();
  auto closed = s.session->send_to_address(refusing, text("c"));
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error(), asap::PassThroughError::session_closed);
}

// send_pass_through() data on the session's own association is never
// re-sent: when the PE dies, the failover re-sends the handed-back pool
// data to the next PE and drops the pass-through messages among it.
TEST(AsapPassThrough, PassThroughDataIsNotResentOnFailover) {
  boost::asio::io_context io;
  auto reg = start_registrar(io, 0x7202);
  ASSERT_TRUE(reg);
  std::map<PeIdentifier, std::unique_ptr<EchoPe>> pes;
  pes[0xE1] = std::make_unique<EchoPe>(io, kPassPool, 0xE1, access_to({asap_address(*reg)}), false);
  pes[0xE2] = std::make_unique<EchoPe>(io, kPassPool, 0xE2, access_to({asap_address(*reg)}), false);
  ASSERT_TRUE(run_until(io, [&] { return pes[0xE1]->granted() == 1 && pes[0xE2]->granted() == 1; }, 5s));
  asap::PoolUserConfig c;
  c.stale_cache = 300ms;
  asap::PoolUserService pu(io, c, access_to({asap_address(*reg)}));
  asap::SessionOptions o;
  o.aggressive = true;
  auto session = pu.open_session(kPassPool, o);
  std::size_t replies = 0;
  session->on_data([&](PeIdentifier, transport::Message&&) { ++replies; });
  bool done = false;
  session->on_failover_done([&](const asap::FailoverIndication&) { done = true; });
  ASSERT_TRUE(session->send(text("first")));
  ASSERT_TRUE(run_until(io, [&] { return replies == 1; }, 5s));
  const PeIdentifier serving = *session->current_pe();
  const PeIdentifier other = serving == 0xE1 ? 0xE2 : 0xE1;

  // In flight when the PE dies: the transport hands these back.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(session->send(text("d" + std::to_string(i))));
    ASSERT_TRUE(session->send_pass_through(text("p" + std::to_string(i))));
  }
  pes[serving]->crash();
  ASSERT_TRUE(run_until(io, [&] { return done; }, 10s));
  run_for(io, 200ms);

  // Kernel SCTP hands back only what never reached the kernel, which may
  // be nothing here; the TCP mapping hands back all ten.
  ASSERT_TRUE(session->send(text("after")));
  ASSERT_TRUE(run_until(io, [&] { return pes[other]->data_count > 0 && replies >= 2; }, 5s));
  std::vector<std::string> data;
  for (const auto& [pu_id, seen] : pes[other]->seen)
    for (const auto& e : seen) {
      EXPECT_EQ(e.rfind("data:p", 0), std::string::npos) << e << " was re-sent";
      if (e.rfind("data:d", 0) == 0) data.push_back(e);
    }
  const auto& k = session->counters();
  if (test_kind() == transport::TransportKind::tcp) {
    // The TCP mapping hands back everything unacknowledged: exact.
    EXPECT_EQ(data.size(), 5u);
    EXPECT_EQ(k.pass_through_dropped, 5u);
    EXPECT_EQ(k.resent, 5u);  // of the 10 handed back, the pool data
  }
  EXPECT_EQ(k.pass_through_sent, 5u);
  EXPECT_EQ(k.failovers, 1u);
}

}  // namespace
}  // namespace asaptest
