#pragma once
// ASAP messages (RFC 5352 section 2) as C++ values, and their codec.
// Sans-I/O: encode() turns a value into the bytes of one SCTP user message
// (padded to 4), decode() turns received bytes back into a value or into a
// DecodeError that says how to answer (see decode_error.hpp).
//
// Optional parameters are std::optional; an empty `error` vector means "no
// Operation Error parameter". Flag bits that the RFC does not define for a
// type are sent as 0 and ignored on receipt.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "rserpool/base/bytes.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/wire/decode_error.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool::wire::asap {

enum class MessageType : std::uint8_t {
  registration = 0x01,
  deregistration = 0x02,
  registration_response = 0x03,
  deregistration_response = 0x04,
  handle_resolution = 0x05,
  handle_resolution_response = 0x06,
  endpoint_keep_alive = 0x07,
  endpoint_keep_alive_ack = 0x08,
  endpoint_unreachable = 0x09,
  server_announce = 0x0a,
  cookie = 0x0b,
  cookie_echo = 0x0c,
  business_card = 0x0d,
  error = 0x0e,
};

std::string_view to_string(MessageType t) noexcept;

// Flag bits (RFC 5352 2.2.3, 2.2.5, 2.2.6, 2.2.7).
inline constexpr std::uint8_t kRejectFlag = 0x01;     // R, REGISTRATION_RESPONSE
inline constexpr std::uint8_t kSubscribeFlag = 0x01;  // S, HANDLE_RESOLUTION
inline constexpr std::uint8_t kAcceptFlag = 0x01;     // A, HANDLE_RESOLUTION_RESPONSE
inline constexpr std::uint8_t kHomeFlag = 0x01;       // H, ENDPOINT_KEEP_ALIVE

struct Registration {
  PoolHandle pool_handle;
  PoolElementParameter pool_element;
  friend bool operator==(const Registration&, const Registration&) = default;
};

struct Deregistration {
  PoolHandle pool_handle;
  PeIdentifier pe_id = 0;
  friend bool operator==(const Deregistration&, const Deregistration&) = default;
};

struct RegistrationResponse {
  bool rejected = false;  // R flag
  PoolHandle pool_handle;
  PeIdentifier pe_id = 0;
  // With R=0 the causes are warnings (the server changed some values).
  std::vector<OperationErrorCause> error;
  friend bool operator==(const RegistrationResponse&, const RegistrationResponse&) = default;
};

struct DeregistrationResponse {
  PoolHandle pool_handle;
  PeIdentifier pe_id = 0;
  std::vector<OperationErrorCause> error;
  friend bool operator==(const DeregistrationResponse&, const DeregistrationResponse&) = default;
};

struct HandleResolution {
  bool subscribe = false;  // S flag: push updates for the life of the association
  PoolHandle pool_handle;
  // Handle Resolution Option 0x803f: how many PEs the requester wants.
  std::optional<std::uint32_t> items;
  friend bool operator==(const HandleResolution&, const HandleResolution&) = default;
};

struct HandleResolutionResponse {
  bool accepted = false;  // A flag: subscription accepted
  PoolHandle pool_handle;
  // The pool's overall policy; absent means Round Robin (RFC 5352 2.2.6).
  std::optional<PolicyParameters> overall_policy;
  std::vector<PoolElementParameter> pool_elements;
  std::vector<OperationErrorCause> error;  // non-empty = negative answer
  friend bool operator==(const HandleResolutionResponse&, const HandleResolutionResponse&) = default;
};

struct EndpointKeepAlive {
  bool home = false;  // H flag: "adopt me as your home ENRP server"
  ServerIdentifier server_id = 0;
  PoolHandle pool_handle;
  // Not in RFC 5352 2.2.7, but rspregistrar sends the PE Identifier of the
  // addressed PE here (see tests/captures); accepted and sent when set.
  std::optional<PeIdentifier> pe_id;
  friend bool operator==(const EndpointKeepAlive&, const EndpointKeepAlive&) = default;
};

struct EndpointKeepAliveAck {
  PoolHandle pool_handle;
  PeIdentifier pe_id = 0;
  friend bool operator==(const EndpointKeepAliveAck&, const EndpointKeepAliveAck&) = default;
};

struct EndpointUnreachable {
  PoolHandle pool_handle;
  PeIdentifier pe_id = 0;
  friend bool operator==(const EndpointUnreachable&, const EndpointUnreachable&) = default;
};

struct ServerAnnounce {
  ServerIdentifier server_id = 0;
  // SCTP or TCP only (RFC 5352 2.2.10). Empty = the packet's source address,
  // SCTP, well-known port.
  std::vector<TransportParameter> transports;
  friend bool operator==(const ServerAnnounce&, const ServerAnnounce&) = default;
};

struct Cookie {
  Bytes cookie;
  friend bool operator==(const Cookie&, const Cookie&) = default;
};

struct CookieEcho {
  Bytes cookie;
  friend bool operator==(const CookieEcho&, const CookieEcho&) = default;
};

struct BusinessCard {
  PoolHandle pool_handle;
  std::vector<PoolElementParameter> pool_elements;  // preferred failover order
  friend bool operator==(const BusinessCard&, const BusinessCard&) = default;
};

struct Error {
  std::vector<OperationErrorCause> causes;
  friend bool operator==(const Error&, const Error&) = default;
};

