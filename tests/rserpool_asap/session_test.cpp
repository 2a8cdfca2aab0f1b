// Enhanced-mode sessions with virtual time: failover order (cookie, then
// callback, then re-sent data), business-card failover order, PE-side
// cookie and business card.
#include "rserpool/asap/session.hpp"

#include "asap_test_support.hpp"

namespace rserpool::asap::test {
namespace {

const PoolHandle kSessionPool("sg-pool");
constexpr SessionId kSessionSid = 7;

Bytes session_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

struct Fixture {
  PoolUser pu{[] {
    PoolUserConfig c;
    c.hunt = hunt_config(1);
    c.stale_cache = 30s;
    return c;
  }()};
  Session session;

  static SessionConfig config(Duration silence) {
    SessionConfig c{kSessionSid, kSessionPool, 16};
    c.silence_timeout = silence;
    return c;
  }
  explicit Fixture(Duration silence = Duration::zero()) : session(config(silence), pu) {
    Actions a;
    session.open(at(0ms), a);
    pu.on_registrar_connected(0, at(0ms), a);
    Actions r;
    wire::asap::HandleResolutionResponse resp;
    resp.pool_handle = kSessionPool;
    resp.pool_elements = {pe(1), pe(2), pe(3)};
    pu.on_registrar_message(0, resp, at(1ms), r);
    Actions o;
    session.on_pool_resolved(at(1ms), o);
    EXPECT_EQ(only<ConnectPe>(o).pe.id, 1u);
  }

  void establish() {
    Actions c;
    session.on_pe_connected(at(2ms), c);
    ASSERT_EQ(session.state(), Session::State::established);
  }
};

TEST(Session, DataSentBeforeTheAssociationIsUpIsFlushedOnConnect) {
  Fixture f;
  Actions a;
  EXPECT_TRUE(f.session.send(session_bytes("a"), at(1ms), a));
  EXPECT_TRUE(f.session.send(session_bytes("b"), at(1ms), a));
  EXPECT_TRUE(a.empty());
  Actions c;
  f.session.on_pe_connected(at(2ms), c);
  auto d = all<SendDataToPe>(c);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].data, session_bytes("a"));
  EXPECT_EQ(d[1].data, session_bytes("b"));
  EXPECT_EQ(count<FailoverCallback>(c), 0u);
  Actions s;
  EXPECT_TRUE(f.session.send(session_bytes("c"), at(3ms), s));
  EXPECT_EQ(only<SendDataToPe>(s).data, session_bytes("c"));
}

TEST(Session, FailoverSendsCookieThenCallbackThenResentDataInOrder) {
  Fixture f;
  f.establish();
  Actions m;
  f.session.on_pe_message(wire::asap::Cookie{session_bytes("old-cookie")}, at(3ms), m);
  f.session.on_pe_message(wire::asap::Cookie{session_bytes("new-cookie")}, at(4ms), m);

  Actions fail;
  f.session.on_pe_failure({session_bytes("u1"), session_bytes("u2")}, at(5ms), fail);
  EXPECT_EQ(count<DisconnectPe>(fail), 1u);
  auto unreach = sent<wire::asap::EndpointUnreachable>(fail);
  ASSERT_EQ(unreach.size(), 1u);
  EXPECT_EQ(unreach[0].second.pe_id, 1u);
  EXPECT_EQ(only<ConnectPe>(fail).pe.id, 2u);
  // Sent during the failover: queued behind the unsent messages.
  Actions q;
  EXPECT_TRUE(f.session.send(session_bytes("d3"), at(6ms), q));
  EXPECT_TRUE(q.empty());

  Actions up;
  f.session.on_pe_connected(at(7ms), up);
  ASSERT_EQ(up.size(), 6u);
  const auto* echo = std::get_if<SendControlToPe>(&up[0]);
  ASSERT_NE(echo, nullptr);
  const auto* ce = std::get_if<wire::asap::CookieEcho>(&echo->message);
  ASSERT_NE(ce, nullptr);
  EXPECT_EQ(ce->cookie, session_bytes("new-cookie"));  // only the newest cookie
  const auto* cb = std::get_if<FailoverCallback>(&up[1]);
  ASSERT_NE(cb, nullptr);
  EXPECT_EQ(cb->failed_pe, 1u);
  EXPECT_EQ(cb->new_pe.id, 2u);
  ASSERT_TRUE(std::holds_alternative<SendDataToPe>(up[2]));
  EXPECT_EQ(std::get<SendDataToPe>(up[2]).data, session_bytes("u1"));
  EXPECT_EQ(std::get<SendDataToPe>(up[3]).data, session_bytes("u2"));
  EXPECT_EQ(std::get<SendDataToPe>(up[4]).data, session_bytes("d3"));
  const auto* ind = std::get_if<FailoverIndication>(&up[5]);
  ASSERT_NE(ind, nullptr);
  EXPECT_EQ(ind->new_pe, 2u);
  EXPECT_EQ(f.session.current_pe(), PeIdentifier{2});
}

