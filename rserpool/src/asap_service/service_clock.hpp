#pragma once
// The virtual time the sans-I/O cores run on: milliseconds since the
// driver's creation, from the monotonic clock.
#include <chrono>

#include "rserpool/asap/actions.hpp"

namespace rserpool::asap::service_detail {

class ServiceClock {
 public:
  Time now() const {
    return std::chrono::duration_cast<Time>(std::chrono::steady_clock::now() - epoch_);
  }

 private:
  std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
};

}  // namespace rserpool::asap::service_detail
