// Hostile and broken input: every truncation, bad lengths, unknown types
// for each top-bit action, missing and misplaced parameters, limits, and
// the ERROR replies built from the failures.
#include <gtest/gtest.h>

#include "samples.hpp"

namespace {

using namespace wiretest;

Bytes with_length(Bytes b, std::size_t length) {
  b[2] = static_cast<std::uint8_t>(length >> 8);
  b[3] = static_cast<std::uint8_t>(length);
  return b;
}

template <class Decode, class Encode>
void check_truncations(const Bytes& golden, Decode decode, Encode encode) {
  const std::size_t length = load_u16(golden.data() + 2);
  for (std::size_t n = 0; n < golden.size(); ++n) {
    SCOPED_TRACE(n);
    const Bytes cut(golden.begin(), golden.begin() + static_cast<std::ptrdiff_t>(n));
    auto d = decode(cut);
    // Cut inside the message: always an error. Cut in the final padding: fine.
    EXPECT_EQ(d.ok(), n >= length);
    // Same cut, with the length field made consistent so that the inner
    // parameters are what breaks: must never crash, and anything accepted
    // must survive a re-encode.
    if (n >= 4) {
      auto inner = decode(with_length(cut, n));
      if (inner.ok()) {
        auto again = decode(encode(inner->message));
        ASSERT_TRUE(again.ok());
        EXPECT_TRUE(again->message == inner->message);
      }
    }
  }
}

TEST(Malformed, EveryTruncationOfEveryAsapGoldenVector) {
  for (const auto& g : asap_golden()) {
    SCOPED_TRACE(g.name);
    check_truncations(
        g.bytes, [](const Bytes& b) { return asap::decode(b); },
        [](const asap::Message& m) { return asap::encode(m); });
  }
}

TEST(Malformed, EveryTruncationOfEveryEnrpGoldenVector) {
  for (const auto& g : enrp_golden()) {
    SCOPED_TRACE(g.name);
    check_truncations(
        g.bytes, [](const Bytes& b) { return enrp::decode(b); },
        [](const enrp::Message& m) { return enrp::encode(m); });
  }
}

TEST(Malformed, MessageLengthTooSmallOrTooBigIsDroppedSilently) {
  const Bytes good = asap_golden()[0].bytes;
  for (std::size_t bad : {0U, 1U, 3U}) {
    auto d = asap::decode(with_length(good, bad));
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().failure, DecodeFailure::bad_length);
    EXPECT_TRUE(d.error().silent());
  }
  auto big = asap::decode(with_length(good, good.size() + 1));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().failure, DecodeFailure::truncated);
  EXPECT_TRUE(big.error().silent());
  Bytes trailing = good;
  trailing.insert(trailing.end(), {0, 0, 0, 0});
  auto t = asap::decode(trailing);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().failure, DecodeFailure::bad_length);
}

TEST(Malformed, MessageLengthMayIncludeTheFinalPadding) {
  Bytes ka = asap_golden()[5].bytes;  // keep-alive, length 15
  ASSERT_EQ(load_u16(ka.data() + 2), 15);
  auto d = asap::decode(with_length(ka, 16));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->message == asap_golden()[5].message);
}

TEST(Malformed, ShortMessageShorterThanShortestIsNoCrash) {
  for (std::size_t n = 0; n < 4; ++n) {
    const Bytes b(n, 0x01);
    EXPECT_FALSE(asap::decode(b).ok());
    EXPECT_FALSE(enrp::decode(b).ok());
  }
}

TEST(Malformed, ParameterLengthBelowFourOrPastTheMessage) {
  Bytes b = asap_golden()[2].bytes;  // handle resolution with HROPT
  Bytes tiny = b;
  tiny[7] = 3;  // pool handle length 3
  auto d = asap::decode(tiny);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().failure, DecodeFailure::bad_length);
  EXPECT_EQ(d.error().cause, ErrorCause::invalid_values);
  EXPECT_EQ(d.error().message_type, 0x05);
  Bytes huge = b;
  huge[14] = 0x08;  // HROPT length 0x0840
  huge[15] = 0x40;
  d = asap::decode(huge);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().failure, DecodeFailure::bad_length);
}

// ---- unknown message types ------------------------------------------------

