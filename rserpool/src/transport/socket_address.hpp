#pragma once
// Conversions between our address values and the socket API's.
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include <optional>
#include <vector>

#include "rserpool/base/ip_address.hpp"

namespace rserpool::transport::detail {

boost::asio::ip::address to_asio(const IpAddress& a);
IpAddress from_asio(const boost::asio::ip::address& a);

// family AF_INET6 maps v4 addresses to ::ffff:a.b.c.d (for dual-stack sockets).
sockaddr_storage to_sockaddr(const IpAddress& a, std::uint16_t port, int family, socklen_t& len);
std::optional<TransportAddress> from_sockaddr(const sockaddr* sa);
// SO_REUSEPORT for Asio sockets (EndpointConfig::reuse_port).
using ReusePort = boost::asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// A packed array of sockaddr_in/sockaddr_in6, as sctp_bindx/sctp_connectx want.
std::vector<std::uint8_t> pack_sockaddrs(const std::vector<IpAddress>& addrs, std::uint16_t port, int family);

}  // namespace rserpool::transport::detail
