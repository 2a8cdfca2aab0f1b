// The SS7 side of a mated pair (ss7-gen --pair), in virtual time: SLS load
// sharing over two SGs, failover with the lost SG's hand-back first, the
// time-controlled changeback when it returns, waiting while none is active.
#include <gtest/gtest.h>

#include "sg/sim/sg_load_share.hpp"

namespace sg::sim {
namespace {

using namespace std::chrono_literals;
using rserpool::TimePoint;

MtpMessage msg(std::uint8_t sls, std::uint8_t tag) {
  MtpMessage m;
  m.si = kSiSccp;
  m.sls = sls;
  m.data = {tag};
  return m;
}

std::vector<std::pair<std::size_t, int>> where(const std::vector<SgLoadShare::Send>& s) {
  std::vector<std::pair<std::size_t, int>> out;
  for (const auto& x : s) out.emplace_back(x.sg, x.message.data.at(0));
  return out;
}

using W = std::vector<std::pair<std::size_t, int>>;

TEST(SgLoadShare, SlsSharesTheLoadAndALostSgsTrafficMovesWithItsHandBackFirst) {
  SgLoadShare ls;
  const TimePoint t{};
  (void)ls.sg_active(0, t);
  (void)ls.sg_active(1, t);
  EXPECT_EQ(where(ls.send(msg(4, 1), t)), (W{{0, 1}}));
  EXPECT_EQ(where(ls.send(msg(5, 2), t)), (W{{1, 2}}));
  // SG 0 dies with message 3 unsent: it goes to SG 1 before message 4.
  EXPECT_EQ(where(ls.sg_lost(0, {msg(4, 3)}, t + 1ms)), (W{{1, 3}}));
  EXPECT_EQ(where(ls.send(msg(4, 4), t + 1ms)), (W{{1, 4}}));
  EXPECT_EQ(ls.counters().failovers, 1U);
  EXPECT_EQ(ls.counters().resent, 1U);
}

// Q.704 time-controlled changeback: SG 0 is back; its SLSs' messages wait
// `changeback` so that what SG 1 still carries of them arrives first.
TEST(SgLoadShare, AReturningSgTakesItsSlssBackAfterTheChangeback) {
  SgLoadShare ls;
  const TimePoint t{};
  (void)ls.sg_active(1, t);
  EXPECT_EQ(where(ls.send(msg(4, 1), t)), (W{{1, 1}}));
  EXPECT_TRUE(ls.sg_active(0, t + 10ms).empty());
  EXPECT_TRUE(ls.send(msg(4, 2), t + 11ms).empty()) << "held for the changeback";
  EXPECT_EQ(where(ls.send(msg(5, 3), t + 11ms)), (W{{1, 3}})) << "SG 1's own SLSs are not held";
  EXPECT_TRUE(ls.send(msg(4, 4), t + 12ms).empty());
  ASSERT_EQ(ls.next_deadline(), t + 60ms);
  EXPECT_EQ(where(ls.on_timeout(t + 60ms)), (W{{0, 2}, {0, 4}}));
  EXPECT_EQ(where(ls.send(msg(4, 5), t + 61ms)), (W{{0, 5}}));
  EXPECT_EQ(ls.counters().changebacks, 1U);
}

// An SG lost again within its changeback (its ASP activated and at once
// heard DUNA) and then back: what SG 1 still carries of its SLSs may be on
// its way, so the next return waits the changeback too (seed 3599).
TEST(SgLoadShare, AnSgLostWithinItsChangebackWaitsAFullChangebackWhenBack) {
  SgLoadShare ls;
  const TimePoint t{};
  (void)ls.sg_active(1, t);
  EXPECT_EQ(where(ls.send(msg(4, 1), t)), (W{{1, 1}}));
  EXPECT_TRUE(ls.sg_active(0, t + 10ms).empty());
  EXPECT_TRUE(ls.sg_lost(0, {}, t + 10ms).empty());
  EXPECT_TRUE(ls.sg_active(0, t + 13ms).empty());
  EXPECT_TRUE(ls.send(msg(4, 2), t + 14ms).empty()) << "held for the changeback";
  EXPECT_EQ(where(ls.on_timeout(t + 63ms)), (W{{0, 2}}));
  EXPECT_EQ(ls.counters().changebacks, 2U);
}

// A lone SG restarting: messages wait in order, and nothing was diverted,
// so no changeback when it is back.
TEST(SgLoadShare, WithNoSgActiveMessagesWaitInOrderBounded) {
  SgLoadShareConfig c;
  c.max_held = 3;
  SgLoadShare ls(c);
  const TimePoint t{};
  (void)ls.sg_active(0, t);
  (void)ls.sg_lost(0, {msg(2, 1)}, t);
  for (int i = 2; i <= 4; ++i) EXPECT_TRUE(ls.send(msg(static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i)), t).empty());
  EXPECT_EQ(ls.counters().dropped, 1U) << "four waiting, bound three: the oldest goes";
  EXPECT_EQ(where(ls.sg_active(0, t + 1s)), (W{{0, 2}, {0, 3}, {0, 4}}));
  EXPECT_EQ(ls.counters().changebacks, 0U);
}

// What waits for an SG waits max_wait at most; with max_wait 0 nothing
// waits (the SS7 network discards toward an unavailable route).
TEST(SgLoadShare, WaitingIsBoundedInTime) {
  const TimePoint t{};
  SgLoadShare waits;  // 2 s
  (void)waits.send(msg(1, 1), t);
  (void)waits.send(msg(1, 2), t + 1500ms);
  ASSERT_EQ(waits.next_deadline(), t + 2s);
  (void)waits.on_timeout(t + 2s);
  EXPECT_EQ(waits.counters().dropped, 1U);
  EXPECT_EQ(where(waits.sg_active(0, t + 2100ms)), (W{{0, 2}}));

  SgLoadShareConfig c;
  c.max_wait = 0ms;
  SgLoadShare discards(c);
  EXPECT_TRUE(discards.send(msg(1, 1), t).empty());
  EXPECT_EQ(discards.counters().dropped, 1U);
  EXPECT_EQ(discards.waiting(), 0U);
}

}  // namespace
}  // namespace sg::sim
