// The action runner's one OS timer against its core's timers: it asks the
// core's next_deadline() only when the core's timers changed (issue 16: the
// relay path moves none, and asked after every message), and still sets
// the timer again after an expiry that found nothing due.
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "mxua/driver/action_runner.hpp"

namespace {

using mxua::Actions;
using mxua::TimePoint;
using mxua::driver::ActionRunner;
using namespace std::chrono_literals;

// A core with one deadline and a change count, as a TimerSet would keep.
struct FakeCore {
  std::optional<TimePoint> deadline;
  std::uint64_t changes = 0;
  int timeouts = 0;

  void move_to(std::optional<TimePoint> t) {
    deadline = t;
    ++changes;
  }
  ActionRunner::CoreTimers timers() {
    return ActionRunner::CoreTimers{[this] { return deadline; }, [this](TimePoint, Actions&) { ++timeouts; },
                                    [this] { return changes; }};
  }
};

struct RunnerTimers : ::testing::Test {
  boost::asio::io_context io;
  mxua::driver::Events events;
  std::shared_ptr<ActionRunner> runner = ActionRunner::create(io, events);
  FakeCore core;
  Actions none;

  TimePoint now() const { return std::chrono::steady_clock::now(); }
  void SetUp() override { runner->set_core_timers(core.timers()); }
  void TearDown() override {
    runner->cancel_timer();
    runner->set_core_timers({});
  }
};

TEST_F(RunnerTimers, AsksTheCoreOnlyWhenItsTimersChanged) {
  const TimePoint later = now() + 1h;
  core.move_to(later);
  runner->run(none);
  EXPECT_EQ(runner->deadline_queries(), 1U);
  EXPECT_EQ(runner->armed_at(), later);
  for (int i = 0; i < 10; ++i) runner->run(none);  // batches that moved no timer (relayed DATA)
  EXPECT_EQ(runner->deadline_queries(), 1U);
  EXPECT_EQ(runner->armed_at(), later);

  const TimePoint sooner = later - 30min;
  core.move_to(sooner);
  runner->run(none);
  EXPECT_EQ(runner->deadline_queries(), 2U);
  EXPECT_EQ(runner->armed_at(), sooner);

  core.move_to(std::nullopt);
  runner->run(none);
  EXPECT_EQ(runner->deadline_queries(), 3U);
  EXPECT_FALSE(runner->armed_at());
}

// The OS timer stays at an earlier deadline when the core's moved later
// (rearm()); its expiry finds nothing due and changes nothing in the core,
// and must still set the timer at the later deadline.
TEST_F(RunnerTimers, AnExpiryThatFindsNothingDueSetsTheTimerAtTheLaterDeadline) {
  core.move_to(now() - 1ms);  // due at once
  runner->run(none);
  const auto first = runner->armed_at();
  ASSERT_TRUE(first);
  const TimePoint later = now() + 1h;
  core.move_to(later);
  runner->run(none);
  EXPECT_EQ(runner->armed_at(), first);  // kept where it was
  for (int i = 0; i < 100 && core.timeouts == 0; ++i) io.run_for(10ms);
  ASSERT_EQ(core.timeouts, 1);
  EXPECT_EQ(runner->armed_at(), later);
}

TEST_F(RunnerTimers, ACancelledTimerIsSetAgainAtTheNextBatch) {
  const TimePoint later = now() + 1h;
  core.move_to(later);
  runner->run(none);
  runner->cancel_timer();
  EXPECT_FALSE(runner->armed_at());
  runner->run(none);
  EXPECT_EQ(runner->armed_at(), later);
}

// Without a change count the runner asks after every batch, as before.
TEST_F(RunnerTimers, WithoutAChangeCountItAsksEveryTime) {
  auto t = core.timers();
  t.changes = nullptr;
  runner->set_core_timers(t);
  core.move_to(now() + 1h);
  for (int i = 0; i < 3; ++i) runner->run(none);
  EXPECT_EQ(runner->deadline_queries(), 3U);
}

}  // namespace
