#pragma once
// Recycled memory for the transports' Asio handlers (issue 16). Every
// async_wait / async_write allocates an operation object for its handler;
// Asio 1.74 keeps one spare block per thread, so with several associations
// waiting at once nearly every wait went to the heap. recycled(handler)
// gives the handler an allocator with a per-thread free list per size
// class (64 to 1,024 bytes, at most kKeptPerClass blocks each); larger
// requests go to the heap as before.
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace rserpool::transport::detail {

namespace handler_memory {

inline constexpr std::size_t kClasses = 5;  // 64, 128, 256, 512, 1024
inline constexpr std::size_t kKeptPerClass = 256;

struct Block {
  Block* next;
};

struct FreeLists {
  Block* head[kClasses] = {};
  std::size_t count[kClasses] = {};
  ~FreeLists() {
    for (std::size_t c = 0; c < kClasses; ++c)
      while (head[c]) {
        Block* b = head[c];
        head[c] = b->next;
        ::operator delete(static_cast<void*>(b));
      }
    gone() = true;
  }
  static bool& gone() {
    thread_local bool g = false;
    return g;
  }
};

inline FreeLists* lists() noexcept {
  if (FreeLists::gone()) return nullptr;
  thread_local FreeLists l;
  return &l;
}

inline std::size_t class_of(std::size_t bytes) noexcept {
  std::size_t c = 0;
  for (std::size_t size = 64; c < kClasses; ++c, size *= 2)
    if (bytes <= size) return c;
  return kClasses;
}

inline void* allocate(std::size_t bytes) {
  const std::size_t c = class_of(bytes);
  if (c == kClasses) return ::operator new(bytes);
  if (FreeLists* l = lists(); l && l->head[c]) {
    Block* b = l->head[c];
    l->head[c] = b->next;
    --l->count[c];
    return b;
  }
  return ::operator new(std::size_t{64} << c);
}

inline void deallocate(void* p, std::size_t bytes) noexcept {
  const std::size_t c = class_of(bytes);
  FreeLists* l = c == kClasses ? nullptr : lists();
  if (!l || l->count[c] >= kKeptPerClass) {
    ::operator delete(p);
    return;
  }
  auto* b = static_cast<Block*>(p);
  b->next = l->head[c];
  l->head[c] = b;
  ++l->count[c];
}

}  // namespace handler_memory

template <typename T>
struct RecyclingAllocator {
  using value_type = T;
  RecyclingAllocator() noexcept = default;
  template <typename U>
  RecyclingAllocator(const RecyclingAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(handler_memory::allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { handler_memory::deallocate(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const RecyclingAllocator<U>&) const noexcept { return true; }
  template <typename U>
  bool operator!=(const RecyclingAllocator<U>&) const noexcept { return false; }
};

// A completion handler whose operation memory comes from the free lists.
template <typename Handler>
struct Recycled {
  Handler handler;
  using allocator_type = RecyclingAllocator<void>;
  allocator_type get_allocator() const noexcept { return {}; }
  template <typename... Args>
  void operator()(Args&&... args) {
    handler(std::forward<Args>(args)...);
  }
};

template <typename Handler>
Recycled<std::decay_t<Handler>> recycled(Handler&& h) {
  return Recycled<std::decay_t<Handler>>{std::forward<Handler>(h)};
}

}  // namespace rserpool::transport::detail
