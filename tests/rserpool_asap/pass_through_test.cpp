// DATA_SEND by transport address (pass-through channels of a session), with
// virtual time: channel reuse, waiting while connecting, failure reporting
// without re-send, refusals, and no effect on the session's current PE.
#include "rserpool/asap/pass_through.hpp"

#include "asap_test_support.hpp"
#include "rserpool/asap/session.hpp"

namespace rserpool::asap::test {
namespace {

const PoolHandle kPassPool("sg-pool");
constexpr SessionId kPassSid = 9;

Bytes pass_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

TransportParameter address(const char* ip, std::uint16_t port, TransportProtocol p = TransportProtocol::sctp) {
  TransportParameter t;
  t.protocol = p;
  t.port = port;
  t.addresses.push_back(*IpAddress::parse(ip));
  return t;
}

// A session served by PE 1 over an established association.
struct PassThroughFixture {
  PoolUser pu{[] {
    PoolUserConfig c;
    c.hunt = hunt_config(1);
    c.stale_cache = 30s;
    return c;
  }()};
  Session session{[] {
    SessionConfig c{kPassSid, kPassPool, 16};
    c.pass_through.max_channels = 2;
    c.pass_through.max_queued = 3;
    return c;
  }(), pu};

  PassThroughFixture() {
    Actions a;
    session.open(at(0ms), a);
    pu.on_registrar_connected(0, at(0ms), a);
    wire::asap::HandleResolutionResponse resp;
    resp.pool_handle = kPassPool;
    resp.pool_elements = {pe(1), pe(2)};
    Actions r;
    pu.on_registrar_message(0, resp, at(1ms), r);
    Actions o;
    session.on_pool_resolved(at(1ms), o);
    Actions c;
    session.on_pe_connected(at(2ms), c);
    EXPECT_EQ(session.state(), Session::State::established);
  }
};

TEST(PassThrough, FirstSendOpensAChannelThatLaterSendsReuse) {
  PassThroughFixture f;
  Actions a;
  auto ch = f.session.send_to_address(address("192.0.2.7", 4000), pass_bytes("x1"), a);
  ASSERT_TRUE(ch.ok());
  auto c = only<ConnectAddress>(a);
  EXPECT_EQ(c.session, kPassSid);
  EXPECT_EQ(c.channel, *ch);
  EXPECT_EQ(c.address, address("192.0.2.7", 4000));
  EXPECT_EQ(count<SendDataToAddress>(a), 0u);  // waits for the connection
  Actions b;
  ASSERT_TRUE(f.session.send_to_address(address("192.0.2.7", 4000), pass_bytes("x2"), b).ok());
  EXPECT_TRUE(b.empty());

  Actions up;
  f.session.on_address_connected(*ch, up);
  auto sends = all<SendDataToAddress>(up);
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_EQ(sends[0].data, pass_bytes("x1"));
  EXPECT_EQ(sends[1].data, pass_bytes("x2"));
  EXPECT_EQ(sends[0].channel, *ch);

  // Same destination, addresses in another order: the same channel.
  TransportParameter two = address("192.0.2.7", 4000);
  two.addresses.push_back(*IpAddress::parse("2001:db8::7"));
  TransportParameter two_reversed = two;
  std::swap(two_reversed.addresses[0], two_reversed.addresses[1]);
  Actions d;
  auto ch2 = f.session.send_to_address(two, pass_bytes("y"), d);
  ASSERT_TRUE(ch2.ok());
  EXPECT_NE(*ch2, *ch);
  EXPECT_EQ(count<ConnectAddress>(d), 1u);
  Actions e;
  auto ch3 = f.session.send_to_address(two_reversed, pass_bytes("z"), e);
  ASSERT_TRUE(ch3.ok());
  EXPECT_EQ(*ch3, *ch2);
  EXPECT_EQ(count<ConnectAddress>(e), 0u);
  // Nothing of this touched the session's own association.
  for (const Actions* x : {&a, &b, &up, &d, &e}) {
    EXPECT_EQ(count<SendDataToPe>(*x), 0u);
    EXPECT_EQ(count<ConnectPe>(*x), 0u);
    EXPECT_EQ(count<DisconnectPe>(*x), 0u);
  }
}

TEST(PassThrough, RefusedConnectionIsReportedAndLeavesTheSessionAlone) {
  PassThroughFixture f;
  Actions a;
  auto ch = f.session.send_to_address(address("192.0.2.9", 9), pass_bytes("a"), a);
  ASSERT_TRUE(ch.ok());
  ASSERT_TRUE(f.session.send_to_address(address("192.0.2.9", 9), pass_bytes("b"), a).ok());
  Actions fail;
  f.session.on_address_failed(*ch, 0, fail);
  auto r = only<PassThroughFailed>(fail);
  EXPECT_EQ(r.session, kPassSid);
  EXPECT_EQ(r.channel, *ch);
  EXPECT_EQ(r.reason, PassThroughFailure::connect_failed);
  EXPECT_EQ(r.dropped, 2u);
  EXPECT_EQ(r.address, address("192.0.2.9", 9));
  // No failover, no report to the registrar, no re-send.
  EXPECT_EQ(fail.size(), 1u);
  EXPECT_EQ(f.session.state(), Session::State::established);
  EXPECT_EQ(f.session.current_pe(), 1u);
  EXPECT_EQ(f.session.pass_through().open_channels(), 0u);
  Actions s;
  EXPECT_TRUE(f.session.send(pass_bytes("to-pool"), at(5ms), s));
  EXPECT_EQ(only<SendDataToPe>(s).data, pass_bytes("to-pool"));
  // A late or repeated failure of the forgotten channel changes nothing.
  Actions late;
  f.session.on_address_failed(*ch, 3, late);
  EXPECT_TRUE(late.empty());
  // The next send tries again on a new channel.
  Actions again;
  auto ch2 = f.session.send_to_address(address("192.0.2.9", 9), pass_bytes("c"), again);
  ASSERT_TRUE(ch2.ok());
  EXPECT_NE(*ch2, *ch);
  EXPECT_EQ(count<ConnectAddress>(again), 1u);
}

TEST(PassThrough, LostChannelDropsWhatTheTransportHandedBack) {
  PassThroughFixture f;
  Actions a;
  auto ch = f.session.send_to_address(address("198.51.100.1", 5000, TransportProtocol::tcp), pass_bytes("a"), a);
  ASSERT_TRUE(ch.ok());
  Actions up;
  f.session.on_address_connected(*ch, up);
  Actions fail;
  f.session.on_address_failed(*ch, 4, fail);
  auto r = only<PassThroughFailed>(fail);
  EXPECT_EQ(r.reason, PassThroughFailure::lost);
  EXPECT_EQ(r.dropped, 4u);
  EXPECT_EQ(count<SendDataToAddress>(fail), 0u);
  EXPECT_EQ(count<SendDataToPe>(fail), 0u);
}

TEST(PassThrough, RefusalsAreValues) {
  PassThroughFixture f;
  Actions a;
  TransportParameter udp = address("192.0.2.1", 7, TransportProtocol::udp);
  EXPECT_EQ(f.session.send_to_address(udp, pass_bytes("a"), a).error(), PassThroughError::bad_address);
  EXPECT_EQ(f.session.send_to_address(address("192.0.2.1", 0), pass_bytes("a"), a).error(), PassThroughError::bad_address);
  EXPECT_EQ(f.session.send_to_address(address("0.0.0.0", 7), pass_bytes("a"), a).error(), PassThroughError::bad_address);
  EXPECT_EQ(f.session.send_to_address(address("::", 7), pass_bytes("a"), a).error(), PassThroughError::bad_address);
  TransportParameter none = address("192.0.2.1", 7);
  none.addresses.clear();
  EXPECT_EQ(f.session.send_to_address(none, pass_bytes("a"), a).error(), PassThroughError::bad_address);
  EXPECT_TRUE(a.empty());

  // max_queued 3 while connecting.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(f.session.send_to_address(address("192.0.2.1", 7), pass_bytes("q"), a).ok());
  EXPECT_EQ(f.session.send_to_address(address("192.0.2.1", 7), pass_bytes("q"), a).error(), PassThroughError::queue_full);
  // max_channels 2.
  ASSERT_TRUE(f.session.send_to_address(address("192.0.2.2", 7), pass_bytes("q"), a).ok());
  EXPECT_EQ(f.session.send_to_address(address("192.0.2.3", 7), pass_bytes("q"), a).error(),
            PassThroughError::too_many_channels);
  EXPECT_EQ(f.session.pass_through().open_channels(), 2u);

  // close_address frees a slot; close() closes every channel and refuses more.
  Actions c;
  f.session.close_address(address("192.0.2.2", 7), c);
  EXPECT_EQ(count<DisconnectAddress>(c), 1u);
  ASSERT_TRUE(f.session.send_to_address(address("192.0.2.3", 7), pass_bytes("q"), c).ok());
  Actions cl;
  f.session.close(at(9ms), cl);
  EXPECT_EQ(count<DisconnectAddress>(cl), 2u);
  EXPECT_EQ(f.session.send_to_address(address("192.0.2.1", 7), pass_bytes("q"), cl).error(),
            PassThroughError::session_closed);
}

TEST(PassThrough, PassThroughOnTheCurrentAssociationIsMarkedNotToBeResent) {
  PassThroughFixture f;
  Actions a;
  ASSERT_TRUE(f.session.send_pass_through(pass_bytes("p"), at(3ms), a));
  EXPECT_TRUE(only<SendDataToPe>(a).pass_through);
  Actions b;
  ASSERT_TRUE(f.session.send(pass_bytes("d"), at(3ms), b));
  EXPECT_FALSE(only<SendDataToPe>(b).pass_through);
}

}  // namespace
}  // namespace rserpool::asap::test
