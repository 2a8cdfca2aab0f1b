#pragma once
// What the sans-I/O ASAP endpoints (PoolElement, PoolUser, Session,
// PeSession) ask their driver to do. Every event method takes the current
// time (rserpool::TimePoint, base/time.hpp) and appends Actions; the driver
// executes them in order. Order matters: a session's failover emits
// COOKIE_ECHO, then the failover callback, then the re-sent data, and the
// driver must keep that order.
//
// Timers are not actions: each core keeps its own in a TimerSet<Timer>
// (base/timer_set.hpp) and exposes next_deadline() and on_timeout(now)
// (docs/architecture.md, "The substrate").
//
// Addressing: an AssocId names an association to a registrar (ENRP server).
// For the configured registrar list, entry k is AssocId k. Associations a
// registrar opens towards us (takeover) get driver-chosen ids at or above
// kInboundAssocBase. A SessionId names one enhanced-mode session.
#include <chrono>
#include <compare>
#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include "rserpool/base/bytes.hpp"
#include "rserpool/base/ip_address.hpp"
#include "rserpool/base/time.hpp"
#include "rserpool/wire/asap.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool::asap {

using AssocId = std::uint32_t;
inline constexpr AssocId kInboundAssocBase = 0x10000;
using SessionId = std::uint32_t;

// The cores' timers: RFC 5352 section 7 (T1-T5, T7), then ours. Cache
// staleness is checked against `now` when the cache is used, so it needs
// no timer.
enum class TimerKind : std::uint8_t {
  t1_enrp_request,    // key = request id
  t2_registration,
  t3_deregistration,
  t4_reregistration,
  t5_server_hunt,
  t7_enrp_outdate,    // key = AssocId of a registrar learned from an announce
  hunt_retry,         // next sweep over the registrar list after a back-off (RFC 5352 3.6 SH4)
  cache_refresh,      // key = watch id: keep a watched pool resolved
  session_silence,    // enhanced mode: the PE has not answered data for silence_timeout
  session_stall_retry,  // enhanced mode: a stalled session asks the registrar again
};
std::string_view to_string(TimerKind k) noexcept;

// A named timer, the key of a core's TimerSet. `key` tells instances of one
// kind apart (T1 runs once per outstanding handle resolution); 0 for the
// single-instance timers.
struct Timer {
  TimerKind kind = TimerKind::t1_enrp_request;
  std::uint32_t key = 0;
  friend auto operator<=>(const Timer&, const Timer&) = default;
};

// Registrar (ENRP server) associations.
struct ConnectRegistrar {
  AssocId assoc = 0;
  TransportAddress address;
};
struct DisconnectRegistrar {
  AssocId assoc = 0;
};
struct SendToRegistrar {
  AssocId assoc = 0;
  wire::asap::Message message;
};

// Enhanced-mode sessions, pool-user side: the association to the current
// PE carries ASAP control messages (PPID 11) and user data (the user PPID).
struct ConnectPe {
  SessionId session = 0;
  PoolElementParameter pe;
};
struct DisconnectPe {
  SessionId session = 0;
};
// The PE stayed silent for silence_timeout after data was sent to it: abort
// the association (SCTP ABORT / TCP reset) and report the hand-back and the
// loss through on_pe_failure() as for any other failure. Data sent to the
// session meanwhile waits in the core.
struct AbortPe {
  SessionId session = 0;
  PeIdentifier pe = 0;
  Duration silent_for{0};
};
struct SendControlToPe {
  SessionId session = 0;
  wire::asap::Message message;
};
struct SendDataToPe {
  SessionId session = 0;
  Bytes data;
  // DATA_SEND pass-through: if the association fails, this message is
  // dropped rather than handed to the failover.
  bool pass_through = false;
};

// Enhanced mode, DATA_SEND "by transport address" (draft-ietf-rserpool-
// service 4.4): a pass-through channel of the session to an address that
// need not be a PE of the pool. No failover, no re-send: what a failed
// channel had not delivered is dropped and reported (PassThroughFailed).
using ChannelId = std::uint32_t;
struct ConnectAddress {
  SessionId session = 0;
  ChannelId channel = 0;
  TransportParameter address;
};
struct SendDataToAddress {
  SessionId session = 0;
  ChannelId channel = 0;
  Bytes data;
};
struct DisconnectAddress {
  SessionId session = 0;
  ChannelId channel = 0;
};

