// Pool-user side: picking one PE out of a resolved list.
#include "rserpool/core/pool_user_selection.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "rserpool/core/policy.hpp"
#include "test_support.hpp"

namespace rserpool::core {
namespace {

using namespace test;

std::vector<PeIdentifier> picks(PoolUserSelector& s, const std::vector<PoolElementParameter>& list, int n,
                                std::vector<PeIdentifier> excluded = {}, std::uint64_t seed = 1) {
  Random rng(seed);
  std::vector<PeIdentifier> out;
  for (int i = 0; i < n; ++i) {
    auto idx = s.select(list, excluded, rng);
    if (!idx) break;
    out.push_back(list[*idx].id);
  }
  return out;
}

using Ids = std::vector<PeIdentifier>;

TEST(PoolUserSelection, RoundRobinWalksTheListFromTheFirstEntry) {
  const std::vector<PoolElementParameter> list{make_pe(1, rr()), make_pe(2, rr()), make_pe(3, rr())};
  PoolUserSelector s;  // no overall policy parameter: RR
  EXPECT_EQ(picks(s, list, 7), (Ids{1, 2, 3, 1, 2, 3, 1}));
}

TEST(PoolUserSelection, RoundRobinSkipsFailedPesAndSurvivesRefresh) {
  std::vector<PoolElementParameter> list{make_pe(1, rr()), make_pe(2, rr()), make_pe(3, rr())};
  PoolUserSelector s;
  EXPECT_EQ(picks(s, list, 4, {2}), (Ids{1, 3, 1, 3}));
  // A refreshed list (new order from the registrar) continues after the
  // last PE used (3), not from the top.
  list = {make_pe(2, rr()), make_pe(3, rr()), make_pe(1, rr())};
  s.list_changed();
  EXPECT_EQ(picks(s, list, 3), (Ids{1, 2, 3}));
  EXPECT_EQ(picks(s, list, 1, {1, 2, 3}), Ids{});
}

TEST(PoolUserSelection, EmptyListYieldsNothing) {
  PoolUserSelector s(PolicyType::least_used);
  Random rng;
  EXPECT_FALSE(s.select({}, {}, rng).has_value());
}

TEST(PoolUserSelection, RandomFamilyIsUniformOverUsableEntries) {
  for (PolicyType t : {PolicyType::random, PolicyType::weighted_random, PolicyType::randomized_least_used,
                       PolicyType::weighted_random_dpf}) {
    std::vector<PoolElementParameter> list;
    for (PeIdentifier id = 1; id <= 4; ++id) list.push_back(make_pe(id, weighted(t, id * 100)));
    PoolUserSelector s(t);
    std::map<PeIdentifier, int> count;
    for (auto id : picks(s, list, 30000, {4}, 17)) ++count[id];
    EXPECT_EQ(count.count(4), 0U);
    for (PeIdentifier id = 1; id <= 3; ++id) EXPECT_NEAR(count[id], 10000, 400) << static_cast<std::uint32_t>(t);
  }
}

TEST(PoolUserSelection, PriorityUsesTheBestActivePe) {
  const std::vector<PoolElementParameter> list{make_pe(1, prio(3)), make_pe(2, prio(7)), make_pe(3, prio(5))};
  PoolUserSelector s(PolicyType::priority);
  EXPECT_EQ(picks(s, list, 3), (Ids{2, 2, 2}));
  EXPECT_EQ(picks(s, list, 2, {2}), (Ids{3, 3}));
  EXPECT_EQ(picks(s, list, 1, {2, 3}), (Ids{1}));
}

TEST(PoolUserSelection, LeastUsedPicksTheLowestLoadAndRotatesTies) {
  const std::vector<PoolElementParameter> list{make_pe(1, loaded(PolicyType::least_used, 500)),
                                               make_pe(2, loaded(PolicyType::least_used, 100)),
                                               make_pe(3, loaded(PolicyType::least_used, 100))};
  PoolUserSelector s(PolicyType::least_used);
  EXPECT_EQ(picks(s, list, 4), (Ids{2, 3, 2, 3}));
  EXPECT_EQ(picks(s, list, 2, {2, 3}), (Ids{1, 1}));
}

TEST(PoolUserSelection, LeastUsedDegradationDegradesLocally) {
  const std::vector<PoolElementParameter> list{make_pe(1, loaded(PolicyType::least_used_degradation, 1000, 500)),
                                               make_pe(2, loaded(PolicyType::least_used_degradation, 1800, 500))};
  PoolUserSelector s(PolicyType::least_used_degradation);
  // 1: 1000, 1500 | 2: 1800 | 1: 2000 vs 2: 2300 -> 1 | 2: 2300 vs 1: 2500 -> 2
  EXPECT_EQ(picks(s, list, 5), (Ids{1, 1, 2, 1, 2}));
  s.list_changed();  // fresh loads from the registrar: local counts restart
  EXPECT_EQ(picks(s, list, 1), (Ids{1}));
}

TEST(PoolUserSelection, PriorityLeastUsedAndDpfUseTheirEffectiveLoads) {
  std::vector<PoolElementParameter> plu{make_pe(1, loaded(PolicyType::priority_least_used, 500, 500)),
                                        make_pe(2, loaded(PolicyType::priority_least_used, 600, 100))};
  PoolUserSelector s(PolicyType::priority_least_used);
  EXPECT_EQ(picks(s, plu, 2), (Ids{2, 2}));

  PolicyParameters far = loaded(PolicyType::least_used_dpf, 100);
  far.dpf = 10;
  far.distance = 100;  // 100 + 1000
  std::vector<PoolElementParameter> dpf{make_pe(1, far), make_pe(2, loaded(PolicyType::least_used_dpf, 900))};
  PoolUserSelector d(PolicyType::least_used_dpf);
  EXPECT_EQ(picks(d, dpf, 2), (Ids{2, 2}));
}

TEST(PoolUserSelection, ChangingThePolicyRestartsTheRotation) {
  const std::vector<PoolElementParameter> list{make_pe(1, rr()), make_pe(2, rr())};
  PoolUserSelector s;
  EXPECT_EQ(picks(s, list, 1), (Ids{1}));
  s.set_policy(PolicyType::weighted_round_robin);
  EXPECT_EQ(s.policy(), PolicyType::weighted_round_robin);
  EXPECT_EQ(picks(s, list, 1), (Ids{1}));
}

}  // namespace
}  // namespace rserpool::core
