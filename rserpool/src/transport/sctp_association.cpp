#include "sctp_association.hpp"

#include <netinet/in.h>  // before netinet/sctp.h, which pulls in linux/in.h
#include <netinet/sctp.h>
#include <linux/sock_diag.h>  // SK_MEMINFO_*
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>

#include "handler_memory.hpp"
#include "write_batch.hpp"
#include "rserpool/base/buffer_pool.hpp"
#include "rserpool/base/log.hpp"
#include "rserpool/base/time.hpp"
#include "rserpool/transport/self_connection.hpp"
#include "socket_address.hpp"

namespace rserpool::transport::detail {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
// Reads: one recvmmsg takes up to kRecvBatch messages (or parts of one),
// each into a kRecvChunk buffer of the thread's batch. The buffers are the
// thread's, not the association's: an idle association holds none (issue
// 14: 64 KiB each made 8,000 idle associations 544 MB). A message larger
// than a chunk arrives in parts (no MSG_EOR) and is reassembled.
constexpr unsigned kRecvBatch = 16;
constexpr std::size_t kRecvChunk = 4 * 1024;
constexpr std::size_t kRecvControl = CMSG_SPACE(sizeof(sctp_rcvinfo)) + 64;
// Batches per readiness event before yielding to other associations.
constexpr int kRecvBatches = 16;
// Writes: one sendmmsg hands the kernel up to kSendBatch messages.
constexpr unsigned kSendBatch = 16;

struct RecvBatch {
  alignas(cmsghdr) std::uint8_t control[kRecvBatch][kRecvControl];
  std::uint8_t data[kRecvBatch][kRecvChunk];
  iovec iov[kRecvBatch];
  mmsghdr msgs[kRecvBatch];
  // Messages of the last call, copied out of `data`, for delivery with one
  // reference to the association and its handler (issue 16); empty
  // between calls of drain().
  std::vector<Message> ready;

  RecvBatch() {
    for (unsigned i = 0; i < kRecvBatch; ++i) {
      iov[i] = iovec{data[i], kRecvChunk};
      msgs[i] = mmsghdr{};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_control = control[i];
      msgs[i].msg_hdr.msg_controllen = kRecvControl;
    }
    ready.reserve(kRecvBatch);
  }
  // After a call that filled the first `n`: of what recvmmsg reads, the
  // kernel writes back only the lengths and flags (msg_len, msg_flags, and
  // msg_controllen, the one it also reads); no name is asked for and the
  // iovecs are read only. Resetting those few, not the whole batch, per
  // call (issue 16: 16 headers re-initialised per call, however few
  // messages came).
  void rearm(unsigned n) noexcept {
    for (unsigned i = 0; i < n; ++i) msgs[i].msg_hdr.msg_controllen = kRecvControl;
  }
};
RecvBatch& thread_recv_batch() {
  thread_local auto batch = std::make_unique<RecvBatch>();  // 66 KiB per thread, not per association
  return *batch;
}

// The headers of one sendmmsg, set up once per thread: every entry points
// at its own iovec and its own control buffer holding one SCTP_SNDINFO, so
// a call fills in only the payload and the four fields that vary (issue
// 16: each message's mmsghdr and control buffer were zeroed and built
// afresh, about 40 instructions). The kernel writes back only msg_len.
struct SendBatch {
  static constexpr std::size_t kControl = CMSG_SPACE(sizeof(sctp_sndinfo));
  alignas(cmsghdr) std::uint8_t control[kSendBatch][kControl];
  iovec iov[kSendBatch];
  mmsghdr msgs[kSendBatch];
  sctp_sndinfo* info[kSendBatch];

