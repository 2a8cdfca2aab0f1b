#pragma once
// Events go into the sans-I/O M3UA state machines, Actions come out. The
// driver maps Send to its transport (PPID 3, the given stream), runs the
// timers on its clock and feeds expiries back with timer_expired(). Time is
// virtual: every event carries `now`, nothing reads a clock.
#include <array>
#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "mxua/messages.hpp"

namespace mxua {

using Millis = std::chrono::milliseconds;
using TimePoint = std::chrono::milliseconds;  // virtual time since an arbitrary epoch
using AssocId = std::uint32_t;

enum class AspState : std::uint8_t { Down, Inactive, Active };
enum class AsState : std::uint8_t { Down, Inactive, Active, Pending };
std::string_view to_string(AspState s) noexcept;
std::string_view to_string(AsState s) noexcept;

// Timers carry the RFC names: T(ack) per association, T(r) per AS (by RC),
// T(beat) per association.
enum class TimerKind : std::uint8_t { Tack, Tr, Tbeat };
struct TimerId {
  TimerKind kind = TimerKind::Tack;
  AssocId assoc = 0;
  std::uint32_t rc = 0;
  friend constexpr bool operator==(const TimerId&, const TimerId&) = default;
  friend constexpr auto operator<=>(const TimerId&, const TimerId&) = default;
};
std::string_view timer_name(TimerKind k) noexcept;  // "T(ack)", "T(r)", "T(beat)"

struct Send {
  AssocId assoc = 0;
  std::uint16_t stream = 0;
  Bytes bytes;  // one encoded M3UA message
};
// (Re)starts the timer: a running timer with the same id is replaced.
struct StartTimer {
  TimerId id;
  Millis duration{0};
};
struct StopTimer {
  TimerId id;
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
// (error nullopt) or the peer answered with an ERR.
struct RequestFailed {
  AssocId assoc = 0;
  MessageId request;
  std::optional<ErrorCode> error;
};
// No BEAT ACK or other message within 2 x T(beat): the driver should abort
// the association (and then report association_down).
struct PeerUnavailable {
  AssocId assoc = 0;
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
  Count_
};
inline constexpr std::size_t kDropReasons = static_cast<std::size_t>(DropReason::Count_);
std::string_view to_string(DropReason r) noexcept;

struct Drop {
  AssocId assoc = 0;
  DropReason reason = DropReason::Malformed;
  std::uint32_t count = 1;
};

using Action = std::variant<Send, StartTimer, StopTimer, AspStateChanged, AsStateChanged, DataIndication,
                            NtfyIndication, ErrIndication, DestinationStateChanged, RegistrationIndication,
                            DeregistrationIndication, RequestFailed, PeerUnavailable, Drop>;
using Actions = std::vector<Action>;

// Drop counters by reason, kept by every state machine for the CLI.
struct DropCounters {
  std::array<std::uint64_t, kDropReasons> by_reason{};
  std::uint64_t operator[](DropReason r) const noexcept { return by_reason[static_cast<std::size_t>(r)]; }
  void add(DropReason r, std::uint64_t n = 1) noexcept { by_reason[static_cast<std::size_t>(r)] += n; }
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
