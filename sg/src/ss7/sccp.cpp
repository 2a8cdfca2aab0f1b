#include "sg/ss7/sccp.hpp"

namespace sg::ss7 {
namespace {

using rserpool::Bytes;
using rserpool::ByteView;

// Address indicator: route on SSN (bit 7), SSN present (bit 2), PC present
// (bit 1), no global title.
constexpr std::uint8_t kRouteOnSsnWithPc = 0x43;

Bytes encode_address(const SccpAddress& a) {
  return {kRouteOnSsnWithPc, static_cast<std::uint8_t>(a.point_code & 0xFF),
          static_cast<std::uint8_t>((a.point_code >> 8) & 0x3F), a.ssn};
}

Result<SccpAddress, SccpError> decode_address(ByteView v) {
  if (v.empty()) return rserpool::unexpected(SccpError::truncated);
  const std::uint8_t ai = v[0];
  if ((ai & 0x3C) != 0) return rserpool::unexpected(SccpError::unsupported_address);  // global titles
  SccpAddress a;
  std::size_t pos = 1;
  if (ai & 0x01) {
    if (v.size() < pos + 2) return rserpool::unexpected(SccpError::truncated);
    a.point_code = static_cast<std::uint16_t>(v[pos] | ((v[pos + 1] & 0x3F) << 8));
    pos += 2;
  }
  if (ai & 0x02) {
    if (v.size() < pos + 1) return rserpool::unexpected(SccpError::truncated);
    a.ssn = v[pos];
  }
  return a;
}

// Resolves a Q.713 pointer (counted from the pointer's own octet) to the
// length-prefixed variable part it designates.
Result<ByteView, SccpError> variable_part(ByteView m, std::size_t pointer_at) {
  if (pointer_at >= m.size() || m[pointer_at] == 0) return rserpool::unexpected(SccpError::bad_pointer);
  const std::size_t at = pointer_at + m[pointer_at];
  if (at >= m.size()) return rserpool::unexpected(SccpError::bad_pointer);
  const std::size_t len = m[at];
  if (at + 1 + len > m.size()) return rserpool::unexpected(SccpError::truncated);
  return m.subspan(at + 1, len);
}

}  // namespace

Bytes encode_udt(const SccpUnitdata& udt) {
  const Bytes called = encode_address(udt.called);
  const Bytes calling = encode_address(udt.calling);
  Bytes out;
  rserpool::ByteWriter w(out);
  w.u8(kSccpUdt);
  w.u8(udt.protocol_class);
  w.u8(3);
  w.u8(static_cast<std::uint8_t>(3 + called.size()));
  w.u8(static_cast<std::uint8_t>(3 + called.size() + calling.size()));
  w.u8(static_cast<std::uint8_t>(called.size()));
  w.bytes(called);
  w.u8(static_cast<std::uint8_t>(calling.size()));
  w.bytes(calling);
  // UDT data is at most 255 octets by its length field; longer needs XUDT.
  const std::size_t n = udt.data.size() > 255 ? 255 : udt.data.size();
  w.u8(static_cast<std::uint8_t>(n));
  w.bytes(ByteView(udt.data.data(), n));
  return out;
}

Result<SccpUnitdata, SccpError> decode_udt(ByteView m) {
  if (m.size() < 5) return rserpool::unexpected(SccpError::truncated);
  if (m[0] != kSccpUdt) return rserpool::unexpected(SccpError::not_udt);
  SccpUnitdata u;
  u.protocol_class = m[1];
  auto called = variable_part(m, 2);
  if (!called) return rserpool::unexpected(called.error());
  auto calling = variable_part(m, 3);
  if (!calling) return rserpool::unexpected(calling.error());
  auto data = variable_part(m, 4);
  if (!data) return rserpool::unexpected(data.error());
  auto cd = decode_address(*called);
  if (!cd) return rserpool::unexpected(cd.error());
  auto cg = decode_address(*calling);
  if (!cg) return rserpool::unexpected(cg.error());
  u.called = *cd;
  u.calling = *cg;
  u.data.assign(data->begin(), data->end());
  return u;
}

}  // namespace sg::ss7
