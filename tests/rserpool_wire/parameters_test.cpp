// Round trips and exact layouts of single RFC 5354 parameters.
#include <gtest/gtest.h>

#include "rserpool/wire/parameters.hpp"
#include "samples.hpp"

namespace {

using namespace wiretest;

template <class T, class Decode>
void expect_round_trip(const T& value, const Bytes& tlv, Decode decode) {
  auto back = decode(tlv);
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(*back, value);
}

TEST(Parameters, Ipv4AndIpv6AddressLayouts) {
  EXPECT_EQ(encode_parameter(v4(192, 0, 2, 1)), (Bytes{0x00, 0x01, 0x00, 0x08, 192, 0, 2, 1}));
  const Bytes six = encode_parameter(v6("2001:db8::1"));
  ASSERT_EQ(six.size(), 20U);
  EXPECT_EQ(six[1], 0x02);
  EXPECT_EQ(six[3], 0x14);
  expect_round_trip(v6("2001:db8::1"), six, [](const Bytes& b) { return decode_address(b); });
  expect_round_trip(v4(192, 0, 2, 1), encode_parameter(v4(192, 0, 2, 1)),
                    [](const Bytes& b) { return decode_address(b); });
}

TEST(Parameters, EveryTransportRoundTrips) {
  TransportParameter dccp = ip_transport(TransportProtocol::dccp, 5001, v4(10, 0, 0, 1));
  dccp.dccp_service_code = 0x53474331;
  TransportParameter opaque;
  opaque.protocol = TransportProtocol::opaque;
  opaque.opaque = {1, 2, 3, 4, 5, 6, 7};
  const std::vector<TransportParameter> all = {
      dccp,
      sctp(2905, {v4(10, 0, 0, 1), v6("2001:db8::1"), v4(10, 0, 0, 2), v6("fe80::1")},
           TransportUse::data_and_control),
      ip_transport(TransportProtocol::tcp, 2905, v6("2001:db8::5")),
      ip_transport(TransportProtocol::udp, 5000, v4(10, 0, 0, 3)),
      ip_transport(TransportProtocol::udp_lite, 5001, v4(10, 0, 0, 4)),
      opaque,
  };
  for (const auto& t : all) {
    SCOPED_TRACE(static_cast<int>(t.protocol));
    expect_round_trip(t, encode_parameter(t), [](const Bytes& b) { return decode_transport(b); });
  }
}

TEST(Parameters, DccpLayoutHasServiceCodeBeforeTheAddress) {
  TransportParameter dccp = ip_transport(TransportProtocol::dccp, 0x1389, v4(10, 0, 0, 1));
  dccp.dccp_service_code = 0x01020304;
  EXPECT_EQ(encode_parameter(dccp), (Bytes{0x00, 0x03, 0x00, 0x14, 0x13, 0x89, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04,
                                           0x00, 0x01, 0x00, 0x08, 10, 0, 0, 1}));
}

TEST(Parameters, TcpSecondFieldIsSentAsZeroAndAnyValueIsAccepted) {
  TransportParameter tcp = ip_transport(TransportProtocol::tcp, 2905, v4(10, 0, 0, 1));
  tcp.use = TransportUse::data_and_control;  // not representable on the wire for TCP
  const Bytes wire = encode_parameter(tcp);
  EXPECT_EQ(wire[6], 0);
  EXPECT_EQ(wire[7], 0);
  Bytes from_rsplib = wire;
  from_rsplib[7] = 0x01;  // rsplib writes a transport use here
  auto back = decode_transport(from_rsplib);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->use, TransportUse::data_only);
  EXPECT_EQ(back->addresses, tcp.addresses);
}

TEST(Parameters, SctpTransportUseIsEncodedAndChecked) {
  Bytes wire = encode_parameter(sctp(2905, {v4(1, 2, 3, 4)}, TransportUse::data_and_control));
  EXPECT_EQ(wire[7], 1);
  wire[7] = 2;
  auto bad = decode_transport(wire);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().cause, ErrorCause::invalid_values);
  EXPECT_EQ(bad.error().offending, wire);
}

