#pragma once
// ISUP (ITU-T Q.763) as far as the gateway needs it: the circuit
// identification code that keys a call's flow, the message type that opens
// and closes a call (IAM ... REL/RLC), and encoders for the basic call flow
// used by the gateway-controller simulator and the SS7 load generator.
//
// The ISUP message is the MTP3-user data of an M3UA DATA message (SI = 5):
//   CIC (2 octets, little-endian, low 12 bits ITU / 14 bits ANSI), message
//   type (1), mandatory fixed part, pointers, mandatory variable part,
//   optional part (terminated by an end-of-optional-parameters octet 0).
#include <cstdint>
#include <optional>
#include <string_view>

#include "rserpool/base/bytes.hpp"
#include "rserpool/base/result.hpp"

namespace sg::ss7 {

using rserpool::Result;

enum class IsupVariant : std::uint8_t { itu, ansi };

enum class IsupMessageType : std::uint8_t {
  iam = 0x01,  // initial address
  sam = 0x02,
  cot = 0x05,
  acm = 0x06,  // address complete
  con = 0x07,
  anm = 0x09,  // answer
  rel = 0x0c,  // release
  sus = 0x0d,
  res = 0x0e,
  rlc = 0x10,  // release complete
  ccr = 0x11,
  rsc = 0x12,  // reset circuit
  blo = 0x13,
  ubl = 0x14,
  bla = 0x15,
  uba = 0x16,
  grs = 0x17,  // circuit group reset
  cgb = 0x18,
  cgu = 0x19,
  cgba = 0x1a,
  cgua = 0x1b,
  gra = 0x29,
  cpg = 0x2c,  // call progress
  ucic = 0x2e,
  cfn = 0x2f,
};

std::string_view to_string(IsupMessageType t) noexcept;

struct IsupHeader {
  std::uint16_t cic = 0;
  std::uint8_t message_type = 0;
};

enum class IsupError : std::uint8_t { truncated, bad_pointer, bad_length, unexpected_type };

constexpr std::uint16_t max_cic(IsupVariant v) noexcept { return v == IsupVariant::itu ? 0x0FFF : 0x3FFF; }

// Reads CIC and message type; the spare high bits of the CIC are ignored.
Result<IsupHeader, IsupError> parse_isup_header(rserpool::ByteView isup, IsupVariant variant = IsupVariant::itu);

// Q.850 cause values used by the simulators.
inline constexpr std::uint8_t kCauseNormalClearing = 16;
inline constexpr std::uint8_t kCauseTemporaryFailure = 41;

// Encoders for the basic call flow (ITU-T layout; the CIC keeps 14 bits,
// enough for ANSI circuits). `called` and `calling` are decimal digit
// strings (BCD-encoded, E.164 numbering plan, national number).
rserpool::Bytes encode_iam(std::uint16_t cic, std::string_view called, std::string_view calling = {});
rserpool::Bytes encode_acm(std::uint16_t cic);
rserpool::Bytes encode_anm(std::uint16_t cic);
rserpool::Bytes encode_rel(std::uint16_t cic, std::uint8_t cause = kCauseNormalClearing);
rserpool::Bytes encode_rlc(std::uint16_t cic);

// For REL: the Q.850 cause value (7 bits) from the cause indicators.
Result<std::uint8_t, IsupError> parse_rel_cause(rserpool::ByteView isup);

}  // namespace sg::ss7
