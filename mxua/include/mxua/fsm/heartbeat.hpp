#pragma once
// BEAT procedure (RFC 4666 4.3.4.6): every T(beat) a BEAT goes out with
// Heartbeat Data of our own; the peer is declared unavailable when neither a
// BEAT ACK nor any other message arrived for 2 x T(beat).
#include <optional>

#include "mxua/fsm/actions.hpp"

namespace mxua {

class Heartbeat {
 public:
  Heartbeat(AssocId assoc, std::optional<Millis> period) : assoc_(assoc), period_(period) {}

  bool enabled() const noexcept { return period_.has_value(); }
  void start(TimePoint now, Actions& out);
  void stop(Actions& out);
  void seen(TimePoint now) noexcept { last_rx_ = now; }
  // T(beat) expired: sends the next BEAT, or reports PeerUnavailable.
  void expired(TimePoint now, Actions& out);
  TimerId timer() const noexcept { return TimerId{TimerKind::Tbeat, assoc_, 0}; }
  std::uint32_t beats_sent() const noexcept { return seq_; }

 private:
  AssocId assoc_;
  std::optional<Millis> period_;
  TimePoint last_rx_{0};
  std::uint32_t seq_ = 0;
  bool running_ = false;
};

// The BEAT ACK for a BEAT: every parameter echoed unchanged.
BeatAck beat_ack_for(const Beat& b);

}  // namespace mxua
