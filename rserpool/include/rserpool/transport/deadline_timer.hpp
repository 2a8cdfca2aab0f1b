#pragma once
// The one OS timer a driver keeps for its sans-I/O core (docs/architecture.md,
// "The substrate"), armed so that it costs no system call per event
// (issue 16).
//
// After each event the driver calls arm(core.next_deadline()). The timer
// only ever moves earlier: a deadline that moved later (a T(ack) answered,
// a beat pushed out by traffic, nothing due any more) keeps the armed
// expiry, and when it fires the core finds nothing due and the driver arms
// the new next_deadline(). So the relay path, whose events push deadlines
// out or leave them alone, never re-arms: no timerfd_settime, no clock
// reading. Re-arming at an earlier instant reads no clock either when the
// driver's clock is the process's SteadyClock (the deadline is already an
// instant of the OS timer's clock); a ManualClock (tests, virtual time) is
// converted through one reading of each clock.
//
// On expiry the handler runs inside a TurnTime: the core's on_timeout(now)
// and whatever it causes share one clock reading.
//
// The driver decides nothing here: what is due is the core's business
// (on_timeout(now)), and an early or stale expiry is harmless because the
// core finds nothing due.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "rserpool/base/time.hpp"

namespace rserpool::transport {

class DeadlineTimer {
 public:
  // `on_expiry`: runs when an armed instant has come (not after cancel()
  // or destruction); it typically calls the core's on_timeout(now) and then
  // arm(next_deadline()).
  DeadlineTimer(boost::asio::io_context& io, const Clock& clock, std::function<void()> on_expiry)
      : timer_(io), clock_(clock), on_expiry_(std::move(on_expiry)) {}
  ~DeadlineTimer() { cancel(); }
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  // Makes sure the timer fires no later than `due` (nullopt: nothing new is
  // due; an armed expiry stays and finds nothing). Returns true when the OS
  // timer was (re-)armed.
  bool arm(std::optional<TimePoint> due) {
    // The common case (every event: a deadline that did not move earlier)
    // inline in the driver; only a re-arm leaves it (issue 16: the whole
    // function out of line was about 40 instructions per registrar request).
    if (!due || (armed_ && *armed_ <= *due)) return false;
    return rearm(*due);
  }
  void cancel() {
    ++generation_;
    if (armed_) timer_.cancel();
    armed_.reset();
  }
  // The instant the OS timer is armed for, if any.
  std::optional<TimePoint> armed() const noexcept { return armed_; }
  // How often the OS timer was (re-)armed: a test's evidence that events
  // whose deadlines move later do not touch it.
  std::uint64_t rearms() const noexcept { return rearms_; }

 private:
  [[gnu::noinline]] bool rearm(TimePoint due) {
    armed_ = due;
    ++rearms_;
    timer_.expires_at(os_instant(due));  // cancels a running wait (stale by generation)
    timer_.async_wait([alive = std::weak_ptr<bool>(alive_), this, gen = ++generation_](const boost::system::error_code& ec) {
      if (ec || alive.expired() || gen != generation_) return;  // cancelled, gone, or re-armed
      armed_.reset();
      const TurnTime turn;
      on_expiry_();
    });
    return true;
  }
  // The OS timer waits on std::chrono::steady_clock, the SteadyClock's own
  // clock: its deadlines are used as they are.
  std::chrono::steady_clock::time_point os_instant(TimePoint due) const {
    if (dynamic_cast<const SteadyClock*>(&clock_) != nullptr) return due;
    return std::chrono::steady_clock::now() + (due - clock_.now());
  }

  boost::asio::steady_timer timer_;
  const Clock& clock_;
  std::function<void()> on_expiry_;
  std::optional<TimePoint> armed_;
  std::uint64_t generation_ = 0;
  std::uint64_t rearms_ = 0;
  // Checked by a wait handler that runs after this timer is gone (a wait
  // that completed before the destructor's cancel() still runs).
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace rserpool::transport