TEST(Session, FailureBeforeFirstConnectIsNoFailover) {
  Fixture f;
  Actions a;
  EXPECT_TRUE(f.session.send(session_bytes("first"), at(1ms), a));
  Actions fail;
  f.session.on_pe_connect_failed(at(2ms), fail);
  EXPECT_EQ(sent<wire::asap::EndpointUnreachable>(fail).at(0).second.pe_id, 1u);
  EXPECT_EQ(only<ConnectPe>(fail).pe.id, 2u);
  Actions up;
  f.session.on_pe_connected(at(3ms), up);
  EXPECT_EQ(count<FailoverCallback>(up), 0u);
  EXPECT_EQ(count<FailoverIndication>(up), 0u);
  EXPECT_EQ(only<SendDataToPe>(up).data, session_bytes("first"));
}

TEST(Session, FailoverWithoutCookieStartsWithTheCallback) {
  Fixture f;
  f.establish();
  Actions fail;
  f.session.on_pe_failure({session_bytes("u1")}, at(5ms), fail);
  Actions up;
  f.session.on_pe_connected(at(6ms), up);
  ASSERT_EQ(up.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<FailoverCallback>(up[0]));
  EXPECT_TRUE(std::holds_alternative<SendDataToPe>(up[1]));
  EXPECT_TRUE(std::holds_alternative<FailoverIndication>(up[2]));
}

TEST(Session, BusinessCardOrderOverridesThePoolPolicy) {
  Fixture f;
  f.establish();
  Actions m;
  wire::asap::BusinessCard card{kSessionPool, {pe(1), pe(3), pe(2)}};
  f.session.on_pe_message(card, at(3ms), m);
  EXPECT_EQ(only<BusinessCardReceived>(m).entries, 3u);
  Actions fail;
  f.session.on_pe_failure({}, at(4ms), fail);
  // Round robin would pick PE 2; the card says 3 (1 is the failed one).
  EXPECT_EQ(only<ConnectPe>(fail).pe.id, 3u);
  // 3 cannot be reached either: next in the card is 2.
  Actions fail2;
  f.session.on_pe_connect_failed(at(5ms), fail2);
  EXPECT_EQ(only<ConnectPe>(fail2).pe.id, 2u);
  EXPECT_EQ(sent<wire::asap::EndpointUnreachable>(fail2).at(0).second.pe_id, 3u);
  Actions up;
  f.session.on_pe_connected(at(6ms), up);
  // The callback names the PE that failed last.
  EXPECT_EQ(only<FailoverCallback>(up).failed_pe, 3u);
  EXPECT_EQ(only<FailoverIndication>(up).new_pe, 2u);
}

TEST(Session, AllPesFailedResolvesAgainThenResumes) {
  Fixture f;
  f.establish();
  Actions a;
  f.session.on_pe_failure({session_bytes("x")}, at(3ms), a);  // 1 -> 2
  f.session.on_pe_connect_failed(at(4ms), a);          // 2 -> 3
  Actions last;
  f.session.on_pe_connect_failed(at(5ms), last);       // 3 -> nobody
  EXPECT_EQ(count<ConnectPe>(last), 0u);
  EXPECT_EQ(sent<wire::asap::HandleResolution>(last).size(), 1u);
  EXPECT_EQ(f.session.state(), Session::State::resolving);
  // Every PE reported exactly once along the way.
  EXPECT_EQ(sent<wire::asap::EndpointUnreachable>(a).size() + sent<wire::asap::EndpointUnreachable>(last).size(),
            3u);
  wire::asap::HandleResolutionResponse resp;
  resp.pool_handle = kSessionPool;
  resp.pool_elements = {pe(1), pe(2), pe(3), pe(4)};
  Actions r;
  f.pu.on_registrar_message(0, resp, at(6ms), r);
  ASSERT_EQ(count<PoolResolved>(r), 1u);
  Actions o;
  f.session.on_pool_resolved(at(6ms), o);
  EXPECT_EQ(only<ConnectPe>(o).pe.id, 4u);  // the others failed recently
  Actions up;
  f.session.on_pe_connected(at(7ms), up);
  EXPECT_EQ(only<FailoverCallback>(up).failed_pe, 3u);
  EXPECT_EQ(only<SendDataToPe>(up).data, session_bytes("x"));
}