  SendBatch() {
    std::memset(control, 0, sizeof control);
    for (unsigned i = 0; i < kSendBatch; ++i) {
      iov[i] = iovec{};
      msgs[i] = mmsghdr{};
      msghdr& mh = msgs[i].msg_hdr;
      mh.msg_iov = &iov[i];
      mh.msg_iovlen = 1;
      mh.msg_control = control[i];
      mh.msg_controllen = kControl;
      cmsghdr* cm = CMSG_FIRSTHDR(&mh);
      cm->cmsg_level = IPPROTO_SCTP;
      cm->cmsg_type = SCTP_SNDINFO;
      cm->cmsg_len = CMSG_LEN(sizeof(sctp_sndinfo));
      info[i] = new (CMSG_DATA(cm)) sctp_sndinfo{};  // snd_assoc_id stays 0 (one-to-one socket)
    }
  }
};
SendBatch& thread_send_batch() {
  thread_local SendBatch batch;  // 1.8 KiB per thread
  return batch;
}

// recvmmsg without glibc's wrapper. The wrapper is a cancellation point:
// in a process with a second thread (both daemons have the VTY's) it turns
// asynchronous cancellation on and off around the system call, about 45
// instructions per call (issue 16: per registrar request in UML, more than
// the call's own). No thread of ours is ever cancelled.
int recv_batch(int fd, mmsghdr* msgs, unsigned n, int flags) noexcept {
  return static_cast<int>(::syscall(SYS_recvmmsg, fd, msgs, n, flags, nullptr));
}
// sendmmsg likewise (the same cancellation-point wrapper).
int send_messages(int fd, mmsghdr* msgs, unsigned n, int flags) noexcept {
  return static_cast<int>(::syscall(SYS_sendmmsg, fd, msgs, n, flags));
}

// Chunk flags as the kernel copies them into ssfe_info.snd_flags.
constexpr std::uint16_t kChunkFlagLast = 0x01;
constexpr std::uint16_t kChunkFlagFirst = 0x02;
constexpr std::uint16_t kChunkFlagUnordered = 0x04;
}  // namespace

SctpAssociation::SctpAssociation(asio::io_context& io, const EndpointConfig& cfg,
                                 std::shared_ptr<TransportCounters> counters,
                                 std::shared_ptr<AssociationHandler> handler)
    : AssociationBase(cfg, std::move(counters), std::move(handler), cfg.name.empty() ? "sctp" : cfg.name),
      io_(io),
      sd_(io),
      read_wait_(io),
      max_message_size_(cfg.max_message_size),
      configured_out_streams_(cfg.out_streams) {
  info_.kind = TransportKind::sctp;
  bundle_ = cfg.sctp.bundle;
}

SctpAssociation::~SctpAssociation() = default;

void SctpAssociation::post(std::function<void()> f) { asio::post(sd_.get_executor(), std::move(f)); }

void SctpAssociation::abort_for(DownReason reason) {
  if (finished()) return;
  local_shutdown_ = true;
  pending_down_ = reason;
  do_abort();
}

void SctpAssociation::start_connect(UniqueFd fd, const std::vector<IpAddress>& remotes, std::uint16_t port,
                                    int family) {
  client_ = true;
  auto packed = pack_sockaddrs(remotes, port, family);
  sctp_assoc_t assoc_id = 0;
  const int rc = ::sctp_connectx(fd.get(), reinterpret_cast<sockaddr*>(packed.data()),
                                 static_cast<int>(remotes.size()), &assoc_id);
  const int err = rc == 0 ? 0 : errno;
  sd_.assign(fd.release());
  if (rc != 0 && err != EINPROGRESS) {
    log::info_limited(logger(), "connect failed", "{}: sctp_connectx: {}", label(), std::generic_category().message(err));
    asio::post(sd_.get_executor(), [self = std::static_pointer_cast<SctpAssociation>(shared_from_this())] {
      self->finish(DownReason::connect_failed);
    });
    return;
  }
  wait_connected();
}

