#include <gtest/gtest.h>

#include "golden.hpp"
#include "hex.hpp"
#include "mxua/codec.hpp"

namespace mxua {
namespace {

using test_bytes::hex;

TEST(M3uaGolden, EveryVectorDecodesToItsValueAndEncodesBackToTheSameBytes) {
  const auto vs = golden::all();
  ASSERT_EQ(vs.size(), 23U);  // one per message type
  for (const auto& v : vs) {
    SCOPED_TRACE(v.name);
    auto m = decode(v.wire);
    ASSERT_TRUE(m.ok()) << m.error().detail;
    EXPECT_TRUE(*m == v.value);
    EXPECT_EQ(message_id(*m), message_id(v.value));
    const Bytes again = encode(v.value);
    EXPECT_EQ(hex(again), hex(v.wire));
  }
}

TEST(M3uaGolden, EveryTruncationIsAnErrorNotACrash) {
  for (const auto& v : golden::all()) {
    for (std::size_t n = 0; n < v.wire.size(); ++n) {
      auto m = decode(ByteView(v.wire).first(n));
      EXPECT_FALSE(m.ok()) << v.name << " truncated to " << n;
    }
  }
}

TEST(M3uaGolden, TruncatedLengthFieldAlsoFails) {
  // Shorten the declared length by 4 without shrinking the buffer: the data
  // no longer matches the header, whatever the message.
  for (auto v : golden::all()) {
    if (v.wire.size() <= 8) continue;
    v.wire[7] = static_cast<std::uint8_t>(v.wire[7] - 4);
    EXPECT_FALSE(decode(v.wire).ok()) << v.name;
  }
}

TEST(M3uaCodec, AcceptsLengthWithoutFinalPadding) {
  // BEAT with 5 bytes of heartbeat data: 17 bytes without the final padding.
  Bytes w{0x01, 0x00, 0x03, 0x03, 0x00, 0x00, 0x00, 0x11, 0x00, 0x09, 0x00, 0x09, 1, 2, 3, 4, 5, 0, 0, 0};
  auto m = decode(w);
  ASSERT_TRUE(m.ok()) << m.error().detail;
  EXPECT_EQ(std::get<Beat>(*m).heartbeat_data, (Bytes{1, 2, 3, 4, 5}));
  // ... and also when the buffer itself stops before the padding.
  w.resize(17);
  EXPECT_TRUE(decode(w).ok());
  // DATA fast path too.
  Data d;
  d.protocol_data = ProtocolData{PointCode{1}, PointCode{2}, 5, 2, 0, 3, Bytes{0xaa}};
  Bytes wd = encode(Message{d});
  ASSERT_EQ(wd.size(), 28U);
  wd[7] = 25;
  auto dv = decode_data(wd);
  ASSERT_TRUE(dv.ok()) << dv.error().detail;
  EXPECT_EQ(dv->protocol_data.user_data.size(), 1U);
}

TEST(M3uaCodec, InvalidVersion) {
  Bytes w{0x02, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 0x08};
  auto m = decode(w);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::InvalidVersion);
  auto err = make_error_reply(m.error());
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, ErrorCode::InvalidVersion);
}

TEST(M3uaCodec, UnsupportedClassAndTypeQuoteFirst40Bytes) {
  Bytes w(60, 0);
  w[0] = 1;
  w[2] = 5;  // reserved for other adaptation layers
  w[3] = 1;
  w[7] = 60;
  auto m = decode(w);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::UnsupportedMessageClass);
  auto err = make_error_reply(m.error());
  ASSERT_TRUE(err && err->diagnostic);
  EXPECT_EQ(err->diagnostic->size(), 40U);
  EXPECT_TRUE(std::equal(err->diagnostic->begin(), err->diagnostic->end(), w.begin()));

  w[2] = 3;
  w[3] = 9;  // ASPSM type 9 does not exist
  m = decode(w);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::UnsupportedMessageType);
  EXPECT_EQ(make_error_reply(m.error())->diagnostic->size(), 40U);

  w[2] = 1;
  w[3] = 0;  // Transfer type 0 reserved
  m = decode(w);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::UnsupportedMessageType);
}

