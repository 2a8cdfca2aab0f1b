#pragma once
// Executes the Actions of the M3UA cores on Boost.Asio: Send goes to the
// named association with PPID 3 on the given stream, StartTimer/StopTimer
// become steady_timers keyed by TimerId whose expiries are fed back through
// the timer sink, PeerUnavailable aborts the association, and every
// indication goes to the user's Events. One runner serves one SgpNode (all
// its associations: Sends and T(r) span associations) or one ASP endpoint.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>

#include "mxua/driver/events.hpp"
#include "mxua/fsm/actions.hpp"

namespace mxua::driver {

inline constexpr std::uint32_t kM3uaPpid = 3;

// Virtual time for the cores: milliseconds since the runner was created,
// read from std::chrono::steady_clock.
class VirtualClock {
 public:
  VirtualClock() : epoch_(std::chrono::steady_clock::now()) {}
  TimePoint now() const {
    return std::chrono::duration_cast<TimePoint>(std::chrono::steady_clock::now() - epoch_);
  }
  std::chrono::steady_clock::time_point to_steady(TimePoint t) const { return epoch_ + t; }

 private:
  std::chrono::steady_clock::time_point epoch_;
};

class ActionRunner : public std::enable_shared_from_this<ActionRunner> {
  struct Key {};  // construction only through create(): timers need weak_from_this()

 public:
  using TimerSink = std::function<Actions(TimerId, TimePoint)>;

  static std::shared_ptr<ActionRunner> create(boost::asio::io_context& io, Events& events);
  ActionRunner(Key, boost::asio::io_context& io, Events& events) : io_(io), events_(events) {}
  ~ActionRunner();
  ActionRunner(const ActionRunner&) = delete;
  ActionRunner& operator=(const ActionRunner&) = delete;

  // Where timer expiries go (the endpoint's or the node's timer_expired).
  void set_timer_sink(TimerSink sink) { sink_ = std::move(sink); }

  TimePoint now() const { return clock_.now(); }
  boost::asio::io_context& io() noexcept { return io_; }
  Events& events() noexcept { return events_; }
  DriverCounters& counters() noexcept { return counters_; }
  const DriverCounters& counters() const noexcept { return counters_; }

  // The association that Send{assoc} actions go to, from up to down.
  void attach(AssocId assoc, std::shared_ptr<tr::Association> a, const tr::AssociationInfo& info);
  void detach(AssocId assoc);
  std::shared_ptr<tr::Association> association(AssocId assoc) const;
  std::size_t associations() const noexcept { return assocs_.size(); }

  // Executes every action in order, then clears the vector (its capacity
  // stays, so a caller can reuse it). Safe to re-enter from Events callbacks.
  void run(Actions& actions);

  // Messages the transport could not deliver: DATA decoded and handed to
  // Events::on_send_failed, everything else counted and dropped.
  void hand_back(AssocId assoc, std::vector<tr::Message>&& unsent);

  bool timer_running(TimerId id) const { return timers_.count(id) != 0; }
  std::size_t timers_running() const noexcept { return timers_.size(); }
  void cancel_timers();

 private:
  struct Bound {
    std::shared_ptr<tr::Association> assoc;
    std::uint16_t outbound_streams = 0;
    bool tcp = false;
  };
  struct Timer {
    std::unique_ptr<boost::asio::steady_timer> timer;
    std::uint64_t generation = 0;
  };

  void send(Send& s);
  void start_timer(const StartTimer& t);
  void stop_timer(const StopTimer& t);
  void fire(TimerId id, std::uint64_t generation);
  void peer_unavailable(AssocId assoc);

  boost::asio::io_context& io_;
  Events& events_;
  VirtualClock clock_;
  TimerSink sink_;
  std::unordered_map<AssocId, Bound> assocs_;
  std::map<TimerId, Timer> timers_;
  std::uint64_t next_generation_ = 1;
  DriverCounters counters_;
  Bytes spare_;  // copy of the DATA being sent, for hand-back on refusal
};

}  // namespace mxua::driver