void SctpAssociation::wait_connected() {
  sd_.async_wait(asio::posix::descriptor_base::wait_write,
                 [self = std::static_pointer_cast<SctpAssociation>(shared_from_this())](error_code ec) {
                   if (ec || self->finished()) return;
                   int err = 0;
                   socklen_t len = sizeof err;
                   ::getsockopt(self->fd(), SOL_SOCKET, SO_ERROR, &err, &len);
                   if (err != 0) {
                     log::info_limited(logger(), "connect failed", "{}: association #{} connect failed: {}",
                                       self->label(), self->id(), std::generic_category().message(err));
                     return self->finish(DownReason::connect_failed);
                   }
                   if (is_self_connection(sctp_local_addresses(self->fd()), sctp_peer_addresses(self->fd()))) {
                     // INIT collision with ourselves (see self_connection.hpp):
                     // ABORT it (linger 0) and report a connect failure.
                     ++self->counters_->self_connections;
                     log::warn_limited(logger(), "connected to itself",
                                       "{}: association #{} connected to itself (nobody listens there): aborted",
                                       self->label(), self->id());
                     ::linger lg{1, 0};
                     ::setsockopt(self->fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
                     return self->finish(DownReason::connect_failed);
                   }
                   self->become_up();
                   if (self->finished()) return;
                   self->wait_readable(false);
                   self->try_send();
                 });
}

void SctpAssociation::start_accepted(UniqueFd fd) {
  sd_.assign(fd.release());
  asio::post(sd_.get_executor(), [self = std::static_pointer_cast<SctpAssociation>(shared_from_this())] {
    if (self->finished()) return;
    self->become_up();
    if (self->finished()) return;
    self->wait_readable(false);
    self->try_send();
  });
}

void SctpAssociation::become_up() {
  if (up_) return;
  sctp_status st{};
  socklen_t len = sizeof st;
  if (::getsockopt(fd(), IPPROTO_SCTP, SCTP_STATUS, &st, &len) == 0) {
    info_.inbound_streams = st.sstat_instrms;
    info_.outbound_streams = st.sstat_outstrms;
  }
  // Every address of the association, as the peer listed them (and as it
  // may have changed them since the listener read them).
  if (auto local = sctp_local_addresses(fd()); !local.empty()) info_.local = std::move(local);
  if (auto remote = sctp_peer_addresses(fd()); !remote.empty()) info_.remote = std::move(remote);
  up_ = true;
  if (client_) ++counters_->associations_connected;
  log::info_limited(logger(), "association up", "{}: association #{} {} -> {} up ({} in / {} out streams)", label(),
                    id(), describe(info_.local), describe(info_.remote), info_.inbound_streams,
                    info_.outbound_streams);
  log_effective_timers();
  // Streams were checked against the configured count; the peer may grant fewer.
  std::vector<Message> refused;
  const std::uint16_t granted = info_.outbound_streams;
  txq_.partition([granted](const Queued& q) { return q.msg.stream < granted; },
                 [&](Queued& q) {
                   txq_bytes_ -= q.msg.payload.size();
                   refused.push_back(std::move(q.msg));
                 });
  notify_up();
  if (!refused.empty() && !finished()) {
    counters_->send_failed_messages += refused.size();
    auto self = shared_from_this();
    if (auto h = handler_) h->on_send_failed(*this, std::move(refused));
  }
}

std::optional<SctpParameters> SctpAssociation::sctp_parameters() const {
  // native_handle() is not const in Asio; reading socket options changes nothing.
  auto& sd = const_cast<asio::posix::stream_descriptor&>(sd_);
  if (!sd.is_open()) return std::nullopt;
  auto p = sctp_parameters_of(sd.native_handle());
  p.bundle = bundle_;
  return p;
}

void SctpAssociation::log_effective_timers() {
  auto l = logger();
  if (!l->should_log(spdlog::level::debug)) return;
  // What the kernel actually uses, which may differ from what was asked for.
  const auto p = sctp_parameters_of(fd());
  l->debug("{}: association #{}: rto initial/min/max {}/{}/{} ms, assoc max retrans {}, heartbeat {} ms, "
           "path max retrans {}, sack delay {} ms every {} packets, receive buffer {} bytes, peer's window {} bytes",
           label(), id(), p.rto_initial.count(), p.rto_min.count(), p.rto_max.count(), p.association_max_retrans,
           p.heartbeat_interval.count(), p.path_max_retrans, p.sack_delay.count(), p.sack_frequency, p.receive_buffer,
           p.peer_receive_window);
}

Result<void, SendError> SctpAssociation::send(Message&& msg) {
  if (finished() || local_shutdown_ || peer_shutdown_ || pending_down_ || send_broken_)
    return unexpected(SendError::not_connected);
  if (msg.payload.size() > max_message_size_) {
    ++counters_->oversized_sends;
    return unexpected(SendError::message_too_large);
  }
  const std::uint16_t streams = up_ ? info_.outbound_streams : configured_out_streams_;
  if (msg.stream >= streams) return unexpected(SendError::invalid_stream);
  // Writes wait for the end of the handler (schedule_send), but never so
  // that the queue fills while the kernel could take it: a full batch, or a
  // message that would not fit, sends what is queued now. Only what the
  // kernel refuses makes the queue full ("peer not reading").
  if (up_ && !write_waiting_ && !send_broken_ && !txq_.empty() &&
      (txq_.size() >= kSendBatch || !queue_has_room(txq_.size(), txq_bytes_, msg.payload.size())))
    try_send();
  if (!admit_to_queue(txq_.size(), txq_bytes_, msg.payload.size())) return unexpected(SendError::queue_full);
  ++counters_->messages_out;
  counters_->bytes_out += msg.payload.size();
  txq_bytes_ += msg.payload.size();
  txq_.emplace_back(next_context_++, std::move(msg));
  if (up_) schedule_send();
  return {};
}

void SctpAssociation::schedule_send() {
  if (send_scheduled_ || write_waiting_) return;
  send_scheduled_ = true;
  // A send from a handler of what this association's drain() delivers (a
  // request's answer): drain() writes it when it ends, without enlisting
  // (issue 16: a reference taken and dropped, atomically, and a virtual
  // call per answer).
  if (draining_) return;
  if (WriteBatch::open()) return WriteBatch::enlist(std::static_pointer_cast<AssociationBase>(shared_from_this()));
  // The io_context's own executor: the descriptor's polymorphic one would
  // drop the handler's allocator and allocate per post.
  asio::post(io_.get_executor(), recycled([self = std::static_pointer_cast<SctpAssociation>(shared_from_this())] {
    self->send_scheduled_ = false;
    if (!self->finished()) self->try_send();
  }));
}

// Several messages for the kernel at once go as few packets, not one
// packet each. SCTP_NODELAY (signalling wants latency) makes the kernel
// send each message the moment it is queued, so a batch of 16 left as 16
// packets, each SACKed on its own: in UML the guest kernel's work per
// packet, not ours, set the relay's rate (docs/performance.md, "Stop 30").
// MSG_MORE on all but the last message of a batch asks the kernel to hold
// them (Linux's asoc->force_delay) and the last one, sent without it,
// flushes everything queued, bundled into full packets (RFC 9260 6.10).
// No message waits longer than this call: the batch is all we had. The
// price is a second system call per batch of two or more (sendmmsg cannot
// do it in one: its flags apply to every message) and a third, the check
// that the kernel has room for the whole batch (room_for: a batch cut
// short after a MSG_MORE message would stall the association). Without the
// room, the batch goes unbundled.
int SctpAssociation::send_batch(mmsghdr* msgs, unsigned count) {
  constexpr int kFlags = MSG_NOSIGNAL | MSG_DONTWAIT;
  if (count < 2 || !bundle_ || !room_for(msgs, count)) return send_messages(fd(), msgs, count, kFlags);
  const int held = send_messages(fd(), msgs, count - 1, kFlags | MSG_MORE);
  if (held != static_cast<int>(count - 1)) return held;
  const int last = send_messages(fd(), msgs + count - 1, 1, kFlags);
  return last > 0 ? held + last : held;
}

// Whether the kernel will take the whole batch. MSG_MORE is safe only then:
// Linux keeps the association's force_delay from the last message it
// accepted, and with it set it holds *every* queued chunk (not only this
// batch's) until a full packet's worth is queued, 64 KiB on loopback. A
// batch cut short by EAGAIN after a MSG_MORE message would leave it set,
// and once what was in flight is acknowledged nothing frees send space, no
// write readiness comes, and the association stalls until the peer is
// declared not reading (stop 30: the ASAP flood attack test, 1 run in 2 in
// UML). The kernel refuses a write only when sk_sndbuf - sk_wmem_queued is
// no longer positive (sctp_wspace), and charges each chunk its buffer's
// true size plus its own bookkeeping: well under 2 KiB beyond the payload
// for a signalling message. One getsockopt per batch of two or more.
bool SctpAssociation::room_for(const mmsghdr* msgs, unsigned count) {
  constexpr std::size_t kChargePerMessage = 2048;
  std::uint32_t mi[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof mi;
  if (::getsockopt(fd(), SOL_SOCKET, SO_MEMINFO, mi, &len) != 0 ||
      len < sizeof(std::uint32_t) * (SK_MEMINFO_WMEM_QUEUED + 1))
    return false;
  const long room = static_cast<long>(mi[SK_MEMINFO_SNDBUF]) - static_cast<long>(mi[SK_MEMINFO_WMEM_QUEUED]);
  std::size_t need = 0;
  for (unsigned i = 0; i < count; ++i) need += msgs[i].msg_hdr.msg_iov->iov_len + kChargePerMessage;
  return room > static_cast<long>(need);
}

void SctpAssociation::try_send() {
  while (!txq_.empty() && !write_waiting_ && !send_broken_ && !finished()) {
    // Up to kSendBatch queued messages in one sendmmsg, each with its own
    // SCTP_SNDINFO (stream, PPID, unordered, context).
    const auto count = static_cast<unsigned>(std::min<std::size_t>(txq_.size(), kSendBatch));
    SendBatch& sb = thread_send_batch();
    for (unsigned i = 0; i < count; ++i) {
      const Queued& q = txq_[i];
      sctp_sndinfo& si = *sb.info[i];
      si.snd_sid = q.msg.stream;
      si.snd_flags = q.msg.unordered ? SCTP_UNORDERED : 0;
      si.snd_ppid = htonl(q.msg.ppid);  // the kernel copies it onto the wire as is
      si.snd_context = q.context;
      sb.iov[i] = iovec{const_cast<std::uint8_t*>(q.msg.payload.data()), q.msg.payload.size()};
    }
    const int n = send_batch(sb.msgs, count);
    if (n > 0) {
      for (int i = 0; i < n; ++i) {
        Queued& q = txq_.front();
        txq_bytes_ -= q.msg.payload.size();
        rserpool::buffers::give(std::move(q.msg.payload));  // in the kernel: the buffer is free again
        txq_.pop_front();
      }
      continue;  // stopped short of the batch: the next call says why (EAGAIN, or an error)
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
      write_waiting_ = true;
      sd_.async_wait(asio::posix::descriptor_base::wait_write,
                     recycled([self = std::static_pointer_cast<SctpAssociation>(shared_from_this())](error_code ec) {
                       self->write_waiting_ = false;
                       if (ec || self->finished()) return;
                       self->try_send();
                     }));
      return;
    }
    // The association is going away; the read side reports how, and the
    // queue is handed back then.
    logger()->debug("{}: association #{} sendmsg: {}", label(), id(), std::generic_category().message(errno));
    send_broken_ = true;
    return;
  }
  if (txq_.empty() && local_shutdown_ && !shutdown_sent_ && !finished()) {
    shutdown_sent_ = true;
    ::shutdown(fd(), SHUT_WR);  // SCTP SHUTDOWN after the kernel's queue drains
  }
}

void SctpAssociation::wait_readable(bool exhausted) {
  if (exhausted && ReadWait::kAvailable) {
    read_wait_.start_with(sd_, [this] { return shared_from_this(); }, [](void* owner, const error_code& ec) {
      auto* self = static_cast<SctpAssociation*>(owner);
      if (ec || self->finished()) return;
      self->drain();
    });
    return;
  }
  sd_.async_wait(asio::posix::descriptor_base::wait_read,
                 recycled([self = std::static_pointer_cast<SctpAssociation>(shared_from_this())](error_code ec) {
                   if (ec || self->finished()) return;
                   self->drain();
                 }));
}

void SctpAssociation::drain() {
  // One clock reading for everything this wake-up delivers (time.hpp), and
  // one sendmmsg per association for everything it makes us send.
  const TurnTime turn;
  const WriteBatch write_batch;
  // What the handlers send on this association leaves when the drain ends,
  // however it ends, before the WriteBatch writes the other associations'.
  struct Draining {
    SctpAssociation& a;
    explicit Draining(SctpAssociation& x) : a(x) { a.draining_ = true; }
    ~Draining() {
      a.draining_ = false;
      if (a.send_scheduled_) a.flush_deferred();
    }
  } const draining{*this};
  RecvBatch& rb = thread_recv_batch();
  bool exhausted = false;  // the kernel's queue was seen empty
  for (int batch = 0; batch < kRecvBatches; ++batch) {
    const int got = recv_batch(fd(), rb.msgs, kRecvBatch, MSG_DONTWAIT);
    if (got > 0) rb.rearm(static_cast<unsigned>(got));
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        exhausted = true;
        break;
      }
      return handle_recv_error(errno);
    }
    for (int i = 0; i < got; ++i) {
      const msghdr& mh = rb.msgs[i].msg_hdr;
      const std::size_t len = rb.msgs[i].msg_len;
      if (len == 0) {  // end of file: the association is gone
        deliver_ready(rb.ready);
        if (finished()) return;
        if (pending_down_) return finish(*pending_down_);
        return finish(local_shutdown_ ? DownReason::local_close : DownReason::peer_closed);
      }
      if (mh.msg_flags & MSG_NOTIFICATION) {
        // What came before it is delivered before it is handled.
        deliver_ready(rb.ready);
        if (finished()) return;
        notif_.insert(notif_.end(), rb.data[i], rb.data[i] + len);
        if (mh.msg_flags & MSG_EOR) {
          handle_notification();
          notif_.clear();
        }
      } else {
        handle_data(rb.data[i], len, mh, rb.ready);
      }
      if (finished()) return;
    }
    deliver_ready(rb.ready);
    if (finished()) return;
    // Fewer than asked: the kernel's queue was empty (recvmmsg stops at the
    // first EAGAIN), so no further call is needed to learn it.
    if (static_cast<unsigned>(got) < kRecvBatch) {
      exhausted = true;
      break;
    }
  }
  if (pending_down_) return finish(*pending_down_);
  wait_readable(exhausted);
}

