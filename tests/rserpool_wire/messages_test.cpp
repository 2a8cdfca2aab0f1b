// ASAP and ENRP messages: hand-written golden vectors in both directions,
// and round trips of every message type.
#include <gtest/gtest.h>

#include <set>

#include "samples.hpp"

namespace {

using namespace wiretest;

std::string hex(const Bytes& b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (auto c : b) {
    s += digits[c >> 4];
    s += digits[c & 0xf];
    s += ' ';
  }
  return s;
}

TEST(AsapGolden, EncodeMatchesHandWrittenBytes) {
  for (const auto& g : asap_golden()) {
    SCOPED_TRACE(g.name);
    EXPECT_EQ(hex(asap::encode(g.message)), hex(g.bytes));
  }
}

TEST(AsapGolden, DecodeMatchesHandWrittenValue) {
  for (const auto& g : asap_golden()) {
    SCOPED_TRACE(g.name);
    auto d = asap::decode(g.bytes);
    ASSERT_TRUE(d.ok()) << d.error().detail;
    EXPECT_TRUE(d->message == g.message);
    EXPECT_TRUE(d->unrecognized.empty());
  }
}

TEST(EnrpGolden, EncodeMatchesHandWrittenBytes) {
  for (const auto& g : enrp_golden()) {
    SCOPED_TRACE(g.name);
    EXPECT_EQ(hex(enrp::encode(g.message)), hex(g.bytes));
  }
}

TEST(EnrpGolden, DecodeMatchesHandWrittenValue) {
  for (const auto& g : enrp_golden()) {
    SCOPED_TRACE(g.name);
    auto d = enrp::decode(g.bytes);
    ASSERT_TRUE(d.ok()) << d.error().detail;
    EXPECT_TRUE(d->message == g.message);
  }
}

TEST(AsapMessages, EveryTypeRoundTrips) {
  std::set<asap::MessageType> seen;
  for (const auto& m : asap_samples()) {
    SCOPED_TRACE(std::string(asap::to_string(asap::message_type(m))));
    const Bytes wire = asap::encode(m);
    EXPECT_EQ(wire.size() % 4, 0U);
    EXPECT_EQ(wire[0], static_cast<std::uint8_t>(asap::message_type(m)));
    EXPECT_LE(load_u16(wire.data() + 2), wire.size());
    EXPECT_GT(load_u16(wire.data() + 2) + 4U, wire.size());  // at most 3 pad bytes, not counted
    auto d = asap::decode(wire);
    ASSERT_TRUE(d.ok()) << d.error().detail;
    EXPECT_TRUE(d->message == m);
    seen.insert(asap::message_type(m));
  }
  EXPECT_EQ(seen.size(), 14U);  // 0x01-0x0e
}

TEST(EnrpMessages, EveryTypeRoundTrips) {
  std::set<enrp::MessageType> seen;
  for (const auto& m : enrp_samples()) {
    SCOPED_TRACE(std::string(enrp::to_string(enrp::message_type(m))));
    const Bytes wire = enrp::encode(m);
    EXPECT_EQ(wire.size() % 4, 0U);
    EXPECT_EQ(load_u32(wire.data() + 4), enrp::sender_id(m));
    auto d = enrp::decode(wire);
    ASSERT_TRUE(d.ok()) << d.error().detail;
    EXPECT_TRUE(d->message == m);
    seen.insert(enrp::message_type(m));
  }
  EXPECT_EQ(seen.size(), 10U);  // 0x01-0x0a
}

TEST(AsapMessages, FlagBits) {
  const PoolHandle h("p");
  EXPECT_EQ(asap::encode(asap::RegistrationResponse{true, h, 1, {}})[1], asap::kRejectFlag);
  EXPECT_EQ(asap::encode(asap::RegistrationResponse{false, h, 1, {}})[1], 0);
  EXPECT_EQ(asap::encode(asap::HandleResolution{true, h, std::nullopt})[1], asap::kSubscribeFlag);
  EXPECT_EQ(asap::encode(asap::HandleResolutionResponse{true, h, std::nullopt, {}, {}})[1], asap::kAcceptFlag);
  EXPECT_EQ(asap::encode(asap::EndpointKeepAlive{true, 1, h, std::nullopt})[1], asap::kHomeFlag);
  EXPECT_EQ(asap::encode(asap::EndpointKeepAlive{false, 1, h, std::nullopt})[1], 0);
}

TEST(AsapMessages, UndefinedFlagBitsAreIgnoredOnReceipt) {
  Bytes wire = asap::encode(asap::Deregistration{PoolHandle("p"), 5});
  wire[1] = 0xff;
  auto d = asap::decode(wire);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->message == asap::Message(asap::Deregistration{PoolHandle("p"), 5}));
  // The R flag only uses bit 0x01.
  wire = asap::encode(asap::RegistrationResponse{false, PoolHandle("p"), 5, {}});
  wire[1] = 0xfe;
  d = asap::decode(wire);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(std::get<asap::RegistrationResponse>(d->message).rejected);
}

