// The TCP mapping protocol core in virtual time: two sessions wired back
// to back, bytes moved by hand, no sockets and no clock.
#include <gtest/gtest.h>

#include "rserpool/transport/tcp_mapping_session.hpp"

using namespace rserpool;
using namespace rserpool::transport;
using namespace rserpool::transport::tcpmap;
using namespace std::chrono_literals;

namespace {

Message msg(std::uint32_t i, std::uint16_t stream = 0) {
  Bytes p;
  ByteWriter w(p);
  w.u32(i);
  w.u32(~i);
  return Message{3, stream, false, p};
}

struct Pair {
  TimePoint now{};
  SessionOptions opt_a;
  SessionOptions opt_b;
  Session a;
  Session b;
  SessionEvents ev_a;  // what a received
  SessionEvents ev_b;

  explicit Pair(SessionOptions oa = {}, SessionOptions ob = {})
      : opt_a(oa), opt_b(ob), a(oa, TimePoint{}), b(ob, TimePoint{}) {}

  // Moves everything each side has to say to the other until both are quiet.
  void pump() {
    for (int i = 0; i < 100; ++i) {
      Bytes ab, ba;
      a.produce(ab);
      b.produce(ba);
      if (ab.empty() && ba.empty()) return;
      b.on_bytes(ab, now, ev_b);
      a.on_bytes(ba, now, ev_a);
    }
    FAIL() << "pump did not settle";
  }
};

}  // namespace

TEST(TcpMappingSession, InitNegotiatesStreamsBothWays) {
  SessionOptions oa;
  oa.out_streams = 10;
  oa.in_streams = 4;
  SessionOptions ob;
  ob.out_streams = 8;
  ob.in_streams = 6;
  Pair p(oa, ob);
  EXPECT_FALSE(p.a.up());
  p.pump();
  ASSERT_TRUE(p.a.up());
  ASSERT_TRUE(p.b.up());
  EXPECT_TRUE(p.ev_a.became_up);
  EXPECT_EQ(p.a.outbound_streams(), 6);  // min(a out 10, b in 6)
  EXPECT_EQ(p.a.inbound_streams(), 4);   // min(a in 4, b out 8)
  EXPECT_EQ(p.b.outbound_streams(), 4);
  EXPECT_EQ(p.b.inbound_streams(), 6);
}

TEST(TcpMappingSession, MessagesQueuedBeforeUpFlowAfterInit) {
  Pair p;
  for (std::uint32_t i = 0; i < 5; ++i) ASSERT_TRUE(p.a.submit(msg(i)).ok());
  p.pump();
  ASSERT_EQ(p.ev_b.messages.size(), 5u);
  for (std::uint32_t i = 0; i < 5; ++i) EXPECT_EQ(p.ev_b.messages[i], msg(i));
  EXPECT_EQ(p.a.unacked(), 0u);  // b acknowledged cumulatively
  EXPECT_EQ(p.a.pending(), 0u);
}

TEST(TcpMappingSession, MessagesOnStreamsThePeerRefusesAreHandedBackAtUp) {
  SessionOptions ob;
  ob.in_streams = 2;
  Pair p({}, ob);
  ASSERT_TRUE(p.a.submit(msg(1, 1)).ok());
  ASSERT_TRUE(p.a.submit(msg(2, 5)).ok());  // fine by a's configuration, not by b's
  p.pump();
  ASSERT_EQ(p.ev_a.refused.size(), 1u);
  EXPECT_EQ(p.ev_a.refused[0], msg(2, 5));
  ASSERT_EQ(p.ev_b.messages.size(), 1u);
  EXPECT_EQ(p.a.submit(msg(3, 2)).error(), SendError::invalid_stream);
}

