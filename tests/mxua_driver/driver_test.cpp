// The M3UA driver over a real transport. One source, two backends:
// SG_TEST_TRANSPORT=tcp (the TCP mapping, on the host) or =sctp (kernel
// SCTP, inside UML). Every wait is bounded.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "harness.hpp"
#include "rserpool/transport/endpoint.hpp"

using namespace m3uatest;
using namespace mxua;
using namespace mxua::driver;

namespace {

constexpr std::uint32_t kRc = 100;
constexpr std::uint32_t kAspPc = 1;  // OPC of what the ASP sends
constexpr std::uint32_t kSgPc = 2;

struct DriverFixture : ::testing::Test {
  boost::asio::io_context io;
  Recorder sgp_events;
  Recorder asp_events;
  std::unique_ptr<SgpServer> sgp;
  std::shared_ptr<AspConnection> asp;

  tr::EndpointConfig transport() {
    tr::EndpointConfig c;
    c.kind = backend();
    c.sctp = tr::SctpOptions::aggressive();
    c.tcp = tr::TcpMappingOptions::aggressive();
    return c;
  }

  SgpServerConfig sgp_config() {
    SgpServerConfig c;
    c.transport = transport();
    c.transport.local_addresses = {ip("127.0.0.1")};
    c.allowed_peers = {ip("127.0.0.1")};
    AsConfig as;
    as.name = "as-100";
    as.routing_context = kRc;
    as.mode = TrafficMode::Loadshare;
    as.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{kAspPc}}, {}, {}}};
    c.sgp.application_servers = {as};
    c.sgp.t_r = Millis{300};
    return c;
  }

  void open_sgp(SgpServerConfig c) {
    auto s = SgpServer::open(io, std::move(c), sgp_events);
    ASSERT_TRUE(s.ok()) << s.error().message();
    sgp = std::move(*s);
  }

  AspConnectionConfig asp_config() {
    AspConnectionConfig c;
    c.transport = transport();
    c.transport.remote_addresses = {ip("127.0.0.1")};
    c.transport.remote_port = sgp->port();
    c.asp.asp_id = 7;
    c.asp.activations = {AspActivation{{kRc}, TrafficMode::Loadshare}};
    c.reconnect = false;
    return c;
  }

  void start_asp(AspConnectionConfig c) {
    asp = AspConnection::create(io, std::move(c), asp_events);
    asp->start();
  }

  bool wait_active() {
    return run_until(io, [&] {
      return asp->active_for(kRc) && sgp->node().as_state(kRc) == AsState::Active;
    });
  }
};

