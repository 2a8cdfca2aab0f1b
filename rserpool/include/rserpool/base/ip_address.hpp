#pragma once
// IPv4/IPv6 addresses as plain values, so that sans-I/O cores and codecs do
// not depend on Asio. Conversion to and from Asio lives in the transport.
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rserpool {

class IpAddress {
 public:
  enum class Family : std::uint8_t { v4, v6 };

  IpAddress() = default;  // 0.0.0.0
  static IpAddress v4(std::array<std::uint8_t, 4> b);
  static IpAddress v6(std::array<std::uint8_t, 16> b);
  static IpAddress v4_loopback() { return v4({127, 0, 0, 1}); }
  static IpAddress v6_loopback();
  // Accepts dotted quad or RFC 4291 text (with or without brackets).
  static std::optional<IpAddress> parse(std::string_view text);

  Family family() const noexcept { return family_; }
  bool is_v4() const noexcept { return family_ == Family::v4; }
  bool is_v6() const noexcept { return family_ == Family::v6; }
  // 4 significant bytes for v4, 16 for v6.
  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  std::size_t size() const noexcept { return is_v4() ? 4 : 16; }
  bool is_loopback() const noexcept;
  bool is_unspecified() const noexcept;

  std::string to_string() const;

  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
  Family family_ = Family::v4;
};

struct TransportAddress {
  IpAddress ip;
  std::uint16_t port = 0;

  // "1.2.3.4:2905" or "[::1]:2905".
  static std::optional<TransportAddress> parse(std::string_view text);
  std::string to_string() const;
  friend auto operator<=>(const TransportAddress&, const TransportAddress&) = default;
};

}  // namespace rserpool
