#include "mxua/fsm/sgp_node.hpp"

#include "fsm_helpers.hpp"

namespace mxua {
namespace {

using namespace test;

constexpr std::uint32_t kRc = 100;
constexpr AssocId kA1 = 1, kA2 = 2, kA3 = 3;
const TimerKey kTr{TimerKind::Tr, kRc};

AsConfig as_config(TrafficMode mode, unsigned n = 1) {
  AsConfig a;
  a.name = "isup";
  a.routing_context = kRc;
  a.mode = mode;
  a.min_active_asps = n;
  a.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{0x101c}}, {si::kIsup}, {}}};
  return a;
}

SgpConfig node_config(TrafficMode mode = TrafficMode::Loadshare, unsigned n = 1) {
  SgpConfig c;
  c.application_servers = {as_config(mode, n)};
  return c;
}

Bytes node_wire(const Message& m) { return encode(m); }

Actions up(SgpNode& n, AssocId a, std::optional<std::uint32_t> asp_id = std::nullopt, std::uint16_t streams = 5) {
  Actions out = n.association_up(a, streams, at(0ms));
  auto more = n.receive(a, 0, node_wire(AspUp{asp_id ? asp_id : std::optional<std::uint32_t>(a + 100), {}}), at(0ms));
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

Actions activate(SgpNode& n, AssocId a, std::optional<TrafficMode> mode = std::nullopt,
                 std::vector<std::uint32_t> rcs = {kRc}, TimePoint now = at(0ms)) {
  return n.receive(a, 0, node_wire(AspAc{mode, rcs, {}}), now);
}

DataView ss7(std::uint8_t sls, std::uint32_t dpc = 0x101c, std::uint8_t si = si::kIsup) {
  static const Bytes payload{0x01, 0x00, 0x10, 0x00};
  DataView d;
  d.protocol_data = ProtocolDataView{PointCode{0x0813}, PointCode{dpc}, si, 2, 0, sls, ByteView(payload)};
  return d;
}

Bytes from_asp(std::uint8_t sls, std::optional<std::uint32_t> rc = kRc) {
  Data d;
  d.routing_context = rc;
  d.protocol_data = ProtocolData{PointCode{0x101c}, PointCode{0x0813}, si::kIsup, 2, 0, sls, Bytes{1, 0, 0x10, 0}};
  return node_wire(d);
}

// --------------------------------------------------------------- ASPSM

TEST(SgpAspsm, AspUpIsAckedThenNtfyAsInactive) {
  SgpNode n(node_config());
  auto a = up(n, kA1);
  const int ack = index_of<AspUpAck>(a, kA1);
  const int ntfy = index_of<Ntfy>(a, kA1);
  ASSERT_GE(ack, 0);
  ASSERT_GT(ntfy, ack);  // NTFY after the ACK
  EXPECT_TRUE(has_ntfy(a, kA1, StatusType::AsStateChange, status_info::kAsInactive));
  EXPECT_EQ(n.asp_state(kA1), AspState::Inactive);
  EXPECT_EQ(n.as_state(kRc), AsState::Inactive);  // DN2IA
  auto ch = all_of<AsStateChanged>(a);
  ASSERT_EQ(ch.size(), 1U);
  EXPECT_EQ(ch[0].from, AsState::Down);
}

TEST(SgpAspsm, AspUpWhileInactiveIsAckedAgain) {
  SgpNode n(node_config());
  (void)up(n, kA1);
  auto a = n.receive(kA1, 0, node_wire(AspUp{}), at(1ms));
  EXPECT_EQ(sent_of<AspUpAck>(a).size(), 1U);
  EXPECT_TRUE(errs(a).empty());
}

TEST(SgpAspsm, AspUpWhileActiveAcksSendsErrAndGoesInactive) {
  SgpNode n(node_config());
  (void)up(n, kA1);
  (void)activate(n, kA1);
  ASSERT_EQ(n.as_state(kRc), AsState::Active);
  auto a = n.receive(kA1, 0, node_wire(AspUp{}), at(1ms));
  EXPECT_EQ(sent_of<AspUpAck>(a).size(), 1U);
  EXPECT_EQ(errs(a, kA1), (std::vector<ErrorCode>{ErrorCode::UnexpectedMessage}));
  EXPECT_EQ(n.asp_state(kA1), AspState::Inactive);
  EXPECT_EQ(n.as_state(kRc), AsState::Pending);
}

TEST(SgpAspsm, AspUpRefusals) {
  auto cfg = node_config();
  cfg.blocked_asp_ids = {66};
  cfg.require_asp_id = false;
  SgpNode n(cfg);
  (void)n.association_up(kA1, 5, at(0ms));
  auto a = n.receive(kA1, 0, node_wire(AspUp{66, {}}), at(0ms));
  EXPECT_EQ(errs(a), (std::vector<ErrorCode>{ErrorCode::RefusedManagementBlocking}));
  EXPECT_EQ(n.asp_state(kA1), AspState::Down);
  (void)up(n, kA2, 5);
  (void)n.association_up(kA3, 5, at(0ms));
  a = n.receive(kA3, 0, node_wire(AspUp{5, {}}), at(0ms));
  EXPECT_EQ(errs(a), (std::vector<ErrorCode>{ErrorCode::InvalidAspIdentifier}));

  cfg.require_asp_id = true;
  SgpNode strict(cfg);
  (void)strict.association_up(kA1, 5, at(0ms));
  a = strict.receive(kA1, 0, node_wire(AspUp{}), at(0ms));
  EXPECT_EQ(errs(a), (std::vector<ErrorCode>{ErrorCode::AspIdentifierRequired}));
}

TEST(SgpAspsm, MessagesBeforeAspUpAreRefused) {
  SgpNode n(node_config());
  (void)n.association_up(kA1, 5, at(0ms));
  auto a = activate(n, kA1);
  EXPECT_EQ(errs(a), (std::vector<ErrorCode>{ErrorCode::UnexpectedMessage}));
  EXPECT_EQ(count_drops(a, DropReason::BeforeAspUp), 1);
  a = n.receive(kA1, 1, from_asp(1), at(0ms));
  EXPECT_EQ(errs(a), (std::vector<ErrorCode>{ErrorCode::UnexpectedMessage}));
  EXPECT_TRUE(all_of<DataIndication>(a).empty());
  // ASPDN from a DOWN ASP is still acknowledged.
  a = n.receive(kA1, 0, node_wire(AspDn{}), at(0ms));
  EXPECT_EQ(sent_of<AspDnAck>(a).size(), 1U);
}

// The peer whose ASP state survived a reconnection (osmo-stp 1.6 after a
// send error): its ASP stays ACTIVE and it sends DATA on the new
// association without ever sending ASP Up. Refused with ERR and, once, the
// association is reset so the peer starts over with ASP Up; management
// before ASP Up (a conforming peer's ASPAC sent too early) is only refused.
TEST(SgpAspsm, DataBeforeAspUpResetsTheAssociationOnce) {
  SgpNode n(node_config());
  (void)n.association_up(kA1, 5, at(0ms));
  auto a = activate(n, kA1);  // ASPAC before ASPUP: refused, not reset
  EXPECT_TRUE(all_of<AssociationRefused>(a).empty());
  a = n.receive(kA1, 1, from_asp(1), at(1ms));
  EXPECT_EQ(errs(a), (std::vector<ErrorCode>{ErrorCode::UnexpectedMessage}));
  EXPECT_EQ(count_drops(a, DropReason::BeforeAspUp), 1);
  const auto reset = all_of<AssociationRefused>(a);
  ASSERT_EQ(reset.size(), 1U);
  EXPECT_EQ(reset[0].assoc, kA1);
  EXPECT_EQ(reset[0].why, AssociationRefused::Why::data_before_asp_up);
  EXPECT_EQ(n.stale_asp_resets(), 1U);
  // What the peer sent before the abort took effect: refused, no second reset.
  a = n.receive(kA1, 1, from_asp(2), at(2ms));
  EXPECT_EQ(count_drops(a, DropReason::BeforeAspUp), 1);
  EXPECT_TRUE(all_of<AssociationRefused>(a).empty());
  EXPECT_EQ(n.stale_asp_resets(), 1U);
  // An up ASP of another association is not touched.
  (void)up(n, kA2);
  a = n.receive(kA2, 1, from_asp(3), at(3ms));
  EXPECT_TRUE(all_of<AssociationRefused>(a).empty());
}

TEST(SgpAspsm, DataBeforeAspUpOnlyRefusedWhenResetIsOff) {
  auto cfg = node_config();
  cfg.reset_on_data_before_asp_up = false;
  SgpNode n(cfg);
  (void)n.association_up(kA1, 5, at(0ms));
  auto a = n.receive(kA1, 1, from_asp(1), at(1ms));
  EXPECT_EQ(errs(a), (std::vector<ErrorCode>{ErrorCode::UnexpectedMessage}));
  EXPECT_TRUE(all_of<AssociationRefused>(a).empty());
  EXPECT_EQ(n.stale_asp_resets(), 0U);
}

TEST(SgpAspsm, AspDnTakesTheAspDown) {
  SgpNode n(node_config());
  (void)up(n, kA1);
  auto a = n.receive(kA1, 0, node_wire(AspDn{}), at(1ms));
  EXPECT_EQ(sent_of<AspDnAck>(a).size(), 1U);
  EXPECT_EQ(n.asp_state(kA1), AspState::Down);
  EXPECT_EQ(n.as_state(kRc), AsState::Down);  // IA2DN
}

TEST(SgpAspsm, AspDnFromActiveGoesDownWithAspFailureAndAsPending) {
  SgpNode n(node_config());
  (void)up(n, kA1, 11);
  (void)up(n, kA2, 12);
  (void)activate(n, kA1);
  auto a = n.receive(kA1, 0, node_wire(AspDn{}), at(1ms));
  EXPECT_EQ(index_of<AspDnAck>(a, kA1), 0);
  EXPECT_EQ(n.asp_state(kA1), AspState::Down);
  EXPECT_EQ(n.as_state(kRc), AsState::Pending);
  EXPECT_TRUE(has_ntfy(a, kA2, StatusType::Other, status_info::kAspFailure));
  EXPECT_TRUE(has_ntfy(a, kA2, StatusType::AsStateChange, status_info::kAsPending));
  EXPECT_TRUE(ntfys(a, kA1).empty());  // a DOWN ASP hears nothing
}

TEST(SgpAspsm, SctpRestartTakesTheAspDown) {
  SgpNode n(node_config());
  (void)up(n, kA1);
  (void)activate(n, kA1);
  auto a = n.association_up(kA1, 5, at(10ms));  // restart indication: same association comes up again
  EXPECT_EQ(n.asp_state(kA1), AspState::Down);
  EXPECT_EQ(n.as_state(kRc), AsState::Pending);
  auto ch = all_of<AspStateChanged>(a);
  ASSERT_FALSE(ch.empty());
  EXPECT_EQ(ch.back().to, AspState::Down);
  // The ASP starts over with ASPUP / ASPAC and gets the queue back.
  (void)n.route(ss7(4), at(20ms));
  (void)n.receive(kA1, 0, node_wire(AspUp{}), at(30ms));
  a = activate(n, kA1, std::nullopt, {kRc}, at(40ms));
  EXPECT_EQ(n.as_state(kRc), AsState::Active);
  EXPECT_EQ(sent_of<Data>(a, kA1).size(), 1U);
}

TEST(SgpAspsm, ManagementOffStreamZeroAndDataOnStreamZero) {
  SgpNode n(node_config());
  (void)n.association_up(kA1, 5, at(0ms));
  auto a = n.receive(kA1, 1, node_wire(AspUp{}), at(0ms));
  EXPECT_EQ(errs(a), (std::vector<ErrorCode>{ErrorCode::InvalidStreamIdentifier}));
  (void)n.receive(kA1, 0, node_wire(AspUp{}), at(0ms));
  (void)activate(n, kA1);
  a = n.receive(kA1, 0, from_asp(1), at(0ms));
  EXPECT_EQ(errs(a), (std::vector<ErrorCode>{ErrorCode::InvalidStreamIdentifier}));
  EXPECT_EQ(count_drops(a, DropReason::InvalidStream), 1);
  // BEAT may use any stream and is echoed on it.
  a = n.receive(kA1, 3, node_wire(Beat{Bytes{1, 2}}), at(0ms));
  auto s = sent(a);
  ASSERT_EQ(s.size(), 1U);
  EXPECT_EQ(s[0].stream, 3);
  EXPECT_EQ(std::get<BeatAck>(s[0].msg).heartbeat_data, (Bytes{1, 2}));
}

TEST(SgpAspsm, MalformedInputIsAnsweredButNeverAnErr) {
  SgpNode n(node_config());
  (void)up(n, kA1);
  auto a = n.receive(kA1, 0, Bytes{1, 0, 7, 1, 0, 0, 0, 8}, at(0ms));
  auto e = sent_of<Err>(a);
  ASSERT_EQ(e.size(), 1U);
  EXPECT_EQ(e[0].code, ErrorCode::UnsupportedMessageClass);
  EXPECT_EQ(e[0].diagnostic, (Bytes{1, 0, 7, 1, 0, 0, 0, 8}));
  a = n.receive(kA1, 0, Bytes{1, 0, 0, 0, 0, 0, 0, 8}, at(0ms));  // ERR without Error Code
  EXPECT_TRUE(sent(a).empty());
  EXPECT_EQ(count_drops(a, DropReason::Malformed), 1);
  EXPECT_EQ(n.drops()[DropReason::Malformed], 2U);
  a = n.receive(99, 0, node_wire(AspUp{}), at(0ms));
  EXPECT_EQ(count_drops(a, DropReason::UnknownAssociation), 1);
}

// --------------------------------------------------------------- ASPTM

TEST(SgpAsptm, AspAcKnownRcAckThenNtfyAsActive) {
  SgpNode n(node_config());
  (void)up(n, kA1);
  auto a = activate(n, kA1, TrafficMode::Loadshare);
  auto ack = sent_of<AspAcAck>(a);
  ASSERT_EQ(ack.size(), 1U);
  EXPECT_EQ(ack[0].routing_contexts, (std::vector<std::uint32_t>{kRc}));
  EXPECT_EQ(ack[0].traffic_mode, TrafficMode::Loadshare);
  EXPECT_GT(index_of<Ntfy>(a), index_of<AspAcAck>(a));
  EXPECT_TRUE(has_ntfy(a, kA1, StatusType::AsStateChange, status_info::kAsActive));
  EXPECT_EQ(n.as_state(kRc), AsState::Active);  // IA2AC
  EXPECT_EQ(n.asp_state(kA1, kRc), AspState::Active);
  // ASPAC again: ACK, nothing changes.
  a = activate(n, kA1);
  EXPECT_EQ(sent_of<AspAcAck>(a).size(), 1U);
  EXPECT_TRUE(all_of<AsStateChanged>(a).empty());
}

TEST(SgpAsptm, AspAcErrorCases) {
  SgpNode n(node_config());
  (void)up(n, kA1);
  // Unknown RC -> Invalid Routing Context, with the RC (RFC 4666 3.8.1).
  auto a = activate(n, kA1, std::nullopt, {555});
  auto e = sent_of<Err>(a);
  ASSERT_EQ(e.size(), 1U);
  EXPECT_EQ(e[0].code, ErrorCode::InvalidRoutingContext);
  EXPECT_EQ(e[0].routing_contexts, (std::vector<std::uint32_t>{555}));
  EXPECT_TRUE(sent_of<AspAcAck>(a).empty());
  // Traffic mode other than the AS's.
  a = activate(n, kA1, TrafficMode::Override);
  EXPECT_EQ(errs(a), (std::vector<ErrorCode>{ErrorCode::UnsupportedTrafficModeType}));
  EXPECT_EQ(n.asp_state(kA1), AspState::Inactive);
  // One good and one bad RC: ACK for the good one, ERR for the bad one.
  a = activate(n, kA1, std::nullopt, {kRc, 555});
  EXPECT_EQ(errs(a), (std::vector<ErrorCode>{ErrorCode::InvalidRoutingContext}));
  EXPECT_EQ(sent_of<AspAcAck>(a)[0].routing_contexts, (std::vector<std::uint32_t>{kRc}));
}

TEST(SgpAsptm, AspAcWithoutRc) {
  {
    SgpNode n(node_config());
    (void)up(n, kA1);
    auto a = activate(n, kA1, std::nullopt, {});
    EXPECT_EQ(sent_of<AspAcAck>(a).size(), 1U);  // RKs exist, RC optional: all activated
    EXPECT_EQ(n.as_state(kRc), AsState::Active);
  }
  {
    auto cfg = node_config();
    cfg.rc_required = true;
    SgpNode n(cfg);
    (void)up(n, kA1);
    EXPECT_EQ(errs(activate(n, kA1, std::nullopt, {})), (std::vector<ErrorCode>{ErrorCode::MissingParameter}));
  }
  {
    SgpNode n(SgpConfig{});  // no AS at all
    (void)up(n, kA1);
    // No RC and no AS known for the ASP: No Configured AS for ASP (RFC 4666 3.8.1).
    EXPECT_EQ(errs(activate(n, kA1, std::nullopt, {})), (std::vector<ErrorCode>{ErrorCode::NoConfiguredAsForAsp}));
    EXPECT_EQ(errs(n.receive(kA1, 0, node_wire(AspIa{}), at(0ms))), (std::vector<ErrorCode>{ErrorCode::NoConfiguredAsForAsp}));
  }
}

TEST(SgpAsptm, AspAcFromAspNotInTheAsAllowList) {
  auto cfg = node_config();
  cfg.application_servers[0].asp_ids = {101};
  SgpNode n(cfg);
  (void)up(n, kA1, 101);
  (void)up(n, kA2, 102);
  EXPECT_TRUE(errs(activate(n, kA1)).empty());
  EXPECT_EQ(errs(activate(n, kA2)), (std::vector<ErrorCode>{ErrorCode::InvalidRoutingContext}));
}

TEST(SgpAsptm, AspIaCases) {
  SgpNode n(node_config());
  (void)up(n, kA1);
  (void)up(n, kA2);
  (void)activate(n, kA1);
  auto a = n.receive(kA1, 0, node_wire(AspIa{{555}, {}}), at(1ms));
  auto e = sent_of<Err>(a);
  ASSERT_EQ(e.size(), 1U);
  EXPECT_EQ(e[0].code, ErrorCode::InvalidRoutingContext);
  EXPECT_EQ(e[0].routing_contexts, (std::vector<std::uint32_t>{555}));
  a = n.receive(kA1, 0, node_wire(AspIa{{kRc}, {}}), at(1ms));
  EXPECT_EQ(sent_of<AspIaAck>(a).size(), 1U);
  EXPECT_EQ(n.asp_state(kA1), AspState::Inactive);
  // AC2PN: T(r) starts, the INACTIVE ASPs hear AS-PENDING after the ACK.
  EXPECT_EQ(n.as_state(kRc), AsState::Pending);
  EXPECT_EQ(n.timers().deadline(kTr), at(1ms) + 2000ms);
  EXPECT_TRUE(has_ntfy(a, kA2, StatusType::AsStateChange, status_info::kAsPending));
  EXPECT_TRUE(has_ntfy(a, kA1, StatusType::AsStateChange, status_info::kAsPending));
  EXPECT_GT(index_of<Ntfy>(a), index_of<AspIaAck>(a));
  // ASPIA without RC with RKs: inactive everywhere, ACKed.
  (void)activate(n, kA2);
  a = n.receive(kA2, 0, node_wire(AspIa{}), at(2ms));
  EXPECT_EQ(sent_of<AspIaAck>(a).size(), 1U);
  EXPECT_EQ(n.asp_state(kA2), AspState::Inactive);
}

// --------------------------------------------------------------- AS state machine

TEST(SgpAs, PendingQueuesAndFlushesToTheFirstActiveAsp) {
  SgpNode n(node_config());
  (void)up(n, kA1);
  (void)up(n, kA2);
  (void)activate(n, kA1);
  (void)n.receive(kA1, 0, node_wire(AspIa{}), at(1ms));
  ASSERT_EQ(n.as_state(kRc), AsState::Pending);
  for (std::uint8_t i = 0; i < 5; ++i) EXPECT_TRUE(sent(n.route(ss7(i), at(2ms))).empty());
  EXPECT_EQ(n.queued(kRc), 5U);
  auto a = activate(n, kA2, std::nullopt, {kRc}, at(500ms));  // PN2AC before T(r)
  EXPECT_EQ(n.as_state(kRc), AsState::Active);
  EXPECT_FALSE(n.timers().armed(kTr));
  auto data = sent_of<Data>(a, kA2);
  ASSERT_EQ(data.size(), 5U);
  for (std::uint8_t i = 0; i < 5; ++i) {
    EXPECT_EQ(data[i].protocol_data.sls, i);  // in order
    EXPECT_EQ(data[i].routing_context, kRc);
  }
  EXPECT_EQ(n.queued(kRc), 0U);
  EXPECT_GT(index_of<Data>(a), index_of<AspAcAck>(a));
}

TEST(SgpAs, TrExpiryDropsTheQueueAndCountsIt) {
  auto cfg = node_config();
  cfg.t_r = 700ms;
  cfg.pending_queue_limit = 3;
  SgpNode n(cfg);
  (void)up(n, kA1);
  (void)up(n, kA2);
  (void)activate(n, kA1);
  (void)n.association_down(kA1, at(100ms));  // the active ASP fails
  ASSERT_EQ(n.as_state(kRc), AsState::Pending);
  EXPECT_EQ(n.next_deadline(), at(800ms));
  Actions a;
  for (std::uint8_t i = 0; i < 4; ++i) {
    auto r = n.route(ss7(i), at(200ms));
    a.insert(a.end(), r.begin(), r.end());
  }
  EXPECT_EQ(count_drops(a, DropReason::QueueFull), 1);  // bounded queue
  auto e = advance(n, at(10s));
  EXPECT_EQ(e.fired, (std::vector<TimePoint>{at(800ms)}));
  a = e.actions;
  EXPECT_EQ(count_drops(a, DropReason::TrExpired), 3);
  EXPECT_EQ(n.drops()[DropReason::TrExpired], 3U);
  EXPECT_EQ(n.as_state(kRc), AsState::Inactive);  // PN2IA: kA2 still up
  EXPECT_TRUE(has_ntfy(a, kA2, StatusType::AsStateChange, status_info::kAsInactive));
  // Now inactive: traffic is dropped, not queued.
  EXPECT_EQ(count_drops(n.route(ss7(1), at(900ms)), DropReason::NoActiveAsp), 1);
}

TEST(SgpAs, TrExpiryWithEveryAspDownGoesDown) {
  SgpNode n(node_config());
  (void)up(n, kA1);
  (void)activate(n, kA1);
  auto a = n.association_down(kA1, at(10ms));
  EXPECT_EQ(n.as_state(kRc), AsState::Pending);
  EXPECT_EQ(n.timers().deadline(kTr), at(2010ms));
  a = n.on_timeout(at(2010ms));
  EXPECT_EQ(n.as_state(kRc), AsState::Down);  // PN2DN
  auto ch = all_of<AsStateChanged>(a);
  ASSERT_EQ(ch.size(), 1U);
  EXPECT_EQ(ch[0].from, AsState::Pending);
  EXPECT_EQ(ch[0].to, AsState::Down);
}

TEST(SgpAs, LoadshareNeedsNActiveAsps) {
  SgpNode n(node_config(TrafficMode::Loadshare, 2));
  (void)up(n, kA1);
  (void)up(n, kA2);
  auto a = activate(n, kA1);
  EXPECT_EQ(n.as_state(kRc), AsState::Inactive);
  EXPECT_TRUE(has_ntfy(a, kA2, StatusType::Other, status_info::kInsufficientAspResources));
  EXPECT_EQ(count_drops(n.route(ss7(1), at(0ms)), DropReason::NoActiveAsp), 1);
  a = activate(n, kA2);
  EXPECT_EQ(n.as_state(kRc), AsState::Active);
  EXPECT_TRUE(has_ntfy(a, kA1, StatusType::AsStateChange, status_info::kAsActive));
  EXPECT_TRUE(has_ntfy(a, kA2, StatusType::AsStateChange, status_info::kAsActive));
  // AS-ACTIVE persists with one ASP, with an Insufficient ASP resources NTFY.
  (void)up(n, kA3);
  a = n.receive(kA2, 0, node_wire(AspIa{}), at(1ms));
  EXPECT_EQ(n.as_state(kRc), AsState::Active);
  EXPECT_TRUE(has_ntfy(a, kA3, StatusType::Other, status_info::kInsufficientAspResources));
}

TEST(SgpAs, LoadshareKeepsEachSlsOnOneAspAndInOrder) {
  SgpNode n(node_config());
  (void)up(n, kA1);
  (void)up(n, kA2);
  (void)up(n, kA3);
  for (auto a : {kA1, kA2, kA3}) (void)activate(n, a);
  std::map<std::uint8_t, std::set<std::pair<AssocId, std::uint16_t>>> where;
  std::map<std::uint8_t, std::vector<std::uint8_t>> order;
  std::set<AssocId> used;
  for (int round = 0; round < 20; ++round) {
    for (std::uint8_t sls = 0; sls < 16; ++sls) {
      static Bytes payloads[20];
      payloads[round] = Bytes{static_cast<std::uint8_t>(round)};
      DataView d = ss7(sls);
      d.protocol_data.user_data = payloads[round];
      for (const auto& s : sent(n.route(d, at(0ms)))) {
        const auto& m = std::get<Data>(s.msg);
        where[sls].insert({s.assoc, s.stream});
        order[sls].push_back(m.protocol_data.user_data[0]);
        used.insert(s.assoc);
        EXPECT_NE(s.stream, 0);
      }
    }
  }
  EXPECT_EQ(used.size(), 3U);  // all three share the load
  for (std::uint8_t sls = 0; sls < 16; ++sls) {
    EXPECT_EQ(where[sls].size(), 1U) << "SLS " << int(sls) << " moved";
    ASSERT_EQ(order[sls].size(), 20U);
    for (std::uint8_t r = 0; r < 20; ++r) EXPECT_EQ(order[sls][r], r);
  }
  // The decision alone agrees with route().
  for (std::uint8_t sls = 0; sls < 16; ++sls) {
    auto t = n.decide(ss7(sls));
    ASSERT_TRUE(t);
    ASSERT_EQ(t->asps.size(), 1U);
    EXPECT_EQ(where[sls].begin()->first, t->asps.front());
  }
}

TEST(SgpAs, OverrideTakeoverNotifiesTheDisplacedAsp) {
  SgpNode n(node_config(TrafficMode::Override));
  (void)up(n, kA1, 11);
  (void)up(n, kA2, 12);
  (void)activate(n, kA1, TrafficMode::Override);
  EXPECT_EQ(sent_of<Data>(n.route(ss7(1), at(0ms)), kA1).size(), 1U);
  auto a = activate(n, kA2, TrafficMode::Override);
  EXPECT_EQ(sent_of<AspAcAck>(a, kA2).size(), 1U);
  auto nt = ntfys(a, kA1);
  ASSERT_EQ(nt.size(), 1U);
  EXPECT_EQ(nt[0].status.type, StatusType::Other);
  EXPECT_EQ(nt[0].status.info, status_info::kAlternateAspActive);
  EXPECT_EQ(nt[0].asp_id, 12U);  // the new ASP's identifier
  EXPECT_EQ(nt[0].routing_contexts, (std::vector<std::uint32_t>{kRc}));
  EXPECT_EQ(n.asp_state(kA1, kRc), AspState::Inactive);
  EXPECT_EQ(n.active_asps(kRc), (std::vector<AssocId>{kA2}));
  EXPECT_EQ(n.as_state(kRc), AsState::Active);
  auto r = n.route(ss7(1), at(0ms));
  EXPECT_EQ(sent_of<Data>(r, kA2).size(), 1U);
  EXPECT_TRUE(sent_of<Data>(r, kA1).empty());
}

TEST(SgpAs, BroadcastTagsTheFirstDataAfterActivationWithACorrelationId) {
  SgpNode n(node_config(TrafficMode::Broadcast));
  (void)up(n, kA1);
  (void)up(n, kA2);
  (void)activate(n, kA1, TrafficMode::Broadcast);
  auto first = sent_of<Data>(n.route(ss7(1), at(0ms)));
  ASSERT_EQ(first.size(), 1U);
  ASSERT_TRUE(first[0].correlation_id);
  auto second = sent_of<Data>(n.route(ss7(2), at(0ms)));
  ASSERT_EQ(second.size(), 1U);
  EXPECT_FALSE(second[0].correlation_id);
  (void)activate(n, kA2, TrafficMode::Broadcast);
  auto third = n.route(ss7(3), at(0ms));
  auto to1 = sent_of<Data>(third, kA1), to2 = sent_of<Data>(third, kA2);
  ASSERT_EQ(to1.size(), 1U);
  ASSERT_EQ(to2.size(), 1U);
  ASSERT_TRUE(to1[0].correlation_id && to2[0].correlation_id);
  EXPECT_EQ(*to1[0].correlation_id, *to2[0].correlation_id);  // same message, same id
  EXPECT_NE(*to1[0].correlation_id, *first[0].correlation_id);  // unique per tagging
  auto fourth = sent_of<Data>(n.route(ss7(4), at(0ms)));
  EXPECT_EQ(fourth.size(), 2U);
  for (const auto& d : fourth) EXPECT_FALSE(d.correlation_id);
}

// decide() and route() share one selection (traffic_distribution): in
// every mode the ASPs decide() names are exactly the ones route() sends to.
// (decide() used to name only the first active ASP in broadcast mode.)
TEST(SgpAs, DecideNamesExactlyTheAspsRouteSendsToInEveryMode) {
  for (auto mode : {TrafficMode::Override, TrafficMode::Loadshare, TrafficMode::Broadcast}) {
    SgpNode n(node_config(mode));
    for (auto a : {kA1, kA2, kA3}) {
      (void)up(n, a);
      (void)activate(n, a, mode);
    }
    for (std::uint8_t sls = 0; sls < 16; ++sls) {
      auto d = n.decide(ss7(sls));
      ASSERT_TRUE(d) << to_string(mode);
      EXPECT_EQ(d->routing_context, kRc);
      EXPECT_EQ(d->mode, mode);
      const std::set<AssocId> decided(d->asps.begin(), d->asps.end());
      std::set<AssocId> routed;
      for (const auto& s : sent(n.route(ss7(sls), at(0ms)))) routed.insert(s.assoc);
      EXPECT_EQ(decided, routed) << to_string(mode) << " SLS " << int(sls);
    }
  }
  // Broadcast: all three, override: the last one to activate.
  SgpNode b(node_config(TrafficMode::Broadcast));
  for (auto a : {kA1, kA2, kA3}) (void)up(b, a), (void)activate(b, a, TrafficMode::Broadcast);
  EXPECT_EQ(b.decide(ss7(5))->asps.size(), 3U);
  SgpNode o(node_config(TrafficMode::Override));
  for (auto a : {kA1, kA2, kA3}) (void)up(o, a), (void)activate(o, a, TrafficMode::Override);
  ASSERT_EQ(o.decide(ss7(5))->asps.size(), 1U);
  EXPECT_EQ(o.decide(ss7(5))->asps.front(), kA3);
  // Nothing is decided when nothing would be delivered.
  SgpNode idle(node_config());
  EXPECT_FALSE(idle.decide(ss7(1)));
}

TEST(SgpAs, AspFailureIsNotifiedToTheOtherAsps) {
  SgpNode n(node_config());
  (void)up(n, kA1, 11);
  (void)up(n, kA2, 12);
  (void)activate(n, kA1);
  (void)activate(n, kA2);
  auto a = n.association_down(kA1, at(5ms));
  auto nt = ntfys(a, kA2);
  ASSERT_FALSE(nt.empty());
  EXPECT_EQ(nt[0].status.info, status_info::kAspFailure);
  EXPECT_EQ(nt[0].asp_id, 11U);
  EXPECT_EQ(n.as_state(kRc), AsState::Active);
  EXPECT_EQ(n.active_asps(kRc), (std::vector<AssocId>{kA2}));
  for (std::uint8_t sls = 0; sls < 8; ++sls) EXPECT_EQ(n.decide(ss7(sls))->asps.front(), kA2);
}

// --------------------------------------------------------------- DATA from ASPs

TEST(SgpData, FromAspChecksRcStateAndNa) {
  auto cfg = node_config();
  cfg.application_servers[0].network_appearance = 7;
  SgpNode n(cfg);
  (void)up(n, kA1);
  auto a = n.receive(kA1, 1, from_asp(1), at(0ms));
  auto e = sent_of<Err>(a);
  ASSERT_EQ(e.size(), 1U);
  EXPECT_EQ(e[0].code, ErrorCode::UnexpectedMessage);
  EXPECT_EQ(e[0].routing_contexts, (std::vector<std::uint32_t>{kRc}));
  EXPECT_EQ(count_drops(a, DropReason::NotActive), 1);
  (void)activate(n, kA1);
  a = n.receive(kA1, 1, from_asp(1), at(0ms));
  auto ind = all_of<DataIndication>(a);
  ASSERT_EQ(ind.size(), 1U);
  EXPECT_EQ(ind[0].routing_context, kRc);
  EXPECT_EQ(ind[0].data.protocol_data.dpc.value, 0x0813U);
  a = n.receive(kA1, 1, from_asp(1, 555), at(0ms));
  EXPECT_EQ(errs(a), (std::vector<ErrorCode>{ErrorCode::InvalidRoutingContext}));
  a = n.receive(kA1, 1, from_asp(1, std::nullopt), at(0ms));  // RC may be left out with one AS
  EXPECT_EQ(all_of<DataIndication>(a).size(), 1U);
  Data wrong_na;
  wrong_na.network_appearance = 8;
  wrong_na.routing_context = kRc;
  a = n.receive(kA1, 1, node_wire(wrong_na), at(0ms));
  e = sent_of<Err>(a);
  ASSERT_EQ(e.size(), 1U);
  EXPECT_EQ(e[0].code, ErrorCode::InvalidNetworkAppearance);
  EXPECT_EQ(e[0].network_appearance, 8U);
}

TEST(SgpData, SilentDropWhenConfigured) {
  auto cfg = node_config();
  cfg.err_on_unexpected_data = false;
  SgpNode n(cfg);
  (void)up(n, kA1);
  auto a = n.receive(kA1, 1, from_asp(1), at(0ms));
  EXPECT_TRUE(sent(a).empty());
  EXPECT_EQ(count_drops(a, DropReason::NotActive), 1);
}

TEST(SgpData, RoutingByKeyAndStreams) {
  SgpNode n(node_config());
  (void)up(n, kA1, std::nullopt, 1);  // one outbound stream only: DATA cannot avoid 0
  (void)activate(n, kA1);
  EXPECT_EQ(count_drops(n.route(ss7(1), at(0ms)), DropReason::NoDataStream), 1);
  EXPECT_EQ(count_drops(n.route(ss7(1, 0x2000), at(0ms)), DropReason::NoRoutingKey), 1);
  EXPECT_EQ(count_drops(n.route(ss7(1, 0x101c, si::kSccp), at(0ms)), DropReason::NoRoutingKey), 1);
}

// --------------------------------------------------------------- SSNM

TEST(SgpSsnm, AnnouncesToActiveAspsAndAnswersDaudFromTheTable) {
  SgpNode n(node_config());
  (void)up(n, kA1);
  (void)up(n, kA2);
  (void)activate(n, kA1);
  auto a = n.announce(MaskedPointCode{0, PointCode{0x2000}}, DestinationAvailability::Unavailable, at(0ms));
  auto duna = sent_of<Duna>(a);
  ASSERT_EQ(duna.size(), 1U);  // only kA1 is active
  EXPECT_EQ(sent_of<Duna>(a, kA1).size(), 1U);
  EXPECT_EQ(duna[0].routing_contexts, (std::vector<std::uint32_t>{kRc}));
  (void)n.announce(MaskedPointCode{0, PointCode{0x2001}}, DestinationAvailability::Available, at(0ms));
  a = n.announce_congestion(PointCode{0x2001}, 2, at(0ms));
  ASSERT_EQ(sent_of<Scon>(a).size(), 1U);
  EXPECT_EQ(sent_of<Scon>(a)[0].congestion_level, 2);
  a = n.announce_user_unavailable(PointCode{0x2001}, UserCause{UnavailabilityCause::UnequippedRemoteUser, 5}, at(0ms));
  ASSERT_EQ(sent_of<Dupu>(a).size(), 1U);
  (void)n.announce(MaskedPointCode{0, PointCode{0x2002}}, DestinationAvailability::Restricted, at(0ms));

  Daud daud;
  daud.routing_contexts = {kRc};
  daud.affected_point_codes = {MaskedPointCode{0, PointCode{0x2000}}, MaskedPointCode{0, PointCode{0x2001}},
                               MaskedPointCode{0, PointCode{0x2002}}, MaskedPointCode{0, PointCode{0x3000}}};
  a = n.receive(kA2, 0, node_wire(daud), at(0ms));
  auto un = sent_of<Duna>(a, kA2);
  auto av = sent_of<Dava>(a, kA2);
  auto rs = sent_of<Drst>(a, kA2);
  auto sc = sent_of<Scon>(a, kA2);
  auto er = sent_of<Err>(a, kA2);
  ASSERT_EQ(un.size(), 1U);
  ASSERT_EQ(av.size(), 1U);
  ASSERT_EQ(rs.size(), 1U);
  ASSERT_EQ(sc.size(), 1U);
  ASSERT_EQ(er.size(), 1U);
  EXPECT_EQ(un[0].affected_point_codes[0].pc.value, 0x2000U);
  EXPECT_EQ(un[0].routing_contexts, (std::vector<std::uint32_t>{kRc}));
  EXPECT_EQ(av[0].affected_point_codes[0].pc.value, 0x2001U);
  EXPECT_EQ(rs[0].affected_point_codes[0].pc.value, 0x2002U);
  EXPECT_EQ(sc[0].congestion_level, 2);
  EXPECT_EQ(er[0].code, ErrorCode::DestinationStatusUnknown);
  EXPECT_EQ(er[0].affected_point_codes[0].pc.value, 0x3000U);
}

TEST(SgpSsnm, DaudForUnknownDestinationCanBeAnsweredAvailable) {
  auto cfg = node_config();
  cfg.daud_unknown_is_available = true;
  SgpNode n(cfg);
  (void)up(n, kA1);
  Daud daud;
  daud.affected_point_codes = {MaskedPointCode{0, PointCode{0x3000}}};
  auto a = n.receive(kA1, 0, node_wire(daud), at(0ms));
  EXPECT_EQ(sent_of<Dava>(a).size(), 1U);
  EXPECT_TRUE(errs(a).empty());
}

TEST(SgpSsnm, SconFromAnAspUpdatesTheTable) {
  SgpNode n(node_config());
  (void)up(n, kA1);
  (void)activate(n, kA1);
  Scon s;
  s.affected_point_codes = {MaskedPointCode{0, PointCode{0x0813}}};
  s.congestion_level = 3;
  auto a = n.receive(kA1, 0, node_wire(s), at(0ms));
  EXPECT_EQ(all_of<DestinationStateChanged>(a).size(), 1U);
  EXPECT_EQ(n.destinations().lookup(PointCode{0x0813})->congestion_level, 3);
}

// --------------------------------------------------------------- RKM

RoutingKey key(std::uint32_t lrk, std::uint32_t dpc, std::vector<std::uint8_t> sis = {si::kIsup}) {
  RoutingKey k;
  k.local_rk_id = lrk;
  k.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{dpc}}, std::move(sis), {}}};
  return k;
}

