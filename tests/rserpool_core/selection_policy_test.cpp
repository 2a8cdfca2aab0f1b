// Registrar-side selection: each policy's long-run behaviour against its
// definition in RFC 5356 (and rsplib's for the DPF policies).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "rserpool/core/handlespace.hpp"
#include "rserpool/core/policy.hpp"
#include "test_support.hpp"

namespace rserpool::core {
namespace {

using namespace test;

const PoolHandle kPolicyPool("gwc");

struct PoolFixture {
  Handlespace hs;
  explicit PoolFixture(std::uint64_t seed = 1, std::size_t max_increment = 1)
      : hs(HandlespaceConfig{seed, max_increment}) {}

  void add(PeIdentifier id, PolicyParameters p) { ASSERT_TRUE(hs.register_element(kPolicyPool, make_pe(id, p), by(1)).ok()); }

  std::vector<PeIdentifier> resolve(std::size_t n, std::optional<std::size_t> inc = {}) {
    std::vector<const PoolElementEntry*> out;
    EXPECT_TRUE(hs.resolve(kPolicyPool, n, out, inc).ok());
    std::vector<PeIdentifier> ids;
    for (const auto* e : out) ids.push_back(e->id());
    return ids;
  }
};

using Ids = std::vector<PeIdentifier>;

// Pearson's chi-square statistic of observed counts against probabilities.
double chi_square(const std::map<PeIdentifier, int>& observed, const std::map<PeIdentifier, double>& p, int draws) {
  double chi = 0;
  for (const auto& [id, prob] : p) {
    const double expected = prob * draws;
    const double o = observed.count(id) ? observed.at(id) : 0;
    chi += (o - expected) * (o - expected) / expected;
  }
  return chi;
}

TEST(PolicyRegistry, EveryPolicyTypeIsSupportedExactlyOnce) {
  const PolicyType all[] = {PolicyType::round_robin,          PolicyType::weighted_round_robin,
                            PolicyType::random,               PolicyType::weighted_random,
                            PolicyType::priority,             PolicyType::least_used,
                            PolicyType::least_used_degradation, PolicyType::priority_least_used,
                            PolicyType::randomized_least_used, PolicyType::weighted_random_dpf,
                            PolicyType::least_used_dpf};
  EXPECT_EQ(supported_policies().size(), std::size(all));
  for (PolicyType t : all) {
    const PolicyDescriptor* d = find_policy(t);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->type, t);
    EXPECT_NE(d->make(), nullptr);
  }
  EXPECT_EQ(find_policy(std::uint32_t{0x00000006}), nullptr);  // reserved
  EXPECT_EQ(find_policy(std::uint32_t{0xB0002003}), nullptr);  // LUD-DPF: not implemented
}

// ---- RR ---------------------------------------------------------------------

TEST(RoundRobin, ListStartsAtTheHeadAndTheHeadMovesByOne) {
  PoolFixture f;
  for (PeIdentifier id : {1U, 2U, 3U, 4U}) f.add(id, rr());
  EXPECT_EQ(f.resolve(3), (Ids{1, 2, 3}));
  EXPECT_EQ(f.resolve(3), (Ids{2, 3, 4}));
  EXPECT_EQ(f.resolve(3), (Ids{3, 4, 1}));
  EXPECT_EQ(f.resolve(3), (Ids{4, 1, 2}));
  EXPECT_EQ(f.resolve(10), (Ids{1, 2, 3, 4}));  // never more than the pool, no duplicates
  EXPECT_EQ(f.resolve(1), (Ids{2}));
}

TEST(RoundRobin, NewcomersJoinAtTheTailAndRemovalsKeepTheRotation) {
  PoolFixture f;
  for (PeIdentifier id : {1U, 2U, 3U}) f.add(id, rr());
  EXPECT_EQ(f.resolve(1), (Ids{1}));  // head -> 2
  f.add(4, rr());                     // behind 1, i.e. just before the head
  EXPECT_EQ(f.resolve(4), (Ids{2, 3, 1, 4}));
  ASSERT_TRUE(f.hs.deregister_element(kPolicyPool, 3));  // the head now
  EXPECT_EQ(f.resolve(3), (Ids{1, 4, 2}));
  EXPECT_EQ(f.resolve(3), (Ids{4, 2, 1}));
}

TEST(RoundRobin, ExactShareOverManyRequests) {
  PoolFixture f;
  for (PeIdentifier id = 1; id <= 7; ++id) f.add(id, rr());
  std::map<PeIdentifier, int> heads;
  for (int i = 0; i < 7 * 100; ++i) ++heads[f.resolve(3).front()];
  for (PeIdentifier id = 1; id <= 7; ++id) EXPECT_EQ(heads[id], 100);
}

TEST(RoundRobin, MaxIncrementMovesTheHeadFurther) {
  PoolFixture f;
  for (PeIdentifier id : {1U, 2U, 3U, 4U, 5U}) f.add(id, rr());
  EXPECT_EQ(f.resolve(2, 2), (Ids{1, 2}));
  EXPECT_EQ(f.resolve(2, 2), (Ids{3, 4}));
  EXPECT_EQ(f.resolve(2, 2), (Ids{5, 1}));
}

// ---- WRR --------------------------------------------------------------------

TEST(WeightedRoundRobin, HeadsInProportionToWeightAndSpreadEvenly) {
  PoolFixture f;
  f.add(1, weighted(PolicyType::weighted_round_robin, 2));
  f.add(2, weighted(PolicyType::weighted_round_robin, 1));
  f.add(3, weighted(PolicyType::weighted_round_robin, 1));
  std::vector<PeIdentifier> heads;
  for (int i = 0; i < 400; ++i) heads.push_back(f.resolve(3).front());
  std::map<PeIdentifier, int> count;
  for (auto h : heads) ++count[h];
  EXPECT_EQ(count[1], 200);
  EXPECT_EQ(count[2], 100);
  EXPECT_EQ(count[3], 100);
  // Every window of one full cycle (total weight 4) holds each PE exactly
  // weight times: the copies are interleaved, not bunched.
  for (std::size_t i = 0; i + 4 <= heads.size(); ++i) {
    std::map<PeIdentifier, int> w;
    for (std::size_t k = i; k < i + 4; ++k) ++w[heads[k]];
    ASSERT_EQ(w[1], 2) << "window at " << i;
    ASSERT_EQ(w[2], 1) << "window at " << i;
    ASSERT_EQ(w[3], 1) << "window at " << i;
  }
}

TEST(WeightedRoundRobin, UnevenWeightsInALargePoolConverge) {
  PoolFixture f;
  std::map<PeIdentifier, std::uint32_t> weight;
  std::uint64_t total = 0;
  for (PeIdentifier id = 1; id <= 200; ++id) {
    weight[id] = 1 + id % 7;
    total += weight[id];
    f.add(id, weighted(PolicyType::weighted_round_robin, weight[id]));
  }
  std::map<PeIdentifier, int> count;
  const int cycles = 20;
  for (std::uint64_t i = 0; i < total * cycles; ++i) ++count[f.resolve(1).front()];
  for (const auto& [id, w] : weight) EXPECT_NEAR(count[id], static_cast<int>(w) * cycles, 2) << id;
}

TEST(WeightedRoundRobin, ZeroWeightIsNeverReturned) {
  PoolFixture f;
  f.add(1, weighted(PolicyType::weighted_round_robin, 0));
  f.add(2, weighted(PolicyType::weighted_round_robin, 5));
  for (int i = 0; i < 50; ++i) EXPECT_EQ(f.resolve(5), (Ids{2}));
  // Re-registering with a weight makes it eligible.
  f.add(1, weighted(PolicyType::weighted_round_robin, 5));
  std::set<PeIdentifier> seen;
  for (int i = 0; i < 10; ++i) seen.insert(f.resolve(1).front());
  EXPECT_EQ(seen, (std::set<PeIdentifier>{1, 2}));
}

// ---- RAND -------------------------------------------------------------------

TEST(RandomPolicy, DistinctMembersUniformlyOften) {
  PoolFixture f(99);
  std::map<PeIdentifier, double> p;
  for (PeIdentifier id = 1; id <= 10; ++id) {
    f.add(id, policy(PolicyType::random));
    p[id] = 0.1;
  }
  std::map<PeIdentifier, int> count;
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) {
    auto ids = f.resolve(3);
    ASSERT_EQ(ids.size(), 3U);
    ASSERT_EQ(std::set<PeIdentifier>(ids.begin(), ids.end()).size(), 3U);
    ++count[ids.front()];
  }
  // df = 9; P(chi2 > 27.9) = 0.001.
  EXPECT_LT(chi_square(count, p, draws), 27.9);
}

