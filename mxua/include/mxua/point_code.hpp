#pragma once
// SS7 signalling point codes. On the M3UA wire a point code is right-aligned
// in 24 bits; its width and the way operators write it depend on the
// variant: ITU 14 bits shown 3-8-3 ("zone.area.sp", e.g. 1.234.5), ANSI 24
// bits shown 8-8-8 ("network.cluster.member").
#include <cstdint>
#include <string>
#include <string_view>

#include "rserpool/base/result.hpp"

namespace mxua {

enum class PcFormat : std::uint8_t { Itu, Ansi };

constexpr unsigned pc_bits(PcFormat f) noexcept { return f == PcFormat::Itu ? 14U : 24U; }

struct PointCode {
  std::uint32_t value = 0;  // right-aligned, at most 24 bits on the wire
  friend constexpr bool operator==(PointCode, PointCode) = default;
  friend constexpr auto operator<=>(PointCode, PointCode) = default;
};

// A point code plus a wildcard mask: the number of low-order bits that are
// ignored, as used in Affected Point Code, DPC and OPC List parameters.
struct MaskedPointCode {
  std::uint8_t mask = 0;
  PointCode pc;
  friend constexpr bool operator==(const MaskedPointCode&, const MaskedPointCode&) = default;

  constexpr bool contains(PointCode other) const noexcept {
    if (mask >= 32) return true;
    const std::uint32_t keep = ~((std::uint32_t{1} << mask) - 1U);
    return (pc.value & keep) == (other.value & keep);
  }
};

// "1.234.5" (ITU) or "10.20.30" (ANSI).
std::string format_point_code(PointCode pc, PcFormat f);
// Accepts the dotted form of the variant (dots or dashes as separators) and a
// plain decimal integer; rejects out-of-range fields.
rserpool::Result<PointCode, std::string> parse_point_code(std::string_view text, PcFormat f);

}  // namespace mxua