TEST(SgpRkm, StaticOnlyRefusesNewKeysButRegistersProvisionedOnes) {
  SgpNode n(node_config());
  (void)up(n, kA1);
  auto a = n.receive(kA1, 0, node_wire(RegReq{{key(1, 0x2000), key(2, 0x101c)}}), at(0ms));
  auto rsp = sent_of<RegRsp>(a);
  ASSERT_EQ(rsp.size(), 1U);
  ASSERT_EQ(rsp[0].results.size(), 2U);
  EXPECT_EQ(rsp[0].results[0], (RegistrationResult{1, RegistrationStatus::NotCurrentlyProvisioned, 0}));
  EXPECT_EQ(rsp[0].results[1], (RegistrationResult{2, RegistrationStatus::Success, kRc}));
  a = n.receive(kA1, 0, node_wire(RegReq{{key(3, 0x101c)}}), at(0ms));
  EXPECT_EQ(sent_of<RegRsp>(a)[0].results[0].status, RegistrationStatus::AlreadyRegistered);
}

TEST(SgpRkm, DynamicRegistrationCreatesAnAsThatCarriesTraffic) {
  auto cfg = node_config();
  cfg.rkm = RkmPermission::DynamicPermitted;
  SgpNode n(cfg);
  (void)up(n, kA1);
  auto k = key(1, 0x2000);
  k.traffic_mode = TrafficMode::Override;
  auto a = n.receive(kA1, 0, node_wire(RegReq{{k}}), at(0ms));
  auto rsp = sent_of<RegRsp>(a);
  ASSERT_EQ(rsp.size(), 1U);
  const auto r = rsp[0].results[0];
  ASSERT_EQ(r.status, RegistrationStatus::Success);
  EXPECT_EQ(r.routing_context, cfg.first_dynamic_rc);
  EXPECT_EQ(n.as_state(r.routing_context), AsState::Inactive);
  EXPECT_TRUE(has_ntfy(a, kA1, StatusType::AsStateChange, status_info::kAsInactive));
  EXPECT_EQ(all_of<RegistrationIndication>(a).size(), 1U);
  (void)n.receive(kA1, 0, node_wire(AspAc{TrafficMode::Override, {r.routing_context}, {}}), at(0ms));
  EXPECT_EQ(n.as_state(r.routing_context), AsState::Active);
  auto d = sent_of<Data>(n.route(ss7(1, 0x2000), at(0ms)), kA1);
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].routing_context, r.routing_context);
  // Bad traffic mode, and the same key again.
  auto bad = key(2, 0x3000);
  bad.traffic_mode = static_cast<TrafficMode>(9);
  a = n.receive(kA1, 0, node_wire(RegReq{{bad, key(3, 0x2000)}}), at(0ms));
  rsp = sent_of<RegRsp>(a);
  EXPECT_EQ(rsp[0].results[0].status, RegistrationStatus::UnsupportedTrafficHandlingMode);
  EXPECT_EQ(rsp[0].results[1].status, RegistrationStatus::AlreadyRegistered);
  // Deregistration: refused while active, then accepted; the AS disappears.
  a = n.receive(kA1, 0, node_wire(DeregReq{{r.routing_context, 777, kRc}}), at(0ms));
  auto dr = sent_of<DeregRsp>(a);
  ASSERT_EQ(dr.size(), 1U);
  EXPECT_EQ(dr[0].results[0].status, DeregistrationStatus::AspCurrentlyActive);
  EXPECT_EQ(dr[0].results[1].status, DeregistrationStatus::InvalidRoutingContext);
  EXPECT_EQ(dr[0].results[2].status, DeregistrationStatus::NotRegistered);
  (void)n.receive(kA1, 0, node_wire(AspIa{{r.routing_context}, {}}), at(0ms));
  a = n.receive(kA1, 0, node_wire(DeregReq{{r.routing_context}}), at(0ms));
  EXPECT_EQ(sent_of<DeregRsp>(a)[0].results[0].status, DeregistrationStatus::Success);
  EXPECT_FALSE(n.as_state(r.routing_context).has_value());
  EXPECT_EQ(count_drops(n.route(ss7(1, 0x2000), at(0ms)), DropReason::NoRoutingKey), 1);
}

