// NodeArena (arena-backed index nodes) and PoolHandleTable (interned pool
// handles), the building blocks of issue 16's allocation-free registrar.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "rserpool/core/node_arena.hpp"
#include "rserpool/core/pool_handle_table.hpp"

namespace {

using namespace rserpool;
using namespace rserpool::core;

TEST(NodeArena, FreedNodesAreReusedAndChunksGoBackWhenEmpty) {
  NodeArena arena;
  void* a = arena.allocate(40);
  void* b = arena.allocate(40);
  EXPECT_NE(a, b);
  EXPECT_EQ(arena.chunk_count(), 1u);
  arena.deallocate(a, 40);
  EXPECT_EQ(arena.allocate(40), a);  // the free list first
  // Another size class has its own chunk.
  void* c = arena.allocate(200);
  EXPECT_EQ(arena.chunk_count(), 2u);
  arena.deallocate(c, 200);
  arena.deallocate(a, 40);
  arena.deallocate(b, 40);
  EXPECT_EQ(arena.live_nodes(), 0u);
  // A few chunks are kept when the arena empties; more are returned.
  std::vector<void*> many;
  for (int i = 0; i < 2000; ++i) many.push_back(arena.allocate(64));
  EXPECT_GT(arena.chunk_count(), 4u);
  for (void* p : many) arena.deallocate(p, 64);
  EXPECT_EQ(arena.chunk_count(), 0u);
}

TEST(NodeArena, ContainersShareOneArenaAndOutliveTheirOwner) {
  auto arena = std::make_shared<NodeArena>();
  using Map = std::map<int, int, std::less<int>, ArenaAllocator<std::pair<const int, int>>>;
  using Set = std::set<long, std::less<long>, ArenaAllocator<long>>;
  Map m{Map::allocator_type(arena)};
  Set s{Set::allocator_type(arena)};
  for (int i = 0; i < 100; ++i) {
    m.emplace(i, i * i);
    s.insert(i);
  }
  EXPECT_EQ(arena->live_nodes(), 200u);
  Map moved = std::move(m);  // the allocator (and the arena) travel with the nodes
  arena.reset();             // the containers hold the arena alive
  EXPECT_EQ(moved.at(9), 81);
  moved.erase(9);
  EXPECT_EQ(moved.size(), 99u);
  EXPECT_EQ(s.count(42), 1u);
}

TEST(PoolHandleTable, InternsReferenceCountsAndReusesIds) {
  PoolHandleTable t;
  const PoolHandle a{"pool-a"}, b{"pool-b"};
  EXPECT_FALSE(t.find(a.bytes()));
  const auto ia = t.acquire(a.bytes());
  const auto ib = t.acquire(b.bytes());
  EXPECT_NE(ia, ib);
  EXPECT_EQ(t.acquire(a.bytes()), ia);  // same handle, same id, two references
  EXPECT_EQ(t.handle(ia), a);
  EXPECT_EQ(t.find(b.bytes()), ib);
  t.release(ia);
  EXPECT_EQ(t.find(a.bytes()), ia);  // one reference left
  t.release(ia);
  EXPECT_FALSE(t.find(a.bytes()));
  EXPECT_EQ(t.size(), 1u);
  // The freed id is reused, deterministically.
  const PoolHandle c{"pool-c"};
  EXPECT_EQ(t.acquire(c.bytes()), ia);
  EXPECT_EQ(t.handle(ia), c);
  // Growing the table keeps every lookup valid (keys view the slots' bytes).
  for (int i = 0; i < 1000; ++i) (void)t.acquire(PoolHandle{"p" + std::to_string(i)}.bytes());
  EXPECT_EQ(t.find(b.bytes()), ib);
  EXPECT_EQ(t.find(c.bytes()), ia);
  EXPECT_EQ(t.size(), 1002u);
}

}  // namespace
