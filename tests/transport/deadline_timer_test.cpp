// DeadlineTimer: the one OS timer per core driver, moved only earlier
// (issue 16: no timer re-arm, no clock reading per relayed message).
#include "rserpool/transport/deadline_timer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>

namespace {

using namespace std::chrono_literals;
using rserpool::ManualClock;
using rserpool::SteadyClock;
using rserpool::TimePoint;
using rserpool::TurnTime;
using rserpool::transport::DeadlineTimer;

// Runs the io_context until `done` or about 2 s have passed.
template <class Pred>
void run_until(boost::asio::io_context& io, Pred done) {
  const auto give_up = std::chrono::steady_clock::now() + 2s;
  while (!done() && std::chrono::steady_clock::now() < give_up) {
    io.restart();
    io.run_for(5ms);
  }
}

TEST(DeadlineTimer, LaterOrEqualOrNoDeadlineKeepsTheArmedExpiry) {
  boost::asio::io_context io;
  const auto& clock = SteadyClock::instance();
  int fired = 0;
  DeadlineTimer t(io, clock, [&] { ++fired; });
  const TimePoint base = clock.now();
  EXPECT_TRUE(t.arm(base + 1h));
  EXPECT_EQ(t.rearms(), 1U);
  // The relay path's events: deadlines pushed out, repeated, or gone.
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(t.arm(base + 1h + std::chrono::milliseconds(i)));
    EXPECT_FALSE(t.arm(base + 1h));
    EXPECT_FALSE(t.arm(std::nullopt));
  }
  EXPECT_EQ(t.rearms(), 1U);
  ASSERT_TRUE(t.armed());
  EXPECT_EQ(*t.armed(), base + 1h);
  // Earlier: re-armed.
  EXPECT_TRUE(t.arm(base + 30min));
  EXPECT_EQ(t.rearms(), 2U);
  EXPECT_EQ(*t.armed(), base + 30min);
  EXPECT_EQ(fired, 0);
}

TEST(DeadlineTimer, FiresOnceAtTheEarliestInsideOneTurnTime) {
  boost::asio::io_context io;
  const auto& clock = SteadyClock::instance();
  int fired = 0;
  bool in_turn = false;
  DeadlineTimer* self = nullptr;
  DeadlineTimer t(io, clock, [&] {
    ++fired;
    in_turn = TurnTime::current() != nullptr;
    EXPECT_FALSE(self->armed());  // cleared before the driver asks the core again
  });
  self = &t;
  const TimePoint base = clock.now();
  t.arm(base + 1h);
  t.arm(base + 20ms);  // earlier: replaces the 1 h wait, which must not fire
  run_until(io, [&] { return fired > 0; });
  EXPECT_EQ(fired, 1);
  EXPECT_TRUE(in_turn);
  EXPECT_GE(std::chrono::steady_clock::now(), base + 20ms);
  io.restart();
  io.run_for(30ms);
  EXPECT_EQ(fired, 1);
}

TEST(DeadlineTimer, CancelAndDestructionSilenceAPendingExpiry) {
  boost::asio::io_context io;
  const auto& clock = SteadyClock::instance();
  int fired = 0;
  DeadlineTimer t(io, clock, [&] { ++fired; });
  t.arm(clock.now());
  t.cancel();
  EXPECT_FALSE(t.armed());
  io.run_for(20ms);
  EXPECT_EQ(fired, 0);

  // Already due when destroyed, before the loop ran: the wait's handler
  // still runs later and must neither fire nor touch the dead timer.
  auto gone = std::make_unique<DeadlineTimer>(io, clock, [&] { ++fired; });
  gone->arm(clock.now() - 1s);
  gone.reset();
  io.restart();
  io.run_for(20ms);
  EXPECT_EQ(fired, 0);
}

TEST(DeadlineTimer, ManualClockDeadlinesWaitTheirVirtualDistance) {
  boost::asio::io_context io;
  ManualClock clock(TimePoint{} + 1h);
  int fired = 0;
  DeadlineTimer t(io, clock, [&] { ++fired; });
  // Virtual time starts near the epoch: the deadline is not an instant of
  // the OS clock, only its distance from the virtual now counts.
  t.arm(clock.now() + 30ms);
  io.run_for(5ms);
  EXPECT_EQ(fired, 0);
  run_until(io, [&] { return fired > 0; });
  EXPECT_EQ(fired, 1);
}

}  // namespace
