#pragma once
// Shared plumbing of both backends: notification delivery with the
// ordering guarantees of AssociationHandler, counting, the send queue's
// bounds and its "peer not reading" report, and logging.
#include <spdlog/spdlog.h>

#include <functional>
#include <memory>
#include <string>

#include "rserpool/transport/association.hpp"
#include "rserpool/transport/counters.hpp"

namespace rserpool::transport::detail {

std::shared_ptr<spdlog::logger> logger();

class AssociationBase : public Association {
 public:
  bool is_up() const noexcept override { return up_; }
  const AssociationInfo& info() const noexcept override { return info_; }
  // Writes what send() queued during a WriteBatch (write_batch.hpp).
  virtual void flush_deferred() = 0;

 protected:
  AssociationBase(const EndpointConfig& cfg, std::shared_ptr<TransportCounters> counters,
                  std::shared_ptr<AssociationHandler> handler, std::string name);

  // Each keeps the association and the handler alive across the call, as
  // the handler may drop its last reference or replace itself.
  void notify_up();
  void notify_restart();
  // Each of `ms` in order, counted as received, until the association
  // ends; the handler is kept alive across the batch (one reference per
  // read, not per message: issue 16), and a handler replaced by a callback
  // gets the messages after it. Call only from a read's completion, whose
  // handler holds a reference to the association: a handler may drop the
  // owner's last one.
  void notify_messages(std::vector<Message>& ms);
  // Hands back, counts, then reports down once; afterwards silent.
  void notify_down(DownReason reason, std::vector<Message>&& undelivered);
  bool finished() const noexcept { return finished_; }
  // The owner asked for an abort that is on its way (posted, so that it
  // never runs inside a handler's call): from now on nothing received is
  // delivered (counted, and said in the association's down line) and the
  // backend stops reading.
  void abort_requested() noexcept { aborting_ = true; }
  bool aborting() const noexcept { return aborting_; }
  const std::string& label() const noexcept { return name_; }

  // Send queue bounds (EndpointConfig::send_queue_limit / _bytes). Whether
  // one more message of `size` bytes fits a queue holding `messages` /
  // `bytes`; a refusal is counted and, once per episode, reported to the
  // owner from the io_context (never from inside send()), then acted upon
  // per EndpointConfig::peer_not_reading.
  bool admit_to_queue(std::size_t messages, std::size_t bytes, std::size_t size) {
    // Inline for the common case (every message sent: issue 16): room, and
    // no episode of a full queue to end.
    if (!queue_full_reported_ && queue_has_room(messages, bytes, size)) return true;
    return admit_to_queue_slow(messages, bytes, size);
  }
  // The same test without its side effects: whether it would fit now.
  bool queue_has_room(std::size_t messages, std::size_t bytes, std::size_t size) const noexcept {
    return messages < queue_limit_ && (bytes == 0 || bytes + size <= queue_bytes_);
  }
  bool admit_to_queue_slow(std::size_t messages, std::size_t bytes, std::size_t size);
  // The backend's executor, for notifications that must not run inside an
  // API call.
  virtual void post(std::function<void()> f) = 0;
  // Abort for a local reason the peer caused (peer_not_reading).
  virtual void abort_for(DownReason reason) = 0;

  AssociationInfo info_;
  bool up_ = false;

 private:
  std::string name_;
  bool finished_ = false;
  bool aborting_ = false;
  std::uint64_t discarded_aborting_ = 0;  // received after abort_requested(), not delivered
  std::size_t queue_limit_;
  std::size_t queue_bytes_;
  PeerNotReading peer_not_reading_;
  bool queue_full_reported_ = false;
};

std::string describe(const std::vector<TransportAddress>& addrs);

}  // namespace rserpool::transport::detail