TEST_F(DriverFixture, AspGoesActiveAndDataFlowsBothWaysInSlsOrder) {
  open_sgp(sgp_config());
  start_asp(asp_config());
  ASSERT_TRUE(wait_active());
  EXPECT_EQ(sgp->node().asp_state(sgp->associations().at(0), kRc), AspState::Active);
  EXPECT_TRUE(sgp_events.saw_as(AsState::Inactive, AsState::Active));
  // NTFY AS-ACTIVE follows the ASPAC ACK and reaches the ASP's user.
  ASSERT_TRUE(run_until(io, [&] {
    for (const auto& n : asp_events.ntfy)
      if (n.ntfy.status.type == StatusType::AsStateChange && n.ntfy.status.info == status_info::kAsActive) return true;
    return false;
  })) << asp_events.ntfy.size() << " NTFY";

  // ASP -> SGP: many messages over 16 SLS values.
  // UML system calls are slow: fewer messages under kernel SCTP keep the test well under 10 s.
  const std::uint32_t kN = sctp_backend() ? 1000 : 3000;
  for (std::uint32_t i = 0; i < kN; ++i) {
    auto d = make_data(kAspPc, kSgPc, 5, static_cast<std::uint8_t>(i % 16), i, kRc, 40 + i % 50);
    ASSERT_TRUE(asp->send_data(to_view(d)));
    if (i % 256 == 255) io.poll();
  }
  ASSERT_TRUE(run_until(io, [&] { return sgp_events.data.size() >= kN; }, 8s))
      << "received " << sgp_events.data.size();
  std::map<std::uint8_t, std::uint32_t> last;
  for (std::uint32_t i = 0; i < kN; ++i) {
    const auto& ind = sgp_events.data[i];
    const auto& p = ind.data.protocol_data;
    EXPECT_EQ(ind.routing_context, kRc);
    EXPECT_EQ(p.opc.value, kAspPc);
    EXPECT_EQ(p.dpc.value, kSgPc);
    EXPECT_EQ(p.si, 5);
    EXPECT_EQ(p.ni, 2);
    const auto seq = seq_of(ind.data);
    EXPECT_EQ(p.sls, seq % 16);
    EXPECT_EQ(p.user_data.size(), 40 + seq % 50);
    EXPECT_EQ(p.user_data[4], p.sls);
    if (auto it = last.find(p.sls); it != last.end()) {
      EXPECT_GT(seq, it->second) << "SLS " << int(p.sls);
    }
    last[p.sls] = seq;
  }
  EXPECT_EQ(last.size(), 16U);

  // SGP -> ASP: routed by the routing key (DPC = the ASP's point code).
  for (std::uint32_t i = 0; i < kN; ++i) {
    auto d = make_data(kSgPc, kAspPc, 3, static_cast<std::uint8_t>(i % 16), i, std::nullopt);
    sgp->route(to_view(d));
    if (i % 256 == 255) io.poll();
  }
  ASSERT_TRUE(run_until(io, [&] { return asp_events.data.size() >= kN; }, 8s))
      << "received " << asp_events.data.size();
  last.clear();
  for (const auto& ind : asp_events.data) {
    const auto& p = ind.data.protocol_data;
    EXPECT_EQ(ind.data.routing_context, kRc);  // the SGP names the AS
    EXPECT_EQ(p.opc.value, kSgPc);
    EXPECT_EQ(p.dpc.value, kAspPc);
    EXPECT_EQ(p.si, 3);
    const auto seq = seq_of(ind.data);
    EXPECT_EQ(p.sls, seq % 16);
    if (auto it = last.find(p.sls); it != last.end()) {
      EXPECT_GT(seq, it->second);
    }
    last[p.sls] = seq;
  }
  EXPECT_EQ(sgp->node().drops()[DropReason::NoRoutingKey], 0U);
  EXPECT_EQ(sgp->counters().foreign_ppid, 0U);
  EXPECT_TRUE(sgp_events.err.empty());
  EXPECT_TRUE(asp_events.err.empty());
}

TEST_F(DriverFixture, PeerNotOnTheAllowListIsRefused) {
  auto c = sgp_config();
  c.allowed_peers = {ip("192.0.2.77")};
  open_sgp(std::move(c));
  start_asp(asp_config());
  ASSERT_TRUE(run_until(io, [&] { return asp_events.downs > 0; }));
  EXPECT_EQ(sgp->counters().refused_peers, 1U);
  EXPECT_EQ(sgp_events.refused, 1);
  EXPECT_EQ(sgp_events.ups, 0);  // never admitted
  EXPECT_EQ(asp->state(), AspState::Down);
  EXPECT_FALSE(sgp->node().as_state(kRc) == AsState::Active);
  EXPECT_TRUE(sgp->associations().empty());
}