// ---- WRAND ------------------------------------------------------------------

TEST(WeightedRandom, SelectionProbabilityIsWeightOverTotal) {
  PoolFixture f(1234);
  const std::map<PeIdentifier, std::uint32_t> w{{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 0}};
  std::map<PeIdentifier, double> p;
  for (const auto& [id, weight] : w) {
    f.add(id, weighted(PolicyType::weighted_random, weight));
    if (weight) p[id] = weight / 10.0;
  }
  std::map<PeIdentifier, int> count;
  const int draws = 50000;
  for (int i = 0; i < draws; ++i) ++count[f.resolve(1).front()];
  EXPECT_EQ(count.count(5), 0U) << "weight 0 means the PE cannot serve";
  // df = 3; P(chi2 > 16.27) = 0.001.
  EXPECT_LT(chi_square(count, p, draws), 16.27);
}

TEST(WeightedRandom, MultipleItemsAreDistinctAndSkipZeroWeights) {
  PoolFixture f(5);
  f.add(1, weighted(PolicyType::weighted_random, 10));
  f.add(2, weighted(PolicyType::weighted_random, 1));
  f.add(3, weighted(PolicyType::weighted_random, 0));
  for (int i = 0; i < 200; ++i) {
    auto ids = f.resolve(3);
    ASSERT_EQ(ids.size(), 2U);
    EXPECT_NE(ids[0], ids[1]);
  }
}

