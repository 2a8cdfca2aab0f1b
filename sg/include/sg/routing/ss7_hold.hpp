#pragma once
// The gateway's hold of DATA toward the SS7 side while no path to its
// destination is active. A restarted gateway's controller links come up
// before the SS7 side's ASP is active again, and the controllers send at
// once what they held while it was down; dropping that would fail calls the
// controllers kept. So a message the SS7 side cannot take yet waits here, in
// arrival order, for at most `hold` (RFC 4666 4.3.4.1's T(r) does the same
// for an AS that is pending, on the other side), and at most `max_messages`
// wait. Anything behind a held message is held behind it: a circuit's
// messages keep their order.
//
// Sans-I/O: the SS7 side is reached through two callables the driver passes
// in, so the decisions (hold, give up, order) are here and testable in
// virtual time:
//   try_send(MtpMessage&) -> Ss7Hold::Try   an attempt that may be held
//   give_up(MtpMessage&&)                    the last attempt: sent if a path
//                                            is active, else the SS7 side
//                                            counts and logs the drop
// The driver arms one timer at next_deadline() and calls flush(now) when it
// fires and when the SS7 side reports a path active.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "rserpool/base/time.hpp"
#include "sg/routing/mtp_message.hpp"

namespace sg {

struct Ss7HoldConfig {
  rserpool::Duration hold = std::chrono::milliseconds(2000);
  std::size_t max_messages = 10000;
};

class Ss7Hold {
 public:
  using TimePoint = rserpool::TimePoint;
  // The SS7 side's answer to one attempt: gone (sent, or refused for good
  // and counted there), or no path active yet (the message stays ours).
  enum class Try : std::uint8_t { gone, not_active };
  enum class Offered : std::uint8_t {
    passed,        // nothing was held and the SS7 side took it
    held,          // waits for a path
    held_first,    // waits, and it is the first: the hold has begun
    given_up,      // the hold is full: handed to give_up
  };
  struct Flushed {
    std::size_t sent = 0;     // held messages the SS7 side took
    std::size_t expired = 0;  // held `hold` long: handed to give_up
  };
  struct Counters {
    std::uint64_t held = 0;      // messages that waited
    std::uint64_t overflow = 0;  // given up because max_messages waited
    std::uint64_t expired = 0;   // given up after waiting `hold`
  };

  explicit Ss7Hold(Ss7HoldConfig config = {}) : config_(config) {}

  template <class TrySend, class GiveUp>
  Offered offer(MtpMessage&& m, TimePoint now, TrySend&& try_send, GiveUp&& give_up) {
    if (held_.empty() && try_send(m) == Try::gone) return Offered::passed;
    if (held_.size() >= config_.max_messages) {
      ++counters_.overflow;
      give_up(std::move(m));
      return Offered::given_up;
    }
    const bool first = held_.empty();
    held_.push_back(Held{std::move(m), now});
    ++counters_.held;
    return first ? Offered::held_first : Offered::held;
  }

  // Sends what the SS7 side takes now, oldest first, and gives up what has
  // waited `hold`; stops at the first message that must wait on.
  template <class TrySend, class GiveUp>
  Flushed flush(TimePoint now, TrySend&& try_send, GiveUp&& give_up) {
    Flushed f;
    while (!held_.empty()) {
      auto& front = held_.front();
      if (now - front.since >= config_.hold) {
        ++f.expired;
        ++counters_.expired;
        give_up(std::move(front.message));
      } else if (try_send(front.message) == Try::gone) {
        ++f.sent;
      } else {
        break;
      }
      held_.pop_front();
    }
    return f;
  }

  // When the oldest held message has waited `hold`.
  std::optional<TimePoint> next_deadline() const {
    if (held_.empty()) return std::nullopt;
    return held_.front().since + config_.hold;
  }
  std::size_t size() const noexcept { return held_.size(); }
  bool empty() const noexcept { return held_.empty(); }
  const Counters& counters() const noexcept { return counters_; }
  const Ss7HoldConfig& config() const noexcept { return config_; }

 private:
  struct Held {
    MtpMessage message;
    TimePoint since;
  };
  Ss7HoldConfig config_;
  std::deque<Held> held_;
  Counters counters_;
};

}  // namespace sg