// Issue 14 item 4 over real sockets: two configured peers on different
// addresses (127.0.0.1 and 127.0.0.2), each owning one routing context.
// The second peer's ASPAC for the first one's RC gets ERR Invalid Routing
// Context and activates nothing; a host that is no configured peer is
// aborted at association up; the owner still activates its RC.
TEST_F(DriverFixture, ASecondPeerCannotActivateTheFirstPeersRoutingContext) {
  constexpr std::uint32_t kRcB = 200;
  auto c = sgp_config();
  c.allowed_peers.clear();
  c.sgp.peers = {SgpPeerConfig{"peer-a", {ip("127.0.0.1")}, {}}, SgpPeerConfig{"peer-b", {ip("127.0.0.2")}, {}}};
  c.sgp.application_servers[0].owners = {"peer-a"};
  AsConfig b;
  b.name = "as-200";
  b.routing_context = kRcB;
  b.owners = {"peer-b"};
  c.sgp.application_servers.push_back(b);
  open_sgp(std::move(c));

  // Peer B (bound to 127.0.0.2) asks for A's RC 100.
  Recorder ev_b;
  auto cb = asp_config();
  cb.transport.local_addresses = {ip("127.0.0.2")};
  cb.asp.asp_id = 8;
  cb.asp.retry_initial = 10s;  // one attempt within the test
  auto asp_b = AspConnection::create(io, cb, ev_b);
  asp_b->start();
  ASSERT_TRUE(run_until(io, [&] { return !ev_b.failed.empty(); })) << "no answer to B's ASPAC";
  ASSERT_EQ(ev_b.err.size(), 1U);
  EXPECT_EQ(ev_b.err[0].err.code, ErrorCode::InvalidRoutingContext);
  EXPECT_EQ(ev_b.err[0].err.routing_contexts, (std::vector<std::uint32_t>{kRc}));
  EXPECT_EQ(ev_b.failed[0].error, ErrorCode::InvalidRoutingContext);
  ASSERT_TRUE(asp_b->client().last_refusal());
  EXPECT_EQ(asp_b->state(), AspState::Inactive);
  EXPECT_FALSE(asp_b->active_for(kRc));
  EXPECT_NE(sgp->node().as_state(kRc), AsState::Active);
  EXPECT_EQ(sgp->node().errors().sent_of(ErrorCode::InvalidRoutingContext), 1U);
  // Its own RC it may activate.
  asp_b->request([](AspClient& client, TimePoint now) { return client.activate(AspActivation{{kRcB}, TrafficMode::Loadshare}, now); });
  ASSERT_TRUE(run_until(io, [&] { return asp_b->active_for(kRcB); }));

  // A host that is no configured peer (127.0.0.3) never gets in.
  Recorder ev_x;
  auto cx = asp_config();
  cx.transport.local_addresses = {ip("127.0.0.3")};
  cx.asp.asp_id = 9;
  auto asp_x = AspConnection::create(io, cx, ev_x);
  asp_x->start();
  ASSERT_TRUE(run_until(io, [&] { return ev_x.downs > 0; }));
  EXPECT_EQ(sgp->node().refused_associations(), 1U);
  EXPECT_EQ(sgp_events.refused, 1);

  // The owner (127.0.0.1: the routed source towards 127.0.0.1) activates RC 100.
  start_asp(asp_config());
  ASSERT_TRUE(wait_active());
  EXPECT_EQ(sgp->node().active_asps(kRc).size(), 1U);
  EXPECT_FALSE(asp_b->active_for(kRc));
  asp_b->stop();
  asp_x->stop();
}

// Log lines and actions name associations by id: unique in the process,
// never reused, never 0 (every controller link used to be "assoc 0").
TEST_F(DriverFixture, AssociationIdsAreUniqueInTheProcessAndNeverZero) {
  open_sgp(sgp_config());
  std::set<AssocId> ids;
  std::vector<std::shared_ptr<AspConnection>> asps;
  std::vector<Recorder> events(3);
  for (auto& ev : events) {
    asps.push_back(AspConnection::create(io, asp_config(), ev));
    ids.insert(asps.back()->id());
    asps.back()->start();
  }
  ASSERT_TRUE(run_until(io, [&] { return sgp->associations().size() == 3; }));
  for (auto id : sgp->associations()) ids.insert(id);
  EXPECT_EQ(ids.size(), 6U);  // three ASP ends, three SGP ends
  EXPECT_EQ(ids.count(0), 0U);
  const auto next = next_association_id();
  EXPECT_GT(next, *ids.rbegin());
  for (auto& a : asps) a->stop();
}

