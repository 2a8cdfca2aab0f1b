// Handlespace bookkeeping: consistency rules, lifetimes, owners, checksums,
// resync and takeover.
#include "rserpool/core/handlespace.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "test_support.hpp"

namespace rserpool::core {
namespace {

using namespace test;

const PoolHandle kHandlespacePool("gwc");

TEST(Handlespace, RegisterThenReRegisterReportsNewOrUpdated) {
  Handlespace hs;
  auto first = hs.register_element(kHandlespacePool, make_pe(1, rr()), by(100, at_ms(5)));
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->new_element);
  EXPECT_TRUE(first->new_pool);
  EXPECT_EQ(first->previous_owner, 0U);

  auto second = hs.register_element(kHandlespacePool, make_pe(2, rr()), by(100));
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->new_element);
  EXPECT_FALSE(second->new_pool);

  // Re-registration through another registrar: it becomes the owner.
  auto again = hs.register_element(kHandlespacePool, make_pe(1, rr()), by(200, at_ms(9)));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->new_element);
  EXPECT_EQ(again->previous_owner, 100U);

  const PoolElementEntry* e = hs.find(kHandlespacePool, 1);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->owner(), 200U);
  EXPECT_EQ(e->element().home_registrar, 200U);
  EXPECT_EQ(e->registered_at(), at_ms(5));
  EXPECT_EQ(e->updated_at(), at_ms(9));
  EXPECT_EQ(e->pool_handle(), kHandlespacePool);
  EXPECT_EQ(hs.element_count(), 2U);
  EXPECT_EQ(hs.pool_count(), 1U);
  EXPECT_EQ(hs.pool_size(kHandlespacePool), 2U);
  EXPECT_EQ(hs.pool_policy(kHandlespacePool), PolicyType::round_robin);
}

TEST(Handlespace, RegistrationRecordsSourceAndResetsReports) {
  Handlespace hs;
  RegistrationContext ctx = by(1);
  ctx.source = TransportAddress{IpAddress::v4({192, 0, 2, 7}), 40000};
  ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(1, rr()), ctx).ok());
  EXPECT_EQ(hs.find(kHandlespacePool, 1)->source(), ctx.source);
  EXPECT_EQ(hs.report_unreachable(kHandlespacePool, 1), 1U);
  EXPECT_EQ(hs.report_unreachable(kHandlespacePool, 1), 2U);
  EXPECT_EQ(hs.report_unreachable(kHandlespacePool, 99), 0U);
  ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(1, rr()), ctx).ok());
  EXPECT_EQ(hs.find(kHandlespacePool, 1)->unreachable_reports(), 0U);
}

TEST(Handlespace, InconsistentPolicyIsRejectedWithThePoolsPolicy) {
  Handlespace hs;
  ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(1, rr()), by(1)).ok());
  ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(2, rr()), by(1)).ok());
  auto r = hs.register_element(kHandlespacePool, make_pe(3, weighted(PolicyType::weighted_random, 5)), by(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cause, ErrorCause::inconsistent_pooling_policy);
  ASSERT_TRUE(r.error().pool_policy.has_value());
  EXPECT_EQ(r.error().pool_policy->type, PolicyType::round_robin);
  // A member of a multi-member pool cannot change it either.
  auto r2 = hs.register_element(kHandlespacePool, make_pe(1, weighted(PolicyType::weighted_random, 5)), by(1));
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().cause, ErrorCause::inconsistent_pooling_policy);
  EXPECT_EQ(hs.element_count(), 2U);
  EXPECT_EQ(hs.pool_policy(kHandlespacePool), PolicyType::round_robin);
}

TEST(Handlespace, InconsistentTransportTypeAndUseAreRejected) {
  Handlespace hs;
  ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(1, rr()), by(1)).ok());

  PoolElementParameter tcp = make_pe(2, rr());
  tcp.user_transport.protocol = TransportProtocol::tcp;
  auto r = hs.register_element(kHandlespacePool, tcp, by(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cause, ErrorCause::inconsistent_transport_type);
  ASSERT_TRUE(r.error().pool_transport.has_value());
  EXPECT_EQ(r.error().pool_transport->protocol, TransportProtocol::sctp);

  PoolElementParameter control = make_pe(3, rr());
  control.user_transport.use = TransportUse::data_and_control;
  auto r2 = hs.register_element(kHandlespacePool, control, by(1));
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().cause, ErrorCause::inconsistent_data_control);
  EXPECT_EQ(hs.element_count(), 1U);
}

