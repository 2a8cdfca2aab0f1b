#pragma once
// Routing keys to pool handles. The SG's configuration never names gateway
// controllers: a route names a pool, and the pool's members are learnt only
// through ASAP.
//
// A message matches a route when every criterion the route sets matches.
// Among matching routes the most specific wins: a CIC range beats none, then
// the narrower OPC, the narrower DPC, a set of SIs, an NI; equal specificity
// falls back to configuration order. Lookups scan the routes in that order,
// which is kept sorted on insertion, and stop at the first match.
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rserpool/base/result.hpp"
#include "rserpool/wire/types.hpp"
#include "sg/routing/mtp_message.hpp"

namespace sg {

// A point code with a mask in M3UA's sense: `wildcard_bits` low-order bits
// are ignored (0 = exactly this point code).
struct PointCodeMatch {
  std::uint32_t point_code = 0;
  std::uint8_t wildcard_bits = 0;
  bool matches(std::uint32_t pc) const noexcept {
    if (wildcard_bits >= 24) return true;
    return ((pc ^ point_code) & (0xFFFFFFU >> wildcard_bits << wildcard_bits)) == 0;
  }
  friend bool operator==(const PointCodeMatch&, const PointCodeMatch&) = default;
};

struct CicRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
  friend bool operator==(const CicRange&, const CicRange&) = default;
};

struct RoutingKey {
  PointCodeMatch dpc;
  std::optional<PointCodeMatch> opc;
  std::bitset<16> service_indicators;  // none set = any SI
  std::optional<std::uint8_t> network_indicator;
  std::optional<CicRange> cics;  // only ISUP messages can match a CIC range
  friend bool operator==(const RoutingKey&, const RoutingKey&) = default;
};

struct Route {
  std::string name;
  RoutingKey key;
  rserpool::PoolHandle pool;
};

enum class RouteError : std::uint8_t { duplicate_name, empty_name, bad_cic_range, bad_mask, empty_pool };
std::string_view to_string(RouteError e) noexcept;

class RouteTable {
 public:
  rserpool::Result<void, RouteError> add(Route route);
  bool remove(std::string_view name);
  // `cic` is the ISUP circuit when the message is ISUP and parses.
  const Route* lookup(const MtpMessage& m, std::optional<std::uint16_t> cic) const;
  const std::vector<Route>& routes() const noexcept { return routes_; }
  // All routes that lead to `pool` (for DUNA/DAVA of the affected DPCs).
  std::vector<const Route*> routes_to(const rserpool::PoolHandle& pool) const;

 private:
  std::vector<Route> routes_;  // most specific first, then configuration order
};

}  // namespace sg