TEST(TcpMappingSession, UnackedAndPendingHandedBackInOrder) {
  SessionOptions oa;
  oa.max_unacked = 3;
  Pair p(oa, {});
  p.pump();
  for (std::uint32_t i = 0; i < 10; ++i) ASSERT_TRUE(p.a.submit(msg(i)).ok());
  Bytes wire;
  p.a.produce(wire);  // writes 3 (window), b never sees them
  EXPECT_EQ(p.a.unacked(), 3u);
  EXPECT_EQ(p.a.pending(), 7u);
  auto back = p.a.take_undelivered();
  ASSERT_EQ(back.size(), 10u);
  for (std::uint32_t i = 0; i < 10; ++i) EXPECT_EQ(back[i], msg(i));
}

TEST(TcpMappingSession, AcknowledgedMessagesAreNotHandedBack) {
  Pair p;
  p.pump();
  for (std::uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(p.a.submit(msg(i)).ok());
  p.pump();  // delivered and acked
  for (std::uint32_t i = 4; i < 6; ++i) ASSERT_TRUE(p.a.submit(msg(i)).ok());
  Bytes lost;
  p.a.produce(lost);  // written, never arrives
  auto back = p.a.take_undelivered();
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0], msg(4));
  EXPECT_EQ(back[1], msg(5));
}

TEST(TcpMappingSession, WindowLimitsUnackedAndReopensOnAck) {
  SessionOptions oa;
  oa.max_unacked = 2;
  Pair p(oa, {});
  p.pump();
  for (std::uint32_t i = 0; i < 7; ++i) ASSERT_TRUE(p.a.submit(msg(i)).ok());
  p.pump();
  EXPECT_EQ(p.ev_b.messages.size(), 7u);
  EXPECT_EQ(p.a.unacked(), 0u);
}

TEST(TcpMappingSession, SendRefusals) {
  SessionOptions oa;
  oa.max_message_size = 10;
  oa.send_queue_limit = 2;
  oa.out_streams = 2;
  Pair p(oa, {});
  EXPECT_EQ(p.a.submit(Message{0, 0, false, Bytes(11)}).error(), SendError::message_too_large);
  EXPECT_EQ(p.a.submit(Message{0, 2, false, Bytes(1)}).error(), SendError::invalid_stream);
  EXPECT_TRUE(p.a.submit(Message{0, 1, false, Bytes(10)}).ok());
  EXPECT_TRUE(p.a.submit(Message{0, 0, false, Bytes(0)}).ok());
  EXPECT_EQ(p.a.submit(Message{0, 0, false, Bytes(1)}).error(), SendError::queue_full);
  p.a.request_shutdown();
  EXPECT_EQ(p.a.submit(Message{0, 0, false, Bytes(1)}).error(), SendError::not_connected);
}

// A refused submit leaves the message with the caller (issue 16: a relay
// hands a refused DATA back from its own bytes).
TEST(TcpMappingSession, RefusalLeavesTheMessageWithTheCaller) {
  SessionOptions oa;
  oa.max_message_size = 10;
  oa.send_queue_limit = 1;
  oa.out_streams = 2;
  Pair p(oa, {});
  Message too_large{7, 0, false, Bytes(11, 1)};
  EXPECT_EQ(p.a.submit(std::move(too_large)).error(), SendError::message_too_large);
  EXPECT_EQ(too_large, (Message{7, 0, false, Bytes(11, 1)}));
  Message bad_stream{7, 2, false, Bytes(3, 2)};
  EXPECT_EQ(p.a.submit(std::move(bad_stream)).error(), SendError::invalid_stream);
  EXPECT_EQ(bad_stream, (Message{7, 2, false, Bytes(3, 2)}));
  Message first{7, 1, false, Bytes(4, 3)};
  ASSERT_TRUE(p.a.submit(std::move(first)).ok());
  EXPECT_TRUE(first.payload.empty());
  Message full{7, 1, false, Bytes(5, 4)};
  EXPECT_EQ(p.a.submit(std::move(full)).error(), SendError::queue_full);
  EXPECT_EQ(full, (Message{7, 1, false, Bytes(5, 4)}));
  p.a.request_shutdown();
  EXPECT_EQ(p.a.submit(std::move(full)).error(), SendError::not_connected);
  EXPECT_EQ(full, (Message{7, 1, false, Bytes(5, 4)}));
}

