#pragma once
// What the registrar core asks its driver to do. Messages are values
// (wire::asap / wire::enrp): the driver encodes each one once, when it
// executes the action. Timers are not actions: the core keeps them and the
// driver asks next_deadline() after every event (docs/architecture.md,
// "The substrate").
#include <compare>
#include <cstdint>
#include <array>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "rserpool/base/bytes.hpp"
#include "rserpool/base/time.hpp"
#include "rserpool/wire/asap.hpp"
#include "rserpool/wire/enrp.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool::registrar {

using AssociationId = std::uint64_t;  // driver's handle for one ASAP association

// What an accepted ENRP association may be (the peer directory decides):
// a peer of the server group, or a monitor that may read the handlespace
// (handle table, server list) and is never a peer.
enum class EnrpRole : std::uint8_t { peer, monitor };

// A HANDLE_RESOLUTION_RESPONSE whose Pool Element parameters are already
// encoded: the handlespace keeps each PE's encoded TLV, so answering a
// resolution copies bytes instead of building PE values. The views point
// into the core's handlespace and stay valid until the next call into the
// core: a driver encodes the actions of one call before it feeds the next
// event (encode() below).
// The pool handle is a view too (the handlespace's copy of it).
//
// The views of the first kInline PEs are held inline, so an answer of the
// default size (3 items) allocates nothing (issue 16).
class EncodedElements {
 public:
  static constexpr std::size_t kInline = 4;
  void push_back(ByteView v) {
    if (n_ < kInline && spill_.empty()) {
      inline_[n_++] = v;
      return;
    }
    if (spill_.empty()) spill_.assign(inline_.begin(), inline_.begin() + static_cast<std::ptrdiff_t>(n_));
    spill_.push_back(v);
    ++n_;
  }
  std::span<const ByteView> view() const noexcept {
    return spill_.empty() ? std::span<const ByteView>(inline_.data(), n_) : std::span<const ByteView>(spill_);
  }
  std::size_t size() const noexcept { return n_; }
  bool empty() const noexcept { return n_ == 0; }
  ByteView operator[](std::size_t i) const noexcept { return view()[i]; }

 private:
  std::array<ByteView, kInline> inline_{};
  std::size_t n_ = 0;
  std::vector<ByteView> spill_;
};

struct ResolutionAnswer {
  bool accepted = false;  // A flag: subscription accepted
  ByteView pool_handle;   // the handle's bytes in the handlespace
  // The pool's policy type: the overall policy parameter carries the type
  // and no values (a PolicyParameters per answer cost its construction,
  // copy and destruction, issue 16).
  std::optional<PolicyType> overall_policy;
  EncodedElements pool_elements;  // encoded Pool Element parameters
};

// A REGISTRATION_RESPONSE granting a registration (no Operation Error),
// built in place in the action list: the pool handle is a view of the
// handlespace's copy (valid as ResolutionAnswer's views are), so answering
// a registration copies no PoolHandle and moves no Message (issue 16).
struct RegistrationAnswer {
  ByteView pool_handle;
  PeIdentifier pe_id = 0;
};

// What goes out on an ASAP association: any ASAP message, or an answer
// whose parts are views into the handlespace (a resolution from cached PE
// parameters, a granted registration).
using AsapOut = std::variant<wire::asap::Message, ResolutionAnswer, RegistrationAnswer>;

// Appends the message to `out` (one SCTP user message, padded to 4).
void encode_into(const AsapOut& m, Bytes& out);
Bytes encode(const AsapOut& m);

// One ASAP message on an association the driver told us about.
struct SendAsap {
  SendAsap() = default;
  SendAsap(AssociationId a, AsapOut m) : association(a), message(std::move(m)) {}
  // The message built in place (the core's answers: no default Message
  // constructed and destroyed first, no move).
  template <class T, class... Args>
  SendAsap(AssociationId a, std::in_place_type_t<T> t, Args&&... args)
      : association(a), message(t, std::forward<Args>(args)...) {}
  AssociationId association = 0;
  AsapOut message;
};
// An ASAP message to a PE we have no association with (taken over from a
// dead peer): the driver connects to the PE's ASAP transport.
struct SendAsapToElement {
  PoolHandle pool;
  PeIdentifier pe = 0;
  TransportParameter asap_transport;
  wire::asap::Message message;
};
// One ENRP message to one peer (the driver maps server id -> association).
// Group-casts are expanded by the core into one action per peer.
struct SendEnrp {
  ServerIdentifier peer = 0;
  wire::enrp::Message message;
};

// Abort an ASAP association: refused at admission (caps), or an idle client
// making way for a newcomer (config.hpp, AssociationCaps).
struct AbortAsap {
  AssociationId association = 0;
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
  // A PE that MAX-BAD-PE-REPORT distinct associations reported unreachable
  // answered its audit: kept (RFC 5352 3.5 with the RFC 5355 2.1 threat in mind).
  pe_reported_but_answering,
  // A REGISTRATION for a PE identifier that another live association owns:
  // refused with 0x4 (pool, pe; `association` is the one refused).
  pe_identity_conflict,
  // Association caps (`association` concerned, `server` unused): refused
  // because its source address holds max_per_address, refused because the
  // registrar is full with no idle client to evict, evicted as the longest
  // idle client to make room.
  asap_association_refused_per_address,
  asap_association_refused_full,
  asap_association_evicted,
  // An ASAP / ENRP message that could not be decoded (answered or dropped
  // by the codec's rule, counted by cause).
  asap_message_malformed,
  enrp_message_malformed,
};
std::string_view to_string(Event e) noexcept;

struct Notify {
  Event event = Event::pe_registered;
  PoolHandle pool;
  PeIdentifier pe = 0;
  ServerIdentifier server = 0;     // peer / takeover target / initiator
  AssociationId association = 0;  // the ASAP association concerned, when there is one
};

using Action = std::variant<SendAsap, SendAsapToElement, SendEnrp, AbortAsap, Notify>;

// The core's named timers, for inspection (Registrar::deadline()). Drivers
// need none of this: they arm one OS timer at next_deadline().
enum class TimerKind : std::uint8_t {
  lifetime_expiry,  // next registration life end (ASAP server)
  keep_alive,       // next keep-alive audit send or ACK deadline (ASAP server)
  peer_heartbeat,   // PEER-HEARTBEAT-CYCLE (ENRP peering)
  peer_monitor,     // per peer: MAX-TIME-LAST-HEARD / MAX-TIME-NO-RESPONSE (ENRP peering)
  table_request,    // per peer: our HANDLE_TABLE download stalls (ENRP peering)
  takeover,         // per target: TAKEOVER-EXPIRE-INTERVAL (takeover)
  orphan_check,     // per silent peer that still owns PEs after someone else's takeover (takeover)
};
std::string_view to_string(TimerKind k) noexcept;

struct TimerKey {
  TimerKind kind = TimerKind::lifetime_expiry;
  ServerIdentifier peer = 0;  // for per-peer timers
  friend auto operator<=>(const TimerKey&, const TimerKey&) = default;
};

}  // namespace rserpool::registrar
