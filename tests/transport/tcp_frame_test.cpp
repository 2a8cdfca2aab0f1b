// The TCP mapping framing codec on its own: layout, round trips, every
// split of the byte stream, and every kind of bad input.
#include <gtest/gtest.h>

#include "rserpool/transport/tcp_frame.hpp"

using namespace rserpool;
using namespace rserpool::transport::tcpmap;

namespace {

std::vector<Frame> sample_frames() {
  std::vector<Frame> v;
  v.push_back(Frame::init(16, 32, 1));
  v.push_back(Frame::data(1, 3, 5, false, Bytes{0xde, 0xad, 0xbe}));
  v.push_back(Frame::data(2, 11, 0, true, Bytes{}));
  v.push_back(Frame::control(FrameType::data_ack, 2));
  v.push_back(Frame::control(FrameType::heartbeat, 0xfffffffe));
  v.push_back(Frame::control(FrameType::heartbeat_ack, 0xfffffffe));
  Bytes big(1000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 7);
  v.push_back(Frame::data(3, 0xfaeeb5d1, 65535, false, big));
  v.push_back(Frame::control(FrameType::shutdown, 0));
  return v;
}

Bytes encode_all(const std::vector<Frame>& frames) {
  Bytes out;
  for (const auto& f : frames) FrameEncoder::encode(f, out);
  return out;
}

// Feeds data in pieces of the given sizes (cycled) and collects frames.
Result<std::vector<Frame>, FrameError> decode_in_pieces(ByteView data, std::vector<std::size_t> pieces,
                                                        std::size_t max = 70000) {
  FrameDecoder d(max);
  std::vector<Frame> out;
  std::size_t pos = 0;
  std::size_t k = 0;
  while (pos < data.size()) {
    const std::size_t len = std::min(pieces[k++ % pieces.size()], data.size() - pos);
    ByteView piece = data.subspan(pos, len);
    std::size_t off = 0;
    while (off < piece.size()) {
      std::size_t consumed = 0;
      auto r = d.next(piece.subspan(off), consumed);
      if (!r) return unexpected(r.error());
      off += consumed;
      if (r->has_value()) out.push_back(std::move(**r));
      else if (consumed == 0) break;
    }
    pos += len;
  }
  EXPECT_TRUE(d.idle());
  return out;
}

}  // namespace

TEST(TcpFrame, DataLayoutIsAsDocumented) {
  Bytes out;
  FrameEncoder::encode(Frame::data(0x01020304, 3, 0x0a0b, true, Bytes{0x55, 0x66}), out);
  const Bytes expected = {0x12, 0x01, 0x0a, 0x0b,  // version 1 | DATA, U flag, stream
                          0x00, 0x00, 0x00, 0x02,  // payload length
                          0x00, 0x00, 0x00, 0x03,  // ppid (M3UA)
                          0x01, 0x02, 0x03, 0x04,  // sequence
                          0x55, 0x66};
  EXPECT_EQ(out, expected);
}

TEST(TcpFrame, InitLayoutCarriesStreamCounts) {
  Bytes out;
  FrameEncoder::encode(Frame::init(10, 20, 1), out);
  const Bytes expected = {0x11, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x0a, 0x00, 0x14, 0, 0, 0, 1};
  EXPECT_EQ(out, expected);
}

TEST(TcpFrame, RoundTripInOneRead) {
  auto frames = sample_frames();
  auto bytes = encode_all(frames);
  auto r = decode_in_pieces(bytes, {bytes.size()});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, frames);
}

TEST(TcpFrame, RoundTripSplitAtEveryByteBoundary) {
  auto frames = sample_frames();
  auto bytes = encode_all(frames);
  for (std::size_t cut = 1; cut < bytes.size(); ++cut) {
    auto r = decode_in_pieces(bytes, {cut, bytes.size()});
    ASSERT_TRUE(r.ok()) << "cut " << cut;
    ASSERT_EQ(*r, frames) << "cut " << cut;
  }
}

TEST(TcpFrame, RoundTripOneByteAtATimeAndOddPieces) {
  auto frames = sample_frames();
  auto bytes = encode_all(frames);
  for (std::vector<std::size_t> pieces : {std::vector<std::size_t>{1}, {2}, {3}, {7, 1, 13}, {15, 17}, {16}}) {
    auto r = decode_in_pieces(bytes, pieces);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, frames);
  }
}

// The receive path's decoding (next_view): a frame wholly inside the bytes
// given is a view of them (nothing copied), one split across reads comes
// from the decoder's own buffer, which the caller can take over; either
// way the same frames as next() gives.
TEST(TcpFrame, ViewDecodesWholeFramesInPlaceAndGathersSplitOnes) {
  const auto frames = sample_frames();
  const auto bytes = encode_all(frames);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    FrameDecoder d(70000);
    std::vector<Frame> got;
    std::size_t in_place = 0;
    for (ByteView piece : {ByteView(bytes).first(cut), ByteView(bytes).subspan(cut)}) {
      std::size_t off = 0;
      while (off < piece.size()) {
        std::size_t consumed = 0;
        FrameView v;
        auto r = d.next_view(piece.subspan(off), consumed, v);
        ASSERT_TRUE(r.ok()) << "cut " << cut;
        const ByteView rest = piece.subspan(off);
        off += consumed;
        if (!*r) break;
        if (v.buffered) {
          ASSERT_EQ(v.payload.data(), v.buffered->data());
          ASSERT_EQ(v.payload.size(), v.buffered->size());
        } else {
          // In place: the payload lies right after the header in the input.
          ASSERT_EQ(v.payload.data(), rest.data() + kHeaderSize) << "cut " << cut;
          ++in_place;
        }
        got.push_back(take_frame(v));  // a gathered payload taken over, as the session does
      }
    }
    EXPECT_TRUE(d.idle());
    ASSERT_EQ(got, frames) << "cut " << cut;
    // Only the frame the cut falls into (if any) is gathered.
    EXPECT_GE(in_place, frames.size() - 1) << "cut " << cut;
  }
}

