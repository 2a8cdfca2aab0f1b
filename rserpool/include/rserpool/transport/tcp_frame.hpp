#pragma once
// The TCP mapping's framing, sans-I/O: bytes in, frames out, and back.
// Layout (all big-endian, 16-byte header, docs/transport.md):
//
//    0               1               2               3
//   +-------+-------+---------------+-------------------------------+
//   |version| type  |     flags     |            stream             |
//   +-------+-------+---------------+-------------------------------+
//   |                        payload length                         |
//   +---------------------------------------------------------------+
//   |          ppid (DATA) / out streams | in streams (INIT)        |
//   +---------------------------------------------------------------+
//   |  sequence (DATA) / cumulative ack (DATA_ACK) / nonce (HB)     |
//   +---------------------------------------------------------------+
//   |                      payload (DATA only)                      |
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "rserpool/base/bytes.hpp"
#include "rserpool/base/result.hpp"

namespace rserpool::transport::tcpmap {

inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderSize = 16;
inline constexpr std::uint8_t kFlagUnordered = 0x01;

enum class FrameType : std::uint8_t {
  init = 1,           // first frame each way: stream counts, initial sequence
  data = 2,           // one user message
  data_ack = 3,       // cumulative acknowledgement of DATA sequence numbers
  heartbeat = 4,      // liveness probe, nonce in the sequence field
  heartbeat_ack = 5,  // echoes the nonce
  shutdown = 6,       // sender is done and has everything acknowledged
};

std::string_view to_string(FrameType t) noexcept;

struct Frame {
  FrameType type = FrameType::data;
  bool unordered = false;
  std::uint16_t stream = 0;
  std::uint32_t ppid = 0;  // DATA only
  std::uint16_t out_streams = 0;  // INIT only
  std::uint16_t in_streams = 0;   // INIT only
  std::uint32_t sequence = 0;
  Bytes payload;  // DATA only

  static Frame init(std::uint16_t out_streams, std::uint16_t in_streams, std::uint32_t initial_sequence);
  static Frame data(std::uint32_t sequence, std::uint32_t ppid, std::uint16_t stream, bool unordered, Bytes payload);
  static Frame control(FrameType type, std::uint32_t sequence);
  friend bool operator==(const Frame&, const Frame&) = default;
};

// A decoded frame whose payload is not copied (the receive path, issue 16):
// a view of the bytes given to FrameDecoder::next_view() when the whole
// frame was in them, else of the decoder's own buffer (a frame split across
// reads), which the caller may then take over through `buffered`. Valid
// until the decoder's next call.
struct FrameView {
  FrameType type = FrameType::data;
  bool unordered = false;
  std::uint16_t stream = 0;
  std::uint32_t ppid = 0;          // DATA only
  std::uint16_t out_streams = 0;   // INIT only
  std::uint16_t in_streams = 0;    // INIT only
  std::uint32_t sequence = 0;
  ByteView payload;                // DATA only
  Bytes* buffered = nullptr;       // set: `payload` is all of this buffer (std::move it to keep it)
};

// The frame as a value: the payload taken over from the decoder's buffer
// when it was gathered there, else copied out of the bytes it lies in.
Frame take_frame(FrameView& v);

enum class FrameError : std::uint8_t {
  bad_version,     // not version 1: garbage or a different protocol
  unknown_type,
  oversized,       // payload length above the configured maximum
  bad_length,      // non-DATA frame with a payload
  reserved_flags,  // flags other than U set
};

std::string_view to_string(FrameError e) noexcept;

class FrameEncoder {
 public:
  // Appends the frame's bytes to out.
  static void encode(const Frame& f, Bytes& out);
  // DATA without building a Frame (the hot path: no payload copy but the
  // one into out).
  static void encode_data(std::uint32_t sequence, std::uint32_t ppid, std::uint16_t stream, bool unordered,
                          ByteView payload, Bytes& out);
  // A frame without payload or stream (DATA_ACK, HEARTBEAT, HEARTBEAT_ACK,
  // SHUTDOWN) without building a Frame.
  static void encode_control(FrameType type, std::uint32_t sequence, Bytes& out);
  // The same into room the caller made: kHeaderSize bytes at `at`. Returns
  // the end of the frame.
  static std::uint8_t* write_control(FrameType type, std::uint32_t sequence, std::uint8_t* at) noexcept;
  static std::uint8_t* write_init(std::uint16_t out_streams, std::uint16_t in_streams, std::uint32_t initial_sequence,
                                  std::uint8_t* at) noexcept;
  // The same into room the caller made: exactly kHeaderSize + payload.size()
  // bytes at `at` (a batch of frames sized and grown once: one resize, not
  // one per frame). Returns the end of the frame.
  static std::uint8_t* write_data(std::uint32_t sequence, std::uint32_t ppid, std::uint16_t stream, bool unordered,
                                  ByteView payload, std::uint8_t* at) noexcept;
};

// Incremental decoder: feed any split of the byte stream, take frames.
// The first error is sticky: after it the stream cannot be resynchronised
// and the association must close.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_payload) : max_payload_(max_payload) {}

  // Consumes bytes from data up to the end of the next complete frame (or all of
  // data if no frame completes). Returns the frame, nothing (need more bytes,
  // and `consumed` tells how much was taken), or the error.
  // (A Frame with its own payload: tests and tools; the receive path uses next_view().)
  Result<std::optional<Frame>, FrameError> next(ByteView data, std::size_t& consumed);
  // The same without building a Frame or copying the payload: true when
  // `out` holds the next frame (see FrameView), false when every byte of
  // data was taken and the frame is not complete yet. A frame wholly inside
  // data is decoded in place: its payload is a view of data.
  Result<bool, FrameError> next_view(ByteView data, std::size_t& consumed, FrameView& out);

  // True between frames (no partial header or payload buffered).
  bool idle() const noexcept { return header_fill_ == 0 && !in_payload_; }
  std::optional<FrameError> error() const noexcept { return error_; }
  // Memory held for the frame being decoded: grows with the bytes that
  // arrive, not with the length the header announces.
  std::size_t held_bytes() const noexcept { return payload_.capacity(); }

 private:

  std::size_t max_payload_;
  std::uint8_t header_[kHeaderSize]{};
  std::size_t header_fill_ = 0;
  bool in_payload_ = false;
  std::size_t payload_needed_ = 0;
  FrameView head_;  // the header of a frame split across reads
  Bytes payload_;   // and the payload that arrived of it
  std::optional<FrameError> error_;
};

}  // namespace rserpool::transport::tcpmap
