#include "tcp_association.hpp"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "rserpool/base/log.hpp"
#include "rserpool/base/time.hpp"
#include "rserpool/transport/self_connection.hpp"
#include "handler_memory.hpp"
#include "write_batch.hpp"
#include "socket_address.hpp"

namespace rserpool::transport::detail {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
// One read buffer per thread, shared by every association the thread runs:
// Session::on_bytes decodes a read completely (copying what it keeps) before
// any notification, so the buffer is free again before a handler runs. An
// idle association therefore holds no read buffer at all (issue 14: 64 KiB
// each made 8,000 idle associations 544 MB).
constexpr std::size_t kReadChunk = 64 * 1024;
Bytes& thread_read_buffer() {
  thread_local Bytes buf(kReadChunk);
  return buf;
}
// A write buffer grown by a burst is released once it is written and
// nothing more is queued.
constexpr std::size_t kKeptWriteBuffer = 16 * 1024;
// Reads per readiness wake-up before yielding to other associations.
constexpr int kReadBudget = 16;

// One recv / send on the non-blocking socket, as the system calls
// themselves: not through Asio's synchronous wrappers, nor glibc's, which
// are cancellation points that turn asynchronous cancellation on and off
// around the call in a process with a second thread (both daemons have the
// VTY's). No thread of ours is ever cancelled. Issue 16: about 170
// instructions per registrar request and answer. Errors as Asio reports
// them: would_block, eof on an orderly close, the errno otherwise.
std::size_t recv_some(int fd, std::uint8_t* p, std::size_t n, error_code& ec) {
  for (;;) {
    const long r = ::syscall(SYS_recvfrom, fd, p, n, 0, nullptr, nullptr);
    if (r > 0) {
      ec = {};
      return static_cast<std::size_t>(r);
    }
    if (r == 0) {
      ec = asio::error::eof;
      return 0;
    }
    if (errno == EINTR) continue;
    ec = error_code(errno, asio::error::get_system_category());
    return 0;
  }
}
std::size_t send_some(int fd, const std::uint8_t* p, std::size_t n, error_code& ec) {
  for (;;) {
    const long r = ::syscall(SYS_sendto, fd, p, n, MSG_NOSIGNAL, nullptr, 0);
    if (r >= 0) {
      ec = {};
      return static_cast<std::size_t>(r);
    }
    if (errno == EINTR) continue;
    ec = error_code(errno, asio::error::get_system_category());
    return 0;
  }
}
}  // namespace

tcpmap::SessionOptions TcpAssociation::session_options(const EndpointConfig& cfg) {
  tcpmap::SessionOptions o;
  o.out_streams = cfg.out_streams;
  o.in_streams = cfg.in_streams;
  o.max_message_size = cfg.max_message_size;
  o.heartbeat_interval = cfg.tcp.heartbeat_interval;
  o.heartbeat_timeout = cfg.tcp.heartbeat_timeout;
  o.max_unacked = cfg.tcp.max_unacked;
  o.send_queue_limit = cfg.send_queue_limit;
  o.send_queue_bytes = cfg.send_queue_bytes;
  return o;
}

TcpAssociation::TcpAssociation(asio::io_context& io, const EndpointConfig& cfg,
                               std::shared_ptr<TransportCounters> counters, std::shared_ptr<AssociationHandler> handler)
    : AssociationBase(cfg, std::move(counters), std::move(handler), cfg.name.empty() ? "tcp" : cfg.name),
      io_(io),
      socket_(io),
      read_wait_(io),
      timer_(io),
      session_(session_options(cfg), tcpmap::Clock::now()),
      reuse_port_(cfg.reuse_port) {
  info_.kind = TransportKind::tcp;
}

void TcpAssociation::post(std::function<void()> f) { asio::post(socket_.get_executor(), std::move(f)); }

void TcpAssociation::abort_for(DownReason reason) {
  if (finished()) return;
  local_shutdown_ = true;
  finish(reason, true);
}

void TcpAssociation::start_connect(std::vector<tcp::endpoint> remotes, std::optional<tcp::endpoint> local) {
  client_ = true;
  remotes_ = std::move(remotes);
  local_ = std::move(local);
  arm_timer();  // bounds the whole connect + INIT exchange by heartbeat_timeout
  // Posted: a synchronous failure must not notify before connect() returns.
  asio::post(socket_.get_executor(),
             [self = std::static_pointer_cast<TcpAssociation>(shared_from_this())] { self->try_next_remote(); });
}

