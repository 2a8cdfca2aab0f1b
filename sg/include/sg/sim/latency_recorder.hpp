#pragma once
// Latency samples with exact percentiles; bounded by keeping every k-th
// sample once full (uniform thinning keeps percentiles representative).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace sg::sim {

class LatencyRecorder {
 public:
  explicit LatencyRecorder(std::size_t max_samples = 1'000'000) : max_(max_samples) {}

  void record(std::chrono::nanoseconds d) {
    ++seen_;
    if (seen_ % stride_ != 0) return;
    samples_.push_back(d.count());
    if (samples_.size() >= max_) {
      // Keep every second sample and take half as many from now on.
      std::size_t w = 0;
      for (std::size_t i = 0; i < samples_.size(); i += 2) samples_[w++] = samples_[i];
      samples_.resize(w);
      stride_ *= 2;
    }
  }
  std::uint64_t count() const noexcept { return seen_; }
  // p in [0, 100]; 0 when there are no samples.
  std::chrono::nanoseconds percentile(double p) const {
    if (samples_.empty()) return {};
    std::vector<std::int64_t> s = samples_;
    auto idx = static_cast<std::size_t>(p / 100.0 * static_cast<double>(s.size() - 1) + 0.5);
    std::nth_element(s.begin(), s.begin() + static_cast<long>(idx), s.end());
    return std::chrono::nanoseconds(s[idx]);
  }
  std::chrono::nanoseconds max() const {
    if (samples_.empty()) return {};
    return std::chrono::nanoseconds(*std::max_element(samples_.begin(), samples_.end()));
  }

 private:
  std::size_t max_;
  std::uint64_t seen_ = 0;
  std::uint64_t stride_ = 1;
  std::vector<std::int64_t> samples_;
};

}  // namespace sg::sim