TEST(TcpFrame, MaximumPayloadAcceptedOneMoreRejected) {
  Bytes out;
  FrameEncoder::encode(Frame::data(1, 0, 0, false, Bytes(100, 1)), out);
  EXPECT_TRUE(decode_in_pieces(out, {out.size()}, 100).ok());
  auto r = decode_in_pieces(out, {out.size()}, 99);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), FrameError::oversized);
}

TEST(TcpFrame, OversizedDetectedFromTheHeaderAlone) {
  Bytes out;
  FrameEncoder::encode(Frame::data(1, 0, 0, false, Bytes(5000, 1)), out);
  FrameDecoder d(1000);
  std::size_t consumed = 0;
  auto r = d.next(ByteView(out).first(kHeaderSize), consumed);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), FrameError::oversized);
}

TEST(TcpFrame, BadVersionRejected) {
  Bytes out;
  FrameEncoder::encode(Frame::control(FrameType::heartbeat, 1), out);
  out[0] = 0x24;  // version 2
  auto r = decode_in_pieces(out, {out.size()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), FrameError::bad_version);
}

TEST(TcpFrame, UnknownTypesRejected) {
  for (int t : {0, 7, 8, 15}) {
    Bytes out;
    FrameEncoder::encode(Frame::control(FrameType::heartbeat, 1), out);
    out[0] = static_cast<std::uint8_t>(0x10 | t);
    auto r = decode_in_pieces(out, {out.size()});
    ASSERT_FALSE(r.ok()) << t;
    EXPECT_EQ(r.error(), FrameError::unknown_type);
  }
}

TEST(TcpFrame, ControlFrameWithPayloadRejected) {
  Bytes out;
  FrameEncoder::encode(Frame::control(FrameType::data_ack, 1), out);
  out[7] = 4;
  auto r = decode_in_pieces(out, {out.size()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), FrameError::bad_length);
}

TEST(TcpFrame, ReservedFlagsRejected) {
  Bytes out;
  FrameEncoder::encode(Frame::data(1, 0, 0, false, Bytes{1}), out);
  out[1] = 0x80;
  auto r = decode_in_pieces(out, {out.size()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), FrameError::reserved_flags);
}

TEST(TcpFrame, ErrorIsStickyAndNothingMoreIsDecoded) {
  Bytes garbage = {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1', '.', '1', '\r', '\n'};
  Bytes good;
  FrameEncoder::encode(Frame::control(FrameType::heartbeat, 1), good);
  FrameDecoder d(1000);
  std::size_t consumed = 0;
  EXPECT_FALSE(d.next(garbage, consumed).ok());
  EXPECT_FALSE(d.next(good, consumed).ok());
  EXPECT_EQ(consumed, 0u);
  EXPECT_EQ(d.error(), FrameError::bad_version);
}

TEST(TcpFrame, TruncatedInputWaitsForMore) {
  Bytes out;
  FrameEncoder::encode(Frame::data(1, 3, 0, false, Bytes(50, 9)), out);
  FrameDecoder d(1000);
  std::size_t consumed = 0;
  auto r = d.next(ByteView(out).first(out.size() - 1), consumed);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  EXPECT_EQ(consumed, out.size() - 1);
  EXPECT_FALSE(d.idle());
  r = d.next(ByteView(out).last(1), consumed);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->payload, Bytes(50, 9));
}

// A peer announcing a large DATA frame and sending little of it makes us
// hold what arrived, not what the header claims.
TEST(TcpFrame, PartialFrameHoldsWhatArrivedNotWhatWasAnnounced) {
  Bytes out;
  FrameEncoder::encode(Frame::data(1, 3, 0, false, Bytes(60'000, 7)), out);
  FrameDecoder d(65'536);
  std::size_t consumed = 0;
  auto r = d.next(ByteView(out).first(kHeaderSize + 10), consumed);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  EXPECT_LE(d.held_bytes(), 4096u);
  r = d.next(ByteView(out).subspan(kHeaderSize + 10), consumed);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->payload, Bytes(60'000, 7));
}

TEST(TcpFrame, RandomGarbageNeverCrashes) {
  std::uint32_t x = 12345;
  for (int round = 0; round < 2000; ++round) {
    Bytes junk(static_cast<std::size_t>(x % 200));
    for (auto& b : junk) {
      x = x * 1664525u + 1013904223u;
      b = static_cast<std::uint8_t>(x >> 24);
    }
    if (!junk.empty() && round % 2 == 0) junk[0] = static_cast<std::uint8_t>(0x10 | (junk[0] & 0x0f));
    FrameDecoder d(4096);
    std::size_t pos = 0;
    while (pos < junk.size()) {
      std::size_t consumed = 0;
      auto r = d.next(ByteView(junk).subspan(pos), consumed);
      ASSERT_LE(consumed, junk.size() - pos);
      if (!r) break;
      pos += consumed;
      if (!r->has_value()) break;
      ASSERT_LE((*r)->payload.size(), 4096u);
    }
  }
}