// The queue (unwritten plus unacknowledged) is bounded in bytes too; an
// empty queue takes any one message up to max_message_size.
TEST(TcpMappingSession, QueueBoundedInBytesAndReleasedByAcks) {
  SessionOptions oa;
  oa.send_queue_bytes = 1000;
  Pair p(oa, {});
  p.pump();
  EXPECT_TRUE(p.a.submit(Message{0, 0, false, Bytes(600)}).ok());
  EXPECT_TRUE(p.a.submit(Message{0, 0, false, Bytes(400)}).ok());
  EXPECT_EQ(p.a.queued_bytes(), 1000u);
  EXPECT_EQ(p.a.submit(Message{0, 0, false, Bytes(1)}).error(), SendError::queue_full);
  Bytes out;
  p.a.produce(out);  // written: still held until acknowledged
  EXPECT_EQ(p.a.queued_bytes(), 1000u);
  EXPECT_EQ(p.a.submit(Message{0, 0, false, Bytes(1)}).error(), SendError::queue_full);
  SessionEvents ev;
  p.b.on_bytes(out, p.now, ev);
  Bytes ack;
  p.b.produce(ack);
  p.a.on_bytes(ack, p.now, p.ev_a);
  EXPECT_EQ(p.a.queued_bytes(), 0u);
  EXPECT_TRUE(p.a.submit(Message{0, 0, false, Bytes(2000)}).ok()) << "an empty queue takes a large message";
  EXPECT_EQ(p.a.submit(Message{0, 0, false, Bytes(1)}).error(), SendError::queue_full);
  EXPECT_EQ(p.a.take_undelivered().size(), 1u);
  EXPECT_EQ(p.a.queued_bytes(), 0u);
}

TEST(TcpMappingSession, HeartbeatAfterSilenceAndTimeoutWithoutAnswer) {
  SessionOptions o;
  o.heartbeat_interval = 100ms;
  o.heartbeat_timeout = 350ms;
  Pair p(o, o);
  p.pump();  // INIT both ways at t=0
  EXPECT_EQ(p.a.next_deadline(), TimePoint{} + 100ms);
  EXPECT_EQ(p.a.on_timer(TimePoint{} + 99ms), TimerVerdict::ok);
  EXPECT_EQ(p.a.on_timer(TimePoint{} + 100ms), TimerVerdict::heartbeat_due);
  Bytes hb;
  p.a.produce(hb);
  EXPECT_EQ(hb.size(), kHeaderSize);
  EXPECT_EQ(p.a.heartbeats_sent(), 1u);
  // Peer is silent (frozen): probes every interval, then gives up.
  EXPECT_EQ(p.a.next_deadline(), TimePoint{} + 200ms);
  EXPECT_EQ(p.a.on_timer(TimePoint{} + 200ms), TimerVerdict::heartbeat_due);
  EXPECT_EQ(p.a.on_timer(TimePoint{} + 300ms), TimerVerdict::heartbeat_due);
  EXPECT_EQ(p.a.next_deadline(), TimePoint{} + 350ms);
  EXPECT_EQ(p.a.on_timer(TimePoint{} + 350ms), TimerVerdict::timed_out);
}

