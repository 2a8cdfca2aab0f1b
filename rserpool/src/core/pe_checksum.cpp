#include "rserpool/core/pe_checksum.hpp"

namespace rserpool::core {

namespace {
std::uint64_t word_sum(ByteView data) noexcept {
  std::uint64_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += load_u16(data.data() + i);
  if (i < data.size()) sum += std::uint64_t{data[i]} << 8;  // zero pad byte
  return sum;
}
}  // namespace

std::uint16_t internet_checksum(ByteView data) noexcept {
  PeChecksum c;
  c.add(word_sum(data));
  return c.value();
}

std::uint64_t pool_handle_word_sum(const PoolHandle& handle) noexcept {
  // Zero padding to 4 adds nothing to the sum, and the handle starts each
  // block on an even offset, so the padded and unpadded word sums agree.
  return word_sum(handle.bytes());
}

}  // namespace rserpool::core
