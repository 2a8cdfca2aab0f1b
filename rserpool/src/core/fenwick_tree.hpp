#pragma once
// Prefix sums over non-negative 64-bit weights with O(log n) update and
// O(log n) "which element holds cumulative value v" (the weighted draw).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rserpool::core {

class FenwickTree {
 public:
  std::size_t size() const noexcept { return tree_.size() - 1; }
  std::uint64_t total() const noexcept { return total_; }

  // Appends zero-weight elements until there are n. Appending keeps the
  // tree valid without a rebuild: node j covers (j - lowbit(j), j], whose
  // sum is known from two prefix queries because element j itself is 0.
  void grow_to(std::size_t n) {
    while (size() < n) {
      const std::size_t j = size() + 1;
      tree_.push_back(prefix(j - 1) - prefix(j - lowbit(j)));
      if (top_ * 2 <= j) top_ = top_ == 0 ? 1 : top_ * 2;
    }
  }

  // delta is applied modulo 2^64, so "minus w" is add(i, 0 - w).
  void add(std::size_t index, std::uint64_t delta) noexcept {
    for (std::size_t j = index + 1; j <= size(); j += lowbit(j)) tree_[j] += delta;
    total_ += delta;
  }

  // Sum of the first n elements.
  std::uint64_t prefix(std::size_t n) const noexcept {
    std::uint64_t s = 0;
    for (; n > 0; n -= lowbit(n)) s += tree_[n];
    return s;
  }

  // The element i with prefix(i) <= v < prefix(i + 1); requires v < total().
  std::size_t find(std::uint64_t v) const noexcept {
    std::size_t pos = 0;
    for (std::size_t step = top_; step != 0; step >>= 1) {
      if (pos + step <= size() && tree_[pos + step] <= v) {
        pos += step;
        v -= tree_[pos];
      }
    }
    return pos;
  }

 private:
  static std::size_t lowbit(std::size_t j) noexcept { return j & (~j + 1); }
  std::vector<std::uint64_t> tree_{0};  // 1-based; tree_[0] unused
  std::uint64_t total_ = 0;
  std::size_t top_ = 0;  // largest power of two <= size()
};

}  // namespace rserpool::core