TEST(Session, EmptyPoolStallsTheSession) {
  Fixture f;
  f.establish();
  Actions a;
  f.session.on_pe_failure({}, at(3ms), a);
  f.session.on_pe_connect_failed(at(4ms), a);
  f.session.on_pe_connect_failed(at(5ms), a);
  wire::asap::HandleResolutionResponse resp;
  resp.pool_handle = kSessionPool;
  resp.pool_elements = {pe(1)};
  Actions r;
  f.pu.on_registrar_message(0, resp, at(6ms), r);
  Actions o;
  f.session.on_pool_resolved(at(6ms), o);
  EXPECT_EQ(only<SessionStalled>(o).session, kSessionSid);
  EXPECT_EQ(f.session.state(), Session::State::stalled);
  EXPECT_TRUE(f.session.send(session_bytes("kept"), at(7ms), o));
  EXPECT_EQ(f.session.queued(), 1u);
}

TEST(Session, SendToASpecificPeMovesTheSessionWithoutFailover) {
  Fixture f;
  f.establish();
  Actions a;
  EXPECT_TRUE(f.session.send_to(3, session_bytes("to-3"), at(3ms), a));
  EXPECT_EQ(count<DisconnectPe>(a), 1u);
  EXPECT_EQ(only<ConnectPe>(a).pe.id, 3u);
  EXPECT_TRUE(sent<wire::asap::EndpointUnreachable>(a).empty());
  Actions up;
  f.session.on_pe_connected(at(4ms), up);
  EXPECT_EQ(count<FailoverCallback>(up), 0u);
  EXPECT_EQ(only<SendDataToPe>(up).data, session_bytes("to-3"));
  Actions b;
  EXPECT_FALSE(f.session.send_to(99, session_bytes("nobody"), at(5ms), b));
  EXPECT_TRUE(b.empty());
}

TEST(Session, PassThroughNeedsAnEstablishedAssociation) {
  Fixture f;
  Actions a;
  EXPECT_FALSE(f.session.send_pass_through(session_bytes("p"), at(3ms), a));
  f.establish();
  EXPECT_TRUE(f.session.send_pass_through(session_bytes("p"), at(3ms), a));
  EXPECT_EQ(only<SendDataToPe>(a).data, session_bytes("p"));
  // Pass-through data is not re-sent on failover: only what the transport
  // hands back is.
  Actions fail;
  f.session.on_pe_failure({}, at(3ms), fail);
  Actions up;
  f.session.on_pe_connected(at(4ms), up);
  EXPECT_EQ(count<SendDataToPe>(up), 0u);
}

TEST(Session, QueueIsBounded) {
  Fixture f;
  Actions a;
  for (int i = 0; i < 16; ++i) EXPECT_TRUE(f.session.send(session_bytes("q"), at(1ms), a));
  EXPECT_FALSE(f.session.send(session_bytes("overflow"), at(1ms), a));
}

TEST(Session, CloseDropsEverything) {
  Fixture f;
  f.establish();
  Actions a;
  f.session.close(at(3ms), a);
  EXPECT_EQ(count<DisconnectPe>(a), 1u);
  EXPECT_FALSE(f.session.send(session_bytes("late"), at(4ms), a));
}

// While stalled the core asks the registrar again every stale_cache (PEs
// may have registered since): it never waits for the driver to poll.
TEST(Session, StalledSessionResolvesAgainEveryStaleCache) {
  Fixture f;  // stale_cache 30 s
  f.establish();
  Actions a;
  f.session.on_pe_failure({}, at(3ms), a);
  f.session.on_pe_connect_failed(at(4ms), a);
  f.session.on_pe_connect_failed(at(5ms), a);
  wire::asap::HandleResolutionResponse resp;
  resp.pool_handle = kSessionPool;
  resp.pool_elements = {pe(1)};
  Actions r;
  f.pu.on_registrar_message(0, resp, at(6ms), r);
  Actions o;
  f.session.on_pool_resolved(at(6ms), o);
  ASSERT_EQ(f.session.state(), Session::State::stalled);
  EXPECT_TRUE(armed_at(f.session, TimerKind::session_stall_retry, at(6ms + 30s)));
  EXPECT_TRUE(fire(f.session, at(6ms + 30s) - 1ns).empty());
  Actions t = fire(f.session, at(6ms + 30s));
  EXPECT_EQ(sent<wire::asap::HandleResolution>(t).size(), 1u);
  EXPECT_TRUE(armed_at(f.session, TimerKind::session_stall_retry, at(6ms + 60s)));
  // A PE appears: the session connects and stops asking.
  resp.pool_elements = {pe(4)};
  f.pu.on_registrar_message(0, resp, at(31s), r);
  Actions o2;
  f.session.on_pool_resolved(at(31s), o2);
  EXPECT_EQ(only<ConnectPe>(o2).pe.id, 4u);
  EXPECT_FALSE(armed(f.session, TimerKind::session_stall_retry));
}