TEST(Malformed, UnknownMessageTypeTopBits) {
  struct Case {
    std::uint8_t type;
    bool report;
  };
  for (auto c : {Case{0x0f, false}, Case{0x3f, false}, Case{0x4f, true}, Case{0x8f, false}, Case{0xcf, false},
                 Case{0x00, false}}) {
    SCOPED_TRACE(int{c.type});
    const Bytes msg{c.type, 0x00, 0x00, 0x08, 0xde, 0xad, 0xbe, 0xef};
    for (int proto = 0; proto < 2; ++proto) {
      auto err = proto == 0 ? asap::decode(msg).error() : enrp::decode(msg).error();
      EXPECT_EQ(err.failure, DecodeFailure::unrecognized_message);
      EXPECT_EQ(err.silent(), !c.report);
      if (c.report) {
        EXPECT_EQ(err.cause, ErrorCause::unrecognized_message);
        EXPECT_EQ(err.offending, msg);
      }
    }
  }
}

TEST(Malformed, UnrecognizedMessageProducesAnErrorReplyCarryingTheMessage) {
  const Bytes msg{0x4f, 0x00, 0x00, 0x06, 0x12, 0x34, 0x00, 0x00};
  auto err = asap::decode(msg).error();
  auto reply = asap::error_reply(err);
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->causes.size(), 1U);
  EXPECT_EQ(reply->causes[0].code, ErrorCause::unrecognized_message);
  EXPECT_EQ(reply->causes[0].info, (Bytes{0x4f, 0x00, 0x00, 0x06, 0x12, 0x34}));
  // And the reply itself is a valid ASAP_ERROR.
  auto back = asap::decode(asap::encode(*reply));
  ASSERT_TRUE(back.ok());
  auto ereply = enrp::error_reply(enrp::decode(msg).error(), 0x11, 0x22);
  ASSERT_TRUE(ereply.has_value());
  EXPECT_EQ(ereply->sender_id, 0x11U);
  EXPECT_EQ(ereply->receiver_id, 0x22U);
}

// ---- unknown parameter types ----------------------------------------------

// A HANDLE_RESOLUTION "gwc" with one extra TLV of `type` after the handle.
Bytes resolution_with(std::uint16_t type) {
  Bytes b{0x05, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x07, 'g', 'w', 'c', 0x00,
          static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type), 0x00, 0x06, 0xab, 0xcd, 0, 0};
  return with_length(b, 18);
}

TEST(Malformed, UnknownParameter00StopsAndDropsSilently) {
  auto d = asap::decode(resolution_with(0x0020));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().failure, DecodeFailure::unrecognized_parameter);
  EXPECT_TRUE(d.error().silent());
  EXPECT_FALSE(asap::error_reply(d.error()).has_value());
}

TEST(Malformed, UnknownParameter01StopsAndReports) {
  auto d = asap::decode(resolution_with(0x4020));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().cause, ErrorCause::unrecognized_parameter);
  EXPECT_EQ(d.error().offending, (Bytes{0x40, 0x20, 0x00, 0x06, 0xab, 0xcd}));
  auto reply = asap::error_reply(d.error());
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->causes[0].info, d.error().offending);
}

TEST(Malformed, UnknownParameter10IsSkipped) {
  auto d = asap::decode(resolution_with(0x8020));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->unrecognized.empty());
  EXPECT_EQ(std::get<asap::HandleResolution>(d->message).pool_handle, PoolHandle("gwc"));
  EXPECT_FALSE(asap::error_reply(*d).has_value());
}

TEST(Malformed, UnknownParameter11IsSkippedAndReported) {
  auto d = asap::decode(resolution_with(0xc020));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->unrecognized.size(), 1U);
  EXPECT_EQ(d->unrecognized[0].code, ErrorCause::unrecognized_parameter);
  EXPECT_EQ(d->unrecognized[0].info, (Bytes{0xc0, 0x20, 0x00, 0x06, 0xab, 0xcd}));
  auto reply = asap::error_reply(*d);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->causes, d->unrecognized);
}

TEST(Malformed, UnknownParameterInEnrpAndTheReplyAddressesTheSender) {
  Bytes b = enrp::encode(enrp::ListRequest{0x0a, 0x0b});
  const Bytes extra{0xc0, 0x01, 0x00, 0x04};
  b.insert(b.end(), extra.begin(), extra.end());
  b = with_length(b, b.size());
  auto d = enrp::decode(b);
  ASSERT_TRUE(d.ok());
  auto reply = enrp::error_reply(*d, 0x0b);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->sender_id, 0x0bU);
  EXPECT_EQ(reply->receiver_id, 0x0aU);
}

