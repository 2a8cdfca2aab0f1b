// The ASP core when the SGP says no (issue 17): a refused or unanswered
// ASPUP / ASPAC is retried with a growing back-off, the refusal is kept for
// the operator, ERRs are counted by code, and an ASP that follows the SGP's
// traffic mode asks again at once (RFC 4666 4.3.4.3). Virtual time only.
#include "mxua/fsm/asp_client.hpp"

#include "fsm_helpers.hpp"

namespace mxua {
namespace {

using namespace test;

constexpr AssocId kNegotiationAssoc = 9;
constexpr std::uint32_t kNegotiationRc = 20;

AspClientConfig negotiation_config(bool follow) {
  AspClientConfig c;
  c.assoc = kNegotiationAssoc;
  c.activations = {AspActivation{{kNegotiationRc}, TrafficMode::Loadshare}};
  c.outbound_streams = 5;
  c.follow_peer_mode = follow;
  c.retry_initial = 1s;
  c.retry_max = 4s;
  c.t_ack = 2s;
  return c;
}

Bytes negotiation_wire(const Message& m) { return encode(m); }

Err unsupported_mode() {
  Err e;
  e.code = ErrorCode::UnsupportedTrafficModeType;
  e.routing_contexts = {kNegotiationRc};
  return e;
}

// Up to the first ASPAC at t = 1 ms.
void negotiation_bring_up(AspClient& c) {
  (void)c.association_up(at(0ms));
  auto a = c.receive(0, negotiation_wire(AspUpAck{}), at(1ms));
  ASSERT_EQ(sent_of<AspAc>(a).size(), 1U);
}

TEST(AspNegotiation, RefusedAspacIsRetriedWithAGrowingBackoffAndReported) {
  AspClient c(negotiation_config(false));
  negotiation_bring_up(c);
  // osmo-stp's answer to loadshare when its AS is override.
  auto a = c.receive(0, negotiation_wire(unsupported_mode()), at(10ms));
  auto f = all_of<RequestFailed>(a);
  ASSERT_EQ(f.size(), 1U);
  EXPECT_EQ(f[0].request, (MessageId{4, type::kAspAc}));
  EXPECT_EQ(f[0].error, ErrorCode::UnsupportedTrafficModeType);
  EXPECT_EQ(f[0].retry_at, at(1010ms));
  ASSERT_TRUE(c.last_refusal());
  EXPECT_EQ(c.last_refusal()->error, ErrorCode::UnsupportedTrafficModeType);
  EXPECT_EQ(c.last_refusal()->traffic_mode, TrafficMode::Loadshare);
  EXPECT_EQ(c.last_refusal()->routing_contexts, (std::vector<std::uint32_t>{kNegotiationRc}));
  EXPECT_EQ(c.errors().received_of(ErrorCode::UnsupportedTrafficModeType), 1U);
  EXPECT_EQ(c.deferred(), 1U);
  EXPECT_EQ(c.state(), AspState::Inactive);
  // Nothing until the back-off ends, then the same ASPAC again.
  EXPECT_TRUE(sent(advance(c, at(1009ms)).actions).empty());
  auto again = advance(c, at(1010ms));
  auto ac = sent_of<AspAc>(again.actions);
  ASSERT_EQ(ac.size(), 1U);
  EXPECT_EQ(ac[0].traffic_mode, TrafficMode::Loadshare);  // strict: our mode, always
  // Refused again: twice the wait; and again: capped at retry_max.
  a = c.receive(0, negotiation_wire(unsupported_mode()), at(1100ms));
  EXPECT_EQ(all_of<RequestFailed>(a).at(0).retry_at, at(3100ms));
  (void)advance(c, at(3100ms));
  a = c.receive(0, negotiation_wire(unsupported_mode()), at(3200ms));
  EXPECT_EQ(all_of<RequestFailed>(a).at(0).retry_at, at(7200ms));
  (void)advance(c, at(7200ms));
  a = c.receive(0, negotiation_wire(unsupported_mode()), at(7300ms));
  EXPECT_EQ(all_of<RequestFailed>(a).at(0).retry_at, at(11300ms));  // 4 s, not 8 s
  EXPECT_EQ(c.refusals(), 4U);
  // Accepted at last: ACTIVE, and the back-off starts over for next time.
  (void)advance(c, at(11300ms));
  (void)c.receive(0, negotiation_wire(AspAcAck{TrafficMode::Loadshare, {kNegotiationRc}, {}}), at(11400ms));
  EXPECT_TRUE(c.active_for(kNegotiationRc));
  EXPECT_EQ(c.traffic_mode(kNegotiationRc), TrafficMode::Loadshare);
  EXPECT_EQ(c.deferred(), 0U);
}

// Following the SGP: ERR 0x05 for loadshare, at once the same ASPAC without
// a Traffic Mode Type; the SGP's ACK names its mode.
TEST(AspNegotiation, FollowingAspAsksAgainWithoutAModeAndTakesTheSgpsMode) {
  AspClient c(negotiation_config(true));
  negotiation_bring_up(c);
  auto a = c.receive(0, negotiation_wire(unsupported_mode()), at(10ms));
  EXPECT_TRUE(all_of<RequestFailed>(a).empty());
  auto ac = sent_of<AspAc>(a);
  ASSERT_EQ(ac.size(), 1U);
  EXPECT_FALSE(ac[0].traffic_mode.has_value());
  EXPECT_EQ(ac[0].routing_contexts, (std::vector<std::uint32_t>{kNegotiationRc}));
  EXPECT_EQ(c.mode_retries(), 1U);
  (void)c.receive(0, negotiation_wire(AspAcAck{TrafficMode::Override, {kNegotiationRc}, {}}), at(20ms));
  EXPECT_TRUE(c.active_for(kNegotiationRc));
  EXPECT_EQ(c.traffic_mode(kNegotiationRc), TrafficMode::Override);
  EXPECT_FALSE(c.last_refusal());
}

// An SGP that insists on a Traffic Mode Type: each other mode is asked for
// once; when every one is refused the ASPAC waits for its back-off.
TEST(AspNegotiation, FollowingAspTriesEveryModeOnceThenBacksOff) {
  AspClient c(negotiation_config(true));
  negotiation_bring_up(c);
  std::vector<std::optional<TrafficMode>> asked;
  Actions a;
  for (int i = 0; i < 3; ++i) {
    a = c.receive(0, negotiation_wire(unsupported_mode()), at(10ms + 10ms * i));
    auto ac = sent_of<AspAc>(a);
    ASSERT_EQ(ac.size(), 1U);
    asked.push_back(ac[0].traffic_mode);
  }
  EXPECT_EQ(asked, (std::vector<std::optional<TrafficMode>>{std::nullopt, TrafficMode::Override,
                                                           TrafficMode::Broadcast}));
  a = c.receive(0, negotiation_wire(unsupported_mode()), at(50ms));
  ASSERT_EQ(all_of<RequestFailed>(a).size(), 1U);
  EXPECT_EQ(all_of<RequestFailed>(a)[0].retry_at, at(1050ms));
  // The retry starts from our configured mode again.
  auto again = sent_of<AspAc>(advance(c, at(1050ms)).actions);
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].traffic_mode, TrafficMode::Loadshare);
}