void TcpAssociation::try_next_remote() {
  if (finished()) return;
  if (remote_index_ >= remotes_.size()) return finish(DownReason::connect_failed, false);
  const tcp::endpoint remote = remotes_[remote_index_++];
  error_code ec;
  if (socket_.is_open()) socket_.close(ec);
  socket_.open(remote.protocol(), ec);
  if (!ec && local_) {
    socket_.set_option(tcp::socket::reuse_address(true), ec);
    if (!ec && reuse_port_) socket_.set_option(ReusePort(true), ec);
    socket_.bind(*local_, ec);
  }
  if (ec) {
    // Name both ends as tried: the local bind is the usual culprit.
    log::warn_limited(logger(), "cannot open or bind", "{}: cannot open/bind {} towards {}: {}", label(),
                      local_ ? TransportAddress{from_asio(local_->address()), local_->port()}.to_string()
                      : std::string("an ephemeral port"),
                      TransportAddress{from_asio(remote.address()), remote.port()}.to_string(), ec.message());
    return try_next_remote();
  }
  socket_.async_connect(remote, [self = std::static_pointer_cast<TcpAssociation>(shared_from_this())](error_code e) {
    if (self->finished()) return;
    if (e) {
      logger()->debug("{}: connect failed: {}", self->label(), e.message());
      return self->try_next_remote();
    }
    if (self->connected_to_itself()) return self->try_next_remote();
    self->on_connected();
  });
}

bool TcpAssociation::connected_to_itself() {
  error_code le_ec, re_ec;
  const auto le = socket_.local_endpoint(le_ec);
  const auto re = socket_.remote_endpoint(re_ec);
  if (le_ec || re_ec) return false;
  const TransportAddress local{from_asio(le.address()), le.port()};
  const TransportAddress remote{from_asio(re.address()), re.port()};
  if (!is_self_connection({local}, {remote})) return false;
  // TCP simultaneous open with ourselves (see self_connection.hpp): RST it
  // (linger 0) so the port is free again at once for whoever needs it.
  ++counters_->self_connections;
  log::warn_limited(logger(), "connected to itself", "{}: connected to itself at {} (nobody listens there): aborted",
                    label(), remote.to_string());
  error_code ec;
  socket_.set_option(tcp::socket::linger(true, 0), ec);
  socket_.close(ec);
  return true;
}

void TcpAssociation::start_accepted(tcp::socket socket) {
  socket_ = std::move(socket);
  arm_timer();
  on_connected();
}

void TcpAssociation::on_connected() {
  connected_ = true;
  error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);  // one signalling message per segment, no Nagle wait
  socket_.non_blocking(true, ec);               // reads drain the socket after a readiness wait
  auto le = socket_.local_endpoint(ec);
  if (!ec) info_.local = {TransportAddress{from_asio(le.address()), le.port()}};
  auto re = socket_.remote_endpoint(ec);
  if (!ec) info_.remote = {TransportAddress{from_asio(re.address()), re.port()}};
  read_loop();
  flush();  // INIT
}

Result<void, SendError> TcpAssociation::send(Message&& msg) {
  if (finished() || local_shutdown_) return unexpected(SendError::not_connected);
  const std::size_t size = msg.payload.size();
  // The bounds (unwritten plus unacknowledged) are the same as SCTP's; the
  // session checks them again (it is usable on its own).
  if (!admit_to_queue(queued(), session_.queued_bytes(), size)) return unexpected(SendError::queue_full);
  auto r = session_.submit(std::move(msg));
  if (!r) {
    if (r.error() == SendError::message_too_large) ++counters_->oversized_sends;
    return r;
  }
  ++counters_->messages_out;
  counters_->bytes_out += size;
  schedule_flush();
  return {};
}

void TcpAssociation::schedule_flush() {
  // At the end of the current handler: what one batch of input produces
  // leaves in one write (issue 16), not one write per message.
  if (flush_scheduled_ || writing_) return;
  // A send from a handler of what on_read() delivers (a request's answer):
  // on_read()'s own flush at its end writes it with the read's DATA-ACK
  // (issue 16: it was enlisted as well, and the WriteBatch's flush found
  // nothing left to write).
  if (reading_) return;
  flush_scheduled_ = true;
  if (WriteBatch::open()) return WriteBatch::enlist(std::static_pointer_cast<AssociationBase>(shared_from_this()));
  // The io_context's own executor: the socket's polymorphic one would drop
  // the handler's allocator and allocate per post.
  asio::post(io_.get_executor(), recycled([self = std::static_pointer_cast<TcpAssociation>(shared_from_this())] {
    self->flush_scheduled_ = false;
    self->flush();
  }));
}

