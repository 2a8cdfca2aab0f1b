#include "sg/routing/policy_member_selector.hpp"

#include <gtest/gtest.h>

#include <map>

namespace sg {
namespace {

using rserpool::PolicyType;

rserpool::PoolElementParameter pe(rserpool::PeIdentifier id, PolicyType type, std::uint32_t load = 0) {
  rserpool::PoolElementParameter p;
  p.id = id;
  p.policy.type = type;
  p.policy.load = load;
  return p;
}

std::vector<Candidate> all(const std::vector<rserpool::PoolElementParameter>& list) {
  std::vector<Candidate> c;
  for (const auto& e : list) c.push_back(Candidate{e.id, &e.policy, 0});
  return c;
}

TEST(PolicyMemberSelector, RoundRobinRotatesOverUsablePes) {
  PolicyMemberSelector s;
  std::vector<rserpool::PoolElementParameter> list{pe(1, PolicyType::round_robin), pe(2, PolicyType::round_robin),
                                                   pe(3, PolicyType::round_robin)};
  s.members_changed(std::nullopt, list);
  auto c = all(list);
  std::map<rserpool::PeIdentifier, int> n;
  for (int i = 0; i < 30; ++i) ++n[s.pick(Placement{}, c)];
  EXPECT_EQ(n, (std::map<rserpool::PeIdentifier, int>{{1, 10}, {2, 10}, {3, 10}}));
  c.erase(c.begin() + 1);  // PE 2 not usable (association down)
  for (int i = 0; i < 10; ++i) EXPECT_NE(s.pick(Placement{}, c), 2U);
}

TEST(PolicyMemberSelector, LeastUsedPicksTheLowestLoad) {
  PolicyMemberSelector s;
  rserpool::PolicyParameters lu;
  lu.type = PolicyType::least_used;
  std::vector<rserpool::PoolElementParameter> list{pe(1, PolicyType::least_used, 0x80000000),
                                                   pe(2, PolicyType::least_used, 0x10000000),
                                                   pe(3, PolicyType::least_used, 0x40000000)};
  s.members_changed(lu, list);
  EXPECT_EQ(s.policy(), PolicyType::least_used);
  auto c = all(list);
  EXPECT_EQ(s.pick(Placement{}, c), 2U);
  c.erase(c.begin() + 1);
  EXPECT_EQ(s.pick(Placement{}, c), 3U);
}

TEST(PolicyMemberSelector, UnlistedUsablePeStillGetsFlows) {
  PolicyMemberSelector s;
  s.members_changed(std::nullopt, {});
  rserpool::PolicyParameters p;
  std::vector<Candidate> c{Candidate{7, &p, 5}, Candidate{8, &p, 1}};
  EXPECT_EQ(s.pick(Placement{}, c), 8U);
}

}  // namespace
}  // namespace sg
