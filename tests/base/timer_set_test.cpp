#include "rserpool/base/timer_set.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using rserpool::TimePoint;
using rserpool::TimerSet;
using namespace std::chrono_literals;

TimePoint at(int ms) { return TimePoint{} + std::chrono::milliseconds(ms); }

TEST(TimerSet, NextDeadlineIsTheEarliestArmed) {
  TimerSet<int> t;
  EXPECT_FALSE(t.next_deadline());
  t.arm(1, at(30));
  t.arm(2, at(10));
  t.arm(3, at(20));
  EXPECT_EQ(t.next_deadline(), at(10));
  EXPECT_EQ(t.size(), 3u);
}

TEST(TimerSet, RearmingReplacesTheDeadline) {
  TimerSet<int> t;
  t.arm(1, at(10));
  t.arm(1, at(50));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.next_deadline(), at(50));
  EXPECT_FALSE(t.take_due(at(10)));  // the old deadline is gone: no stale expiry
  EXPECT_EQ(t.take_due(at(50)), 1);
  EXPECT_TRUE(t.empty());
}

TEST(TimerSet, TakeDueReturnsKeysInDeadlineThenKeyOrder) {
  TimerSet<std::string> t;
  t.arm("b", at(5));
  t.arm("a", at(5));
  t.arm("c", at(1));
  t.arm("late", at(100));
  std::vector<std::string> fired;
  while (auto k = t.take_due(at(10))) fired.push_back(*k);
  EXPECT_EQ(fired, (std::vector<std::string>{"c", "a", "b"}));
  EXPECT_EQ(t.next_deadline(), at(100));
}

TEST(TimerSet, CancelAndArmAtMost) {
  TimerSet<int> t;
  EXPECT_FALSE(t.cancel(7));
  t.arm(7, at(40));
  t.arm_at_most(7, at(60));
  EXPECT_EQ(t.deadline(7), at(40));
  t.arm_at_most(7, at(20));
  EXPECT_EQ(t.deadline(7), at(20));
  EXPECT_TRUE(t.cancel(7));
  EXPECT_FALSE(t.armed(7));
  EXPECT_FALSE(t.next_deadline());
}

TEST(TimerSet, HandlerMayArmWhileDraining) {
  TimerSet<int> t;
  t.arm(1, at(1));
  int fired = 0;
  while (auto k = t.take_due(at(10))) {
    ++fired;
    if (*k < 3) t.arm(*k + 1, at(*k + 1));  // a periodic chain, still due
  }
  EXPECT_EQ(fired, 3);
  EXPECT_TRUE(t.empty());
}

// changes() is what lets a driver skip next_deadline() (issue 16): it
// must move on every change that can move the earliest deadline, and
// stand still otherwise.
TEST(TimerSet, ChangesGrowWithEveryChangeAndOnlyThen) {
  TimerSet<int> t;
  auto moved = [&t, last = t.changes()]() mutable {
    const bool m = t.changes() != last;
    last = t.changes();
    return m;
  };
  t.arm(1, at(10));
  EXPECT_TRUE(moved());  // armed
  t.arm(1, at(10));
  EXPECT_FALSE(moved());  // the same deadline again
  t.arm(1, at(5));
  EXPECT_TRUE(moved());  // earlier
  t.arm(1, at(50));
  EXPECT_TRUE(moved());  // later
  t.arm_at_most(1, at(60));
  EXPECT_FALSE(moved());  // not earlier: left alone
  t.arm_at_most(1, at(40));
  EXPECT_TRUE(moved());
  EXPECT_FALSE(t.cancel(2));
  EXPECT_FALSE(moved());  // nothing armed under that key
  t.arm(2, at(20));
  EXPECT_TRUE(moved());
  EXPECT_TRUE(t.cancel(2));
  EXPECT_TRUE(moved());
  EXPECT_FALSE(t.take_due(at(39)));
  EXPECT_FALSE(moved());  // nothing due
  EXPECT_EQ(t.take_due(at(40)), 1);
  EXPECT_TRUE(moved());
  t.clear();
  EXPECT_FALSE(moved());  // already empty
  t.arm(3, at(1));
  EXPECT_TRUE(moved());
  t.clear();
  EXPECT_TRUE(moved());
  EXPECT_FALSE(t.next_deadline());
}

}  // namespace