void SctpAssociation::deliver_ready(std::vector<Message>& ready) {
  if (ready.empty()) return;
  // Delivered where they are: reads never nest (a drain runs only from its
  // read wait's completion, and no handler runs the io_context), and the
  // rest of the thread's batch (its buffers and headers) relies on that
  // too (issue 16: the vector was moved out and back per read).
  notify_messages(ready);  // counts what it delivers
  ready.clear();
}

namespace {
// The message's stream, PPID and unordered flag from its SCTP_RCVINFO.
[[gnu::always_inline]] inline void read_rcvinfo(const msghdr& mh, Message& m) noexcept {
  for (cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(const_cast<msghdr*>(&mh), cm)) {
    if (cm->cmsg_level == IPPROTO_SCTP && cm->cmsg_type == SCTP_RCVINFO) {
      sctp_rcvinfo ri{};
      std::memcpy(&ri, CMSG_DATA(cm), sizeof ri);
      m.ppid = ntohl(ri.rcv_ppid);
      m.stream = ri.rcv_sid;
      m.unordered = (ri.rcv_flags & SCTP_UNORDERED) != 0;
      return;  // the only one asked for (and the first): no walk past it per message (issue 16)
    }
  }
}
}  // namespace

void SctpAssociation::handle_data(const std::uint8_t* data, std::size_t n, const msghdr& mh,
                                  std::vector<Message>& ready) {
  if (!rx_started_ && (mh.msg_flags & MSG_EOR) != 0 && n <= max_message_size_) [[likely]] {
    // A whole message in one chunk (every signalling message): built where
    // it is delivered from, its bytes copied once into a recycled buffer
    // (issue 16: no reassembly state moved in and out per message).
    Message& m = ready.emplace_back();
    read_rcvinfo(mh, m);
    m.payload = rserpool::buffers::take(n);  // recycled: given back by the reader
    m.payload.insert(m.payload.end(), data, data + n);
    return;
  }
  handle_data_part(data, n, mh, ready);
}

