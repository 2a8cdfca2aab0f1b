#pragma once
// The one OS timer a driver keeps per sans-I/O core (docs/architecture.md,
// "The substrate"): armed at the core's next_deadline() after every event,
// it calls back when that instant has come on the driver's clock. What is
// due is the core's business (on_timeout(now)); a stale expiry is harmless
// because the core finds nothing due, and it is filtered here anyway.
//
// The deadline is a TimePoint of the injected Clock. The Asio timer waits
// for the difference to clock.now(), so a SteadyClock driver fires on time
// and a ManualClock one simply finds nothing due until its clock moves.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>

#include "rserpool/base/time.hpp"

namespace rserpool::asap::service_detail {

class CoreTimer {
 public:
  CoreTimer(boost::asio::io_context& io, const Clock& clock, std::function<void()> fire)
      : timer_(io), clock_(clock), fire_(std::move(fire)) {}
  ~CoreTimer() { disarm(); }
  CoreTimer(const CoreTimer&) = delete;
  CoreTimer& operator=(const CoreTimer&) = delete;

  // Arms at `at` (nullopt: nothing armed). Re-arming at the armed instant
  // keeps the running wait.
  void arm(std::optional<TimePoint> at) {
    if (at == armed_) return;
    disarm();
    if (!at) return;
    armed_ = at;
    const Duration wait = *at - clock_.now();
    timer_.expires_after(wait > Duration::zero() ? wait : Duration::zero());
    timer_.async_wait([alive = std::weak_ptr<bool>(alive_), this, gen = generation_](const boost::system::error_code& ec) {
      if (ec || !alive.lock() || gen != generation_) return;  // cancelled, gone, or re-armed
      armed_.reset();
      fire_();
    });
  }
  void disarm() {
    ++generation_;
    if (armed_) timer_.cancel();
    armed_.reset();
  }
  std::optional<TimePoint> armed() const noexcept { return armed_; }

 private:
  boost::asio::steady_timer timer_;
  const Clock& clock_;
  std::function<void()> fire_;
  std::optional<TimePoint> armed_;
  std::uint64_t generation_ = 0;
  // Checked by a wait handler that runs after this timer is gone (a
  // completed wait cannot be cancelled any more).
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace rserpool::asap::service_detail
