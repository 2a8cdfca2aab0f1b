// The controller's order toward the SS7 side across the death of an SG
// (sg/sim/sg_outbox.hpp), in virtual time.
#include <gtest/gtest.h>

#include "sg/sim/sg_outbox.hpp"
#include "sg/ss7/isup.hpp"

namespace sg::sim {
namespace {

using namespace std::chrono_literals;
using Kind = SgOutbox::Step::Kind;

MtpMessage isup(std::uint8_t tag) {
  MtpMessage m;
  m.si = 5;
  m.data = {tag};
  return m;
}

// A real ISUP message (the changeover hold is per call, by its circuit):
// its tag is the message type.
MtpMessage call_message(rserpool::Bytes isup_bytes) {
  MtpMessage m;
  m.opc = 2;
  m.dpc = 1;
  m.si = 5;
  m.data = std::move(isup_bytes);
  return m;
}

int tag_of(const MtpMessage& m) {
  if (m.data.size() > 2) {
    if (auto h = ss7::parse_isup_header(m.data)) return h->message_type;
  }
  return m.data.at(0);
}

// (link, tag) of the send steps, in order.
std::vector<std::pair<SgOutbox::LinkId, int>> sends(const SgOutbox::Steps& steps) {
  std::vector<std::pair<SgOutbox::LinkId, int>> v;
  for (const auto& s : steps)
    if (s.kind == Kind::send) v.emplace_back(s.link, tag_of(s.message));
  return v;
}

constexpr std::uint8_t kAcm = 1, kCpg = 2, kAnm = 3;
using Sent = std::vector<std::pair<SgOutbox::LinkId, int>>;

// What the pair interop test saw under load: the ACM accepted by the
// association to the SG that had just been killed, the next message
// refused by it (not connected), the ANM after it sent at once through the
// mate and the ACM given back only at the association's end: ANM before
// ACM at the SS7 side. Now the ANM waits for that end, and the three leave
// in the order they were sent.
TEST(SgOutbox, NothingOvertakesWhatADyingAssociationStillHolds) {
  SgOutbox box;
  SgOutbox::Steps out;
  rserpool::TimePoint t{};
  box.link_active(1, t, out);
  box.link_active(2, t, out);
  box.send(2, isup(kAcm), t, out);
  EXPECT_EQ(sends(out), (Sent{{2, kAcm}}));
  out.clear();
  // The driver's send of the next one is refused at once.
  box.send(2, isup(kCpg), t + 10ms, out);
  ASSERT_EQ(sends(out), (Sent{{2, kCpg}}));
  out.clear();
  box.refused(2, {isup(kCpg)}, t + 10ms);
  EXPECT_FALSE(box.active(2));
  box.send(2, isup(kAnm), t + 30ms, out);
  EXPECT_TRUE(sends(out).empty()) << "sent through the mate before the dying association's hand-back";
  out.clear();
  box.handed_back(2, {isup(kAcm)}, t + 60ms, out);
  EXPECT_TRUE(sends(out).empty());
  box.link_down(2, t + 61ms, out);
  EXPECT_EQ(sends(out), (Sent{{1, kAcm}, {1, kCpg}, {1, kAnm}}));
  EXPECT_EQ(box.waiting(), 0U);
  EXPECT_EQ(box.counters().refused, 1U);
  EXPECT_EQ(box.counters().handed_back, 1U);
}

// A loss without a refusal (the usual one): the hand-back comes with the
// end and goes out at once through the other association.
TEST(SgOutbox, AHandBackWithoutARefusalGoesOutAtOnce) {
  SgOutbox box;
  SgOutbox::Steps out;
  rserpool::TimePoint t{};
  box.link_active(1, t, out);
  box.link_active(2, t, out);
  box.handed_back(2, {isup(kAcm), isup(kAnm)}, t, out);
  EXPECT_EQ(sends(out), (Sent{{1, kAcm}, {1, kAnm}}));
  out.clear();
  box.link_down(2, t, out);
  box.send(2, isup(kCpg), t, out);
  EXPECT_EQ(sends(out), (Sent{{1, kCpg}}));
}

// An association that refused but is never reported down does not hold
// everything back for good: after dying_bound its refused messages go first.
TEST(SgOutbox, ADyingAssociationThatNeverEndsIsGivenUpAfterTheBound) {
  SgOutbox box(OutboxConfig{.dying_bound = 500ms});
  SgOutbox::Steps out;
  rserpool::TimePoint t{};
  box.link_active(1, t, out);
  box.link_active(2, t, out);
  box.refused(2, {isup(kAcm)}, t);
  box.send(2, isup(kAnm), t + 100ms, out);
  EXPECT_TRUE(sends(out).empty());
  box.send(1, isup(kCpg), t + 600ms, out);
  EXPECT_EQ(sends(out), (Sent{{1, kAcm}, {1, kAnm}, {1, kCpg}}));
}

// With no active association everything waits, in order, bounded in age.
TEST(SgOutbox, WithoutAnActiveAssociationMessagesWaitInOrderBounded) {
  SgOutbox box(OutboxConfig{.max_age = 1000ms});
  SgOutbox::Steps out;
  rserpool::TimePoint t{};
  box.send(0, isup(kAcm), t, out);
  box.send(0, isup(kAnm), t + 900ms, out);
  EXPECT_TRUE(sends(out).empty());
  EXPECT_EQ(box.waiting(), 2U);
  out.clear();
  box.link_active(3, t + 1500ms, out);
  EXPECT_EQ(sends(out), (Sent{{3, kAnm}}));
  EXPECT_EQ(box.counters().expired, 1U);
}

constexpr int kIsupAcm = 0x06, kIsupAnm = 0x09, kIsupRel = 0x0c;

// x45 (UML, osmo-stp pair test): pe3 sent circuit 50's ACM through sgd B,
// B was killed 17 ms later and its association reported down (peer
// closed: nothing refused, nothing given back), the ANM 65 ms after the ACM
// went through sgd A at once, and reached the STP before the ACM that B's
// kernel still sent in its shutdown. Now the ANM waits the changeover hold
// from B's failure; the other call, whose messages went through A, does
// not wait.
TEST(SgOutbox, ACallWhoseLastMessageWentThroughAFailedSgWaitsTheChangeoverHold) {
  SgOutbox box(OutboxConfig{.changeover = {.hold = 300ms, .recent = 1000ms}});
  SgOutbox::Steps out;
  rserpool::TimePoint t{};
  box.link_active(1, t, out);
  box.link_active(2, t, out);
  box.send(2, call_message(ss7::encode_acm(50)), t, out);
  box.send(1, call_message(ss7::encode_acm(51)), t, out);
  EXPECT_EQ(sends(out), (Sent{{2, kIsupAcm}, {1, kIsupAcm}}));
  out.clear();
  box.link_down(2, t + 17ms, out);
  EXPECT_TRUE(sends(out).empty());
  box.send(2, call_message(ss7::encode_anm(50)), t + 65ms, out);
  box.send(1, call_message(ss7::encode_anm(51)), t + 65ms, out);
  EXPECT_EQ(sends(out), (Sent{{1, kIsupAnm}})) << "circuit 50's ANM overtook what the dead SG may still send";
  out.clear();
  // Later messages of the waiting call wait behind it, in order.
  box.send(0, call_message(ss7::encode_rel(50)), t + 200ms, out);
  EXPECT_TRUE(sends(out).empty());
  EXPECT_EQ(box.next_deadline(), t + 17ms + 300ms) << "the hold counts from the failure, not from the message";
  box.on_timeout(t + 316ms, out);
  EXPECT_TRUE(sends(out).empty());
  box.on_timeout(t + 317ms, out);
  EXPECT_EQ(sends(out), (Sent{{1, kIsupAnm}, {1, kIsupRel}}));
  EXPECT_FALSE(box.next_deadline());
  EXPECT_EQ(box.changeover().calls_held(), 1U);
  EXPECT_EQ(box.changeover().messages_held(), 2U);
  out.clear();
  // Its hold over, the call goes on at once.
  box.send(0, call_message(ss7::encode_rlc(50)), t + 400ms, out);
  EXPECT_EQ(sends(out).size(), 1U);
}

// Only a recent message can still be queued at the dead SG: a call whose
// last message through it is older than `recent` goes on at once, and so
// do non-call messages (SCCP) and a call whose hold ended untouched.
TEST(SgOutbox, OnlyCallsTheFailedSgCarriedRecentlyWait) {
  SgOutbox box(OutboxConfig{.changeover = {.hold = 300ms, .recent = 1000ms}});
  SgOutbox::Steps out;
  rserpool::TimePoint t{};
  box.link_active(1, t, out);
  box.link_active(2, t, out);
  box.send(2, call_message(ss7::encode_acm(7)), t, out);
  box.send(2, call_message(ss7::encode_acm(8)), t + 1500ms, out);
  MtpMessage udt;
  udt.si = 3;
  udt.data = {9, 9};
  box.send(2, udt, t + 1500ms, out);
  out.clear();
  box.link_down(2, t + 2100ms, out);
  box.send(0, call_message(ss7::encode_anm(7)), t + 2110ms, out);
  box.send(0, udt, t + 2110ms, out);
  box.send(0, call_message(ss7::encode_anm(8)), t + 2110ms, out);
  EXPECT_EQ(sends(out), (Sent{{1, kIsupAnm}, {1, 9}})) << "circuit 7 (ACM 2.1 s old) and SCCP go on at once";
  EXPECT_EQ(box.changeover().calls_held(), 1U);
}

// The usual loss (the kernel gives back what it had not delivered, then the
// end): the given-back message's call waits as well, since what the SG
// acknowledged of it before may still be on its way to the STP.
TEST(SgOutbox, AHandedBackCallWaitsForWhatTheDeadSgAcknowledgedBeforeIt) {
  SgOutbox box(OutboxConfig{.changeover = {.hold = 300ms, .recent = 1000ms}});
  SgOutbox::Steps out;
  rserpool::TimePoint t{};
  box.link_active(1, t, out);
  box.link_active(2, t, out);
  box.send(2, call_message(ss7::encode_acm(5)), t, out);
  box.send(2, call_message(ss7::encode_anm(5)), t + 10ms, out);
  out.clear();
  box.handed_back(2, {call_message(ss7::encode_anm(5))}, t + 20ms, out);
  box.link_down(2, t + 20ms, out);
  EXPECT_TRUE(sends(out).empty());
  box.on_timeout(t + 320ms, out);
  EXPECT_EQ(sends(out), (Sent{{1, kIsupAnm}}));
}

// The hold off (0): the controller as it was, the ANM through the mate at
// once (x45's order at the STP).
TEST(SgOutbox, WithoutTheHoldTheCallChangesGatewayAtOnce) {
  SgOutbox box(OutboxConfig{.changeover = {.hold = 0ms}});
  SgOutbox::Steps out;
  rserpool::TimePoint t{};
  box.link_active(1, t, out);
  box.link_active(2, t, out);
  box.send(2, call_message(ss7::encode_acm(50)), t, out);
  out.clear();
  box.link_down(2, t + 17ms, out);
  box.send(2, call_message(ss7::encode_anm(50)), t + 65ms, out);
  EXPECT_EQ(sends(out), (Sent{{1, kIsupAnm}}));
  EXPECT_FALSE(box.next_deadline());
}

}  // namespace
}  // namespace sg::sim