// Other refusals are not mode problems: no mode retry, straight to back-off.
TEST(AspNegotiation, ManagementBlockingIsRetriedLaterNotRenegotiated) {
  AspClient c(negotiation_config(true));
  negotiation_bring_up(c);
  Err e;
  e.code = ErrorCode::RefusedManagementBlocking;
  auto a = c.receive(0, negotiation_wire(e), at(10ms));
  EXPECT_TRUE(sent_of<AspAc>(a).empty());
  ASSERT_EQ(all_of<RequestFailed>(a).size(), 1U);
  EXPECT_EQ(c.last_refusal()->error, ErrorCode::RefusedManagementBlocking);
  EXPECT_EQ(c.mode_retries(), 0U);
}

// An SGP that never answers ASPUP: after T(ack) and its retransmissions the
// ASPUP is not given up but sent again after the back-off.
TEST(AspNegotiation, UnansweredAspUpIsSentAgainAfterTheBackoff) {
  auto cfg = negotiation_config(false);
  cfg.t_ack = 500ms;
  cfg.max_retransmissions = 1;
  AspClient c(cfg);
  (void)c.association_up(at(0ms));
  auto e = advance(c, at(1000ms));
  EXPECT_EQ(sent_of<AspUp>(e.actions).size(), 1U);  // the one retransmission
  auto f = all_of<RequestFailed>(e.actions);
  ASSERT_EQ(f.size(), 1U);
  EXPECT_FALSE(f[0].error.has_value());
  EXPECT_EQ(f[0].retry_at, at(2000ms));
  EXPECT_EQ(c.last_refusal()->request, (MessageId{3, type::kAspUp}));
  e = advance(c, at(2000ms));
  EXPECT_EQ(sent_of<AspUp>(e.actions).size(), 1U);
  // Answered now: up, the activation follows, nothing deferred.
  auto a = c.receive(0, negotiation_wire(AspUpAck{}), at(2100ms));
  EXPECT_EQ(c.state(), AspState::Inactive);
  EXPECT_EQ(sent_of<AspAc>(a).size(), 1U);
  EXPECT_EQ(c.deferred(), 0U);
}

// A lost association forgets what was waiting; the next one starts afresh.
TEST(AspNegotiation, AssociationDownClearsTheBackoff) {
  AspClient c(negotiation_config(false));
  negotiation_bring_up(c);
  (void)c.receive(0, negotiation_wire(unsupported_mode()), at(10ms));
  ASSERT_EQ(c.deferred(), 1U);
  (void)c.association_down(at(20ms));
  EXPECT_EQ(c.deferred(), 0U);
  EXPECT_FALSE(c.next_deadline().has_value());
  ASSERT_TRUE(c.last_refusal());  // still shown to the operator
}

TEST(AspScreening, DataFromAnOpcTheSgpMayNotUseIsDroppedAndCounted) {
  auto cfg = negotiation_config(false);
  cfg.originating_point_codes = {MaskedPointCode{0, PointCode{0x0813}}};
  AspClient c(cfg);
  negotiation_bring_up(c);
  (void)c.receive(0, negotiation_wire(AspAcAck{TrafficMode::Loadshare, {kNegotiationRc}, {}}), at(5ms));
  auto data = [](std::uint32_t opc) {
    Data d;
    d.routing_context = kNegotiationRc;
    d.protocol_data = ProtocolData{PointCode{opc}, PointCode{1}, si::kIsup, 2, 0, 3, Bytes{1, 2}};
    return negotiation_wire(d);
  };
  EXPECT_EQ(all_of<DataIndication>(c.receive(1, data(0x0813), at(6ms))).size(), 1U);
  auto a = c.receive(1, data(0x0999), at(6ms));
  EXPECT_TRUE(all_of<DataIndication>(a).empty());
  EXPECT_EQ(count_drops(a, DropReason::OpcScreened), 1);
  EXPECT_TRUE(errs(a).empty());
  EXPECT_EQ(c.drops()[DropReason::OpcScreened], 1U);
}

}  // namespace
}  // namespace mxua
