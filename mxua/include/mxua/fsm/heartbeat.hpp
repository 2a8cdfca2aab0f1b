#pragma once
// BEAT procedure (RFC 4666 4.3.4.6): every T(beat) a BEAT goes out with
// Heartbeat Data of our own; the peer is declared unavailable when two
// T(beat) intervals in a row end with no message from it (BEAT ACK or any
// other), i.e. after 2 x T(beat) of silence.
//
// Silence is counted in intervals, not measured as elapsed time: when the
// event loop runs late, the timer can fire seconds after the peer's answer
// arrived but before it was read. Judging by the clock would then fail a
// healthy peer; counting intervals gives the loop one more T(beat) to read
// what is waiting.
//
// The owner keeps the timer: it arms TimerKey{Tbeat, assoc} at due() after
// start() and expired(), and cancels it after stop().
#include <optional>

#include "mxua/fsm/actions.hpp"

namespace mxua {

class Heartbeat {
 public:
  Heartbeat(AssocId assoc, std::optional<Duration> period) : assoc_(assoc), period_(period) {}

  bool enabled() const noexcept { return period_.has_value(); }
  void start(TimePoint now);
  void stop() noexcept { due_.reset(); }
  void seen(TimePoint /*now*/) noexcept { ++received_; }
  // T(beat) expired: sends the next BEAT, or reports PeerUnavailable.
  void expired(TimePoint now, Actions& out);
  // When T(beat) next expires; nullopt while stopped (or disabled).
  std::optional<TimePoint> due() const noexcept { return due_; }
  TimerKey timer() const noexcept { return TimerKey{TimerKind::Tbeat, assoc_}; }
  std::uint32_t beats_sent() const noexcept { return seq_; }
  void rebind(AssocId assoc) noexcept { assoc_ = assoc; }

 private:
  AssocId assoc_;
  std::optional<Duration> period_;
  std::uint64_t received_ = 0;          // messages seen from the peer
  std::uint64_t received_at_beat_ = 0;  // received_ when the interval began
  unsigned silent_intervals_ = 0;
  std::uint32_t seq_ = 0;
  std::optional<TimePoint> due_;
};

// The BEAT ACK for a BEAT: every parameter echoed unchanged.
BeatAck beat_ack_for(const Beat& b);

}  // namespace mxua
