// Placement without shared state (issue 15), in virtual time: weighted
// rendezvous hashing over the pool's members, the heir of a failed PE as a
// function of the survivors, and the start-up settle of a restarted
// gateway. Two PoolDistributors stand for the two gateways of a mated pair
// (or one gateway before and after a restart): they see the same
// handlespace and share nothing else.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "sg/routing/pool_distributor.hpp"
#include "sg/routing/pool_member_selector.hpp"
#include "sg/routing/rendezvous.hpp"

namespace sg {
namespace {

using namespace std::chrono_literals;
using rserpool::PeIdentifier;

constexpr std::uint32_t kPlacementRemote = 100;
constexpr std::uint32_t kPlacementLocal = 200;

MtpMessage placement_isup(rserpool::Bytes data, std::uint16_t cic) {
  MtpMessage m;
  m.opc = kPlacementRemote;
  m.dpc = kPlacementLocal;
  m.si = kSiIsup;
  m.sls = static_cast<std::uint8_t>(cic & 0x0F);
  m.data = std::move(data);
  return m;
}

MtpMessage udt(std::uint8_t tag) {
  MtpMessage m;
  m.opc = kPlacementRemote;
  m.dpc = kPlacementLocal;
  m.si = kSiSccp;
  m.sls = tag;
  m.data = {tag};
  return m;
}

template <class T>
std::vector<T> placement_only(const std::vector<Action>& actions) {
  std::vector<T> out;
  for (const auto& a : actions)
    if (auto* p = std::get_if<T>(&a)) out.push_back(*p);
  return out;
}

rserpool::PoolElementParameter placement_listing(PeIdentifier id, std::uint32_t weight = 0) {
  rserpool::PoolElementParameter p;
  p.id = id;
  p.user_transport.addresses = {*rserpool::IpAddress::parse("192.0.2.1")};
  p.user_transport.port = static_cast<std::uint16_t>(4000 + id);
  p.user_transport.protocol = rserpool::TransportProtocol::sctp;
  if (weight != 0) {
    p.policy.type = rserpool::PolicyType::weighted_round_robin;
    p.policy.weight = weight;
  }
  return p;
}

std::vector<Candidate> candidates(const std::vector<rserpool::PoolElementParameter>& l) {
  std::vector<Candidate> c;
  for (const auto& p : l) c.push_back(Candidate{p.id, &p.policy, 0});
  return c;
}

FlowKey circuit(std::uint16_t cic) {
  FlowKey k;
  k.opc = kPlacementRemote;
  k.dpc = kPlacementLocal;
  k.si = kSiIsup;
  k.circuit = true;
  k.selector = cic;
  return k;
}

// --- The hash itself ----------------------------------------------------------

TEST(Rendezvous, TheChoiceDependsOnTheMembersNotOnTheirOrder) {
  const std::vector<rserpool::PoolElementParameter> l{placement_listing(11), placement_listing(22), placement_listing(33), placement_listing(44)};
  auto forward = candidates(l);
  auto backward = forward;
  std::reverse(backward.begin(), backward.end());
  for (std::uint16_t cic = 0; cic < 2000; ++cic) {
    const auto key = rendezvous_key(circuit(cic));
    ASSERT_EQ(rendezvous_pick(key, forward), rendezvous_pick(key, backward)) << "cic " << cic;
  }
}

TEST(Rendezvous, KeysSpreadEvenlyAndByWeight) {
  // Every ITU circuit (12-bit CIC) over three equal PEs.
  std::map<PeIdentifier, int> equal;
  const std::vector<rserpool::PoolElementParameter> l{placement_listing(11), placement_listing(22), placement_listing(33)};
  for (std::uint16_t cic = 0; cic < 4096; ++cic) ++equal[rendezvous_pick(rendezvous_key(circuit(cic)), candidates(l))];
  for (auto [pe, count] : equal) EXPECT_NEAR(count, 4096 / 3, 4096 / 3 * 0.08) << "PE " << pe;

  // WRR weights 1:2:3 (RFC 5356): shares 1/6, 2/6, 3/6.
  const std::vector<rserpool::PoolElementParameter> w{placement_listing(11, 1), placement_listing(22, 2), placement_listing(33, 3)};
  std::map<PeIdentifier, int> weighted;
  for (std::uint16_t sls = 0; sls < 16; ++sls)
    for (std::uint32_t opc = 0; opc < 1000; ++opc) {
      FlowKey k;
      k.opc = opc;
      k.dpc = kPlacementLocal;
      k.si = kSiSccp;
      k.selector = sls;
      ++weighted[rendezvous_pick(rendezvous_key(k), candidates(w))];
    }
  EXPECT_NEAR(weighted[11], 16000 / 6, 16000 / 6 * 0.08);
  EXPECT_NEAR(weighted[22], 16000 * 2 / 6, 16000 * 2 / 6 * 0.08);
  EXPECT_NEAR(weighted[33], 16000 * 3 / 6, 16000 * 3 / 6 * 0.08);
}

// What makes the hash usable without shared state: a PE leaving moves only
// its own keys, a PE joining takes about 1/(n+1) and moves none between the
// others.
TEST(Rendezvous, ALeavingPeMovesOnlyItsKeysAJoiningOneTakesItsShare) {
  const std::vector<rserpool::PoolElementParameter> three{placement_listing(11), placement_listing(22), placement_listing(33)};
  const std::vector<rserpool::PoolElementParameter> two{placement_listing(11), placement_listing(33)};
  const std::vector<rserpool::PoolElementParameter> four{placement_listing(11), placement_listing(22), placement_listing(33), placement_listing(44)};
  int moved_to_joiner = 0;
  for (std::uint16_t cic = 0; cic < 4096; ++cic) {
    const auto key = rendezvous_key(circuit(cic));
    const auto before = rendezvous_pick(key, candidates(three));
    const auto after_leave = rendezvous_pick(key, candidates(two));
    if (before != 22) {
      EXPECT_EQ(after_leave, before) << "cic " << cic << " moved although its PE stayed";
    }
    const auto after_join = rendezvous_pick(key, candidates(four));
    if (after_join == 44) {
      ++moved_to_joiner;
    } else {
      EXPECT_EQ(after_join, before) << "cic " << cic << " moved between two PEs that stayed";
    }
  }
  EXPECT_NEAR(moved_to_joiner, 1024, 100);
}

// --- Two gateways, one pool --------------------------------------------------

struct Pair : ::testing::Test {
  DistributorConfig config;
  DistributorProfile profile;
  TimePoint t0{};
  PoolMemberSelector sel_a{PlacementMode::rendezvous};
  PoolMemberSelector sel_b{PlacementMode::rendezvous};
  std::unique_ptr<PoolDistributor> a, b;

