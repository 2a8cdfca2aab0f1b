// RegistrarServer end to end: real associations (TCP mapping on the host,
// kernel SCTP in UML: SG_TEST_TRANSPORT), raw ASAP/ENRP clients built from
// the transport and the wire codecs, servers on ephemeral ports.
//
// Addresses: SG_TEST_V4 / SG_TEST_V6 (default 127.0.0.1 / ::1; in UML
// 198.18.0.1 / 2001:2::1).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "registrar/server.hpp"
#include "rserpool/transport/endpoint.hpp"
#include "rserpool/transport/udp_endpoint.hpp"
#include "rserpool/wire/asap.hpp"
#include "rserpool/wire/enrp.hpp"

namespace rserpool::registrar {
namespace {

namespace asap = wire::asap;
namespace enrp = wire::enrp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

transport::TransportKind test_kind() {
  const char* k = std::getenv("SG_TEST_TRANSPORT");
  return k && std::string(k) == "sctp" ? transport::TransportKind::sctp : transport::TransportKind::tcp;
}

IpAddress test_address(bool v6) {
  const char* v = std::getenv(v6 ? "SG_TEST_V6" : "SG_TEST_V4");
  auto a = IpAddress::parse(v ? v : (v6 ? "::1" : "127.0.0.1"));
  return *a;
}

// Collects what arrives on one association.
struct Client : transport::AssociationHandler {
  bool up = false, down = false;
  std::deque<transport::Message> inbox;
  bool auto_ack = false;  // answer ENDPOINT_KEEP_ALIVE like a live PE
  std::uint64_t keep_alives = 0;
  std::shared_ptr<transport::Association> association;

  void on_up(transport::Association&, const transport::AssociationInfo&) override { up = true; }
  void on_message(transport::Association& a, transport::Message&& m) override {
    if (auto_ack) {
      auto d = asap::decode(m.payload);
      if (d) {
        if (auto* k = std::get_if<asap::EndpointKeepAlive>(&d.value().message)) {
          ++keep_alives;
          asap::EndpointKeepAliveAck ack{k->pool_handle, k->pe_id.value_or(0)};
          (void)a.send(transport::Message{11, 0, false, asap::encode(ack)});
          return;
        }
      }
    }
    inbox.push_back(std::move(m));
  }
  void on_down(transport::Association&, transport::DownReason) override { down = true; }
};

class ServerTest : public ::testing::TestWithParam<bool> {
 protected:
  bool v6() const { return GetParam(); }
  IpAddress addr() const { return test_address(v6()); }

  // Runs the loop until pred() or timeout.
  bool run_until(const std::function<bool()>& pred, Clock::duration timeout = 3s) {
    const auto deadline = Clock::now() + timeout;
    while (!pred()) {
      if (Clock::now() > deadline) return false;
      io.restart();
      io.run_for(2ms);
    }
    return true;
  }
  void run_for(Clock::duration d) {
    run_until([] { return false; }, d);
  }

  ServerConfig config(ServerIdentifier id) {
    ServerConfig c;
    c.core = RegistrarConfig::aggressive(id);
    c.core.seed = id;
    c.kind = test_kind();
    c.asap_addresses = {addr()};
    c.asap_port = 0;
    c.enrp_addresses = {addr()};
    c.enrp_port = 0;
    c.name = "reg-" + std::to_string(id);
    return c;
  }

  std::unique_ptr<RegistrarServer> start(ServerConfig c) {
    auto s = RegistrarServer::start(io, std::move(c));
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error());
    return s.ok() ? std::move(*s) : nullptr;
  }

  std::shared_ptr<Client> connect(std::uint16_t port, std::optional<IpAddress> from = {}) {
    auto client = std::make_shared<Client>();
    transport::EndpointConfig e;
    e.kind = test_kind();
    e.local_addresses = {from ? *from : addr()};
    e.remote_addresses = {addr()};
    e.remote_port = port;
    auto a = transport::connect(io, e, client);
    EXPECT_TRUE(a.ok());
    if (!a.ok()) return client;
    client->association = *a;
    EXPECT_TRUE(run_until([&] { return client->up || client->down; }));
    return client;
  }

