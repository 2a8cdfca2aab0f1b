#pragma once
// Internal building blocks shared by the parameter, ASAP and ENRP codecs:
// a writer that applies the RFC 5354 padding rule, a TLV walker that applies
// the liberal reading of it, and the unknown-type rules.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "rserpool/base/bytes.hpp"
#include "rserpool/wire/decode_error.hpp"
#include "rserpool/wire/parameters.hpp"

namespace rserpool::wire::detail {

// Padding is written lazily, just before the next TLV starts. A TLV's Length
// therefore never covers its own trailing padding, and an enclosing TLV
// (closed before any padding after its last inner TLV is written) covers the
// padding between inner TLVs but not after the last one: exactly RFC 5354
// section 2. All alignment is relative to the start of the message.
//
// The buffer grows in zero-filled blocks and is written through a pointer;
// the destructor trims it to what was written. Encoding a 200-byte message
// is then a few hundred instructions instead of one push_back per byte.
class Encoder {
 public:
  explicit Encoder(Bytes& out)
      : out_(out), base_(out.size()), end_(out.size()), exceptions_(std::uncaught_exceptions()) {}
  // Trims the buffer to what was written; when an exception (an over-long
  // message) unwinds through the encoder, removes all it wrote, so the
  // caller's buffer is left as it was.
  ~Encoder() { out_.resize(std::uncaught_exceptions() > exceptions_ ? base_ : end_); }
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  void u8(std::uint8_t v) { *take(1) = v; }
  void u16(std::uint16_t v) { store_u16(take(2), v); }
  void u32(std::uint32_t v) { store_u32(take(4), v); }
  void bytes(ByteView b) {
    if (b.empty()) return;
    std::memcpy(take(b.size()), b.data(), b.size());
  }

  void align() {
    const std::size_t used = end_ - base_;
    const std::size_t pad = pad4(used) - used;
    if (pad != 0) std::memset(take(pad), 0, pad);
  }

  std::size_t begin_tlv(std::uint16_t type) {
    align();
    const std::size_t start = end_;
    store_u32(take(4), std::uint32_t{type} << 16);
    return start;
  }
  std::size_t begin_tlv(ParameterType type) { return begin_tlv(static_cast<std::uint16_t>(type)); }
  void end_tlv(std::size_t start) { patch_length(start + 2, end_ - start); }

  std::size_t begin_message(std::uint8_t type, std::uint8_t flags) {
    const std::size_t start = end_;
    store_u32(take(4), std::uint32_t{type} << 24 | std::uint32_t{flags} << 16);
    return start;
  }
  void end_message(std::size_t start) {
    patch_length(start + 2, end_ - start);
    align();
  }

  // Appends n bytes and returns where to write them. Callers write through
  // the returned pointer in one go: one bounds check per field group.
  std::uint8_t* take(std::size_t n) {
    if (out_.size() - end_ < n) out_.resize(std::max(out_.size() * 2, end_ + n + 256));
    std::uint8_t* p = out_.data() + end_;
    end_ += n;
    return p;
  }

  static void store_u16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
  }
  static void store_u32(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
  }

 private:
  void patch_length(std::size_t at, std::size_t length) {
    if (length > 0xFFFF) throw std::length_error("RSerPool message or parameter longer than 65535 bytes");
    out_[at] = static_cast<std::uint8_t>(length >> 8);
    out_[at + 1] = static_cast<std::uint8_t>(length);
  }
  Bytes& out_;
  std::size_t base_;
  std::size_t end_;
  int exceptions_;
};

struct Tlv {
  std::uint16_t type = 0;
  ByteView value;  // Length - 4 bytes
  ByteView whole;  // header + value, without padding (what a cause reports)
};

using Status = std::optional<DecodeError>;

DecodeError make_error(DecodeFailure f, std::optional<ErrorCause> cause, ByteView offending,
                       std::string_view detail);
inline DecodeError invalid(ByteView tlv, std::string_view detail) {
  return make_error(DecodeFailure::invalid_value, ErrorCause::invalid_values, tlv, detail);
}
inline DecodeError missing(std::string_view detail) {
  return make_error(DecodeFailure::missing_parameter, ErrorCause::invalid_values, {}, detail);
}
inline DecodeError unexpected_known(const Tlv& t, std::string_view detail) {
  return make_error(DecodeFailure::unexpected_parameter, ErrorCause::invalid_values, t.whole, detail);
}
inline DecodeError too_many(std::string_view detail) {
  return make_error(DecodeFailure::limit_exceeded, ErrorCause::lack_of_resources, {}, detail);
}