TEST(Handlespace, SoleMemberMayChangeThePoolsCharacteristics) {
  Handlespace hs;
  ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(1, rr()), by(1, at_ms(1))).ok());
  auto r = hs.register_element(kHandlespacePool, make_pe(1, loaded(PolicyType::least_used, 7)), by(1, at_ms(2)));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->new_element);
  EXPECT_EQ(hs.pool_policy(kHandlespacePool), PolicyType::least_used);
  EXPECT_EQ(hs.find(kHandlespacePool, 1)->registered_at(), at_ms(1));
  EXPECT_EQ(hs.find(kHandlespacePool, 1)->element().policy.load, 7U);
  // ...and the pool now holds newcomers to the new policy.
  EXPECT_FALSE(hs.register_element(kHandlespacePool, make_pe(2, rr()), by(1)).ok());
  EXPECT_TRUE(hs.register_element(kHandlespacePool, make_pe(2, loaded(PolicyType::least_used, 1)), by(1)).ok());
}

TEST(Handlespace, InvalidValuesAreRejected) {
  Handlespace hs;
  EXPECT_EQ(hs.register_element(PoolHandle(), make_pe(1, rr()), by(1)).error().cause, ErrorCause::invalid_values);
  EXPECT_EQ(hs.register_element(PoolHandle(std::string(kMaxPoolHandleSize + 1, 'x')), make_pe(1, rr()), by(1))
                .error()
                .cause,
            ErrorCause::invalid_values);
  EXPECT_TRUE(hs.register_element(PoolHandle(std::string(kMaxPoolHandleSize, 'x')), make_pe(1, rr()), by(1)).ok());
  PoolElementParameter unknown_policy = make_pe(2, rr());
  unknown_policy.policy.type = static_cast<PolicyType>(0x00000006);
  EXPECT_EQ(hs.register_element(kHandlespacePool, unknown_policy, by(1)).error().cause, ErrorCause::invalid_values);
  EXPECT_EQ(hs.register_element(kHandlespacePool, make_pe(3, rr(), -2), by(1)).error().cause, ErrorCause::invalid_values);
  EXPECT_EQ(hs.pool_size(kHandlespacePool), 0U);
}

TEST(Handlespace, UnknownPolicyFromAPeerIsKeptAndServedRoundRobin) {
  Handlespace hs;
  PolicyParameters odd = policy(static_cast<PolicyType>(0xB0001001));  // rsplib's RPLU, not implemented here
  odd.raw_value = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(hs.register_element(kHandlespacePool, make_pe(1, odd), by(1)).error().cause, ErrorCause::invalid_values);
  RegistrationContext from_peer = by(2);
  from_peer.accept_unknown_policy = true;
  for (PeIdentifier id : {1U, 2U, 3U}) ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(id, odd), from_peer).ok());
  EXPECT_EQ(hs.pool_policy(kHandlespacePool), static_cast<PolicyType>(0xB0001001));
  EXPECT_EQ(hs.find(kHandlespacePool, 2)->element().policy.raw_value, odd.raw_value);
  std::vector<const PoolElementEntry*> out;
  ASSERT_TRUE(hs.resolve(kHandlespacePool, 3, out).ok());
  ASSERT_EQ(out.size(), 3U);
  EXPECT_EQ(out[0]->id(), 1U);
  ASSERT_TRUE(hs.resolve(kHandlespacePool, 3, out).ok());
  EXPECT_EQ(out[0]->id(), 2U);
}

TEST(Handlespace, DuplicatePeIdentifierFromAnotherHostIsRejectedWhenAsked) {
  Handlespace hs;
  RegistrationContext ctx = by(1);
  ctx.check_unique_id = true;
  ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(1, rr()), ctx).ok());
  PoolElementParameter impostor = make_pe(1, rr());
  impostor.user_transport.addresses = {IpAddress::v4({172, 16, 0, 1})};
  EXPECT_EQ(hs.register_element(kHandlespacePool, impostor, ctx).error().cause, ErrorCause::non_unique_pe_identifier);
  // Same PE re-registering (sharing an address) is fine; so is an ENRP
  // update, which does not ask for the check.
  EXPECT_TRUE(hs.register_element(kHandlespacePool, make_pe(1, rr()), ctx).ok());
  EXPECT_TRUE(hs.register_element(kHandlespacePool, impostor, by(2)).ok());
}