TEST(Malformed, HandleResolutionOptionElsewhereIsSkippedByItsTopBits) {
  Bytes b = resolution_with(0x803f);
  b[0] = 0x09;  // ENDPOINT_UNREACHABLE has no HROPT: skip it (top bits 10) ...
  auto d = asap::decode(b);
  ASSERT_FALSE(d.ok());  // ... but it still lacks its PE Identifier
  EXPECT_EQ(d.error().failure, DecodeFailure::missing_parameter);
}

// ---- known parameters in the wrong place, missing, repeated --------------

TEST(Malformed, MissingMandatoryParameterIsInvalidValues) {
  const Bytes registration_without_pe = with_length(
      Bytes{0x01, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x07, 'g', 'w', 'c', 0x00}, 11);
  auto d = asap::decode(registration_without_pe);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().failure, DecodeFailure::missing_parameter);
  EXPECT_EQ(d.error().cause, ErrorCause::invalid_values);
  const Bytes presence_without_checksum{0x01, 0x00, 0x00, 0x0c, 0, 0, 0, 1, 0, 0, 0, 0};
  auto p = enrp::decode(presence_without_checksum);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().failure, DecodeFailure::missing_parameter);
}

TEST(Malformed, KnownParameterInTheWrongMessageIsInvalidValues) {
  Bytes b = resolution_with(0x000d);  // a Cookie inside HANDLE_RESOLUTION
  auto d = asap::decode(b);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().failure, DecodeFailure::unexpected_parameter);
  EXPECT_EQ(d.error().cause, ErrorCause::invalid_values);
  EXPECT_EQ(d.error().offending, (Bytes{0x00, 0x0d, 0x00, 0x06, 0xab, 0xcd}));
}

TEST(Malformed, RepeatedPoolHandleIsRefused) {
  Bytes b{0x05, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x07, 'g', 'w', 'c', 0x00,
          0x00, 0x09, 0x00, 0x07, 'x', 'y', 'z', 0x00};
  auto d = asap::decode(with_length(b, 19));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().failure, DecodeFailure::unexpected_parameter);
}

TEST(Malformed, PoolElementWithoutPolicyOrTransport) {
  // PE whose only inner TLV is the user transport.
  Bytes pe_tlv = encode_parameter(gwc_pe());
  ASSERT_GT(pe_tlv.size(), 12U);
  pe_tlv.erase(pe_tlv.end() - 12, pe_tlv.end());  // drop the LU policy (12 bytes)
  pe_tlv[3] = static_cast<std::uint8_t>(pe_tlv.size());
  auto d = decode_pool_element(pe_tlv);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().cause, ErrorCause::invalid_values);
  EXPECT_EQ(d.error().offending, pe_tlv);
}

TEST(Malformed, ServerAnnounceAcceptsOnlySctpAndTcp) {
  asap::ServerAnnounce a{1, {ip_transport(TransportProtocol::udp, 3863, v4(10, 0, 0, 1))}};
  auto d = asap::decode(asap::encode(a));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().cause, ErrorCause::invalid_values);
}

TEST(Malformed, UnknownUpdateActionIsInvalid) {
  Bytes b = enrp::encode(enrp::HandleUpdate{1, 0, false, enrp::UpdateAction::add_pe, PoolHandle("p"), gwc_pe()});
  b[13] = 2;
  auto d = enrp::decode(b);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().failure, DecodeFailure::invalid_value);
}

TEST(Malformed, EnrpMessageWithoutServerIdsIsDropped) {
  auto d = enrp::decode(Bytes{0x05, 0x00, 0x00, 0x08, 0, 0, 0, 1});
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(d.error().silent());
}

TEST(Malformed, ErrorMessagesAreNeverAnsweredWithErrors) {
  Bytes b = asap::encode(asap::Error{{{ErrorCause::unspecified, {}}}});
  b.insert(b.end(), {0x40, 0x20, 0x00, 0x04});  // stop-and-report parameter
  b = with_length(b, b.size());
  auto d = asap::decode(b);
  ASSERT_FALSE(d.ok());
  EXPECT_FALSE(d.error().silent());
  EXPECT_FALSE(asap::error_reply(d.error()).has_value());
}

