#pragma once
// Registrar configuration: identity, ASAP server behaviour, ENRP timers.
// Durations are rserpool::Duration (the substrate's one time type); the
// core never reads a clock.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "rserpool/base/time.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool::registrar {

// Token bucket parameters: `rate` tokens per second, at most `burst` saved.
struct RateLimit {
  double rate = 0;  // 0 = unlimited
  double burst = 0;
};

// How many ASAP associations the ASAP server keeps, and how it makes room
// (RFC 5355 2.1: flooding by unauthorised endpoints). An association that
// carries no registered PE is a "client" (a pool user, or a PE that has not
// registered yet). Clients may hold at most `max_associations -
// reserved_for_pes` slots, so associations carrying PEs always have room.
// When the client share (or the whole) is full, the client idle for longest
// (nothing received for `client_idle`, no subscription) makes way for the
// newcomer; with none idle, the newcomer is refused. One source address may
// hold at most `max_per_address`. The daemon keeps max_associations below
// its RLIMIT_NOFILE (docs/registrar.md).
struct AssociationCaps {
  std::size_t max_associations = 4000;  // 0 = unlimited
  std::size_t reserved_for_pes = 1000;
  std::size_t max_per_address = 256;  // 0 = unlimited
  Duration client_idle = std::chrono::seconds(10);
};

struct RegistrarConfig {
  ServerIdentifier server_id = 1;  // non-zero (RFC 5353 2.2)
  // Where peers and PEs reach our ENRP endpoint: the Server Information of
  // every PRESENCE (rspregistrar rejects a PRESENCE without it) and of
  // LIST_RESPONSE. Empty = not advertised.
  std::optional<TransportParameter> enrp_transport;
  std::vector<ServerIdentifier> peers;     // statically configured ENRP peers
  std::optional<ServerIdentifier> mentor;  // full handlespace download at start
  std::uint64_t seed = 1;                  // keep-alive jitter and random policies

  // --- ASAP server side (RFC 5352 section 3) ---
  std::uint32_t default_resolution_items = 3;  // no 0x803f option
  std::uint32_t max_resolution_items = 128;    // cap on 0x803f
  // Most bytes of PE parameters in one HANDLE_RESOLUTION_RESPONSE: PEs with
  // many addresses end the answer early instead of exceeding what the
  // transport carries (64 KiB) or what a slow reader may hold.
  std::size_t max_resolution_bytes = 32 * 1024;
  bool keep_alive_audit = true;                     // periodic ENDPOINT_KEEP_ALIVE to owned PEs
  Duration keep_alive_interval = std::chrono::milliseconds{5000};  // mean; actual spread +/-50 %
  Duration keep_alive_timeout = std::chrono::milliseconds{5000};   // no ACK within this: PE removed
  // ENDPOINT_UNREACHABLE (RFC 5352 3.5) starts an audit of the PE: a
  // KEEP_ALIVE it must answer within keep_alive_timeout; only a failed
  // audit removes it. Reports are counted once per reporting association
  // per PE per `unreachable_report_interval`; an answer clears the count.
  // MAX-BAD-PE-REPORT distinct reporters against a PE that still answers
  // is an operator event (Event::pe_reported_but_answering), not a
  // removal: pool users cannot vote a healthy PE out (RFC 5355 2.1, the
  // ENDPOINT_UNREACHABLE flood; RFC 5352 3.5 makes the removal a SHOULD).
  std::uint32_t max_bad_pe_reports = 3;  // MAX-BAD-PE-REPORT
  Duration unreachable_report_interval = std::chrono::milliseconds{5000};
  bool remove_pes_on_association_down = true;  // as rspregistrar does
  // The PE's user transport addresses must be among the association's peer
  // addresses (RFC 5352 3.1 / 6.x security); otherwise reject with this cause.
  bool check_pe_addresses = true;
  ErrorCause address_check_cause = ErrorCause::rejected_security;
  // Per client association. Excess resolutions are answered with 0x6 when
  // `answer_rate_limited`, else dropped; excess unreachable reports are
  // dropped; excess registrations rejected with 0x6.
  RateLimit resolution_rate{200, 400};
  RateLimit unreachable_rate{10, 20};
  RateLimit registration_rate{100, 200};
  bool answer_rate_limited = true;
  std::size_t max_pes_per_association = 4096;
  // Pools one association may subscribe to (RFC 5352 3.8); beyond it the
  // resolution is answered without the A bit (subscription not accepted).
  std::size_t max_subscriptions_per_association = 64;
  AssociationCaps caps;

  // --- ENRP (RFC 5353) ---
  Duration peer_heartbeat_cycle = std::chrono::milliseconds{30000};   // PEER-HEARTBEAT-CYCLE
  Duration max_time_last_heard = std::chrono::milliseconds{61000};    // MAX-TIME-LAST-HEARD
  Duration max_time_no_response = std::chrono::milliseconds{5000};    // MAX-TIME-NO-RESPONSE
  Duration takeover_expire = std::chrono::milliseconds{5000};         // TAKEOVER-EXPIRE-INTERVAL (rsplib 5 s)
  Duration table_session_timeout = std::chrono::milliseconds{5000};   // idle HANDLE_TABLE session is dropped
  std::size_t handle_table_page_size = 128;  // PEs per HANDLE_TABLE_RESPONSE
  std::size_t max_monitor_sessions = 16;     // monitors' handle table dumps in progress

  // RFC 5353 section 7 timers, RFC 5352 has no audit defaults (rsplib's).
  static RegistrarConfig rfc_defaults(ServerIdentifier id) {
    RegistrarConfig c;
    c.server_id = id;
    return c;
  }
  // rsplib-like fast failure detection (heartbeat 2.444 s, last heard 5 s).
  static RegistrarConfig aggressive(ServerIdentifier id) {
    RegistrarConfig c;
    c.server_id = id;
    c.peer_heartbeat_cycle = std::chrono::milliseconds{2444};
    c.max_time_last_heard = std::chrono::milliseconds{5000};
    c.max_time_no_response = std::chrono::milliseconds{2000};
    c.takeover_expire = std::chrono::milliseconds{3000};
    c.keep_alive_interval = std::chrono::milliseconds{2000};
    c.keep_alive_timeout = std::chrono::milliseconds{2000};
    c.unreachable_report_interval = std::chrono::milliseconds{2000};
    return c;
  }
};

}  // namespace rserpool::registrar
