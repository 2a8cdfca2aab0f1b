// WRAND (RFC 5356 4.4), RLU (5.4) and WRAND-DPF (rsplib 0xB0002001): up to N
// distinct members, each draw with probability weight / sum of the weights
// of the members not drawn yet. A Fenwick tree over the slots gives the draw
// in O(log n), so one request costs O(N log n).
//
// "Not drawn yet" is handled by rejection first: draw from the whole pool
// and redraw on a repeat. Conditioning on "not a repeat" is exactly the
// distribution over the remaining weights, and with N much smaller than the
// pool a repeat is rare, so this saves the two tree updates per item that
// removing and restoring a drawn member cost. Should repeats keep coming (a
// few members hold most of the weight), the draw falls back to taking the
// drawn members out of the tree for the rest of the request.
#include <algorithm>

#include "fenwick_tree.hpp"
#include "selections.hpp"

namespace rserpool::core {

namespace {

constexpr int kRejectionAttempts = 4;
constexpr std::size_t kRejectionMaxItems = 16;

class WeightedRandomSelection final : public PoolSelection {
 public:
  explicit WeightedRandomSelection(WeightRule rule) : rule_(rule) {}

  void add(Slot slot, const PolicyParameters& p) override {
    if (slot >= weight_.size()) {
      weight_.resize(slot + std::size_t{1}, 0);
      tree_.grow_to(weight_.size());
    }
    set(slot, weight_of(p));
  }

  void change(Slot slot, const PolicyParameters& p) override { set(slot, weight_of(p)); }
  void remove(Slot slot) override { set(slot, 0); }

  void select(std::size_t max_items, std::size_t, Random& rng, std::vector<Slot>& out) override {
    const std::size_t first = out.size();
    // Rejection checks each draw against the list so far: only worth it for
    // the short lists PUs ask for; long ones take drawn members out at once.
    bool removed = max_items > kRejectionMaxItems;  // drawn members taken out of the tree
    for (std::size_t i = 0; i < max_items && tree_.total() != 0; ++i) {
      Slot slot = 0;
      bool fresh = false;
      for (int attempt = 0; !removed && attempt < kRejectionAttempts && !fresh; ++attempt) {
        slot = static_cast<Slot>(tree_.find(rng.uniform(tree_.total())));
        fresh = std::find(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(), slot) == out.end();
      }
      if (!fresh) {
        if (!removed) {
          for (std::size_t k = first; k < out.size(); ++k) tree_.add(out[k], 0 - weight_[out[k]]);
          removed = true;
          if (tree_.total() == 0) break;
        }
        slot = static_cast<Slot>(tree_.find(rng.uniform(tree_.total())));
      }
      if (removed) tree_.add(slot, 0 - weight_[slot]);
      out.push_back(slot);
    }
    if (removed)
      for (std::size_t k = first; k < out.size(); ++k) tree_.add(out[k], weight_[out[k]]);
  }

 private:
  std::uint64_t weight_of(const PolicyParameters& p) const noexcept {
    switch (rule_) {
      case WeightRule::weight: return p.weight;
      case WeightRule::randomized_least_used: return rlu_weight(p.load);
      case WeightRule::weight_dpf: return wrand_dpf_weight(p);
    }
    return 0;
  }

  void set(Slot slot, std::uint64_t w) noexcept {
    tree_.add(slot, w - weight_[slot]);
    weight_[slot] = w;
  }

  WeightRule rule_;
  std::vector<std::uint64_t> weight_;
  FenwickTree tree_;
};

}  // namespace

std::unique_ptr<PoolSelection> make_weighted_random_selection(WeightRule rule) {
  return std::make_unique<WeightedRandomSelection>(rule);
}

}  // namespace rserpool::core