// A process that was not scheduled for longer than the timeout (a loaded
// host) must not declare its peer dead on waking: the peer's answers may be
// unread in the socket. It probes and gives the peer a whole timeout window;
// a peer that stays silent through it is still declared dead.
TEST(TcpMappingSession, OurOwnStallIsNotThePeersSilence) {
  SessionOptions o;
  o.heartbeat_interval = 100ms;
  o.heartbeat_timeout = 400ms;
  Pair p(o, o);
  p.pump();  // INIT both ways at t=0
  EXPECT_EQ(p.a.on_timer(TimePoint{} + 100ms), TimerVerdict::heartbeat_due);
  // a stalls from t=100ms to t=2s; its timer fires late.
  EXPECT_EQ(p.a.on_timer(TimePoint{} + 2s), TimerVerdict::heartbeat_due);
  EXPECT_EQ(p.a.next_deadline(), TimePoint{} + 2s + 100ms);
  EXPECT_EQ(p.a.on_timer(TimePoint{} + 2s + 100ms), TimerVerdict::heartbeat_due);
  // The peer answers (its data was waiting): alive, no timeout.
  p.now = TimePoint{} + 2s + 150ms;
  p.pump();
  EXPECT_NE(p.a.on_timer(TimePoint{} + 2s + 200ms), TimerVerdict::timed_out);

  // The same stall with a peer that really is silent: down one timeout
  // after the wake-up, not before.
  Pair q(o, o);
  q.pump();
  EXPECT_EQ(q.a.on_timer(TimePoint{} + 100ms), TimerVerdict::heartbeat_due);
  EXPECT_EQ(q.a.on_timer(TimePoint{} + 2s), TimerVerdict::heartbeat_due);
  for (auto t = 2s + 100ms; t < 2s + 400ms; t += 100ms)
    EXPECT_EQ(q.a.on_timer(TimePoint{} + t), TimerVerdict::heartbeat_due) << t.count();
  EXPECT_EQ(q.a.next_deadline(), TimePoint{} + 2s + 400ms);
  EXPECT_EQ(q.a.on_timer(TimePoint{} + 2s + 400ms), TimerVerdict::timed_out);
}

TEST(TcpMappingSession, HeartbeatAnsweredKeepsAssociationAlive) {
  SessionOptions o;
  o.heartbeat_interval = 100ms;
  o.heartbeat_timeout = 350ms;
  Pair p(o, o);
  p.pump();
  for (int step = 1; step <= 20; ++step) {
    p.now = TimePoint{} + step * 100ms;
    EXPECT_NE(p.a.on_timer(p.now), TimerVerdict::timed_out);
    EXPECT_NE(p.b.on_timer(p.now), TimerVerdict::timed_out);
    p.pump();
  }
  EXPECT_GT(p.a.heartbeats_sent() + p.b.heartbeats_sent(), 0u);
}

TEST(TcpMappingSession, TrafficSuppressesHeartbeats) {
  SessionOptions o;
  o.heartbeat_interval = 100ms;
  o.heartbeat_timeout = 350ms;
  Pair p(o, o);
  p.pump();
  for (int step = 1; step <= 20; ++step) {
    p.now = TimePoint{} + step * 50ms;
    ASSERT_TRUE(p.a.submit(msg(static_cast<std::uint32_t>(step))).ok());
    ASSERT_TRUE(p.b.submit(msg(static_cast<std::uint32_t>(step))).ok());
    p.pump();
    EXPECT_EQ(p.a.on_timer(p.now), TimerVerdict::ok);
  }
  EXPECT_EQ(p.a.heartbeats_sent(), 0u);
}

TEST(TcpMappingSession, ShutdownWaitsForAcknowledgement) {
  Pair p;
  p.pump();
  ASSERT_TRUE(p.a.submit(msg(1)).ok());
  p.a.request_shutdown();
  Bytes first;
  p.a.produce(first);
  EXPECT_FALSE(p.a.shutdown_sent());  // DATA still unacknowledged
  p.b.on_bytes(first, p.now, p.ev_b);
  p.pump();
  EXPECT_TRUE(p.a.shutdown_sent());
  EXPECT_TRUE(p.ev_b.peer_shutdown);
  EXPECT_EQ(p.ev_b.messages.size(), 1u);
}

namespace {
SessionEvents feed(Session& s, const Bytes& b) {
  SessionEvents ev;
  s.on_bytes(b, TimePoint{}, ev);
  return ev;
}
Bytes frames(std::initializer_list<Frame> fs) {
  Bytes out;
  for (const auto& f : fs) FrameEncoder::encode(f, out);
  return out;
}
}  // namespace