// ---- RLU --------------------------------------------------------------------

TEST(RandomizedLeastUsed, WeightIsMaxMinusLoad) {
  EXPECT_EQ(rlu_weight(0), 0xFFFFFFFFU);
  EXPECT_EQ(rlu_weight(0x7FFFFFFF), 0x80000000U);
  EXPECT_EQ(rlu_weight(0xFFFFFFFF), 1U) << "a full PE keeps a minimal chance";

  PoolFixture f(77);
  f.add(1, loaded(PolicyType::randomized_least_used, 0));           // weight ~ 4/7
  f.add(2, loaded(PolicyType::randomized_least_used, 0x7FFFFFFF));  // ~ 2/7
  f.add(3, loaded(PolicyType::randomized_least_used, 0xBFFFFFFF));  // ~ 1/7
  f.add(4, loaded(PolicyType::randomized_least_used, 0xFFFFFFFF));  // ~ 0
  const double total = 0xFFFFFFFFp0 + 0x80000000p0 + 0x40000000p0 + 1.0;
  const std::map<PeIdentifier, double> p{{1, 0xFFFFFFFFp0 / total}, {2, 0x80000000p0 / total}, {3, 0x40000000p0 / total}};
  std::map<PeIdentifier, int> count;
  const int draws = 40000;
  for (int i = 0; i < draws; ++i) ++count[f.resolve(1).front()];
  EXPECT_EQ(count.count(4), 0U);
  EXPECT_LT(chi_square(count, p, draws), 13.8);  // df = 2, p = 0.001
}

// ---- WRAND-DPF ----------------------------------------------------------------

TEST(WeightedRandomDpf, EffectiveWeightFormula) {
  PolicyParameters p = weighted(PolicyType::weighted_random_dpf, 1000);
  p.dpf = 0xFFFFFFFFU / 100;  // 1 % of the weight per unit of distance
  p.distance = 10;
  EXPECT_EQ(wrand_dpf_weight(p), 900U);  // 1000 - 1000 * 10 * 0.01
  p.distance = 0;
  EXPECT_EQ(wrand_dpf_weight(p), 1000U);
  p.distance = 500;  // penalty beyond the weight: still selectable, barely
  EXPECT_EQ(wrand_dpf_weight(p), 1U);
  p.weight = 0;
  EXPECT_EQ(wrand_dpf_weight(p), 0U);
}

