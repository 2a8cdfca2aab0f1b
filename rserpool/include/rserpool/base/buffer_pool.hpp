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

#include "rserpool/base/bytes.hpp"

namespace rserpool::buffers {

inline constexpr std::size_t kMaxKept = 512;
inline constexpr std::size_t kMaxKeptCapacity = 4096;

// An empty buffer with at least `reserve` bytes of capacity: a recycled one
// when the pool has one, else a new one.
Bytes take(std::size_t reserve = 0);
// Returns a buffer to this thread's pool (cleared); freed when the pool is
// full or the buffer is larger than kMaxKeptCapacity.
void give(Bytes&& b) noexcept;

// Frees this thread's pooled buffers beyond `keep`: a process that gives
// heap back after a burst (the registrar after a flood) calls it first, so
// what the burst left in the pool is returned too.
void shrink(std::size_t keep) noexcept;

// This thread's pool, for tests and the benchmark.
struct Stats {
  std::uint64_t taken = 0;
  std::uint64_t recycled = 0;  // of those taken, served from the pool
  std::uint64_t given = 0;
  std::uint64_t kept = 0;      // of those given, kept
  std::size_t pooled = 0;      // buffers in the pool now
};
Stats stats() noexcept;

}  // namespace rserpool::buffers