void TcpAssociation::flush() {
  if (writing_ || !connected_ || finished()) return;
  // Sized first, then written into the buffer as it is: it keeps its size
  // between writes, so only growth zero-fills (issue 16: a resize per
  // write zero-filled every byte it then overwrote). Nothing to write: the
  // plan says so (no has_output() first, which asks the same).
  const std::size_t len = session_.produce_with([this](std::size_t n) {
    if (write_buf_.size() < n) write_buf_.resize(n);
    return write_buf_.data();
  });
  if (len == 0) return;
  // Written now, while the kernel takes it: at the end of on_read that is
  // the read's DATA-ACK, before the WriteBatch writes what the read's
  // handlers passed on, so a killed relay never passed on what its sender
  // still holds unacknowledged (docs/gateway.md, "Duplicates from the
  // hand-back"). An async_write's handler runs only after the current one,
  // even for bytes the kernel took at once, and until then writing_ held
  // the next read's DATA-ACK back behind the forwards (sgd at window 32:
  // 76 of 269 reads). The rest, and a SHUTDOWN's completion, asynchronously.
  std::size_t done = 0;
  if (!session_.shutdown_sent()) {
    error_code ec;
    done = send_some(socket_.native_handle(), write_buf_.data(), len, ec);
    if (ec) done = 0;  // would_block, or an error async_write reports in its own handler
    if (done == len) {
      if (!session_.has_output()) {
        if (write_buf_.capacity() > kKeptWriteBuffer) Bytes().swap(write_buf_);
        return;
      }
      return flush();
    }
  }
  writing_ = true;
  asio::async_write(socket_, asio::buffer(write_buf_.data() + done, len - done),
                    recycled([self = std::static_pointer_cast<TcpAssociation>(shared_from_this())](error_code ec, std::size_t) {
                      self->writing_ = false;
                      if (self->finished()) return;
                      if (ec) return self->fail_with_error(ec);
                      if (self->shutdown_complete()) return;
                      if (!self->session_.has_output() && self->write_buf_.capacity() > kKeptWriteBuffer)
                        Bytes().swap(self->write_buf_);
                      self->flush();
                    }));
}

void TcpAssociation::read_loop(bool exhausted) {
  if (exhausted && ReadWait::kAvailable) {
    read_wait_.start_with(socket_, [this] { return shared_from_this(); }, [](void* owner, const error_code& ec) {
      auto* self = static_cast<TcpAssociation*>(owner);
      if (self->finished()) return;
      if (ec) return self->fail_with_error(ec);
      self->on_readable();
    });
    return;
  }
  socket_.async_wait(tcp::socket::wait_read,
                     recycled([self = std::static_pointer_cast<TcpAssociation>(shared_from_this())](error_code ec) {
                       if (self->finished()) return;
                       if (ec) return self->fail_with_error(ec);
                       self->on_readable();
                     }));
}

void TcpAssociation::on_readable() {
  // One clock reading for everything this wake-up delivers (time.hpp), and
  // one write per association for everything it makes us send.
  const TurnTime turn;
  const WriteBatch write_batch;
  Bytes& buf = thread_read_buffer();
  bool exhausted = false;  // the socket was seen empty
  for (int i = 0; i < kReadBudget; ++i) {
    // Cut off (abort posted): no more reads and no re-arm; the posted
    // finish closes the socket. A flooding peer's pending input is not
    // worked through first (issue 13: that took seconds under load, and
    // the other associations' heartbeats waited behind it).
    if (aborting()) return;
    error_code ec;
    const std::size_t n = recv_some(socket_.native_handle(), buf.data(), buf.size(), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      exhausted = true;
      break;
    }
    if (ec) return fail_with_error(ec);  // includes eof
    if (!on_read(ByteView(buf.data(), n))) return;
    if (n < buf.size()) {  // drained
      exhausted = true;
      break;
    }
  }
  read_loop(exhausted);
}

bool TcpAssociation::on_read(ByteView bytes) {
  // The association's events, empty between reads: their vectors keep
  // their storage (issue 16: no allocation, and no moving the whole struct
  // in and out per read). Reads of one association never nest: its next
  // read wait starts only after on_readable() has finished.
  struct Cleared {
    tcpmap::SessionEvents& ev;
    ~Cleared() { ev.clear(); }
  } cleared{events_};
  tcpmap::SessionEvents& ev = events_;
  session_.on_bytes(bytes, SteadyClock::instance().now(), ev);
  // From here to the flush below, whatever the handlers send on this
  // association is written by that flush; an early return (the association
  // ended) leaves nothing to write.
  struct Reading {
    bool& flag;
    explicit Reading(bool& f) : flag(f) { flag = true; }
    ~Reading() { flag = false; }
  } reading{reading_};
  if (ev.became_up) {
    up_ = true;
    if (client_) ++counters_->associations_connected;
    info_.inbound_streams = session_.inbound_streams();
    info_.outbound_streams = session_.outbound_streams();
    log::info_limited(logger(), "association up", "{}: association #{} {} -> {} up ({} in / {} out streams)", label(),
                      id(), describe(info_.local), describe(info_.remote), info_.inbound_streams,
                      info_.outbound_streams);
    notify_up();
    if (!ev.refused.empty() && !finished()) {
      counters_->send_failed_messages += ev.refused.size();
      auto self = shared_from_this();
      if (auto h = handler_) h->on_send_failed(*this, std::move(ev.refused));
    }
  }
  notify_messages(ev.messages);
  if (finished()) return false;
  if (ev.error) {
    if (*ev.error == tcpmap::SessionError::oversized_frame)
      ++counters_->oversized_frames;
    else
      ++counters_->malformed_frames;
    log::warn_limited(logger(), "malformed frame", "{}: association #{} from {}: {}{}{}; closing", label(), id(),
                      describe(info_.remote), tcpmap::to_string(*ev.error), ev.frame_error ? ": " : "",
                      ev.frame_error ? tcpmap::to_string(*ev.frame_error) : "");
    finish(DownReason::protocol_error, true);
    return false;
  }
  if (ev.peer_shutdown) session_.request_shutdown();  // answer with ours once our data is acknowledged
  flush();  // the cumulative ack for this read batch, and anything the handlers sent
  return !shutdown_complete();
}