TEST_F(DriverFixture, AbortedAssociationGivesAspDownAsPendingThenTr) {
  open_sgp(sgp_config());
  start_asp(asp_config());
  ASSERT_TRUE(wait_active());
  asp->stop();  // SCTP ABORT / TCP reset from the ASP side
  ASSERT_TRUE(run_until(io, [&] { return sgp_events.saw_as(AsState::Active, AsState::Pending); }));
  EXPECT_TRUE(sgp_events.saw_asp_down());
  const auto pending_at = Clock::now();

  // Queued while AS-PENDING, dropped and counted when T(r) expires.
  for (std::uint8_t sls = 0; sls < 3; ++sls) {
    auto d = make_data(kSgPc, kAspPc, 3, sls, sls, std::nullopt);
    sgp->route(to_view(d));
  }
  EXPECT_EQ(sgp->node().queued(kRc), 3U);
  ASSERT_TRUE(run_until(io, [&] { return !sgp_events.saw_as(AsState::Pending, AsState::Down) ? false : true; }, 3s));
  const auto waited = Clock::now() - pending_at;
  EXPECT_GE(waited, 250ms);  // T(r) = 300 ms, measured from slightly after it started
  EXPECT_EQ(sgp_events.drops_of(DropReason::TrExpired), 3U);
  EXPECT_EQ(sgp->counters().timers_fired, 1U);
}

// A minimal SGP that answers ASPUP and ASPAC by hand and, when `silent`,
// never answers BEAT: the ASP's T(beat) must find it dead.
struct HandSgp : tr::AssociationHandler {
  bool silent = false;
  int beats = 0;
  void on_message(tr::Association& a, tr::Message&& m) override {
    auto msg = decode(m.payload);
    if (!msg) return;
    if (std::holds_alternative<AspUp>(*msg)) {
      (void)a.send(tr::Message{3, 0, false, encode(Message{AspUpAck{}})});
    } else if (auto* ac = std::get_if<AspAc>(&*msg)) {
      AspAcAck ack;
      ack.traffic_mode = ac->traffic_mode;
      ack.routing_contexts = ac->routing_contexts;
      (void)a.send(tr::Message{3, 0, false, encode(Message{ack})});
    } else if (auto* b = std::get_if<Beat>(&*msg)) {
      ++beats;
      if (!silent) (void)a.send(tr::Message{3, m.stream, false, encode(Message{BeatAck{b->heartbeat_data}})});
    }
  }
};

TEST_F(DriverFixture, BeatKeepsAnAnsweringPeerAndAbortsASilentOne) {
  for (bool silent : {false, true}) {
    SCOPED_TRACE(silent ? "silent peer" : "answering peer");
    auto hand = std::make_shared<HandSgp>();
    hand->silent = silent;
    auto lc = transport();
    lc.local_addresses = {ip("127.0.0.1")};
    std::shared_ptr<tr::Association> served;
    auto l = tr::Listener::open(io, lc, [&](const std::shared_ptr<tr::Association>& a) {
      served = a;
      return hand;
    });
    ASSERT_TRUE(l.ok());
    AspConnectionConfig c;
    c.transport = transport();
    c.transport.remote_addresses = {ip("127.0.0.1")};
    c.transport.remote_port = (*l)->port();
    c.asp.activations = {AspActivation{{kRc}, TrafficMode::Loadshare}};
    c.asp.t_beat = Millis{100};
    c.reconnect = false;
    Recorder ev;
    auto conn = AspConnection::create(io, c, ev);
    conn->start();
    ASSERT_TRUE(run_until(io, [&] { return conn->active_for(kRc); }));
    // 2 x T(beat) = 200 ms without an answer is fatal; watch for 800 ms.
    run_until(io, [&] { return ev.downs > 0; }, 800ms);
    if (silent) {
      EXPECT_GE(hand->beats, 1);
      EXPECT_EQ(conn->counters().peer_unavailable, 1U);
      EXPECT_EQ(ev.downs, 1);
      EXPECT_EQ(conn->state(), AspState::Down);
    } else {
      EXPECT_GE(hand->beats, 5);  // about one per 100 ms over 800 ms
      EXPECT_EQ(conn->counters().peer_unavailable, 0U);
      EXPECT_EQ(ev.downs, 0);
      EXPECT_TRUE(conn->active_for(kRc));
    }
    conn->stop();
    (*l)->close();
    if (served) served->abort();
    run_until(io, [] { return false; }, 50ms);
  }
}

