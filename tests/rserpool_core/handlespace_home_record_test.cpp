// Home records (issue 16): the registrar keeps its record of a PE it is
// home for in the PE's handlespace entry, and the handlespace tells its
// removal observer before such an entry goes, whatever removes it, so no
// record outlives its entry. Also the registration that reuses a lookup.
#include <gtest/gtest.h>

#include <vector>

#include "rserpool/core/handlespace.hpp"
#include "test_support.hpp"

namespace rserpool::core {
namespace {

using namespace test;

const PoolHandle kHomeRecordPool("gwc");
const PoolHandle kOther("other");

// Records which entries were about to go and checks each still carried
// its record and was still listed when told.
class Recorder final : public RemovalObserver {
 public:
  explicit Recorder(Handlespace& hs) : hs_(hs) { hs_.set_removal_observer(this); }
  ~Recorder() { hs_.set_removal_observer(nullptr); }
  void before_removal(const PoolElementEntry& e, HomeRecord& record) override {
    EXPECT_EQ(e.home_record(), &record);
    EXPECT_EQ(hs_.find(e.pool_handle(), e.id()), &e) << "told while the entry is still there";
    told.push_back(e.id());
    hs_.set_home_record(e, nullptr);  // as the registrar drops its record
  }
  std::vector<PeIdentifier> told;

