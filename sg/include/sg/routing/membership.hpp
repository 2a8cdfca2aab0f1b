#pragma once
// The pool as the registrar shows it (RFC 5351 handle resolution, RFC 5352
// ASAP_HANDLE_RESOLUTION_RESPONSE / subscription updates), and the
// operator's word on each PE. Sans-I/O, driven by the PoolDistributor:
// every new PE list is diffed against the previous one into changes (a PE
// joined, changed its policy values, registered a new user transport, or
// left the handlespace); the operator-drained set lives here because it is
// forgotten when the registrar forgets the PE.
//
// Nothing here decides traffic: the distributor turns these changes into
// member states (docs/gateway.md, "Membership").
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "rserpool/base/time.hpp"
#include "rserpool/wire/types.hpp"

namespace sg {

// How the gateway judges its pool's PEs. Gateway-wide settings derived
// from the timer profile (sgd: `timers`, `pe-beat`, `pe-audit-bound`,
// `pe-suspicion`), not per-pool operator settings.
struct MembershipConfig {
  // Reconnection back-off towards a PE the registrar still lists (doubling
  // from retry_initial up to retry_max), once it is not fenced any more.
  rserpool::Duration retry_initial = std::chrono::milliseconds(1000);
  rserpool::Duration retry_max = std::chrono::milliseconds(10000);
  // Fencing. A PE whose calls failed over is not reconnected until the
  // registrar shows it alive again: it registers anew (leaves and comes
  // back, or registers another user transport), or it is still listed
  // audit_bound after our ENDPOINT_UNREACHABLE: the home registrar audits
  // a reported PE with ENDPOINT_KEEP_ALIVE (RFC 5352 3.7) and removes it
  // when the audit fails, so a PE still listed after the keep-alive timeout
  // plus the time its removal takes to reach us answered the audit. The
  // default matches the RFC 5353 keep-alive timeout (5 s) plus a 5 s
  // re-resolution.
  rserpool::Duration audit_bound = std::chrono::milliseconds(10000);
  // A registrar's loss notice while our link to the PE is up is a failure
  // suspicion: the PE is taken as alive when its link stays up this long
  // (M3UA BEAT would have failed a hung peer by then: 3 x T(beat)).
  rserpool::Duration suspicion = std::chrono::milliseconds(15000);
  // After the fence is lifted (a new registration, the audit bound), what
  // the PE says about calls taken from it at its failure is stale: dropped,
  // counted (DropReason::foreign_call), even once the heir has finished the
  // call. Off only to show what the fence alone does (simulation tests).
  bool drop_stale_of_taken_calls = true;
  friend bool operator==(const MembershipConfig&, const MembershipConfig&) = default;
};

enum class MembershipChange : std::uint8_t {
  joined,          // listed, not listed before
  policy_changed,  // policy values changed (load, weight, ...)
  moved,           // a new user transport: the PE registered anew
  left,            // no longer listed (deregistered, expired, or removed after a failed audit)
};

class Membership {
 public:
  struct Change {
    rserpool::PeIdentifier pe = 0;
    MembershipChange what = MembershipChange::joined;
  };

  // A whole new PE list. Changes come in PE identifier order, departures
  // first (a re-listed PE's `joined` follows its own `left` only across two
  // updates). Duplicate identifiers in one list: the first one counts.
  std::vector<Change> update(std::span<const rserpool::PoolElementParameter> list);

  const rserpool::PoolElementParameter* listed(rserpool::PeIdentifier pe) const;
  std::size_t listed_count() const noexcept { return listings_.size(); }

  // The operator drained the PE: it is no candidate for new flows and is
  // not reconnected while the registrar lists it. Forgotten with the PE.
  void set_operator_drained(rserpool::PeIdentifier pe);
  bool operator_drained(rserpool::PeIdentifier pe) const;

  // The pool's overall policy: the first listed PE's (RFC 5352 2.2.6: all
  // PEs of a pool register one policy type), none when the pool is empty.
  std::optional<rserpool::PolicyParameters> overall_policy() const;
  // The listed PEs the operator did not drain, in identifier order: what
  // the selection policy chooses among (minus those not usable right now).
  std::vector<rserpool::PoolElementParameter> selectable() const;
  // Every listed PE, identifier order, and whether the operator drained it.
  template <class F>
  void for_each(F&& f) const {
    for (const auto& [id, l] : listings_) f(l.parameter, l.operator_drained);
  }

 private:
  struct Listing {
    rserpool::PoolElementParameter parameter;
    bool operator_drained = false;
  };
  std::map<rserpool::PeIdentifier, Listing> listings_;
  std::optional<rserpool::PolicyParameters> overall_;
};

}  // namespace sg
