// The SS7 side's return-path table (mxua/fsm/return_paths.hpp): bounded with
// least-recently-used eviction, owned by the peer that taught an entry,
// static ownership from configured OPC screens, release when an owner's
// last link goes down. Each rule has a test that fails without it.
#include "mxua/fsm/return_paths.hpp"

#include <gtest/gtest.h>

namespace mxua {
namespace {

constexpr PathOwner kOwnerA = 1, kOwnerB = 2, kOwnerC = 3;

ReturnPath via(PathOwner o, std::optional<std::uint32_t> rc = std::nullopt) { return ReturnPath{o, rc}; }
PointCode pc(std::uint32_t v) { return PointCode{v}; }

// The path route() offers first for `dpc` (the one a usable-everything
// executor would take).
std::optional<ReturnPath> first_offered(ReturnPaths& t, std::uint32_t dpc) {
  std::optional<ReturnPath> got;
  t.route(pc(dpc), [&](const ReturnPath& p) {
    got = p;
    return true;
  });
  return got;
}

TEST(ReturnPaths, AnswerFollowsThePathTheRequestCameThrough) {
  ReturnPaths t;
  t.link_up(kOwnerA);
  t.link_up(kOwnerB);
  EXPECT_EQ(t.learn(pc(100), via(kOwnerA, 10)), ReturnPaths::Learn::New);
  EXPECT_EQ(t.learn(pc(200), via(kOwnerB, 20)), ReturnPaths::Learn::New);
  EXPECT_EQ(first_offered(t, 100), via(kOwnerA, 10));
  EXPECT_EQ(first_offered(t, 200), via(kOwnerB, 20));
  // The same owner may move its own entry (another RC, another association).
  EXPECT_EQ(t.learn(pc(100), via(kOwnerA, 11)), ReturnPaths::Learn::Refreshed);
  EXPECT_EQ(first_offered(t, 100), via(kOwnerA, 11));
}

// One peer's DATA with another peer's point code as OPC must not steer that
// point code's answers to itself.
TEST(ReturnPaths, AnotherOwnersDataCannotStealAnEntry) {
  ReturnPaths t;
  t.link_up(kOwnerA);
  t.link_up(kOwnerB);
  ASSERT_EQ(t.learn(pc(100), via(kOwnerA, 10)), ReturnPaths::Learn::New);
  EXPECT_EQ(t.learn(pc(100), via(kOwnerB, 20)), ReturnPaths::Learn::Refused);
  EXPECT_EQ(first_offered(t, 100), via(kOwnerA, 10));
  EXPECT_EQ(t.counters().refused, 1U);
}

// A point code an owner is configured to originate is its own, even before
// it sent anything, and DATA for it never goes to anyone else.
TEST(ReturnPaths, ConfiguredOriginatingPointCodesBelongToTheirOwner) {
  ReturnPaths t;
  t.set_owned(kOwnerA, {MaskedPointCode{2, pc(0x100)}});  // 0x100-0x103
  t.add_default(via(kOwnerB, 20));
  t.add_default(via(kOwnerA, 10));
  t.link_up(kOwnerA);
  t.link_up(kOwnerB);
  // B cannot teach it, even first.
  EXPECT_EQ(t.learn(pc(0x101), via(kOwnerB, 20)), ReturnPaths::Learn::Refused);
  EXPECT_FALSE(t.lookup(pc(0x101)));
  // Unknown yet: only A's default path is offered, B's is skipped.
  std::vector<ReturnPath> offered;
  t.route(pc(0x102), [&](const ReturnPath& p) {
    offered.push_back(p);
    return false;
  });
  EXPECT_EQ(offered, (std::vector<ReturnPath>{via(kOwnerA, 10)}));
  // A static owner takes its point code over from whoever taught it.
  t.set_owned(kOwnerC, {MaskedPointCode{0, pc(0x200)}});
  t.link_up(kOwnerC);
  ASSERT_EQ(t.learn(pc(0x200), via(kOwnerC, 30)), ReturnPaths::Learn::New);
  EXPECT_EQ(first_offered(t, 0x200), via(kOwnerC, 30));
}

TEST(ReturnPaths, UnknownDestinationsTakeTheDefaultPathsInOrderUntilOneIsUsable) {
  ReturnPaths t;
  t.add_default(via(kOwnerA, 10));
  t.add_default(via(kOwnerB, 20));
  std::vector<ReturnPath> offered;
  const bool sent = t.route(pc(7), [&](const ReturnPath& p) {
    offered.push_back(p);
    return p.owner == kOwnerB;  // A's AS is down
  });
  EXPECT_TRUE(sent);
  EXPECT_EQ(offered, (std::vector<ReturnPath>{via(kOwnerA, 10), via(kOwnerB, 20)}));
  // A learnt path that is not usable falls back to the defaults, once each.
  t.link_up(kOwnerB);
  ASSERT_EQ(t.learn(pc(7), via(kOwnerB, 20)), ReturnPaths::Learn::New);
  offered.clear();
  EXPECT_FALSE(t.route(pc(7), [&](const ReturnPath& p) {
    offered.push_back(p);
    return false;
  }));
  EXPECT_EQ(offered, (std::vector<ReturnPath>{via(kOwnerB, 20), via(kOwnerA, 10)}));
}

// At capacity the least recently USED entry goes (a lookup counts as use),
// never the whole table.
TEST(ReturnPaths, BoundedWithLeastRecentlyUsedEviction) {
  ReturnPaths t(3);
  t.link_up(kOwnerA);
  for (std::uint32_t p = 1; p <= 3; ++p) ASSERT_EQ(t.learn(pc(p), via(kOwnerA, p)), ReturnPaths::Learn::New);
  ASSERT_TRUE(first_offered(t, 1));  // 1 used: 2 is now the oldest
  ASSERT_EQ(t.learn(pc(4), via(kOwnerA, 4)), ReturnPaths::Learn::New);
  EXPECT_EQ(t.size(), 3U);
  EXPECT_TRUE(t.lookup(pc(1)));
  EXPECT_FALSE(t.lookup(pc(2)));
  EXPECT_TRUE(t.lookup(pc(3)));
  EXPECT_TRUE(t.lookup(pc(4)));
  EXPECT_EQ(t.counters().evicted, 1U);
  // A flood of invented OPCs keeps the table at its bound.
  for (std::uint32_t p = 1000; p < 6000; ++p) (void)t.learn(pc(p), via(kOwnerA, 1));
  EXPECT_EQ(t.size(), 3U);
}

TEST(ReturnPaths, AnOwnersEntriesGoWithItsLastLink) {
  ReturnPaths t;
  t.link_up(kOwnerA);
  t.link_up(kOwnerA);  // two associations of one peer
  t.link_up(kOwnerB);
  ASSERT_EQ(t.learn(pc(100), via(kOwnerA, 10)), ReturnPaths::Learn::New);
  t.link_down(kOwnerA);
  EXPECT_TRUE(t.lookup(pc(100)));  // one link left
  t.link_down(kOwnerA);
  EXPECT_FALSE(t.lookup(pc(100)));
  EXPECT_EQ(t.counters().released, 1U);
  // Now B may serve the point code.
  EXPECT_EQ(t.learn(pc(100), via(kOwnerB, 20)), ReturnPaths::Learn::New);
}

}  // namespace
}  // namespace mxua
