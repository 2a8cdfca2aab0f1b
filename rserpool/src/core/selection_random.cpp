// RAND (RFC 5356 4.3): up to N distinct members, uniformly at random. The
// members sit in a dense array (swap-remove on departure); a draw of N is a
// partial Fisher-Yates shuffle of the array's front, O(N).
#include <algorithm>
#include <utility>

#include "selections.hpp"

namespace rserpool::core {

namespace {

class RandomSelection final : public PoolSelection {
 public:
  void add(Slot slot, const PolicyParameters&) override {
    if (slot >= pos_.size()) pos_.resize(slot + std::size_t{1});
    pos_[slot] = dense_.size();
    dense_.push_back(slot);
  }

  void change(Slot, const PolicyParameters&) override {}

  void remove(Slot slot) override {
    const std::size_t at = pos_[slot];
    const Slot last = dense_.back();
    dense_[at] = last;
    pos_[last] = at;
    dense_.pop_back();
  }

  void select(std::size_t max_items, std::size_t, Random& rng, std::vector<Slot>& out) override {
    const std::size_t n = std::min(max_items, dense_.size());
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t j = i + static_cast<std::size_t>(rng.uniform(dense_.size() - i));
      std::swap(dense_[i], dense_[j]);
      pos_[dense_[i]] = i;
      pos_[dense_[j]] = j;
      out.push_back(dense_[i]);
    }
  }

 private:
  std::vector<Slot> dense_;
  std::vector<std::size_t> pos_;
};

}  // namespace

std::unique_ptr<PoolSelection> make_random_selection() { return std::make_unique<RandomSelection>(); }

}  // namespace rserpool::core
