// The gateway's hold of controller DATA while the SS7 side has no active
// path (sg/routing/ss7_hold.hpp), in virtual time, against a scripted SS7
// side: order kept behind a held message, the bound in time and in count,
// and nothing lost silently (every message is sent or handed to give_up).
#include <gtest/gtest.h>

#include <vector>

#include "sg/routing/ss7_hold.hpp"

namespace {

using namespace std::chrono_literals;
using sg::MtpMessage;
using sg::Ss7Hold;
using sg::Ss7HoldConfig;
using TimePoint = rserpool::TimePoint;

MtpMessage numbered(std::uint8_t n) {
  MtpMessage m;
  m.dpc = 7;
  m.sls = n;
  m.data = {n};
  return m;
}

// The SS7 side: a path is active or not; what it took and what was given up.
struct Side {
  bool active = false;
  std::vector<std::uint8_t> sent;
  std::vector<std::uint8_t> given_up;
  auto try_send() {
    return [this](MtpMessage& m) {
      if (!active) return Ss7Hold::Try::not_active;
      sent.push_back(m.data.at(0));
      return Ss7Hold::Try::gone;
    };
  }
  auto give_up() {
    return [this](MtpMessage&& m) { given_up.push_back(m.data.at(0)); };
  }
};

TimePoint at(std::chrono::milliseconds t) { return TimePoint{} + t; }

TEST(Ss7Hold, PassesStraightThroughWhileAPathIsActive) {
  Ss7Hold hold;
  Side side;
  side.active = true;
  EXPECT_EQ(hold.offer(numbered(1), at(0ms), side.try_send(), side.give_up()), Ss7Hold::Offered::passed);
  EXPECT_TRUE(hold.empty());
  EXPECT_FALSE(hold.next_deadline());
  EXPECT_EQ(side.sent, (std::vector<std::uint8_t>{1}));
}

// A restart: the controllers send before the SS7 side's ASP is active. What
// they sent goes out in order once a path is active, and a message that
// arrives while others wait is held behind them even if a path is active
// by then (its circuit's earlier messages must go first).
TEST(Ss7Hold, HeldMessagesGoOutInOrderWhenAPathBecomesActive) {
  Ss7Hold hold;
  Side side;
  EXPECT_EQ(hold.offer(numbered(1), at(0ms), side.try_send(), side.give_up()), Ss7Hold::Offered::held_first);
  EXPECT_EQ(hold.offer(numbered(2), at(10ms), side.try_send(), side.give_up()), Ss7Hold::Offered::held);
  EXPECT_EQ(hold.next_deadline(), at(2000ms));
  side.active = true;
  EXPECT_EQ(hold.offer(numbered(3), at(20ms), side.try_send(), side.give_up()), Ss7Hold::Offered::held)
      << "overtook the messages held before it";
  EXPECT_TRUE(side.sent.empty());
  const auto f = hold.flush(at(30ms), side.try_send(), side.give_up());
  EXPECT_EQ(f.sent, 3U);
  EXPECT_EQ(f.expired, 0U);
  EXPECT_EQ(side.sent, (std::vector<std::uint8_t>{1, 2, 3}));
  EXPECT_TRUE(hold.empty());
  EXPECT_FALSE(hold.next_deadline());
  EXPECT_EQ(hold.counters().held, 3U);
}

// No path for longer than the hold: each message is given up when it has
// waited `hold` (the SS7 side counts the drop), not before, and the
// deadline follows the oldest still held.
TEST(Ss7Hold, WhatWaitedTheHoldIsGivenUpAndCounted) {
  Ss7Hold hold(Ss7HoldConfig{500ms, 100});
  Side side;
  (void)hold.offer(numbered(1), at(0ms), side.try_send(), side.give_up());
  (void)hold.offer(numbered(2), at(300ms), side.try_send(), side.give_up());
  auto f = hold.flush(at(499ms), side.try_send(), side.give_up());
  EXPECT_EQ(f.expired, 0U);
  EXPECT_EQ(hold.size(), 2U);
  f = hold.flush(at(500ms), side.try_send(), side.give_up());
  EXPECT_EQ(f.expired, 1U);
  EXPECT_EQ(side.given_up, (std::vector<std::uint8_t>{1}));
  EXPECT_EQ(hold.next_deadline(), at(800ms));
  side.active = true;  // the second one still makes it
  f = hold.flush(at(600ms), side.try_send(), side.give_up());
  EXPECT_EQ(f.sent, 1U);
  EXPECT_EQ(side.sent, (std::vector<std::uint8_t>{2}));
  EXPECT_EQ(hold.counters().expired, 1U);
}

// The hold is bounded in messages too: beyond it a message is given up at
// once (a controller that floods a gateway without an SS7 path cannot grow
// its memory), and what is held stays in order.
TEST(Ss7Hold, AFullHoldGivesUpNewcomersAtOnce) {
  Ss7Hold hold(Ss7HoldConfig{2000ms, 2});
  Side side;
  (void)hold.offer(numbered(1), at(0ms), side.try_send(), side.give_up());
  (void)hold.offer(numbered(2), at(1ms), side.try_send(), side.give_up());
  EXPECT_EQ(hold.offer(numbered(3), at(2ms), side.try_send(), side.give_up()), Ss7Hold::Offered::given_up);
  EXPECT_EQ(side.given_up, (std::vector<std::uint8_t>{3}));
  EXPECT_EQ(hold.size(), 2U);
  EXPECT_EQ(hold.counters().overflow, 1U);
  side.active = true;
  (void)hold.flush(at(3ms), side.try_send(), side.give_up());
  EXPECT_EQ(side.sent, (std::vector<std::uint8_t>{1, 2}));
}

// A path that takes some and then not the rest (its AS went down in
// between): the flush stops at the first message that must wait, the rest
// keeps its order and its deadlines.
TEST(Ss7Hold, AFlushStopsAtTheFirstMessageThatMustWait) {
  Ss7Hold hold;
  Side side;
  for (std::uint8_t n = 1; n <= 3; ++n)
    (void)hold.offer(numbered(n), at(std::chrono::milliseconds(n)), side.try_send(), side.give_up());
  std::size_t budget = 1;
  auto one_then_none = [&](MtpMessage& m) {
    if (budget == 0) return Ss7Hold::Try::not_active;
    --budget;
    side.sent.push_back(m.data.at(0));
    return Ss7Hold::Try::gone;
  };
  const auto f = hold.flush(at(10ms), one_then_none, side.give_up());
  EXPECT_EQ(f.sent, 1U);
  EXPECT_EQ(side.sent, (std::vector<std::uint8_t>{1}));
  EXPECT_EQ(hold.size(), 2U);
  EXPECT_EQ(hold.next_deadline(), at(2002ms));
  EXPECT_TRUE(side.given_up.empty());
}

}  // namespace
