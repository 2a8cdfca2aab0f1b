#include "mxua/point_code.hpp"

#include <array>
#include <charconv>

namespace mxua {
namespace {

struct Layout {
  std::array<unsigned, 3> widths;
};

constexpr Layout layout(PcFormat f) noexcept {
  return f == PcFormat::Itu ? Layout{{3, 8, 3}} : Layout{{8, 8, 8}};
}

bool parse_uint(std::string_view s, std::uint32_t& out) {
  if (s.empty() || s.size() > 10) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

}  // namespace

std::string format_point_code(PointCode pc, PcFormat f) {
  const auto l = layout(f);
  const unsigned w1 = l.widths[1], w2 = l.widths[2];
  const std::uint32_t a = (pc.value >> (w1 + w2)) & ((1U << l.widths[0]) - 1U);
  const std::uint32_t b = (pc.value >> w2) & ((1U << w1) - 1U);
  const std::uint32_t c = pc.value & ((1U << w2) - 1U);
  return std::to_string(a) + '.' + std::to_string(b) + '.' + std::to_string(c);
}

rserpool::Result<PointCode, std::string> parse_point_code(std::string_view text, PcFormat f) {
  const auto l = layout(f);
  const std::uint32_t max = (std::uint32_t{1} << pc_bits(f)) - 1U;
  const auto sep = text.find_first_of(".-");
  if (sep == std::string_view::npos) {
    std::uint32_t v = 0;
    if (!parse_uint(text, v) || v > max) return rserpool::unexpected(std::string("invalid point code: ") + std::string(text));
    return PointCode{v};
  }
  std::array<std::uint32_t, 3> parts{};
  std::string_view rest = text;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto pos = i < 2 ? rest.find_first_of(".-") : std::string_view::npos;
    if (i < 2 && pos == std::string_view::npos) return rserpool::unexpected(std::string("invalid point code: ") + std::string(text));
    const auto field = rest.substr(0, pos);
    if (!parse_uint(field, parts[i]) || parts[i] >= (std::uint32_t{1} << l.widths[i]))
      return rserpool::unexpected(std::string("point code field out of range: ") + std::string(text));
    if (i < 2) rest = rest.substr(pos + 1);
  }
  if (rest.find_first_of(".-") != std::string_view::npos)
    return rserpool::unexpected(std::string("invalid point code: ") + std::string(text));
  return PointCode{(parts[0] << (l.widths[1] + l.widths[2])) | (parts[1] << l.widths[2]) | parts[2]};
}

}  // namespace mxua
