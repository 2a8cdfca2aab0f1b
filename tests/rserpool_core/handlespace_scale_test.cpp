// Size: 100,000 PEs in one pool and 500 pools x 200 PEs stay consistent,
// and resolution keeps answering correctly at that size.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "rserpool/core/handlespace.hpp"
#include "test_support.hpp"

namespace rserpool::core {
namespace {

using namespace test;

class HundredThousandPesInOnePool : public ::testing::TestWithParam<PolicyType> {};

TEST_P(HundredThousandPesInOnePool, RegisterResolveDeregister) {
  {
    const PolicyType t = GetParam();
    Handlespace hs(HandlespaceConfig{9, 1});
    const PoolHandle pool("big");
    for (PeIdentifier id = 1; id <= 100'000; ++id) {
      PolicyParameters p = policy(t);
      p.weight = 1 + id % 10;
      p.load = (id * 2654435761U) % 1'000'000;
      ASSERT_TRUE(hs.register_element(pool, make_pe(id, p), by(id % 3)).ok());
    }
    ASSERT_EQ(hs.pool_size(pool), 100'000U);
    std::vector<const PoolElementEntry*> out;
    for (int i = 0; i < 1000; ++i) {
      ASSERT_TRUE(hs.resolve(pool, 3, out).ok());
      ASSERT_EQ(out.size(), 3U);
    }
    if (t == PolicyType::least_used) {
      // The three least loaded of 100,000.
      EXPECT_LE(out[0]->element().policy.load, out[1]->element().policy.load);
      EXPECT_LE(out[1]->element().policy.load, out[2]->element().policy.load);
      EXPECT_LT(out[2]->element().policy.load, 100U);
    }
    for (PeIdentifier id = 1; id <= 100'000; id += 2) ASSERT_TRUE(hs.deregister_element(pool, id));
    EXPECT_EQ(hs.pool_size(pool), 50'000U);
    ASSERT_TRUE(hs.resolve(pool, 128, out).ok());
    EXPECT_EQ(out.size(), 128U);
    for (const auto* e : out) EXPECT_EQ(e->id() % 2, 0U);
  }
}

INSTANTIATE_TEST_SUITE_P(HandlespaceScale, HundredThousandPesInOnePool,
                         ::testing::Values(PolicyType::round_robin, PolicyType::weighted_random,
                                           PolicyType::least_used),
                         [](const ::testing::TestParamInfo<PolicyType>& param_info) {
                           return std::string(find_policy(param_info.param)->name);
                         });

TEST(HandlespaceScale, FiveHundredPoolsOfTwoHundred) {
  Handlespace hs;
  for (int p = 0; p < 500; ++p)
    for (PeIdentifier id = 1; id <= 200; ++id)
      ASSERT_TRUE(hs.register_element(PoolHandle("pool-" + std::to_string(p)), make_pe(id, rr(), 60'000),
                                      by(static_cast<ServerIdentifier>(1 + p % 4)))
                      .ok());
  EXPECT_EQ(hs.element_count(), 100'000U);
  EXPECT_EQ(hs.pool_count(), 500U);
  EXPECT_EQ(hs.owned_count(1), 25'000U);
  std::vector<const PoolElementEntry*> out;
  ASSERT_TRUE(hs.resolve(PoolHandle("pool-250"), 3, out).ok());
  EXPECT_EQ(out.size(), 3U);
  // Everything was registered at t=0 with a 60 s life.
  EXPECT_EQ(hs.expire(at_ms(60'000)).size(), 100'000U);
  EXPECT_EQ(hs.pool_count(), 0U);
}

}  // namespace
}  // namespace rserpool::core