TEST(TcpMappingSession, ProtocolViolations) {
  {
    Session s({}, TimePoint{});
    auto ev = feed(s, frames({Frame::data(1, 0, 0, false, {})}));
    EXPECT_EQ(ev.error, SessionError::data_before_init);
    EXPECT_TRUE(s.failed());
  }
  {
    Session s({}, TimePoint{});
    auto ev = feed(s, frames({Frame::init(4, 4, 1), Frame::init(4, 4, 1)}));
    EXPECT_EQ(ev.error, SessionError::duplicate_init);
  }
  {
    Session s({}, TimePoint{});
    auto ev = feed(s, frames({Frame::init(4, 4, 7), Frame::data(8, 0, 0, false, {})}));
    EXPECT_EQ(ev.error, SessionError::bad_sequence);
  }
  {
    Session s({}, TimePoint{});  // accepts 16 inbound streams; peer offers 32
    auto ev = feed(s, frames({Frame::init(32, 4, 1), Frame::data(1, 0, 20, false, {})}));
    EXPECT_EQ(ev.error, SessionError::invalid_stream);
  }
  {
    Session s({}, TimePoint{});
    auto ev = feed(s, frames({Frame::init(4, 4, 1), Frame::control(FrameType::data_ack, 5)}));
    EXPECT_EQ(ev.error, SessionError::bad_ack);
  }
  {
    Session s({}, TimePoint{});
    auto ev = feed(s, frames({Frame::init(4, 4, 1), Frame::control(FrameType::shutdown, 0),
                              Frame::data(1, 0, 0, false, {})}));
    EXPECT_EQ(ev.error, SessionError::data_after_shutdown);
  }
  {
    SessionOptions o;
    o.max_message_size = 8;
    Session s(o, TimePoint{});
    auto ev = feed(s, frames({Frame::init(4, 4, 1), Frame::data(1, 0, 0, false, Bytes(9))}));
    EXPECT_EQ(ev.error, SessionError::oversized_frame);
    EXPECT_EQ(ev.frame_error, FrameError::oversized);
  }
  {
    Session s({}, TimePoint{});
    auto ev = feed(s, Bytes(16, 0xff));
    EXPECT_EQ(ev.error, SessionError::malformed_frame);
  }
}

TEST(TcpMappingSession, SequenceNumbersWrap) {
  Session s({}, TimePoint{});
  auto ev = feed(s, frames({Frame::init(4, 4, 0xfffffffe), Frame::data(0xfffffffe, 0, 0, false, {}),
                            Frame::data(0xffffffff, 0, 0, false, {}), Frame::data(0, 0, 0, false, {})}));
  EXPECT_FALSE(ev.error);
  EXPECT_EQ(ev.messages.size(), 3u);
  Bytes out;
  s.produce(out);  // INIT then DATA-ACK 0
  FrameDecoder d(100);
  std::size_t consumed = 0;
  auto init = d.next(out, consumed);
  ASSERT_TRUE(init.ok() && init->has_value());
  auto ack = d.next(ByteView(out).subspan(consumed), consumed);
  ASSERT_TRUE(ack.ok() && ack->has_value());
  EXPECT_EQ((*ack)->type, FrameType::data_ack);
  EXPECT_EQ((*ack)->sequence, 0u);
}

