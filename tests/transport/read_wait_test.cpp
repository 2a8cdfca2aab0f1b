// ReadWait (rserpool/src/transport/read_wait.hpp): a readability wait with
// no epoll_ctl of its own. What a reader relies on: it completes when data
// arrives, also for data that arrived while nobody waited, it completes
// with an error when the descriptor is closed, and it never keeps its
// owner alive past the io_context.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/write.hpp>

#include <memory>

#include "../../rserpool/src/transport/read_wait.hpp"

namespace rserpool::transport::detail {
namespace {

namespace asio = boost::asio;

struct Reader {
  int calls = 0;
  boost::system::error_code last;
  static void on_ready(void* owner, const boost::system::error_code& ec) {
    auto* r = static_cast<Reader*>(owner);
    ++r->calls;
    r->last = ec;
  }
};

struct Pair {
  int fds[2] = {-1, -1};
  Pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0); }
  ~Pair() {
    if (fds[1] >= 0) ::close(fds[1]);
  }
  void put() const { EXPECT_EQ(::write(fds[1], "x", 1), 1); }
};

void drain(int fd) {
  char buf[64];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

TEST(ReadWait, CompletesWhenDataArrivesAndAgainForTheNextData) {
  asio::io_context io;
  Pair p;
  asio::posix::stream_descriptor sd(io, p.fds[0]);
  ReadWait wait(io);
  auto reader = std::make_shared<Reader>();
  // A fresh descriptor may have had an edge nobody saw: the first wait may
  // complete at once; the reader then reads and finds nothing.
  wait.start(sd, reader, &Reader::on_ready);
  io.poll();
  io.restart();
  drain(p.fds[0]);
  const int before = reader->calls;
  EXPECT_LE(before, 1);
  if (before == 1) {
    wait.start(sd, reader, &Reader::on_ready);
    io.poll();
    io.restart();
    EXPECT_EQ(reader->calls, 1) << "no data and no edge since the last read: the wait must stay pending";
  }
  EXPECT_TRUE(wait.pending() || !ReadWait::kAvailable);
  p.put();
  io.run_one_for(std::chrono::seconds(5));
  io.restart();
  EXPECT_EQ(reader->calls, before + 1);
  EXPECT_FALSE(reader->last);
  EXPECT_FALSE(wait.pending());
  drain(p.fds[0]);
  // Again: the operation object is reused.
  wait.start(sd, reader, &Reader::on_ready);
  p.put();
  io.run_one_for(std::chrono::seconds(5));
  io.restart();
  EXPECT_EQ(reader->calls, before + 2);
  drain(p.fds[0]);
}

TEST(ReadWait, DataThatArrivedWhileNobodyWaitedIsNotMissed) {
  asio::io_context io;
  Pair p;
  asio::posix::stream_descriptor sd(io, p.fds[0]);
  ReadWait wait(io);
  auto reader = std::make_shared<Reader>();
  wait.start(sd, reader, &Reader::on_ready);
  io.poll();
  io.restart();
  drain(p.fds[0]);
  if (reader->calls == 1) {  // see above: settle into "read everything, then wait"
    wait.start(sd, reader, &Reader::on_ready);
    io.poll();
    io.restart();
  }
  p.put();
  io.run_one_for(std::chrono::seconds(5));
  io.restart();
  const int seen = reader->calls;
  drain(p.fds[0]);
  // Data arrives between the read and the next wait (the reader is still
  // busy): the reactor sees the edge with nothing waiting.
  p.put();
  io.poll();  // the reactor runs, nothing is queued on the descriptor
  io.restart();
  wait.start(sd, reader, &Reader::on_ready);
  io.run_one_for(std::chrono::seconds(2));
  io.restart();
  EXPECT_EQ(reader->calls, seen + 1) << "a byte is waiting: the wait must complete";
  drain(p.fds[0]);
}

// Settles a fresh wait: a new descriptor may report an edge nobody saw,
// so the first wait may complete at once; after a read that found the
// queue empty, the next one stays pending.
template <typename IoObject>
void settle(asio::io_context& io, IoObject& o, ReadWait& wait, const std::shared_ptr<Reader>& r) {
  wait.start(o, r, &Reader::on_ready);
  io.poll();
  io.restart();
  drain(o.native_handle());
  if (wait.pending()) return;
  wait.start(o, r, &Reader::on_ready);
  io.poll();
  io.restart();
}

TEST(ReadWait, ClosingTheDescriptorCompletesWithAnErrorAndReleasesTheOwner) {
  asio::io_context io;
  Pair p;
  asio::posix::stream_descriptor sd(io, p.fds[0]);
  ReadWait wait(io);
  auto reader = std::make_shared<Reader>();
  auto result = std::make_shared<Reader>();  // outlives the reader
  settle(io, sd, wait, reader);
  ASSERT_TRUE(wait.pending() || !ReadWait::kAvailable);
  std::weak_ptr<Reader> weak = reader;
  reader.reset();
  EXPECT_FALSE(weak.expired()) << "kept alive while waiting";
  Reader* raw = weak.lock().get();
  sd.close();
  io.run_one_for(std::chrono::seconds(5));
  EXPECT_TRUE(weak.expired()) << "released after its completion";
  (void)raw;
  (void)result;
}

TEST(ReadWait, DestroyingTheIoContextReleasesAPendingCompletionWithoutRunningIt) {
  Pair p;
  std::weak_ptr<Reader> weak;
  int calls = 0;
  {
    auto io = std::make_unique<asio::io_context>();
    auto sd = std::make_unique<asio::posix::stream_descriptor>(*io, p.fds[0]);
    ReadWait wait(*io);
    auto reader = std::make_shared<Reader>();
    settle(*io, *sd, wait, reader);
    calls = reader->calls;
    weak = reader;
    reader.reset();
    sd.reset();  // closed: the wait's completion (aborted) is queued, not run
    EXPECT_FALSE(weak.expired());
    io.reset();  // destroyed with the completion still queued
    EXPECT_TRUE(weak.expired());
  }
  EXPECT_GE(calls, 0);
}

// The association's read loop: each completion reads, then waits again
// from inside its callback. The wait started there takes over the
// completed wait's reference to its owner instead of asking for a new one
// (issue 16), and a callback that does not wait again releases it.
struct Looper : std::enable_shared_from_this<Looper> {
  Looper(asio::io_context& io, asio::posix::stream_descriptor& d) : wait(io), sd(d) {}
  ReadWait wait;
  asio::posix::stream_descriptor& sd;
  int keeps = 0;  // references asked for
  int calls = 0;
  bool again = true;
  void arm() {
    wait.start_with(sd, [this] { ++keeps; return shared_from_this(); }, &Looper::on_ready);
  }
  static void on_ready(void* owner, const boost::system::error_code& ec) {
    auto* l = static_cast<Looper*>(owner);
    ++l->calls;
    if (ec) return;
    drain(l->sd.native_handle());
    if (l->again) l->arm();
  }
};

TEST(ReadWait, AWaitStartedFromItsCallbackTakesOverTheReference) {
  asio::io_context io;
  Pair p;
  asio::posix::stream_descriptor sd(io, p.fds[0]);
  auto looper = std::make_shared<Looper>(io, sd);
  std::weak_ptr<Looper> weak = looper;
  looper->arm();
  Looper* l = looper.get();
  looper.reset();  // from here on only the wait holds it
  io.poll();
  io.restart();
  for (int i = 0; i < 5; ++i) {
    const int before = l->calls;
    p.put();
    io.run_one_for(std::chrono::seconds(5));
    io.restart();
    ASSERT_EQ(l->calls, before + 1);
    ASSERT_FALSE(weak.expired()) << "the restarted wait keeps its owner";
  }
  if (ReadWait::kAvailable) {
    EXPECT_EQ(l->keeps, 1) << "one reference, handed from wait to wait";
  }
  EXPECT_EQ(weak.use_count(), 1);
  l->again = false;
  p.put();
  io.run_one_for(std::chrono::seconds(5));
  EXPECT_TRUE(weak.expired()) << "released by the last completion";
}

TEST(ReadWait, WorksOnATcpSocket) {
  asio::io_context io;
  asio::ip::tcp::acceptor acc(io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  asio::ip::tcp::socket client(io), server(io);
  client.connect(acc.local_endpoint());
  acc.accept(server);
  server.non_blocking(true);
  ReadWait wait(io);
  auto reader = std::make_shared<Reader>();
  settle(io, server, wait, reader);
  const int before = reader->calls;
  io.poll();
  io.restart();
  EXPECT_EQ(reader->calls, before) << "nothing to read: pending";
  asio::write(client, asio::buffer("y", 1));
  io.run_one_for(std::chrono::seconds(5));
  EXPECT_EQ(reader->calls, before + 1);
  EXPECT_FALSE(reader->last);
}

}  // namespace
}  // namespace rserpool::transport::detail