// silence_timeout: data sent and nothing heard from the PE for that long
// declares it failed. The association is aborted (AbortPe); what the
// transport hands back comes with the failure report and goes, in order,
// to the next PE.
TEST(Session, SilentPeIsAbortedAndFailedOver) {
  Fixture f(250ms);
  f.establish();
  EXPECT_FALSE(f.session.next_deadline().has_value());  // nothing sent yet
  Actions s;
  ASSERT_TRUE(f.session.send(session_bytes("q1"), at(10ms), s));
  ASSERT_TRUE(f.session.send(session_bytes("q2"), at(20ms), s));
  // The first unanswered data starts the wait; more data does not push it.
  EXPECT_TRUE(armed_at(f.session, TimerKind::session_silence, at(10ms + 250ms)));
  EXPECT_TRUE(fire(f.session, at(259ms)).empty());
  Actions t = fire(f.session, at(260ms));
  const auto abort = only<AbortPe>(t);
  EXPECT_EQ(abort.pe, 1u);
  EXPECT_EQ(abort.silent_for, 250ms);
  EXPECT_EQ(f.session.state(), Session::State::aborting);
  // Sent while the abort is under way: held, not handed to the dying PE.
  Actions h;
  ASSERT_TRUE(f.session.send(session_bytes("q3"), at(261ms), h));
  EXPECT_TRUE(h.empty());
  EXPECT_FALSE(f.session.send_pass_through(session_bytes("p"), at(261ms), h));
  // The transport hands back q2 (q1 was delivered) and reports the loss.
  Actions fail;
  f.session.on_pe_failure({session_bytes("q2")}, at(262ms), fail);
  EXPECT_EQ(sent<wire::asap::EndpointUnreachable>(fail).at(0).second.pe_id, 1u);
  EXPECT_EQ(only<ConnectPe>(fail).pe.id, 2u);
  Actions up;
  f.session.on_pe_connected(at(263ms), up);
  auto d = all<SendDataToPe>(up);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].data, session_bytes("q2"));
  EXPECT_EQ(d[1].data, session_bytes("q3"));
  EXPECT_EQ(only<FailoverCallback>(up).failed_pe, 1u);
  // The re-sent data waits for the new PE's answer in turn.
  EXPECT_TRUE(armed_at(f.session, TimerKind::session_silence, at(263ms + 250ms)));
}

TEST(Session, AnyMessageFromThePeStopsTheSilenceTimer) {
  Fixture f(250ms);
  f.establish();
  Actions s;
  f.session.send(session_bytes("ask"), at(10ms), s);
  f.session.on_pe_data(at(200ms));
  EXPECT_FALSE(armed(f.session, TimerKind::session_silence));
  EXPECT_TRUE(fire(f.session, at(1s)).empty());
  f.session.send(session_bytes("ask-again"), at(2s), s);
  Actions m;
  f.session.on_pe_message(wire::asap::Cookie{session_bytes("c")}, at(2100ms), m);  // control counts too
  EXPECT_FALSE(armed(f.session, TimerKind::session_silence));
  EXPECT_EQ(f.session.state(), Session::State::established);
  // Off (the default): data never arms it.
  Fixture plain;
  plain.establish();
  Actions p;
  plain.session.send(session_bytes("x"), at(3ms), p);
  EXPECT_FALSE(plain.session.next_deadline().has_value());
}

TEST(PeSession, CookieBusinessCardAndCookieIndication) {
  PeSession s(42, kSessionPool);
  Actions a;
  s.set_cookie(session_bytes("state-1"), a);
  s.send_business_card({pe(2), pe(3)}, a);
  ASSERT_EQ(a.size(), 2u);
  const auto& c = std::get<SendControlToPu>(a[0]);
  EXPECT_EQ(c.pu, 42u);
  EXPECT_EQ(std::get<wire::asap::Cookie>(c.message).cookie, session_bytes("state-1"));
  const auto& b = std::get<wire::asap::BusinessCard>(std::get<SendControlToPu>(a[1]).message);
  EXPECT_EQ(b.pool_handle, kSessionPool);
  ASSERT_EQ(b.pool_elements.size(), 2u);
  EXPECT_EQ(b.pool_elements[0].id, 2u);
  Actions e;
  s.on_pu_message(wire::asap::CookieEcho{session_bytes("state-1")}, e);
  auto ind = only<CookieIndication>(e);
  EXPECT_EQ(ind.pu, 42u);
  EXPECT_EQ(ind.cookie, session_bytes("state-1"));
  Actions other;
  s.on_pu_message(wire::asap::Cookie{session_bytes("x")}, other);
  EXPECT_TRUE(other.empty());
}

}  // namespace
}  // namespace rserpool::asap::test
