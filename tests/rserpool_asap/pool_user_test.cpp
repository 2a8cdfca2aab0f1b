// Pool user side of ASAP with virtual time: cache and staleness, T1
// retransmissions, subscriptions, GET_PRIMARY_SERVER / GET_NEXT_SERVER and
// once-only ENDPOINT_UNREACHABLE reports.
#include "rserpool/asap/pool_user.hpp"

#include "asap_test_support.hpp"

namespace rserpool::asap::test {
namespace {

const PoolHandle kUserPool("sg-pool");

PoolUserConfig pu_config(bool subscribe = false) {
  PoolUserConfig c;
  c.hunt = hunt_config(2);
  c.stale_cache = 5s;
  c.subscribe = subscribe;
  return c;
}

wire::asap::HandleResolutionResponse answer(std::vector<PoolElementParameter> pes,
                                            std::optional<PolicyParameters> policy = std::nullopt,
                                            bool accepted = false) {
  wire::asap::HandleResolutionResponse r;
  r.accepted = accepted;
  r.pool_handle = kUserPool;
  r.overall_policy = std::move(policy);
  r.pool_elements = std::move(pes);
  return r;
}

// PU with registrar 0 as home and `pes` cached at time `at`.
void prime(PoolUser& pu, std::vector<PoolElementParameter> pes, TimePoint when = at(0ms), bool accepted = false) {
  Actions a;
  EXPECT_FALSE(pu.get_primary_server(kUserPool, when, a));
  pu.on_registrar_connected(0, when, a);
  Actions r;
  pu.on_registrar_message(0, answer(std::move(pes), std::nullopt, accepted), when, r);
  EXPECT_EQ(count<PoolResolved>(r), 1u);
}

TEST(PoolUser, MissSendsHandleResolutionOnceHomeIsUp) {
  PoolUser pu(pu_config());
  Actions a;
  EXPECT_FALSE(pu.get_primary_server(kUserPool, at(0ms), a));
  EXPECT_EQ(count<ConnectRegistrar>(a), 2u);
  EXPECT_TRUE(sent<wire::asap::HandleResolution>(a).empty());
  // Asking again while the request waits does not duplicate it.
  Actions a2;
  EXPECT_FALSE(pu.get_primary_server(kUserPool, at(1ms), a2));
  EXPECT_TRUE(a2.empty());
  Actions c;
  pu.on_registrar_connected(1, at(2ms), c);
  auto hr = sent<wire::asap::HandleResolution>(c);
  ASSERT_EQ(hr.size(), 1u);
  EXPECT_EQ(hr[0].first, 1u);
  EXPECT_EQ(hr[0].second.pool_handle, kUserPool);
  EXPECT_FALSE(hr[0].second.subscribe);
  EXPECT_TRUE(armed_at(pu, TimerKind::t1_enrp_request, at(2ms + 15s), 1));
  // The answer counts only from the home (1); registrar 0 was dropped.
  Actions other;
  pu.on_registrar_message(0, answer({pe(9)}), at(3ms), other);
  EXPECT_TRUE(other.empty());
  Actions r;
  pu.on_registrar_message(1, answer({pe(1), pe(2)}), at(3ms), r);
  EXPECT_FALSE(armed(pu, TimerKind::t1_enrp_request, 1));
  EXPECT_EQ(only<PoolResolved>(r).pool, kUserPool);
  Actions g;
  auto got = pu.get_primary_server(kUserPool, at(4ms), g);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, 1u);
  EXPECT_TRUE(g.empty());  // fresh: no request
}

TEST(PoolUser, StaleEntryAnswersAndRefreshesInParallel) {
  PoolUser pu(pu_config());
  prime(pu, {pe(1), pe(2)});
  EXPECT_TRUE(pu.is_fresh(kUserPool, at(4999ms)));
  EXPECT_FALSE(pu.is_fresh(kUserPool, at(5000ms)));
  Actions a;
  auto got = pu.get_primary_server(kUserPool, at(6s), a);
  ASSERT_TRUE(got);  // answered from the stale entry
  EXPECT_EQ(sent<wire::asap::HandleResolution>(a).size(), 1u);
  // A second stale hit while the refresh is outstanding sends nothing more.
  Actions b;
  EXPECT_TRUE(pu.get_primary_server(kUserPool, at(6100ms), b));
  EXPECT_TRUE(sent<wire::asap::HandleResolution>(b).empty());
  Actions r;
  pu.on_registrar_message(0, answer({pe(3)}), at(6200ms), r);
  EXPECT_TRUE(pu.is_fresh(kUserPool, at(6200ms)));
  Actions c;
  EXPECT_EQ(pu.get_primary_server(kUserPool, at(6300ms), c)->id, 3u);
}

TEST(PoolUser, RoundRobinPrimaryRotates) {
  PoolUser pu(pu_config());
  prime(pu, {pe(1), pe(2), pe(3)});
  Actions a;
  std::vector<PeIdentifier> got;
  for (int i = 0; i < 4; ++i) got.push_back(pu.get_primary_server(kUserPool, at(1ms), a)->id);
  EXPECT_EQ(got, (std::vector<PeIdentifier>{1, 2, 3, 1}));
}

TEST(PoolUser, PoolPolicyDrivesSelection) {
  PoolUser pu(pu_config());
  Actions a;
  pu.get_primary_server(kUserPool, at(0ms), a);
  pu.on_registrar_connected(0, at(0ms), a);
  PolicyParameters prio;
  prio.type = PolicyType::priority;
  auto p1 = pe(1, prio);
  auto p2 = pe(2, prio);
  p2.policy.priority = 9;
  p1.policy.priority = 3;
  pu.on_registrar_message(0, answer({p1, p2}, prio), at(1ms), a);
  EXPECT_EQ(pu.get_primary_server(kUserPool, at(2ms), a)->id, 2u);
  EXPECT_EQ(pu.get_primary_server(kUserPool, at(2ms), a)->id, 2u);
}

TEST(PoolUser, T1RetransmitsThenFails) {
  PoolUser pu(pu_config());
  Actions a;
  pu.get_primary_server(kUserPool, at(0ms), a);
  pu.on_registrar_connected(0, at(0ms), a);
  for (int i = 1; i <= 2; ++i) {
    Actions t = fire(pu, at(15s * i));
    EXPECT_EQ(sent<wire::asap::HandleResolution>(t).size(), 1u) << i;
    EXPECT_TRUE(armed_at(pu, TimerKind::t1_enrp_request, at(15s * (i + 1)), 1));
    EXPECT_EQ(count<ResolutionFailed>(t), 0u);
  }
  Actions t = fire(pu, at(45s));
  EXPECT_TRUE(sent<wire::asap::HandleResolution>(t).empty());
  auto f = only<ResolutionFailed>(t);
  EXPECT_EQ(f.reason, ResolutionFailure::timeout);
  EXPECT_EQ(f.pool, kUserPool);
  // A late answer to the dropped request is not taken.
  Actions late;
  pu.on_registrar_message(0, answer({pe(1)}), at(46s), late);
  EXPECT_TRUE(late.empty());
  EXPECT_FALSE(pu.is_cached(kUserPool));
}

TEST(PoolUser, T1ExpiryHuntsInParallelAndMovesRequestsToNewHome) {
  PoolUser pu(pu_config());
  Actions a;
  pu.get_primary_server(kUserPool, at(0ms), a);
  pu.on_registrar_connected(0, at(0ms), a);
  Actions t = fire(pu, at(15s));
  auto resent = sent<wire::asap::HandleResolution>(t);
  ASSERT_EQ(resent.size(), 1u);
  EXPECT_EQ(resent[0].first, 0u);  // still the home
  EXPECT_EQ(connects(t), (std::vector<AssocId>{1}));  // the other registrar only
  EXPECT_TRUE(armed_at(pu, TimerKind::t5_server_hunt, at(15s + 10s)));
  Actions c;
  pu.on_registrar_connected(1, at(16s), c);
  EXPECT_EQ(only<DisconnectRegistrar>(c).assoc, 0u);
  EXPECT_EQ(only<HomeRegistrarChanged>(c).assoc, 1u);
  auto moved = sent<wire::asap::HandleResolution>(c);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].first, 1u);
  EXPECT_TRUE(armed_at(pu, TimerKind::t1_enrp_request, at(16s + 15s), 1));
  EXPECT_FALSE(armed(pu, TimerKind::t5_server_hunt));
  Actions r;
  pu.on_registrar_message(1, answer({pe(8)}), at(17s), r);
  EXPECT_EQ(count<PoolResolved>(r), 1u);
}