// Enhanced mode, pool-element side: control message to the PU on `pu`, the
// association the driver identifies the PU by.
struct SendControlToPu {
  std::uint32_t pu = 0;
  wire::asap::Message message;
};

// ---- notifications to the application --------------------------------

enum class RegistrationCode : std::uint8_t {
  granted,       // R=0 (causes, if any, are warnings)
  rejected,      // R=1, causes say why
  timeout,       // T2 expired MAX-REG-ATTEMPT times
  no_registrar,  // a server hunt round ended without any registrar up
};
std::string_view to_string(RegistrationCode c) noexcept;

struct RegistrationResult {
  RegistrationCode code = RegistrationCode::granted;
  PeIdentifier pe_id = 0;
  bool renewal = false;  // answer to a re-registration (T4 or policy update)
  std::vector<OperationErrorCause> causes;
};

enum class DeregistrationCode : std::uint8_t { done, refused, timeout };
std::string_view to_string(DeregistrationCode c) noexcept;

struct DeregistrationResult {
  DeregistrationCode code = DeregistrationCode::done;
  PeIdentifier pe_id = 0;
  std::vector<OperationErrorCause> causes;
};

// The PE (or PU) now sends its requests to this registrar.
struct HomeRegistrarChanged {
  AssocId assoc = 0;
  ServerIdentifier server_id = 0;  // 0 when not known (found by the hunt)
};

// Handle resolution finished (answer to a request): call
// get_primary_server() again.
struct PoolResolved {
  PoolHandle pool;
};
// A subscription pushed a new list for a cached pool.
struct PoolUpdated {
  PoolHandle pool;
};
enum class ResolutionFailure : std::uint8_t { unknown_pool, empty_pool, timeout, rejected, no_registrar };
std::string_view to_string(ResolutionFailure f) noexcept;
struct ResolutionFailed {
  PoolHandle pool;
  ResolutionFailure reason = ResolutionFailure::timeout;
  std::vector<OperationErrorCause> causes;
};

// Enhanced mode. The failover callback: the new association is up and the
// cookie (if any) has been echoed; the application may re-synchronise now,
// before the re-sent data goes out.
struct FailoverCallback {
  SessionId session = 0;
  PeIdentifier failed_pe = 0;
  PoolElementParameter new_pe;
};
// Failover finished: the session is served by `new_pe`.
struct FailoverIndication {
  SessionId session = 0;
  PeIdentifier new_pe = 0;
};
// No PE left to fail over to (the pool was re-resolved and is empty, or
// every PE failed); data stays queued until the pool is resolved again.
struct SessionStalled {
  SessionId session = 0;
};
// PE side: the PU echoed a cookie after failing over to us.
struct CookieIndication {
  std::uint32_t pu = 0;
  Bytes cookie;
};
// A pass-through channel failed; `dropped` messages (waiting for the
// connection or handed back by the transport) were not delivered and are
// not re-sent. The session's current PE is not affected.
enum class PassThroughFailure : std::uint8_t { connect_failed, lost };
std::string_view to_string(PassThroughFailure f) noexcept;
struct PassThroughFailed {
  SessionId session = 0;
  ChannelId channel = 0;
  TransportParameter address;
  PassThroughFailure reason = PassThroughFailure::connect_failed;
  std::size_t dropped = 0;
};
// PU side: the PE sent a business card (new failover order).
struct BusinessCardReceived {
  SessionId session = 0;
  std::size_t entries = 0;
};

using Action = std::variant<ConnectRegistrar, DisconnectRegistrar, SendToRegistrar,
                            ConnectPe, DisconnectPe, AbortPe, SendControlToPe, SendDataToPe, SendControlToPu,
                            RegistrationResult, DeregistrationResult, HomeRegistrarChanged, PoolResolved,
                            PoolUpdated, ResolutionFailed, FailoverCallback, FailoverIndication, SessionStalled,
                            CookieIndication, BusinessCardReceived, ConnectAddress, SendDataToAddress,
                            DisconnectAddress, PassThroughFailed>;
using Actions = std::vector<Action>;

}  // namespace rserpool::asap
