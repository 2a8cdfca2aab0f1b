#pragma once
// The simulators' command lines (gwc-sim, ss7-gen): flags read left to
// right, each optionally followed by its value.
#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sg::sim {

enum class NumberBase { decimal, decimal_or_hex };

// The whole of `s` as a number; with decimal_or_hex a 0x prefix means hex.
template <typename T>
bool parse_number(std::string_view s, T& out, NumberBase base = NumberBase::decimal) {
  int radix = 10;
  if (base == NumberBase::decimal_or_hex && s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    radix = 16;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, radix);
  return ec == std::errc{} && p == s.data() + s.size();
}

class ArgCursor {
 public:
  ArgCursor(int argc, char** argv, NumberBase base) : argc_(argc), argv_(argv), base_(base) {}

  // Moves to the next flag; false past the end.
  bool next() { return ++i_ < argc_; }
  std::string_view flag() const { return argv_[i_]; }
  // The value after the current flag, consumed; nullopt when the line ends.
  std::optional<std::string_view> value() {
    if (i_ + 1 >= argc_) return std::nullopt;
    return std::string_view(argv_[++i_]);
  }
  template <typename T>
  bool number(T& out) {
    auto v = value();
    return v && parse_number(*v, out, base_);
  }
  // A non-negative number of milliseconds.
  bool milliseconds(std::chrono::milliseconds& out) {
    auto v = value();
    std::int64_t n = 0;
    if (!v || !parse_number(*v, n, base_) || n < 0) return false;
    out = std::chrono::milliseconds(n);
    return true;
  }

 private:
  int argc_;
  char** argv_;
  NumberBase base_;
  int i_ = 0;
};

}  // namespace sg::sim
