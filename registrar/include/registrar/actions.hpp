#pragma once
// What the registrar core asks its driver to do. The driver owns sockets and
// timers; the core only returns these values.
#include <chrono>
#include <compare>
#include <cstdint>
#include <string_view>
#include <variant>

#include "rserpool/base/bytes.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool::registrar {

using TimePoint = std::chrono::steady_clock::time_point;
using AssociationId = std::uint64_t;  // driver's handle for one ASAP association

enum class TimerKind : std::uint8_t {
  lifetime_expiry,  // next registration life end
  keep_alive,       // next keep-alive audit send or ACK deadline
  peer_heartbeat,   // PEER-HEARTBEAT-CYCLE
  peer_monitor,     // per peer: MAX-TIME-LAST-HEARD / MAX-TIME-NO-RESPONSE
  takeover,         // per target: TAKEOVER-EXPIRE-INTERVAL
  table_request,    // per peer: our HANDLE_TABLE download stalls
};
std::string_view to_string(TimerKind k) noexcept;

struct TimerKey {
  TimerKind kind = TimerKind::lifetime_expiry;
  ServerIdentifier peer = 0;  // for per-peer timers
  friend auto operator<=>(const TimerKey&, const TimerKey&) = default;
};

// One ASAP message on an association the driver told us about.
struct SendAsap {
  AssociationId association = 0;
  Bytes message;
};
// An ASAP message to a PE we have no association with (taken over from a
// dead peer): the driver connects to the PE's ASAP transport.
struct SendAsapToElement {
  PoolHandle pool;
  PeIdentifier pe = 0;
  TransportParameter asap_transport;
  Bytes message;
};
// One ENRP message to one peer (the driver maps server id -> association).
// Group-casts are expanded by the core into one action per peer.
struct SendEnrp {
  ServerIdentifier peer = 0;
  Bytes message;
};
// (Re)arm a named timer; replaces an earlier StartTimer of the same key.
struct StartTimer {
  TimerKey key;
  TimePoint at{};
};
struct StopTimer {
  TimerKey key;
};

enum class Event : std::uint8_t {
  pe_registered,
  pe_reregistered,
  pe_deregistered,
  pe_expired,
  pe_keep_alive_timeout,
  pe_unreachable_removed,
  pe_association_lost,
  peer_up,
  peer_dead,
  takeover_started,
  takeover_won,
  takeover_aborted,
  taken_over_by_peer,
  resync_started,
  resync_done,
};
std::string_view to_string(Event e) noexcept;

struct Notify {
  Event event = Event::pe_registered;
  PoolHandle pool;
  PeIdentifier pe = 0;
  ServerIdentifier server = 0;  // peer / takeover target / initiator
};

using Action = std::variant<SendAsap, SendAsapToElement, SendEnrp, StartTimer, StopTimer, Notify>;

}  // namespace rserpool::registrar
