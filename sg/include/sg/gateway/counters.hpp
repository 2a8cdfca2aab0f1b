#pragma once
// The gateway's own counters. Plain fields, written only on the io_context
// thread that runs the data path; the CLI and the Prometheus endpoint read
// them through a collector posted to that thread (rserpool::ops::MetricsRegistry).
#include <array>
#include <cstdint>
#include <map>
#include <string_view>

#include "rserpool/wire/types.hpp"

namespace sg {

// Why the gateway dropped a message it had received. The distributor's
// reasons (pool-unavailable, queue-full, fenced-pe: sg/routing/
// pool_distributor.hpp) are counted per pool; these are the gateway's own,
// counted before a message reaches a pool or after it left one.
enum class GatewayDrop : std::uint8_t {
  no_route,          // SS7 -> pool: no route matches the routing label
  no_ss7_path,       // PE -> SS7: no SS7 association can carry it
  ss7_refused,       // PE -> SS7: the M3UA layer refused it (ASP not active)
  link_refused,      // to a PE without a link: re-routed as that PE's failure (not lost)
  Count_
};
inline constexpr std::size_t kGatewayDrops = static_cast<std::size_t>(GatewayDrop::Count_);
std::string_view to_string(GatewayDrop d) noexcept;

struct TrafficCounters {
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  void add(std::size_t n) noexcept {
    ++messages;
    bytes += n;
  }
};


struct GatewayCounters {
  TrafficCounters ss7_in;   // DATA from the SS7 side
  TrafficCounters ss7_out;  // DATA to the SS7 side
  std::array<std::uint64_t, kGatewayDrops> drops{};
  std::uint64_t duna_sent = 0;  // per affected destination announced
  std::uint64_t dava_sent = 0;
  std::uint64_t scon_sent = 0;
  std::uint64_t unreachable_reported = 0;
  void drop(GatewayDrop d) noexcept { ++drops[static_cast<std::size_t>(d)]; }
  std::uint64_t dropped(GatewayDrop d) const noexcept { return drops[static_cast<std::size_t>(d)]; }
};

}  // namespace sg
