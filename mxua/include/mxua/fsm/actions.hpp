#pragma once
// Events go into the sans-I/O M3UA cores, Actions come out
// (docs/architecture.md, "The substrate"). Every event carries `now`
// (rserpool::TimePoint); nothing reads a clock. A core keeps its own timers
// (T(ack), T(r), T(beat), the request back-off) in a TimerSet and exposes
// next_deadline() and on_timeout(now); the driver arms one OS timer per core
// at next_deadline() after each event.
//
// Messages leave a core as values (Send: any M3UA message; SendData: a DATA
// message, borrowed or owned): the driver encodes once, at the edge, with
// PPID 3 on the given stream.
#include <array>
#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "mxua/messages.hpp"
#include "rserpool/base/time.hpp"

namespace mxua {

using rserpool::Duration;
using rserpool::TimePoint;
using Millis = std::chrono::milliseconds;  // configuration values
// One association, as the driver names it: unique in the process, never
// reused, never 0 for a real association.
using AssocId = std::uint32_t;

enum class AspState : std::uint8_t { Down, Inactive, Active };
enum class AsState : std::uint8_t { Down, Inactive, Active, Pending };
std::string_view to_string(AspState s) noexcept;
std::string_view to_string(AsState s) noexcept;

// The timers of RFC 4666 (4.3.4.1-4.3.4.6 T(ack), 4.3.2 T(r), 4.3.4.6
// T(beat)) and the back-off before a refused request is tried again.
// A core's TimerSet is keyed by (kind, id): id is the association for
// T(ack), T(beat) and the back-off, the routing context for T(r).
enum class TimerKind : std::uint8_t { Tack, Tr, Tbeat, Retry };
struct TimerKey {
  TimerKind kind = TimerKind::Tack;
  std::uint32_t id = 0;
  friend constexpr bool operator==(const TimerKey&, const TimerKey&) = default;
  friend constexpr auto operator<=>(const TimerKey&, const TimerKey&) = default;
};
std::string_view timer_name(TimerKind k) noexcept;  // "T(ack)", "T(r)", "T(beat)", "retry"

// One M3UA message to the association's peer, on `stream`.
struct Send {
  AssocId assoc = 0;
  std::uint16_t stream = 0;
  Message message;
};
// One DATA message. `data` borrows from the event's input (the received
// bytes, the caller's DataView) and is valid until the actions of that
// event have been executed; `owned` holds a message the core kept (the
// AS-PENDING queue) and is what view() returns when set.
struct SendData {
  AssocId assoc = 0;
  std::uint16_t stream = 0;
  DataView data;
  std::optional<Data> owned;
  DataView view() const noexcept { return owned ? to_view(*owned) : data; }
};

struct AspStateChanged {
  AssocId assoc = 0;
  std::optional<std::uint32_t> routing_context;  // nullopt: the ASP as a whole (ASPSM level)
  AspState from = AspState::Down;
  AspState to = AspState::Down;
};
struct AsStateChanged {
  std::uint32_t routing_context = 0;
  AsState from = AsState::Down;
  AsState to = AsState::Down;
};
struct DataIndication {
  AssocId assoc = 0;
  std::uint32_t routing_context = 0;  // the AS the DATA belongs to (0 if none was determined)
  Data data;
};
struct NtfyIndication {
  AssocId assoc = 0;
  Ntfy ntfy;
};
// An ERR the peer sent us (already counted by code by the core).
struct ErrIndication {
  AssocId assoc = 0;
  Err err;
};

enum class DestinationAvailability : std::uint8_t { Available, Unavailable, Restricted };
struct DestinationStateChanged {
  AssocId assoc = 0;
  MaskedPointCode destination;
  DestinationAvailability availability = DestinationAvailability::Available;
  std::uint8_t congestion_level = 0;
  std::optional<UserCause> user_unavailable;  // DUPU
};
struct RegistrationIndication {
  AssocId assoc = 0;
  RoutingKey key;             // at the SGP: the key registered; at the ASP: empty except local_rk_id
  RegistrationResult result;
};
struct DeregistrationIndication {
  AssocId assoc = 0;
  DeregistrationResult result;
};
// A request (ASPUP, ASPAC, ASPIA, ASPDN) failed: T(ack) retries exhausted
// (error nullopt) or the peer answered with an ERR. `retry_at`: when the
// ASP core sends it again (its growing back-off), nullopt when it gives up.
struct RequestFailed {
  AssocId assoc = 0;
  MessageId request;
  std::optional<ErrorCode> error;
  std::optional<TimePoint> retry_at;
};
// No BEAT ACK or other message within 2 x T(beat): the driver should abort
// the association (and then report association_down).
struct PeerUnavailable {
  AssocId assoc = 0;
};
// The SGP refuses the association at once (its peer addresses do not all
// belong to one configured peer, or its peer holds all the associations it
// may), closes an older idle one of the same peer to make room for a
// newcomer, or resets one whose peer sends DATA without ever having sent
// ASP Up on it (SgpConfig::reset_on_data_before_asp_up): the driver aborts it.
struct AssociationRefused {
  enum class Why : std::uint8_t { not_a_peer, peer_full, evicted, data_before_asp_up };
  AssocId assoc = 0;
  Why why = Why::not_a_peer;
};

enum class DropReason : std::uint8_t {
  Malformed,          // decode failed (an ERR was sent unless the offender was an ERR)
  InvalidStream,      // DATA on stream 0 or management off stream 0
  BeforeAspUp,        // message from/for an ASP that is not up
  NotActive,          // DATA for an AS the ASP is not active in
  UnexpectedMessage,  // message not valid in this role/state
  UnknownAssociation,
  NoRoutingKey,       // SS7 -> ASP: no AS matches (DPC, OPC, SI, NA) / RC
  NoActiveAsp,        // AS inactive or down
  QueueFull,          // AS-PENDING queue at its limit
  TrExpired,          // queued while AS-PENDING and T(r) expired
  NoDataStream,       // fewer than 2 outbound streams: DATA cannot avoid stream 0
  OpcScreened,        // DATA whose OPC the peer may not use (per-peer OPC screening)
  Count_
};
inline constexpr std::size_t kDropReasons = static_cast<std::size_t>(DropReason::Count_);
std::string_view to_string(DropReason r) noexcept;

struct Drop {
  AssocId assoc = 0;
  DropReason reason = DropReason::Malformed;
  std::uint32_t count = 1;
};

using Action = std::variant<Send, SendData, AspStateChanged, AsStateChanged, DataIndication, NtfyIndication,
                            ErrIndication, DestinationStateChanged, RegistrationIndication, DeregistrationIndication,
                            RequestFailed, PeerUnavailable, AssociationRefused, Drop>;
using Actions = std::vector<Action>;

// Drop counters by reason, kept by every state machine for the CLI.
struct DropCounters {
  std::array<std::uint64_t, kDropReasons> by_reason{};
  std::uint64_t operator[](DropReason r) const noexcept { return by_reason[static_cast<std::size_t>(r)]; }
  void add(DropReason r, std::uint64_t n = 1) noexcept { by_reason[static_cast<std::size_t>(r)] += n; }
  std::uint64_t total() const noexcept {
    std::uint64_t n = 0;
    for (auto v : by_reason) n += v;
    return n;
  }
};

// ERR messages by error code (RFC 4666 3.8.1 codes are below 0x20), sent
// and received, kept by every state machine for the CLI and metrics.
struct ErrCounters {
  static constexpr std::size_t kCodes = 0x20;
  std::array<std::uint64_t, kCodes> sent{};
  std::array<std::uint64_t, kCodes> received{};
  std::uint64_t sent_other = 0, received_other = 0;  // codes outside the table
  static std::size_t slot(ErrorCode c) noexcept { return static_cast<std::size_t>(c); }
  void count_sent(ErrorCode c) noexcept {
    if (slot(c) < kCodes) ++sent[slot(c)]; else ++sent_other;
  }
  void count_received(ErrorCode c) noexcept {
    if (slot(c) < kCodes) ++received[slot(c)]; else ++received_other;
  }
  std::uint64_t sent_of(ErrorCode c) const noexcept { return slot(c) < kCodes ? sent[slot(c)] : 0; }
  std::uint64_t received_of(ErrorCode c) const noexcept { return slot(c) < kCodes ? received[slot(c)] : 0; }
};

// Stream for DATA of one SLS: never stream 0 (management), and one SLS always
// maps to the same stream so its messages stay in order.
constexpr std::optional<std::uint16_t> data_stream(std::uint8_t sls, std::uint16_t outbound_streams) noexcept {
  if (outbound_streams < 2) return std::nullopt;
  return static_cast<std::uint16_t>(1U + sls % (outbound_streams - 1U));
}

// Whether RFC 4666 wants this message on stream 0 (ASPSM except BEAT and
// BEAT ACK, RKM and ERR); DATA must never use stream 0.
constexpr bool wants_stream_zero(std::uint8_t msg_class, std::uint8_t msg_type) noexcept {
  if (msg_class == 3) return msg_type != type::kBeat && msg_type != type::kBeatAck;
  if (msg_class == 9) return true;
  return msg_class == 0 && msg_type == type::kErr;
}

}  // namespace mxua
