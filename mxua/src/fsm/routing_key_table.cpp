#include "mxua/fsm/routing_key_table.hpp"

#include <algorithm>

namespace mxua {
namespace {

// Higher is more specific; -1 when the group does not match.
int group_score(const RoutingKeyDestination& g, PointCode dpc, PointCode opc, std::uint8_t si) {
  if (!g.dpc.contains(dpc)) return -1;
  if (g.service_indicators.empty()) {
    if (si == 0) return -1;
  } else if (std::find(g.service_indicators.begin(), g.service_indicators.end(), si) == g.service_indicators.end()) {
    return -1;
  }
  if (!g.opc_list.empty() &&
      std::none_of(g.opc_list.begin(), g.opc_list.end(), [&](const MaskedPointCode& o) { return o.contains(opc); }))
    return -1;
  return (32 - std::min<int>(g.dpc.mask, 32)) * 4 + (g.service_indicators.empty() ? 0 : 2) +
         (g.opc_list.empty() ? 0 : 1);
}

}  // namespace

void RoutingKeyTable::add(RoutingKeyEntry e) {
  remove(e.routing_context);
  entries_.push_back(std::move(e));
}

bool RoutingKeyTable::remove(std::uint32_t rc) {
  return std::erase_if(entries_, [&](const RoutingKeyEntry& e) { return e.routing_context == rc; }) > 0;
}

const RoutingKeyEntry* RoutingKeyTable::find(std::uint32_t rc) const {
  for (const auto& e : entries_)
    if (e.routing_context == rc) return &e;
  return nullptr;
}

std::optional<std::uint32_t> RoutingKeyTable::find_equal(const std::vector<RoutingKeyDestination>& d,
                                                         std::optional<std::uint32_t> na) const {
  for (const auto& e : entries_)
    if (e.network_appearance == na && e.destinations == d) return e.routing_context;
  return std::nullopt;
}

std::optional<std::uint32_t> RoutingKeyTable::match(PointCode dpc, PointCode opc, std::uint8_t si,
                                                    std::optional<std::uint32_t> na) const {
  const RoutingKeyEntry* best = nullptr;
  int best_score = -1;
  for (const auto& e : entries_) {
    if (e.network_appearance && na && *e.network_appearance != *na) continue;
    for (const auto& g : e.destinations) {
      const int s = group_score(g, dpc, opc, si);
      if (s > best_score) {
        best_score = s;
        best = &e;
      }
    }
  }
  if (!best) return std::nullopt;
  return best->routing_context;
}

}  // namespace mxua
