#include "rserpool/base/buffer_pool.hpp"

#include <utility>
#include <vector>

namespace rserpool::buffers {
namespace detail {

constinit thread_local Pool* t_pool = nullptr;

namespace {
// Trivially destructible, so it is readable after the pool's destructor ran
// (a buffer given back by another thread-local object's destructor).
thread_local bool t_pool_gone = false;

Pool* pool() noexcept {
  if (t_pool != nullptr) [[likely]]
    return t_pool;
  if (t_pool_gone) return nullptr;
  thread_local Pool p;
  t_pool = &p;
  return t_pool;
}
}  // namespace

Pool::~Pool() {
  t_pool_gone = true;
  t_pool = nullptr;
}

// The inline take() found no pool yet, or an empty one.
Bytes take_slow(std::size_t reserve) {
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

// The inline give() found no pool: made here, then give()'s own rule
// keeps or frees the buffer. After the thread's pool is gone the buffer is
// freed by its owner.
void give_slow(Bytes&& b) noexcept {
  if (pool() == nullptr) return;
  give(std::move(b));
}

}  // namespace detail

void shrink(std::size_t keep) noexcept {
  detail::Pool* p = detail::pool();
  if (!p) return;
  while (p->free.size() > keep) p->free.pop_back();  // the vector keeps its reserved slots
}

Stats stats() noexcept {
  detail::Pool* p = detail::pool();
  if (!p) return {};
  Stats s = p->stats;
  s.pooled = p->free.size();
  return s;
}

}  // namespace rserpool::buffers
