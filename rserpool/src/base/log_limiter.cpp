#include "rserpool/base/log_limiter.hpp"

namespace rserpool::log {

LogLimiter::Verdict LogLimiter::admit(std::string_view cause, TimePoint now) {
  auto it = index_.find(cause);
  if (it == index_.end()) {
    if (lru_.size() >= config_.max_causes && !lru_.empty()) {
      // Forget the least recently used cause; its suppressed lines stay in
      // total_suppressed_ (the summary is lost with it, the count is not).
      index_.erase(std::string_view(lru_.back().cause));
      lru_.pop_back();
    }
    lru_.push_front(Entry{std::string(cause), now, 0, 0});
    it = index_.emplace(std::string_view(lru_.front().cause), lru_.begin()).first;
  } else if (it->second != lru_.begin()) {
    lru_.splice(lru_.begin(), lru_, it->second);
  }
  Entry& e = *it->second;
  Verdict v;
  if (now - e.window_start >= config_.window) {
    e.window_start = now;
    e.in_window = 0;
  }
  if (e.in_window < config_.burst) {
    ++e.in_window;
    v.emit = true;
    v.suppressed = e.suppressed;
    e.suppressed = 0;
    return v;
  }
  ++e.suppressed;
  ++total_suppressed_;
  return v;
}

}  // namespace rserpool::log