 private:
  Handlespace& hs_;
};

struct TestRecord final : HomeRecord {};
TestRecord g_record;  // the handlespace only carries it

void give_record(Handlespace& hs, const PoolHandle& pool, PeIdentifier id) {
  const auto* e = hs.find(pool, id);
  ASSERT_NE(e, nullptr);
  hs.set_home_record(*e, &g_record);
}

TEST(HandlespaceHomeRecord, CarriedAcrossUpdatesAndOwnerChanges) {
  Handlespace hs;
  ASSERT_TRUE(hs.register_element(kHomeRecordPool, make_pe(1, rr()), by(100)).ok());
  give_record(hs, kHomeRecordPool, 1);
  ASSERT_TRUE(hs.register_element(kHomeRecordPool, make_pe(1, rr()), by(100, at_ms(5))).ok());  // update
  EXPECT_EQ(hs.find(kHomeRecordPool, 1)->home_record(), &g_record);
  ASSERT_EQ(hs.change_owner(100, 200).size(), 1U);
  EXPECT_EQ(hs.find(kHomeRecordPool, 1)->home_record(), &g_record);
  ASSERT_TRUE(hs.register_element(kHomeRecordPool, make_pe(2, rr()), by(100)).ok());
  EXPECT_EQ(hs.find(kHomeRecordPool, 2)->home_record(), nullptr) << "a new entry has none";
}

TEST(HandlespaceHomeRecord, EveryRemovalOfAnEntryWithARecordIsToldFirst) {
  Handlespace hs;
  Recorder rec(hs);
  for (PeIdentifier id = 1; id <= 7; ++id)
    ASSERT_TRUE(hs.register_element(kHomeRecordPool, make_pe(id, rr(), id == 2 ? 1000 : kInfiniteLifetime), by(id == 4 ? 300 : 100)).ok());
  ASSERT_TRUE(hs.register_element(kOther, make_pe(8, rr()), by(100)).ok());
  for (PeIdentifier id = 1; id <= 7; ++id) give_record(hs, kHomeRecordPool, id);
  give_record(hs, kOther, 8);

  ASSERT_TRUE(hs.deregister_element(kHomeRecordPool, 1).has_value());  // deregistration
  EXPECT_EQ(hs.expire(at_ms(1000)).size(), 1U);                 // expiry (PE 2)
  EXPECT_EQ(hs.remove(*hs.find(kHomeRecordPool, 3)).element.id, 3U);   // direct removal
  hs.mark_owned_by(300);
  EXPECT_EQ(hs.sweep_marked(300).size(), 1U);  // resync sweep (PE 4)
  // The sole member of a pool re-registering with another policy
  // recreates the pool: its old entry goes.
  ASSERT_TRUE(hs.register_element(kOther, make_pe(8, policy(PolicyType::least_used)), by(100)).ok());
  EXPECT_EQ(hs.find(kOther, 8)->home_record(), nullptr) << "the recreated entry starts without one";
  EXPECT_EQ(rec.told, (std::vector<PeIdentifier>{1, 2, 3, 4, 8}));

  // An entry without a record goes silently.
  hs.set_home_record(*hs.find(kHomeRecordPool, 5), nullptr);
  ASSERT_TRUE(hs.deregister_element(kHomeRecordPool, 5).has_value());
  EXPECT_EQ(hs.remove_owned_by(100).size(), 3U);  // PEs 6, 7 and 8 (8 has no record now)
  EXPECT_EQ(rec.told, (std::vector<PeIdentifier>{1, 2, 3, 4, 8, 6, 7}));
}

TEST(HandlespaceHomeRecord, FirstExpiredNamesTheEarliestDueEntry) {
  Handlespace hs;
  ASSERT_TRUE(hs.register_element(kHomeRecordPool, make_pe(1, rr(), 2000), by(1)).ok());
  ASSERT_TRUE(hs.register_element(kHomeRecordPool, make_pe(2, rr(), 1000), by(1)).ok());
  EXPECT_EQ(hs.first_expired(at_ms(999)), nullptr);
  const auto* e = hs.first_expired(at_ms(1000));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->id(), 2U);
  (void)hs.remove(*e);
  EXPECT_EQ(hs.first_expired(at_ms(1999)), nullptr);
  ASSERT_NE(hs.first_expired(at_ms(5000)), nullptr);
  EXPECT_EQ(hs.first_expired(at_ms(5000))->id(), 1U);
}

// A registration given its own earlier lookup decides as one that looks up
// itself: new PE, new pool, update, and a rejection.
TEST(HandlespaceHomeRecord, RegistrationWithItsLookupDecidesAsWithout) {
  Handlespace a, b;
  const auto both = [&](const PoolHandle& pool, PoolElementParameter pe, RegistrationContext ctx) {
    auto ra = a.register_element(pool, pe, ctx);
    auto found = b.lookup(pool.bytes(), pe.id);
    auto rb = b.register_element(pool.bytes(), std::move(pe), ctx, found);
    ASSERT_EQ(ra.ok(), rb.ok());
    if (ra.ok()) {
      EXPECT_EQ(ra->new_element, rb->new_element);
      EXPECT_EQ(ra->new_pool, rb->new_pool);
      EXPECT_EQ(ra->previous_owner, rb->previous_owner);
      EXPECT_EQ(rb->entry, b.find(pool, rb->entry->id()));
    } else {
      EXPECT_EQ(ra.error(), rb.error());
    }
  };
  EXPECT_EQ(b.lookup(kHomeRecordPool.bytes(), 1).pool, nullptr);
  both(kHomeRecordPool, make_pe(1, rr()), by(100));
  EXPECT_NE(b.lookup(kHomeRecordPool.bytes(), 2).pool, nullptr);
  EXPECT_EQ(b.lookup(kHomeRecordPool.bytes(), 2).entry, nullptr);
  both(kHomeRecordPool, make_pe(2, rr()), by(100));
  EXPECT_EQ(b.lookup(kHomeRecordPool.bytes(), 2).entry, b.find(kHomeRecordPool, 2));
  both(kHomeRecordPool, make_pe(2, rr()), by(200, at_ms(3)));
  both(kHomeRecordPool, make_pe(3, policy(PolicyType::least_used)), by(100));  // inconsistent policy
  both(kHomeRecordPool, make_pe(1, policy(PolicyType::least_used)), by(100));  // not the sole member
  EXPECT_EQ(a.element_count(), b.element_count());
  EXPECT_EQ(b.find(kHomeRecordPool, 2)->owner(), 200U);
}

}  // namespace
}  // namespace rserpool::core