TEST(PoolUser, UnknownPoolIsReported) {
  PoolUser pu(pu_config());
  Actions a;
  pu.get_primary_server(kUserPool, at(0ms), a);
  pu.on_registrar_connected(0, at(0ms), a);
  wire::asap::HandleResolutionResponse r;
  r.pool_handle = kUserPool;
  r.error.push_back(OperationErrorCause{ErrorCause::unknown_pool_handle, {}});
  Actions x;
  pu.on_registrar_message(0, r, at(1ms), x);
  EXPECT_EQ(only<ResolutionFailed>(x).reason, ResolutionFailure::unknown_pool);
}

TEST(PoolUser, AsapErrorFromHomeFailsRequestsInFlight) {
  PoolUser pu(pu_config());
  Actions a;
  pu.get_primary_server(kUserPool, at(0ms), a);
  pu.on_registrar_connected(0, at(0ms), a);
  wire::asap::Error err{{OperationErrorCause{ErrorCause::unrecognized_message, {}}}};
  // From an association that is not home: not about our requests.
  Actions other;
  pu.on_registrar_message(5, err, at(1ms), other);
  EXPECT_TRUE(other.empty());
  Actions x;
  pu.on_registrar_message(0, err, at(1ms), x);
  EXPECT_FALSE(armed(pu, TimerKind::t1_enrp_request, 1));
  auto f = only<ResolutionFailed>(x);
  EXPECT_EQ(f.reason, ResolutionFailure::rejected);
  ASSERT_EQ(f.causes.size(), 1u);
  EXPECT_EQ(f.causes[0].code, ErrorCause::unrecognized_message);
}

