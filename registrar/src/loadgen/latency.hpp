#pragma once
// Exact latency percentiles for one run: every sample is kept (a million
// samples is 8 MB), sorted once when the report is written.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace rserpool::loadgen {

class LatencySamples {
 public:
  void add(std::chrono::nanoseconds d) {
    if (samples_.size() < kMaxSamples) samples_.push_back(d.count());
    sorted_ = false;
  }
  std::size_t size() const noexcept { return samples_.size(); }
  // Microseconds at percentile p (0..100); 0 without samples.
  double percentile_us(double p) {
    if (samples_.empty()) return 0;
    if (!sorted_) {
      std::sort(samples_.begin(), samples_.end());
      sorted_ = true;
    }
    const auto last = static_cast<double>(samples_.size() - 1);
    const auto idx = static_cast<std::size_t>(p / 100.0 * last + 0.5);
    return static_cast<double>(samples_[idx]) / 1000.0;
  }

 private:
  static constexpr std::size_t kMaxSamples = 4'000'000;
  std::vector<std::int64_t> samples_;
  bool sorted_ = true;
};

}  // namespace rserpool::loadgen
