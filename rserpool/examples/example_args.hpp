#pragma once
// Tiny command-line helpers shared by the ASAP example programs.
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rserpool/base/ip_address.hpp"
#include "rserpool/transport/config.hpp"
#include "rserpool/wire/types.hpp"

namespace asap_example {

template <class T>
std::optional<T> parse_number(std::string_view s, int base = 10) {
  T v{};
  if (base == 16 && s.starts_with("0x")) s.remove_prefix(2);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// "ADDR:PORT", "[v6]:PORT", or a bare address (port `default_port`).
inline std::optional<rserpool::TransportAddress> parse_endpoint(std::string_view s, std::uint16_t default_port) {
  if (auto t = rserpool::TransportAddress::parse(s)) return t;
  if (auto ip = rserpool::IpAddress::parse(s)) return rserpool::TransportAddress{*ip, default_port};
  return std::nullopt;
}

// "rr", "random", "wrr:W", "wrand:W", "prio:P", "lu:LOAD" (LOAD in percent).
inline std::optional<rserpool::PolicyParameters> parse_policy(std::string_view s) {
  using rserpool::PolicyType;
  rserpool::PolicyParameters p;
  const auto colon = s.find(':');
  const std::string_view name = s.substr(0, colon);
  std::uint32_t value = 0;
  if (colon != std::string_view::npos) {
    auto v = parse_number<std::uint32_t>(s.substr(colon + 1));
    if (!v) return std::nullopt;
    value = *v;
  }
  if (name == "rr") {
    p.type = PolicyType::round_robin;
  } else if (name == "random") {
    p.type = PolicyType::random;
  } else if (name == "wrr") {
    p.type = PolicyType::weighted_round_robin;
    p.weight = value;
  } else if (name == "wrand") {
    p.type = PolicyType::weighted_random;
    p.weight = value;
  } else if (name == "prio") {
    p.type = PolicyType::priority;
    p.priority = value;
  } else if (name == "lu") {
    p.type = PolicyType::least_used;
    p.load = static_cast<std::uint32_t>(static_cast<std::uint64_t>(value > 100 ? 100 : value) * 0xFFFFFFFFull / 100);
  } else {
    return std::nullopt;
  }
  return p;
}

}  // namespace asap_example
