#include "mxua/fsm/asp_client.hpp"

#include "fsm_helpers.hpp"

namespace mxua {
namespace {

using namespace test;

constexpr AssocId kA = 7;
const TimerKey kTack{TimerKind::Tack, kA};

AspClientConfig config() {
  AspClientConfig c;
  c.assoc = kA;
  c.asp_id = 11;
  c.activations = {AspActivation{{100}, TrafficMode::Loadshare}};
  c.outbound_streams = 5;
  return c;
}

Bytes wire(const Message& m) { return encode(m); }

// Brings the client to ASP-ACTIVE for RC 100.
void bring_up(AspClient& c) {
  (void)c.association_up(at(0ms));
  (void)c.receive(0, wire(AspUpAck{}), at(1ms));
  (void)c.receive(0, wire(AspAcAck{TrafficMode::Loadshare, {100}, {}}), at(2ms));
  ASSERT_EQ(c.state(), AspState::Active);
}

Data data(std::uint8_t sls, std::optional<std::uint32_t> rc = 100) {
  Data d;
  d.routing_context = rc;
  d.protocol_data = ProtocolData{PointCode{1}, PointCode{2}, 5, 2, 0, sls, Bytes{1, 2, 3}};
  return d;
}

TEST(AspClient, SendsAspUpOnStreamZeroAfterAssociationUp) {
  AspClient c(config());
  auto a = c.association_up(at(0ms));
  auto s = sent(a);
  ASSERT_EQ(s.size(), 1U);
  EXPECT_EQ(s[0].stream, 0);
  EXPECT_EQ(std::get<AspUp>(s[0].msg).asp_id, 11U);
  EXPECT_EQ(c.timers().deadline(kTack), at(2000ms));  // default T(ack)
  EXPECT_EQ(c.next_deadline(), at(2000ms));
  EXPECT_EQ(c.state(), AspState::Down);
}

TEST(AspClient, TackRetransmitsThenReportsTheFailure) {
  auto cfg = config();
  cfg.t_ack = 500ms;
  cfg.max_retransmissions = 2;
  AspClient c(cfg);
  (void)c.association_up(at(0ms));
  auto e = advance(c, at(2s));
  EXPECT_EQ(sent_of<AspUp>(e.actions).size(), 2U);
  EXPECT_EQ(e.fired, (std::vector<TimePoint>{at(500ms), at(1000ms), at(1500ms)}));
  auto f = all_of<RequestFailed>(e.actions);
  ASSERT_EQ(f.size(), 1U);
  EXPECT_EQ(f[0].request, (MessageId{3, type::kAspUp}));
  EXPECT_FALSE(f[0].error.has_value());
  EXPECT_EQ(f[0].retry_at, at(2500ms));  // not given up: again after the back-off
  EXPECT_EQ(c.retransmissions(), 2U);
  EXPECT_EQ(c.state(), AspState::Down);
}

TEST(AspClient, AspUpAckThenAspAcThenAspAcAck) {
  AspClient c(config());
  (void)c.association_up(at(0ms));
  auto a = c.receive(0, wire(AspUpAck{}), at(10ms));
  auto changes = all_of<AspStateChanged>(a);
  ASSERT_EQ(changes.size(), 1U);
  EXPECT_EQ(changes[0].to, AspState::Inactive);
  auto ac = sent_of<AspAc>(a);
  ASSERT_EQ(ac.size(), 1U);
  EXPECT_EQ(ac[0].routing_contexts, (std::vector<std::uint32_t>{100}));
  EXPECT_EQ(ac[0].traffic_mode, TrafficMode::Loadshare);
  EXPECT_EQ(c.timers().deadline(kTack), at(2010ms));  // now for the ASPAC
  // ASPAC is retransmitted on T(ack) too.
  auto re = c.on_timeout(at(2010ms));
  EXPECT_EQ(sent_of<AspAc>(re).size(), 1U);
  a = c.receive(0, wire(AspAcAck{TrafficMode::Loadshare, {100}, {}}), at(2100ms));
  EXPECT_FALSE(c.timers().armed(kTack));
  EXPECT_EQ(c.state(), AspState::Active);
  EXPECT_TRUE(c.active_for(100));
  EXPECT_FALSE(c.active_for(101));
}

TEST(AspClient, AspIaAndAspDnWithRetransmission) {
  AspClient c(config());
  bring_up(c);
  auto a = c.inactivate({100}, at(3ms));
  ASSERT_EQ(sent_of<AspIa>(a).size(), 1U);
  EXPECT_EQ(sent_of<AspIa>(c.on_timeout(at(2003ms))).size(), 1U);
  a = c.receive(0, wire(AspIaAck{{100}, {}}), at(2100ms));
  EXPECT_EQ(c.state(), AspState::Inactive);
  a = c.shutdown(at(2200ms));
  ASSERT_EQ(sent_of<AspDn>(a).size(), 1U);
  EXPECT_EQ(sent_of<AspDn>(c.on_timeout(at(4200ms))).size(), 1U);
  a = c.receive(0, wire(AspDnAck{}), at(4300ms));
  EXPECT_EQ(c.state(), AspState::Down);
  EXPECT_FALSE(c.timers().armed(kTack));
  EXPECT_FALSE(c.next_deadline().has_value());
}

TEST(AspClient, DiscardsTrafficBeforeAspUpAck) {
  AspClient c(config());
  (void)c.association_up(at(0ms));
  auto a = c.receive(1, wire(data(1)), at(1ms));
  EXPECT_EQ(count_drops(a, DropReason::NotActive) + count_drops(a, DropReason::BeforeAspUp), 1);
  EXPECT_TRUE(all_of<DataIndication>(a).empty());
  Duna duna;
  duna.affected_point_codes = {MaskedPointCode{0, PointCode{2}}};
  a = c.receive(0, wire(duna), at(1ms));
  EXPECT_EQ(count_drops(a, DropReason::BeforeAspUp), 1);
  EXPECT_EQ(c.destinations().size(), 0U);
}

TEST(AspClient, UnsolicitedAspUpAckWhileActiveSendsErrAndReactivates) {
  AspClient c(config());
  bring_up(c);
  auto a = c.receive(0, wire(AspUpAck{}), at(5ms));
  EXPECT_EQ(errs(a), (std::vector<ErrorCode>{ErrorCode::UnexpectedMessage}));
  EXPECT_EQ(c.state(), AspState::Inactive);
  auto ac = sent_of<AspAc>(a);
  ASSERT_EQ(ac.size(), 1U);  // back to the previous state
  EXPECT_EQ(ac[0].routing_contexts, (std::vector<std::uint32_t>{100}));
  (void)c.receive(0, wire(AspAcAck{std::nullopt, {100}, {}}), at(6ms));
  EXPECT_EQ(c.state(), AspState::Active);
}

TEST(AspClient, UnsolicitedAspUpAckWhileInactiveIsAccepted) {
  auto cfg = config();
  cfg.auto_activate = false;
  AspClient c(cfg);
  (void)c.association_up(at(0ms));
  (void)c.receive(0, wire(AspUpAck{}), at(1ms));
  auto a = c.receive(0, wire(AspUpAck{}), at(2ms));
  EXPECT_TRUE(sent(a).empty());
  EXPECT_EQ(c.state(), AspState::Inactive);
}

TEST(AspClient, UnsolicitedAspIaAckMakesInactiveAndRecovers) {
  AspClient c(config());
  bring_up(c);
  auto a = c.receive(0, wire(AspIaAck{{100}, {}}), at(5ms));
  EXPECT_FALSE(c.active_for(100));
  EXPECT_EQ(sent_of<AspAc>(a).size(), 1U);
}

// The AS without a Routing Context goes inactive with the RCs an
// unsolicited ASPIA ACK names, and is asked back once, not once per RC.
TEST(AspClient, UnsolicitedAspIaAckForSeveralRcsRecoversTheAsWithoutRcOnce) {
  auto cfg = config();
  cfg.activations = {AspActivation{{}, TrafficMode::Loadshare}, AspActivation{{100, 200}, TrafficMode::Loadshare}};
  AspClient c(cfg);
  (void)c.association_up(at(0ms));
  (void)c.receive(0, wire(AspUpAck{}), at(1ms));
  (void)c.receive(0, wire(AspAcAck{TrafficMode::Loadshare, {}, {}}), at(2ms));
  (void)c.receive(0, wire(AspAcAck{TrafficMode::Loadshare, {100, 200}, {}}), at(3ms));
  ASSERT_TRUE(c.active_for(100));
  ASSERT_TRUE(c.active_for(200));
  auto a = c.receive(0, wire(AspIaAck{{100, 200}, {}}), at(5ms));
  EXPECT_FALSE(c.active_for(100));
  EXPECT_FALSE(c.active_for(200));
  EXPECT_EQ(c.state(), AspState::Inactive);
  // Answer each ASPAC as it is sent (one outstanding at a time).
  std::vector<std::vector<std::uint32_t>> asked;
  for (int i = 0; i < 8; ++i) {
    auto ac = sent_of<AspAc>(a);
    if (ac.empty()) break;
    ASSERT_EQ(ac.size(), 1U);
    asked.push_back(ac[0].routing_contexts);
    a = c.receive(0, wire(AspAcAck{TrafficMode::Loadshare, ac[0].routing_contexts, {}}),
                  at(std::chrono::milliseconds(6 + i)));
  }
  EXPECT_EQ(asked, (std::vector<std::vector<std::uint32_t>>{{100}, {}, {200}}));
  EXPECT_TRUE(c.active_for(100));
  EXPECT_TRUE(c.active_for(200));
}

TEST(AspClient, UnsolicitedAspDnAckGoesDownAndComesBack) {
  AspClient c(config());
  bring_up(c);
  auto a = c.receive(0, wire(AspDnAck{}), at(5ms));
  EXPECT_EQ(c.state(), AspState::Down);
  EXPECT_EQ(sent_of<AspUp>(a).size(), 1U);
  a = c.receive(0, wire(AspUpAck{}), at(6ms));
  auto ac = sent_of<AspAc>(a);
  ASSERT_EQ(ac.size(), 1U);
  EXPECT_EQ(ac[0].routing_contexts, (std::vector<std::uint32_t>{100}));
}

TEST(AspClient, OverrideTakeoverNotifyMakesInactive) {
  AspClient c(config());
  bring_up(c);
  Ntfy n{Status{StatusType::Other, status_info::kAlternateAspActive}, 12, {100}, {}};
  auto a = c.receive(0, wire(n), at(5ms));
  EXPECT_EQ(all_of<NtfyIndication>(a).size(), 1U);
  EXPECT_EQ(c.state(), AspState::Inactive);
  auto ch = all_of<AspStateChanged>(a);
  ASSERT_FALSE(ch.empty());
  EXPECT_EQ(ch[0].routing_context, 100U);
  EXPECT_EQ(ch[0].to, AspState::Inactive);
}

TEST(AspClient, ErrAnswersTheOutstandingRequest) {
  AspClient c(config());
  (void)c.association_up(at(0ms));
  (void)c.receive(0, wire(AspUpAck{}), at(1ms));
  Err e;
  e.code = ErrorCode::NoConfiguredAsForAsp;
  e.routing_contexts = {100};
  auto a = c.receive(0, wire(e), at(2ms));
  auto f = all_of<RequestFailed>(a);
  ASSERT_EQ(f.size(), 1U);
  EXPECT_EQ(f[0].request, (MessageId{4, type::kAspAc}));
  EXPECT_EQ(f[0].error, ErrorCode::NoConfiguredAsForAsp);
  EXPECT_TRUE(errs(a).empty());  // never an ERR for an ERR
  EXPECT_EQ(c.state(), AspState::Inactive);
}

TEST(AspClient, ReceivedDataChecksStreamAndState) {
  AspClient c(config());
  bring_up(c);
  auto a = c.receive(0, wire(data(3)), at(5ms));
  EXPECT_EQ(errs(a), (std::vector<ErrorCode>{ErrorCode::InvalidStreamIdentifier}));
  EXPECT_EQ(count_drops(a, DropReason::InvalidStream), 1);
  a = c.receive(2, wire(data(3)), at(5ms));
  auto ind = all_of<DataIndication>(a);
  ASSERT_EQ(ind.size(), 1U);
  EXPECT_EQ(ind[0].data, data(3));
  // RC we are not active for: ERR Unexpected Message carrying the RC.
  a = c.receive(2, wire(data(3, 555)), at(5ms));
  auto e = sent_of<Err>(a);
  ASSERT_EQ(e.size(), 1U);
  EXPECT_EQ(e[0].code, ErrorCode::UnexpectedMessage);
  EXPECT_EQ(e[0].routing_contexts, (std::vector<std::uint32_t>{555}));
}

TEST(AspClient, SendDataUsesSlsStreamsAndNeedsActive) {
  AspClient c(config());
  auto a = c.send_data(to_view(data(1)));
  EXPECT_EQ(count_drops(a, DropReason::NotActive), 1);
  bring_up(c);
  for (std::uint8_t sls = 0; sls < 16; ++sls) {
    const auto d = data(sls);
    a = c.send_data(to_view(d));
    auto s = sent(a);
    ASSERT_EQ(s.size(), 1U);
    EXPECT_EQ(s[0].stream, 1 + sls % 4);  // 5 outbound streams: 1..4 for DATA
    EXPECT_EQ(std::get<Data>(s[0].msg), d);
  }
}

TEST(AspClient, BeatAckEchoesAndTimeoutAtTwiceTbeat) {
  auto cfg = config();
  cfg.t_beat = 1000ms;
  cfg.t_ack = 100s;  // keep the ASPUP retransmissions out of the way
  AspClient c(cfg);
  (void)c.association_up(at(0ms));
  const TimerKey tb{TimerKind::Tbeat, kA};
  EXPECT_EQ(c.timers().deadline(tb), at(1000ms));
  // A BEAT from the peer is echoed unchanged on its stream.
  const Bytes beat = wire(Beat{Bytes{9, 8, 7}});
  auto a = c.receive(3, beat, at(10ms));
  auto s = sent(a);
  ASSERT_EQ(s.size(), 1U);
  EXPECT_EQ(s[0].stream, 3);
  EXPECT_EQ(std::get<BeatAck>(s[0].msg).heartbeat_data, (Bytes{9, 8, 7}));
  // Our BEAT at 1 s; nothing more from the peer -> unavailable at 2 x T(beat) after 10 ms.
  a = advance(c, at(1000ms)).actions;
  EXPECT_EQ(sent_of<Beat>(a).size(), 1U);
  a = advance(c, at(2000ms)).actions;
  EXPECT_TRUE(all_of<PeerUnavailable>(a).empty());  // 1990 ms since the last message
  a = advance(c, at(3000ms)).actions;
  EXPECT_EQ(all_of<PeerUnavailable>(a).size(), 1U);
  EXPECT_FALSE(c.timers().armed(tb));
}

TEST(AspClient, BeatAckKeepsThePeerAlive) {
  auto cfg = config();
  cfg.t_beat = 1000ms;
  cfg.t_ack = 100s;  // keep the ASPUP retransmissions out of the way
  AspClient c(cfg);
  (void)c.association_up(at(0ms));
  for (int i = 1; i <= 10; ++i) {
    const TimePoint t = at(1000ms * i);
    auto e = advance(c, t);
    ASSERT_EQ(e.fired, (std::vector<TimePoint>{t})) << i;
    ASSERT_TRUE(all_of<PeerUnavailable>(e.actions).empty()) << i;
    auto b = sent_of<Beat>(e.actions);
    ASSERT_EQ(b.size(), 1U);
    (void)c.receive(0, wire(beat_ack_for(b[0])), t + 50ms);
  }
}

// An event loop running late fires T(beat) long after the peer's BEAT ACK
// arrived but before it was read: one late expiry with nothing read is one
// silent interval, not 2 x T(beat) of silence.
TEST(AspClient, LateBeatTimerDoesNotFailAPeerWhoseAnswerIsStillUnread) {
  auto cfg = config();
  cfg.t_beat = 500ms;
  cfg.t_ack = 100s;
  AspClient c(cfg);
  (void)c.association_up(at(0ms));
  (void)c.receive(0, wire(Beat{Bytes{1}}), at(100ms));  // the peer is alive
  auto a = c.on_timeout(at(500ms));
  auto b = sent_of<Beat>(a);
  ASSERT_EQ(b.size(), 1U);
  // The loop stalls for 2.8 s; the timer runs before the waiting BEAT ACK is read.
  a = c.on_timeout(at(3300ms));
  EXPECT_TRUE(all_of<PeerUnavailable>(a).empty());
  auto b2 = sent_of<Beat>(a);
  ASSERT_EQ(b2.size(), 1U);
  (void)c.receive(0, wire(beat_ack_for(b[0])), at(3301ms));
  (void)c.receive(0, wire(beat_ack_for(b2[0])), at(3302ms));
  a = c.on_timeout(at(3800ms));
  EXPECT_TRUE(all_of<PeerUnavailable>(a).empty());
  // A peer that really went quiet is still failed after two silent intervals.
  a = c.on_timeout(at(4300ms));
  EXPECT_TRUE(all_of<PeerUnavailable>(a).empty());
  a = c.on_timeout(at(4800ms));
  EXPECT_EQ(all_of<PeerUnavailable>(a).size(), 1U);
}

TEST(AspClient, SsnmUpdatesTheDestinationTable) {
  AspClient c(config());
  bring_up(c);
  Duna duna;
  duna.routing_contexts = {100};
  duna.affected_point_codes = {MaskedPointCode{3, PointCode{0x1018}}};
  auto a = c.receive(0, wire(duna), at(5ms));
  auto ch = all_of<DestinationStateChanged>(a);
  ASSERT_EQ(ch.size(), 1U);
  EXPECT_EQ(ch[0].availability, DestinationAvailability::Unavailable);
  EXPECT_EQ(c.destinations().lookup(PointCode{0x101c})->availability, DestinationAvailability::Unavailable);
  Dava dava;
  dava.affected_point_codes = {MaskedPointCode{0, PointCode{0x101c}}};
  (void)c.receive(0, wire(dava), at(6ms));
  EXPECT_EQ(c.destinations().lookup(PointCode{0x101c})->availability, DestinationAvailability::Available);
  EXPECT_EQ(c.destinations().lookup(PointCode{0x101d})->availability, DestinationAvailability::Unavailable);
  Scon scon;
  scon.affected_point_codes = {MaskedPointCode{0, PointCode{0x101c}}};
  scon.congestion_level = 2;
  (void)c.receive(0, wire(scon), at(7ms));
  EXPECT_EQ(c.destinations().lookup(PointCode{0x101c})->congestion_level, 2);
  Dupu dupu;
  dupu.affected_point_codes = {MaskedPointCode{0, PointCode{0x101c}}};
  dupu.user_cause = UserCause{UnavailabilityCause::UnequippedRemoteUser, si::kIsup};
  a = c.receive(0, wire(dupu), at(8ms));
  ASSERT_EQ(all_of<DestinationStateChanged>(a).size(), 1U);
  EXPECT_EQ(all_of<DestinationStateChanged>(a)[0].user_unavailable->user, si::kIsup);
  // The ASP may audit.
  Daud daud;
  daud.affected_point_codes = {MaskedPointCode{0, PointCode{0x101c}}};
  EXPECT_EQ(sent_of<Daud>(c.send_ssnm(daud, at(9ms))).size(), 1U);
}

TEST(AspClient, RegistrationRequestsAndResponses) {
  AspClient c(config());
  RoutingKey k;
  k.local_rk_id = 1;
  k.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{2}}, {5}, {}}};
  (void)c.association_up(at(0ms));
  EXPECT_EQ(count_drops(c.register_keys({k}, at(0ms)), DropReason::BeforeAspUp), 1);
  (void)c.receive(0, wire(AspUpAck{}), at(1ms));
  auto a = c.register_keys({k}, at(2ms));
  auto req = sent_of<RegReq>(a);
  ASSERT_EQ(req.size(), 1U);
  EXPECT_EQ(req[0].routing_keys[0], k);
  a = c.receive(0, wire(RegRsp{{RegistrationResult{1, RegistrationStatus::Success, 300}}}), at(3ms));
  auto ind = all_of<RegistrationIndication>(a);
  ASSERT_EQ(ind.size(), 1U);
  EXPECT_EQ(ind[0].result.routing_context, 300U);
  a = c.deregister({300}, at(4ms));
  EXPECT_EQ(sent_of<DeregReq>(a).size(), 1U);
  a = c.receive(0, wire(DeregRsp{{DeregistrationResult{300, DeregistrationStatus::Success}}}), at(5ms));
  EXPECT_EQ(all_of<DeregistrationIndication>(a).size(), 1U);
}

