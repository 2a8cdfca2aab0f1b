#pragma once
// The one parser of unsigned numbers in configuration commands (sgd,
// rserpool-registrar, the SCTP commands they share).
//
// libosmocore's VTY matches a `<0-65535>` token before our handler runs, but
// not a word token like `ID`, and not the range of the field the value ends
// up in; so every handler parses again here and says precisely what was
// wrong instead of truncating a value silently.
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "rserpool/base/result.hpp"
#include "rserpool/ops/vty.hpp"

namespace rserpool::ops {

enum class NumberBase : std::uint8_t {
  decimal,         // "1234"
  decimal_or_hex,  // "1234" or "0x4d2" / "0X4D2" (identifiers such as an ENRP server id)
};

// `text` as an unsigned number in [min, max]: the whole text, no sign, no
// spaces. The error names the text and what was wrong with it (empty, not a
// number, trailing characters, out of range with the range).
Result<std::uint64_t, std::string> parse_number(std::string_view text, std::uint64_t min = 0,
                                                std::uint64_t max = std::numeric_limits<std::uint64_t>::max(),
                                                NumberBase base = NumberBase::decimal);

// The same, into the field's own type: the default range is the type's.
template <std::unsigned_integral T>
Result<T, std::string> parse_number_as(std::string_view text, T min = 0, T max = std::numeric_limits<T>::max(),
                                       NumberBase base = NumberBase::decimal) {
  auto v = parse_number(text, min, max, base);
  if (!v) return unexpected(std::move(v.error()));
  return static_cast<T>(*v);
}

// For a command handler: argument `i` of `c` as a T in [min, max]; on
// failure sets c.error (so the command fails and a config file names its
// line) and returns nullopt.
template <std::unsigned_integral T>
std::optional<T> number_arg(CommandContext& c, std::size_t i, T min = 0, T max = std::numeric_limits<T>::max(),
                            NumberBase base = NumberBase::decimal) {
  auto v = parse_number_as<T>(c.args.at(i), min, max, base);
  if (!v) {
    c.error = v.error();
    return std::nullopt;
  }
  return *v;
}

}  // namespace rserpool::ops