bool TcpAssociation::shutdown_complete() {
  // Our SHUTDOWN is written and the peer's is in: nothing is outstanding either way.
  if (writing_ || !session_.shutdown_sent() || !session_.peer_shutdown()) return false;
  finish(local_shutdown_ ? DownReason::local_close : DownReason::peer_closed, false);
  return true;
}

void TcpAssociation::arm_timer() {
  timer_.expires_at(session_.next_deadline());
  timer_.async_wait(recycled([self = std::static_pointer_cast<TcpAssociation>(shared_from_this())](error_code ec) {
    if (ec || self->finished()) return;
    self->on_timer();
  }));
}

void TcpAssociation::on_timer() {
  switch (session_.on_timer(SteadyClock::instance().now())) {
    case tcpmap::TimerVerdict::timed_out:
      if (!up_) {
        log::warn_limited(logger(), "no INIT in time", "{}: association #{} with {}: no INIT from peer in time",
                          label(), id(), describe(info_.remote));
        return finish(DownReason::connect_failed, true);
      }
      log::warn_limited(logger(), "heartbeat timeout", "{}: association #{} to {}: heartbeat timeout", label(), id(),
                        describe(info_.remote));
      return finish(DownReason::heartbeat_timeout, true);
    case tcpmap::TimerVerdict::heartbeat_due:
      ++counters_->heartbeats_sent;
      flush();
      break;
    case tcpmap::TimerVerdict::ok:
      break;
  }
  arm_timer();
}

void TcpAssociation::fail_with_error(const error_code& ec) {
  if (ec == asio::error::operation_aborted) return;
  if (!up_) return finish(DownReason::connect_failed, false);
  if (ec == asio::error::eof) {
    // A clean FIN without our SHUTDOWN exchange means the peer process went
    // away (crash, kill) rather than closing the association.
    if (session_.peer_shutdown())
      return finish(local_shutdown_ ? DownReason::local_close : DownReason::peer_closed, false);
    return finish(DownReason::aborted, false);
  }
  if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe) {
    if (session_.shutdown_sent() && session_.unacked() == 0 && session_.pending() == 0)
      return finish(local_shutdown_ ? DownReason::local_close : DownReason::peer_closed, false);
    return finish(DownReason::aborted, false);
  }
  log::warn_limited(logger(), "socket error", "{}: association #{} with {}: {}", label(), id(),
                    describe(info_.remote), ec.message());
  finish(DownReason::communication_lost, false);
}

void TcpAssociation::close() {
  if (finished() || local_shutdown_) return;
  local_shutdown_ = true;
  session_.request_shutdown();  // before up too: SHUTDOWN follows the queued data
  flush();
}

void TcpAssociation::abort() {
  if (finished()) return;
  local_shutdown_ = true;
  abort_requested();
  post_finish(DownReason::local_close, true);
}

void TcpAssociation::post_finish(DownReason reason, bool reset) {
  if (closing_posted_) return;
  closing_posted_ = true;
  asio::post(socket_.get_executor(), [self = std::static_pointer_cast<TcpAssociation>(shared_from_this()), reason,
                                      reset] { self->finish(reason, reset); });
}

void TcpAssociation::finish(DownReason reason, bool reset) {
  if (finished()) return;
  error_code ec;
  timer_.cancel();
  if (socket_.is_open()) {
    if (reset) {
      socket_.set_option(asio::socket_base::linger(true, 0), ec);  // RST: tell the peer at once
    } else {
      socket_.shutdown(tcp::socket::shutdown_both, ec);
    }
    socket_.close(ec);
  }
  connected_ = false;
  notify_down(reason, session_.take_undelivered());
}

}  // namespace rserpool::transport::detail
