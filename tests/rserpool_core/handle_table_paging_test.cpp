// Handle-table download in pages (ENRP_HANDLE_TABLE_RESPONSE with the M bit).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "rserpool/core/handlespace.hpp"
#include "test_support.hpp"

namespace rserpool::core {
namespace {

using namespace test;
using Key = std::pair<std::string, PeIdentifier>;

std::vector<Key> keys(const HandleTablePage& page) {
  std::vector<Key> out;
  for (const auto* e : page.entries) out.emplace_back(e->pool_handle().to_string(), e->id());
  return out;
}

Handlespace three_pools() {
  Handlespace hs;
  for (const char* name : {"alpha", "beta", "gamma"})
    for (PeIdentifier id = 1; id <= 10; ++id)
      EXPECT_TRUE(hs.register_element(PoolHandle(name), make_pe(id * 10, rr()), by(id <= 5 ? 1 : 2)).ok());
  return hs;
}

TEST(HandleTablePaging, PagesCoverEverythingOnceInOrder) {
  Handlespace hs = three_pools();
  HandleTableCursor cursor;
  std::vector<Key> all;
  int pages = 0;
  for (;;) {
    HandleTablePage page = hs.handle_table_page(cursor, 7);
    ++pages;
    EXPECT_LE(page.entries.size(), 7U);
    auto k = keys(page);
    all.insert(all.end(), k.begin(), k.end());
    cursor = page.next;
    if (!page.more) break;
    EXPECT_EQ(page.entries.size(), 7U) << "only the last page may be short";
  }
  EXPECT_EQ(pages, 5);  // 30 entries, 7 per page
  ASSERT_EQ(all.size(), 30U);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(std::set<Key>(all.begin(), all.end()).size(), 30U);
  EXPECT_EQ(all.front(), (Key{"alpha", 10}));
  EXPECT_EQ(all.back(), (Key{"gamma", 100}));
}

TEST(HandleTablePaging, ExactMultipleEndsWithMoreClear) {
  Handlespace hs = three_pools();
  HandleTablePage p1 = hs.handle_table_page({}, 15);
  EXPECT_TRUE(p1.more);
  HandleTablePage p2 = hs.handle_table_page(p1.next, 15);
  EXPECT_FALSE(p2.more);
  EXPECT_EQ(p2.entries.size(), 15U);
  HandleTablePage p3 = hs.handle_table_page(p2.next, 15);
  EXPECT_TRUE(p3.entries.empty());
  EXPECT_FALSE(p3.more);
  EXPECT_EQ(p3.next, p2.next);
}

TEST(HandleTablePaging, EmptyHandlespaceGivesOneEmptyFinalPage) {
  Handlespace hs;
  HandleTablePage p = hs.handle_table_page({}, 128);
  EXPECT_TRUE(p.entries.empty());
  EXPECT_FALSE(p.more);
}

TEST(HandleTablePaging, OwnChildrenOnlyFiltersByOwner) {
  Handlespace hs = three_pools();
  HandleTableCursor cursor;
  std::vector<Key> all;
  for (;;) {
    HandleTablePage page = hs.handle_table_page(cursor, 4, ServerIdentifier{2});
    for (const auto* e : page.entries) EXPECT_EQ(e->owner(), 2U);
    auto k = keys(page);
    all.insert(all.end(), k.begin(), k.end());
    cursor = page.next;
    if (!page.more) break;
  }
  ASSERT_EQ(all.size(), 15U);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_TRUE(hs.handle_table_page({}, 4, ServerIdentifier{99}).entries.empty());
}

TEST(HandleTablePaging, CursorIsStableUnderConcurrentModification) {
  Handlespace hs = three_pools();
  HandleTablePage first = hs.handle_table_page({}, 12);  // alpha 10..100, beta 10, 20
  ASSERT_EQ(first.next.last, (std::pair{PoolHandle("beta"), PeIdentifier{20}}));

  // Between pages: remove the cursor entry itself and one already sent,
  // remove an unsent one, add one behind the cursor and one ahead of it,
  // and remove a whole pool ahead.
  ASSERT_TRUE(hs.deregister_element(PoolHandle("beta"), 20));
  ASSERT_TRUE(hs.deregister_element(PoolHandle("alpha"), 50));
  ASSERT_TRUE(hs.deregister_element(PoolHandle("beta"), 70));
  ASSERT_TRUE(hs.register_element(PoolHandle("alpha"), make_pe(55, rr()), by(1)).ok());
  ASSERT_TRUE(hs.register_element(PoolHandle("beta"), make_pe(25, rr()), by(1)).ok());
  ASSERT_TRUE(hs.register_element(PoolHandle("aardvark-late"), make_pe(1, rr()), by(1)).ok());
  for (PeIdentifier id = 1; id <= 10; ++id) ASSERT_TRUE(hs.deregister_element(PoolHandle("gamma"), id * 10));
  ASSERT_TRUE(hs.register_element(PoolHandle("delta"), make_pe(5, rr()), by(1)).ok());

  std::vector<Key> rest;
  HandleTableCursor cursor = first.next;
  for (;;) {
    HandleTablePage page = hs.handle_table_page(cursor, 3);
    auto k = keys(page);
    rest.insert(rest.end(), k.begin(), k.end());
    cursor = page.next;
    if (!page.more) break;
  }
  const std::vector<Key> expected{{"beta", 25}, {"beta", 30}, {"beta", 40}, {"beta", 50}, {"beta", 60},
                                  {"beta", 80}, {"beta", 90}, {"beta", 100}, {"delta", 5}};
  EXPECT_EQ(rest, expected);
}

TEST(HandleTablePaging, OwnChildrenOnlyCursorSurvivesModification) {
  Handlespace hs = three_pools();  // owner 2 holds ids 60..100 of each pool
  HandleTablePage first = hs.handle_table_page({}, 6, ServerIdentifier{2});
  ASSERT_EQ(keys(first), (std::vector<Key>{{"alpha", 60}, {"alpha", 70}, {"alpha", 80}, {"alpha", 90}, {"alpha", 100},
                                           {"beta", 60}}));
  // The cursor entry goes away, an unsent one moves to another owner, a
  // sent one is re-registered, and a new PE of owner 2 appears ahead.
  ASSERT_TRUE(hs.deregister_element(PoolHandle("beta"), 60));
  ASSERT_TRUE(hs.set_owner(PoolHandle("beta"), 80, 1));
  ASSERT_TRUE(hs.register_element(PoolHandle("alpha"), make_pe(70, rr()), by(2)).ok());
  ASSERT_TRUE(hs.register_element(PoolHandle("gamma"), make_pe(65, rr()), by(2)).ok());
  std::vector<Key> rest;
  HandleTableCursor cursor = first.next;
  for (;;) {
    HandleTablePage page = hs.handle_table_page(cursor, 4, ServerIdentifier{2});
    auto k = keys(page);
    rest.insert(rest.end(), k.begin(), k.end());
    cursor = page.next;
    if (!page.more) break;
  }
  EXPECT_EQ(rest, (std::vector<Key>{{"beta", 70}, {"beta", 90}, {"beta", 100}, {"gamma", 60}, {"gamma", 65},
                                    {"gamma", 70}, {"gamma", 80}, {"gamma", 90}, {"gamma", 100}}));
}

// The owner index against a model computed from scratch (every pool's
// members, filtered by owner, in (pool creation rank, PE id) order), after
// a random mix of registrations, owner changes, removals, expiries, pools
// emptied and recreated, and takeovers: owned_by(), owned_count(),
// owners(), change_owner()'s order and an own-children-only (W bit)
// download in pages of every size from 1 to 7, resumed across changes.
std::vector<const PoolElementEntry*> owned_from_scratch(const Handlespace& hs, ServerIdentifier owner) {
  std::vector<const PoolElementEntry*> out;
  for (const PoolHandle& h : hs.pool_handles())
    for (const PoolElementEntry* e : hs.elements_of(h))
      if (e->owner() == owner) out.push_back(e);
  std::sort(out.begin(), out.end(), [](const PoolElementEntry* a, const PoolElementEntry* b) {
    return std::pair{a->pool_rank(), a->id()} < std::pair{b->pool_rank(), b->id()};
  });
  return out;
}

TEST(HandleTablePaging, OwnerIndexAgreesWithAModelUnderRandomChanges) {
  Handlespace hs;
  Random rng(77);
  const std::vector<PoolHandle> pools{PoolHandle("a"), PoolHandle("b"), PoolHandle("c"), PoolHandle("d")};
  const std::vector<ServerIdentifier> servers{3, 5, 9};
  for (int step = 0; step < 3000; ++step) {
    const PoolHandle& h = pools[rng.uniform(pools.size())];
    const auto id = static_cast<PeIdentifier>(1 + rng.uniform(30));
    const ServerIdentifier owner = servers[rng.uniform(servers.size())];
    const TimePoint now = at_ms(step);
    switch (rng.uniform(8)) {
      case 0: case 1: case 2:
        (void)hs.register_element(h, make_pe(id, rr(), static_cast<std::int32_t>(rng.uniform(400))), by(owner, now));
        break;
      case 3: (void)hs.deregister_element(h, id); break;
      case 4: (void)hs.set_owner(h, id, owner); break;
      case 5: (void)hs.expire(now); break;
      case 6: {
        const ServerIdentifier to = servers[rng.uniform(servers.size())];
        const auto expected = owned_from_scratch(hs, owner);
        const auto moved = hs.change_owner(owner, to);
        ASSERT_EQ(moved, expected) << "change_owner hands the PEs back in (pool rank, id) order, step " << step;
        break;
      }
      default: {
        // A W-mode download, resumed after a change in the middle.
        const std::size_t page_size = 1 + rng.uniform(7);
        HandleTableCursor cursor;
        HandleTablePage page = hs.handle_table_page(cursor, page_size, owner);
        const auto before = owned_from_scratch(hs, owner);
        ASSERT_EQ(page.entries, std::vector<const PoolElementEntry*>(
                                    before.begin(), before.begin() + static_cast<std::ptrdiff_t>(
                                                                         std::min(page_size, before.size()))));
        ASSERT_EQ(page.more, before.size() > page_size);
        const HandleTablePage first = page;
        (void)hs.register_element(h, make_pe(id, rr()), by(owner, now));
        std::vector<const PoolElementEntry*> rest;
        for (cursor = first.next; page.more;) {
          page = hs.handle_table_page(cursor, page_size, owner);
          rest.insert(rest.end(), page.entries.begin(), page.entries.end());
          cursor = page.next;
        }
        if (first.more) {
          // Everything of the owner's, as it is now, strictly after the
          // first page's last (pool rank, PE id).
          const std::pair last{first.next.last_pool_rank, first.next.last->second};
          std::vector<const PoolElementEntry*> expected;
          for (const auto* e : owned_from_scratch(hs, owner))
            if (std::pair{e->pool_rank(), e->id()} > last) expected.push_back(e);
          ASSERT_EQ(rest, expected) << "step " << step;
        }
        break;
      }
    }
    for (ServerIdentifier s : servers) {
      ASSERT_EQ(hs.owned_by(s), owned_from_scratch(hs, s)) << "step " << step;
      ASSERT_EQ(hs.owned_count(s), owned_from_scratch(hs, s).size()) << "step " << step;
    }
    std::vector<ServerIdentifier> owners;
    for (ServerIdentifier s : servers)
      if (hs.owned_count(s) != 0) owners.push_back(s);
    ASSERT_EQ(hs.owners(), owners) << "step " << step;
  }
  EXPECT_GT(hs.element_count(), 10U) << "the walk should leave a populated handlespace";
}

}  // namespace
}  // namespace rserpool::core