// Raw peer: sends bytes of its choice, records what comes back.
struct RawPeer : tr::AssociationHandler {
  bool up = false;
  std::vector<tr::Message> received;
  std::optional<tr::DownReason> down;
  void on_up(tr::Association&, const tr::AssociationInfo&) override { up = true; }
  void on_message(tr::Association&, tr::Message&& m) override { received.push_back(std::move(m)); }
  void on_down(tr::Association&, tr::DownReason r) override { down = r; }
  // Whether an M3UA message of type T came back.
  template <class T>
  bool got() const {
    for (const auto& m : received)
      if (auto msg = decode(m.payload); msg && std::holds_alternative<T>(*msg)) return true;
    return false;
  }
};

// A raw association from 127.0.0.1 to the fixture's SGP, up. Bound: a
// wildcard SCTP socket lists every address of the host in its INIT, and the
// SGP accepts a peer only when all of them are the peer's.
std::shared_ptr<tr::Association> connect_raw(DriverFixture& f, const std::shared_ptr<RawPeer>& peer) {
  auto c = f.transport();
  c.remote_addresses = {ip("127.0.0.1")};
  c.remote_port = f.sgp->port();
  c.local_addresses = {ip("127.0.0.1")};
  auto a = tr::connect(f.io, c, peer);
  if (!a.ok() || !run_until(f.io, [&] { return peer->up; })) return nullptr;
  return *a;
}

TEST_F(DriverFixture, MalformedM3uaGetsErrAndTheAssociationSurvives) {
  open_sgp(sgp_config());
  auto peer = std::make_shared<RawPeer>();
  auto a = connect_raw(*this, peer);
  ASSERT_TRUE(a);

  // Version 2 ASPUP: ERR Invalid Version (0x01).
  rserpool::Bytes bad = encode(Message{AspUp{}});
  bad[0] = 2;
  ASSERT_TRUE(a->send(tr::Message{3, 0, false, bad}).ok());
  // Truncated parameter: length field larger than the message.
  rserpool::Bytes trunc = encode(Message{AspUp{7, std::nullopt}});
  trunc.resize(trunc.size() - 2);
  ASSERT_TRUE(a->send(tr::Message{3, 0, false, trunc}).ok());
  // Not M3UA at all: counted and dropped, no answer.
  ASSERT_TRUE(a->send(tr::Message{99, 0, false, rserpool::Bytes{1, 2, 3, 4}}).ok());
  ASSERT_TRUE(run_until(io, [&] { return peer->received.size() >= 2; }));

  std::vector<ErrorCode> codes;
  for (const auto& m : peer->received) {
    EXPECT_EQ(m.ppid, 3U);
    auto msg = decode(m.payload);
    ASSERT_TRUE(msg.ok());
    ASSERT_TRUE(std::holds_alternative<Err>(*msg));
    codes.push_back(std::get<Err>(*msg).code);
  }
  EXPECT_EQ(codes.at(0), ErrorCode::InvalidVersion);
  EXPECT_NE(codes.at(1), ErrorCode::InvalidVersion);
  EXPECT_EQ(sgp->node().drops()[DropReason::Malformed], 2U);
  EXPECT_EQ(sgp->counters().foreign_ppid, 1U);

  // Still alive: a good ASPUP is answered.
  ASSERT_TRUE(a->send(tr::Message{3, 0, false, encode(Message{AspUp{}})}).ok());
  ASSERT_TRUE(run_until(io, [&] { return peer->got<AspUpAck>(); }));
  EXPECT_FALSE(peer->down.has_value());
  EXPECT_TRUE(a->is_up());
  a->abort();
}

