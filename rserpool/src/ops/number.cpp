#include "rserpool/ops/number.hpp"

#include <charconv>
#include <system_error>

namespace rserpool::ops {

Result<std::uint64_t, std::string> parse_number(std::string_view text, std::uint64_t min, std::uint64_t max,
                                                NumberBase base) {
  const auto quoted = [&] { return "'" + std::string(text) + "'"; };
  if (text.empty()) return unexpected(std::string("empty number"));
  const bool hex = base == NumberBase::decimal_or_hex && text.size() >= 2 && text[0] == '0' &&
                   (text[1] == 'x' || text[1] == 'X');
  const char* first = text.data() + (hex ? 2 : 0);
  const char* last = text.data() + text.size();
  // from_chars accepts no '+', but "-1" would be read as a negative number
  // of an unsigned type only as an error; say it plainly.
  if (first == last || *first == '-' || *first == '+')
    return unexpected(quoted() + " is not an unsigned " + (hex ? "hexadecimal " : "") + "number");
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(first, last, v, hex ? 16 : 10);
  if (ec == std::errc::result_out_of_range)
    return unexpected(quoted() + " is out of range " + std::to_string(min) + ".." + std::to_string(max));
  if (ec != std::errc{}) return unexpected(quoted() + " is not " + (hex ? "a hexadecimal" : "a") + " number");
  if (p != last)
    return unexpected(quoted() + " has trailing characters after the number ('" + std::string(p, last) + "')");
  if (v < min || v > max)
    return unexpected(quoted() + " is out of range " + std::to_string(min) + ".." + std::to_string(max));
  return v;
}

}  // namespace rserpool::ops
