#include "sg/routing/route_table.hpp"

#include <algorithm>
#include <tuple>

namespace sg {
namespace {

// Larger is more specific; compared lexicographically.
auto specificity(const RoutingKey& k) {
  return std::make_tuple(k.cics.has_value(), k.opc ? 25 - int{k.opc->wildcard_bits} : 0,
                         25 - int{k.dpc.wildcard_bits}, k.service_indicators.any(), k.network_indicator.has_value());
}

bool matches(const RoutingKey& k, const MtpMessage& m, std::optional<std::uint16_t> cic) {
  if (!k.dpc.matches(m.dpc)) return false;
  if (k.opc && !k.opc->matches(m.opc)) return false;
  if (k.service_indicators.any() && (m.si >= 16 || !k.service_indicators.test(m.si))) return false;
  if (k.network_indicator && *k.network_indicator != m.ni) return false;
  if (k.cics) {
    if (m.si != kSiIsup || !cic || *cic < k.cics->first || *cic > k.cics->last) return false;
  }
  return true;
}

}  // namespace

std::string_view to_string(RouteError e) noexcept {
  switch (e) {
    case RouteError::duplicate_name: return "a route with this name exists";
    case RouteError::empty_name: return "route name is empty";
    case RouteError::bad_cic_range: return "CIC range is empty or beyond 14 bits";
    case RouteError::bad_mask: return "point-code mask is wider than 24 bits";
    case RouteError::empty_pool: return "pool handle is empty";
  }
  return "unknown";
}

rserpool::Result<void, RouteError> RouteTable::add(Route route) {
  if (route.name.empty()) return rserpool::unexpected(RouteError::empty_name);
  if (route.pool.empty()) return rserpool::unexpected(RouteError::empty_pool);
  if (route.key.dpc.wildcard_bits > 24 || (route.key.opc && route.key.opc->wildcard_bits > 24))
    return rserpool::unexpected(RouteError::bad_mask);
  if (route.key.cics && (route.key.cics->first > route.key.cics->last || route.key.cics->last > 0x3FFF))
    return rserpool::unexpected(RouteError::bad_cic_range);
  if (std::any_of(routes_.begin(), routes_.end(), [&](const Route& r) { return r.name == route.name; }))
    return rserpool::unexpected(RouteError::duplicate_name);
  // Insert after every route at least as specific: keeps configuration
  // order among equals.
  const auto s = specificity(route.key);
  auto at = std::find_if(routes_.begin(), routes_.end(), [&](const Route& r) { return specificity(r.key) < s; });
  routes_.insert(at, std::move(route));
  return {};
}

bool RouteTable::remove(std::string_view name) {
  auto it = std::find_if(routes_.begin(), routes_.end(), [&](const Route& r) { return r.name == name; });
  if (it == routes_.end()) return false;
  routes_.erase(it);
  return true;
}

const Route* RouteTable::lookup(const MtpMessage& m, std::optional<std::uint16_t> cic) const {
  for (const auto& r : routes_)
    if (matches(r.key, m, cic)) return &r;
  return nullptr;
}

std::vector<const Route*> RouteTable::routes_to(const rserpool::PoolHandle& pool) const {
  std::vector<const Route*> out;
  for (const auto& r : routes_)
    if (r.pool == pool) out.push_back(&r);
  return out;
}

}  // namespace sg