// A peer whose ASP state outlived its association (osmo-stp 1.6 after a
// failed send) sends DATA on a new association without ASP Up: the ERR
// goes out and the association is aborted, so the peer starts over.
TEST_F(DriverFixture, DataBeforeAspUpResetsTheAssociation) {
  open_sgp(sgp_config());
  auto peer = std::make_shared<RawPeer>();
  auto a = connect_raw(*this, peer);
  ASSERT_TRUE(a);
  auto d = make_data(kAspPc, kSgPc, 5, 3, 9, kRc);
  ASSERT_TRUE(a->send(tr::Message{3, 1, false, encode(Message{d})}).ok());
  ASSERT_TRUE(run_until(io, [&] { return peer->down.has_value(); }));
  EXPECT_EQ(sgp->node().stale_asp_resets(), 1U);
  EXPECT_EQ(sgp->node().drops()[DropReason::BeforeAspUp], 1U);
  // A new association that starts with ASP Up is served.
  auto peer2 = std::make_shared<RawPeer>();
  auto a2 = connect_raw(*this, peer2);
  ASSERT_TRUE(a2);
  ASSERT_TRUE(a2->send(tr::Message{3, 0, false, encode(Message{AspUp{}})}).ok());
  ASSERT_TRUE(run_until(io, [&] { return peer2->got<AspUpAck>(); }));
  EXPECT_FALSE(peer2->down.has_value());
  a2->abort();
}

TEST_F(DriverFixture, UndeliveredDataIsHandedBackDecoded) {
  // DATA sent towards an association that is already gone comes back to
  // the user as Data, never silently lost.
  open_sgp(sgp_config());
  start_asp(asp_config());
  ASSERT_TRUE(wait_active());
  const auto id = sgp->associations().at(0);
  auto assoc = sgp->association(id);
  ASSERT_TRUE(assoc);
  assoc->abort();  // the SGP side drops it; the core hears of it with on_down
  auto d = make_data(kSgPc, kAspPc, 3, 4, 42, std::nullopt);
  sgp->route(to_view(d));  // the node still sees the ASP active: Send to a dead association
  ASSERT_TRUE(run_until(io, [&] { return sgp_events.downs > 0; }));
  ASSERT_EQ(sgp_events.handed_back.size(), 1U);
  EXPECT_EQ(seq_of(sgp_events.handed_back[0]), 42U);
  EXPECT_EQ(sgp_events.handed_back[0].protocol_data.sls, 4);
  EXPECT_EQ(sgp->counters().data_handed_back, 1U);
}

// Issue 16: a DATA built in the sender's own buffer (the one its user part
// was received into) arrives as the encoder would have written it; one the
// transport refuses comes back to the user from the refused bytes, whole,
// and counted as before.
TEST_F(DriverFixture, DataBuiltInTheCallersBufferArrivesOrIsHandedBackWhole) {
  open_sgp(sgp_config());
  start_asp(asp_config());
  ASSERT_TRUE(wait_active());
  auto d = make_data(kAspPc, kSgPc, 5, 3, 17, kRc, 45);
  Bytes user_part = d.protocol_data.user_data;
  user_part.reserve(256);
  DataView v = to_view(d);
  v.protocol_data.user_data = ByteView(user_part);
  ASSERT_TRUE(asp->send_data(v, user_part));
  EXPECT_TRUE(user_part.empty()) << "the buffer went with the DATA";
  ASSERT_TRUE(run_until(io, [&] { return sgp_events.data.size() == 1; }));
  EXPECT_EQ(sgp_events.data[0].data.protocol_data, d.protocol_data);
  const auto sent_before = asp->counters().messages_out;

  // Refused by the transport (closing: not_connected) while the ASP core
  // still counts itself active: handed back from the bytes send() left.
  user_part = d.protocol_data.user_data;
  user_part.reserve(256);
  const auto* storage = user_part.data();
  v.protocol_data.user_data = ByteView(user_part);
  auto assoc = asp->association();
  ASSERT_TRUE(assoc);
  assoc->close();
  ASSERT_TRUE(asp->send_data(v, user_part));
  EXPECT_TRUE(user_part.empty());
  ASSERT_EQ(asp_events.handed_back.size(), 1U);
  const auto& back = asp_events.handed_back[0];
  EXPECT_EQ(back.protocol_data, d.protocol_data);
  EXPECT_EQ(back.routing_context, std::optional<std::uint32_t>{kRc});
  EXPECT_EQ(back.protocol_data.user_data.data(), storage) << "handed back in the same buffer, not a copy";
  EXPECT_EQ(asp->counters().send_refused, 1U);
  EXPECT_EQ(asp->counters().data_handed_back, 1U);
  EXPECT_EQ(asp->counters().messages_out, sent_before);
}

