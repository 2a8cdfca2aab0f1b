#include "rserpool/ops/metrics.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <thread>

#include "rserpool/ops/prometheus_endpoint.hpp"

namespace rserpool::ops {
namespace {

MetricsRegistry sample_registry(std::uint64_t& messages) {
  MetricsRegistry r;
  r.describe({"sg_messages_total", "Messages accepted from the SS7 side", MetricFamily::Type::counter});
  r.describe({"sg_pool_members", "Pool elements known per pool", MetricFamily::Type::gauge});
  r.add_collector([&messages](std::vector<Sample>& out) {
    out.push_back({"sg_messages_total", {{"pool", "gwc"}}, static_cast<double>(messages)});
    out.push_back({"sg_pool_members", {{"pool", "gwc"}}, 3});
    out.push_back({"sg_drops_total", {{"pool", "gwc"}, {"reason", "queue-full"}}, 2});
  });
  return r;
}

TEST(Metrics, PrometheusTextFormat) {
  std::uint64_t messages = 12345;
  auto r = sample_registry(messages);
  EXPECT_EQ(r.to_prometheus(r.collect()),
            "sg_drops_total{pool=\"gwc\",reason=\"queue-full\"} 2\n"
            "# HELP sg_messages_total Messages accepted from the SS7 side\n"
            "# TYPE sg_messages_total counter\n"
            "sg_messages_total{pool=\"gwc\"} 12345\n"
            "# HELP sg_pool_members Pool elements known per pool\n"
            "# TYPE sg_pool_members gauge\n"
            "sg_pool_members{pool=\"gwc\"} 3\n");
  messages = 12346;  // collectors read the live value each time
  EXPECT_NE(r.to_prometheus(r.collect()).find("sg_messages_total{pool=\"gwc\"} 12346"), std::string::npos);
}

TEST(Metrics, LabelValuesAreEscaped) {
  MetricsRegistry r;
  r.add_collector([](std::vector<Sample>& out) { out.push_back({"x", {{"v", "a\"b\\c\nd"}}, 1.5}); });
  EXPECT_EQ(r.to_prometheus(r.collect()), "x{v=\"a\\\"b\\\\c\\nd\"} 1.5\n");
}

std::string http(std::uint16_t port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return {};
  }
  (void)!write(fd, request.data(), request.size());
  std::string out;
  char buf[4096];
  ssize_t n = 0;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(fd);
  return out;
}

TEST(PrometheusEndpoint, ServesMetricsAndRefusesOtherRequests) {
  boost::asio::io_context io;
  std::uint64_t messages = 7;
  auto r = sample_registry(messages);
  auto ep = PrometheusEndpoint::open(io, {IpAddress::v4_loopback(), 0}, r);
  ASSERT_TRUE(ep);
  const auto port = (*ep)->port();
  std::thread t([&] { io.run(); });
  const auto ok = http(port, "GET /metrics HTTP/1.0\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.0 200 OK\r\n", 0), 0U) << ok;
  EXPECT_NE(ok.find("sg_messages_total{pool=\"gwc\"} 7\n"), std::string::npos) << ok;
  EXPECT_EQ(http(port, "GET /other HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 404", 0), 0U);
  EXPECT_EQ(http(port, "POST /metrics HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 405", 0), 0U);
  // A request that never ends within the size bound is cut off, not buffered forever.
  EXPECT_EQ(http(port, std::string(20000, 'A')), "");
  EXPECT_EQ((*ep)->requests_served(), 1U);
  boost::asio::post(io, [&] { (*ep)->close(); });
  t.join();
}

}  // namespace
}  // namespace rserpool::ops