TEST(SgpRkm, DynamicLimitAndRcChecks) {
  auto cfg = node_config();
  cfg.rkm = RkmPermission::DynamicPermitted;
  cfg.max_dynamic_as = 1;
  SgpNode n(cfg);
  (void)up(n, kA1);
  auto named = key(3, 0x4000);
  named.routing_context = 4242;
  auto changed = key(4, 0x5000);
  changed.routing_context = kRc;  // exists, but with another key
  auto a = n.receive(kA1, 0, node_wire(RegReq{{key(1, 0x2000), key(2, 0x3000), named, changed}}), at(0ms));
  auto res = sent_of<RegRsp>(a)[0].results;
  EXPECT_EQ(res[0].status, RegistrationStatus::Success);
  EXPECT_EQ(res[1].status, RegistrationStatus::InsufficientResources);
  EXPECT_EQ(res[2].status, RegistrationStatus::InvalidRoutingKey);
  EXPECT_EQ(res[3].status, RegistrationStatus::RoutingKeyChangeRefused);
}

TEST(SgpRkm, DynamicKeysGoAwayWithTheAsp) {
  auto cfg = node_config();
  cfg.rkm = RkmPermission::DynamicPermitted;
  SgpNode n(cfg);
  (void)up(n, kA1);
  auto a = n.receive(kA1, 0, node_wire(RegReq{{key(1, 0x2000)}}), at(0ms));
  const auto rc = sent_of<RegRsp>(a)[0].results[0].routing_context;
  EXPECT_TRUE(n.as_state(rc).has_value());
  (void)n.association_down(kA1, at(1ms));
  EXPECT_FALSE(n.as_state(rc).has_value());
  EXPECT_EQ(n.routing_keys().size(), 1U);  // the static one stays
}

TEST(SgpRkm, RegistrationBeforeAspUpIsRefused) {
  SgpNode n(node_config());
  (void)n.association_up(kA1, 5, at(0ms));
  auto a = n.receive(kA1, 0, node_wire(RegReq{{key(1, 0x101c)}}), at(0ms));
  EXPECT_EQ(errs(a), (std::vector<ErrorCode>{ErrorCode::UnexpectedMessage}));
}

// --------------------------------------------------------------- BEAT

TEST(SgpBeat, PeerDownAfterTwiceTbeatWithoutTraffic) {
  auto cfg = node_config();
  cfg.t_beat = 500ms;
  SgpNode n(cfg);
  (void)n.association_up(kA1, 5, at(0ms));
  ASSERT_EQ(n.next_deadline(), at(500ms));
  auto a = n.on_timeout(at(500ms));
  EXPECT_EQ(sent_of<Beat>(a).size(), 1U);
  ASSERT_EQ(n.next_deadline(), at(1000ms));
  a = n.on_timeout(at(1000ms));
  auto pu = all_of<PeerUnavailable>(a);
  ASSERT_EQ(pu.size(), 1U);
  EXPECT_EQ(pu[0].assoc, kA1);
}

}  // namespace
}  // namespace mxua