TEST(Malformed, TooManyPoolElementsInOneMessage) {
  asap::HandleResolutionResponse r{false, PoolHandle("p"), std::nullopt, {}, {}};
  for (std::size_t i = 0; i <= kMaxPoolElementsPerMessage; ++i) {
    r.pool_elements.push_back(pe(static_cast<PeIdentifier>(i), 0, 1, sctp(1, {v4(1, 1, 1, 1)}),
                                 policy(PolicyType::round_robin)));
  }
  auto d = asap::decode(asap::encode(r));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().failure, DecodeFailure::limit_exceeded);
  EXPECT_EQ(d.error().cause, ErrorCause::lack_of_resources);
  r.pool_elements.pop_back();
  EXPECT_TRUE(asap::decode(asap::encode(r)).ok());
}

TEST(Malformed, ErrorReplyInfoIsBoundedToFitOneMessage) {
  DecodeError e;
  e.cause = ErrorCause::unrecognized_message;
  e.offending = Bytes(kMaxMessageSize, 0x4f);
  e.message_type = 0x4f;
  auto reply = asap::error_reply(e);
  ASSERT_TRUE(reply.has_value());
  EXPECT_NO_THROW((void)asap::encode(*reply));
  auto ereply = enrp::error_reply(e, 1, 2);
  ASSERT_TRUE(ereply.has_value());
  EXPECT_NO_THROW((void)enrp::encode(*ereply));
}

// A deterministic pseudo-random sweep on top of the fuzzers. Every input
// has one of three observable outcomes, and each is checked: accepted (and
// then it survives a re-encode unchanged), refused with an Operation Error
// cause (and the ERROR reply the receiver sends carries exactly that cause
// and encodes to a message that decodes again), or refused silently (and
// there is no reply). The sweep must reach all three.
struct Outcomes {
  std::size_t accepted = 0, reported = 0, silent = 0;
};

TEST(Malformed, GarbageGetsATypedErrorAndTheProtocolsReply) {
  Outcomes a_out, e_out;
  std::uint32_t x = 12345;
  for (int i = 0; i < 20000; ++i) {
    Bytes b(4 + (x % 60));
    for (auto& c : b) {
      x = x * 1103515245U + 12345U;
      c = static_cast<std::uint8_t>(x >> 16);
    }
    b[0] = static_cast<std::uint8_t>(1 + (x % 14));
    b = with_length(b, b.size() - (x % 4));
    SCOPED_TRACE(i);

    auto ad = asap::decode(b);
    if (ad) {
      ++a_out.accepted;
      auto again = asap::decode(asap::encode(ad->message));
      ASSERT_TRUE(again.ok());
      EXPECT_TRUE(again->message == ad->message);
    } else if (ad.error().cause) {
      ++a_out.reported;
      EXPECT_LE(ad.error().offending.size(), kMaxMessageSize);
      auto reply = asap::error_reply(ad.error());
      ASSERT_TRUE(reply.has_value());
      ASSERT_FALSE(reply->causes.empty());
      EXPECT_EQ(reply->causes[0].code, *ad.error().cause);
      auto sent = asap::decode(asap::encode(*reply));
      ASSERT_TRUE(sent.ok());
      EXPECT_TRUE(std::holds_alternative<asap::Error>(sent->message));
    } else {
      ++a_out.silent;
      EXPECT_FALSE(asap::error_reply(ad.error()).has_value());
    }

    auto ed = enrp::decode(b);
    if (ed) {
      ++e_out.accepted;
      auto again = enrp::decode(enrp::encode(ed->message));
      ASSERT_TRUE(again.ok());
      EXPECT_TRUE(again->message == ed->message);
    } else if (ed.error().cause) {
      ++e_out.reported;
      auto reply = enrp::error_reply(ed.error(), 1, 2);
      ASSERT_TRUE(reply.has_value());
      ASSERT_FALSE(reply->causes.empty());
      EXPECT_EQ(reply->causes[0].code, *ed.error().cause);
      EXPECT_EQ(reply->sender_id, 1u);
      auto sent = enrp::decode(enrp::encode(*reply));
      ASSERT_TRUE(sent.ok());
      EXPECT_TRUE(std::holds_alternative<enrp::Error>(sent->message));
    } else {
      ++e_out.silent;
      EXPECT_FALSE(enrp::error_reply(ed.error(), 1, 2).has_value());
    }
  }
  std::printf("ASAP: %zu accepted, %zu refused with a cause, %zu silently; ENRP: %zu / %zu / %zu\n",
              a_out.accepted, a_out.reported, a_out.silent, e_out.accepted, e_out.reported, e_out.silent);
  EXPECT_GT(a_out.reported, 0u);
  EXPECT_GT(a_out.silent, 0u);
  EXPECT_GT(e_out.reported, 0u);
  EXPECT_GT(e_out.silent, 0u);
}

}  // namespace
