#pragma once
// M3UA (RFC 4666) numbers: message classes and types, parameter tags, error
// codes, NTFY status, traffic modes and RKM status values. Enumerations keep
// the 32/16-bit wire width so that values we do not know survive a decode and
// can be answered (e.g. an unsupported traffic mode gets ERR 0x05).
#include <cstdint>
#include <string_view>

namespace mxua {

inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::uint32_t kPpid = 3;        // SCTP payload protocol identifier
inline constexpr std::uint16_t kSctpPort = 2905;  // SCTP and TCP
inline constexpr std::size_t kHeaderSize = 8;
inline constexpr std::size_t kDiagnosticBytes = 40;  // first 40 bytes for ERR 0x03/0x04

enum class MessageClass : std::uint8_t { Mgmt = 0, Transfer = 1, Ssnm = 2, Aspsm = 3, Asptm = 4, Rkm = 9 };

namespace type {
// MGMT
inline constexpr std::uint8_t kErr = 0, kNtfy = 1;
// Transfer
inline constexpr std::uint8_t kData = 1;
// SSNM
inline constexpr std::uint8_t kDuna = 1, kDava = 2, kDaud = 3, kScon = 4, kDupu = 5, kDrst = 6;
// ASPSM
inline constexpr std::uint8_t kAspUp = 1, kAspDn = 2, kBeat = 3, kAspUpAck = 4, kAspDnAck = 5, kBeatAck = 6;
// ASPTM
inline constexpr std::uint8_t kAspAc = 1, kAspIa = 2, kAspAcAck = 3, kAspIaAck = 4;
// RKM
inline constexpr std::uint8_t kRegReq = 1, kRegRsp = 2, kDeregReq = 3, kDeregRsp = 4;
}  // namespace type

enum class Tag : std::uint16_t {
  InfoString = 0x0004,
  RoutingContext = 0x0006,
  DiagnosticInformation = 0x0007,
  HeartbeatData = 0x0009,
  TrafficModeType = 0x000b,
  ErrorCode = 0x000c,
  Status = 0x000d,
  AspIdentifier = 0x0011,
  AffectedPointCode = 0x0012,
  CorrelationId = 0x0013,
  NetworkAppearance = 0x0200,
  UserCause = 0x0204,
  CongestionIndications = 0x0205,
  ConcernedDestination = 0x0206,
  RoutingKey = 0x0207,
  RegistrationResult = 0x0208,
  DeregistrationResult = 0x0209,
  LocalRkIdentifier = 0x020a,
  DestinationPointCode = 0x020b,
  ServiceIndicators = 0x020c,
  OriginatingPointCodeList = 0x020e,
  ProtocolData = 0x0210,
  RegistrationStatus = 0x0212,
  DeregistrationStatus = 0x0213,
};

enum class ErrorCode : std::uint32_t {
  InvalidVersion = 0x01,
  UnsupportedMessageClass = 0x03,
  UnsupportedMessageType = 0x04,
  UnsupportedTrafficModeType = 0x05,
  UnexpectedMessage = 0x06,
  ProtocolError = 0x07,
  InvalidStreamIdentifier = 0x09,
  RefusedManagementBlocking = 0x0d,
  AspIdentifierRequired = 0x0e,
  InvalidAspIdentifier = 0x0f,
  InvalidParameterValue = 0x11,
  ParameterFieldError = 0x12,
  UnexpectedParameter = 0x13,
  DestinationStatusUnknown = 0x14,
  InvalidNetworkAppearance = 0x15,
  MissingParameter = 0x16,
  InvalidRoutingContext = 0x19,
  NoConfiguredAsForAsp = 0x1a,
};

enum class TrafficMode : std::uint32_t { Override = 1, Loadshare = 2, Broadcast = 3 };
constexpr bool is_known(TrafficMode m) noexcept {
  return m == TrafficMode::Override || m == TrafficMode::Loadshare || m == TrafficMode::Broadcast;
}

enum class StatusType : std::uint16_t { AsStateChange = 1, Other = 2 };
namespace status_info {
// Status Type 1: the new AS state
inline constexpr std::uint16_t kAsInactive = 2, kAsActive = 3, kAsPending = 4;
// Status Type 2
inline constexpr std::uint16_t kInsufficientAspResources = 1, kAlternateAspActive = 2, kAspFailure = 3;
}  // namespace status_info

enum class RegistrationStatus : std::uint32_t {
  Success = 0,
  Unknown = 1,
  InvalidDpc = 2,
  InvalidNetworkAppearance = 3,
  InvalidRoutingKey = 4,
  PermissionDenied = 5,
  CannotSupportUniqueRouting = 6,
  NotCurrentlyProvisioned = 7,
  InsufficientResources = 8,
  UnsupportedRkParameterField = 9,
  UnsupportedTrafficHandlingMode = 10,
  RoutingKeyChangeRefused = 11,
  AlreadyRegistered = 12,
};

enum class DeregistrationStatus : std::uint32_t {
  Success = 0,
  Unknown = 1,
  InvalidRoutingContext = 2,
  PermissionDenied = 3,
  NotRegistered = 4,
  AspCurrentlyActive = 5,
};

// DUPU Unavailability Cause
enum class UnavailabilityCause : std::uint16_t { Unknown = 0, UnequippedRemoteUser = 1, InaccessibleRemoteUser = 2 };

// Service indicator values used as MTP3-User Identity (RFC 4666 3.4.5).
namespace si {
inline constexpr std::uint8_t kSccp = 3, kTup = 4, kIsup = 5, kBroadbandIsup = 9, kSatelliteIsup = 10,
                              kAal2 = 12, kBicc = 13, kGcp = 14;
}

std::string_view message_name(std::uint8_t msg_class, std::uint8_t msg_type) noexcept;
std::string_view to_string(ErrorCode c) noexcept;
std::string_view to_string(TrafficMode m) noexcept;
std::string_view to_string(RegistrationStatus s) noexcept;
std::string_view to_string(DeregistrationStatus s) noexcept;

}  // namespace mxua