// produce_with() writes exactly the bytes it asked room for, as many as
// output_size() announced, in
// produce()'s order (control frames, then DATA within the window and the
// byte bound, then SHUTDOWN), and nothing past them: the TCP driver writes
// into a buffer that keeps older, longer frames beyond (issue 16).
TEST(TcpMappingSession, ProduceWithWritesWhatItAskedRoomFor) {
  SessionOptions o;
  o.max_unacked = 3;
  o.heartbeat_interval = 1s;
  Session s(o, TimePoint{});
  auto ev = feed(s, frames({Frame::init(4, 4, 1), Frame::data(1, 0, 0, false, Bytes(5)),
                            Frame::data(2, 0, 0, false, Bytes(6)), Frame::control(FrameType::heartbeat, 7),
                            Frame::control(FrameType::heartbeat, 8)}));
  ASSERT_FALSE(ev.error);
  ASSERT_TRUE(s.up());
  ASSERT_EQ(s.on_timer(TimePoint{} + 1s), TimerVerdict::heartbeat_due);
  for (std::uint32_t i = 0; i < 5; ++i) ASSERT_TRUE(s.submit(msg(i)).ok());

  const auto decode = [](ByteView bytes) {
    FrameDecoder d(1000);
    std::vector<Frame> out;
    std::size_t pos = 0;
    while (pos < bytes.size()) {
      std::size_t consumed = 0;
      auto f = d.next(bytes.subspan(pos), consumed);
      EXPECT_TRUE(f.ok());
      if (!f.ok()) break;
      pos += consumed;
      if (f->has_value()) out.push_back(std::move(**f));
    }
    EXPECT_TRUE(d.idle()) << "a frame cut short";
    return out;
  };
  // Into a buffer longer than asked for, filled with a marker.
  const auto into_marked = [&](std::size_t max_bytes) {
    const std::size_t need = s.output_size(max_bytes);
    Bytes buf(need + 32, 0xEE);
    std::size_t asked = 0;
    const std::size_t n = s.produce_with(
        [&](std::size_t room) {
          asked = room;
          return buf.data();
        },
        max_bytes);
    EXPECT_EQ(n, need);
    EXPECT_EQ(asked, need);
    for (std::size_t i = need; i < buf.size(); ++i) EXPECT_EQ(buf[i], 0xEE) << "written past the room asked for at " << i;
    return decode(ByteView(buf.data(), std::min(n, need)));
  };

  // INIT, the two heartbeats answered, the DATA-ACK, our heartbeat, then
  // DATA up to the window of 3.
  EXPECT_EQ(s.output_size(), 5 * kHeaderSize + 3 * (kHeaderSize + 8));
  auto fs = into_marked(Session::kMaxOutput);
  ASSERT_EQ(fs.size(), 8u);
  EXPECT_EQ(fs[0].type, FrameType::init);
  EXPECT_EQ(fs[0].sequence, 1u);
  EXPECT_EQ(fs[1], Frame::control(FrameType::heartbeat_ack, 7));
  EXPECT_EQ(fs[2], Frame::control(FrameType::heartbeat_ack, 8));
  EXPECT_EQ(fs[3], Frame::control(FrameType::data_ack, 2));
  EXPECT_EQ(fs[4], Frame::control(FrameType::heartbeat, 1));
  for (std::uint32_t i = 0; i < 3; ++i) EXPECT_EQ(fs[5 + i], Frame::data(1 + i, 3, 0, false, msg(i).payload));
  EXPECT_EQ(s.unacked(), 3u);
  EXPECT_EQ(s.output_size(), 0u);  // the window is full and nothing else is due
  EXPECT_FALSE(s.has_output());
  EXPECT_TRUE(into_marked(Session::kMaxOutput).empty());

  // The window reopens; one byte of bound lets exactly one DATA frame go.
  ASSERT_FALSE(feed(s, frames({Frame::control(FrameType::data_ack, 3)})).error);
  EXPECT_EQ(s.output_size(1), kHeaderSize + 8);
  fs = into_marked(1);
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0], Frame::data(4, 3, 0, false, msg(3).payload));

  // SHUTDOWN only once everything written is acknowledged.
  s.request_shutdown();
  fs = into_marked(Session::kMaxOutput);
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0], Frame::data(5, 3, 0, false, msg(4).payload));
  EXPECT_FALSE(s.shutdown_sent());
  ASSERT_FALSE(feed(s, frames({Frame::control(FrameType::data_ack, 5)})).error);
  EXPECT_EQ(s.output_size(), kHeaderSize);
  fs = into_marked(Session::kMaxOutput);
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].type, FrameType::shutdown);
  EXPECT_TRUE(s.shutdown_sent());
  EXPECT_EQ(s.output_size(), 0u);
}
