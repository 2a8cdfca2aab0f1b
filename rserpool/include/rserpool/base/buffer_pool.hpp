#pragma once
// Recycled byte buffers for the message path (issue 16: no heap allocation
// per relayed message in steady state). A Bytes vector keeps its capacity
// when cleared, so a buffer given back after use is taken again for the
// next message without touching the heap. One pool per thread (the event
// loop's), bounded: at most kMaxKept buffers of at most kMaxKeptCapacity
// bytes each are kept, anything beyond is freed as usual, so a burst never
// pins memory (512 x 4 KiB = 2 MiB per thread at worst).
//
// Who takes and gives, on the relay path: the transports take the buffer
// each received message is read into and give back each sent message's
// buffer once the peer has it (TCP mapping: acknowledged; SCTP: in the
// kernel); the M3UA driver gives back a received message's buffer once its
// actions ran and takes the buffer each outgoing message is encoded into.
// A buffer that is never given back is simply freed: the pool is an
// optimisation, never a requirement.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "rserpool/base/bytes.hpp"

namespace rserpool::buffers {

inline constexpr std::size_t kMaxKept = 512;
inline constexpr std::size_t kMaxKeptCapacity = 4096;

// This thread's pool, for tests and the benchmark.
struct Stats {
  std::uint64_t taken = 0;
  std::uint64_t recycled = 0;  // of those taken, served from the pool
  std::uint64_t given = 0;
  std::uint64_t kept = 0;      // of those given, kept
  std::size_t pooled = 0;      // buffers in the pool now
};

namespace detail {
struct Pool {
  Pool() { free.reserve(kMaxKept); }
  ~Pool();
  std::vector<Bytes> free;  // capacity kMaxKept from the start: a give never allocates
  Stats stats;
};
// The pool once made, null before that and after the thread's pool is
// gone: constinit (no dynamic initialisation), so the inline fast paths
// below reach it with one TLS load and no wrapper call. Every relayed
// message takes one buffer and gives one back (issue 16: the out-of-line
// calls were about 50 instructions each).
extern constinit thread_local Pool* t_pool;
Bytes take_slow(std::size_t reserve);
void give_slow(Bytes&& b) noexcept;
}  // namespace detail

// An empty buffer with at least `reserve` bytes of capacity: a recycled one
// when the pool has one, else a new one.
inline Bytes take(std::size_t reserve = 0) {
  detail::Pool* p = detail::t_pool;
  // The common case only (a pooled buffer large enough): small enough to
  // be inlined; anything else, growth included, out of line.
  if (p != nullptr && !p->free.empty() && p->free.back().capacity() >= reserve) [[likely]] {
    ++p->stats.taken;
    ++p->stats.recycled;
    Bytes b = std::move(p->free.back());
    p->free.pop_back();
    return b;
  }
  return detail::take_slow(reserve);
}

// Returns a buffer to this thread's pool (cleared); freed when the pool is
// full or the buffer is larger than kMaxKeptCapacity.
inline void give(Bytes&& b) noexcept {
  detail::Pool* p = detail::t_pool;
  if (p == nullptr) [[unlikely]]
    return detail::give_slow(std::move(b));
  ++p->stats.given;
  const std::size_t capacity = b.capacity();
  if (capacity == 0) return;  // nothing to keep or free (a buffer already taken over)
  if (capacity <= kMaxKeptCapacity && p->free.size() < kMaxKept) [[likely]] {
    ++p->stats.kept;
    b.clear();
    p->free.push_back(std::move(b));  // within the reserved capacity: no allocation
    return;
  }
  Bytes().swap(b);  // too large to keep, or the pool is full: freed
}

// Frees this thread's pooled buffers beyond `keep`: a process that gives
// heap back after a burst (the registrar after a flood) calls it first, so
// what the burst left in the pool is returned too.
void shrink(std::size_t keep) noexcept;

Stats stats() noexcept;

}  // namespace rserpool::buffers