void SctpAssociation::handle_data_part(const std::uint8_t* data, std::size_t n, const msghdr& mh,
                                       std::vector<Message>& ready) {
  if (!rx_started_) {
    rx_started_ = true;
    rx_meta_ = Message{};
    read_rcvinfo(mh, rx_meta_);
  }
  if (rx_msg_.size() + n > max_message_size_) {
    ++counters_->oversized_frames;
    log::warn_limited(logger(), "oversized message", "{}: association #{} from {}: message larger than {} bytes; aborting",
                      label(), id(), describe(info_.remote), max_message_size_);
    deliver_ready(ready);  // the whole messages before it, as they came
    if (finished()) return;
    pending_down_ = DownReason::protocol_error;
    return do_abort();
  }
  if (rx_msg_.capacity() == 0) rx_msg_ = rserpool::buffers::take(n);  // recycled: given back by the reader
  rx_msg_.insert(rx_msg_.end(), data, data + n);
  if (!(mh.msg_flags & MSG_EOR)) return;  // partial delivery: more of this message follows
  Message& m = ready.emplace_back(std::move(rx_meta_));
  m.payload = std::move(rx_msg_);
  rx_msg_ = Bytes{};
  rx_started_ = false;
}

void SctpAssociation::handle_notification() {
  if (notif_.size() < sizeof(std::uint16_t)) return;
  std::uint16_t type = 0;  // sn_header.sn_type, first in every notification
  std::memcpy(&type, notif_.data(), sizeof type);
  switch (type) {
    case SCTP_ASSOC_CHANGE: {
      if (notif_.size() < sizeof(sctp_assoc_change)) return;
      sctp_assoc_change ac{};
      std::memcpy(&ac, notif_.data(), sizeof ac);
      switch (ac.sac_state) {
        case SCTP_COMM_UP:
          become_up();
          return;
        case SCTP_COMM_LOST:
          // RFC 6458 6.1.1: an ABORT received from the peer is appended in sac_info.
          if (!up_)
            pending_down_ = DownReason::connect_failed;
          else if (!pending_down_)
            pending_down_ = ac.sac_length > sizeof(sctp_assoc_change) ? DownReason::aborted
                                                                     : DownReason::communication_lost;
          log::info_limited(logger(), "COMM_LOST", "{}: association #{}: COMM_LOST (error {})", label(), id(),
                            ac.sac_error);
          return;
        case SCTP_RESTART:
          ++counters_->associations_restarted;
          log::warn_limited(logger(), "peer restarted", "{}: association #{} to {}: peer restarted", label(), id(),
                            describe(info_.remote));
          notify_restart();
          return;
        case SCTP_SHUTDOWN_COMP:
          if (!pending_down_) pending_down_ = local_shutdown_ ? DownReason::local_close : DownReason::peer_closed;
          return;
        case SCTP_CANT_STR_ASSOC:
          pending_down_ = DownReason::connect_failed;
          return;
        default:
          return;
      }
    }
    case SCTP_SHUTDOWN_EVENT:
      // The peer closed (a process that exits closes gracefully when it has
      // nothing unread). Everything it sent came before this notification,
      // and it will read nothing more: report the association down now and
      // hand back what is still ours, instead of refusing sends until the
      // kernel's SHUTDOWN handshake completes (seconds, with data still
      // outstanding). The kernel finishes that handshake after our close().
      peer_shutdown_ = true;
      if (up_ && !pending_down_ && !local_shutdown_) pending_down_ = DownReason::peer_closed;
      return;
    case SCTP_SEND_FAILED_EVENT: {
      if (notif_.size() < sizeof(sctp_send_failed_event)) return;
      sctp_send_failed_event sf{};
      std::memcpy(&sf, notif_.data(), sizeof sf);
      const std::size_t end = std::min<std::size_t>(sf.ssf_length, notif_.size());
      const std::size_t begin = sizeof(sctp_send_failed_event);
      Failed& f = failed_[sf.ssfe_info.snd_context];
      f.msg.ppid = ntohl(sf.ssfe_info.snd_ppid);
      f.msg.stream = sf.ssfe_info.snd_sid;
      f.msg.unordered = (sf.ssfe_info.snd_flags & kChunkFlagUnordered) != 0;
      if (end > begin) f.msg.payload.insert(f.msg.payload.end(), notif_.begin() + static_cast<std::ptrdiff_t>(begin),
                                            notif_.begin() + static_cast<std::ptrdiff_t>(end));
      if (sf.ssfe_info.snd_flags & kChunkFlagFirst) f.complete_start = true;
      if (sf.ssfe_info.snd_flags & kChunkFlagLast) f.complete_end = true;
      logger()->debug("{}: association #{}: send failed ctx {} flags {:#x}/{:#x} {} bytes", label(), id(),
                      sf.ssfe_info.snd_context, sf.ssf_flags, sf.ssfe_info.snd_flags, end > begin ? end - begin : 0);
      return;
    }
    case SCTP_PEER_ADDR_CHANGE: {
      if (notif_.size() < sizeof(sctp_paddr_change)) return;
      sctp_paddr_change pc{};
      std::memcpy(&pc, notif_.data(), sizeof pc);
      auto addr = from_sockaddr(reinterpret_cast<const sockaddr*>(&pc.spc_aaddr));
      static constexpr const char* kStates[] = {"available", "unreachable", "removed", "added", "made-primary", "confirmed", "potentially-failed"};
      const char* state = pc.spc_state >= 0 && static_cast<std::size_t>(pc.spc_state) < std::size(kStates) ? kStates[pc.spc_state] : "?";
      log::info_limited(logger(), "peer address change", "{}: association #{}: peer address {} {}", label(), id(),
                        addr ? addr->to_string() : "?", state);
      return;
    }
    case SCTP_REMOTE_ERROR:
      log::warn_limited(logger(), "remote error", "{}: association #{}: remote error from {}", label(), id(),
                        describe(info_.remote));
      return;
    default:
      return;
  }
}