TEST(PoolUser, AnnouncedRegistrarServesAWaitingRequest) {
  PoolUserConfig c;  // no configured registrars at all
  PoolUser pu(c);
  Actions a;
  EXPECT_FALSE(pu.get_primary_server(kUserPool, at(0ms), a));
  EXPECT_EQ(count<ConnectRegistrar>(a), 0u);
  Actions ann;
  pu.on_server_announce(wire::asap::ServerAnnounce{0x51, {}}, *IpAddress::parse("10.1.2.3"), at(1s), ann);
  EXPECT_EQ(only<ConnectRegistrar>(ann).address.to_string(), "10.1.2.3:3863");
  Actions up;
  pu.on_registrar_connected(0, at(1100ms), up);
  EXPECT_EQ(sent<wire::asap::HandleResolution>(up).size(), 1u);
}

TEST(PoolUser, NoRegistrarFailsWaitingRequests) {
  PoolUser pu(pu_config());
  Actions a;
  pu.get_primary_server(kUserPool, at(0ms), a);
  // The attempts hang (neither up nor refused): the first T5 round ends it.
  EXPECT_TRUE(fire(pu, at(10s) - 1ns).empty());
  Actions t = fire(pu, at(10s));
  EXPECT_EQ(only<ResolutionFailed>(t).reason, ResolutionFailure::no_registrar);
}

TEST(PoolUser, SubscriptionKeepsEntryFreshAndTakesPushedUpdates) {
  PoolUser pu(pu_config(true));
  Actions a;
  pu.get_primary_server(kUserPool, at(0ms), a);
  Actions c;
  pu.on_registrar_connected(0, at(0ms), c);
  auto hr = sent<wire::asap::HandleResolution>(c);
  ASSERT_EQ(hr.size(), 1u);
  EXPECT_TRUE(hr[0].second.subscribe);
  Actions r;
  pu.on_registrar_message(0, answer({pe(1)}, std::nullopt, true), at(1ms), r);
  EXPECT_TRUE(pu.is_subscribed(kUserPool));
  EXPECT_TRUE(pu.is_fresh(kUserPool, at(1h)));
  Actions g;
  EXPECT_EQ(pu.get_primary_server(kUserPool, at(1h), g)->id, 1u);
  EXPECT_TRUE(g.empty());
  // Pushed update: no request outstanding.
  Actions p;
  pu.on_registrar_message(0, answer({pe(4), pe(5)}), at(2h), p);
  EXPECT_EQ(only<PoolUpdated>(p).pool, kUserPool);
  const auto after_push = pu.get_primary_server(kUserPool, at(2h), g)->id;
  EXPECT_TRUE(after_push == 4u || after_push == 5u) << after_push;
  // Home lost: the subscription is renewed at the next home.
  Actions l;
  pu.on_registrar_lost(0, at(3h), l);
  EXPECT_FALSE(pu.is_subscribed(kUserPool));
  Actions c2;
  pu.on_registrar_connected(1, at(3h), c2);
  auto hr2 = sent<wire::asap::HandleResolution>(c2);
  ASSERT_EQ(hr2.size(), 1u);
  EXPECT_EQ(hr2[0].first, 1u);
  EXPECT_TRUE(hr2[0].second.subscribe);
}

