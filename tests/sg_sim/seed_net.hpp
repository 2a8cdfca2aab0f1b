#pragma once
// One direction of one simulated association, with SCTP's delivery
// semantics as the seeded simulation needs them (no I/O, virtual time):
// - messages on one stream arrive in the order they were sent;
// - a message the network lost is retransmitted (arrives one RTO later)
//   and holds back what follows it on its stream (head-of-line blocking),
//   but not the other streams: across streams, order is not kept;
// - nothing is lost while the association is up: loss happens only when
//   the association goes away, and what had not arrived then is the
//   transport's to hand back (SCTP SEND_FAILED) or to discard (ABORT
//   received), as the world decides.
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "rserpool/base/bytes.hpp"
#include "rserpool/base/time.hpp"
#include "sg/routing/mtp_message.hpp"

namespace sg::sim::seeded {

using rserpool::Duration;
using rserpool::TimePoint;

struct Packet {
  bool control = false;         // an ASAP message (PPID 11) in `payload`, else DATA in `data`
  std::uint16_t stream = 0;
  MtpMessage data;
  rserpool::Bytes payload;
  bool kept_copy = false;       // the gateway keeps a copy (sent to a suspect)
  std::uint64_t seq = 0;        // send order (set by Pipe::send)
};

class Pipe {
 public:
  // `extra`: the retransmission delay when the network lost it once, else 0.
  void send(Packet p, TimePoint now, Duration delay, Duration extra, std::uint64_t seq) {
    auto& last = last_[p.stream];
    TimePoint arrives = now + delay + extra;
    if (arrives < last) arrives = last;
    last = arrives;
    p.seq = seq;
    queue_.emplace(std::make_pair(arrives, seq), std::move(p));
  }
  std::optional<TimePoint> next() const {
    if (queue_.empty()) return std::nullopt;
    return queue_.begin()->first.first;
  }
  // The next packet that has arrived by `now`, in arrival order.
  std::optional<Packet> pop_due(TimePoint now) {
    if (queue_.empty() || queue_.begin()->first.first > now) return std::nullopt;
    Packet p = std::move(queue_.begin()->second);
    queue_.erase(queue_.begin());
    return p;
  }
  // Everything not arrived yet, oldest first (send order).
  std::vector<Packet> take_all() {
    std::map<std::uint64_t, Packet> by_seq;
    for (auto& [k, p] : queue_) by_seq.emplace(k.second, std::move(p));
    std::vector<Packet> out;
    out.reserve(by_seq.size());
    for (auto& [seq, p] : by_seq) out.push_back(std::move(p));
    queue_.clear();
    last_.clear();
    return out;
  }
  bool empty() const noexcept { return queue_.empty(); }
  // Looks at what is on its way, in arrival order.
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& [k, p] : queue_) f(p);
  }

 private:
  std::map<std::pair<TimePoint, std::uint64_t>, Packet> queue_;
  std::map<std::uint16_t, TimePoint> last_;
};

}  // namespace sg::sim::seeded