TEST(Handlespace, DeregistrationRemovesEmptyPools) {
  Handlespace hs;
  ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(1, rr()), by(1)).ok());
  ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(2, rr()), by(1)).ok());
  auto a = hs.deregister_element(kHandlespacePool, 1);
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(a->pool_removed);
  EXPECT_EQ(a->element.id, 1U);
  EXPECT_FALSE(hs.deregister_element(kHandlespacePool, 1).has_value()) << "unknown PE";
  auto b = hs.deregister_element(kHandlespacePool, 2);
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(b->pool_removed);
  EXPECT_EQ(b->pool, kHandlespacePool);
  EXPECT_EQ(hs.pool_count(), 0U);
  std::vector<const PoolElementEntry*> out;
  auto r = hs.resolve(kHandlespacePool, 3, out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ErrorCause::unknown_pool_handle);
  EXPECT_TRUE(out.empty());
}

TEST(Handlespace, LifetimesExpireInOrderAndReRegistrationExtends) {
  Handlespace hs;
  ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(1, rr(), 1000), by(1, at_ms(0))).ok());
  ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(2, rr(), 2000), by(1, at_ms(0))).ok());
  ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(3, rr()), by(1, at_ms(0))).ok());  // infinite
  ASSERT_TRUE(hs.register_element(PoolHandle("b"), make_pe(4, rr(), 1500), by(1, at_ms(0))).ok());
  EXPECT_EQ(hs.next_expiry(), at_ms(1000));

  EXPECT_TRUE(hs.expire(at_ms(999)).empty());
  auto gone = hs.expire(at_ms(1000));
  ASSERT_EQ(gone.size(), 1U);
  EXPECT_EQ(gone[0].element.id, 1U);
  EXPECT_EQ(hs.next_expiry(), at_ms(1500));

  // PE 2 re-registers at 1200: now expires at 3200.
  ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(2, rr(), 2000), by(1, at_ms(1200))).ok());
  EXPECT_EQ(hs.find(kHandlespacePool, 2)->expires_at(), at_ms(3200));
  gone = hs.expire(at_ms(3000));
  ASSERT_EQ(gone.size(), 1U);
  EXPECT_EQ(gone[0].element.id, 4U);
  EXPECT_TRUE(gone[0].pool_removed);
  gone = hs.expire(at_ms(1'000'000'000));
  ASSERT_EQ(gone.size(), 1U);
  EXPECT_EQ(gone[0].element.id, 2U);
  EXPECT_FALSE(hs.next_expiry().has_value());
  EXPECT_NE(hs.find(kHandlespacePool, 3), nullptr);
}

TEST(Handlespace, OwnerIndexFollowsRegistrationsAndRemovals) {
  Handlespace hs;
  for (PeIdentifier id = 1; id <= 6; ++id)
    ASSERT_TRUE(hs.register_element(id % 2 ? kHandlespacePool : PoolHandle("alt"), make_pe(id, rr()), by(id <= 4 ? 10 : 20)).ok());
  EXPECT_EQ(hs.owned_count(10), 4U);
  EXPECT_EQ(hs.owned_count(20), 2U);
  EXPECT_EQ(hs.owners(), (std::vector<ServerIdentifier>{10, 20}));
  auto owned = hs.owned_by(10);
  ASSERT_EQ(owned.size(), 4U);
  // Pool creation order, then id: "gwc" (created by PE 1) 1, 3; "alt" 2, 4.
  EXPECT_EQ(owned[0]->id(), 1U);
  EXPECT_EQ(owned[1]->id(), 3U);
  EXPECT_EQ(owned[2]->id(), 2U);
  EXPECT_EQ(owned[3]->id(), 4U);
  ASSERT_TRUE(hs.deregister_element(kHandlespacePool, 5));
  EXPECT_EQ(hs.owned_count(20), 1U);
  auto removed = hs.remove_owned_by(10);
  EXPECT_EQ(removed.size(), 4U);
  EXPECT_EQ(hs.owned_count(10), 0U);
  EXPECT_EQ(hs.owners(), (std::vector<ServerIdentifier>{20}));
  EXPECT_EQ(hs.pe_checksum(10), 0xFFFF);
}

// The checksum every server keeps per owner must equal the RFC 1071 sum
// over the owner's PEs computed from scratch, after any mix of changes.
std::uint16_t checksum_from_scratch(const Handlespace& hs, ServerIdentifier owner) {
  Bytes all;
  for (const PoolHandle& h : hs.pool_handles()) {
    for (const PoolElementEntry* e : hs.elements_of(h)) {
      if (e->owner() != owner) continue;
      ByteWriter w(all);
      w.bytes(h.bytes());
      w.zeros(pad4(h.bytes().size()) - h.bytes().size());
      w.u32(e->id());
    }
  }
  return internet_checksum(all);
}

TEST(Handlespace, IncrementalChecksumEqualsRecomputationAfterRandomOperations) {
  Handlespace hs;
  Random rng(2024);
  const std::vector<PoolHandle> pools{PoolHandle("a"), PoolHandle("bb"), PoolHandle("ccc"), PoolHandle("dddd"),
                                      PoolHandle("eeeee"), PoolHandle(std::string_view("\xff\xfe\x00\x01\x80", 5))};
  const std::vector<ServerIdentifier> servers{0x11111111, 0x22222222, 0xFFFFFFFF};
  for (int step = 0; step < 4000; ++step) {
    const PoolHandle& h = pools[rng.uniform(pools.size())];
    const auto id = static_cast<PeIdentifier>(rng.uniform(40) * 0x07654321U);
    const ServerIdentifier owner = servers[rng.uniform(servers.size())];
    const TimePoint now = at_ms(step);
    switch (rng.uniform(7)) {
      case 0: case 1: case 2:
        (void)hs.register_element(h, make_pe(id, rr(), static_cast<std::int32_t>(rng.uniform(3000))), by(owner, now));
        break;
      case 3: (void)hs.deregister_element(h, id); break;
      case 4: (void)hs.set_owner(h, id, owner); break;
      case 5: (void)hs.expire(now); break;
      default:
        if (rng.uniform(20) == 0) (void)hs.change_owner(servers[0], servers[1]);
        if (rng.uniform(20) == 0) {
          hs.mark_owned_by(owner);
          (void)hs.sweep_marked(owner);
        }
        break;
    }
    if (step % 50 == 0) {
      for (ServerIdentifier s : servers) ASSERT_EQ(hs.pe_checksum(s), checksum_from_scratch(hs, s)) << "step " << step;
    }
  }
  std::size_t total = 0;
  for (ServerIdentifier s : servers) {
    EXPECT_EQ(hs.pe_checksum(s), checksum_from_scratch(hs, s));
    total += hs.owned_count(s);
  }
  EXPECT_EQ(total, hs.element_count());
  EXPECT_GT(hs.element_count(), 10U) << "the walk should leave a populated handlespace";
}

TEST(Handlespace, ResyncMarkAndSweepRemovesOnlyUnconfirmedPes) {
  Handlespace hs;
  for (PeIdentifier id = 1; id <= 5; ++id) ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(id, rr()), by(7)).ok());
  ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(6, rr()), by(8)).ok());
  EXPECT_EQ(hs.mark_owned_by(7), 5U);
  EXPECT_TRUE(hs.find(kHandlespacePool, 1)->marked());
  EXPECT_FALSE(hs.find(kHandlespacePool, 6)->marked());
  // The HANDLE_TABLE_RESPONSEs confirm PEs 1, 2 and 4.
  for (PeIdentifier id : {1U, 2U, 4U}) ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(id, rr()), by(7)).ok());
  auto swept = hs.sweep_marked(7);
  std::set<PeIdentifier> ids;
  for (const auto& r : swept) ids.insert(r.element.id);
  EXPECT_EQ(ids, (std::set<PeIdentifier>{3, 5}));
  EXPECT_EQ(hs.owned_count(7), 3U);
  EXPECT_NE(hs.find(kHandlespacePool, 6), nullptr);
  EXPECT_TRUE(hs.sweep_marked(7).empty());
}

