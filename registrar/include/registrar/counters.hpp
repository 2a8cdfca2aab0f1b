#pragma once
// Protocol counters of one registrar core (its three entities share them).
// Drivers export them (CLI `show counters`, Prometheus).
#include <array>
#include <cstdint>

namespace rserpool::registrar {

struct Counters {
  // ASAP
  std::uint64_t registrations = 0, registrations_rejected = 0, reregistrations = 0;
  std::uint64_t deregistrations = 0, deregistrations_rejected = 0;
  std::uint64_t resolutions = 0, resolutions_unknown_pool = 0, resolutions_rate_limited = 0;
  std::uint64_t registrations_rate_limited = 0;
  // Registered user-transport addresses dropped because the registering
  // association does not carry them (check_pe_addresses).
  std::uint64_t foreign_addresses_removed = 0;
  std::uint64_t unreachable_reports = 0, unreachable_rate_limited = 0;
  // ENDPOINT_UNREACHABLE -> audit (RFC 5352 3.5): audits started by a
  // report, PEs removed because the audit failed, reported PEs that answered.
  std::uint64_t unreachable_audits = 0, unreachable_removals = 0, unreachable_refuted = 0;
  // PE identity: registrations of an identifier another live association
  // owns (refused, 0x4); KEEP_ALIVE_ACKs for a PE from an association that
  // may not speak for it (ignored).
  std::uint64_t registrations_refused_owned = 0, keep_alive_acks_foreign = 0;
  // KEEP_ALIVE_ACKs for a PE the handlespace no longer lists (removed by a
  // failed audit while it was hung): answered with an unsolicited
  // DEREGISTRATION_RESPONSE so the PE registers again.
  std::uint64_t keep_alive_acks_unregistered = 0;
  std::uint64_t keep_alives_sent = 0, keep_alive_acks = 0, keep_alive_timeouts = 0;
  std::uint64_t expirations = 0, subscription_updates = 0;
  std::uint64_t asap_unexpected = 0, asap_errors_received = 0;
  std::uint64_t asap_unknown_association = 0;  // messages on an association not admitted: dropped
  // Association caps (AssociationCaps): refused by source address, refused
  // full, idle clients evicted to make room; subscriptions refused (A=0).
  std::uint64_t associations_refused_per_address = 0, associations_refused_full = 0, associations_evicted = 0;
  std::uint64_t subscriptions_refused = 0;
  // Resolution answers cut short by max_resolution_bytes.
  std::uint64_t resolutions_truncated = 0;
  // Decode failures by the cause answered (index = ErrorCause, 11 = silent).
  std::array<std::uint64_t, 12> asap_decode_errors{};
  std::array<std::uint64_t, 12> enrp_decode_errors{};
  // ENRP
  std::uint64_t enrp_received = 0, enrp_misaddressed = 0, enrp_errors_received = 0;
  std::uint64_t updates_sent = 0, updates_applied = 0, updates_ignored = 0;
  std::uint64_t checksum_mismatches = 0, resyncs = 0, takeovers_won = 0, takeovers_aborted = 0;
  std::uint64_t peers_dead = 0;
  // Monitors (read-only ENRP clients): table and list requests served,
  // other messages ignored.
  std::uint64_t monitor_requests = 0, monitor_ignored = 0;
  // Initial synchronisation (RFC 5353 3.3): pages and PEs received from the mentor.
  std::uint64_t mentor_pages = 0, mentor_elements = 0;
};

}  // namespace rserpool::registrar
