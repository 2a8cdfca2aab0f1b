#pragma once
// Kernel SCTP backend: one one-to-one socket per association, driven by
// readiness waits on an Asio descriptor and sendmsg/recvmsg with RFC 6458
// ancillary data.
#include <boost/asio/posix/stream_descriptor.hpp>

#include <map>
#include <optional>

#include "association_base.hpp"
#include "read_wait.hpp"
#include "rserpool/base/ring_queue.hpp"
#include "sctp_socket.hpp"

namespace rserpool::transport::detail {

class SctpAssociation final : public AssociationBase {
 public:
  SctpAssociation(boost::asio::io_context& io, const EndpointConfig& cfg, std::shared_ptr<TransportCounters> counters,
                  std::shared_ptr<AssociationHandler> handler);
  ~SctpAssociation() override;

  void start_connect(UniqueFd fd, const std::vector<IpAddress>& remotes, std::uint16_t port, int family);
  // An accepted socket whose addresses the listener already read (info()
  // is complete from here on, before the owner's accept handler runs).
  void start_accepted(UniqueFd fd);
  void preset_info(AssociationInfo info) { info_ = std::move(info); }

  using Association::send;
  Result<void, SendError> send(Message&& msg) override;  // msg untouched on refusal
  void close() override;
  void flush_deferred() override {
    send_scheduled_ = false;
    if (!finished()) try_send();
  }
  void abort() override;
  std::size_t queued() const noexcept override { return txq_.size(); }
  std::size_t queued_bytes() const noexcept override { return txq_bytes_; }
  std::optional<SctpParameters> sctp_parameters() const override;

 private:
  struct Queued {
    std::uint32_t context = 0;  // echoed back by the kernel in SCTP_SEND_FAILED_EVENT
    Message msg;
  };
  struct Failed {
    Message msg;
    bool complete_start = false;  // first fragment seen
    bool complete_end = false;    // last fragment seen
  };

  int fd() noexcept { return sd_.native_handle(); }
  void post(std::function<void()> f) override;
  void abort_for(DownReason reason) override;
  void wait_connected();
  void become_up();
  void log_effective_timers();
  // After a read that emptied the kernel's queue: ReadWait (no system
  // call). After one that stopped at the budget: async_wait, whose epoll
  // re-registration reports what is still waiting (read_wait.hpp).
  void wait_readable(bool exhausted);
  void drain();
  // A whole message goes to `ready`, delivered by deliver_ready() after
  // the batch, or before a notification or the end of the association.
  void handle_data(const std::uint8_t* data, std::size_t n, const struct msghdr& mh, std::vector<Message>& ready);
  // The rest: a message in parts (reassembled in rx_msg_), or too large.
  [[gnu::noinline]] void handle_data_part(const std::uint8_t* data, std::size_t n, const struct msghdr& mh,
                                         std::vector<Message>& ready);
  void deliver_ready(std::vector<Message>& ready);
  void handle_notification();
  void handle_recv_error(int err);
  void try_send();
  int send_batch(struct mmsghdr* msgs, unsigned count);  // sendmmsg, the batch bundled (MSG_MORE)
  bool room_for(const struct mmsghdr* msgs, unsigned count);  // the kernel takes the whole batch
  // send() defers the write to the end of the current handler, so that what
  // one batch of input produces leaves in one sendmmsg (issue 16).
  void schedule_send();
  void do_abort();
  void finish(DownReason reason);
  std::vector<Message> undelivered();

  boost::asio::io_context& io_;
  boost::asio::posix::stream_descriptor sd_;
  ReadWait read_wait_;
  std::size_t max_message_size_;
  std::uint16_t configured_out_streams_;

  RingQueue<Queued> txq_;  // accepted by send(), not yet taken by the kernel
  std::size_t txq_bytes_ = 0;
  std::uint32_t next_context_ = 1;
  bool write_waiting_ = false;
  bool send_scheduled_ = false;
  bool draining_ = false;  // in drain(): it writes what is scheduled when it ends
  bool send_broken_ = false;
  bool bundle_ = true;  // SctpOptions::bundle

  // Reads go through the thread's batch of receive buffers (recvmmsg);
  // a message is copied out into a recycled buffer, reassembled there
  // when the kernel delivers it in parts.
  Bytes rx_msg_;        // message being reassembled (partial delivery)
  bool rx_started_ = false;
  Message rx_meta_;     // ppid/stream/unordered of rx_msg_
  Bytes notif_;         // notification being reassembled

  std::map<std::uint32_t, Failed> failed_;
  std::optional<DownReason> pending_down_;
  bool client_ = false;
  bool local_shutdown_ = false;
  bool shutdown_sent_ = false;
  bool peer_shutdown_ = false;
  bool abort_posted_ = false;
};

}  // namespace rserpool::transport::detail
