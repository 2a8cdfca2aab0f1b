#include "link_cutter.hpp"

#include <boost/asio/write.hpp>

#include <array>

namespace regtest {

namespace asio = boost::asio;
using asio::ip::tcp;

struct LinkCutter::Pair : std::enable_shared_from_this<Pair> {
  tcp::socket a, b;
  std::array<std::uint8_t, 16384> buf_ab{}, buf_ba{};
  explicit Pair(asio::io_context& io, tcp::socket s) : a(std::move(s)), b(io) {}
  void close() {
    boost::system::error_code ec;
    a.close(ec);
    b.close(ec);
  }
  void pump(tcp::socket& from, tcp::socket& to, std::array<std::uint8_t, 16384>& buf) {
    auto self = shared_from_this();
    from.async_read_some(asio::buffer(buf), [self, &from, &to, &buf](const boost::system::error_code& ec,
                                                                     std::size_t n) {
      if (ec) {
        self->close();
        return;
      }
      asio::async_write(to, asio::buffer(buf.data(), n),
                        [self, &from, &to, &buf](const boost::system::error_code& wec, std::size_t) {
                          if (wec) {
                            self->close();
                            return;
                          }
                          self->pump(from, to, buf);
                        });
    });
  }
};

LinkCutter::LinkCutter(asio::io_context& io, std::uint16_t target_port)
    : io_(io), acceptor_(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)), target_port_(target_port) {
  port_ = acceptor_.local_endpoint().port();
  accept();
}

LinkCutter::~LinkCutter() {
  boost::system::error_code ec;
  acceptor_.close(ec);
  cut();
}

void LinkCutter::cut() {
  cut_ = true;
  for (auto& w : pairs_)
    if (auto p = w.lock()) p->close();
  pairs_.clear();
}

void LinkCutter::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
    if (ec) return;  // closed
    if (cut_) {
      boost::system::error_code ignore;
      s.close(ignore);
    } else {
      auto p = std::make_shared<Pair>(io_, std::move(s));
      pairs_.push_back(p);
      ++relayed_;
      p->b.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), target_port_),
                         [p](const boost::system::error_code& cec) {
                           if (cec) {
                             p->close();
                             return;
                           }
                           p->pump(p->a, p->b, p->buf_ab);
                           p->pump(p->b, p->a, p->buf_ba);
                         });
    }
    accept();
  });
}

}  // namespace regtest