// Decoding state of one message.
struct Context {
  std::vector<OperationErrorCause>* unrecognized = nullptr;  // may be null
  std::size_t pool_elements = 0;                             // across the message
};

// Steps through the TLVs of a region with offset += pad4(length). The
// region's end may fall inside the last TLV's padding (the RFC rule) or
// after it (what some peers send); both are fine. A length below 4 or past
// the region, or 1-3 stray bytes at the end, is an error.
class TlvWalker {
 public:
  explicit TlvWalker(ByteView region) : region_(region) {}

  // Returns false at the end of the region or on error (then error() is set).
  // Inline: it runs once per parameter of every message.
  bool next(Tlv& out) {
    if (error_) return false;
    const std::size_t left = region_.size() - pos_;
    if (left == 0) return false;
    const std::uint16_t length = left >= 4 ? load_u16(region_.data() + pos_ + 2) : std::uint16_t{0};
    if (left < 4 || length < 4 || length > left) {
      error_ = framing_error(left, length);
      return false;
    }
    out.type = load_u16(region_.data() + pos_);
    out.whole = region_.subspan(pos_, length);
    out.value = out.whole.subspan(4);
    pos_ = std::min(pos_ + pad4(length), region_.size());
    return true;
  }
  Status& error() { return error_; }

 private:
  DecodeError framing_error(std::size_t left, std::uint16_t length) const;
  ByteView region_;
  std::size_t pos_ = 0;
  Status error_;
};

// A TLV whose type this position does not know: RFC 5354 top-bit rules.
// Parameter types we know elsewhere are not "unrecognized": they are
// invalid here. Returns nullopt when the TLV is to be skipped.
Status unrecognized_tlv(const Tlv& t, Context& ctx);

// Checks that `tlv` is exactly one TLV (plus up to 3 padding bytes) and
// splits it.
Status single_tlv(ByteView tlv, Tlv& out);

// Parameter decoders on an already split TLV. `out` must be freshly
// default-constructed (they do not reset it).
Status decode_address(const Tlv& t, IpAddress& out);
Status decode_transport(const Tlv& t, Context& ctx, TransportParameter& out);
Status decode_policy(const Tlv& t, PolicyParameters& out);
Status decode_pool_handle(const Tlv& t, PoolHandle& out);
Status decode_pool_element(const Tlv& t, Context& ctx, PoolElementParameter& out);
Status decode_server_information(const Tlv& t, Context& ctx, ServerInformation& out);
Status decode_operation_error(const Tlv& t, std::vector<OperationErrorCause>& out);
Status decode_u32_value(const Tlv& t, std::uint32_t& out, std::string_view what);
Status decode_pe_checksum(const Tlv& t, std::uint16_t& out);
Status decode_opaque(const Tlv& t, Bytes& out, std::string_view what);

bool is_transport_type(std::uint16_t type) noexcept;

// Parameter encoders writing into a message under construction.
void put_address(Encoder& e, const IpAddress& a);
void put_transport(Encoder& e, const TransportParameter& t);
void put_policy(Encoder& e, const PolicyParameters& p);
void put_pool_handle(Encoder& e, const PoolHandle& h);
void put_pool_element(Encoder& e, const PoolElementParameter& pe);
void put_server_information(Encoder& e, const ServerInformation& s);
void put_operation_error(Encoder& e, const std::vector<OperationErrorCause>& causes);
void put_u32_parameter(Encoder& e, ParameterType type, std::uint32_t v);
void put_opaque(Encoder& e, ParameterType type, ByteView data);
void put_pe_checksum(Encoder& e, std::uint16_t checksum);

// Common header of a received message.
struct Header {
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  ByteView message;  // Length bytes, header included, padding excluded
  ByteView body;     // after the 4-byte header
};
Status read_header(ByteView data, Header& out);

// RFC 5354: unknown message type handled by its top two bits.
DecodeError unrecognized_message(const Header& h);

// Cause information, cut so that the reply still fits a 16-bit length.
Bytes bounded_info(const Bytes& info, std::size_t reply_overhead);
// As many of `causes` as fit, in order, into one reply.
std::vector<OperationErrorCause> bounded_causes(const std::vector<OperationErrorCause>& causes,
                                                std::size_t reply_overhead);

}  // namespace rserpool::wire::detail