TEST(EnrpMessages, FlagBits) {
  using namespace enrp;
  EXPECT_EQ(encode(Presence{1, 0, true, 0, std::nullopt})[1], kReplyRequiredFlag);
  EXPECT_EQ(encode(HandleTableRequest{1, 2, true})[1], kOwnChildrenOnlyFlag);
  EXPECT_EQ(encode(HandleTableResponse{1, 2, true, false, {}})[1], kMoreToSendFlag);
  EXPECT_EQ(encode(HandleTableResponse{1, 2, false, true, {}})[1], kRejectFlag);
  EXPECT_EQ(encode(HandleTableResponse{1, 2, true, true, {}})[1], 0x03);
  EXPECT_EQ(encode(ListResponse{1, 2, true, {}})[1], kRejectFlag);
  EXPECT_EQ(encode(HandleUpdate{1, 0, true, UpdateAction::del_pe, PoolHandle("p"), gwc_pe()})[1],
            kTakeoverSuggestedFlag);
}

TEST(EnrpMessages, FixedLengthMessages) {
  using namespace enrp;
  EXPECT_EQ(encode(HandleTableRequest{1, 2, false}).size(), 12U);
  EXPECT_EQ(encode(ListRequest{1, 2}).size(), 12U);
  EXPECT_EQ(encode(InitTakeover{1, 2, 3}), (Bytes{7, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}));
  EXPECT_EQ(encode(InitTakeoverAck{1, 2, 3})[0], 8);
  EXPECT_EQ(encode(TakeoverServer{1, 2, 3})[0], 9);
}

TEST(EnrpMessages, HandleUpdateActionAndReservedField) {
  using namespace enrp;
  const Bytes wire = encode(HandleUpdate{1, 0, false, UpdateAction::del_pe, PoolHandle("p"), gwc_pe()});
  EXPECT_EQ(load_u16(wire.data() + 12), 1);  // DEL_PE
  EXPECT_EQ(load_u16(wire.data() + 14), 0);  // reserved
  Bytes odd = wire;
  odd[15] = 0x55;  // a non-zero reserved field is ignored
  EXPECT_TRUE(decode(odd).ok());
}

TEST(AsapMessages, KeepAliveWithPeIdentifierAsRsplibSendsIt) {
  const asap::EndpointKeepAlive ka{false, 0x6c6797a9, PoolHandle("EchoPool"), 0xbcb252a2};
  const Bytes wire = asap::encode(ka);
  EXPECT_EQ(load_u16(wire.data() + 2), 28);  // what rspregistrar sends
  auto d = asap::decode(wire);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->message == asap::Message(ka));
}

TEST(AsapMessages, EncodeIntoAppendsAlignedToTheMessageStart) {
  Bytes out{0xaa};  // caller's buffer not 4-aligned
  asap::encode_into(asap::HandleResolution{false, PoolHandle("gwc"), 2}, out);
  EXPECT_EQ(out.size(), 1U + 20U);
  auto d = asap::decode(ByteView(out).subspan(1));
  ASSERT_TRUE(d.ok());
}

TEST(AsapMessages, ResolutionResponseFromCachedPeTlvsIsTheSameBytes) {
  const auto all = asap_golden();
  const auto& golden = all[4];  // 2 PEs, LU
  const auto& value = std::get<asap::HandleResolutionResponse>(golden.message);
  std::vector<Bytes> cached;
  for (const auto& p : value.pool_elements) cached.push_back(encode_parameter(p));
  const std::vector<ByteView> views(cached.begin(), cached.end());
  Bytes out{0xee};
  asap::encode_resolution_response(out, value.accepted, value.pool_handle, value.overall_policy, views);
  EXPECT_EQ(Bytes(out.begin() + 1, out.end()), golden.bytes);
}