void SctpAssociation::handle_recv_error(int err) {
  if (pending_down_) return finish(*pending_down_);
  if (!up_) return finish(DownReason::connect_failed);
  switch (err) {
    case ECONNRESET:
      return finish(DownReason::aborted);
    case ETIMEDOUT:
      return finish(DownReason::communication_lost);
    default:
      log::warn_limited(logger(), "recvmsg error", "{}: association #{}: recvmsg: {}", label(), id(),
                        std::generic_category().message(err));
      return finish(DownReason::communication_lost);
  }
}

void SctpAssociation::close() {
  if (finished() || local_shutdown_) return;
  local_shutdown_ = true;
  if (up_) try_send();  // SHUTDOWN once the user-space queue is in the kernel; before up, after it
}

void SctpAssociation::abort() {
  if (finished() || abort_posted_) return;
  local_shutdown_ = true;
  abort_posted_ = true;
  abort_requested();
  if (!pending_down_) pending_down_ = DownReason::local_close;
  asio::post(sd_.get_executor(),
             [self = std::static_pointer_cast<SctpAssociation>(shared_from_this())] { self->do_abort(); });
}

void SctpAssociation::do_abort() {
  // Linux refuses SCTP_ABORT through sendmsg on one-to-one sockets (EINVAL),
  // so the ABORT comes from the linger-0 close in finish(). The kernel's
  // queue goes with the socket: only the user-space queue is handed back.
  finish(pending_down_.value_or(DownReason::local_close));
}

