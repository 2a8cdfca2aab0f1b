#pragma once
// The TCP mapping's Asio driver: a thin shell around tcpmap::Session.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "association_base.hpp"
#include "read_wait.hpp"
#include "rserpool/transport/config.hpp"
#include "rserpool/transport/tcp_mapping_session.hpp"

namespace rserpool::transport::detail {

class TcpAssociation final : public AssociationBase {
 public:
  using tcp = boost::asio::ip::tcp;

  TcpAssociation(boost::asio::io_context& io, const EndpointConfig& cfg, std::shared_ptr<TransportCounters> counters,
                 std::shared_ptr<AssociationHandler> handler);

  // Client role: tries each remote in order.
  void start_connect(std::vector<tcp::endpoint> remotes, std::optional<tcp::endpoint> local);
  // Server role: an accepted socket (its addresses already in info()).
  void start_accepted(tcp::socket socket);
  void preset_info(AssociationInfo info) { info_ = std::move(info); }

  using Association::send;
  Result<void, SendError> send(Message&& msg) override;  // msg untouched on refusal
  void close() override;
  void flush_deferred() override {
    flush_scheduled_ = false;
    flush();
  }
  void abort() override;
  std::size_t queued() const noexcept override { return session_.unacked() + session_.pending(); }
  std::size_t queued_bytes() const noexcept override { return session_.queued_bytes(); }

 private:
  void post(std::function<void()> f) override;
  void abort_for(DownReason reason) override;
  void try_next_remote();
  void on_connected();
  // After a successful connect: true (counted, socket aborted) when the
  // association reached our own address and port.
  bool connected_to_itself();
  // Waits for the socket to be readable, then reads what is there through
  // the thread's read buffer: an idle association holds no read buffer.
  // After a read that emptied the socket: ReadWait (no system call);
  // otherwise async_wait, whose epoll re-registration reports what is
  // still waiting (read_wait.hpp).
  void read_loop(bool exhausted = false);
  void on_readable();
  // Processes one read; false when the association ended (or shut down).
  bool on_read(ByteView bytes);
  void flush();
  void schedule_flush();
  bool shutdown_complete();
  void arm_timer();
  void on_timer();
  void fail_with_error(const boost::system::error_code& ec);
  void finish(DownReason reason, bool reset);
  void post_finish(DownReason reason, bool reset);
  tcpmap::SessionOptions session_options(const EndpointConfig& cfg);

  boost::asio::io_context& io_;
  tcp::socket socket_;
  ReadWait read_wait_;
  boost::asio::steady_timer timer_;
  tcpmap::Session session_;
  std::vector<tcp::endpoint> remotes_;
  std::size_t remote_index_ = 0;
  std::optional<tcp::endpoint> local_;
  bool client_ = false;
  bool reuse_port_ = false;  // EndpointConfig::reuse_port: SO_REUSEPORT before bind
  bool connected_ = false;
  bool writing_ = false;
  bool flush_scheduled_ = false;
  bool reading_ = false;  // in on_read(): its flush at the end writes what handlers send
  bool local_shutdown_ = false;  // close() was called
  bool closing_posted_ = false;
  // The frames of one write, from its start; its size is its high-water
  // mark (never shrunk but by release), so writing into it zero-fills
  // nothing. Released after a large write once idle.
  Bytes write_buf_;
  tcpmap::SessionEvents events_;  // reused by on_read, empty between reads
};

}  // namespace rserpool::transport::detail
