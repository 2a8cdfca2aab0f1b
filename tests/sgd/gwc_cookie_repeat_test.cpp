// gwc-sim's side of the per-stream COOKIE_ECHO: the SG repeats one cookie on
// every data stream, so the controller adopts it once; a repeat arriving
// after some of the adopted calls ended must not bring them back.
#include <gtest/gtest.h>

#include "sg/sim/gwc_call_model.hpp"
#include "sg/ss7/isup.hpp"

namespace {

using namespace std::chrono_literals;
using sg::sim::GwcCallModel;

sg::MtpMessage isup_in(rserpool::Bytes data) {
  sg::MtpMessage m;
  m.opc = 1;
  m.dpc = 2;
  m.si = sg::kSiIsup;
  m.data = std::move(data);
  return m;
}

TEST(GwcCookieRepeat, ARepeatedCookieIsAdoptedOnceAndDoesNotResurrectEndedCalls) {
  GwcCallModel failed, heir;
  sg::sim::TimePoint t{};
  (void)failed.on_message(isup_in(sg::ss7::encode_iam(1, "1")), t);
  (void)failed.on_message(isup_in(sg::ss7::encode_iam(2, "1")), t);
  const auto cookie = failed.make_cookie();

  auto first = heir.adopt_cookie(cookie, t);  // on stream 1
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, 2U);
  (void)heir.on_message(isup_in(sg::ss7::encode_rel(1)), t + 1ms);  // call 1 ends at the heir
  EXPECT_EQ(heir.active_calls(), 1U);

  auto again = heir.adopt_cookie(cookie, t + 2ms);  // the same cookie, on stream 2
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0U);
  EXPECT_EQ(heir.active_calls(), 1U) << "the released call came back";
  EXPECT_EQ(heir.counters().duplicate_cookies, 1U);
  EXPECT_EQ(heir.counters().adopted_calls, 2U);
  // A different cookie (the failed PE's table changed) is news.
  (void)failed.on_message(isup_in(sg::ss7::encode_iam(3, "1")), t);
  auto newer = heir.adopt_cookie(failed.make_cookie(), t + 3ms);
  ASSERT_TRUE(newer);
  EXPECT_EQ(*newer, 2U) << "calls 1 and 3: the heir does not know them";
}

}  // namespace
