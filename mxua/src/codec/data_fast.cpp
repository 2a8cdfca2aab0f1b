// DATA fast path: the SG relays DATA at high rates, so decoding borrows the
// user data from the received buffer and encoding writes straight into a
// caller buffer. Both walk the bytes once.
#include <algorithm>
#include <cstring>

#include "mxua/codec.hpp"
#include "mxua/frame_loan.hpp"
#include "mxua/rehead.hpp"
#include "rserpool/base/buffer_pool.hpp"

namespace mxua {
namespace {

using rserpool::load_u16;
using rserpool::load_u32;

// Network byte order, one store each (not four shifted byte stores: the
// relay writes a header, a Routing Context and a label per DATA, issue 16).
inline void store_u16(std::uint8_t* p, std::uint16_t v) noexcept {
  const std::uint16_t be = __builtin_bswap16(v);
  std::memcpy(p, &be, sizeof be);
}
inline void store_u32(std::uint8_t* p, std::uint32_t v) noexcept {
  const std::uint32_t be = __builtin_bswap32(v);
  std::memcpy(p, &be, sizeof be);
}
inline std::uint8_t* put_u32_param(std::uint8_t* p, Tag t, std::uint32_t v) noexcept {
  store_u16(p, static_cast<std::uint16_t>(t));
  store_u16(p + 2, 8);
  store_u32(p + 4, v);
  return p + 8;
}
// The common header of a DATA of `total` octets and its optional Network
// Appearance and Routing Context (RFC 4666 3.3.1); returns where the
// Protocol Data parameter starts.
inline std::uint8_t* put_data_head(std::uint8_t* p, std::size_t total, std::optional<std::uint32_t> na,
                                   std::optional<std::uint32_t> rc) noexcept {
  p[0] = kVersion;
  p[1] = 0;
  p[2] = static_cast<std::uint8_t>(MessageClass::Transfer);
  p[3] = type::kData;
  store_u32(p + 4, static_cast<std::uint32_t>(total));
  p += kHeaderSize;
  if (na) p = put_u32_param(p, Tag::NetworkAppearance, *na);
  if (rc) p = put_u32_param(p, Tag::RoutingContext, *rc);
  return p;
}
// The Protocol Data parameter's tag and length and its routing label
// (OPC, DPC, SI, NI, MP, SLS); the user data follows at p + 16.
template <typename ProtocolData>
inline void put_protocol_label(std::uint8_t* p, const ProtocolData& pd, std::size_t pd_len) noexcept {
  store_u16(p, static_cast<std::uint16_t>(Tag::ProtocolData));
  store_u16(p + 2, static_cast<std::uint16_t>(pd_len));
  store_u32(p + 4, pd.opc.value & 0x00ffffffU);
  store_u32(p + 8, pd.dpc.value & 0x00ffffffU);
  p[12] = pd.si;
  p[13] = pd.ni;
  p[14] = pd.mp;
  p[15] = pd.sls;
}

rserpool::Unexpected<M3uaError> fail(ErrorCode c, std::string detail, ByteView offending) {
  M3uaError e;
  e.code = c;
  e.detail = std::move(detail);
  e.msg_class = 1;
  e.msg_type = type::kData;
  const auto n = offending.size() < kDiagnosticBytes ? offending.size() : kDiagnosticBytes;
  e.diagnostic.assign(offending.begin(), offending.begin() + static_cast<std::ptrdiff_t>(n));
  return rserpool::unexpected(std::move(e));
}

// A Protocol Data parameter's value (RFC 4666 3.3.1: OPC, DPC, SI, NI, MP,
// SLS, then the user part) as a view; `len` is the parameter's length with
// its 4-octet header, already checked to be at least 16. Inlined into both
// of decode_data_now()'s paths.
[[gnu::always_inline]] inline void read_protocol_data(const std::uint8_t* v, std::size_t len,
                                                      ProtocolDataView& pd) noexcept {
  pd.opc = PointCode{load_u32(v) & 0x00ffffffU};
  pd.dpc = PointCode{load_u32(v + 4) & 0x00ffffffU};
  pd.si = v[8];
  pd.ni = v[9];
  pd.mp = v[10];
  pd.sls = v[11];
  pd.user_data = ByteView(v + 12, len - 16);
}

// The 0-3 octets that pad a parameter to a multiple of four: stored
// inline, not through a memset call per message (issue 16).
inline void zero_pad(std::uint8_t* at, std::size_t n) noexcept {
  // (Not a loop: the compiler would turn it back into memset.)
  if (n > 0) at[0] = 0;
  if (n > 1) at[1] = 0;
  if (n > 2) at[2] = 0;
}

}  // namespace

std::size_t encode_data(const DataView& d, std::span<std::uint8_t> out) noexcept {
  const std::size_t total = encoded_data_size(d);
  if (out.size() < total) return 0;
  std::uint8_t* p = put_data_head(out.data(), total, d.network_appearance, d.routing_context);
  const auto& pd = d.protocol_data;
  const std::size_t ud = pd.user_data.size();
  put_protocol_label(p, pd, 16 + ud);
  if (ud != 0) std::memcpy(p + 16, pd.user_data.data(), ud);
  const std::size_t padded = rserpool::pad4(16 + ud);
  zero_pad(p + 16 + ud, padded - 16 - ud);
  p += padded;
  if (d.correlation_id) p = put_u32_param(p, Tag::CorrelationId, *d.correlation_id);
  return static_cast<std::size_t>(p - out.data());
}

void encode_data(const DataView& d, Bytes& out) {
  out.resize(encoded_data_size(d));
  (void)encode_data(d, std::span<std::uint8_t>(out));
}

bool rehead_data(Bytes& frame, const DataView& d, std::optional<std::uint32_t> na, std::optional<std::uint32_t> rc) {
  const auto& pd = d.protocol_data;
  const std::size_t ud = pd.user_data.size();
  const std::uint8_t* const base = frame.data();
  const std::uint8_t* const user = pd.user_data.data();
  // The Protocol Data parameter (tag, length, 12 octets of label) sits right
  // before the user data, and after at least a common header.
  if (user == nullptr || base == nullptr || user < base + kHeaderSize + 16 || user + ud > base + frame.size())
    return false;
  const std::size_t pd_at = static_cast<std::size_t>(user - base) - 16;
  const std::optional<std::uint32_t> correlation = d.correlation_id;  // d borrows from frame: read before writing
  const std::size_t head = kHeaderSize + (na ? 8 : 0) + (rc ? 8 : 0);
  const std::size_t pd_len = 16 + ud;
  const std::size_t padded = rserpool::pad4(pd_len);
  const std::size_t total = head + padded + (correlation ? 8 : 0);
  const std::size_t need = std::max(total, pd_at + pd_len);
  if (frame.size() < need) frame.resize(need);  // may move the storage: offsets only from here
  std::uint8_t* p = frame.data();
  if (pd_at != head) std::memmove(p + head, p + pd_at, pd_len);
  store_u16(p + head, static_cast<std::uint16_t>(Tag::ProtocolData));
  store_u16(p + head + 2, static_cast<std::uint16_t>(pd_len));
  p[head + 4] = 0;  // the spare octet of the OPC and of the DPC, as encode_data() writes them
  p[head + 8] = 0;
  zero_pad(p + head + pd_len, padded - pd_len);
  put_data_head(p, total, na, rc);
  if (correlation) put_u32_param(p + head + padded, Tag::CorrelationId, *correlation);
  frame.resize(total);
  return true;
}

bool encode_data_in_place(const DataView& d, Bytes& frame) {
  const auto& pd = d.protocol_data;
  const std::size_t ud = pd.user_data.size();
  const std::uint8_t* const user = pd.user_data.data();
  if (ud == 0 || frame.empty() || user < frame.data() || user + ud > frame.data() + frame.size()) return false;
  const auto at = static_cast<std::size_t>(user - frame.data());
  // Read before writing: d borrows its user data from frame.
  const std::size_t total = encoded_data_size(d);
  const std::size_t head = kHeaderSize + (d.network_appearance ? 8 : 0) + (d.routing_context ? 8 : 0);
  const std::size_t pd_len = 16 + ud;
  const std::size_t padded = rserpool::pad4(pd_len);
  // Where the user data goes: right after the label. A frame received with
  // a header of the same length (a relayed DATA) already has it there.
  const std::size_t to = head + 16;
  if (frame.size() < total) frame.resize(total);  // may move the storage: offsets only from here
  std::uint8_t* p = frame.data();
  if (at != to) std::memmove(p + to, p + at, ud);
  std::uint8_t* q = put_data_head(p, total, d.network_appearance, d.routing_context);
  put_protocol_label(q, pd, pd_len);
  zero_pad(q + pd_len, padded - pd_len);
  if (d.correlation_id) put_u32_param(q + padded, Tag::CorrelationId, *d.correlation_id);
  if (frame.size() != total) frame.resize(total);  // shrinks: nothing written
  return true;
}

rserpool::Result<DataView, M3uaError> decode_data(ByteView wire, const DecodeLimits& limits) {
  auto hdr = decode_header(wire, limits);
  if (!hdr) return rserpool::unexpected(std::move(hdr.error()));
  return decode_data(wire, *hdr);
}

rserpool::Result<DataView, M3uaError> decode_data(ByteView wire, const Header& hdr) {
  if (hdr.msg_class != static_cast<std::uint8_t>(MessageClass::Transfer) || hdr.msg_type != type::kData)
    return fail(ErrorCode::UnexpectedMessage, "not a DATA message", wire);
  DataView d;
  bool have_pd = false;
  const std::uint8_t* p = wire.data() + kHeaderSize;
  const std::uint8_t* end = wire.data() + hdr.length;
  while (p != end) {
    const auto left = static_cast<std::size_t>(end - p);
    if (left < 4) return fail(ErrorCode::ParameterFieldError, "trailing bytes after the last parameter", wire);
    const auto tag = load_u16(p);
    const std::size_t len = load_u16(p + 2);
    if (len < 4 || len > left) return fail(ErrorCode::ParameterFieldError, "parameter length out of bounds", wire);
    const std::uint8_t* v = p + 4;
    const std::size_t vlen = len - 4;
    switch (static_cast<Tag>(tag)) {
      case Tag::NetworkAppearance:
      case Tag::RoutingContext:
      case Tag::CorrelationId: {
        auto& slot = tag == static_cast<std::uint16_t>(Tag::NetworkAppearance) ? d.network_appearance
                     : tag == static_cast<std::uint16_t>(Tag::RoutingContext)  ? d.routing_context
                                                                                : d.correlation_id;
        if (vlen != 4) return fail(ErrorCode::ParameterFieldError, "DATA carries one 32-bit value here", wire);
        if (slot) return fail(ErrorCode::UnexpectedParameter, "repeated parameter", wire);
        slot = load_u32(v);
        break;
      }
      case Tag::ProtocolData:
        if (have_pd) return fail(ErrorCode::UnexpectedParameter, "repeated Protocol Data", wire);
        if (vlen < 12) return fail(ErrorCode::ParameterFieldError, "Protocol Data shorter than 12 bytes", wire);
        have_pd = true;
        d.protocol_data.opc = PointCode{load_u32(v) & 0x00ffffffU};
        d.protocol_data.dpc = PointCode{load_u32(v + 4) & 0x00ffffffU};
        d.protocol_data.si = v[8];
        d.protocol_data.ni = v[9];
        d.protocol_data.mp = v[10];
        d.protocol_data.sls = v[11];
        d.protocol_data.user_data = ByteView(v + 12, vlen - 12);
        break;
      default:
        return fail(ErrorCode::UnexpectedParameter, "parameter not allowed in DATA", wire);
    }
    // The last parameter's padding may be left out of the message length.
    const std::size_t step = rserpool::pad4(len);
    p += step <= left ? step : left;
  }
  if (!have_pd) return fail(ErrorCode::MissingParameter, "DATA without Protocol Data", wire);
  return d;
}

bool decode_data_now(ByteView wire, const DecodeLimits& limits, DataView& d) noexcept {
  // decode_header()'s tests, for a DATA.
  const std::size_t size = wire.size();
  if (size > limits.max_message_size || size < kHeaderSize) return false;
  const std::uint8_t* const w = wire.data();
  if (w[0] != kVersion || w[2] != static_cast<std::uint8_t>(MessageClass::Transfer) || w[3] != type::kData)
    return false;
  const std::size_t length = load_u32(w + 4);
  if (length < kHeaderSize || length > size || (length != size && rserpool::pad4(length) != size)) return false;
  // The shape of every DATA on the relay path (RFC 4666 3.3.1 as an SGP
  // or IPSP with one AS sends it): a Routing Context, then the Protocol
  // Data as the last parameter. Read without the loop below (issue 16);
  // accepted exactly where the loop accepts it: the RC is 8 octets, the
  // Protocol Data at least 16 and within the message, and its padding
  // (which the message length may leave out) ends the message. Anything
  // else goes through the loop from the start. (A shape with the RC
  // optional measured 17 instructions more per relayed DATA: stop 29.)
  if (length >= kHeaderSize + 8 + 16 &&
      load_u32(w + kHeaderSize) == (std::uint32_t{static_cast<std::uint16_t>(Tag::RoutingContext)} << 16 | 8U) &&
      load_u16(w + kHeaderSize + 8) == static_cast<std::uint16_t>(Tag::ProtocolData)) {
    const std::size_t left = length - (kHeaderSize + 8);
    const std::size_t len = load_u16(w + kHeaderSize + 10);
    if (len >= 16 && len <= left && rserpool::pad4(len) >= left) {
      const std::uint8_t* const v = w + kHeaderSize + 12;
      d.network_appearance.reset();
      d.routing_context = load_u32(w + kHeaderSize + 4);
      d.correlation_id.reset();
      read_protocol_data(v, len, d.protocol_data);
      return true;
    }
  }
  // decode_data()'s, without the error texts.
  d = DataView{};
  bool have_pd = false;
  const std::uint8_t* p = w + kHeaderSize;
  const std::uint8_t* const end = w + length;
  while (p != end) {
    const auto left = static_cast<std::size_t>(end - p);
    if (left < 4) return false;
    const auto tag = static_cast<Tag>(load_u16(p));
    const std::size_t len = load_u16(p + 2);
    if (len < 4 || len > left) return false;
    const std::uint8_t* v = p + 4;
    if (tag == Tag::ProtocolData) {
      if (have_pd || len < 16) return false;
      have_pd = true;
      read_protocol_data(v, len, d.protocol_data);
    } else {
      std::optional<std::uint32_t>* slot = tag == Tag::RoutingContext      ? &d.routing_context
                                           : tag == Tag::NetworkAppearance ? &d.network_appearance
                                           : tag == Tag::CorrelationId     ? &d.correlation_id
                                                                           : nullptr;
      if (slot == nullptr || len != 8 || slot->has_value()) return false;
      *slot = load_u32(v);
    }
    // The last parameter's padding may be left out of the message length.
    const std::size_t step = rserpool::pad4(len);
    p += step <= left ? step : left;
  }
  return have_pd;
}

Data to_owned(const DataView& v) {
  Data d;
  d.network_appearance = v.network_appearance;
  d.routing_context = v.routing_context;
  d.correlation_id = v.correlation_id;
  const auto& s = v.protocol_data;
  // The user part goes into a recycled buffer (issue 16: the SGP's DATA
  // indication on the relay path allocates nothing in steady state).
  Bytes user = rserpool::buffers::take(s.user_data.size());
  user.assign(s.user_data.begin(), s.user_data.end());
  d.protocol_data = ProtocolData{s.opc, s.dpc, s.si, s.ni, s.mp, s.sls, std::move(user)};
  return d;
}

void take_owned(const DataView& v, Data& d) {
  const auto& s = v.protocol_data;
  bool keep = false;
  Bytes* frame = FrameLoan::claim(s.user_data, keep);
  if (frame == nullptr) {
    d = to_owned(v);
    return;
  }
  d.network_appearance = v.network_appearance;
  d.routing_context = v.routing_context;
  d.correlation_id = v.correlation_id;
  const std::size_t n = s.user_data.size();
  const auto at = static_cast<std::size_t>(s.user_data.data() - frame->data());
  // Filled in place, field by field (no temporary ProtocolData or Data
  // moved in: issue 16, once per relayed DATA).
  ProtocolData& pd = d.protocol_data;
  pd.opc = s.opc;
  pd.dpc = s.dpc;
  pd.si = s.si;
  pd.ni = s.ni;
  pd.mp = s.mp;
  pd.sls = s.sls;
  pd.user_data = std::move(*frame);  // the storage moves with it: s.user_data still points into it
  if (keep) {
    pd.user_data.resize(at + n);  // shrinks: nothing written
    pd.user_at = static_cast<std::uint32_t>(at);
    return;
  }
  pd.user_at = 0;
  if (at != 0) std::memmove(pd.user_data.data(), pd.user_data.data() + at, n);
  pd.user_data.resize(n);  // shrinks: nothing written
}

Data take_owned(const DataView& v) {
  Data d;
  take_owned(v, d);
  return d;
}

DataView to_view(const Data& d) noexcept {
  DataView v;
  v.network_appearance = d.network_appearance;
  v.routing_context = d.routing_context;
  v.correlation_id = d.correlation_id;
  const auto& s = d.protocol_data;
  v.protocol_data = ProtocolDataView{s.opc, s.dpc, s.si, s.ni, s.mp, s.sls, s.user_part()};
  return v;
}

}  // namespace mxua
