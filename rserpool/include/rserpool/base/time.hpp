#pragma once
// The one time type of the product, and the clock drivers read it from.
//
// Every sans-I/O core (M3UA, ASAP endpoints, registrar, SG routing, the
// gateway-controller link) takes `now` as a TimePoint with each event and
// never reads a clock itself. Drivers read it from a Clock they were given:
// the process's SteadyClock in the daemons, a ManualClock in tests and in
// the deterministic simulation. TimePoint{} (the clock's epoch) is a valid
// instant for virtual time: a simulation starts there and adds Durations.
#include <chrono>

namespace rserpool {

using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;
using Millis = std::chrono::milliseconds;

// Whole milliseconds of a duration, for logs, wire fields and configuration.
constexpr std::int64_t to_millis(Duration d) noexcept {
  return std::chrono::duration_cast<Millis>(d).count();
}

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

// One clock read per readiness event (issue 16). A transport that wakes up
// for a readable socket opens a TurnTime for the batch it reads: the clock
// is read once, and every SteadyClock::now() on this thread until the scope
// ends returns that instant, so the drivers of the messages in the batch
// (M3UA, the gateway, the registrar) share one reading instead of taking
// two or three each (a system call each where there is no vDSO, as in
// User-Mode Linux). Nested scopes keep the outer reading. ManualClock is
// unaffected: virtual time stays exactly what the test set.
class TurnTime {
 public:
  TurnTime() noexcept : outer_(slot().active) {
    if (outer_) return;
    slot().at = std::chrono::steady_clock::now();
    slot().active = true;
  }
  ~TurnTime() {
    if (!outer_) slot().active = false;
  }
  TurnTime(const TurnTime&) = delete;
  TurnTime& operator=(const TurnTime&) = delete;

  // The reading of the scope open on this thread, if any.
  static const TimePoint* current() noexcept { return slot().active ? &slot().at : nullptr; }

 private:
  struct Slot {
    bool active = false;
    TimePoint at{};
  };
  static Slot& slot() noexcept {
    thread_local Slot s;
    return s;
  }
  bool outer_;
};

// The monotonic clock of the process. One instance serves every driver.
class SteadyClock final : public Clock {
 public:
  TimePoint now() const override {
    if (const TimePoint* t = TurnTime::current()) return *t;
    return std::chrono::steady_clock::now();
  }
  static SteadyClock& instance() {
    static SteadyClock c;
    return c;
  }
};

// Virtual time: moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{}) : now_(start) {}
  TimePoint now() const override { return now_; }
  void set(TimePoint t) noexcept { now_ = t; }
  void advance(Duration d) noexcept { now_ += d; }

 private:
  TimePoint now_;
};

}  // namespace rserpool