TEST_F(DriverFixture, AspReconnectsWithBackoffAndComesBackActive) {
  open_sgp(sgp_config());
  auto c = asp_config();
  c.reconnect = true;
  c.reconnect_initial = Millis{50};
  start_asp(c);
  ASSERT_TRUE(wait_active());
  EXPECT_EQ(asp->connects(), 1U);
  // The SGP side drops the association: the ASP goes down and reconnects.
  auto assoc = sgp->association(sgp->associations().at(0));
  ASSERT_TRUE(assoc);
  assoc->abort();
  ASSERT_TRUE(run_until(io, [&] { return asp_events.downs > 0; }));
  EXPECT_EQ(asp->state(), AspState::Down);
  ASSERT_TRUE(wait_active());
  EXPECT_EQ(asp->connects(), 2U);
  EXPECT_EQ(sgp->associations().size(), 1U);
  // Traffic flows again on the new association.
  auto d = make_data(kAspPc, kSgPc, 5, 3, 9, kRc);
  const auto before = sgp_events.data.size();
  ASSERT_TRUE(asp->send_data(to_view(d)));
  ASSERT_TRUE(run_until(io, [&] { return sgp_events.data.size() > before; }));
  asp->stop();
  run_until(io, [&] { return asp_events.downs > 1; }, 1s);
  EXPECT_EQ(asp->connects(), 2U);  // stop() ends the reconnecting
}

TEST_F(DriverFixture, AspRegistersItsKeyWithRkmThenActivatesTheAssignedRc) {
  auto sc = sgp_config();
  sc.sgp.application_servers.clear();
  sc.sgp.rkm = RkmPermission::DynamicPermitted;
  open_sgp(std::move(sc));
  auto c = asp_config();
  c.asp.activations.clear();
  RoutingKey k;
  k.local_rk_id = 5;
  k.traffic_mode = TrafficMode::Override;
  k.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{kAspPc}}, {}, {}}};
  c.registrations = {k};
  start_asp(c);
  ASSERT_TRUE(run_until(io, [&] { return !asp->registered_contexts().empty() && asp->active_for(asp->registered_contexts()[0]); }));
  const auto rc = asp->registered_contexts()[0];
  ASSERT_EQ(asp_events.reg.size(), 1U);
  EXPECT_EQ(asp_events.reg[0].result.local_rk_id, 5U);
  EXPECT_EQ(asp_events.reg[0].result.status, RegistrationStatus::Success);
  EXPECT_EQ(sgp->node().as_state(rc), AsState::Active);
  // The SGP routes DATA for the registered DPC to the ASP.
  auto d = make_data(kSgPc, kAspPc, 5, 1, 1, std::nullopt);
  sgp->route(to_view(d));
  ASSERT_TRUE(run_until(io, [&] { return !asp_events.data.empty(); }));
  EXPECT_EQ(asp_events.data[0].data.routing_context, rc);
}

}  // namespace