using Message = std::variant<Registration, Deregistration, RegistrationResponse, DeregistrationResponse,
                             HandleResolution, HandleResolutionResponse, EndpointKeepAlive, EndpointKeepAliveAck,
                             EndpointUnreachable, ServerAnnounce, Cookie, CookieEcho, BusinessCard, Error>;

MessageType message_type(const Message& m) noexcept;

// Appends one message, padded to a multiple of 4, to `out`. Throws
// std::length_error if the message would not fit the 16-bit length field
// (split HANDLE_RESOLUTION_RESPONSEs before that).
void encode_into(const Message& m, Bytes& out);
Bytes encode(const Message& m);

// Fast path for the registrar: appends a HANDLE_RESOLUTION_RESPONSE built
// from PE parameters that were encoded once with
// encode_parameter(PoolElementParameter) and cached, instead of from
// PoolElementParameter values. Same bytes as encode_into() of the
// equivalent HandleResolutionResponse without Operation Error.
void encode_resolution_response(Bytes& out, bool accepted, const PoolHandle& pool_handle,
                                const std::optional<PolicyParameters>& overall_policy,
                                std::span<const ByteView> encoded_pool_elements);
// The same with the pool handle's bytes as a view (the registrar answers
// with the handlespace's copy of the handle, not a new PoolHandle).
void encode_resolution_response(Bytes& out, bool accepted, ByteView pool_handle,
                                const std::optional<PolicyParameters>& overall_policy,
                                std::span<const ByteView> encoded_pool_elements);

// The same with the overall policy given by its type alone, as the
// registrar sends it (a PolicyParameters of that type and no values: the
// type and zeros, or for an unknown type the type alone): no policy value
// is built per answer.
void encode_resolution_response(Bytes& out, bool accepted, ByteView pool_handle,
                                std::optional<PolicyType> overall_policy,
                                std::span<const ByteView> encoded_pool_elements);

// Fast path for the registrar: appends the REGISTRATION_RESPONSE granting
// a registration (no Operation Error), the pool handle as a view. Same
// bytes as encode_into() of the equivalent RegistrationResponse.
void encode_registration_response(Bytes& out, ByteView pool_handle, PeIdentifier pe_id);

// A HANDLE_RESOLUTION decoded into views of the received bytes, for the
// registrar's hot path (issue 16: no allocation per resolution). Only the
// plain form is taken: a valid header, the Pool Handle parameter (1 to
// kMaxPoolHandleSize bytes), optionally followed by one Handle Resolution
// Option, nothing else. Anything else (other order, unknown or repeated
// parameters, errors) gives nullopt, and the caller decode()s the message,
// which answers it by the full rules. Where this gives a view, decode()
// gives the equal HandleResolution with nothing to report.
struct HandleResolutionView {
  bool subscribe = false;
  ByteView pool_handle;  // the handle's bytes, inside the message
  std::optional<std::uint32_t> items;
};
std::optional<HandleResolutionView> decode_handle_resolution_view(ByteView data) noexcept;

// A REGISTRATION decoded for the registrar's hot path (issue 16): the pool
// handle as a view into the received bytes, the PE parameter decoded
// straight into the value the handlespace will keep (no Message, no
// PoolHandle, no parameter bookkeeping). Only the plain form is taken: a
// valid header, the Pool Handle parameter (1 to kMaxPoolHandleSize bytes),
// then one Pool Element parameter, nothing else, and nothing in the PE
// parameter to skip or report. Anything else gives nullopt and the caller
// decode()s the message. Where this gives a value, decode() gives the
// equal Registration with nothing to report.
struct RegistrationView {
  ByteView pool_handle;  // the handle's bytes, inside the message
  PoolElementParameter pool_element;
};
std::optional<RegistrationView> decode_registration_view(ByteView data);
// The same into `into` (true: decoded; false: take decode()). Its pool
// element is reset to a fresh value first; with up to
// AddressList::kInline addresses per transport decoding allocates
// nothing. On false, `into` holds no meaningful value.
bool decode_registration_view(ByteView data, RegistrationView& into);
// The two readers behind it, public for the test that they agree:
// decode_registration_straight() takes only the common shape (the handle,
// then a PE parameter with an SCTP, TCP, UDP or UDP-Lite user transport of
// 1-4 addresses, a known policy with exactly its values, optionally an
// SCTP ASAP transport; no padding after the handle's) in one pass over
// fixed offsets and declines (false) everything else, saying nothing about
// it; decode_registration_walked() walks the TLVs by the general rules.
// Wherever the first decodes, the second gives the same value.
bool decode_registration_straight(ByteView data, RegistrationView& into) noexcept;
bool decode_registration_walked(ByteView data, RegistrationView& into);

// Decodes exactly one message: `data` holds the message and at most its
// trailing padding.
Result<Decoded<Message>, DecodeError> decode(ByteView data);

// The ASAP_ERROR to send back for a message that failed to decode, or
// nullopt when it must be dropped silently. Never answers an ASAP_ERROR with
// an ASAP_ERROR, so two endpoints cannot ping-pong errors.
std::optional<Error> error_reply(const DecodeError& e);
// The ASAP_ERROR reporting "skip and report" parameters of a message that
// was otherwise accepted, or nullopt if there is nothing to report.
std::optional<Error> error_reply(const Decoded<Message>& d);

}  // namespace rserpool::wire::asap

namespace rserpool {
using AsapMessage = wire::asap::Message;
}
