// The file in which a gateway remembers each pool's PE list across
// restarts (sg/src/gateway/pool_memory.hpp): what is written is read back
// as it was, a missing file is an empty memory (first start), a damaged one
// is refused (the gateway then settles by the timer alone).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "pool_memory.hpp"
#include "sg/routing/membership.hpp"

namespace sg::gateway {
namespace {

std::string temp_path(const char* what) {
  return std::string(::testing::TempDir()) + "sgd-pool-memory-" + std::to_string(::getpid()) + "-" + what;
}

rserpool::PoolElementParameter pe(rserpool::PeIdentifier id, rserpool::PolicyType type, std::uint32_t weight) {
  rserpool::PoolElementParameter p;
  p.id = id;
  p.policy.type = type;
  p.policy.weight = weight;
  return p;
}

TEST(PoolMemory, WhatIsWrittenIsReadBack) {
  const auto path = temp_path("roundtrip");
  RememberedPools pools;
  pools["gwc"] = {{0x11111111u, 1}, {0x22222222u, 3}};
  pools[std::string("a pool\nwith odd bytes\0", 23)] = {{0xffffffffu, 0xffffffffu}};
  ASSERT_TRUE(write_pool_memory(path, pools));
  auto read = read_pool_memory(path);
  ASSERT_TRUE(read) << read.error();
  EXPECT_EQ(*read, pools);
  std::remove(path.c_str());
}

TEST(PoolMemory, AMissingFileIsAnEmptyMemory) {
  auto read = read_pool_memory(temp_path("never-written"));
  ASSERT_TRUE(read) << read.error();
  EXPECT_TRUE(read->empty());
}

TEST(PoolMemory, ADamagedFileIsRefused) {
  const auto path = temp_path("damaged");
  for (const char* text : {"677763 11111111\n", "677763 1111111111 1\n", "67776 11111111 1\n", "677763 1111x111 1\n",
                           "677763 11111111 1 extra\n", "677763 11111111 99999999999\n"}) {
    std::ofstream(path) << "# comment\n" << text;
    EXPECT_FALSE(read_pool_memory(path)) << text;
  }
  std::remove(path.c_str());
}

// The list as the hash sees it: identifiers and rendezvous weights (a
// weighted policy's weight, 1 otherwise), not the load a PE reports.
TEST(PoolMemory, TheRememberedListIsWhatTheHashUses) {
  Membership m;
  auto lu = pe(0x33, rserpool::PolicyType::least_used, 0);
  lu.policy.load = 1000;
  std::vector<rserpool::PoolElementParameter> list{pe(0x11, rserpool::PolicyType::weighted_round_robin, 5), lu};
  (void)m.update(list);
  const RememberedList expected{{0x11, 5}, {0x33, 1}};
  EXPECT_EQ(remembered_of(m), expected);
  list[1].policy.load = 2000;
  (void)m.update(list);
  EXPECT_EQ(remembered_of(m), expected) << "a load report does not change the hash";
}

}  // namespace
}  // namespace sg::gateway
