// Internal building blocks: the Fenwick tree, the random source, WRR rebasing.
#include "fenwick_tree.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "rserpool/core/random.hpp"
#include "selections.hpp"

namespace rserpool::core {
namespace {

TEST(FenwickTree, PrefixAndFindAgreeWithNaiveSumsWhileGrowing) {
  FenwickTree t;
  std::vector<std::uint64_t> w;
  Random rng(42);
  for (int round = 0; round < 2000; ++round) {
    if (w.empty() || rng.uniform(3) == 0) {
      w.push_back(0);
      t.grow_to(w.size());
    }
    const std::size_t i = rng.uniform(w.size());
    const std::uint64_t nw = rng.uniform(1000);
    t.add(i, nw - w[i]);
    w[i] = nw;

    const std::uint64_t total = std::accumulate(w.begin(), w.end(), std::uint64_t{0});
    ASSERT_EQ(t.total(), total);
    const std::size_t n = rng.uniform(w.size() + 1);
    ASSERT_EQ(t.prefix(n), std::accumulate(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(n), std::uint64_t{0}));
    if (total != 0) {
      const std::uint64_t v = rng.uniform(total);
      const std::size_t found = t.find(v);
      ASSERT_LT(found, w.size());
      EXPECT_LE(t.prefix(found), v);
      EXPECT_GT(t.prefix(found + 1), v);
      EXPECT_GT(w[found], 0U);
    }
  }
}

TEST(Random, UniformStaysBelowBoundAndIsReproducible) {
  Random a(7), b(7);
  for (int i = 0; i < 10000; ++i) {
    const std::uint64_t bound = 1 + static_cast<std::uint64_t>(i) * 977;
    const auto x = a.uniform(bound);
    EXPECT_LT(x, bound);
    EXPECT_EQ(x, b.uniform(bound));
  }
  EXPECT_EQ(a.uniform(0), 0U);
}

// WRR rebases its pass values long before they could overflow; with a low
// threshold the rebase happens constantly and must not change the sequence.
TEST(WeightedRoundRobinRebase, RebasingDoesNotChangeTheSequence) {
  auto plain = make_weighted_round_robin_selection();
  auto rebasing = make_weighted_round_robin_selection(std::uint64_t{1} << 34);
  PolicyParameters p;
  p.type = PolicyType::weighted_round_robin;
  for (Slot s = 0; s < 50; ++s) {
    p.weight = 1 + s % 5;
    plain->add(s, p);
    rebasing->add(s, p);
  }
  Random rng;
  std::vector<Slot> a, b;
  for (int i = 0; i < 5000; ++i) {
    if (i % 500 == 250) {  // membership changes between rebases too
      const auto s = static_cast<Slot>(i % 50);
      plain->remove(s);
      rebasing->remove(s);
      plain->add(s, p);
      rebasing->add(s, p);
    }
    a.clear();
    b.clear();
    plain->select(3, 1, rng, a);
    rebasing->select(3, 1, rng, b);
    ASSERT_EQ(a, b) << "selection " << i;
  }
}

}  // namespace
}  // namespace rserpool::core