TEST(M3uaCodec, NeverAnErrInReplyToAnErr) {
  // ERR with a bad parameter length, and a truncated ERR.
  Bytes w{0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x0c, 0x00, 0x07, 0x00, 0x00, 0x00, 0x04};
  auto m = decode(w);
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(m.error().offender_is_err);
  EXPECT_FALSE(make_error_reply(m.error()).has_value());
  auto t = decode(ByteView(w).first(6));
  ASSERT_FALSE(t.ok());
  EXPECT_FALSE(make_error_reply(t.error()).has_value());
  // ERR missing its Error Code.
  Bytes e{0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08};
  auto me = decode(e);
  ASSERT_FALSE(me.ok());
  EXPECT_EQ(me.error().code, ErrorCode::MissingParameter);
  EXPECT_FALSE(make_error_reply(me.error()).has_value());
}

TEST(M3uaCodec, ParameterErrors) {
  // NTFY without Status -> missing parameter.
  Bytes ntfy{0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x11, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01};
  auto m = decode(ntfy);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::MissingParameter);
  // ASPUP carrying a Routing Context -> unexpected parameter.
  Bytes up{0x01, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x06, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01};
  m = decode(up);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::UnexpectedParameter);
  // ASP Identifier of 3 bytes -> parameter field error.
  Bytes bad{0x01, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x11, 0x00, 0x07, 0x00, 0x00, 0x01, 0x00};
  m = decode(bad);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::ParameterFieldError);
  // Parameter length running past the message.
  Bytes over{0x01, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x11, 0x00, 0x20, 0x00, 0x00, 0x00, 0x01};
  m = decode(over);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::ParameterFieldError);
  // Repeated ASP Identifier.
  Bytes rep{0x01, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 0x18, 0x00, 0x11, 0x00, 0x08, 0, 0, 0, 1,
            0x00, 0x11, 0x00, 0x08, 0, 0, 0, 2};
  m = decode(rep);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::UnexpectedParameter);
  // DATA without Protocol Data.
  Bytes data{0x01, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x06, 0x00, 0x08, 0, 0, 0, 1};
  m = decode(data);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::MissingParameter);
}

TEST(M3uaCodec, DupuNeedsMaskZero) {
  auto v = golden::all();
  auto it = std::find_if(v.begin(), v.end(), [](const auto& g) { return g.name == "DUPU"; });
  Bytes w = it->wire;
  w[12] = 2;  // mask
  auto m = decode(w);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::InvalidParameterValue);
}

TEST(M3uaCodec, HostileListSizesAreRefused) {
  DeregReq big;
  for (std::uint32_t i = 0; i < 65; ++i) big.routing_contexts.push_back(i);
  Bytes w = encode(Message{big});
  auto m = decode(w);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::ParameterFieldError);
  DecodeLimits roomy;
  roomy.max_routing_contexts = 100;
  EXPECT_TRUE(decode(w, roomy).ok());
  DecodeLimits tiny;
  tiny.max_message_size = 16;
  auto t = decode(w, tiny);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::ProtocolError);
}

TEST(M3uaCodec, RoutingKeyWithRepeatedDpcGroups) {
  RoutingKey rk;
  rk.local_rk_id = 9;
  rk.routing_context = 200;
  rk.traffic_mode = TrafficMode::Override;
  rk.network_appearance = 3;
  rk.destinations = {
      {MaskedPointCode{0, PointCode{0x101c}}, {3, 5}, {}},
      {MaskedPointCode{3, PointCode{0x2000}}, {}, {MaskedPointCode{0, PointCode{1}}, MaskedPointCode{2, PointCode{8}}}},
      {MaskedPointCode{0, PointCode{0x3000}}, {}, {}},
  };
  RegReq req{{rk, rk}};
  req.routing_keys[1].local_rk_id = 10;
  auto m = decode(encode(Message{req}));
  ASSERT_TRUE(m.ok()) << m.error().detail;
  EXPECT_TRUE(std::get<RegReq>(*m) == req);
  // SI before any DPC is refused.
  Bytes w{0x01, 0x00, 0x09, 0x01, 0x00, 0x00, 0x00, 0x1c, 0x02, 0x07, 0x00, 0x14, 0x02, 0x0a, 0x00, 0x08,
          0,    0,    0,    1,    0x02, 0x0c, 0x00, 0x05, 0x05, 0,    0,    0};
  auto bad = decode(w);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::UnexpectedParameter);
}

