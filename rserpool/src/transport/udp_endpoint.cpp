#include "rserpool/transport/udp_endpoint.hpp"

#include <boost/asio/ip/multicast.hpp>
#include <boost/asio/ip/v6_only.hpp>

#include "association_base.hpp"
#include "socket_address.hpp"

namespace rserpool::transport {

namespace asio = boost::asio;
using boost::system::error_code;
using udp = asio::ip::udp;

namespace {
std::error_code to_std(const error_code& ec) { return {ec.value(), std::generic_category()}; }
}  // namespace

UdpEndpoint::UdpEndpoint(asio::io_context& io, UdpConfig config, ReceiveHandler on_receive)
    : socket_(io), cfg_(std::move(config)), on_receive_(std::move(on_receive)), buf_(cfg_.max_datagram_size) {}

UdpEndpoint::~UdpEndpoint() = default;

Result<std::shared_ptr<UdpEndpoint>, std::error_code> UdpEndpoint::open(asio::io_context& io, UdpConfig config,
                                                                        ReceiveHandler on_receive) {
  auto ep = std::make_shared<UdpEndpoint>(io, std::move(config), std::move(on_receive));
  if (auto r = ep->bind(); !r) return unexpected(r.error());
  ep->receive_next();
  return ep;
}

Result<void, std::error_code> UdpEndpoint::bind() {
  error_code ec;
  udp::endpoint local(detail::to_asio(cfg_.local_address), cfg_.local_port);
  socket_.open(local.protocol(), ec);
  if (ec) return unexpected(to_std(ec));
  if (cfg_.reuse_address) socket_.set_option(asio::socket_base::reuse_address(true), ec);
  if (local.protocol() == udp::v6() && cfg_.local_address.is_unspecified())
    socket_.set_option(asio::ip::v6_only(false), ec);  // the v6 wildcard also takes IPv4
  socket_.set_option(asio::ip::multicast::hops(cfg_.multicast_ttl), ec);
  socket_.set_option(asio::ip::multicast::enable_loopback(cfg_.multicast_loopback), ec);
  socket_.bind(local, ec);
  if (ec) return unexpected(to_std(ec));
  return {};
}

void UdpEndpoint::receive_next() {
  socket_.async_receive_from(asio::buffer(buf_), from_, [self = shared_from_this()](error_code ec, std::size_t n) {
    if (ec == asio::error::operation_aborted || !self->socket_.is_open()) return;
    if (!ec && self->on_receive_) {
      TransportAddress from{detail::from_asio(self->from_.address()), self->from_.port()};
      self->on_receive_(from, ByteView(self->buf_.data(), n));
    } else if (ec) {
      detail::logger()->debug("{}: udp receive: {}", self->cfg_.name.empty() ? "udp" : self->cfg_.name, ec.message());
    }
    if (self->socket_.is_open()) self->receive_next();
  });
}

Result<void, std::error_code> UdpEndpoint::send_to(const TransportAddress& to, ByteView datagram) {
  error_code ec;
  auto addr = detail::to_asio(to.ip);
  // A v6 socket reaches v4 destinations through v4-mapped addresses.
  if (addr.is_v4() && socket_.local_endpoint(ec).protocol() == udp::v6())
    addr = asio::ip::make_address_v6(asio::ip::v4_mapped, addr.to_v4());
  socket_.send_to(asio::buffer(datagram.data(), datagram.size()), udp::endpoint(addr, to.port), 0, ec);
  if (ec) return unexpected(to_std(ec));
  return {};
}

namespace {
template <class Option>
Option membership(const IpAddress& group, std::optional<IpAddress> iface, unsigned v6_index) {
  if (group.is_v4()) {
    auto ifa = iface && iface->is_v4() ? detail::to_asio(*iface).to_v4() : asio::ip::address_v4::any();
    return Option(detail::to_asio(group).to_v4(), ifa);
  }
  return Option(detail::to_asio(group).to_v6(), v6_index);
}
}  // namespace

Result<void, std::error_code> UdpEndpoint::join(const IpAddress& group, std::optional<IpAddress> interface_address,
                                                unsigned v6_interface_index) {
  error_code ec;
  socket_.set_option(membership<asio::ip::multicast::join_group>(group, interface_address, v6_interface_index), ec);
  if (ec) return unexpected(to_std(ec));
  return {};
}

Result<void, std::error_code> UdpEndpoint::leave(const IpAddress& group, std::optional<IpAddress> interface_address,
                                                 unsigned v6_interface_index) {
  error_code ec;
  socket_.set_option(membership<asio::ip::multicast::leave_group>(group, interface_address, v6_interface_index), ec);
  if (ec) return unexpected(to_std(ec));
  return {};
}

Result<void, std::error_code> UdpEndpoint::set_multicast_interface(const IpAddress& interface_address,
                                                                   unsigned v6_index) {
  error_code ec;
  if (interface_address.is_v4())
    socket_.set_option(asio::ip::multicast::outbound_interface(detail::to_asio(interface_address).to_v4()), ec);
  else
    socket_.set_option(asio::ip::multicast::outbound_interface(v6_index), ec);
  if (ec) return unexpected(to_std(ec));
  return {};
}

TransportAddress UdpEndpoint::local_address() const {
  error_code ec;
  auto le = socket_.local_endpoint(ec);
  if (ec) return {};
  return TransportAddress{detail::from_asio(le.address()), le.port()};
}

void UdpEndpoint::close() {
  error_code ec;
  socket_.close(ec);
}

}  // namespace rserpool::transport
