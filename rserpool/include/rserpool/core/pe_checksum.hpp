#pragma once
// ENRP PE checksum (RFC 5353 3.6 / digest 3.2 "Audit"): the RFC 1071
// Internet checksum over, for every PE a server owns, the raw bytes
// [pool handle, zero-padded to a multiple of 4] + [PE identifier, 4 bytes in
// network order]. Blocks are summed as big-endian 16-bit words.
//
// The one's complement sum of a sequence of words equals the end-around-carry
// fold of their plain integer sum, and every block is 4-byte aligned, so the
// sum of a set of blocks does not depend on their order. PeChecksum therefore
// keeps the unfolded 64-bit integer sum: adding or removing one PE is an exact
// add or subtract (no borrow issues), and value() folds on demand.
#include <cstdint>

#include "rserpool/base/bytes.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool::core {

// RFC 1071 over arbitrary bytes (odd length padded with a zero byte).
std::uint16_t internet_checksum(ByteView data) noexcept;

// Unfolded sum of the 16-bit words of the zero-padded pool handle.
std::uint64_t pool_handle_word_sum(const PoolHandle& handle) noexcept;

// Unfolded sum of one PE's block, given its pool's pool_handle_word_sum().
constexpr std::uint64_t pe_block_word_sum(std::uint64_t handle_sum, PeIdentifier id) noexcept {
  return handle_sum + (id >> 16) + (id & 0xFFFFU);
}

class PeChecksum {
 public:
  void add(std::uint64_t block_sum) noexcept { sum_ += block_sum; }
  void remove(std::uint64_t block_sum) noexcept { sum_ -= block_sum; }
  void add(const PoolHandle& h, PeIdentifier id) noexcept { add(pe_block_word_sum(pool_handle_word_sum(h), id)); }
  void remove(const PoolHandle& h, PeIdentifier id) noexcept { remove(pe_block_word_sum(pool_handle_word_sum(h), id)); }

  // The 16-bit value for the PE Checksum parameter (0x000f), to be written
  // in network byte order. An empty set gives 0xFFFF, as rsplib's does.
  std::uint16_t value() const noexcept { return finish(sum_); }

  // rsplib 3.x keeps the unfolded sum in a uint32_t and folds only at the
  // end, so once one server's sum passes 2^32 (roughly 25,000 PEs with short
  // handles) its checksum drifts from RFC 1071 by the lost carries. Its
  // modular add/subtract leave exactly sum mod 2^32, so this reproduces the
  // value an rsplib peer computes over the same PEs, for a registrar that
  // must audit against one. (rsplib sums host-order words and stores the
  // result unswapped; by RFC 1071's byte-order independence that puts the
  // same bytes on the wire as value() in network order.)
  std::uint16_t value_rsplib() const noexcept { return finish(static_cast<std::uint32_t>(sum_)); }
  std::uint64_t raw_sum() const noexcept { return sum_; }
  friend bool operator==(const PeChecksum&, const PeChecksum&) = default;

 private:
  static std::uint16_t finish(std::uint64_t s) noexcept {
    while (s >> 16) s = (s & 0xFFFFU) + (s >> 16);
    return static_cast<std::uint16_t>(~s & 0xFFFFU);
  }
  std::uint64_t sum_ = 0;
};

}  // namespace rserpool::core
