#include <gtest/gtest.h>

#include "sg/sim/gwc_call_model.hpp"
#include "sg/sim/ss7_call_generator.hpp"
#include "sg/ss7/isup.hpp"
#include "sg/ss7/sccp.hpp"

namespace sg::sim {
namespace {

using namespace std::chrono_literals;

MtpMessage isup_in(rserpool::Bytes data) {
  MtpMessage m;
  m.opc = 1;
  m.dpc = 2;
  m.si = kSiIsup;
  m.data = std::move(data);
  return m;
}

std::uint8_t type_of(const MtpMessage& m) { return ss7::parse_isup_header(m.data)->message_type; }

TEST(GwcCallModel, AnswersAndReleasesACall) {
  GwcCallModel gwc;
  TimePoint t{};
  auto r = gwc.on_message(isup_in(ss7::encode_iam(7, "123")), t);
  ASSERT_EQ(r.size(), 1U);
  EXPECT_EQ(type_of(r[0]), 0x06);  // ACM
  EXPECT_EQ(r[0].opc, 2U);         // back toward the caller
  EXPECT_EQ(r[0].dpc, 1U);
  EXPECT_TRUE(gwc.on_timeout(t + 10ms).empty());
  auto anm = gwc.on_timeout(t + 20ms);
  ASSERT_EQ(anm.size(), 1U);
  EXPECT_EQ(type_of(anm[0]), 0x09);
  auto rlc = gwc.on_message(isup_in(ss7::encode_rel(7)), t + 30ms);
  ASSERT_EQ(rlc.size(), 1U);
  EXPECT_EQ(type_of(rlc[0]), 0x10);
  EXPECT_EQ(gwc.active_calls(), 0U);
  EXPECT_EQ(gwc.counters().unknown_call_messages, 0U);
  EXPECT_EQ(gwc.counters().calls_released, 1U);
}

// Fencing, the controller's half: the SG aborted the association that
// carried these calls after moving them to an heir; a controller resuming
// from a stall must not answer them. Calls of other associations stay.
TEST(GwcCallModel, CallsOfACutOffAssociationAreGivenUpUnanswered) {
  GwcCallModel gwc;
  TimePoint t{};
  (void)gwc.on_message(isup_in(ss7::encode_iam(1, "1")), t, /*via=*/1);
  (void)gwc.on_message(isup_in(ss7::encode_iam(2, "1")), t, /*via=*/2);
  (void)gwc.on_message(isup_in(ss7::encode_iam(3, "1")), t, /*via=*/1);
  EXPECT_EQ(gwc.give_up_calls_of(1), 2U);
  EXPECT_EQ(gwc.counters().calls_given_up, 2U);
  auto anm = gwc.on_timeout(t + 1s);
  ASSERT_EQ(anm.size(), 1U) << "only the call of the association still up is answered";
  EXPECT_EQ(ss7::parse_isup_header(anm[0].data)->cic, 2);
  // A call a later message brought over another association moved with it.
  (void)gwc.on_message(isup_in(ss7::encode_iam(4, "1")), t, 1);
  (void)gwc.on_message(isup_in(ss7::encode_acm(4)), t, 2);
  EXPECT_EQ(gwc.give_up_calls_of(1), 0U);
}

// An SG that dies (or restarts) loses its associations abnormally too; its
// mate, or its next run, routes the calls back to us: they are kept. Only
// right after a stall of our own is an abnormal loss the SG's fence.
TEST(GwcCallModel, AnSgThatDiesLeavesItsCallsHereOnlyAStallMakesTheLossAFence) {
  GwcCallModel gwc;
  TimePoint t{};
  (void)gwc.on_message(isup_in(ss7::encode_iam(1, "1")), t, /*via=*/1);
  (void)gwc.on_message(isup_in(ss7::encode_iam(2, "1")), t, /*via=*/2);
  // Ticking as the driver does (next_deadline), no stall: SG 1 dies.
  TimePoint now = t;
  for (int i = 0; i < 8; ++i) {
    now = *gwc.next_deadline();
    (void)gwc.on_timeout(now);
  }
  EXPECT_LE(*gwc.next_deadline() - now, 125ms) << "the stall watch keeps an idle controller ticking";
  EXPECT_EQ(gwc.association_lost(1, /*abnormal=*/true, now), 0U);
  EXPECT_EQ(gwc.active_calls(), 2U);
  EXPECT_EQ(gwc.counters().calls_kept, 1U);
  EXPECT_EQ(gwc.counters().stalls, 0U);
  // Its mate brings the call's release: known here.
  (void)gwc.on_message(isup_in(ss7::encode_rel(1)), now + 1ms, /*via=*/2);
  EXPECT_EQ(gwc.counters().unknown_call_messages, 0U);

  // Stopped for 3 s: the first event after it is SG 2's abort.
  now += 3s;
  EXPECT_EQ(gwc.association_lost(2, true, now), 1U);
  EXPECT_EQ(gwc.counters().stalls, 1U);
  EXPECT_EQ(gwc.counters().calls_given_up, 1U);
}

TEST(GwcCallModel, AGracefulCloseKeepsTheCallsEvenAfterAStall) {
  GwcCallModel gwc;
  TimePoint t{};
  (void)gwc.on_message(isup_in(ss7::encode_iam(1, "1")), t, 1);
  EXPECT_EQ(gwc.association_lost(1, /*abnormal=*/false, t + 5s), 0U);
  EXPECT_EQ(gwc.active_calls(), 1U);
}

TEST(GwcCallModel, AnsiCircuitsAreFourteenBits) {
  GwcConfig c;
  c.isup_variant = ss7::IsupVariant::ansi;
  GwcCallModel gwc(c);
  TimePoint t{};
  (void)gwc.on_message(isup_in(ss7::encode_iam(5, "1")), t);
  (void)gwc.on_message(isup_in(ss7::encode_iam(4101, "1")), t);
  EXPECT_EQ(gwc.active_calls(), 2U);
  EXPECT_EQ(gwc.counters().ordering_violations, 0U) << "4101 is not a second seizure of CIC 5";
}

TEST(GwcCallModel, CountsUnknownCallsAndDoubleSeizure) {
  GwcCallModel gwc;
  TimePoint t{};
  auto rlc = gwc.on_message(isup_in(ss7::encode_rel(9)), t);
  ASSERT_EQ(rlc.size(), 1U);  // a release is always completed
  EXPECT_EQ(gwc.counters().unknown_call_messages, 1U);
  (void)gwc.on_message(isup_in(ss7::encode_iam(9, "1")), t);
  (void)gwc.on_message(isup_in(ss7::encode_iam(9, "1")), t);
  EXPECT_EQ(gwc.counters().ordering_violations, 1U);
}

TEST(GwcCallModel, CookieCarriesCallsToAnotherController) {
  GwcCallModel a, b;
  TimePoint t{};
  (void)a.on_message(isup_in(ss7::encode_iam(1, "1")), t);
  (void)a.on_message(isup_in(ss7::encode_iam(2, "1")), t);
  auto cookie = a.make_cookie();
  auto adopted = b.adopt_cookie(cookie, t);
  ASSERT_TRUE(adopted);
  EXPECT_EQ(*adopted, 2U);
  (void)b.on_message(isup_in(ss7::encode_rel(1)), t);
  EXPECT_EQ(b.counters().unknown_call_messages, 0U);
  // A tampered cookie, or one from another pool, is refused.
  cookie[5] ^= 1;
  EXPECT_EQ(b.adopt_cookie(cookie, t).error(), CookieError::bad_signature);
  GwcCallModel other_pool(GwcConfig{20ms, 1234});
  EXPECT_FALSE(other_pool.adopt_cookie(a.make_cookie(), t));
  EXPECT_EQ(b.adopt_cookie(rserpool::Bytes{1, 2}, t).error(), CookieError::truncated);
}

TEST(GwcCallModel, EchoesSccpQueries) {
  GwcCallModel gwc;
  ss7::SccpUnitdata u;
  u.called = {2, 6};
  u.calling = {1, 8};
  u.data = {1, 2, 3, 4};
  MtpMessage m;
  m.opc = 1;
  m.dpc = 2;
  m.si = kSiSccp;
  m.data = ss7::encode_udt(u);
  auto r = gwc.on_message(m, TimePoint{});
  ASSERT_EQ(r.size(), 1U);
  auto back = ss7::decode_udt(r[0].data);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->called, u.calling);
}

TEST(Ss7CallGenerator, OriginatesAtTheConfiguredRateAndTimesOut) {
  GeneratorConfig cfg;
  cfg.calls_per_second = 100;
  cfg.answer_timeout = 1s;
  TimePoint t{};
  Ss7CallGenerator gen(cfg, t);
  std::size_t iams = 0;
  for (int ms = 0; ms < 1000; ++ms) iams += gen.on_timeout(t + std::chrono::milliseconds(ms)).size();
  EXPECT_EQ(iams, 100U);
  EXPECT_EQ(gen.stats().calls_started, 100U);
  gen.stop_originating();
  (void)gen.on_timeout(t + 3s);
  EXPECT_EQ(gen.stats().calls_failed, 100U);  // nobody answered
  EXPECT_TRUE(gen.idle());
}

TEST(Ss7CallGenerator, CompletesACallWithAController) {
  GeneratorConfig cfg;
  cfg.calls_per_second = 10;
  cfg.hold_time = 50ms;
  TimePoint t{};
  Ss7CallGenerator gen(cfg, t);
  GwcCallModel gwc;
  std::vector<MtpMessage> to_gwc = gen.on_timeout(t);
  ASSERT_EQ(to_gwc.size(), 1U);
  for (int ms = 0; ms <= 200; ++ms) {
    const TimePoint now = t + std::chrono::milliseconds(ms);
    std::vector<MtpMessage> to_gen;
    for (auto& m : to_gwc)
      for (auto& r : gwc.on_message(m, now)) to_gen.push_back(r);
    for (auto& r : gwc.on_timeout(now)) to_gen.push_back(r);
    to_gwc.clear();
    for (auto& m : to_gen)
      for (auto& r : gen.on_message(m, now)) to_gwc.push_back(r);
    if (ms > 0) gen.stop_originating();
    for (auto& m : gen.on_timeout(now)) to_gwc.push_back(m);
  }
  EXPECT_EQ(gen.stats().calls_completed, 1U);
  EXPECT_EQ(gen.stats().answer_latency.count(), 1U);
  EXPECT_EQ(gen.stats().answer_latency.percentile(50), std::chrono::nanoseconds(20ms));
}

// x45's circuit 50: the ANM reached the SS7 side before the ACM (they left
// the controller in order, through the two gateways of a pair). Q.764
// 2.1.7: the ANM answers the call in the wait-for-ACM state, the late ACM
// is discarded; it is counted as reordered, not unexpected, and the call
// completes. An ACM after an ANM that had followed its own ACM stays
// unexpected (a duplicate).
TEST(Ss7CallGenerator, AnAnmBeforeItsAcmAnswersTheCallAndTheLateAcmCountsAsReordered) {
  GeneratorConfig cfg;
  cfg.calls_per_second = 10;
  cfg.hold_time = 50ms;
  TimePoint t{};
  Ss7CallGenerator gen(cfg, t);
  auto iams = gen.on_timeout(t);
  ASSERT_EQ(iams.size(), 1U);
  gen.stop_originating();
  const auto cic = ss7::parse_isup_header(iams[0].data)->cic;
  EXPECT_TRUE(gen.on_message(isup_in(ss7::encode_anm(cic)), t + 10ms).empty());
  EXPECT_TRUE(gen.on_message(isup_in(ss7::encode_acm(cic)), t + 10ms).empty());
  EXPECT_EQ(gen.stats().reordered_messages, 1U);
  EXPECT_EQ(gen.stats().unexpected_messages, 0U);
  EXPECT_EQ(gen.stats().answer_latency.count(), 1U);
  (void)gen.on_message(isup_in(ss7::encode_acm(cic)), t + 20ms);
  EXPECT_EQ(gen.stats().unexpected_messages, 1U) << "a second ACM is a duplicate";
  auto rel = gen.on_timeout(t + 60ms);
  ASSERT_EQ(rel.size(), 1U);
  EXPECT_EQ(type_of(rel[0]), static_cast<std::uint8_t>(ss7::IsupMessageType::rel));
  (void)gen.on_message(isup_in(ss7::encode_rlc(cic)), t + 70ms);
  EXPECT_EQ(gen.stats().calls_completed, 1U);
  EXPECT_EQ(gen.stats().reordered_messages, 1U);

  // In order, an ACM after the ANM is a duplicate, not a reordering.
  Ss7CallGenerator again(cfg, t);
  auto iam = again.on_timeout(t);
  const auto c2 = ss7::parse_isup_header(iam[0].data)->cic;
  (void)again.on_message(isup_in(ss7::encode_acm(c2)), t + 5ms);
  (void)again.on_message(isup_in(ss7::encode_anm(c2)), t + 10ms);
  (void)again.on_message(isup_in(ss7::encode_acm(c2)), t + 15ms);
  EXPECT_EQ(again.stats().reordered_messages, 0U);
  EXPECT_EQ(again.stats().unexpected_messages, 1U);
}

}  // namespace
}  // namespace sg::sim
