#include "rserpool/ops/prometheus_endpoint.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "rserpool/base/log.hpp"

namespace rserpool::ops {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr std::size_t kMaxRequest = 8192;
constexpr auto kClientDeadline = std::chrono::seconds(5);

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket s, const MetricsRegistry& r, std::uint64_t& served)
      : socket_(std::move(s)), timer_(socket_.get_executor()), buffer_(kMaxRequest), registry_(r), served_(served) {}

  void start() {
    timer_.expires_after(kClientDeadline);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->socket_.close();
    });
    asio::async_read_until(socket_, buffer_, "\r\n\r\n",
                           [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                             self->on_request(ec);
                           });
  }

 private:
  void on_request(const boost::system::error_code& ec) {
    if (ec) {
      timer_.cancel();
      return;  // closed, too large, or cut off by the deadline
    }
    std::istream in(&buffer_);
    std::string method, target;
    in >> method >> target;
    std::string status = "200 OK";
    std::string body;
    if (method != "GET") {
      status = "405 Method Not Allowed";
      body = "only GET\n";
    } else if (target != "/metrics") {
      status = "404 Not Found";
      body = "try /metrics\n";
    } else {
      body = registry_.to_prometheus(registry_.collect());
      ++served_;
    }
    response_ = "HTTP/1.0 " + status + "\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    asio::async_write(socket_, asio::buffer(response_),
                      [self = shared_from_this()](const boost::system::error_code&, std::size_t) {
                        boost::system::error_code ignored;
                        self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
                        self->socket_.close(ignored);
                        self->timer_.cancel();
                      });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  asio::streambuf buffer_;
  std::string response_;
  const MetricsRegistry& registry_;
  std::uint64_t& served_;
};

class Endpoint : public PrometheusEndpoint, public std::enable_shared_from_this<Endpoint> {
 public:
  Endpoint(asio::io_context& io, const MetricsRegistry& r) : acceptor_(io), registry_(r) {}

  std::error_code listen(const TransportAddress& where) {
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(where.ip.to_string(), ec);
    if (ec) return ec;
    const tcp::endpoint ep(addr, where.port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    return ec;
  }

  void accept() {
    acceptor_.async_accept([self = shared_from_this()](const boost::system::error_code& ec, tcp::socket s) {
      if (ec) return;  // closed
      std::make_shared<Connection>(std::move(s), self->registry_, self->served_)->start();
      self->accept();
    });
  }

  std::uint16_t port() const override { return acceptor_.local_endpoint().port(); }
  void close() override {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }
  std::uint64_t requests_served() const override { return served_; }

 private:
  tcp::acceptor acceptor_;
  const MetricsRegistry& registry_;
  std::uint64_t served_ = 0;
};

}  // namespace

Result<std::shared_ptr<PrometheusEndpoint>, std::error_code> PrometheusEndpoint::open(asio::io_context& io,
                                                                                      TransportAddress where,
                                                                                      const MetricsRegistry& registry) {
  auto ep = std::make_shared<Endpoint>(io, registry);
  if (auto ec = ep->listen(where)) {
    log::get("ops")->error("metrics endpoint: cannot listen on {}: {}", where.to_string(), ec.message());
    return unexpected(std::error_code(ec.value(), std::system_category()));
  }
  ep->accept();
  log::get("ops")->info("metrics endpoint on http://{}/metrics", TransportAddress{where.ip, ep->port()}.to_string());
  return std::shared_ptr<PrometheusEndpoint>(ep);
}

}  // namespace rserpool::ops
