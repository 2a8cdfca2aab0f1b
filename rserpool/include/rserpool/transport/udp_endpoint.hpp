#pragma once
// A UDP datagram endpoint for ASAP server announces (RFC 5352 3.6): unicast
// send/receive and multicast group membership, IPv4 and IPv6.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <system_error>

#include "rserpool/base/bytes.hpp"
#include "rserpool/base/ip_address.hpp"
#include "rserpool/base/result.hpp"

namespace rserpool::transport {

struct UdpConfig {
  // Bind address; unspecified (0.0.0.0 or ::) receives group traffic too.
  IpAddress local_address = IpAddress::v6({});
  std::uint16_t local_port = 0;
  bool reuse_address = true;  // several listeners on one announce port
  std::uint8_t multicast_ttl = 1;   // hops (v6: hop limit)
  bool multicast_loopback = true;   // see our own announces (tests, co-located processes)
  std::size_t max_datagram_size = 65507;
  std::string name;
};

class UdpEndpoint : public std::enable_shared_from_this<UdpEndpoint> {
 public:
  using ReceiveHandler = std::function<void(const TransportAddress& from, ByteView datagram)>;

  static Result<std::shared_ptr<UdpEndpoint>, std::error_code> open(boost::asio::io_context& io, UdpConfig config,
                                                                    ReceiveHandler on_receive);
  UdpEndpoint(boost::asio::io_context& io, UdpConfig config, ReceiveHandler on_receive);
  ~UdpEndpoint();
  UdpEndpoint(const UdpEndpoint&) = delete;
  UdpEndpoint& operator=(const UdpEndpoint&) = delete;

  // Sends one datagram now (best effort, as UDP is); errors are immediate.
  Result<void, std::error_code> send_to(const TransportAddress& to, ByteView datagram);
  // interface_address: which local interface to join on (unspecified: kernel's choice);
  // for IPv6 the interface is chosen by index (0: default).
  Result<void, std::error_code> join(const IpAddress& group, std::optional<IpAddress> interface_address = {},
                                     unsigned v6_interface_index = 0);
  Result<void, std::error_code> leave(const IpAddress& group, std::optional<IpAddress> interface_address = {},
                                      unsigned v6_interface_index = 0);
  // Outgoing interface for multicast sends.
  Result<void, std::error_code> set_multicast_interface(const IpAddress& interface_address, unsigned v6_index = 0);

  TransportAddress local_address() const;
  // Ends the receive loop, which otherwise keeps the endpoint alive.
  void close();

 private:
  Result<void, std::error_code> bind();
  void receive_next();

  boost::asio::ip::udp::socket socket_;
  UdpConfig cfg_;
  ReceiveHandler on_receive_;
  Bytes buf_;
  boost::asio::ip::udp::endpoint from_;
};

}  // namespace rserpool::transport