TEST(Parameters, EveryPolicyTypeHasItsExactLengthAndRoundTrips) {
  struct Case {
    PolicyParameters p;
    std::uint16_t length;
  };
  const std::vector<Case> cases = {
      {policy(PolicyType::round_robin), 8},
      {policy(PolicyType::weighted_round_robin, 7), 12},
      {policy(PolicyType::random), 8},
      {policy(PolicyType::weighted_random, 9), 12},
      {policy(PolicyType::priority, 3), 12},
      {policy(PolicyType::least_used, 0x7fffffff), 12},
      {policy(PolicyType::least_used_degradation, 0x10000000, 0x01000000), 16},
      {policy(PolicyType::priority_least_used, 0x10000000, 0x02000000), 16},
      {policy(PolicyType::randomized_least_used, 0x30000000), 12},
      {policy(PolicyType::weighted_random_dpf, 10, 0x80000000, 25), 20},
      {policy(PolicyType::least_used_dpf, 0x40000000, 0x00100000, 50), 20},
  };
  ASSERT_EQ(cases.size(), 11U);  // every PolicyType enumerator
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(to_string(c.p.type)));
    const Bytes wire = encode_parameter(c.p);
    ASSERT_EQ(wire.size(), c.length);
    EXPECT_EQ(load_u16(wire.data() + 2), c.length);
    EXPECT_EQ(load_u32(wire.data() + 4), static_cast<std::uint32_t>(c.p.type));
    expect_round_trip(c.p, wire, [](const Bytes& b) { return decode_policy(b); });
    EXPECT_EQ(policy_value_size(c.p.type), std::size_t{c.length} - 8U);
    EXPECT_TRUE(is_known_policy(static_cast<std::uint32_t>(c.p.type)));
  }
}

TEST(Parameters, DpfFieldOrderMatchesWireshark) {
  // WRAND-DPF: weight, weight DPF, distance. LU-DPF: load, load DPF, distance.
  EXPECT_EQ(encode_parameter(policy(PolicyType::weighted_random_dpf, 1, 2, 3)),
            (Bytes{0, 8, 0, 20, 0xb0, 0x00, 0x20, 0x01, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}));
  EXPECT_EQ(encode_parameter(policy(PolicyType::least_used_dpf, 4, 5, 6)),
            (Bytes{0, 8, 0, 20, 0xb0, 0x00, 0x20, 0x02, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6}));
}

TEST(Parameters, UnknownPolicyIsKeptVerbatim) {
  // rsplib's Randomized Priority Least Used, which we do not implement.
  const Bytes wire{0x00, 0x08, 0x00, 0x10, 0xb0, 0x00, 0x10, 0x01, 0, 0, 0, 1, 0, 0, 0, 2};
  auto p = decode_policy(wire);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(is_known_policy(static_cast<std::uint32_t>(p->type)));
  EXPECT_EQ(static_cast<std::uint32_t>(p->type), 0xb0001001U);
  EXPECT_EQ(p->raw_value, (Bytes{0, 0, 0, 1, 0, 0, 0, 2}));
  EXPECT_EQ(encode_parameter(*p), wire);
}

TEST(Parameters, ShortPolicyValueIsInvalid) {
  const Bytes lu_without_load{0x00, 0x08, 0x00, 0x08, 0x40, 0x00, 0x00, 0x01};
  auto p = decode_policy(lu_without_load);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().cause, ErrorCause::invalid_values);
}

TEST(Parameters, PoolElementWithAndWithoutAsapTransport) {
  auto with = pe(7, 9, 120000, sctp(2905, {v4(10, 0, 0, 1)}), policy(PolicyType::priority, 4),
                 sctp(3863, {v4(10, 0, 0, 1), v6("2001:db8::7")}));
  auto without = gwc_pe();
  for (const auto& p : {with, without}) {
    expect_round_trip(p, encode_parameter(p), [](const Bytes& b) { return decode_pool_element(b); });
  }
}

TEST(Parameters, RegistrationLifeIsSignedMillisecondsAndMinusOneIsInfinite) {
  auto p = gwc_pe();
  p.registration_life_ms = kInfiniteLifetime;
  Bytes wire = encode_parameter(p);
  EXPECT_EQ(load_u32(wire.data() + 12), 0xffffffffU);
  p.registration_life_ms = 90000;  // what rspserver sends for its default 30 s re-registration
  wire = encode_parameter(p);
  EXPECT_EQ(load_u32(wire.data() + 12), 90000U);
}

TEST(Parameters, ServerInformationRoundTrips) {
  ServerInformation s{0xcafe0001, sctp(9901, {v4(10, 0, 0, 10), v6("2001:db8::10")})};
  expect_round_trip(s, encode_parameter(s), [](const Bytes& b) { return decode_server_information(b); });
}

TEST(Parameters, OperationErrorWithEveryCauseCode) {
  std::vector<OperationErrorCause> causes;
  for (std::uint16_t c = 0; c <= 0xa; ++c) {
    Bytes info(c, static_cast<std::uint8_t>(c));  // 0..10 bytes: every padding amount
    causes.push_back({static_cast<ErrorCause>(c), info});
  }
  causes.push_back({static_cast<ErrorCause>(0x1234), {9}});  // unassigned: kept as is
  const Bytes wire = encode_operation_error(causes);
  // Outer length excludes the padding after the last cause only.
  EXPECT_EQ(load_u16(wire.data() + 2), wire.size());
  expect_round_trip(causes, wire, [](const Bytes& b) { return decode_operation_error(b); });
  for (std::uint16_t c = 0; c <= 0xa; ++c) {
    EXPECT_NE(to_string(static_cast<ErrorCause>(c)), "Unknown Error Cause");
  }
}

