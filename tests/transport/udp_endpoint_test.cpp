// UDP endpoint: unicast both families, multicast join/leave (announces).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>

#include "rserpool/transport/udp_endpoint.hpp"

using namespace rserpool;
using namespace rserpool::transport;
using namespace std::chrono_literals;

namespace {

UdpConfig udp_config(IpAddress local) {
  UdpConfig c;
  c.local_address = local;
  return c;
}

struct Inbox {
  std::vector<std::pair<TransportAddress, Bytes>> got;
  UdpEndpoint::ReceiveHandler handler() {
    return [this](const TransportAddress& from, ByteView d) { got.emplace_back(from, Bytes(d.begin(), d.end())); };
  }
};

bool run_until(boost::asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.run_for(5ms);
    io.restart();
  }
  return true;
}

}  // namespace

TEST(UdpEndpoint, UnicastIpv4) {
  boost::asio::io_context io;
  Inbox rx;
  auto a = UdpEndpoint::open(io, udp_config(IpAddress::v4_loopback()), rx.handler());
  ASSERT_TRUE(a.ok());
  auto b = UdpEndpoint::open(io, udp_config(IpAddress::v4_loopback()), nullptr);
  ASSERT_TRUE(b.ok());
  const Bytes payload = {1, 2, 3, 4, 5};
  ASSERT_TRUE((*b)->send_to((*a)->local_address(), payload).ok());
  ASSERT_TRUE(run_until(io, [&] { return !rx.got.empty(); }, 2s));
  EXPECT_EQ(rx.got[0].second, payload);
  EXPECT_EQ(rx.got[0].first, (*b)->local_address());
  (*a)->close();
  (*b)->close();
}

TEST(UdpEndpoint, UnicastIpv6AndV4ToDualStackWildcard) {
  boost::asio::io_context io;
  Inbox rx;
  auto a = UdpEndpoint::open(io, udp_config(IpAddress::v6({})), rx.handler());  // [::], dual-stack
  if (!a.ok()) GTEST_SKIP() << "no IPv6 on this host: " << a.error().message();
  const std::uint16_t port = (*a)->local_address().port;
  auto b6 = UdpEndpoint::open(io, udp_config(IpAddress::v6_loopback()), nullptr);
  ASSERT_TRUE(b6.ok());
  auto b4 = UdpEndpoint::open(io, udp_config(IpAddress::v4_loopback()), nullptr);
  ASSERT_TRUE(b4.ok());
  ASSERT_TRUE((*b6)->send_to(TransportAddress{IpAddress::v6_loopback(), port}, Bytes{6}).ok());
  ASSERT_TRUE((*b4)->send_to(TransportAddress{IpAddress::v4_loopback(), port}, Bytes{4}).ok());
  ASSERT_TRUE(run_until(io, [&] { return rx.got.size() >= 2; }, 2s));
  for (auto& [from, data] : rx.got) {
    ASSERT_EQ(data.size(), 1u);
    EXPECT_EQ(from.ip.is_v6(), data[0] == 6) << from.to_string();  // v4 source shown as v4, not v4-mapped
  }
  (*a)->close();
  (*b6)->close();
  (*b4)->close();
}

TEST(UdpEndpoint, MulticastIpv4JoinReceiveLeave) {
  boost::asio::io_context io;
  Inbox rx;
  const auto group = *IpAddress::parse("239.255.86.3");
  auto listener = UdpEndpoint::open(io, udp_config(IpAddress{}), rx.handler());  // 0.0.0.0
  ASSERT_TRUE(listener.ok());
  const std::uint16_t port = (*listener)->local_address().port;
  if (auto j = (*listener)->join(group, IpAddress::v4_loopback()); !j)
    GTEST_SKIP() << "cannot join a multicast group here: " << j.error().message();
  auto sender = UdpEndpoint::open(io, udp_config(IpAddress{}), nullptr);
  ASSERT_TRUE(sender.ok());
  ASSERT_TRUE((*sender)->set_multicast_interface(IpAddress::v4_loopback()).ok());
  if (auto s = (*sender)->send_to(TransportAddress{group, port}, Bytes{0xa5}); !s)
    GTEST_SKIP() << "no multicast route here: " << s.error().message();
  ASSERT_TRUE(run_until(io, [&] { return !rx.got.empty(); }, 2s));
  EXPECT_EQ(rx.got[0].second, Bytes{0xa5});

  ASSERT_TRUE((*listener)->leave(group, IpAddress::v4_loopback()).ok());
  rx.got.clear();
  ASSERT_TRUE((*sender)->send_to(TransportAddress{group, port}, Bytes{0x5a}).ok());
  run_until(io, [] { return false; }, 200ms);
  EXPECT_TRUE(rx.got.empty());
  (*listener)->close();
  (*sender)->close();
}

TEST(UdpEndpoint, MulticastIpv6JoinAndReceive) {
  boost::asio::io_context io;
  Inbox rx;
  const auto group = *IpAddress::parse("ff02::133");  // ASAP announce group, link-local scope
  auto listener = UdpEndpoint::open(io, udp_config(IpAddress::v6({})), rx.handler());
  if (!listener.ok()) GTEST_SKIP() << "no IPv6";
  const std::uint16_t port = (*listener)->local_address().port;
  const unsigned lo_index = 1;  // Linux: lo is always interface 1
  if (auto j = (*listener)->join(group, std::nullopt, lo_index); !j)
    GTEST_SKIP() << "cannot join an IPv6 group on lo: " << j.error().message();
  auto sender = UdpEndpoint::open(io, udp_config(IpAddress::v6({})), nullptr);
  ASSERT_TRUE(sender.ok());
  ASSERT_TRUE((*sender)->set_multicast_interface(IpAddress::v6({}), lo_index).ok());
  if (auto s = (*sender)->send_to(TransportAddress{group, port}, Bytes{0x66}); !s)
    GTEST_SKIP() << "no IPv6 multicast route on lo: " << s.error().message();
  ASSERT_TRUE(run_until(io, [&] { return !rx.got.empty(); }, 2s));
  EXPECT_EQ(rx.got[0].second, Bytes{0x66});
  EXPECT_TRUE((*listener)->leave(group, std::nullopt, lo_index).ok());
  (*listener)->close();
  (*sender)->close();
}