TEST(AspClient, RequestsFromThePeerAreUnexpected) {
  AspClient c(config());
  bring_up(c);
  auto a = c.receive(0, wire(AspUp{}), at(5ms));
  EXPECT_EQ(errs(a), (std::vector<ErrorCode>{ErrorCode::UnexpectedMessage}));
  // Management off stream 0.
  a = c.receive(2, wire(AspUpAck{}), at(5ms));
  EXPECT_EQ(errs(a), (std::vector<ErrorCode>{ErrorCode::InvalidStreamIdentifier}));
  // Malformed: answered, and a malformed ERR is not.
  a = c.receive(0, Bytes{1, 0, 3, 1, 0, 0, 0, 9, 0}, at(5ms));
  EXPECT_EQ(errs(a).size(), 1U);
  a = c.receive(0, Bytes{1, 0, 0, 0, 0, 0, 0, 9, 0}, at(5ms));
  EXPECT_TRUE(errs(a).empty());
  EXPECT_EQ(count_drops(a, DropReason::Malformed), 1);
}

TEST(AspClient, AssociationDownResetsEverything) {
  AspClient c(config());
  bring_up(c);
  auto a = c.association_down(at(10ms));
  EXPECT_EQ(c.state(), AspState::Down);
  auto ch = all_of<AspStateChanged>(a);
  ASSERT_FALSE(ch.empty());
  EXPECT_EQ(ch.back().to, AspState::Down);
}

}  // namespace
}  // namespace mxua
