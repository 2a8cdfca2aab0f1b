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

// (link, tag) of the send steps, in order.
std::vector<std::pair<SgOutbox::LinkId, int>> sends(const SgOutbox::Steps& steps) {
  std::vector<std::pair<SgOutbox::LinkId, int>> v;
  for (const auto& s : steps)
    if (s.kind == Kind::send) v.emplace_back(s.link, s.message.data.at(0));
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

}  // namespace
}  // namespace sg::sim
