#include "rserpool/base/ip_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace rserpool {

IpAddress IpAddress::v4(std::array<std::uint8_t, 4> b) {
  IpAddress a;
  std::copy(b.begin(), b.end(), a.bytes_.begin());
  a.family_ = Family::v4;
  return a;
}

IpAddress IpAddress::v6(std::array<std::uint8_t, 16> b) {
  IpAddress a;
  a.bytes_ = b;
  a.family_ = Family::v6;
  return a;
}

IpAddress IpAddress::v6_loopback() {
  std::array<std::uint8_t, 16> b{};
  b[15] = 1;
  return v6(b);
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string s(text);
  std::array<std::uint8_t, 16> buf{};
  if (inet_pton(AF_INET, s.c_str(), buf.data()) == 1) return v4({buf[0], buf[1], buf[2], buf[3]});
  if (inet_pton(AF_INET6, s.c_str(), buf.data()) == 1) return v6(buf);
  return std::nullopt;
}

bool IpAddress::is_loopback() const noexcept {
  if (is_v4()) return bytes_[0] == 127;
  return std::all_of(bytes_.begin(), bytes_.begin() + 15, [](auto c) { return c == 0; }) && bytes_[15] == 1;
}

bool IpAddress::is_unspecified() const noexcept {
  return std::all_of(bytes_.begin(), bytes_.begin() + static_cast<long>(size()), [](auto c) { return c == 0; });
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

std::optional<TransportAddress> TransportAddress::parse(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto ip = IpAddress::parse(host);
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (!ip || ec != std::errc{} || ptr != port.data() + port.size() || value > 65535) return std::nullopt;
  return TransportAddress{*ip, static_cast<std::uint16_t>(value)};
}

std::string TransportAddress::to_string() const {
  // Built by appending: g++ 12 at -O3 warns (-Wrestrict, a false positive)
  // on the equivalent chain of operator+.
  std::string s;
  s.reserve(INET6_ADDRSTRLEN + 8);
  if (ip.is_v6()) s.push_back('[');
  s.append(ip.to_string());
  if (ip.is_v6()) s.push_back(']');
  s.push_back(':');
  s.append(std::to_string(port));
  return s;
}

}  // namespace rserpool
