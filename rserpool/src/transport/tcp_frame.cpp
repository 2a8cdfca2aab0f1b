#include "rserpool/transport/tcp_frame.hpp"

#include "rserpool/base/buffer_pool.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace rserpool::transport::tcpmap {

Frame Frame::init(std::uint16_t out_streams, std::uint16_t in_streams, std::uint32_t initial_sequence) {
  Frame f;
  f.type = FrameType::init;
  f.out_streams = out_streams;
  f.in_streams = in_streams;
  f.sequence = initial_sequence;
  return f;
}

Frame Frame::data(std::uint32_t sequence, std::uint32_t ppid, std::uint16_t stream, bool unordered, Bytes payload) {
  Frame f;
  f.type = FrameType::data;
  f.sequence = sequence;
  f.ppid = ppid;
  f.stream = stream;
  f.unordered = unordered;
  f.payload = std::move(payload);
  return f;
}

Frame Frame::control(FrameType type, std::uint32_t sequence) {
  Frame f;
  f.type = type;
  f.sequence = sequence;
  return f;
}

namespace {
// Big-endian stores as one byte swap and one 4-byte store each: this runs
// for every frame on the relay path.
inline void put32(std::uint8_t* q, std::uint32_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  std::memcpy(q, &v, sizeof v);
}

inline void write_header(std::uint8_t* p, FrameType type, std::uint8_t flags, std::uint16_t stream,
                         std::uint32_t length, std::uint32_t word3, std::uint32_t sequence) noexcept {
  p[0] = static_cast<std::uint8_t>((kVersion << 4) | static_cast<std::uint8_t>(type));
  p[1] = flags;
  p[2] = static_cast<std::uint8_t>(stream >> 8);
  p[3] = static_cast<std::uint8_t>(stream);
  put32(p + 4, length);
  put32(p + 8, word3);
  put32(p + 12, sequence);
}

void put_header(Bytes& out, FrameType type, std::uint8_t flags, std::uint16_t stream, std::uint32_t length,
                std::uint32_t word3, std::uint32_t sequence) {
  // Written on the stack and appended: a resize would zero-fill the 16
  // bytes first (issue 16: 53 instructions per frame in the fill alone).
  std::uint8_t h[kHeaderSize];
  write_header(h, type, flags, stream, length, word3, sequence);
  out.insert(out.end(), h, h + kHeaderSize);
}
}  // namespace

void FrameEncoder::encode_data(std::uint32_t sequence, std::uint32_t ppid, std::uint16_t stream, bool unordered,
                               ByteView payload, Bytes& out) {
  // The header, then the payload, appended: no resize and its zero fill of
  // bytes that are overwritten at once (issue 16).
  put_header(out, FrameType::data, unordered ? kFlagUnordered : 0, stream, static_cast<std::uint32_t>(payload.size()),
             ppid, sequence);
  out.insert(out.end(), payload.data(), payload.data() + payload.size());
}

void FrameEncoder::encode_control(FrameType type, std::uint32_t sequence, Bytes& out) {
  put_header(out, type, 0, 0, 0, 0, sequence);
}

std::uint8_t* FrameEncoder::write_control(FrameType type, std::uint32_t sequence, std::uint8_t* at) noexcept {
  write_header(at, type, 0, 0, 0, 0, sequence);
  return at + kHeaderSize;
}

std::uint8_t* FrameEncoder::write_init(std::uint16_t out_streams, std::uint16_t in_streams,
                                       std::uint32_t initial_sequence, std::uint8_t* at) noexcept {
  write_header(at, FrameType::init, 0, 0, 0, (std::uint32_t{out_streams} << 16) | in_streams, initial_sequence);
  return at + kHeaderSize;
}

std::uint8_t* FrameEncoder::write_data(std::uint32_t sequence, std::uint32_t ppid, std::uint16_t stream,
                                       bool unordered, ByteView payload, std::uint8_t* at) noexcept {
  write_header(at, FrameType::data, unordered ? kFlagUnordered : 0, stream, static_cast<std::uint32_t>(payload.size()),
               ppid, sequence);
  if (!payload.empty()) std::memcpy(at + kHeaderSize, payload.data(), payload.size());
  return at + kHeaderSize + payload.size();
}

void FrameEncoder::encode(const Frame& f, Bytes& out) {
  switch (f.type) {
    case FrameType::data:
      encode_data(f.sequence, f.ppid, f.stream, f.unordered, f.payload, out);
      return;
    case FrameType::init:
      put_header(out, f.type, 0, 0, 0, (std::uint32_t{f.out_streams} << 16) | f.in_streams, f.sequence);
      return;
    case FrameType::data_ack:
    case FrameType::heartbeat:
    case FrameType::heartbeat_ack:
    case FrameType::shutdown:
      encode_control(f.type, f.sequence, out);
      return;
  }
}

namespace {
constexpr std::size_t kReserveOnHeader = 4096;
}  // namespace