  void send(Client& c, const asap::Message& m) {
    ASSERT_TRUE(c.association->send(transport::Message{11, 0, false, asap::encode(m)}).ok());
  }

  // The next ASAP message on `c`, decoded.
  std::optional<asap::Message> next(Client& c, Clock::duration timeout = 3s) {
    if (!run_until([&] { return !c.inbox.empty(); }, timeout)) return std::nullopt;
    auto m = std::move(c.inbox.front());
    c.inbox.pop_front();
    EXPECT_EQ(m.ppid, 11u);
    auto d = asap::decode(m.payload);
    EXPECT_TRUE(d.ok());
    if (!d.ok()) return std::nullopt;
    return std::move(d.value().message);
  }

  template <class T>
  T expect(Client& c) {
    auto m = next(c);
    EXPECT_TRUE(m.has_value()) << "no message";
    if (!m) return T{};
    EXPECT_TRUE(std::holds_alternative<T>(*m)) << "got " << asap::to_string(asap::message_type(*m));
    return std::holds_alternative<T>(*m) ? std::get<T>(*m) : T{};
  }

  PoolElementParameter pe(PeIdentifier id, std::optional<IpAddress> user = {}, std::int32_t life_ms = 60000) {
    PoolElementParameter p;
    p.id = id;
    p.registration_life_ms = life_ms;
    p.user_transport.protocol = TransportProtocol::sctp;
    p.user_transport.port = 5000;
    p.user_transport.addresses = {user ? *user : addr()};
    p.policy.type = PolicyType::round_robin;
    return p;
  }

  asap::RegistrationResponse register_pe(Client& c, const std::string& pool, const PoolElementParameter& p) {
    send(c, asap::Registration{PoolHandle(pool), p});
    return expect<asap::RegistrationResponse>(c);
  }

  asap::HandleResolutionResponse resolve(Client& c, const std::string& pool) {
    asap::HandleResolution r;
    r.pool_handle = PoolHandle(pool);
    send(c, r);
    return expect<asap::HandleResolutionResponse>(c);
  }