TEST(Handlespace, TakeoverMovesEveryPeAndTheirChecksums) {
  Handlespace hs;
  for (PeIdentifier id = 1; id <= 4; ++id) ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(id, rr()), by(0xDEAD)).ok());
  ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(9, rr()), by(0xB0B)).ok());
  const std::uint16_t dead_sum = hs.pe_checksum(0xDEAD);
  PeChecksum combined;
  for (PeIdentifier id : {1U, 2U, 3U, 4U, 9U}) combined.add(kHandlespacePool, id);

  auto moved = hs.change_owner(0xDEAD, 0xB0B);
  EXPECT_EQ(moved.size(), 4U);
  for (const auto* e : moved) {
    EXPECT_EQ(e->owner(), 0xB0BU);
    EXPECT_EQ(e->element().home_registrar, 0xB0BU);
  }
  EXPECT_EQ(hs.owned_count(0xDEAD), 0U);
  EXPECT_EQ(hs.owned_count(0xB0B), 5U);
  EXPECT_NE(dead_sum, 0xFFFF);
  EXPECT_EQ(hs.pe_checksum(0xDEAD), 0xFFFF);
  EXPECT_EQ(hs.pe_checksum(0xB0B), combined.value());
  EXPECT_TRUE(hs.change_owner(0xDEAD, 0xB0B).empty());
}

