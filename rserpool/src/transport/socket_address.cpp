#include "socket_address.hpp"

#include <cstring>

namespace rserpool::transport::detail {

boost::asio::ip::address to_asio(const IpAddress& a) {
  if (a.is_v4()) {
    boost::asio::ip::address_v4::bytes_type b;
    std::memcpy(b.data(), a.data(), 4);
    return boost::asio::ip::address_v4(b);
  }
  boost::asio::ip::address_v6::bytes_type b;
  std::memcpy(b.data(), a.data(), 16);
  return boost::asio::ip::address_v6(b);
}

IpAddress from_asio(const boost::asio::ip::address& a) {
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    return IpAddress::v4({b[0], b[1], b[2], b[3]});
  }
  auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) return from_asio(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6));
  auto b = v6.to_bytes();
  std::array<std::uint8_t, 16> arr{};
  std::memcpy(arr.data(), b.data(), 16);
  return IpAddress::v6(arr);
}

sockaddr_storage to_sockaddr(const IpAddress& a, std::uint16_t port, int family, socklen_t& len) {
  sockaddr_storage ss{};
  if (family == AF_INET) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&sin.sin_addr, a.data(), 4);
    std::memcpy(&ss, &sin, sizeof sin);
    len = sizeof sin;
    return ss;
  }
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  if (a.is_v4()) {
    sin6.sin6_addr.s6_addr[10] = 0xff;
    sin6.sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(&sin6.sin6_addr.s6_addr[12], a.data(), 4);
  } else {
    std::memcpy(&sin6.sin6_addr, a.data(), 16);
  }
  std::memcpy(&ss, &sin6, sizeof sin6);
  len = sizeof sin6;
  return ss;
}

std::optional<TransportAddress> from_sockaddr(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    sockaddr_in sin{};
    std::memcpy(&sin, sa, sizeof sin);
    std::array<std::uint8_t, 4> b{};
    std::memcpy(b.data(), &sin.sin_addr, 4);
    return TransportAddress{IpAddress::v4(b), ntohs(sin.sin_port)};
  }
  if (sa->sa_family == AF_INET6) {
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, sa, sizeof sin6);
    const auto* s = sin6.sin6_addr.s6_addr;
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(s, kMapped, 12) == 0) return TransportAddress{IpAddress::v4({s[12], s[13], s[14], s[15]}), ntohs(sin6.sin6_port)};
    std::array<std::uint8_t, 16> b{};
    std::memcpy(b.data(), s, 16);
    return TransportAddress{IpAddress::v6(b), ntohs(sin6.sin6_port)};
  }
  return std::nullopt;
}

std::vector<std::uint8_t> pack_sockaddrs(const std::vector<IpAddress>& addrs, std::uint16_t port, int family) {
  std::vector<std::uint8_t> out;
  for (const auto& a : addrs) {
    socklen_t len = 0;
    // An AF_INET6 socket takes v4 addresses as plain sockaddr_in in bindx/connectx.
    auto ss = to_sockaddr(a, port, a.is_v4() ? AF_INET : family, len);
    const auto* p = reinterpret_cast<const std::uint8_t*>(&ss);
    out.insert(out.end(), p, p + len);
  }
  return out;
}

}  // namespace rserpool::transport::detail
