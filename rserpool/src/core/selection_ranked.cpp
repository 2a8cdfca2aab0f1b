// PRIO (RFC 5356 4.5) and the least-used family: LU (5.1), LUD (5.2),
// PLU (5.3) and LU-DPF (rsplib 0xB0002002). Members sit in an ordered index
// keyed by (rank, seq); a resolution returns the first N entries, so the
// answer is sorted by rank (ascending effective load, or descending priority)
// in O(N + log n). A selected entry is re-keyed with a fresh seq, which puts
// it behind the members of equal rank: round robin among ties.
#include <algorithm>
#include <map>

#include "selections.hpp"

namespace rserpool::core {

namespace {

struct Key {
  std::uint64_t rank;
  std::uint64_t seq;
  friend auto operator<=>(const Key&, const Key&) = default;
};

class RankedSelection final : public PoolSelection {
 public:
  explicit RankedSelection(RankRule rule) : rule_(rule) {}

  void add(Slot slot, const PolicyParameters& p) override {
    if (slot >= members_.size()) members_.resize(slot + std::size_t{1});
    Member& m = members_[slot];
    m = Member{p, 0, next_seq_++, {}};
    m.pos = index_.emplace(key_of(m), slot).first;
  }

  void change(Slot slot, const PolicyParameters& p) override {
    Member& m = members_[slot];
    auto node = index_.extract(m.pos);
    m.params = p;
    m.degradation = 0;  // a new load report starts a new degradation count
    node.key() = key_of(m);
    m.pos = index_.insert(std::move(node)).position;
  }

  void remove(Slot slot) override { index_.erase(members_[slot].pos); }

  void select(std::size_t max_items, std::size_t max_increment, Random&,
              std::vector<Slot>& out) override {
    const std::size_t first = out.size();
    for (auto it = index_.begin(); it != index_.end() && out.size() - first < max_items; ++it)
      out.push_back(it->second);
    const std::size_t advance = std::min(out.size() - first, max_increment);
    for (std::size_t i = first; i < first + advance; ++i) {
      Member& m = members_[out[i]];
      auto node = index_.extract(m.pos);
      m.seq = next_seq_++;
      if (rule_ == RankRule::least_used_degradation && m.degradation != UINT32_MAX) ++m.degradation;
      node.key() = key_of(m);
      m.pos = index_.insert(std::move(node)).position;
    }
  }

  std::uint32_t degradation_count(Slot slot) const override {
    return slot < members_.size() ? members_[slot].degradation : 0;
  }

 private:
  using Index = std::map<Key, Slot>;
  struct Member {
    PolicyParameters params;
    std::uint32_t degradation = 0;  // LUD: times selected since the last load report
    std::uint64_t seq = 0;
    Index::iterator pos;  // this member's node in index_
  };

  std::uint64_t rank_of(const Member& m) const noexcept {
    switch (rule_) {
      case RankRule::priority: return std::uint64_t{kMaxLoad} - m.params.priority;
      case RankRule::least_used: return m.params.load;
      case RankRule::least_used_degradation: return lud_load(m.params, m.degradation);
      case RankRule::priority_least_used: return plu_load(m.params);
      case RankRule::least_used_dpf: return lu_dpf_load(m.params);
    }
    return 0;
  }
  Key key_of(const Member& m) const noexcept { return Key{rank_of(m), m.seq}; }

  RankRule rule_;
  std::vector<Member> members_;
  Index index_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace

std::unique_ptr<PoolSelection> make_ranked_selection(RankRule rule) {
  return std::make_unique<RankedSelection>(rule);
}

}  // namespace rserpool::core
