#pragma once
// What the ASAP and ENRP decoders return when a message cannot be accepted,
// and the limits they enforce against hostile input. A DecodeError says
// which Operation Error cause (RFC 5354 3.13) the receiver should send back,
// or that the message must be dropped silently, and carries the offending
// bytes that go into the cause's information field.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "rserpool/base/bytes.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool::wire {

// Why decoding failed, finer than the Operation Error cause, for logs and
// counters.
enum class DecodeFailure : std::uint8_t {
  truncated,               // shorter than a header or than its own length field
  bad_length,              // a length field below its minimum, or data after the message
  unrecognized_message,    // unknown message type (action from its top two bits)
  unrecognized_parameter,  // unknown parameter type whose top bits say "stop"
  invalid_value,           // a known field or parameter with a value we cannot accept
  missing_parameter,       // a mandatory parameter is absent
  unexpected_parameter,    // a known parameter that has no place here, or repeated
  limit_exceeded,          // more addresses/PEs/causes than we are willing to hold
};

std::string_view to_string(DecodeFailure f) noexcept;

struct DecodeError {
  DecodeFailure failure = DecodeFailure::truncated;
  // The cause to report in an ASAP_ERROR / ENRP_ERROR; nullopt = drop the
  // message silently (RFC 5354 top bits 00, or framing we cannot trust).
  std::optional<ErrorCause> cause;
  // Cause-specific information: the whole message for Unrecognized Message,
  // the complete TLV for Unrecognized Parameter and Invalid Values. Empty
  // when there is nothing to point at (e.g. a missing parameter).
  Bytes offending;
  std::uint8_t message_type = 0;  // type byte of the failed message, 0 if unreadable
  std::string_view detail;        // static text for logs

  bool silent() const noexcept { return !cause.has_value(); }
};

// A successfully decoded message plus the Unrecognized Parameter causes for
// parameters whose type had top bits 11 ("skip and report"): the receiver
// processes `message` and also sends these back in an ERROR.
template <class M>
struct Decoded {
  M message;
  std::vector<OperationErrorCause> unrecognized;
};

// Limits against memory blow-ups from hostile input. A 64 KiB message
// already bounds everything; these keep per-message work predictable.
inline constexpr std::size_t kMaxMessageSize = 0xFFFF;        // 16-bit length field
inline constexpr std::size_t kMaxTransportAddresses = 32;     // per transport TLV
inline constexpr std::size_t kMaxPoolElementsPerMessage = 1024;  // rspregistrar's cap
inline constexpr std::size_t kMaxServersPerMessage = 256;     // LIST_RESPONSE entries
inline constexpr std::size_t kMaxTransportsPerAnnounce = 32;  // SERVER_ANNOUNCE
inline constexpr std::size_t kMaxErrorCauses = 32;            // per Operation Error TLV
inline constexpr std::size_t kMaxUnrecognizedReports = 16;    // "skip and report" per message

}  // namespace rserpool::wire
