#pragma once
// A TCP relay on loopback that a test can cut: while cut, every relayed
// connection is closed and new ones are closed on accept, so an ENRP link
// between two registrars (TCP mapping) goes down and stays down until
// restore(). Used to make two registrars diverge.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace regtest {

class LinkCutter {
 public:
  LinkCutter(boost::asio::io_context& io, std::uint16_t target_port);
  ~LinkCutter();
  std::uint16_t port() const noexcept { return port_; }
  void cut();
  void restore() { cut_ = false; }
  std::size_t relayed() const noexcept { return relayed_; }

 private:
  struct Pair;
  void accept();
  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t target_port_;
  std::uint16_t port_ = 0;
  bool cut_ = false;
  std::size_t relayed_ = 0;
  std::vector<std::weak_ptr<Pair>> pairs_;
};

}  // namespace regtest