TEST(PoolUser, SubscriptionRefusedBehavesLikeACache) {
  PoolUser pu(pu_config(true));
  prime(pu, {pe(1)}, at(0ms), /*accepted=*/false);
  EXPECT_FALSE(pu.is_subscribed(kUserPool));
  EXPECT_FALSE(pu.is_fresh(kUserPool, at(6s)));
}

TEST(PoolUser, UnsolicitedResponseForUnsubscribedPoolIsIgnored) {
  PoolUser pu(pu_config());
  prime(pu, {pe(1)});
  Actions p;
  pu.on_registrar_message(0, answer({pe(9)}), at(1s), p);
  EXPECT_TRUE(p.empty());
  Actions g;
  EXPECT_EQ(pu.get_primary_server(kUserPool, at(1s), g)->id, 1u);
}

TEST(PoolUser, GetNextServerReportsPreviousAndReturnsNextInOrder) {
  PoolUser pu(pu_config());
  prime(pu, {pe(1), pe(2), pe(3)});
  Actions a;
  EXPECT_EQ(pu.get_primary_server(kUserPool, at(1s), a)->id, 1u);
  Actions n1;
  EXPECT_EQ(pu.get_next_server(kUserPool, at(1s), n1)->id, 2u);
  auto u1 = sent<wire::asap::EndpointUnreachable>(n1);
  ASSERT_EQ(u1.size(), 1u);
  EXPECT_EQ(u1[0].second.pe_id, 1u);
  EXPECT_EQ(u1[0].second.pool_handle, kUserPool);
  Actions n2;
  EXPECT_EQ(pu.get_next_server(kUserPool, at(1s), n2)->id, 3u);
  EXPECT_EQ(sent<wire::asap::EndpointUnreachable>(n2).at(0).second.pe_id, 2u);
  // Every PE failed: nothing to return, a fresh resolution is requested.
  Actions n3;
  EXPECT_FALSE(pu.get_next_server(kUserPool, at(1s), n3));
  EXPECT_EQ(sent<wire::asap::EndpointUnreachable>(n3).at(0).second.pe_id, 3u);
  EXPECT_EQ(sent<wire::asap::HandleResolution>(n3).size(), 1u);
}

TEST(PoolUser, EachFailureEventIsReportedOnce) {
  PoolUser pu(pu_config());
  prime(pu, {pe(1), pe(2)});
  Actions a;
  pu.report_failure(kUserPool, 1, at(1s), a);
  pu.report_failure(kUserPool, 1, at(1100ms), a);
  pu.report_failure(kUserPool, 1, at(2s), a);
  EXPECT_EQ(sent<wire::asap::EndpointUnreachable>(a).size(), 1u);
  // The failed PE is skipped while the failure is recent...
  Actions g;
  EXPECT_EQ(pu.get_primary_server(kUserPool, at(2s), g)->id, 2u);
  EXPECT_EQ(pu.get_primary_server(kUserPool, at(2s), g)->id, 2u);
  // ...and once it is old, a new failure is a new event.
  Actions b;
  pu.report_failure(kUserPool, 1, at(6s), b);
  EXPECT_EQ(sent<wire::asap::EndpointUnreachable>(b).size(), 1u);
}

TEST(PoolUser, ReportWithoutHomeWaitsForTheHunt) {
  PoolUser pu(pu_config());
  prime(pu, {pe(1), pe(2)});
  Actions l;
  pu.on_registrar_lost(0, at(1s), l);
  Actions a;
  pu.report_failure(kUserPool, 2, at(1s), a);
  EXPECT_TRUE(sent<wire::asap::EndpointUnreachable>(a).empty());
  Actions c;
  pu.on_registrar_connected(1, at(2s), c);
  auto u = sent<wire::asap::EndpointUnreachable>(c);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].first, 1u);
  EXPECT_EQ(u[0].second.pe_id, 2u);
}

}  // namespace
}  // namespace rserpool::asap::test
