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

// The monotonic clock of the process. One instance serves every driver.
class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
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