TEST(M3uaCodec, RoundTripOfEveryOptionalField) {
  std::vector<Message> ms;
  ms.push_back(Err{ErrorCode::InvalidNetworkAppearance, {1, 2}, 5, {MaskedPointCode{1, PointCode{0x123456}}}, Bytes{1}});
  ms.push_back(Ntfy{Status{StatusType::Other, status_info::kAlternateAspActive}, 7, {}, std::string("takeover")});
  Scon s;
  s.network_appearance = 1;
  s.routing_contexts = {3};
  s.affected_point_codes = {MaskedPointCode{0, PointCode{5}}, MaskedPointCode{8, PointCode{0x100}}};
  s.info = "c";
  ms.push_back(s);
  ms.push_back(AspUpAck{42, std::string("hello")});
  ms.push_back(Beat{});
  ms.push_back(AspAcAck{TrafficMode::Broadcast, {}, std::string("")});
  ms.push_back(AspIa{{}, std::nullopt});
  ms.push_back(RegRsp{{RegistrationResult{1, RegistrationStatus::PermissionDenied, 0},
                       RegistrationResult{2, RegistrationStatus::Success, 77}}});
  ms.push_back(DeregRsp{{DeregistrationResult{1, DeregistrationStatus::NotRegistered},
                         DeregistrationResult{2, DeregistrationStatus::AspCurrentlyActive}}});
  Data d;
  d.protocol_data.user_data = Bytes(273, 0x5a);
  ms.push_back(d);
  for (const auto& m : ms) {
    auto back = decode(encode(m));
    ASSERT_TRUE(back.ok()) << message_name(message_id(m).msg_class, message_id(m).msg_type) << ": " << back.error().detail;
    EXPECT_TRUE(*back == m) << message_name(message_id(m).msg_class, message_id(m).msg_type);
    EXPECT_EQ(encode(m).size() % 4, 0U);
  }
}

TEST(M3uaData, FastPathBorrowsTheUserData) {
  const auto vs = golden::all();
  const auto& g = *std::find_if(vs.begin(), vs.end(), [](const auto& v) { return v.name == "DATA"; });
  auto dv = decode_data(g.wire);
  ASSERT_TRUE(dv.ok());
  EXPECT_EQ(dv->protocol_data.user_data.data(), g.wire.data() + 40);  // a view, not a copy
  EXPECT_EQ(dv->protocol_data.dpc.value, golden::kDpc);
  EXPECT_EQ(dv->protocol_data.sls, 0x0a);
  EXPECT_EQ(dv->correlation_id, 0x12345678U);
  // Caller buffer: too small -> 0, exact -> the golden bytes.
  std::vector<std::uint8_t> buf(encoded_data_size(*dv));
  EXPECT_EQ(encode_data(*dv, std::span<std::uint8_t>(buf).first(buf.size() - 1)), 0U);
  EXPECT_EQ(encode_data(*dv, std::span<std::uint8_t>(buf)), g.wire.size());
  EXPECT_EQ(hex(buf), hex(g.wire));
  // Not a DATA message.
  EXPECT_FALSE(decode_data(golden::all()[0].wire).ok());
}

TEST(M3uaNames, MessageAndErrorNames) {
  EXPECT_EQ(message_name(3, type::kAspUpAck), "ASPUP ACK");
  EXPECT_EQ(message_name(9, type::kDeregRsp), "DEREG RSP");
  EXPECT_EQ(to_string(ErrorCode::NoConfiguredAsForAsp), "No Configured AS for ASP");
  EXPECT_EQ(to_string(RegistrationStatus::AlreadyRegistered), "Routing Key Already Registered");
}

}  // namespace
}  // namespace mxua
