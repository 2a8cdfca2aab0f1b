#pragma once
// M3UA encoder and bounds-checked decoder. A decode failure is an M3uaError
// that already names the ERR code to send back and the bytes to quote in its
// Diagnostic Information; make_error_reply() turns it into that ERR, except
// in reply to an ERR (RFC 4666: never answer an ERR with an ERR).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "mxua/messages.hpp"
#include "rserpool/base/result.hpp"

namespace mxua {

// Hostile-input limits. A message above max_message_size, or a list
// parameter above its entry limit, is refused before any allocation.
struct DecodeLimits {
  std::size_t max_message_size = 65535;
  std::size_t max_routing_contexts = 64;
  std::size_t max_point_codes = 64;      // Affected PC and OPC List entries
  std::size_t max_routing_keys = 16;     // per REG REQ
  std::size_t max_destinations = 16;     // {DPC, SI, OPC} groups per routing key
  std::size_t max_results = 64;          // REG RSP / DEREG RSP results
  std::size_t max_info_string = 255;
};

struct M3uaError {
  ErrorCode code = ErrorCode::ProtocolError;
  std::string detail;                          // for logs and counters
  std::uint8_t msg_class = 0xff;               // of the offending message, 0xff if not known
  std::uint8_t msg_type = 0xff;
  bool offender_is_err = false;                // the input was itself an ERR
  Bytes diagnostic;                            // offending bytes (first 40 for class/type errors)
  std::optional<std::uint32_t> network_appearance;  // echoed for 0x15
};

// Appends the encoding to out (the message length counts the final padding).
void encode(const Message& m, Bytes& out);
Bytes encode(const Message& m);

rserpool::Result<Message, M3uaError> decode(ByteView wire, const DecodeLimits& limits = {});

// Reads only the common header: version, class, type and checks the length.
struct Header {
  std::uint8_t version = 0;
  std::uint8_t msg_class = 0;
  std::uint8_t msg_type = 0;
  std::uint32_t length = 0;
};
rserpool::Result<Header, M3uaError> decode_header(ByteView wire, const DecodeLimits& limits = {});

// DATA fast path: the result borrows the user data from `wire`, nothing is
// allocated unless the message is malformed.
rserpool::Result<DataView, M3uaError> decode_data(ByteView wire, const DecodeLimits& limits = {});
// The same for a message whose common header decode_header(wire, limits)
// has already read and accepted: the header is not read twice (a receiving
// core looks at the class first; issue 16).
rserpool::Result<DataView, M3uaError> decode_data(ByteView wire, const Header& hdr);
// The relay's receive path (issue 16): true, with `d` filled (borrowing
// from `wire`), exactly when decode_header(wire, limits) and then
// decode_data() would accept `wire` as a DATA and give that view; false for
// anything else, which the caller then decodes the full way for its error.
// No Result, no error text: one pass over the header and the parameters.
bool decode_data_now(ByteView wire, const DecodeLimits& limits, DataView& d) noexcept;
// Inline: asked twice per relayed DATA (does it fit the buffer it came in,
// then by the encoder), issue 16.
inline std::size_t encoded_data_size(const DataView& d) noexcept {
  std::size_t n = kHeaderSize + rserpool::pad4(16 + d.protocol_data.user_data.size());
  if (d.network_appearance) n += 8;
  if (d.routing_context) n += 8;
  if (d.correlation_id) n += 8;
  return n;
}
// Encodes into a caller buffer; returns the bytes written, 0 when out is too small.
std::size_t encode_data(const DataView& d, std::span<std::uint8_t> out) noexcept;
// Encodes into out, reusing its capacity (out is overwritten, not appended to).
void encode_data(const DataView& d, Bytes& out);

// The ERR to send for a decode failure, or nothing when the offender was an
// ERR message.
std::optional<Err> make_error_reply(const M3uaError& e);
// An ERR carrying the first 40 bytes of `offending` as diagnostic.
Err make_err(ErrorCode code, ByteView offending);

}  // namespace mxua
