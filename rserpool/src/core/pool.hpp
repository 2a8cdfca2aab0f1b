#pragma once
// One pool: its members keyed by PE identifier (stable addresses, ordered for
// the handle-table download, O(log n) lookup), the characteristics it took from its first PE,
// and the policy's selection index over the members' slots.
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "rserpool/core/handlespace.hpp"
#include "rserpool/core/policy.hpp"

namespace rserpool::core {

class Pool {
 public:
  // A policy type without a descriptor gets round-robin selection. The rank
  // is the pool's creation number, unique for the handlespace's life.
  using Elements = std::map<PeIdentifier, PoolElementEntry, std::less<PeIdentifier>,
                            ArenaAllocator<std::pair<const PeIdentifier, PoolElementEntry>>>;

  // Member nodes come from `arena` (the handlespace's).
  Pool(PoolHandle handle, const PoolElementParameter& first, std::uint64_t rank,
       const std::shared_ptr<NodeArena>& arena);

  std::uint64_t rank() const noexcept { return rank_; }

  const PoolHandle& handle() const noexcept { return handle_; }
  PolicyType policy_type() const noexcept { return policy_type_; }
  const TransportParameter& transport_template() const noexcept { return transport_; }
  std::uint64_t handle_sum() const noexcept { return handle_sum_; }
  std::size_t size() const noexcept { return elements_.size(); }
  const Elements& elements() const noexcept { return elements_; }
  Elements& elements() noexcept { return elements_; }
  const PoolSelection& selection() const noexcept { return *selection_; }

  PoolElementEntry* find(PeIdentifier id) noexcept;
  PoolElementEntry& insert(PoolElementParameter&& pe);
  void change_policy_values(PoolElementEntry& e, const PolicyParameters& p);
  // Takes `e` (a member) out of the pool: the node that holds it, so the
  // caller moves out what it keeps without a copy of the whole entry.
  Elements::node_type extract(PoolElementEntry& e);

  void select(std::size_t max_items, std::size_t max_increment, Random& rng, std::vector<Slot>& scratch,
              std::vector<const PoolElementEntry*>& out);

  // How many members each owner (home registrar) has here, so that a walk
  // for one owner's PEs (the W-bit download) skips the pools without any.
  // A pool has members of a handful of owners: a short list.
  void count_owner(ServerIdentifier owner) {
    for (auto& [o, n] : owner_counts_)
      if (o == owner) {
        ++n;
        return;
      }
    owner_counts_.emplace_back(owner, 1);
  }
  void uncount_owner(ServerIdentifier owner) noexcept {
    for (auto it = owner_counts_.begin(); it != owner_counts_.end(); ++it)
      if (it->first == owner) {
        if (--it->second == 0) {
          *it = owner_counts_.back();
          owner_counts_.pop_back();
        }
        return;
      }
  }
  std::size_t owned_count(ServerIdentifier owner) const noexcept {
    for (const auto& [o, n] : owner_counts_)
      if (o == owner) return n;
    return 0;
  }

 private:
  PoolHandle handle_;
  std::uint64_t rank_;
  PolicyType policy_type_;
  TransportParameter transport_;
  std::uint64_t handle_sum_;
  std::unique_ptr<PoolSelection> selection_;
  // Ordered (the handle-table walk) and the lookup as well: a hash of the
  // PE ids beside it cost a node, an insert and an erase per PE (issue 16:
  // about 300 instructions of a registration with its removal) to save a
  // search of O(log n) that the pool's handful of cache lines answers fast.
  Elements elements_;
  std::vector<PoolElementEntry*> by_slot_;
  std::vector<Slot> free_slots_;
  std::vector<std::pair<ServerIdentifier, std::size_t>> owner_counts_;
};

}  // namespace rserpool::core
