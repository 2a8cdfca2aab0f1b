// Q.764 T1 at the SS7 side (ss7-gen's call model) and its counterpart at the
// controller (gwc-sim's): what a killed gateway took with it, a REL its
// kernel acknowledged or the RLC coming back, is recovered by repeating the
// REL, without a failed call and without counting a misplaced call.
// Virtual time throughout.
#include <gtest/gtest.h>

#include <algorithm>

#include "sg/sim/gwc_call_model.hpp"
#include "sg/sim/ss7_call_generator.hpp"
#include "sg/ss7/isup.hpp"

namespace {

using namespace std::chrono_literals;
using sg::MtpMessage;
using sg::sim::GeneratorConfig;
using sg::sim::GwcCallModel;
using sg::sim::Ss7CallGenerator;
using sg::sim::TimePoint;
using T = sg::ss7::IsupMessageType;

T type_of(const MtpMessage& m) { return static_cast<T>(sg::ss7::parse_isup_header(m.data)->message_type); }
std::uint16_t cic_of(const MtpMessage& m) { return sg::ss7::parse_isup_header(m.data)->cic; }

// One call set up and answered; returns its REL (hold time over).
struct OneCall {
  explicit OneCall(std::chrono::milliseconds t1) : gen(config(t1), TimePoint{}) {
    auto iam = gen.on_timeout(TimePoint{});
    EXPECT_EQ(iam.size(), 1U);
    cic = cic_of(iam.front());
    for (auto& r : gwc.on_message(iam.front(), TimePoint{})) (void)gen.on_message(r, TimePoint{});  // ACM
    gen.stop_originating();
    for (auto& r : gwc.on_timeout(TimePoint{} + 20ms)) (void)gen.on_message(r, TimePoint{} + 20ms);  // ANM
  }
  static GeneratorConfig config(std::chrono::milliseconds t1) {
    GeneratorConfig c;
    c.calls_per_second = 1;
    c.hold_time = 100ms;
    c.answer_timeout = 4000ms;
    c.release_timeout = 4000ms;
    c.release_repeat = t1;
    return c;
  }
  std::vector<MtpMessage> at(std::chrono::milliseconds t) { return gen.on_timeout(TimePoint{} + t); }
  Ss7CallGenerator gen;
  GwcCallModel gwc;
  std::uint16_t cic = 0;
};

TEST(IsupReleaseRepeat, ALostRelIsSentAgainAtT1AndTheCallCompletes) {
  OneCall c(1000ms);
  auto rel = c.at(120ms);
  ASSERT_EQ(rel.size(), 1U);
  EXPECT_EQ(type_of(rel.front()), T::rel);
  // The REL is lost (the gateway's kernel took it, its process died).
  EXPECT_TRUE(c.at(1000ms).empty());
  auto again = c.at(1120ms);  // T1 expired
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(type_of(again.front()), T::rel);
  EXPECT_EQ(c.gen.stats().releases_repeated, 1U);
  for (auto& r : c.gwc.on_message(again.front(), TimePoint{} + 1130ms)) (void)c.gen.on_message(r, TimePoint{} + 1140ms);
  EXPECT_EQ(c.gen.stats().calls_completed, 1U);
  EXPECT_EQ(c.gen.stats().calls_failed, 0U);
  EXPECT_EQ(c.gwc.counters().unknown_call_messages, 0U);
  EXPECT_EQ(c.gwc.counters().repeated_releases, 0U);  // it never had the first
}

TEST(IsupReleaseRepeat, ALostRlcBringsARepeatedReleaseNotAnUnknownCall) {
  OneCall c(1000ms);
  auto rel = c.at(120ms);
  ASSERT_EQ(rel.size(), 1U);
  auto rlc = c.gwc.on_message(rel.front(), TimePoint{} + 130ms);
  ASSERT_EQ(rlc.size(), 1U);  // lost on its way back
  auto again = c.at(1120ms);
  ASSERT_EQ(again.size(), 1U);
  auto rlc2 = c.gwc.on_message(again.front(), TimePoint{} + 1130ms);
  ASSERT_EQ(rlc2.size(), 1U);  // Q.764: a release is always completed
  EXPECT_EQ(type_of(rlc2.front()), T::rlc);
  EXPECT_EQ(c.gwc.counters().repeated_releases, 1U);
  EXPECT_EQ(c.gwc.counters().unknown_call_messages, 0U) << "a repeat counted as a misplaced call";
  (void)c.gen.on_message(rlc2.front(), TimePoint{} + 1140ms);
  EXPECT_EQ(c.gen.stats().calls_completed, 1U);
  EXPECT_EQ(c.gen.stats().calls_failed, 0U);
}

TEST(IsupReleaseRepeat, TheFirstRlcArrivingLateIsAbsorbedNotADuplicate) {
  OneCall c(1000ms);
  auto rel = c.at(120ms);
  auto rlc = c.gwc.on_message(rel.front(), TimePoint{} + 130ms);  // held while the gateway restarts
  auto again = c.at(1120ms);
  auto rlc2 = c.gwc.on_message(again.front(), TimePoint{} + 1130ms);
  (void)c.gen.on_message(rlc2.front(), TimePoint{} + 1140ms);
  (void)c.gen.on_message(rlc.front(), TimePoint{} + 1150ms);  // the first, late
  EXPECT_EQ(c.gen.stats().repeated_rlc, 1U);
  EXPECT_EQ(c.gen.stats().unexpected_messages, 0U);
}

// A gateway outage longer than two T1 periods (a restart whose process
// start took 3 s, x CI of stop 21): the SS7 side held the first REL and two
// repeats, and all three reach the controller when the gateway is back.
// Each is answered (Q.764 2.9.6); the second and third RLC are expected,
// a fourth is not.
TEST(IsupReleaseRepeat, EveryRepeatedRelsRlcIsAbsorbedAndNoMore) {
  OneCall c(1000ms);
  std::vector<MtpMessage> held;
  for (auto t = 120ms; t <= 2200ms; t += 10ms)
    for (auto& m : c.at(t)) held.push_back(m);
  ASSERT_EQ(held.size(), 3U);  // 0.12 s, T1 at 1.12 and 2.12
  std::vector<MtpMessage> rlcs;
  for (auto& rel : held)
    for (auto& r : c.gwc.on_message(rel, TimePoint{} + 2300ms)) rlcs.push_back(r);
  ASSERT_EQ(rlcs.size(), 3U);
  EXPECT_EQ(c.gwc.counters().repeated_releases, 2U);
  EXPECT_EQ(c.gwc.counters().unknown_call_messages, 0U);
  for (auto& r : rlcs) (void)c.gen.on_message(r, TimePoint{} + 2310ms);
  EXPECT_EQ(c.gen.stats().calls_completed, 1U);
  EXPECT_EQ(c.gen.stats().repeated_rlc, 2U);
  EXPECT_EQ(c.gen.stats().unexpected_messages, 0U) << "an answered repeat counted as a duplicate";
  (void)c.gen.on_message(rlcs.back(), TimePoint{} + 2320ms);  // one RLC more than RELs sent
  EXPECT_EQ(c.gen.stats().unexpected_messages, 1U);
}

TEST(IsupReleaseRepeat, ARelForACircuitNeverHeldIsStillAnUnknownCall) {
  GwcCallModel gwc;
  MtpMessage m;
  m.opc = 1;
  m.dpc = 2;
  m.si = sg::kSiIsup;
  m.data = sg::ss7::encode_rel(77);
  auto out = gwc.on_message(m, TimePoint{});
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(gwc.counters().unknown_call_messages, 1U);  // a misplaced call stays visible
  EXPECT_EQ(gwc.counters().repeated_releases, 0U);
}

TEST(IsupReleaseRepeat, RepeatsStopAtTheReleaseTimeoutAndTheCallFails) {
  OneCall c(1000ms);
  std::size_t rels = 0;
  for (auto t = 120ms; t <= 5000ms; t += 10ms)
    for (auto& m : c.at(t)) rels += type_of(m) == T::rel ? 1U : 0U;
  EXPECT_EQ(rels, 4U);  // 0.12 s, then T1 at 1.12, 2.12, 3.12; 4.12 is the bound
  EXPECT_EQ(c.gen.stats().calls_failed, 1U);
  EXPECT_EQ(c.gen.calls_in_progress(), 0U);
}

TEST(IsupReleaseRepeat, WithoutT1NothingIsRepeated) {
  OneCall c(0ms);
  auto rel = c.at(120ms);
  ASSERT_EQ(rel.size(), 1U);
  std::size_t more = 0;
  for (auto t = 130ms; t <= 5000ms; t += 10ms) more += c.at(t).size();
  EXPECT_EQ(more, 0U);
  EXPECT_EQ(c.gen.stats().calls_failed, 1U);
}

TEST(IsupReleaseRepeat, TheControllersMemoryOfReleasedCircuitsIsBounded) {
  sg::sim::GwcConfig cfg;
  cfg.released_memory = 1000ms;
  cfg.released_memory_max = 4;
  GwcCallModel gwc(cfg);
  for (std::uint16_t cic = 1; cic <= 6; ++cic) {
    MtpMessage iam;
    iam.opc = 1;
    iam.dpc = 2;
    iam.si = sg::kSiIsup;
    iam.data = sg::ss7::encode_iam(cic, "1");
    (void)gwc.on_message(iam, TimePoint{});
    MtpMessage rel = iam;
    rel.data = sg::ss7::encode_rel(cic);
    (void)gwc.on_message(rel, TimePoint{} + 1ms);
  }
  auto rel_again = [&](std::uint16_t cic, TimePoint t) {
    MtpMessage rel;
    rel.opc = 1;
    rel.dpc = 2;
    rel.si = sg::kSiIsup;
    rel.data = sg::ss7::encode_rel(cic);
    (void)gwc.on_message(rel, t);
  };
  rel_again(6, TimePoint{} + 2ms);  // remembered
  EXPECT_EQ(gwc.counters().repeated_releases, 1U);
  rel_again(1, TimePoint{} + 2ms);  // pushed out by the cap
  EXPECT_EQ(gwc.counters().unknown_call_messages, 1U);
  rel_again(5, TimePoint{} + 2000ms);  // forgotten after released_memory
  EXPECT_EQ(gwc.counters().unknown_call_messages, 2U);
}

}  // namespace