TEST(WeightedRandomDpf, DistantPeIsChosenLessOften) {
  PoolFixture f(3);
  PolicyParameters near = weighted(PolicyType::weighted_random_dpf, 1000);
  near.dpf = 0xFFFFFFFFU / 100;
  PolicyParameters far = near;
  far.distance = 50;  // effective weight 500
  f.add(1, near);
  f.add(2, far);
  std::map<PeIdentifier, int> count;
  const int draws = 30000;
  for (int i = 0; i < draws; ++i) ++count[f.resolve(1).front()];
  EXPECT_LT(chi_square(count, {{1, 2.0 / 3}, {2, 1.0 / 3}}, draws), 10.83);  // df = 1
}

// ---- PRIO -------------------------------------------------------------------

TEST(PriorityPolicy, HighestPriorityFirstDescendingWithRotationAmongEquals) {
  PoolFixture f;
  f.add(1, prio(5));
  f.add(2, prio(9));
  f.add(3, prio(9));
  f.add(4, prio(1));
  EXPECT_EQ(f.resolve(4), (Ids{2, 3, 1, 4}));
  EXPECT_EQ(f.resolve(4), (Ids{3, 2, 1, 4}));
  for (int i = 0; i < 100; ++i) {
    auto ids = f.resolve(2);
    EXPECT_TRUE(ids == (Ids{2, 3}) || ids == (Ids{3, 2}));
  }
  ASSERT_TRUE(f.hs.deregister_element(kPolicyPool, 2));
  ASSERT_TRUE(f.hs.deregister_element(kPolicyPool, 3));
  EXPECT_EQ(f.resolve(1), (Ids{1}));
}

// ---- LU ---------------------------------------------------------------------

TEST(LeastUsed, AscendingLoadWithRoundRobinAmongEqualLoads) {
  PoolFixture f;
  f.add(1, loaded(PolicyType::least_used, percent(30)));
  f.add(2, loaded(PolicyType::least_used, percent(10)));
  f.add(3, loaded(PolicyType::least_used, percent(10)));
  f.add(4, loaded(PolicyType::least_used, percent(50)));
  EXPECT_EQ(f.resolve(4), (Ids{2, 3, 1, 4}));
  EXPECT_EQ(f.resolve(4), (Ids{3, 2, 1, 4}));
  EXPECT_EQ(f.resolve(4), (Ids{2, 3, 1, 4}));
  // A new load report reorders the pool.
  f.add(4, loaded(PolicyType::least_used, percent(1)));
  EXPECT_EQ(f.resolve(1), (Ids{4}));
  EXPECT_EQ(f.resolve(1), (Ids{4})) << "LU has no degradation: same answer until the load changes";
}

// ---- LUD --------------------------------------------------------------------

TEST(LeastUsedDegradation, EachSelectionDegradesTheSelectedPe) {
  PoolFixture f;
  // Raw load units so that 1000 + 2 x 500 ties with 2000 exactly.
  f.add(1, loaded(PolicyType::least_used_degradation, 1000, 500));
  f.add(2, loaded(PolicyType::least_used_degradation, 2000, 500));
  // 1 at 1000, 1500; then 1 and 2 tie at 2000 and rotate.
  EXPECT_EQ(f.resolve(1), (Ids{1}));
  EXPECT_EQ(f.hs.find(kPolicyPool, 1)->degradation_count(), 1U);
  EXPECT_EQ(f.resolve(1), (Ids{1}));
  EXPECT_EQ(f.hs.find(kPolicyPool, 1)->degradation_count(), 2U);
  EXPECT_EQ(f.resolve(2), (Ids{2, 1}));
  EXPECT_EQ(f.resolve(2), (Ids{1, 2}));
  EXPECT_EQ(f.hs.find(kPolicyPool, 2)->degradation_count(), 1U);
  EXPECT_EQ(f.hs.find(kPolicyPool, 1)->degradation_count(), 3U);
  // Re-registration (a new load report) resets the counter.
  f.add(1, loaded(PolicyType::least_used_degradation, 1000, 500));
  EXPECT_EQ(f.hs.find(kPolicyPool, 1)->degradation_count(), 0U);
  EXPECT_EQ(f.resolve(1), (Ids{1}));
}

