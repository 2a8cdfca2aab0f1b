// rehead_data(): a received DATA turned into the DATA to relay, in its own
// buffer, must be byte for byte what the encoder writes for the same
// message with the new Network Appearance and Routing Context (issue 16).
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "hex.hpp"
#include "mxua/codec.hpp"
#include "mxua/frame_loan.hpp"
#include "mxua/rehead.hpp"

namespace mxua {
namespace {

using test_bytes::hex;

using Opt = std::optional<std::uint32_t>;

DataView sample(ByteView user, Opt na, Opt rc, Opt corr) {
  DataView d;
  d.network_appearance = na;
  d.routing_context = rc;
  d.correlation_id = corr;
  d.protocol_data = ProtocolDataView{PointCode{0x00abcdefU}, PointCode{0x00000123U}, 3, 2, 1, 0x5a, user};
  return d;
}

// What the relay must send: the encoder's bytes for the received message
// with the new NA and RC.
Bytes expected(const DataView& received, Opt na, Opt rc) {
  DataView e = received;
  e.network_appearance = na;
  e.routing_context = rc;
  Bytes out;
  encode_data(e, out);
  return out;
}

void check_rehead(Bytes frame, Opt na, Opt rc) {
  auto d = decode_data(frame);
  ASSERT_TRUE(d.ok()) << d.error().detail;
  const Bytes want = expected(*d, na, rc);  // before the frame changes: d borrows from it
  ASSERT_TRUE(rehead_data(frame, *d, na, rc));
  EXPECT_EQ(hex(frame), hex(want));
  auto again = decode_data(frame);
  ASSERT_TRUE(again.ok()) << again.error().detail;
  EXPECT_EQ(again->routing_context, rc);
  EXPECT_EQ(again->network_appearance, na);
}

TEST(M3uaRehead, EveryCombinationOfOptionalParametersAndPadding) {
  const Opt none;
  const Opt values[] = {none, Opt{7}};
  const Opt new_values[] = {none, Opt{0xfffffffeU}};
  Bytes user;
  for (std::size_t n = 0; n <= 9; ++n) {  // 0..3 octets of padding, twice over
    user.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) user[i] = static_cast<std::uint8_t>(0x10 + i);
    for (const auto& na : values)
      for (const auto& rc : {none, Opt{100}})
        for (const auto& corr : values)
          for (const auto& new_na : new_values)
            for (const auto& new_rc : {none, Opt{1}}) {
              SCOPED_TRACE("user " + std::to_string(n) + " na " + std::to_string(na.has_value()) + " rc " +
                           std::to_string(rc.has_value()) + " corr " + std::to_string(corr.has_value()) +
                           " -> na " + std::to_string(new_na.has_value()) + " rc " +
                           std::to_string(new_rc.has_value()));
              Bytes frame;
              encode_data(sample(ByteView(user), na, rc, corr), frame);
              check_rehead(std::move(frame), new_na, new_rc);
            }
  }
}

// A peer's DATA as the decoder accepts it but the encoder never writes it:
// the Correlation ID before the Protocol Data, the OPC's and DPC's spare
// octets set, non-zero padding, the last parameter's padding left out of
// the message length (and out of the buffer).
TEST(M3uaRehead, UnusualButValidInputGivesTheEncodersBytes) {
  const Bytes frame = {
      0x01, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x25,  // header, length 37 (no final padding)
      0x00, 0x13, 0x00, 0x08, 0xde, 0xad, 0xbe, 0xef,  // Correlation ID first
      0x02, 0x10, 0x00, 0x15,                          // Protocol Data, 21 octets
      0xff, 0x00, 0x00, 0x01,                          // OPC 1 with its spare octet set
      0x77, 0x00, 0x00, 0x02,                          // DPC 2 with its spare octet set
      0x03, 0x02, 0x00, 0x07,                          // SI NI MP SLS
      0xaa, 0xbb, 0xcc, 0xdd, 0xee,                    // user data (5 octets, padding left out)
  };
  for (const auto& rc : {Opt{}, Opt{1}})
    for (const auto& na : {Opt{}, Opt{9}}) {
      SCOPED_TRACE("rc " + std::to_string(rc.has_value()) + " na " + std::to_string(na.has_value()));
      check_rehead(frame, na, rc);
    }
  // Non-zero padding inside the length, RC after the Protocol Data.
  const Bytes padded = {
      0x01, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x24,  // length 36
      0x02, 0x10, 0x00, 0x13,                          // Protocol Data, 19 octets
      0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,  // OPC 1, DPC 2
      0x03, 0x02, 0x00, 0x07,                          // SI NI MP SLS
      0x01, 0x02, 0x03, 0x99,                          // 3 octets of user data, one octet of non-zero padding
      0x00, 0x06, 0x00, 0x08, 0x00, 0x00, 0x00, 0x64,  // RC 100 after it
  };
  check_rehead(padded, Opt{1}, Opt{});
  check_rehead(padded, Opt{}, Opt{1});
  check_rehead(padded, Opt{2}, Opt{1});
}

TEST(M3uaRehead, RefusesAViewThatDoesNotBorrowFromTheFrame) {
  const Bytes user = {1, 2, 3};
  Bytes frame;
  encode_data(sample(ByteView(user), {}, Opt{100}, {}), frame);
  const Bytes before = frame;
  EXPECT_FALSE(rehead_data(frame, sample(ByteView(user), {}, Opt{100}, {}), {}, Opt{1}));
  EXPECT_EQ(frame, before);
}

// encode_data_in_place(): the DATA built in the buffer that holds its user
// data is byte for byte the encoder's, for every combination of optional
// parameters and padding, with or without room to grow in place.
TEST(M3uaEncodeInPlace, GivesTheEncodersBytesInTheUserPartsOwnBuffer) {
  const Opt none;
  for (std::size_t n = 1; n <= 9; ++n)
    for (const auto& na : {none, Opt{7}})
      for (const auto& rc : {none, Opt{100}})
        for (const auto& corr : {none, Opt{0xfffffffeU}})
          for (const bool room : {false, true}) {
            SCOPED_TRACE("user " + std::to_string(n) + " na " + std::to_string(na.has_value()) + " rc " +
                         std::to_string(rc.has_value()) + " corr " + std::to_string(corr.has_value()) + " room " +
                         std::to_string(room));
            Bytes user_part;
            if (room) user_part.reserve(256);
            for (std::size_t i = 0; i < n; ++i) user_part.push_back(static_cast<std::uint8_t>(0x10 + i));
            const Bytes user = user_part;
            Bytes want;
            encode_data(sample(ByteView(user), na, rc, corr), want);
            const auto* storage = user_part.data();
            ASSERT_TRUE(encode_data_in_place(sample(ByteView(user_part), na, rc, corr), user_part));
            EXPECT_EQ(hex(user_part), hex(want));
            if (room) {
              EXPECT_EQ(user_part.data(), storage) << "built in the same storage";
            }
          }
}

TEST(M3uaEncodeInPlace, RefusesAViewThatDoesNotBorrowAllOfTheBuffer) {
  Bytes user_part = {1, 2, 3, 4};
  const Bytes before = user_part;
  const Bytes elsewhere = {1, 2, 3, 4};
  EXPECT_FALSE(encode_data_in_place(sample(ByteView(elsewhere), {}, Opt{1}, {}), user_part));
  EXPECT_FALSE(encode_data_in_place(sample(ByteView(user_part.data(), 3), {}, Opt{1}, {}), user_part));
  EXPECT_FALSE(encode_data_in_place(sample(ByteView(user_part.data() + 1, 3), {}, Opt{1}, {}), user_part));
  EXPECT_EQ(user_part, before);
  Bytes empty;
  EXPECT_FALSE(encode_data_in_place(sample(ByteView(empty), {}, Opt{1}, {}), empty));
}

// decode_data(wire, header): the receiving cores read the common header
// once; the result is decode_data(wire)'s.
TEST(M3uaDecodeData, WithTheHeaderAlreadyReadGivesTheSameView) {
  const Bytes user = {1, 2, 3, 4, 5};
  Bytes frame;
  encode_data(sample(ByteView(user), Opt{4}, Opt{100}, Opt{9}), frame);
  auto hdr = decode_header(frame);
  ASSERT_TRUE(hdr.ok());
  auto a = decode_data(frame);
  auto b = decode_data(frame, *hdr);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(to_owned(*a), to_owned(*b));
  EXPECT_EQ(b->protocol_data.user_data.data(), a->protocol_data.user_data.data());
  Header not_data = *hdr;
  not_data.msg_class = static_cast<std::uint8_t>(MessageClass::Aspsm);
  auto c = decode_data(frame, not_data);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::UnexpectedMessage);
}