  void make(PlacementMode mode) {
    sel_a.set_mode(mode);
    sel_b.set_mode(mode);
    a = std::make_unique<PoolDistributor>(config, sel_a, profile);
    b = std::make_unique<PoolDistributor>(config, sel_b, profile);
    a->start(t0);
    b->start(t0);
  }
  static std::vector<Action> list(PoolDistributor& d, std::initializer_list<PeIdentifier> pes, TimePoint t) {
    std::vector<rserpool::PoolElementParameter> l;
    for (auto pe : pes) l.push_back(placement_listing(pe));
    return d.handlespace(l, t);
  }
  void bring_up(PoolDistributor& d, std::initializer_list<PeIdentifier> pes, TimePoint t) {
    (void)list(d, pes, t);
    for (auto pe : pes) (void)d.association_up(pe, t);
    (void)d.on_timeout(t + config.placement_settle);
  }
  static PeIdentifier sent_to(const std::vector<Action>& actions) {
    auto s = placement_only<action::SendData>(actions);
    EXPECT_EQ(s.size(), 1U);
    return s.empty() ? 0 : s.front().pe;
  }
};

// Each gateway sets up its own calls (the SS7 side load-shares circuits by
// SLS), in its own order, with its own history: each circuit still lands on
// the same controller at both, so either can carry the other's calls.
TEST_F(Pair, BothGatewaysPlaceEveryCircuitOnTheSameController) {
  make(PlacementMode::rendezvous);
  bring_up(*a, {11, 22, 33}, t0);
  bring_up(*b, {33, 22, 11}, t0);
  (void)b->message(placement_isup(ss7::encode_iam(4000, "1"), 4000), t0);  // b has a history a has not
  int differ = 0;
  for (std::uint16_t cic = 0; cic < 300; ++cic) {
    const auto at_a = sent_to(a->message(placement_isup(ss7::encode_iam(cic, "1"), cic), t0));
    const auto at_b = sent_to(b->message(placement_isup(ss7::encode_iam(static_cast<std::uint16_t>(299 - cic), "1"),
                                              static_cast<std::uint16_t>(299 - cic)),
                                         t0));
    (void)at_b;
    const auto again_b = sent_to(b->message(placement_isup(ss7::encode_rel(cic), cic), t0));
    if (at_a != again_b) ++differ;
  }
  EXPECT_EQ(differ, 0);
}

// The same with the RFC 5356 policy (round robin, as the PEs registered):
// two gateways with different histories place circuits differently, which
// is why `placement rendezvous` is the default for a pair.
TEST_F(Pair, ByPolicyTheTwoGatewaysDisagree) {
  make(PlacementMode::policy);
  bring_up(*a, {11, 22, 33}, t0);
  bring_up(*b, {11, 22, 33}, t0);
  (void)b->message(placement_isup(ss7::encode_iam(4000, "1"), 4000), t0);
  int differ = 0;
  for (std::uint16_t cic = 0; cic < 300; ++cic) {
    const auto at_a = sent_to(a->message(placement_isup(ss7::encode_iam(cic, "1"), cic), t0));
    const auto at_b = sent_to(b->message(placement_isup(ss7::encode_iam(cic, "1"), cic), t0));
    if (at_a != at_b) ++differ;
  }
  EXPECT_GT(differ, 100);
}

// Gateway a dies; its calls in progress reach b, which never saw their IAM:
// b places them on the controller a chose.
TEST_F(Pair, TheSurvivorPlacesItsMatesCallsWhereTheMatePlacedThem) {
  make(PlacementMode::rendezvous);
  bring_up(*a, {11, 22, 33}, t0);
  bring_up(*b, {11, 22, 33}, t0);
  std::map<std::uint16_t, PeIdentifier> placed;
  for (std::uint16_t cic = 0; cic < 300; ++cic) placed[cic] = sent_to(a->message(placement_isup(ss7::encode_iam(cic, "1"), cic), t0));
  a.reset();
  for (auto [cic, pe] : placed) {
    EXPECT_EQ(sent_to(b->message(placement_isup(ss7::encode_rel(cic), cic), t0 + 1s)), pe) << "cic " << cic;
    EXPECT_EQ(sent_to(b->message(placement_isup(ss7::encode_rlc(cic), cic), t0 + 1s)), pe) << "cic " << cic;
  }
  EXPECT_EQ(b->flow_count(), 0U);
  EXPECT_EQ(b->counters().calls_taken_over, placed.size());
}

// A controller dies under both gateways: each moves the calls it placed to
// one heir, the same one, and echoes the dead controller's cookie there.
TEST_F(Pair, BothGatewaysChooseTheSameHeirForAFailedController) {
  for (PeIdentifier victim : {11U, 22U, 33U, 44U, 55U}) {
    make(PlacementMode::rendezvous);
    bring_up(*a, {11, 22, 33, 44, 55}, t0);
    bring_up(*b, {55, 44, 33, 22, 11}, t0);
    a->cookie_received(victim, {0xC0});
    b->cookie_received(victim, {0xC0});
    std::vector<std::uint16_t> a_calls, b_calls;
    for (std::uint16_t cic = 0; cic < 400; ++cic) {
      auto& d = cic % 2 == 0 ? *a : *b;
      if (sent_to(d.message(placement_isup(ss7::encode_iam(cic, "1"), cic), t0)) == victim)
        (cic % 2 == 0 ? a_calls : b_calls).push_back(cic);
    }
    ASSERT_FALSE(a_calls.empty());
    ASSERT_FALSE(b_calls.empty());
    (void)a->association_failed(victim, {}, t0 + 1s);
    (void)b->association_failed(victim, {}, t0 + 1s + 7ms);
    std::set<PeIdentifier> heirs, cookie_to;
    for (auto [d, calls] : {std::pair{a.get(), &a_calls}, std::pair{b.get(), &b_calls}})
      for (auto cic : *calls) {
        auto acts = d->message(placement_isup(ss7::encode_rel(cic), cic), t0 + 2s);
        heirs.insert(sent_to(acts));
        for (const auto& c : placement_only<action::SendCookieEcho>(acts)) cookie_to.insert(c.pe);
      }
    EXPECT_EQ(heirs.size(), 1U) << "victim " << victim;
    EXPECT_EQ(cookie_to, heirs) << "victim " << victim;
    EXPECT_EQ(heirs.count(victim), 0U);
  }
}

// The same failure with the policy: the gateways' round robins have walked
// differently, so their heirs differ and the cookie reaches two
// controllers (each would answer the same ringing calls).
TEST_F(Pair, ByPolicyTheHeirsDiffer) {
  int differ = 0;
  for (int extra = 0; extra < 3; ++extra) {
    make(PlacementMode::policy);
    bring_up(*a, {11, 22, 33}, t0);
    bring_up(*b, {11, 22, 33}, t0);
    a->cookie_received(11, {0xC0});
    b->cookie_received(11, {0xC0});
    std::vector<std::uint16_t> a_calls, b_calls;
    for (std::uint16_t cic = 0; cic < 60; ++cic) {
      if (sent_to(a->message(placement_isup(ss7::encode_iam(cic, "1"), cic), t0)) == 11) a_calls.push_back(cic);
      const auto other = static_cast<std::uint16_t>(cic + 100);
      if (sent_to(b->message(placement_isup(ss7::encode_iam(other, "1"), other), t0)) == 11) b_calls.push_back(other);
    }
    (void)a->association_failed(11, {}, t0 + 1s);
    (void)b->association_failed(11, {}, t0 + 1s);
    // b's round robin has walked further: new calls before the first orphan.
    for (int i = 0; i < extra; ++i) {
      const auto cic = static_cast<std::uint16_t>(4000 + i);
      (void)b->message(placement_isup(ss7::encode_iam(cic, "1"), cic), t0 + 1s);
    }
    const auto heir_a = sent_to(a->message(placement_isup(ss7::encode_rel(a_calls[0]), a_calls[0]), t0 + 2s));
    const auto heir_b = sent_to(b->message(placement_isup(ss7::encode_rel(b_calls[0]), b_calls[0]), t0 + 2s));
    if (heir_a != heir_b) ++differ;
  }
  EXPECT_GT(differ, 0) << "the policy's heir depends on each gateway's own history";
}

// A bound call keeps its controller when another one joins (its hash may
// now name the newcomer): a membership change moves no existing call.
TEST_F(Pair, AJoiningControllerTakesNoCallInProgress) {
  make(PlacementMode::rendezvous);
  bring_up(*a, {11, 22, 33}, t0);
  std::map<std::uint16_t, PeIdentifier> placed;
  for (std::uint16_t cic = 0; cic < 300; ++cic) placed[cic] = sent_to(a->message(placement_isup(ss7::encode_iam(cic, "1"), cic), t0));
  (void)list(*a, {11, 22, 33, 44}, t0 + 1s);
  (void)a->association_up(44, t0 + 1s);
  int new_calls_to_44 = 0;
  for (auto [cic, pe] : placed) {
    EXPECT_EQ(sent_to(a->message(placement_isup(ss7::encode_rel(cic), cic), t0 + 2s)), pe) << "cic " << cic;
    (void)a->message(placement_isup(ss7::encode_rlc(cic), cic), t0 + 2s);
    // The next call on the circuit is placed afresh: the newcomer gets its share.
    if (sent_to(a->message(placement_isup(ss7::encode_iam(cic, "1"), cic), t0 + 3s)) == 44) ++new_calls_to_44;
  }
  EXPECT_GT(new_calls_to_44, 40);
}

// --- A gateway that starts -----------------------------------------------------

// A restarted gateway hears of the controllers one by one as they register
// again. A release for a call it did not place waits until the list has
// settled, then goes where the hash over the whole pool puts it; a new call
// goes at once.
TEST_F(Pair, ARestartedGatewayPlacesCallsInProgressOnlyOnceThePoolHasSettled) {
  config.placement_settle = 300ms;
  make(PlacementMode::rendezvous);
  bring_up(*a, {11, 22, 33}, t0);
  // The previous run placed these calls.
  std::map<std::uint16_t, PeIdentifier> placed;
  for (std::uint16_t cic = 0; cic < 60; ++cic) placed[cic] = sent_to(a->message(placement_isup(ss7::encode_iam(cic, "1"), cic), t0));
  std::uint16_t on_33 = 0;
  while (placed[on_33] != 33) ++on_33;

  // The restarted run: 11 registers at +100 ms, the others 80 ms later.
  const TimePoint t1 = t0 + 100ms;
  (void)list(*b, {11}, t1);
  (void)b->association_up(11, t1);
  EXPECT_FALSE(b->placement_settled());
  auto early = b->message(placement_isup(ss7::encode_rel(on_33), on_33), t1 + 10ms);
  EXPECT_TRUE(placement_only<action::SendData>(early).empty()) << "hashed over a pool seen in part";
  EXPECT_EQ(b->pool_wait_depth(), 1U);
  // A new call is no one's yet: it goes at once.
  EXPECT_EQ(placement_only<action::SendData>(b->message(placement_isup(ss7::encode_iam(3000, "1"), 3000), t1 + 10ms)).size(), 1U);

  (void)list(*b, {11, 22, 33}, t1 + 80ms);
  (void)b->association_up(22, t1 + 80ms);
  (void)b->association_up(33, t1 + 80ms);
  EXPECT_EQ(b->next_deadline(), t1 + 80ms + 300ms);
  auto settled = b->on_timeout(t1 + 380ms);
  EXPECT_TRUE(b->placement_settled());
  EXPECT_EQ(sent_to(settled), 33U);
  EXPECT_EQ(b->counters().held_for_settle, 1U);
  for (auto [cic, pe] : placed) {
    if (cic != on_33) {
      EXPECT_EQ(sent_to(b->message(placement_isup(ss7::encode_rel(cic), cic), t1 + 400ms)), pe);
    }
  }
}

// The driver knows the list is the whole pool (a restarted gateway of a pair
// whose registrar downloaded its mate's handlespace): the settle ends at
// once, the held release goes where the hash over the whole pool puts it,
// the one of the previous run. Before any list, and with a list the driver
// did not vouch for, the settle's timer still decides.
TEST_F(Pair, ARestartedGatewaySettlesAtOnceWhenItsListIsKnownComplete) {
  config.placement_settle = 5s;
  config.pool_wait = 20s;
  make(PlacementMode::rendezvous);
  bring_up(*a, {11, 22, 33}, t0);
  std::map<std::uint16_t, PeIdentifier> placed;
  for (std::uint16_t cic = 0; cic < 60; ++cic) placed[cic] = sent_to(a->message(placement_isup(ss7::encode_iam(cic, "1"), cic), t0));
  std::uint16_t on_33 = 0;
  while (placed[on_33] != 33) ++on_33;

  const TimePoint t1 = t0 + 100ms;
  EXPECT_TRUE(b->list_complete(t1).empty());
  EXPECT_FALSE(b->placement_settled()) << "no list yet: nothing to vouch for";
  (void)list(*b, {11, 22, 33}, t1);
  for (auto pe : {11, 22, 33}) (void)b->association_up(static_cast<PeIdentifier>(pe), t1);
  EXPECT_TRUE(placement_only<action::SendData>(b->message(placement_isup(ss7::encode_rel(on_33), on_33), t1 + 1ms)).empty());
  EXPECT_FALSE(b->placement_settled());
  auto settled = b->list_complete(t1 + 5ms);
  EXPECT_TRUE(b->placement_settled());
  EXPECT_EQ(sent_to(settled), 33U);
  EXPECT_EQ(b->pool_wait_depth(), 0U);
  EXPECT_NE(b->next_deadline(), t1 + 5s) << "the settle's timer is cancelled";
  EXPECT_TRUE(b->list_complete(t1 + 6ms).empty()) << "once settled, nothing more";
  for (auto [cic, pe] : placed) {
    if (cic != on_33) {
      EXPECT_EQ(sent_to(b->message(placement_isup(ss7::encode_rel(cic), cic), t1 + 10ms)), pe) << "cic " << cic;
    }
  }
}

// A restarted gateway alone that remembers a bigger pool: new calls wait for
// the settle too, then spread over the whole pool instead of all going to
// the first controller back.
TEST_F(Pair, NewCallsCanWaitForTheSettleTooWhenMoreControllersAreExpected) {
  config.placement_settle = 5s;
  config.pool_wait = 20s;
  make(PlacementMode::rendezvous);
  b->hold_new_calls_until_settled();
  const TimePoint t1 = t0 + 100ms;
  (void)list(*b, {11}, t1);
  (void)b->association_up(11, t1);
  std::size_t sent_early = 0;
  for (std::uint16_t cic = 0; cic < 60; ++cic)
    sent_early += placement_only<action::SendData>(b->message(placement_isup(ss7::encode_iam(cic, "1"), cic), t1 + 1ms)).size();
  EXPECT_EQ(sent_early, 0U) << "new calls placed over a pool seen in part";
  EXPECT_EQ(placement_only<action::SendData>(b->message(udt(7), t1 + 1ms)).size(), 1U) << "non-call traffic goes at once";
  (void)list(*b, {11, 22, 33}, t1 + 50ms);
  auto settled = b->list_complete(t1 + 60ms);
  // 22 and 33 are still connecting: theirs wait behind their associations.
  auto up_22 = b->association_up(22, t1 + 70ms);
  auto up_33 = b->association_up(33, t1 + 70ms);
  std::map<PeIdentifier, int> per_pe;
  for (const auto* acts : {&settled, &up_22, &up_33})
    for (const auto& s : placement_only<action::SendData>(*acts)) ++per_pe[s.pe];
  EXPECT_EQ(per_pe.size(), 3U) << "the backlog spread over the whole pool";
  int total = 0;
  for (auto [pe, n] : per_pe) total += n;
  EXPECT_EQ(total, 60);
  // Without the driver's word, new calls go at once (a first start).
  (void)list(*a, {11}, t1);
  (void)a->association_up(11, t1);
  EXPECT_EQ(placement_only<action::SendData>(a->message(placement_isup(ss7::encode_iam(1, "1"), 1), t1 + 1ms)).size(), 1U);
}

// Without the settle (0 ms) the same release goes to the one controller
// registered yet, which does not hold the call.
TEST_F(Pair, WithoutTheSettleARestartedGatewayMisplacesCallsInProgress) {
  config.placement_settle = 0ms;
  make(PlacementMode::rendezvous);
  bring_up(*a, {11, 22, 33}, t0);
  std::uint16_t on_33 = 0;
  while (sent_to(a->message(placement_isup(ss7::encode_iam(on_33, "1"), on_33), t0)) != 33) ++on_33;
  (void)list(*b, {11}, t0 + 100ms);
  (void)b->association_up(11, t0 + 100ms);
  (void)b->on_timeout(t0 + 100ms);
  EXPECT_EQ(sent_to(b->message(placement_isup(ss7::encode_rel(on_33), on_33), t0 + 110ms)), 11U);
}

// A PE that keeps flapping cannot hold calls in progress back for good: the
// settle ends three settle times after the first list.
TEST_F(Pair, TheSettleIsBounded) {
  config.placement_settle = 300ms;
  make(PlacementMode::rendezvous);
  for (int i = 0; i < 10; ++i) {
    const TimePoint t = t0 + std::chrono::milliseconds(100 * i);
    (void)(i % 2 == 0 ? list(*a, {11, 22}, t) : list(*a, {11}, t));
    if (i == 0) (void)a->association_up(11, t);
    (void)a->on_timeout(t);
  }
  EXPECT_TRUE(a->placement_settled()) << "first list at t0, bound t0 + 900 ms";
}

}  // namespace
}  // namespace sg
