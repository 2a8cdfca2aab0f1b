// WRR (RFC 5356 4.2): each member should appear in the circular list as
// often as its share of the total weight, its copies spread evenly. Weights
// are 32-bit, so the list is never materialised: stride scheduling gives the
// same sequence. Every member has a pass value and a stride of 2^32/weight;
// the member with the smallest pass is the head, and selecting it adds its
// stride to its pass. Over any long run a member heads the list in
// proportion to its weight, with its turns interleaved with the others'.
// Ordered index keyed by (pass, seq): O(log n) per step.
//
// Weight 0 means "cannot serve" (RFC 5356 3.2): such members are kept out
// of the index and never returned.
#include <algorithm>
#include <map>

#include "selections.hpp"

namespace rserpool::core {

namespace {

struct WrrKey {
  std::uint64_t pass;
  std::uint64_t seq;
  friend auto operator<=>(const WrrKey&, const WrrKey&) = default;
};

constexpr std::uint64_t kStrideUnit = std::uint64_t{1} << 32;
// Passes grow by at most 2^32 per selection; rebase long before overflow.
constexpr std::uint64_t kRebaseAt = std::uint64_t{1} << 62;

class WeightedRoundRobinSelection final : public PoolSelection {
 public:
  explicit WeightedRoundRobinSelection(std::uint64_t rebase_at) : rebase_at_(rebase_at) {}

  void add(Slot slot, const PolicyParameters& p) override {
    if (slot >= members_.size()) members_.resize(slot + std::size_t{1});
    join(slot, p.weight);
  }

  void change(Slot slot, const PolicyParameters& p) override {
    if (members_[slot].weight == p.weight) return;
    leave(slot);
    join(slot, p.weight);
  }

  void remove(Slot slot) override { leave(slot); }

  void select(std::size_t max_items, std::size_t max_increment, Random&,
              std::vector<Slot>& out) override {
    const std::size_t first = out.size();
    for (auto it = index_.begin(); it != index_.end() && out.size() - first < max_items; ++it)
      out.push_back(it->second);
    const std::size_t advance = std::min(out.size() - first, max_increment);
    for (std::size_t i = first; i < first + advance; ++i) {
      Member& m = members_[out[i]];
      auto node = index_.extract(m.pos);
      vtime_ = std::max(vtime_, m.pass);
      m.pass += m.stride;
      m.seq = next_seq_++;
      node.key() = WrrKey{m.pass, m.seq};
      m.pos = index_.insert(std::move(node)).position;
    }
    if (vtime_ >= rebase_at_) rebase();
  }

 private:
  using Index = std::map<WrrKey, Slot>;
  struct Member {
    std::uint32_t weight = 0;
    std::uint64_t stride = 0;
    std::uint64_t pass = 0;
    std::uint64_t seq = 0;
    Index::iterator pos;  // valid while weight != 0
  };

  void join(Slot slot, std::uint32_t weight) {
    Member& m = members_[slot];
    m.weight = weight;
    if (weight == 0) return;
    m.stride = kStrideUnit / weight;
    // Half a stride in: a newcomer neither jumps the whole queue nor waits
    // a full turn, which keeps its copies centred in the cycle.
    m.pass = vtime_ + m.stride / 2;
    m.seq = next_seq_++;
    m.pos = index_.emplace(WrrKey{m.pass, m.seq}, slot).first;
  }

  void leave(Slot slot) {
    Member& m = members_[slot];
    if (m.weight != 0) index_.erase(m.pos);
    m.weight = 0;
  }

  // Shifting every pass by the same amount keeps the order, so the rebuilt
  // index is filled front to back with end hints: O(n), once in ~2^30 picks.
  void rebase() {
    const std::uint64_t base = std::min(vtime_, index_.empty() ? vtime_ : index_.begin()->first.pass);
    Index rebuilt;
    for (auto& [key, slot] : index_) {
      Member& m = members_[slot];
      m.pass -= base;
      m.pos = rebuilt.emplace_hint(rebuilt.end(), WrrKey{m.pass, m.seq}, slot);
    }
    index_.swap(rebuilt);  // swap keeps the stored iterators valid
    vtime_ -= base;
  }

  std::vector<Member> members_;
  std::uint64_t rebase_at_;
  Index index_;
  std::uint64_t vtime_ = 0;
  std::uint64_t next_seq_ = 0;
};

}  // namespace

std::unique_ptr<PoolSelection> make_weighted_round_robin_selection() {
  return std::make_unique<WeightedRoundRobinSelection>(kRebaseAt);
}

std::unique_ptr<PoolSelection> make_weighted_round_robin_selection(std::uint64_t rebase_at) {
  return std::make_unique<WeightedRoundRobinSelection>(rebase_at);
}

}  // namespace rserpool::core