namespace {
// The header's fields into `out`; the payload length, or why the header is
// not acceptable (checked in this order: version, type, flags, length).
[[gnu::always_inline]] inline Result<std::uint32_t, FrameError> parse_header(const std::uint8_t* h,
                                                                            std::size_t max_payload, FrameView& out) {
  if ((h[0] >> 4) != kVersion) return unexpected(FrameError::bad_version);
  const auto type = static_cast<std::uint8_t>(h[0] & 0x0f);
  if (type < static_cast<std::uint8_t>(FrameType::init) || type > static_cast<std::uint8_t>(FrameType::shutdown))
    return unexpected(FrameError::unknown_type);
  const std::uint8_t flags = h[1];
  const std::uint32_t length = load_u32(h + 4);
  out.type = static_cast<FrameType>(type);
  out.sequence = load_u32(h + 12);
  out.payload = {};
  out.buffered = nullptr;
  if (out.type == FrameType::data) {
    if ((flags & ~kFlagUnordered) != 0) return unexpected(FrameError::reserved_flags);
    if (length > max_payload) return unexpected(FrameError::oversized);
    out.unordered = (flags & kFlagUnordered) != 0;
    out.stream = load_u16(h + 2);
    out.ppid = load_u32(h + 8);
    out.out_streams = 0;
    out.in_streams = 0;
    return length;
  }
  if (flags != 0) return unexpected(FrameError::reserved_flags);
  if (length != 0) return unexpected(FrameError::bad_length);
  out.unordered = false;
  out.stream = 0;
  out.ppid = 0;
  out.out_streams = out.type == FrameType::init ? load_u16(h + 8) : std::uint16_t{0};
  out.in_streams = out.type == FrameType::init ? load_u16(h + 10) : std::uint16_t{0};
  return std::uint32_t{0};
}
}  // namespace

Result<bool, FrameError> FrameDecoder::next_view(ByteView data, std::size_t& consumed, FrameView& out) {
  consumed = 0;
  if (error_) return unexpected(*error_);
  if (header_fill_ == 0 && !in_payload_ && data.size() >= kHeaderSize) {
    // The common case: the whole frame is in this read. Decoded where it
    // lies, nothing copied (issue 16: every relayed message passes here).
    auto length = parse_header(data.data(), max_payload_, out);
    if (!length) {
      error_ = length.error();
      return unexpected(*error_);
    }
    if (data.size() - kHeaderSize >= *length) {
      out.payload = data.subspan(kHeaderSize, *length);
      consumed = kHeaderSize + *length;
      return true;
    }
    // Split across reads: gathered below.
  }
  while (consumed < data.size() || (in_payload_ && payload_needed_ == 0)) {
    if (!in_payload_) {
      const std::size_t take = std::min(kHeaderSize - header_fill_, data.size() - consumed);
      std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(consumed), take, header_ + header_fill_);
      header_fill_ += take;
      consumed += take;
      if (header_fill_ < kHeaderSize) break;
      header_fill_ = 0;
      auto length = parse_header(header_, max_payload_, head_);
      if (!length) {
        error_ = length.error();
        return unexpected(*error_);
      }
      payload_needed_ = *length;
      payload_.clear();
      // Reserve what a small message needs, not what the header claims: a
      // peer announcing 64 KiB and sending nothing more must not make us
      // hold 64 KiB (the payload grows as its bytes actually arrive).
      // A recycled buffer (buffer_pool.hpp): no allocation per message in
      // steady state; the receiver gives it back once it has read it.
      if (head_.type == FrameType::data && payload_.capacity() == 0)
        payload_ = buffers::take(std::min<std::size_t>(*length, kReserveOnHeader));
      in_payload_ = true;
    }
    const std::size_t take = std::min(payload_needed_, data.size() - consumed);
    auto first = data.begin() + static_cast<std::ptrdiff_t>(consumed);
    payload_.insert(payload_.end(), first, first + static_cast<std::ptrdiff_t>(take));
    payload_needed_ -= take;
    consumed += take;
    if (payload_needed_ == 0) {
      in_payload_ = false;
      out = head_;
      out.payload = ByteView(payload_);
      out.buffered = &payload_;
      return true;
    }
  }
  return false;
}

Result<std::optional<Frame>, FrameError> FrameDecoder::next(ByteView data, std::size_t& consumed) {
  FrameView v;
  auto r = next_view(data, consumed, v);
  if (!r) return unexpected(r.error());
  if (!*r) return std::optional<Frame>{};
  return std::optional<Frame>(take_frame(v));
}

Frame take_frame(FrameView& v) {
  Frame f;
  f.type = v.type;
  f.unordered = v.unordered;
  f.stream = v.stream;
  f.ppid = v.ppid;
  f.out_streams = v.out_streams;
  f.in_streams = v.in_streams;
  f.sequence = v.sequence;
  if (v.type == FrameType::data) f.payload = v.buffered ? std::move(*v.buffered) : Bytes(v.payload.begin(), v.payload.end());
  return f;
}

}  // namespace rserpool::transport::tcpmap
