#pragma once
// One steady_timer per named core timer. Re-arming replaces the running
// instance; an expiry that was already queued when the timer was stopped or
// re-armed is recognised by its generation and dropped, so the cores never
// see a stale expiry.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "rserpool/asap/actions.hpp"

namespace rserpool::asap::service_detail {

class TimerTable {
 public:
  using Fire = std::function<void(const Timer&)>;

  TimerTable(boost::asio::io_context& io, Fire fire) : io_(io), fire_(std::move(fire)) {}
  ~TimerTable() { cancel_all(); }
  TimerTable(const TimerTable&) = delete;
  TimerTable& operator=(const TimerTable&) = delete;

  void start(const Timer& t, Duration after);
  void stop(const Timer& t);
  void cancel_all();
  bool running(const Timer& t) const;
  std::size_t size() const noexcept { return timers_.size(); }

 private:
  struct Slot {
    explicit Slot(boost::asio::io_context& io) : timer(io) {}
    boost::asio::steady_timer timer;
    std::uint64_t generation = 0;
  };
  static std::uint64_t key(const Timer& t) noexcept {
    return (static_cast<std::uint64_t>(t.kind) << 32) | t.key;
  }

  boost::asio::io_context& io_;
  Fire fire_;
  // Shared with the wait handlers so an expiry after the table is gone is
  // recognised (the weak_ptr no longer locks).
  std::shared_ptr<std::map<std::uint64_t, std::unique_ptr<Slot>>> timers_state_ =
      std::make_shared<std::map<std::uint64_t, std::unique_ptr<Slot>>>();
  std::map<std::uint64_t, std::unique_ptr<Slot>>& timers_ = *timers_state_;
  std::uint64_t next_generation_ = 1;
};

}  // namespace rserpool::asap::service_detail