TEST(LeastUsedDegradation, LongRunSharesFollowLoadPlusDegradation) {
  // With degradation, a lower base load buys a proportional head start.
  PoolFixture f;
  f.add(1, loaded(PolicyType::least_used_degradation, 0, 100));
  f.add(2, loaded(PolicyType::least_used_degradation, 1000, 100));
  std::map<PeIdentifier, int> count;
  for (int i = 0; i < 30; ++i) ++count[f.resolve(1).front()];
  // PE 1 takes the first ~10 selections alone, then they alternate.
  EXPECT_EQ(count[1], 20);
  EXPECT_EQ(count[2], 10);
}

TEST(LeastUsedDegradation, MaxIncrementDegradesEveryReturnedPe) {
  PoolFixture f(1, 3);
  for (PeIdentifier id : {1U, 2U, 3U}) f.add(id, loaded(PolicyType::least_used_degradation, percent(10), percent(5)));
  (void)f.resolve(3);
  for (PeIdentifier id : {1U, 2U, 3U}) EXPECT_EQ(f.hs.find(kPolicyPool, id)->degradation_count(), 1U);
}

// ---- PLU --------------------------------------------------------------------

TEST(PriorityLeastUsed, RanksByLoadPlusDegradationAsInTheRfcExample) {
  // RFC 5356 5.3's idea: A at 50 % adding 10 % beats B at 50 % adding 50 %.
  PoolFixture f;
  f.add(2, loaded(PolicyType::priority_least_used, percent(50), percent(50)));  // 100 %
  f.add(1, loaded(PolicyType::priority_least_used, percent(50), percent(10)));  // 60 %
  f.add(3, loaded(PolicyType::priority_least_used, percent(30), percent(40)));  // 70 %
  EXPECT_EQ(f.resolve(3), (Ids{1, 3, 2}));
  EXPECT_EQ(f.resolve(3), (Ids{1, 3, 2})) << "PLU's degradation is a fixed value, not a counter";
  EXPECT_EQ(plu_load(loaded(PolicyType::priority_least_used, 0xF0000000, 0x20000000)), 0xFFFFFFFFU);
}

TEST(PriorityLeastUsed, TiesRotate) {
  PoolFixture f;
  f.add(1, loaded(PolicyType::priority_least_used, percent(20), percent(10)));
  f.add(2, loaded(PolicyType::priority_least_used, percent(10), percent(20)));
  EXPECT_EQ(f.resolve(2), (Ids{1, 2}));
  EXPECT_EQ(f.resolve(2), (Ids{2, 1}));
}

// ---- LU-DPF -------------------------------------------------------------------

TEST(LeastUsedDpf, EffectiveLoadFormulaAndOrdering) {
  PolicyParameters p = loaded(PolicyType::least_used_dpf, percent(5));
  p.dpf = percent(0.5);  // 0.5 % load per unit of distance
  p.distance = 20;       // +10 %
  EXPECT_EQ(lu_dpf_load(p), percent(5) + 20 * percent(0.5));
  PolicyParameters capped = p;
  capped.distance = 1000;
  EXPECT_EQ(lu_dpf_load(capped), 0xFFFFFFFFU);

  PoolFixture f;
  f.add(1, loaded(PolicyType::least_used_dpf, percent(10)));  // near, 10 %
  f.add(2, p);                                                // far, 5 % + 10 %
  PolicyParameters nearer = loaded(PolicyType::least_used_dpf, percent(12));
  f.add(3, nearer);
  EXPECT_EQ(f.resolve(3), (Ids{1, 3, 2}));
}

// ---- Mixed: resolution never answers more than asked or repeats itself ------

TEST(AllPolicies, AnswersAreDistinctAndBounded) {
  for (const PolicyDescriptor& d : supported_policies()) {
    PoolFixture f(11);
    for (PeIdentifier id = 1; id <= 20; ++id) {
      PolicyParameters p = policy(d.type);
      p.weight = id;
      p.priority = id % 4;
      p.load = percent(id % 5 * 10.0);
      p.degradation = percent(1);
      p.dpf = percent(0.1);
      p.distance = id;
      f.add(id, p);
    }
    for (std::size_t n : {1U, 3U, 20U, 50U}) {
      auto ids = f.resolve(n);
      EXPECT_EQ(ids.size(), std::min<std::size_t>(n, 20)) << d.name;
      EXPECT_EQ(std::set<PeIdentifier>(ids.begin(), ids.end()).size(), ids.size()) << d.name;
    }
  }
}

}  // namespace
}  // namespace rserpool::core