  boost::asio::io_context io;
};

TEST_P(ServerTest, RegisterResolveDeregister) {
  auto server = start(config(0x101));
  ASSERT_TRUE(server);
  EXPECT_NE(server->asap_port(), 0);
  EXPECT_NE(server->enrp_port(), 0);
  auto pe_client = connect(server->asap_port());
  auto pu = connect(server->asap_port());
  ASSERT_TRUE(pe_client->up && pu->up);

  auto rr = register_pe(*pe_client, "pool-a", pe(0x1234));
  EXPECT_FALSE(rr.rejected);
  EXPECT_EQ(rr.pe_id, 0x1234u);
  EXPECT_TRUE(rr.error.empty());

  auto res = resolve(*pu, "pool-a");
  EXPECT_TRUE(res.error.empty());
  ASSERT_EQ(res.pool_elements.size(), 1u);
  EXPECT_EQ(res.pool_elements[0].id, 0x1234u);
  EXPECT_EQ(res.pool_elements[0].home_registrar, 0x101u);
  EXPECT_EQ(res.pool_elements[0].user_transport.addresses, std::vector<IpAddress>{addr()});
  // The home registrar fills in the PE's ASAP transport from the association.
  ASSERT_TRUE(res.pool_elements[0].asap_transport.has_value());
  EXPECT_EQ(res.pool_elements[0].asap_transport->addresses.front(), addr());

  send(*pe_client, asap::Deregistration{PoolHandle("pool-a"), 0x1234});
  auto dr = expect<asap::DeregistrationResponse>(*pe_client);
  EXPECT_EQ(dr.pe_id, 0x1234u);
  EXPECT_TRUE(dr.error.empty());

  auto gone = resolve(*pu, "pool-a");
  ASSERT_FALSE(gone.error.empty());
  EXPECT_EQ(gone.error[0].code, ErrorCause::unknown_pool_handle);

  const auto& c = server->core().counters();
  EXPECT_EQ(c.registrations, 1u);
  EXPECT_EQ(c.deregistrations, 1u);
  EXPECT_EQ(c.resolutions, 2u);  // the unknown-pool answer included
  EXPECT_EQ(c.resolutions_unknown_pool, 1u);
  EXPECT_EQ(server->counters().asap_associations_accepted, 2u);
  EXPECT_EQ(server->counters().asap_messages_received, 4u);
}

TEST_P(ServerTest, DeregistrationOfAnotherPesIdentifierIsRefused) {
  auto server = start(config(0x102));
  ASSERT_TRUE(server);
  auto owner = connect(server->asap_port());
  auto intruder = connect(server->asap_port());
  EXPECT_FALSE(register_pe(*owner, "pool-b", pe(77)).rejected);
  send(*intruder, asap::Deregistration{PoolHandle("pool-b"), 77});
  auto dr = expect<asap::DeregistrationResponse>(*intruder);
  ASSERT_FALSE(dr.error.empty());
  EXPECT_EQ(dr.error[0].code, ErrorCause::rejected_security);
  EXPECT_EQ(server->core().handlespace().element_count(), 1u);
  EXPECT_EQ(server->core().counters().deregistrations_rejected, 1u);
}

TEST_P(ServerTest, RegistrationWithAnAddressOutsideTheAssociationIsRejected) {
  auto server = start(config(0x103));
  ASSERT_TRUE(server);
  auto c = connect(server->asap_port());
  const IpAddress foreign = *IpAddress::parse(v6() ? "2001:db8::99" : "192.0.2.99");
  auto rr = register_pe(*c, "pool-c", pe(5, foreign));
  EXPECT_TRUE(rr.rejected);
  ASSERT_FALSE(rr.error.empty());
  EXPECT_EQ(rr.error[0].code, ErrorCause::rejected_security);
  EXPECT_EQ(server->core().handlespace().element_count(), 0u);
  EXPECT_EQ(server->core().counters().registrations_rejected, 1u);
}

TEST_P(ServerTest, KeepAliveAnsweredKeepsThePeSilentPeIsRemoved) {
  auto cfg = config(0x104);
  // The interval is short so the test sees several audit rounds; the
  // timeout is long so a slow (UML, loaded) machine still answers in time:
  // this test is about the wiring, the timing rules are tested in virtual
  // time (tests/registrar/asap_server_test.cpp).
  cfg.core.keep_alive_interval = std::chrono::milliseconds{150};
  cfg.core.keep_alive_timeout = std::chrono::milliseconds{1500};
  auto server = start(cfg);
  ASSERT_TRUE(server);
  auto alive = connect(server->asap_port());
  auto silent = connect(server->asap_port());
  // Answering from before the registration: the first KEEP_ALIVE can come
  // 75 ms after it (interval - 50 %), while the second PE still registers.
  alive->auto_ack = true;
  EXPECT_FALSE(register_pe(*alive, "pool-d", pe(1)).rejected);
  EXPECT_FALSE(register_pe(*silent, "pool-d", pe(2)).rejected);
  const auto& hs = server->core().handlespace();
  ASSERT_TRUE(run_until([&] { return hs.element_count() == 1; }, 10s));
  run_for(600ms);  // several more audit rounds
  EXPECT_NE(hs.find(PoolHandle("pool-d"), 1), nullptr);
  EXPECT_EQ(hs.find(PoolHandle("pool-d"), 2), nullptr);
  EXPECT_GE(alive->keep_alives, 3u);
  const auto& c = server->core().counters();
  EXPECT_EQ(c.keep_alive_timeouts, 1u);
  EXPECT_GE(c.keep_alive_acks, 3u);
  // The silent PE saw its keep-alive (it just never answered).
  auto k = expect<asap::EndpointKeepAlive>(*silent);
  EXPECT_EQ(k.server_id, 0x104u);
  EXPECT_FALSE(k.home);
}

// Issue 16: the cores' OS timers move only earlier. Re-registrations push
// the PE's lifetime expiry (the registrar's next deadline here: no audits,
// and a life shorter than the first ENRP heartbeat's 2.4 s) out by however
// long each round trip took; none of them may touch the OS timer. A timer
// that fires meanwhile (nothing is due that early, but the driver may not
// know) arms once, so re-arms are bounded by expiries.
TEST_P(ServerTest, ReRegistrationsThatOnlyPushTheLifetimeOutReArmNoTimer) {
  auto cfg = config(0x10b);
  cfg.core.keep_alive_audit = false;
  auto server = start(cfg);
  ASSERT_TRUE(server);
  auto c = connect(server->asap_port());
  ASSERT_FALSE(register_pe(*c, "pool-t", pe(0x77, {}, 1500)).rejected);
  const auto before = server->counters();
  const auto first_deadline = server->core().next_deadline();
  ASSERT_TRUE(first_deadline.has_value());
  constexpr int kRounds = 50;
  for (int i = 0; i < kRounds; ++i) {
    run_for(1ms);  // a later instant for each re-registration, whatever the clock's resolution
    ASSERT_FALSE(register_pe(*c, "pool-t", pe(0x77, {}, 1500)).rejected);
  }
  const auto after = server->counters();
  ASSERT_TRUE(server->core().next_deadline().has_value());
  EXPECT_GT(*server->core().next_deadline(), *first_deadline) << "the premise: the deadline moved later";
  EXPECT_EQ(server->core().counters().reregistrations, static_cast<std::uint64_t>(kRounds));
  EXPECT_LE(after.timer_rearms - before.timer_rearms, after.timers_fired - before.timers_fired)
      << kRounds << " re-registrations pushed the deadline out; the OS timer was re-armed "
      << after.timer_rearms - before.timer_rearms << " times";
}

// A clock that counts the readings a driver takes outside a TurnTime (a
// readiness event's or a timer expiry's single reading): the system calls
// that are not shared (issue 16).
class CountingClock final : public rserpool::Clock {
 public:
  TimePoint now() const override {
    if (TurnTime::current() == nullptr) ++outside_turn;
    return SteadyClock::instance().now();
  }
  mutable std::uint64_t outside_turn = 0;
};

// Issue 16: a timer expiry runs inside one TurnTime, so the registrar's
// handler (the core's on_timeout, the KEEP_ALIVEs it sends, the re-arm)
// takes no clock reading of its own; neither do the ACKs (a readiness
// event's reading).
TEST_P(ServerTest, KeepAliveRoundsReadTheClockOnlyInsideATurn) {
  CountingClock clock;
  auto cfg = config(0x10c);
  cfg.clock = &clock;
  cfg.core.keep_alive_interval = std::chrono::milliseconds{100};
  cfg.core.keep_alive_timeout = std::chrono::milliseconds{2000};  // a loaded machine still answers in time
  auto server = start(cfg);
  ASSERT_TRUE(server);
  auto c = connect(server->asap_port());
  c->auto_ack = true;
  ASSERT_FALSE(register_pe(*c, "pool-k", pe(0x78)).rejected);
  const auto reads_before = clock.outside_turn;
  const auto fired_before = server->counters().timers_fired;
  ASSERT_TRUE(run_until([&] { return server->core().counters().keep_alive_acks >= 4; }, 10s));
  EXPECT_GE(server->counters().timers_fired - fired_before, 4u);
  EXPECT_EQ(clock.outside_turn - reads_before, 0u)
      << "clock readings outside a turn over " << server->counters().timers_fired - fired_before << " expiries";
  EXPECT_EQ(server->core().counters().keep_alive_timeouts, 0u);
}

TEST_P(ServerTest, AssociationCloseRemovesItsPes) {
  auto server = start(config(0x105));
  ASSERT_TRUE(server);
  auto c = connect(server->asap_port());
  EXPECT_FALSE(register_pe(*c, "pool-e", pe(10)).rejected);
  EXPECT_FALSE(register_pe(*c, "pool-e", pe(11)).rejected);
  EXPECT_EQ(server->core().handlespace().element_count(), 2u);
  c->association->close();
  ASSERT_TRUE(run_until([&] { return server->core().handlespace().element_count() == 0; }));
  EXPECT_TRUE(run_until([&] { return server->asap_association_count() == 0; }));
  EXPECT_EQ(server->counters().asap_associations_closed, 1u);
}

TEST_P(ServerTest, GarbageGetsTheErrorReplyAndTheServerSurvives) {
  auto server = start(config(0x106));
  ASSERT_TRUE(server);
  auto c = connect(server->asap_port());
  auto raw = [&](Bytes b) { ASSERT_TRUE(c->association->send(transport::Message{11, 0, false, std::move(b)}).ok()); };
  // Unknown message type whose top bits ask for a report.
  raw(Bytes{0x45, 0x00, 0x00, 0x04});
  auto err = expect<asap::Error>(*c);
  ASSERT_FALSE(err.causes.empty());
  EXPECT_EQ(err.causes[0].code, ErrorCause::unrecognized_message);
  // Truncated REGISTRATIONs (length fixed up), a lone byte, random bytes.
  const Bytes good = asap::encode(asap::Registration{PoolHandle("pool-f"), pe(3)});
  for (std::size_t cut = 4; cut < good.size(); cut += 5) {
    Bytes bad(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    bad[2] = static_cast<std::uint8_t>(cut >> 8);
    bad[3] = static_cast<std::uint8_t>(cut & 0xff);
    raw(std::move(bad));
  }
  raw(Bytes{0x01});
  raw(Bytes{0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22});
  // A wrong PPID on the ASAP port is dropped and counted.
  ASSERT_TRUE(c->association->send(transport::Message{3, 0, false, Bytes{1, 2, 3, 4}}).ok());
  // The same association still works.
  run_for(100ms);
  c->inbox.clear();
  EXPECT_FALSE(register_pe(*c, "pool-f", pe(3)).rejected);
  EXPECT_EQ(server->core().handlespace().element_count(), 1u);
  std::uint64_t decode_errors = 0;
  for (auto n : server->core().counters().asap_decode_errors) decode_errors += n;
  EXPECT_GE(decode_errors, 3u);
  EXPECT_EQ(server->counters().asap_wrong_ppid, 1u);
}

TEST_P(ServerTest, RegistrationFloodIsRateLimitedAndCounted) {
  auto cfg = config(0x107);
  cfg.core.registration_rate = RateLimit{20, 10};
  auto server = start(cfg);
  ASSERT_TRUE(server);
  auto c = connect(server->asap_port());
  constexpr int kFlood = 100;
  for (int i = 1; i <= kFlood; ++i) send(*c, asap::Registration{PoolHandle("pool-g"), pe(static_cast<PeIdentifier>(i))});
  int accepted = 0, limited = 0;
  for (int i = 0; i < kFlood; ++i) {
    auto r = expect<asap::RegistrationResponse>(*c);
    if (!r.rejected) {
      ++accepted;
    } else if (!r.error.empty() && r.error[0].code == ErrorCause::lack_of_resources) {
      ++limited;
    }
  }
  EXPECT_EQ(accepted + limited, kFlood);
  EXPECT_GE(accepted, 10);
  EXPECT_LT(accepted, 40);  // burst 10 plus 20/s for the (short) time the flood takes
  const auto& k = server->core().counters();
  EXPECT_EQ(k.registrations, static_cast<std::uint64_t>(accepted));
  EXPECT_EQ(k.registrations_rate_limited, static_cast<std::uint64_t>(limited));
}

TEST_P(ServerTest, StopClosesEverythingAndIsIdempotent) {
  auto server = start(config(0x108));
  ASSERT_TRUE(server);
  auto c = connect(server->asap_port());
  EXPECT_FALSE(register_pe(*c, "pool-h", pe(1)).rejected);
  server->stop();
  server->stop();
  EXPECT_TRUE(run_until([&] { return c->down; }));
  server.reset();
  run_for(50ms);  // late notifications find no server: nothing happens
}

// Two registrars over ENRP. B is configured with A as peer; A trusts B's address.
class PeeringTest : public ServerTest {
 protected:
  ServerConfig fast(ServerIdentifier id) {
    auto c = config(id);
    c.core.peer_heartbeat_cycle = std::chrono::milliseconds{200};
    c.core.max_time_last_heard = std::chrono::milliseconds{600};
    c.core.max_time_no_response = std::chrono::milliseconds{300};
    c.core.takeover_expire = std::chrono::milliseconds{500};
    c.core.keep_alive_interval = std::chrono::milliseconds{5000};
    c.core.keep_alive_timeout = std::chrono::milliseconds{1000};
    c.peer_reconnect_interval = std::chrono::milliseconds{200};
    return c;
  }
};

TEST_P(PeeringTest, PeAtAIsResolvableAtBAndBTakesOverWhenAStops) {
  auto ca = fast(0xA);
  ca.enrp_allowed = {addr()};
  auto a = start(ca);
  ASSERT_TRUE(a);
  auto cb = fast(0xB);
  cb.enrp_peers = {TransportAddress{addr(), a->enrp_port()}};
  auto b = start(cb);
  ASSERT_TRUE(b);
  ASSERT_TRUE(run_until([&] { return a->core().peer_active(0xB) && b->core().peer_active(0xA); }));

  auto pe_client = connect(a->asap_port());
  EXPECT_FALSE(register_pe(*pe_client, "pool-x", pe(0x5151)).rejected);
  const auto& hsb = b->core().handlespace();
  ASSERT_TRUE(run_until([&] { return hsb.find(PoolHandle("pool-x"), 0x5151) != nullptr; }));
  EXPECT_EQ(hsb.find(PoolHandle("pool-x"), 0x5151)->owner(), 0xAu);

  auto pu = connect(b->asap_port());
  auto res = resolve(*pu, "pool-x");
  ASSERT_EQ(res.pool_elements.size(), 1u);
  EXPECT_EQ(res.pool_elements[0].id, 0x5151u);
  EXPECT_EQ(res.pool_elements[0].home_registrar, 0xAu);

  auto peers = b->peers();
  ASSERT_FALSE(peers.empty());
  EXPECT_EQ(peers[0].id, 0xAu);
  EXPECT_TRUE(peers[0].configured);
  EXPECT_TRUE(peers[0].association_up);

  // A goes away (as after a crash: it tells nobody); B must take over.
  a->stop();
  a.reset();
  ASSERT_TRUE(run_until([&] { return b->core().counters().takeovers_won == 1; }, 5s));
  const auto* e = hsb.find(PoolHandle("pool-x"), 0x5151);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->owner(), 0xBu);
  EXPECT_FALSE(b->core().peer_active(0xA));
  // B tried to reach the PE at its ASAP transport (H=1 keep-alive).
  EXPECT_TRUE(run_until([&] {
    return b->counters().element_connects + b->counters().element_connect_failures >= 1;
  }));
}

TEST_P(PeeringTest, PeerRestartIsFoundAgain) {
  auto ca = fast(0xA1);
  ca.enrp_allowed = {addr()};
  auto a = start(ca);
  ASSERT_TRUE(a);
  const std::uint16_t a_port = a->enrp_port();
  auto cb = fast(0xB1);
  cb.enrp_peers = {TransportAddress{addr(), a_port}};
  auto b = start(cb);
  ASSERT_TRUE(b);
  ASSERT_TRUE(run_until([&] { return b->core().peer_active(0xA1); }));
  a->stop();
  a.reset();
  ASSERT_TRUE(run_until([&] { return !b->core().peer_active(0xA1); }, 5s));
  // A comes back on the same port with a new identity (as rsplib does).
  ca.enrp_port = a_port;
  ca.core.server_id = 0xA2;
  a = start(ca);
  ASSERT_TRUE(a);
  EXPECT_TRUE(run_until([&] { return b->core().peer_active(0xA2) && a->core().peer_active(0xB1); }, 5s));
}

TEST_P(ServerTest, EnrpFromAnUnconfiguredAddressIsRefused) {
  auto server = start(config(0x109));  // no peers, nothing allowed
  ASSERT_TRUE(server);
  auto intruder = std::make_shared<Client>();
  transport::EndpointConfig e;
  e.kind = test_kind();
  e.local_addresses = {addr()};
  e.remote_addresses = {addr()};
  e.remote_port = server->enrp_port();
  auto assoc = transport::connect(io, e, intruder);
  ASSERT_TRUE(assoc.ok());
  enrp::Presence p;
  p.sender_id = 0x666;
  p.reply_required = true;
  ASSERT_TRUE((*assoc)->send(transport::Message{12, 0, false, enrp::encode(p)}).ok());
  ASSERT_TRUE(run_until([&] { return intruder->down; }));
  EXPECT_EQ(server->counters().enrp_associations_refused, 1u);
  EXPECT_EQ(server->counters().enrp_messages_received, 0u);
  EXPECT_TRUE(server->core().active_peers().empty());
  EXPECT_TRUE(intruder->inbox.empty());
}

TEST_P(ServerTest, AnnouncesItsAsapEndpoint) {
  std::vector<asap::ServerAnnounce> heard;
  transport::UdpConfig u;
  u.local_address = addr();
  auto rx = transport::UdpEndpoint::open(io, u, [&](const TransportAddress&, ByteView d) {
    auto m = asap::decode(d);
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(std::holds_alternative<asap::ServerAnnounce>(m.value().message));
    heard.push_back(std::get<asap::ServerAnnounce>(m.value().message));
  });
  ASSERT_TRUE(rx.ok());
  auto cfg = config(0x10a);
  cfg.announce_to = (*rx)->local_address();
  cfg.announce_interval = std::chrono::milliseconds{100};
  auto server = start(cfg);
  ASSERT_TRUE(server);
  ASSERT_TRUE(run_until([&] { return heard.size() >= 3; }));
  EXPECT_EQ(heard[0].server_id, 0x10au);
  ASSERT_EQ(heard[0].transports.size(), 1u);
  EXPECT_EQ(heard[0].transports[0].port, server->asap_port());
  EXPECT_EQ(heard[0].transports[0].addresses, std::vector<IpAddress>{addr()});
  EXPECT_EQ(heard[0].transports[0].protocol,
            test_kind() == transport::TransportKind::sctp ? TransportProtocol::sctp : TransportProtocol::tcp);
  EXPECT_GE(server->counters().announces_sent, 3u);
  server->stop();
  const auto n = heard.size();
  run_for(300ms);
  EXPECT_LE(heard.size(), n + 1);  // at most one already in flight
  (*rx)->close();
}

std::string family_name(const ::testing::TestParamInfo<bool>& info) { return info.param ? "v6" : "v4"; }

INSTANTIATE_TEST_SUITE_P(Family, ServerTest, ::testing::Bool(), family_name);
INSTANTIATE_TEST_SUITE_P(Family, PeeringTest, ::testing::Bool(), family_name);

}  // namespace
}  // namespace rserpool::registrar
