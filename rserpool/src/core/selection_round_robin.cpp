// RR (RFC 5356 4.1): a circular list with a head. A resolution returns the
// members from the head on, then the head moves forward, so consecutive
// requesters see lists starting at consecutive PEs. New members join just
// behind the head (the tail), so they come up after everyone already queued.
#include <algorithm>
#include <limits>

#include "selections.hpp"

namespace rserpool::core {

namespace {

constexpr Slot kNone = std::numeric_limits<Slot>::max();

class RoundRobinSelection final : public PoolSelection {
 public:
  void add(Slot slot, const PolicyParameters&) override {
    if (slot >= next_.size()) {
      // Doubled, not one more: a growing pool resizes (and fills) log n
      // times, not once per PE.
      const std::size_t size = std::max<std::size_t>(slot + std::size_t{1}, 2 * next_.size());
      next_.resize(size, kNone);
      prev_.resize(size, kNone);
    }
    if (head_ == kNone) {
      head_ = next_[slot] = prev_[slot] = slot;
    } else {
      const Slot tail = prev_[head_];
      next_[tail] = slot;
      prev_[slot] = tail;
      next_[slot] = head_;
      prev_[head_] = slot;
    }
    ++count_;
  }

  void change(Slot, const PolicyParameters&) override {}

  void remove(Slot slot) override {
    if (--count_ == 0) {
      head_ = kNone;
    } else {
      next_[prev_[slot]] = next_[slot];
      prev_[next_[slot]] = prev_[slot];
      if (head_ == slot) head_ = next_[slot];
    }
    next_[slot] = prev_[slot] = kNone;
  }

  void select(std::size_t max_items, std::size_t max_increment, Random&,
              std::vector<Slot>& out) override {
    const std::size_t n = std::min(max_items, count_);
    Slot s = head_;
    for (std::size_t i = 0; i < n; ++i, s = next_[s]) out.push_back(s);
    for (std::size_t i = std::min(n, max_increment); i > 0; --i) head_ = next_[head_];
  }

 private:
  std::vector<Slot> next_, prev_;
  Slot head_ = kNone;
  std::size_t count_ = 0;
};

}  // namespace

std::unique_ptr<PoolSelection> make_round_robin_selection() {
  return std::make_unique<RoundRobinSelection>();
}

}  // namespace rserpool::core
