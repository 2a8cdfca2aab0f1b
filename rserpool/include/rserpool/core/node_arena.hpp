#pragma once
// Arena-backed nodes for the node-based indexes of the handlespace and the
// registrar (issue 16: no per-PE allocation in steady state).
//
// std::map / std::set / std::unordered_map allocate one node per element;
// with the default allocator every registration paid malloc and every
// removal free (about a third of a registration's instructions). A
// NodeArena hands out fixed-size nodes from chunks and keeps freed nodes on
// a free list per size class, so a node costs a few instructions and a
// registrar whose PEs come and go allocates nothing once it has seen its
// high-water mark. Chunks are returned to the heap when the arena is empty
// (every node freed; a few chunks are kept): memory is held at the
// high-water mark only while something is registered, and that mark is bounded by the registrar's caps
// (associations x PEs per association).
//
// Not thread-safe (one owner, one event loop, as the cores). Allocators
// share the arena by std::shared_ptr, so a container may outlive its
// owner's other members in any destruction or move order.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

namespace rserpool::core {

class NodeArena {
 public:
  static constexpr std::size_t kAlign = 16;
  static constexpr std::size_t kMaxNode = 512;  // larger requests go to the heap

  NodeArena() = default;
  NodeArena(const NodeArena&) = delete;
  NodeArena& operator=(const NodeArena&) = delete;
  ~NodeArena() { release_chunks(); }

  static constexpr bool fits(std::size_t bytes) noexcept { return bytes != 0 && bytes <= kMaxNode; }

  void* allocate(std::size_t bytes) {
    const std::size_t c = size_class(bytes);
    ++live_;
    if (FreeNode* n = free_[c]) {
      free_[c] = n->next;
      return n;
    }
    Bump& b = bump_[c];
    const std::size_t node = (c + 1) * kAlign;
    if (b.next == nullptr || b.next + node > b.end) {
      // Chunks of at least 32 nodes or 8 KiB: one heap allocation per many nodes.
      const std::size_t size = std::max<std::size_t>(8192, node * 32);
      chunks_.reserve(chunks_.size() + 1);
      auto* chunk = static_cast<std::byte*>(::operator new(size, std::align_val_t{kAlign}));
      chunks_.push_back(chunk);
      b.next = chunk;
      b.end = chunk + size;
    }
    void* p = b.next;
    b.next += node;
    return p;
  }

  void deallocate(void* p, std::size_t bytes) noexcept {
    const std::size_t c = size_class(bytes);
    auto* n = static_cast<FreeNode*>(p);
    n->next = free_[c];
    free_[c] = n;
    if (--live_ == 0 && chunks_.size() > kKeptChunks) release_chunks();
  }

  std::size_t live_nodes() const noexcept { return live_; }
  std::size_t chunk_count() const noexcept { return chunks_.size(); }

 private:
  struct FreeNode {
    FreeNode* next;
  };
  struct Bump {
    std::byte* next = nullptr;
    std::byte* end = nullptr;
  };
  static constexpr std::size_t kClasses = kMaxNode / kAlign;
  // An emptied arena keeps a few chunks, so one PE coming and going does
  // not allocate and free a chunk each time.
  static constexpr std::size_t kKeptChunks = 4;
  static constexpr std::size_t size_class(std::size_t bytes) noexcept { return (bytes + kAlign - 1) / kAlign - 1; }

  void release_chunks() noexcept {
    for (std::byte* c : chunks_) ::operator delete(c, std::align_val_t{kAlign});
    chunks_.clear();
    free_.fill(nullptr);
    bump_.fill(Bump{});
  }

  std::array<FreeNode*, kClasses> free_{};
  std::array<Bump, kClasses> bump_{};
  std::vector<std::byte*> chunks_;
  std::size_t live_ = 0;
};

// A standard allocator over a shared NodeArena: single nodes come from the
// arena, arrays (hash buckets, vectors) from the heap.
template <class T>
class ArenaAllocator {
 public:
  using value_type = T;
  using propagate_on_container_copy_assignment = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;

  ArenaAllocator() : arena_(std::make_shared<NodeArena>()) {}
  explicit ArenaAllocator(std::shared_ptr<NodeArena> arena) noexcept : arena_(std::move(arena)) {}
  template <class U>
  ArenaAllocator(const ArenaAllocator<U>& other) noexcept : arena_(other.arena()) {}

  T* allocate(std::size_t n) {
    if (n == 1 && NodeArena::fits(sizeof(T)) && alignof(T) <= NodeArena::kAlign)
      return static_cast<T*>(arena_->allocate(sizeof(T)));
    return std::allocator<T>{}.allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n == 1 && NodeArena::fits(sizeof(T)) && alignof(T) <= NodeArena::kAlign) {
      arena_->deallocate(p, sizeof(T));
      return;
    }
    std::allocator<T>{}.deallocate(p, n);
  }

  const std::shared_ptr<NodeArena>& arena() const noexcept { return arena_; }

  template <class U>
  friend bool operator==(const ArenaAllocator& a, const ArenaAllocator<U>& b) noexcept {
    return a.arena_ == b.arena();
  }

 private:
  std::shared_ptr<NodeArena> arena_;
};

}  // namespace rserpool::core
