// IoInbox (rserpool/transport/io_inbox.hpp): how the VTY thread reaches a
// data path whose io_context runs with BOOST_ASIO_CONCURRENCY_HINT_UNSAFE.
// What the daemons rely on: work posted from another thread runs on the io
// thread, in the order posted, while the io_context runs, without any post
// to the io_context itself; work still waiting when the io_context goes is
// destroyed unrun, and posting afterwards does nothing.
#include <gtest/gtest.h>

#include <boost/asio/detail/concurrency_hint.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "rserpool/transport/io_inbox.hpp"

namespace rserpool::transport {
namespace {

namespace asio = boost::asio;

TEST(IoInbox, PostedFromAnotherThreadRunsOnTheIoThreadInOrder) {
  asio::io_context io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE);
  IoInbox& inbox = IoInbox::of(io);  // made on the io thread, before run()
  std::thread::id io_thread;
  std::vector<int> order;
  std::vector<std::thread::id> ran_on;
  constexpr int kPosts = 200;
  std::promise<void> all_ran;
  std::thread poster([&] {
    for (int i = 0; i < kPosts; ++i) {
      IoInbox::of(io).post([&, i] {
        order.push_back(i);
        ran_on.push_back(std::this_thread::get_id());
        if (i == kPosts - 1) io.stop();
      });
      if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // several wake-ups
    }
    all_ran.set_value();
  });
  // A deadline so that a broken inbox fails instead of hanging.
  asio::steady_timer deadline(io, std::chrono::seconds(10));
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) io.stop();
  });
  io_thread = std::this_thread::get_id();
  io.run();
  poster.join();
  ASSERT_EQ(order.size(), static_cast<std::size_t>(kPosts));
  for (int i = 0; i < kPosts; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
  for (const auto& t : ran_on) EXPECT_EQ(t, io_thread);
  EXPECT_EQ(inbox.waiting(), 0U);
}

// An io_context whose shutdown (the first half of its destruction) a test
// can call by itself.
struct ShutdownableIo : asio::io_context {
  ShutdownableIo() : asio::io_context(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE) {}
  using asio::execution_context::shutdown;
};

TEST(IoInbox, WorkWaitingAtShutdownIsDestroyedUnrunAndLaterPostsAreDropped) {
  auto io = std::make_unique<ShutdownableIo>();
  IoInbox& inbox = IoInbox::of(*io);
  bool ran = false;
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  inbox.post([&ran, token = std::move(token)] { ran = true; });
  EXPECT_EQ(inbox.waiting(), 1U);
  io->shutdown();
  EXPECT_FALSE(ran);
  EXPECT_TRUE(watch.expired());  // the function (and what it holds) is gone
  inbox.post([&ran] { ran = true; });
  EXPECT_EQ(inbox.waiting(), 0U);
  io.reset();
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace rserpool::transport
