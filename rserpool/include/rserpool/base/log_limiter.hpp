#pragma once
// Rate limiting of log lines per (category, cause), sans-I/O.
//
// What one peer sends must not decide how much the daemon writes: each
// cause may log `burst` lines per `window`; what is suppressed beyond that
// is counted and reported once, as "N similar suppressed", with the first
// line of the next window (or by flush() when the window ends quietly).
// The number of causes tracked is bounded; the least recently used one is
// forgotten first (its pending summary is returned by admit()).
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "rserpool/base/time.hpp"

namespace rserpool::log {

struct LimiterConfig {
  std::uint32_t burst = 5;
  Duration window = std::chrono::seconds(10);
  std::size_t max_causes = 512;
};

class LogLimiter {
 public:
  struct Verdict {
    bool emit = false;               // write this line
    std::uint64_t suppressed = 0;    // lines of this cause suppressed before it (say so)
  };
  explicit LogLimiter(LimiterConfig c = {}) : config_(c) {}

  Verdict admit(std::string_view cause, TimePoint now);
  // Causes whose window ended with lines suppressed: (cause, count), once.
  template <class F>
  void flush(TimePoint now, F&& report) {
    for (auto& e : lru_) {
      if (e.suppressed != 0 && now - e.window_start >= config_.window) {
        report(std::string_view(e.cause), e.suppressed);
        e.suppressed = 0;
      }
    }
  }
  std::size_t causes() const noexcept { return lru_.size(); }
  std::uint64_t total_suppressed() const noexcept { return total_suppressed_; }

 private:
  struct Entry {
    std::string cause;
    TimePoint window_start{};
    std::uint32_t in_window = 0;
    std::uint64_t suppressed = 0;
  };
  LimiterConfig config_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
  std::uint64_t total_suppressed_ = 0;
};

}  // namespace rserpool::log