TEST(Handlespace, CachedEncodingIsDroppedWhenThePeChanges) {
  Handlespace hs;
  ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(1, rr()), by(1)).ok());
  ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(2, rr()), by(1)).ok());
  std::vector<const PoolElementEntry*> out;
  ASSERT_TRUE(hs.resolve(kHandlespacePool, 2, out).ok());
  for (const auto* e : out) hs.set_cached_encoding(*e, Bytes{0xAB, static_cast<std::uint8_t>(e->id())});
  EXPECT_EQ(hs.find(kHandlespacePool, 1)->cached_encoding(), (Bytes{0xAB, 1}));
  ASSERT_TRUE(hs.resolve(kHandlespacePool, 2, out).ok());  // selection does not touch it
  EXPECT_EQ(hs.find(kHandlespacePool, 2)->cached_encoding(), (Bytes{0xAB, 2}));
  ASSERT_TRUE(hs.register_element(kHandlespacePool, make_pe(1, rr()), by(1)).ok());
  EXPECT_TRUE(hs.find(kHandlespacePool, 1)->cached_encoding().empty());
  ASSERT_TRUE(hs.set_owner(kHandlespacePool, 2, 9));
  EXPECT_TRUE(hs.find(kHandlespacePool, 2)->cached_encoding().empty());
}

TEST(Handlespace, ResolutionCanBeRepeatedAcrossPools) {
  Handlespace hs;
  ASSERT_TRUE(hs.register_element(PoolHandle("p1"), make_pe(1, rr()), by(1)).ok());
  ASSERT_TRUE(hs.register_element(PoolHandle("p2"), make_pe(2, loaded(PolicyType::least_used, 3)), by(1)).ok());
  std::vector<const PoolElementEntry*> out{nullptr, nullptr};
  ASSERT_EQ(*hs.resolve(PoolHandle("p2"), 5, out), PolicyType::least_used);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0]->id(), 2U);
  ASSERT_EQ(*hs.resolve(PoolHandle("p1"), 5, out), PolicyType::round_robin);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0]->id(), 1U);
}

}  // namespace
}  // namespace rserpool::core

namespace rserpool::core {
namespace {
using namespace test;

// erase() (the registrar's removal when it has read the entry already)
// leaves the handlespace as remove() does: indexes, counts, the owner's
// checksum, and the pool gone with its last member.
TEST(Handlespace, EraseLeavesTheHandlespaceAsRemoveDoes) {
  Handlespace a, b;
  for (Handlespace* hs : {&a, &b}) {
    for (PeIdentifier id = 1; id <= 3; ++id)
      ASSERT_TRUE(hs->register_element(kHandlespacePool, make_pe(id, rr(), 5000), by(7)).ok());
    ASSERT_TRUE(hs->register_element(PoolHandle("other"), make_pe(9, rr(), 4000), by(7)).ok());
  }
  for (PeIdentifier id : {2U, 1U, 3U}) {
    (void)a.remove(*a.find(kHandlespacePool, id));
    b.erase(*b.find(kHandlespacePool, id));
    EXPECT_EQ(a.element_count(), b.element_count());
    EXPECT_EQ(a.pool_count(), b.pool_count());
    EXPECT_EQ(a.owned_count(7), b.owned_count(7));
    EXPECT_EQ(a.pe_checksum(7), b.pe_checksum(7));
    EXPECT_EQ(b.find(kHandlespacePool, id), nullptr);
  }
  EXPECT_EQ(b.pool_count(), 1U);
  EXPECT_EQ(b.pool_handles(), (std::vector<PoolHandle>{PoolHandle("other")}));
  EXPECT_EQ(b.next_expiry(), at_ms(4000));
  EXPECT_EQ(b.handle_table_page({}, 10, ServerIdentifier{7}).entries.size(), 1U);
  b.erase(*b.find(PoolHandle("other"), 9));
  EXPECT_EQ(b.pool_count(), 0U);
  EXPECT_EQ(b.owners(), std::vector<ServerIdentifier>{});
  EXPECT_FALSE(b.next_expiry().has_value());
}

}  // namespace
}  // namespace rserpool::core
