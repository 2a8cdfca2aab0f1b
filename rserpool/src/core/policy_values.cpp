#include <algorithm>

#include "rserpool/core/policy.hpp"

namespace rserpool::core {

namespace {
__extension__ using U128 = unsigned __int128;

std::uint32_t saturate(std::uint64_t v) noexcept {
  return v >= kMaxLoad ? kMaxLoad : static_cast<std::uint32_t>(v);
}
}  // namespace

std::uint64_t rlu_weight(std::uint32_t load) noexcept {
  return std::max<std::uint64_t>(1, kMaxLoad - load);
}

std::uint64_t wrand_dpf_weight(const PolicyParameters& p) noexcept {
  if (p.weight == 0) return 0;
  // weight * distance * dpf needs up to 96 bits; round to nearest.
  const U128 num = U128{p.weight} * p.distance * p.dpf;
  const U128 penalty = (num + kMaxLoad / 2) / kMaxLoad;
  if (penalty >= p.weight) return 1;
  return p.weight - static_cast<std::uint64_t>(penalty);
}

std::uint32_t lu_dpf_load(const PolicyParameters& p) noexcept {
  const std::uint64_t penalty = std::uint64_t{p.distance} * p.dpf;  // < 2^64
  if (penalty >= kMaxLoad) return kMaxLoad;
  return saturate(p.load + penalty);
}

std::uint32_t plu_load(const PolicyParameters& p) noexcept {
  return saturate(std::uint64_t{p.load} + p.degradation);
}

std::uint32_t lud_load(const PolicyParameters& p, std::uint32_t count) noexcept {
  return saturate(std::uint64_t{p.load} + std::uint64_t{count} * p.degradation);
}

}  // namespace rserpool::core
