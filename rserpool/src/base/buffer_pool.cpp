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
// The pool once made: a trivially initialised thread_local, so the hot
// path (a take and a give per message) is one TLS load, not the guarded
// initialisation check of `p` below on every call (issue 16).
thread_local Pool* t_pool = nullptr;

Pool::~Pool() {
  t_pool_gone = true;
  t_pool = nullptr;
}

Pool* pool() noexcept {
  if (t_pool != nullptr) [[likely]]
    return t_pool;
  if (t_pool_gone) return nullptr;
  thread_local Pool p;
  t_pool = &p;
  return t_pool;
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
