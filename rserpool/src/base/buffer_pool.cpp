#include "rserpool/base/buffer_pool.hpp"

#include <utility>
#include <vector>

namespace rserpool::buffers {
namespace {

struct Pool {
  Pool() { free.reserve(kMaxKept); }
  ~Pool();
  std::vector<Bytes> free;
  Stats stats;
};

// Trivially destructible, so it is readable after the pool's destructor ran
// (a buffer given back by another thread-local object's destructor).
thread_local bool t_pool_gone = false;

Pool::~Pool() { t_pool_gone = true; }

Pool* pool() noexcept {
  if (t_pool_gone) return nullptr;
  thread_local Pool p;
  return &p;
}

}  // namespace

Bytes take(std::size_t reserve) {
  Pool* p = pool();
  Bytes b;
  if (p) {
    ++p->stats.taken;
    if (!p->free.empty()) {
      b = std::move(p->free.back());
      p->free.pop_back();
      ++p->stats.recycled;
    }
  }
  if (b.capacity() < reserve) b.reserve(reserve);
  return b;
}

void give(Bytes&& b) noexcept {
  Pool* p = pool();
  if (!p) return;
  ++p->stats.given;
  if (b.capacity() == 0 || b.capacity() > kMaxKeptCapacity || p->free.size() >= kMaxKept) {
    Bytes().swap(b);
    return;
  }
  b.clear();
  p->free.push_back(std::move(b));  // within the reserved capacity: no allocation
  ++p->stats.kept;
}

void shrink(std::size_t keep) noexcept {
  Pool* p = pool();
  if (!p) return;
  while (p->free.size() > keep) p->free.pop_back();  // the vector keeps its reserved slots
}

Stats stats() noexcept {
  Pool* p = pool();
  if (!p) return {};
  Stats s = p->stats;
  s.pooled = p->free.size();
  return s;
}

}  // namespace rserpool::buffers
