#pragma once
// SCCP (ITU-T Q.713) connectionless unitdata (UDT), enough for the SS7
// load generator to send realistic SCCP traffic (SI = 3) through the
// gateway and for the gateway-controller simulator to answer it.
#include <cstdint>

#include "rserpool/base/bytes.hpp"
#include "rserpool/base/result.hpp"

namespace sg::ss7 {

using rserpool::Result;

inline constexpr std::uint8_t kSccpUdt = 0x09;

// An SCCP address routed on point code + subsystem number (no global title).
struct SccpAddress {
  std::uint16_t point_code = 0;  // ITU 14 bits
  std::uint8_t ssn = 0;          // e.g. 6 HLR, 7 VLR, 8 MSC
  friend bool operator==(const SccpAddress&, const SccpAddress&) = default;
};

struct SccpUnitdata {
  std::uint8_t protocol_class = 0;  // class 0, no return on error
  SccpAddress called;
  SccpAddress calling;
  rserpool::Bytes data;
  friend bool operator==(const SccpUnitdata&, const SccpUnitdata&) = default;
};

enum class SccpError : std::uint8_t { truncated, not_udt, bad_pointer, unsupported_address };

rserpool::Bytes encode_udt(const SccpUnitdata& udt);
Result<SccpUnitdata, SccpError> decode_udt(rserpool::ByteView sccp);

}  // namespace sg::ss7
