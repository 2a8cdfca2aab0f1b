#include "mxua/fsm/sgp/traffic_distribution.hpp"

namespace mxua {

std::span<const AssocId> select_asps(TrafficMode mode, std::span<const AssocId> active, std::uint8_t sls) noexcept {
  if (active.empty()) return {};
  switch (mode) {
    case TrafficMode::Override: return active.first(1);
    case TrafficMode::Broadcast: return active;
    case TrafficMode::Loadshare: break;
  }
  return active.subspan(sls % active.size(), 1);
}

}  // namespace mxua
