// rehead_data(): a received DATA turned into the DATA to relay, in its own
// buffer, must be byte for byte what the encoder writes for the same
// message with the new Network Appearance and Routing Context (issue 16).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

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

TEST(M3uaEncodeInPlace, RefusesAViewThatDoesNotBorrowFromTheBuffer) {
  Bytes user_part = {1, 2, 3, 4};
  const Bytes before = user_part;
  const Bytes elsewhere = {1, 2, 3, 4};
  EXPECT_FALSE(encode_data_in_place(sample(ByteView(elsewhere), {}, Opt{1}, {}), user_part));
  EXPECT_FALSE(encode_data_in_place(sample(ByteView(user_part.data() + 1, 4), {}, Opt{1}, {}), user_part))
      << "runs past the buffer's end";
  EXPECT_EQ(user_part, before);
  Bytes empty;
  EXPECT_FALSE(encode_data_in_place(sample(ByteView(empty), {}, Opt{1}, {}), empty));
}

// The relay's case (issue 16): a received DATA kept in its frame
// (take_owned() under a FrameLoan that keeps it: the user data where it
// lay, the frame cut after it) re-headed with another NA and RC is the
// encoder's bytes; when the new header is as long as the received one the
// user data does not move, and when it is not it moves once.
TEST(M3uaEncodeInPlace, ReheadsAKeptFrameWhereItsUserDataLies) {
  const Opt none;
  for (std::size_t n = 1; n <= 9; ++n)
    for (const auto& in_na : {none, Opt{4}})
      for (const auto& in_rc : {none, Opt{100}})
        for (const auto& in_corr : {none, Opt{9}})
          for (const auto& na : {none, Opt{7}})
            for (const auto& rc : {none, Opt{200}}) {
              SCOPED_TRACE("user " + std::to_string(n) + " in na/rc/corr " + std::to_string(in_na.has_value()) +
                           std::to_string(in_rc.has_value()) + std::to_string(in_corr.has_value()) + " out na/rc " +
                           std::to_string(na.has_value()) + std::to_string(rc.has_value()));
              Bytes user;
              for (std::size_t i = 0; i < n; ++i) user.push_back(static_cast<std::uint8_t>(0x30 + i));
              Bytes frame;
              frame.reserve(256);
              encode_data(sample(ByteView(user), in_na, in_rc, in_corr), frame);
              Data kept;
              {
                auto d = decode_data(frame);
                ASSERT_TRUE(d.ok());
                const FrameLoan loan(frame, /*keep*/ true);
                kept = take_owned(*d);
              }
              const std::size_t head_in = 8 + (in_na ? 8U : 0U) + (in_rc ? 8U : 0U) + 16;
              ASSERT_EQ(kept.protocol_data.user_at, head_in) << "left where it lay";
              ASSERT_EQ(kept.protocol_data.user_data.size(), head_in + n) << "cut after the user data";
              EXPECT_EQ(Bytes(kept.protocol_data.user_part().begin(), kept.protocol_data.user_part().end()), user);
              DataView out = to_view(kept);
              out.network_appearance = na;
              out.routing_context = rc;
              out.correlation_id.reset();
              Bytes want;
              encode_data(out, want);
              Bytes& buf = kept.protocol_data.user_data;
              const auto* storage = buf.data();
              const auto* user_before = out.protocol_data.user_data.data();
              const std::size_t head_out = 8 + (na ? 8U : 0U) + (rc ? 8U : 0U) + 16;
              ASSERT_TRUE(encode_data_in_place(out, buf));
              EXPECT_EQ(hex(buf), hex(want));
              EXPECT_EQ(buf.data(), storage) << "built in the same storage";
              if (head_out == head_in) {
                EXPECT_EQ(buf.data() + head_out, user_before) << "the user data did not move";
              }
            }
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

// decode_data_now(): the receiving cores' shortcut accepts exactly what
// decode_header() and decode_data() accept, with the same view: every
// DATA shape, and every one of them with one octet changed, cut short or
// lengthened (a DATA the shortcut wrongly accepted would skip its ERR).
TEST(M3uaDecodeData, TheShortcutAcceptsExactlyWhatTheFullDecodeAccepts) {
  const Opt none;
  std::vector<Bytes> frames;
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{4}, std::size_t{7}})
    for (const auto& na : {none, Opt{4}})
      for (const auto& rc : {none, Opt{100}})
        for (const auto& corr : {none, Opt{9}}) {
          Bytes user(n, 0x41);
          Bytes f;
          encode_data(sample(ByteView(user), na, rc, corr), f);
          frames.push_back(f);
        }
  int accepted = 0, refused = 0;
  auto check = [&](const Bytes& w) {
    DataView fast;
    const bool now = decode_data_now(w, DecodeLimits{}, fast);
    auto hdr = decode_header(w);
    const bool full_ok = hdr.ok() && hdr->msg_class == 1 && decode_data(w, *hdr).ok();
    ASSERT_EQ(now, full_ok) << hex(w);
    if (!now) {
      ++refused;
      return;
    }
    ++accepted;
    auto full = decode_data(w);
    EXPECT_EQ(to_owned(fast), to_owned(*full)) << hex(w);
    EXPECT_EQ(fast.protocol_data.user_data.data(), full->protocol_data.user_data.data());
  };
  for (const auto& f : frames) {
    check(f);
    for (std::size_t i = 0; i < f.size(); ++i)
      // Small lengths and counts, and every tag's octets (0x0006 RC, 0x0013
      // Correlation Id, 0x0200 NA, 0x0210 Protocol Data): a tag turned into
      // another repeats a parameter or puts one where it is not allowed.
      for (const std::uint8_t v : {std::uint8_t{0}, std::uint8_t{1}, std::uint8_t{2}, std::uint8_t{3},
                                   std::uint8_t{4}, std::uint8_t{6}, std::uint8_t{8}, std::uint8_t{0x10},
                                   std::uint8_t{0x13}, std::uint8_t{0xff}}) {
        Bytes m = f;
        m[i] = v;
        check(m);
      }
    for (std::size_t cut = 1; cut <= 8 && cut < f.size(); ++cut) check(Bytes(f.begin(), f.end() - static_cast<std::ptrdiff_t>(cut)));
    Bytes longer = f;
    longer.push_back(0);
    check(longer);
  }
  EXPECT_GT(accepted, 100);
  EXPECT_GT(refused, 100);
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

// Lent to keep (a relay's receiver): the frame is taken as it lies, the
// user data not moved to its front.
TEST(M3uaFrameLoan, LentToKeepTheUserDataStaysWhereItLay) {
  const Bytes user = {9, 8, 7, 6, 5};
  Bytes frame;
  encode_data(sample(ByteView(user), Opt{4}, Opt{100}, Opt{3}), frame);
  const auto* storage = frame.data();
  auto d = decode_data(frame);
  ASSERT_TRUE(d.ok());
  const auto* user_in_frame = d->protocol_data.user_data.data();
  const FrameLoan loan(frame, /*keep*/ true);
  Data taken = take_owned(*d);
  const auto& pd = taken.protocol_data;
  EXPECT_EQ(pd.user_data.data(), storage) << "the frame's own storage";
  EXPECT_EQ(pd.user_part().data(), user_in_frame) << "the user data not moved";
  EXPECT_EQ(pd.user_at, 8U + 8U + 8U + 16U);
  EXPECT_EQ(Bytes(pd.user_part().begin(), pd.user_part().end()), user);
  EXPECT_EQ(to_owned(to_view(taken)).protocol_data.user_data, user);
  EXPECT_TRUE(frame.empty());
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