// The fast encoders size their output once: every policy type (an
// unknown one with a value of odd length too), handle lengths that need
// every padding, and a caller's buffer that is not 4-aligned.
TEST(AsapMessages, ResolutionResponseFastPathMatchesTheEncoderForEveryPolicyAndPadding) {
  std::vector<PolicyParameters> policies;
  for (auto t : {PolicyType::round_robin, PolicyType::weighted_round_robin, PolicyType::random,
                 PolicyType::weighted_random, PolicyType::priority, PolicyType::least_used,
                 PolicyType::least_used_degradation, PolicyType::priority_least_used,
                 PolicyType::randomized_least_used, PolicyType::weighted_random_dpf, PolicyType::least_used_dpf}) {
    PolicyParameters p;
    p.type = t;
    p.weight = 7;
    p.load = 9;
    p.degradation = 3;
    p.dpf = 5;
    p.distance = 11;
    p.priority = 2;
    policies.push_back(p);
  }
  PolicyParameters unknown;
  unknown.type = static_cast<PolicyType>(0x7777);
  unknown.raw_value = {1, 2, 3, 4, 5};
  policies.push_back(unknown);
  for (std::size_t handle_size = 1; handle_size <= 9; ++handle_size) {
    for (const auto& policy : policies) {
      for (std::size_t n = 0; n <= 3; ++n) {
        asap::HandleResolutionResponse value;
        value.accepted = handle_size % 2 == 0;
        value.pool_handle = PoolHandle(std::string(handle_size, 'h'));
        value.overall_policy = policy;
        std::vector<Bytes> cached;
        for (std::size_t i = 0; i < n; ++i) {
          value.pool_elements.push_back(gwc_pe(static_cast<PeIdentifier>(i + 1)));
          cached.push_back(encode_parameter(value.pool_elements.back()));
        }
        const std::vector<ByteView> views(cached.begin(), cached.end());
        Bytes expected{0xee};
        asap::encode_into(value, expected);
        Bytes out{0xee};
        asap::encode_resolution_response(out, value.accepted, value.pool_handle.bytes(), value.overall_policy, views);
        EXPECT_EQ(out, expected) << "handle " << handle_size << " policy " << static_cast<std::uint32_t>(policy.type)
                                 << " PEs " << n;
      }
    }
  }
}

// The registrar's form: the overall policy by its type alone, as a
// fresh PolicyParameters of that type encodes (an unknown type too, and
// no policy at all).
TEST(AsapMessages, ResolutionResponseByPolicyTypeIsTheSameBytes) {
  const std::vector<std::optional<PolicyType>> types{
      std::nullopt,
      static_cast<PolicyType>(0x7777),
      PolicyType::round_robin,
      PolicyType::weighted_round_robin,
      PolicyType::random,
      PolicyType::weighted_random,
      PolicyType::priority,
      PolicyType::least_used,
      PolicyType::least_used_degradation,
      PolicyType::priority_least_used,
      PolicyType::randomized_least_used,
      PolicyType::weighted_random_dpf,
      PolicyType::least_used_dpf};
  for (std::size_t handle_size = 1; handle_size <= 9; ++handle_size) {
    for (const auto& type : types) {
      for (std::size_t n = 0; n <= 3; ++n) {
        asap::HandleResolutionResponse value;
        value.accepted = handle_size % 2 == 1;
        value.pool_handle = PoolHandle(std::string(handle_size, 'h'));
        if (type) value.overall_policy.emplace().type = *type;
        std::vector<Bytes> cached;
        for (std::size_t i = 0; i < n; ++i) {
          value.pool_elements.push_back(gwc_pe(static_cast<PeIdentifier>(i + 1)));
          cached.push_back(encode_parameter(value.pool_elements.back()));
        }
        const std::vector<ByteView> views(cached.begin(), cached.end());
        Bytes expected{0xee};
        asap::encode_into(value, expected);
        Bytes out{0xee};
        asap::encode_resolution_response(out, value.accepted, value.pool_handle.bytes(), type, views);
        EXPECT_EQ(out, expected) << "handle " << handle_size << " policy "
                                 << (type ? static_cast<std::uint32_t>(*type) : 0U) << " PEs " << n;
      }
    }
  }
}

TEST(AsapMessages, RegistrationResponseFastPathIsTheSameBytes) {
  for (std::size_t handle_size = 1; handle_size <= 9; ++handle_size) {
    asap::RegistrationResponse value;
    value.pool_handle = PoolHandle(std::string(handle_size, 'r'));
    value.pe_id = 0x01020304 + static_cast<PeIdentifier>(handle_size);
    Bytes expected{0xee, 0xdd};
    asap::encode_into(value, expected);
    Bytes out{0xee, 0xdd};
    asap::encode_registration_response(out, value.pool_handle.bytes(), value.pe_id);
    EXPECT_EQ(out, expected) << "handle " << handle_size;
    auto d = asap::decode(ByteView(out).subspan(2));
    ASSERT_TRUE(d.ok());
    EXPECT_TRUE(d->message == asap::Message(value));
  }
}

TEST(AsapMessages, OversizedMessageThrowsAndLeavesTheBufferUntouched) {
  asap::BusinessCard card{PoolHandle("p"), {}};
  for (int i = 0; i < 1500; ++i) card.pool_elements.push_back(gwc_pe(static_cast<PeIdentifier>(i)));
  Bytes out{1, 2, 3};
  EXPECT_THROW(asap::encode_into(card, out), std::length_error);
  EXPECT_EQ(out, (Bytes{1, 2, 3}));
}

}  // namespace