std::vector<Message> SctpAssociation::undelivered() {
  std::vector<std::pair<std::uint32_t, Failed*>> order;
  for (auto& [ctx, f] : failed_) order.emplace_back(next_context_ - ctx, &f);  // age, wrap-safe
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<Message> out;
  for (auto& [age, f] : order) {
    if (!f->complete_start || !f->complete_end) {
      // Some fragments reached the peer: the rest cannot be rebuilt into the
      // original message. Count it as lost rather than hand back garbage.
      log::warn_limited(logger(), "partial message lost",
                        "{}: association #{}: partially transmitted message ({} bytes unsent) cannot be handed back",
                        label(), id(), f->msg.payload.size());
      continue;
    }
    out.push_back(std::move(f->msg));
  }
  failed_.clear();
  for (std::size_t i = 0; i < txq_.size(); ++i) out.push_back(std::move(txq_[i].msg));
  txq_.clear();
  txq_bytes_ = 0;
  return out;
}

void SctpAssociation::finish(DownReason reason) {
  if (finished()) return;
  error_code ec;
  auto unsent = undelivered();
  if (sd_.is_open()) {
    if (reason == DownReason::protocol_error || reason == DownReason::local_close ||
        reason == DownReason::peer_not_reading) {
      ::linger lg{1, 0};  // ABORT rather than a SHUTDOWN that might wait
      ::setsockopt(fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    sd_.close(ec);
  }
  notify_down(reason, std::move(unsent));
}

}  // namespace rserpool::transport::detail
