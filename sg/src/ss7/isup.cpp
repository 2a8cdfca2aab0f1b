#include "sg/ss7/isup.hpp"

namespace sg::ss7 {
namespace {

using rserpool::Bytes;
using rserpool::ByteWriter;

void header(ByteWriter& w, std::uint16_t cic, IsupMessageType t) {
  // CIC is the one little-endian field in ISUP: 12 bits in ITU-T Q.763,
  // 14 in ANSI T1.113 (an ITU CIC never sets bits 12-13, so one encoder
  // serves both; the bits above are spare).
  w.u8(static_cast<std::uint8_t>(cic & 0xFF));
  w.u8(static_cast<std::uint8_t>((cic >> 8) & 0x3F));
  w.u8(static_cast<std::uint8_t>(t));
}

// Called/calling party number value (Q.763 3.9, 3.10): odd/even + nature of
// address, then numbering plan octet, then BCD digits, low nibble first.
Bytes party_number(std::string_view digits, bool calling) {
  Bytes v;
  const bool odd = digits.size() % 2 == 1;
  v.push_back(static_cast<std::uint8_t>((odd ? 0x80 : 0x00) | 0x03));  // national (significant) number
  // Called: INN allowed (0), ISDN/E.164 plan (1). Calling: plan E.164,
  // presentation allowed, screening "network provided" (3).
  v.push_back(calling ? 0x13 : 0x10);
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    const auto lo = static_cast<std::uint8_t>((digits[i] - '0') & 0x0F);
    const auto hi = i + 1 < digits.size() ? static_cast<std::uint8_t>((digits[i + 1] - '0') & 0x0F) : 0;
    v.push_back(static_cast<std::uint8_t>(lo | (hi << 4)));
  }
  return v;
}

}  // namespace

std::string_view to_string(IsupMessageType t) noexcept {
  switch (t) {
    case IsupMessageType::iam: return "IAM";
    case IsupMessageType::sam: return "SAM";
    case IsupMessageType::cot: return "COT";
    case IsupMessageType::acm: return "ACM";
    case IsupMessageType::con: return "CON";
    case IsupMessageType::anm: return "ANM";
    case IsupMessageType::rel: return "REL";
    case IsupMessageType::sus: return "SUS";
    case IsupMessageType::res: return "RES";
    case IsupMessageType::rlc: return "RLC";
    case IsupMessageType::ccr: return "CCR";
    case IsupMessageType::rsc: return "RSC";
    case IsupMessageType::blo: return "BLO";
    case IsupMessageType::ubl: return "UBL";
    case IsupMessageType::bla: return "BLA";
    case IsupMessageType::uba: return "UBA";
    case IsupMessageType::grs: return "GRS";
    case IsupMessageType::cgb: return "CGB";
    case IsupMessageType::cgu: return "CGU";
    case IsupMessageType::cgba: return "CGBA";
    case IsupMessageType::cgua: return "CGUA";
    case IsupMessageType::gra: return "GRA";
    case IsupMessageType::cpg: return "CPG";
    case IsupMessageType::ucic: return "UCIC";
    case IsupMessageType::cfn: return "CFN";
  }
  return "unknown";
}

Result<IsupHeader, IsupError> parse_isup_header(rserpool::ByteView isup, IsupVariant variant) {
  if (isup.size() < 3) return rserpool::unexpected(IsupError::truncated);
  const auto raw = static_cast<std::uint16_t>(isup[0] | (isup[1] << 8));
  return IsupHeader{static_cast<std::uint16_t>(raw & max_cic(variant)), isup[2]};
}

Bytes encode_iam(std::uint16_t cic, std::string_view called, std::string_view calling) {
  Bytes out;
  ByteWriter w(out);
  header(w, cic, IsupMessageType::iam);
  w.u8(0x00);    // nature of connection: no satellite, no continuity check, no echo control
  w.u16(0x2001); // forward call indicators: national call, ISUP all the way, ISDN access
  w.u8(0x0a);    // calling party's category: ordinary subscriber
  w.u8(0x00);    // transmission medium requirement: speech
  const Bytes cdpn = party_number(called, false);
  // Pointers count from their own octet: called party number starts right
  // after the two pointers; the optional part after the called number.
  w.u8(2);
  if (calling.empty()) {
    w.u8(0);
    w.u8(static_cast<std::uint8_t>(cdpn.size()));
    w.bytes(cdpn);
    return out;
  }
  w.u8(static_cast<std::uint8_t>(1 + 1 + cdpn.size()));
  w.u8(static_cast<std::uint8_t>(cdpn.size()));
  w.bytes(cdpn);
  const Bytes cgpn = party_number(calling, true);
  w.u8(0x0a);  // calling party number
  w.u8(static_cast<std::uint8_t>(cgpn.size()));
  w.bytes(cgpn);
  w.u8(0x00);  // end of optional parameters
  return out;
}

Bytes encode_acm(std::uint16_t cic) {
  Bytes out;
  ByteWriter w(out);
  header(w, cic, IsupMessageType::acm);
  // Backward call indicators: charge, subscriber free, ordinary subscriber,
  // end-to-end method none, ISUP all the way, ISDN access.
  w.u8(0x16);
  w.u8(0x14);
  w.u8(0);  // no optional part
  return out;
}

Bytes encode_anm(std::uint16_t cic) {
  Bytes out;
  ByteWriter w(out);
  header(w, cic, IsupMessageType::anm);
  w.u8(0);  // no optional part
  return out;
}

Bytes encode_rel(std::uint16_t cic, std::uint8_t cause) {
  Bytes out;
  ByteWriter w(out);
  header(w, cic, IsupMessageType::rel);
  w.u8(2);     // pointer to cause indicators
  w.u8(0);     // no optional part
  w.u8(2);     // cause indicators length
  w.u8(0x80);  // ext, ITU-T coding standard, location: user
  w.u8(static_cast<std::uint8_t>(0x80 | (cause & 0x7F)));
  return out;
}

Bytes encode_rlc(std::uint16_t cic) {
  Bytes out;
  ByteWriter w(out);
  header(w, cic, IsupMessageType::rlc);
  w.u8(0);  // no optional part
  return out;
}

Result<std::uint8_t, IsupError> parse_rel_cause(rserpool::ByteView isup) {
  if (isup.size() < 5) return rserpool::unexpected(IsupError::truncated);
  if (isup[2] != static_cast<std::uint8_t>(IsupMessageType::rel)) return rserpool::unexpected(IsupError::unexpected_type);
  const std::size_t cause_at = 3 + std::size_t{isup[3]};  // pointer counts from its own octet
  if (isup[3] == 0 || cause_at >= isup.size()) return rserpool::unexpected(IsupError::bad_pointer);
  const std::size_t len = isup[cause_at];
  if (len < 2 || cause_at + 1 + len > isup.size())
    return rserpool::unexpected(IsupError::bad_length);
  // The cause value octet follows the location octet (and the optional
  // recommendation octet when the first octet's extension bit is 0).
  std::size_t value_at = cause_at + 2;
  if ((isup[cause_at + 1] & 0x80) == 0) ++value_at;
  if (value_at > cause_at + len) return rserpool::unexpected(IsupError::bad_length);
  return static_cast<std::uint8_t>(isup[value_at] & 0x7F);
}

}  // namespace sg::ss7
