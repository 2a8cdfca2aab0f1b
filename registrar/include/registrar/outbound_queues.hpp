#pragma once
// What the registrar keeps queued for each association, and the policy for
// a peer that does not read (RFC 5355 2.1: a client that asks and never
// takes the answers must not grow the server). Sans-I/O.
//
// After every message the transport accepted, the driver reports its size
// and how many of the messages accepted on that association the transport
// still holds (Association::queued(): for the TCP mapping the ones not yet
// acknowledged, for kernel SCTP the ones not yet in the kernel). Messages
// leave a queue in the order they entered it, so the sizes of the newest
// `unacknowledged` messages are what is held. Policy:
//
// * an association holding more than its class's `max_messages` or
//   `max_bytes` is aborted (a pool user or PE: its registrations go as for
//   any lost association; an ENRP peer: it reconnects and resynchronises);
// * when everything held together exceeds `max_total_bytes`, the
//   association holding most is aborted, so many slow readers together are
//   bounded too.
//
// Each abort is counted by reason. What the transport would need to make
// this exact without sends: a queued-bytes figure and a notification when
// its queue drains (see docs/security.md).
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

#include "rserpool/base/ring_queue.hpp"

namespace rserpool::registrar {

using QueueLink = std::uint64_t;  // the transport's association id

struct QueueLimits {
  std::size_t max_messages = 0;
  std::size_t max_bytes = 0;
};

struct OutboundConfig {
  // A pool user asking for 128-item resolutions at the rate limit and never
  // reading reaches 2 MiB in about a second.
  QueueLimits asap{1024, 2 * 1024 * 1024};
  // Peers get HANDLE_UPDATE bursts (one per registration in the pool).
  QueueLimits enrp{16384, 32 * 1024 * 1024};
  std::size_t max_total_bytes = 256 * 1024 * 1024;
};

enum class LinkClass : std::uint8_t { asap, enrp };

struct OutboundCounters {
  std::uint64_t aborted_messages = 0, aborted_bytes = 0, aborted_total = 0;
};

class OutboundQueues {
 public:
  enum class Reason : std::uint8_t { messages, bytes, total };
  struct Abort {
    QueueLink link = 0;
    Reason reason = Reason::messages;
    std::size_t held_messages = 0, held_bytes = 0;
  };

  explicit OutboundQueues(OutboundConfig config = {}) : config_(config) {}
  // Neither copied nor moved: last_ points into this object's map.
  OutboundQueues(const OutboundQueues&) = delete;
  OutboundQueues& operator=(const OutboundQueues&) = delete;

  // One message of `bytes` that the transport accepted on `link`.
  std::optional<Abort> on_sent(QueueLink link, LinkClass cls, std::size_t bytes, std::size_t unacknowledged);
  // The association ended (or was aborted): nothing is held for it any more.
  void forget(QueueLink link);

  std::size_t total_bytes() const noexcept { return total_bytes_; }
  std::size_t held_bytes(QueueLink link) const;
  const OutboundCounters& counters() const noexcept { return counters_; }
  const OutboundConfig& config() const noexcept { return config_; }

 private:
  struct Queue {
    LinkClass cls = LinkClass::asap;
    // Of the messages still held, oldest first. A ring keeps its storage:
    // a peer that reads costs no allocation per message.
    RingQueue<std::uint32_t> sizes;
    std::size_t bytes = 0;
  };
  Abort take(std::map<QueueLink, Queue>::iterator it, Reason why);
  Queue& find_or_add(QueueLink link, LinkClass cls);  // and remember it

  OutboundConfig config_;
  std::map<QueueLink, Queue> queues_;
  // The queue of the last send: an event's answers go to the association
  // it came from, so most sends skip the map search (issue 16). A map node
  // stays where it is until erased; take() and forget() clear this first.
  QueueLink last_link_ = 0;
  Queue* last_ = nullptr;
  std::size_t total_bytes_ = 0;
  OutboundCounters counters_;
};

}  // namespace rserpool::registrar
