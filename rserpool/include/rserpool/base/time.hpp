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

// At most one clock read per readiness event (issue 16). A transport that
// wakes up for a readable socket (and a driver whose timer fired) opens a
// TurnTime for the batch it handles: the clock is read when something on
// this thread first asks SteadyClock::now() inside the scope, not before (a
// batch no core needs the time for reads none), and every later now() until
// the scope ends returns that instant, so the drivers of the messages in
// the batch (M3UA, the gateway, the registrar) share one reading instead of
// taking two or three each (a system call each where there is no vDSO, as
// in User-Mode Linux). Nested scopes keep the outer reading. ManualClock is
// unaffected: virtual time stays exactly what the test set.
class TurnTime {
 public:
  TurnTime() noexcept : outer_(slot().active) {
    if (outer_) return;
    slot().read = false;
    slot().active = true;
  }
  ~TurnTime() {
    if (!outer_) slot().active = false;
  }
  TurnTime(const TurnTime&) = delete;
  TurnTime& operator=(const TurnTime&) = delete;

  // The reading of the scope open on this thread (taken now if this is
  // the scope's first question), if a scope is open.
  static const TimePoint* current() noexcept {
    Slot& s = slot();
    if (!s.active) return nullptr;
    if (!s.read) {
      s.at = std::chrono::steady_clock::now();
      s.read = true;
    }
    return &s.at;
  }
  // Whether a scope is open on this thread (reads no clock).
  static bool open() noexcept { return slot().active; }

 private:
  struct Slot {
    bool active = false;
    bool read = false;
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