TEST(Parameters, PeChecksumHasLengthSixAndTwoUncountedPadBytes) {
  EXPECT_EQ(encode_pe_checksum(0xabcd), (Bytes{0x00, 0x0f, 0x00, 0x06, 0xab, 0xcd}));
}

TEST(Parameters, SmallFixedParameters) {
  EXPECT_EQ(encode_pe_identifier(0x01020304), (Bytes{0x00, 0x0e, 0x00, 0x08, 1, 2, 3, 4}));
  EXPECT_EQ(encode_handle_resolution_option(5), (Bytes{0x80, 0x3f, 0x00, 0x08, 0, 0, 0, 5}));
  EXPECT_EQ(encode_cookie(Bytes{1, 2, 3}), (Bytes{0x00, 0x0d, 0x00, 0x07, 1, 2, 3}));
  EXPECT_EQ(encode_parameter(PoolHandle("ab")), (Bytes{0x00, 0x09, 0x00, 0x06, 'a', 'b'}));
}

TEST(Parameters, PoolHandleLimits) {
  EXPECT_TRUE(decode_pool_handle(encode_parameter(PoolHandle(std::string(kMaxPoolHandleSize, 'x')))).ok());
  auto too_long = decode_pool_handle(encode_parameter(PoolHandle(std::string(kMaxPoolHandleSize + 1, 'x'))));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().cause, ErrorCause::invalid_values);
  EXPECT_FALSE(decode_pool_handle(Bytes{0x00, 0x09, 0x00, 0x04}).ok());  // empty
}

TEST(Parameters, AddressLimitPerTransport) {
  std::vector<IpAddress> many;
  for (std::size_t i = 0; i <= kMaxTransportAddresses; ++i) many.push_back(v4(10, 0, 0, static_cast<std::uint8_t>(i)));
  auto t = decode_transport(encode_parameter(sctp(1, many)));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().failure, DecodeFailure::limit_exceeded);
  EXPECT_EQ(t.error().cause, ErrorCause::lack_of_resources);
  many.pop_back();
  EXPECT_TRUE(decode_transport(encode_parameter(sctp(1, many))).ok());
}

TEST(Parameters, NestedOuterLengthMayOrMayNotCoverTheLastPadding) {
  // Server information whose SCTP transport ends with an IPv4 (aligned), so
  // build the case with an Operation Error: last cause has 1 info byte.
  const std::vector<OperationErrorCause> causes{{ErrorCause::invalid_values, {0x77}}};
  Bytes strict = encode_operation_error(causes);  // length 9
  ASSERT_EQ(load_u16(strict.data() + 2), 9);
  Bytes liberal = strict;
  liberal.resize(12, 0);
  liberal[3] = 12;  // a peer that counted the final padding
  auto a = decode_operation_error(strict);
  auto b = decode_operation_error(liberal);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, causes);
  EXPECT_EQ(*b, causes);
}

TEST(Parameters, UnknownInnerParameterFollowsTopBits) {
  // An SCTP transport carrying an unknown 11-type TLV after its address.
  Bytes t = encode_parameter(sctp(2905, {v4(10, 0, 0, 1)}));
  const Bytes extra{0xc0, 0x42, 0x00, 0x05, 0xee, 0x00, 0x00, 0x00};
  t.insert(t.end(), extra.begin(), extra.end());
  t[3] = static_cast<std::uint8_t>(t.size() - 3);  // length without the 3 pad bytes
  std::vector<OperationErrorCause> report;
  auto ok = decode_transport(t, &report);
  ASSERT_TRUE(ok.ok()) << ok.error().detail;
  ASSERT_EQ(report.size(), 1U);
  EXPECT_EQ(report[0].code, ErrorCause::unrecognized_parameter);
  EXPECT_EQ(report[0].info, (Bytes{0xc0, 0x42, 0x00, 0x05, 0xee}));
  // Same with top bits 01: the whole transport is refused, and reported.
  t[t.size() - 8] = 0x40;
  auto stop = decode_transport(t);
  ASSERT_FALSE(stop.ok());
  EXPECT_EQ(stop.error().cause, ErrorCause::unrecognized_parameter);
  EXPECT_EQ(stop.error().offending, (Bytes{0x40, 0x42, 0x00, 0x05, 0xee}));
}

TEST(Parameters, EncodingTooLongThrows) {
  EXPECT_THROW((void)encode_cookie(Bytes(0x10000, 0)), std::length_error);
}

}  // namespace
