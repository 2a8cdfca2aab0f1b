#pragma once
// Token bucket on virtual time, for per-association rate limits.
#include <algorithm>
#include <chrono>

#include "registrar/config.hpp"
#include "rserpool/base/time.hpp"

namespace rserpool::registrar {

class TokenBucket {
 public:
  TokenBucket() = default;
  TokenBucket(RateLimit limit, TimePoint now) : limit_(limit), tokens_(limit.burst), last_(now) {}

  // Takes one token if there is one.
  bool take(TimePoint now) {
    if (limit_.rate <= 0) return true;
    const std::chrono::duration<double> dt = now - last_;
    if (dt.count() > 0) {
      tokens_ = std::min(limit_.burst, tokens_ + dt.count() * limit_.rate);
      last_ = now;
    }
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  RateLimit limit_{};
  double tokens_ = 0;
  TimePoint last_{};
};

}  // namespace rserpool::registrar
