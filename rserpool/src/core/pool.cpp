#include "pool.hpp"

#include <cassert>

#include "selections.hpp"

namespace rserpool::core {

// A member's map node (the entry, its key and the tree's links) must come
// from the arena, or every new PE would cost a heap allocation.
static_assert(NodeArena::fits(sizeof(std::pair<const PeIdentifier, PoolElementEntry>) + 4 * sizeof(void*)),
              "a pool member's node outgrew NodeArena::kMaxNode");

Pool::Pool(PoolHandle handle, const PoolElementParameter& first, std::uint64_t rank,
           const std::shared_ptr<NodeArena>& arena)
    : handle_(std::move(handle)),
      rank_(rank),
      policy_type_(first.policy.type),
      transport_(first.user_transport),
      handle_sum_(pool_handle_word_sum(handle_)),
      selection_(find_policy(first.policy.type) != nullptr ? find_policy(first.policy.type)->make()
                                                           : make_round_robin_selection()),
      elements_(Elements::allocator_type(arena)) {}

PoolElementEntry* Pool::find(PeIdentifier id) noexcept {
  auto it = elements_.find(id);
  return it == elements_.end() ? nullptr : &it->second;
}

PoolElementEntry& Pool::insert(PoolElementParameter&& pe) {
  const PeIdentifier id = pe.id;
  auto [it, inserted] = elements_.try_emplace(id, std::move(pe));  // built in place, no assignment
  assert(inserted);
  PoolElementEntry& e = it->second;
  e.pool_ = this;
  if (free_slots_.empty()) {
    e.slot_ = static_cast<Slot>(by_slot_.size());
    by_slot_.push_back(&e);
  } else {
    e.slot_ = free_slots_.back();
    free_slots_.pop_back();
    by_slot_[e.slot_] = &e;
  }
  selection_->add(e.slot_, e.pe_.policy);
  return e;
}

void Pool::change_policy_values(PoolElementEntry& e, const PolicyParameters& p) {
  selection_->change(e.slot_, p);
}

Pool::Elements::node_type Pool::extract(PoolElementEntry& e) {
  const PeIdentifier id = e.pe_.id;
  selection_->remove(e.slot_);
  by_slot_[e.slot_] = nullptr;
  free_slots_.push_back(e.slot_);
  e.pool_ = nullptr;
  return elements_.extract(id);
}

void Pool::select(std::size_t max_items, std::size_t max_increment, Random& rng, std::vector<Slot>& scratch,
                  std::vector<const PoolElementEntry*>& out) {
  scratch.clear();
  selection_->select(max_items, max_increment, rng, scratch);
  for (Slot s : scratch) out.push_back(by_slot_[s]);
}

}  // namespace rserpool::core