// The receive side of the same idea: a DATA indication takes the received
// frame over as its user part instead of copying it (frame_loan.hpp).
TEST(M3uaFrameLoan, ADataIndicationTakesTheLentFrameOnce) {
  const Bytes user = {9, 8, 7, 6, 5};
  Bytes frame;
  encode_data(sample(ByteView(user), {}, Opt{100}, Opt{3}), frame);
  const auto* storage = frame.data();
  auto d = decode_data(frame);
  ASSERT_TRUE(d.ok());
  {
    const FrameLoan loan(frame);
    Data taken = take_owned(*d);
    EXPECT_EQ(taken.protocol_data.user_data, user);
    EXPECT_EQ(taken.protocol_data.user_data.data(), storage) << "the frame's own storage, not a copy";
    EXPECT_EQ(taken.routing_context, Opt{100});
    EXPECT_EQ(taken.correlation_id, Opt{3});
    EXPECT_EQ(taken.protocol_data.opc.value, 0x00abcdefU);
    EXPECT_EQ(taken.protocol_data.sls, 0x5a);
    EXPECT_TRUE(frame.empty());
    // One taker: another DATA in the same scope gets a copy.
    Bytes other;
    encode_data(sample(ByteView(user), {}, Opt{1}, {}), other);
    auto d2 = decode_data(other);
    ASSERT_TRUE(d2.ok());
    Data copied = take_owned(*d2);
    EXPECT_EQ(copied.protocol_data.user_data, user);
    EXPECT_FALSE(other.empty());
  }
}

TEST(M3uaFrameLoan, WithoutALoanOrOutsideTheFrameItCopies) {
  const Bytes user = {1, 2, 3};
  Bytes frame;
  encode_data(sample(ByteView(user), {}, Opt{100}, {}), frame);
  auto d = decode_data(frame);
  ASSERT_TRUE(d.ok());
  Data a = take_owned(*d);  // no loan
  EXPECT_EQ(a.protocol_data.user_data, user);
  EXPECT_EQ(frame.size(), 36U);
  Bytes unrelated = {0, 0, 0, 0};
  const FrameLoan loan(unrelated);
  Data b = take_owned(*d);  // d does not borrow from the lent bytes
  EXPECT_EQ(b.protocol_data.user_data, user);
  EXPECT_EQ(unrelated.size(), 4U);
  EXPECT_EQ(frame.size(), 36U);
}

}  // namespace
}  // namespace mxua
