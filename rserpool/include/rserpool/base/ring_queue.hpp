#pragma once
// A first-in first-out queue on one circular array that keeps its storage:
// in steady state push_back/pop_front never touch the heap (std::deque
// allocates and frees a block every few hundred bytes that pass through
// it). Grows by doubling when full; used for the transports' send queues
// (issue 16).
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace rserpool {

template <typename T>
class RingQueue {
 public:
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  T& front() noexcept { return slots_[head_]; }
  const T& front() const noexcept { return slots_[head_]; }
  T& back() noexcept { return (*this)[size_ - 1]; }
  // The i-th element from the front.
  T& operator[](std::size_t i) noexcept { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  const T& operator[](std::size_t i) const noexcept { return slots_[(head_ + i) & (slots_.size() - 1)]; }

  void push_back(T v) {
    if (size_ == slots_.size()) grow();
    (*this)[size_] = std::move(v);
    ++size_;
  }
  // Built in its slot from `args` (aggregate initialisation allowed): no
  // temporary moved in and destroyed (issue 16: push_back of a send queue's
  // entry built two and destroyed both, out of line).
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    if (size_ == slots_.size()) grow();
    T& slot = (*this)[size_];
    std::destroy_at(&slot);
    try {
      // Braces for an aggregate: clang before 16 has no parenthesised
      // aggregate initialisation (P0960), which construct_at relies on.
      if constexpr (std::is_aggregate_v<T>)
        ::new (static_cast<void*>(&slot)) T{std::forward<Args>(args)...};
      else
        std::construct_at(&slot, std::forward<Args>(args)...);
    } catch (...) {
      std::construct_at(&slot);  // every slot always holds a live T
      throw;
    }
    ++size_;
    return slot;
  }
  void pop_front() noexcept {
    slots_[head_] = T{};  // releases what the element held
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
  }
  void clear() noexcept {
    while (!empty()) pop_front();
    head_ = 0;
  }
  // Keeps the elements for which keep(e) is true, in order; the others are
  // handed to removed(e) (by reference, to move from), in order.
  template <typename Keep, typename Removed>
  void partition(Keep keep, Removed removed) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < size_; ++i) {
      T& e = (*this)[i];
      if (keep(e)) {
        if (kept != i) (*this)[kept] = std::move(e);
        ++kept;
      } else {
        removed(e);
      }
    }
    for (std::size_t i = kept; i < size_; ++i) (*this)[i] = T{};
    size_ = kept;
  }

 private:
  void grow() {
    std::vector<T> bigger(slots_.empty() ? 16 : slots_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move((*this)[i]);
    slots_ = std::move(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;  // size a power of two (or 0)
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace rserpool
