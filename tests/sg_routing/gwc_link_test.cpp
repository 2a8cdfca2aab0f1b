// The pool user's end of an SG <-> gateway controller association
// (gwc_link::Link), driven through its public API in virtual time: when the
// link counts as up, how a failure is reported (once, with everything to
// re-send), what a fenced link still lets through (nothing), M3UA refusing
// our DATA, graceful close with its grace period, cookie before data.
#include "sg/gwc_link/link.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "rserpool/wire/asap.hpp"
#include "sg/gwc_link/profile.hpp"

namespace sg::gwc_link {
namespace {

using namespace std::chrono_literals;
namespace tr = rserpool::transport;
namespace asap = rserpool::wire::asap;

template <class T>
std::vector<T> only(const Actions& actions) {
  std::vector<T> out;
  for (const auto& a : actions)
    if (auto* p = std::get_if<T>(&a)) out.push_back(*p);
  return out;
}

MtpMessage data(std::uint8_t tag, std::uint8_t sls = 1) {
  MtpMessage m;
  m.opc = 1;
  m.dpc = 2;
  m.si = kSiSccp;
  m.sls = sls;
  m.data = {tag};
  return m;
}

struct LinkFixture : ::testing::Test {
  std::shared_ptr<LinkCounters> counters = std::make_shared<LinkCounters>();
  Link link{counters};
  rserpool::TimePoint t0{};
  Actions out;

  void bring_up() {
    link.association_up(out);
    link.set_outbound_streams(4);
    link.asp_state(mxua::AspState::Inactive, mxua::AspState::Active, kRoutingContext, out);
    ASSERT_EQ(only<action::Up>(out).size(), 1U);
    out.clear();
  }
};

TEST_F(LinkFixture, UpOnlyWhenTheIpspIsActiveForItsRoutingContext) {
  link.association_up(out);
  EXPECT_EQ(link.state(), LinkState::m3ua_starting);
  link.asp_state(mxua::AspState::Down, mxua::AspState::Inactive, std::nullopt, out);
  link.asp_state(mxua::AspState::Inactive, mxua::AspState::Active, 7, out);  // someone else's RC
  EXPECT_TRUE(only<action::Up>(out).empty());
  link.asp_state(mxua::AspState::Inactive, mxua::AspState::Active, kRoutingContext, out);
  EXPECT_EQ(only<action::Up>(out).size(), 1U);
  EXPECT_EQ(link.state(), LinkState::active);
}

// M3UA leaves ACTIVE with the association up: the link aborts it and
// reports once it is down, with what the transport handed back and what the
// distributor gave it meanwhile, oldest first.
TEST_F(LinkFixture, AFailureIsReportedOnceWhenDownWithEverythingToResend) {
  bring_up();
  link.send(data(1), out);
  out.clear();
  link.asp_state(mxua::AspState::Active, mxua::AspState::Inactive, kRoutingContext, out);
  EXPECT_EQ(only<action::AbortAssociation>(out).size(), 1U);
  EXPECT_TRUE(only<action::Failed>(out).empty()) << "not before the hand-back";
  EXPECT_EQ(link.state(), LinkState::failing);
  out.clear();
  link.send(data(2), out);  // routed here before the distributor heard of it
  EXPECT_TRUE(out.empty());
  link.send_failed({data(1)});
  link.association_down(tr::DownReason::local_close, out);
  auto failed = only<action::Failed>(out);
  ASSERT_EQ(failed.size(), 1U);
  EXPECT_EQ(failed[0].cause, FailureCause::m3ua_left_active);
  ASSERT_EQ(failed[0].handed_back.size(), 2U);
  EXPECT_EQ(failed[0].handed_back[0].data[0], 1);
  EXPECT_EQ(failed[0].handed_back[1].data[0], 2);
  EXPECT_EQ(counters->failures, 1U);
  out.clear();
  link.association_down(tr::DownReason::local_close, out);
  EXPECT_TRUE(out.empty()) << "once";
}

TEST_F(LinkFixture, AssociationLossIsAFailureWithTheTransportsReason) {
  bring_up();
  link.send_failed({data(9)});
  link.association_down(tr::DownReason::aborted, out);
  auto failed = only<action::Failed>(out);
  ASSERT_EQ(failed.size(), 1U);
  EXPECT_EQ(failed[0].cause, FailureCause::association_lost);
  EXPECT_EQ(failed[0].down, tr::DownReason::aborted);
  EXPECT_EQ(failed[0].handed_back.size(), 1U);
}

// Nothing accepted is lost silently: DATA that M3UA refuses is counted and
// goes to failover with the link.
TEST_F(LinkFixture, DataRefusedByM3uaFailsTheLinkOverWithThatMessage) {
  bring_up();
  link.send(data(5), out);  // the executor hands it to M3UA, which drops it
  ASSERT_EQ(only<action::SendData>(out).size(), 1U);
  out.clear();
  link.refused(data(5), out);
  EXPECT_EQ(counters->m3ua_refused, 1U);
  EXPECT_EQ(counters->out.messages, 0U) << "not counted as sent";
  EXPECT_EQ(only<action::AbortAssociation>(out).size(), 1U);
  out.clear();
  link.association_down(tr::DownReason::local_close, out);
  auto failed = only<action::Failed>(out);
  ASSERT_EQ(failed.size(), 1U);
  EXPECT_EQ(failed[0].cause, FailureCause::m3ua_refused_data);
  ASSERT_EQ(failed[0].handed_back.size(), 1U);
  EXPECT_EQ(failed[0].handed_back[0].data[0], 5);
}

// Fencing: once the distributor cut the controller off, whatever it still
// sends (answers, a newer cookie) is dropped and counted; the association's
// leftovers come back as Closed (the distributor failed it over already).
TEST_F(LinkFixture, AFencedLinkDeliversNothingMore) {
  bring_up();
  link.data(data(1), out);
  EXPECT_EQ(only<action::Deliver>(out).size(), 1U);
  out.clear();
  link.fence(out);
  EXPECT_EQ(only<action::AbortAssociation>(out).size(), 1U);
  out.clear();
  link.data(data(2), out);
  link.control(kAsapPpid, asap::encode(asap::Cookie{{0x01}}), out);
  EXPECT_TRUE(only<action::Deliver>(out).empty());
  EXPECT_TRUE(only<action::CookieReceived>(out).empty());
  EXPECT_EQ(only<action::Discarded>(out).size(), 2U);
  EXPECT_EQ(counters->dropped_after_fence, 2U);
  out.clear();
  link.send_failed({data(3)});
  link.association_down(tr::DownReason::local_close, out);
  EXPECT_TRUE(only<action::Failed>(out).empty());
  auto closed = only<action::Closed>(out);
  ASSERT_EQ(closed.size(), 1U);
  EXPECT_EQ(closed[0].handed_back.size(), 1U);
}

// A link that failed by itself drops what arrives too: the distributor is
// about to move its calls.
TEST_F(LinkFixture, AFailingLinkDropsLateData) {
  bring_up();
  link.request_failed(out);
  out.clear();
  link.data(data(1), out);
  EXPECT_TRUE(only<action::Deliver>(out).empty());
  EXPECT_EQ(counters->dropped_after_fence, 1U);
}

TEST_F(LinkFixture, GracefulCloseWaitsForTheAspdnAckOrTheGracePeriod) {
  bring_up();
  link.close(t0, out);
  EXPECT_EQ(only<action::RequestAspDown>(out).size(), 1U);
  EXPECT_TRUE(only<action::CloseAssociation>(out).empty());
  ASSERT_TRUE(link.next_deadline());
  EXPECT_EQ(*link.next_deadline(), t0 + Link::kAspDownGrace);
  out.clear();
  link.on_timeout(t0 + Link::kAspDownGrace - 1ms, out);
  EXPECT_TRUE(out.empty());
  link.on_timeout(t0 + Link::kAspDownGrace, out);
  EXPECT_EQ(only<action::CloseAssociation>(out).size(), 1U);
  // Answers still arriving while it closes are delivered (calls finishing).
  out.clear();
  link.data(data(7), out);
  EXPECT_EQ(only<action::Deliver>(out).size(), 1U);
  out.clear();
  link.association_down(tr::DownReason::local_close, out);
  EXPECT_EQ(only<action::Closed>(out).size(), 1U);
  EXPECT_EQ(counters->failures, 0U);
}

TEST_F(LinkFixture, AnAnsweredAspdnClosesAtOnce) {
  bring_up();
  link.close(t0, out);
  out.clear();
  link.asp_state(mxua::AspState::Active, mxua::AspState::Down, kRoutingContext, out);
  EXPECT_EQ(only<action::CloseAssociation>(out).size(), 1U);
  EXPECT_EQ(link.state(), LinkState::closing);
}

// The cookie is owed on every data stream: the first DATA on a stream
// finds it ahead of itself, once.
TEST_F(LinkFixture, CookieEchoGoesAheadOfTheFirstDataOnEachStream) {
  EXPECT_FALSE(link.echo_cookie({0xEC}, out)) << "not active yet";
  bring_up();
  ASSERT_TRUE(link.echo_cookie({0xEC}, out));
  EXPECT_TRUE(out.empty()) << "nothing on a stream no DATA uses";
  link.send(data(1, 1), out);
  ASSERT_EQ(out.size(), 2U);
  const auto* echo = std::get_if<action::SendControl>(&out[0]);
  ASSERT_NE(echo, nullptr);
  EXPECT_EQ(echo->message.stream, mxua::data_stream(1, 4));
  EXPECT_TRUE(std::holds_alternative<action::SendData>(out[1]));
  out.clear();
  link.send(data(2, 1), out);
  EXPECT_EQ(out.size(), 1U) << "once per stream";
  out.clear();
  link.send(data(3, 2), out);
  EXPECT_EQ(only<action::SendControl>(out).size(), 1U) << "another stream owes it too";
}

// The DATA paths' shortcut (send_now / deliver_now, issue 16) is the
// core's own verdict: in every state it says yes exactly when send() /
// data() would give one SendData / Deliver of that message and nothing
// else, and counts the message as they do. Two links driven alike, one
// asked the shortcut, the other the full call.
TEST(LinkShortcut, SendNowAndDeliverNowAgreeWithSendAndDataInEveryState) {
  using Step = std::function<void(Link&, Actions&)>;
  const std::vector<std::pair<std::string, std::vector<Step>>> states = {
      {"new", {}},
      {"m3ua_starting", {[](Link& l, Actions& o) { l.association_up(o); }}},
      {"active",
       {[](Link& l, Actions& o) { l.association_up(o); },
        [](Link& l, Actions&) { l.set_outbound_streams(4); },
        [](Link& l, Actions& o) {
          l.asp_state(mxua::AspState::Inactive, mxua::AspState::Active, kRoutingContext, o);
        }}},
      {"active, cookie echo owed",
       {[](Link& l, Actions& o) { l.association_up(o); },
        [](Link& l, Actions&) { l.set_outbound_streams(4); },
        [](Link& l, Actions& o) {
          l.asp_state(mxua::AspState::Inactive, mxua::AspState::Active, kRoutingContext, o);
        },
        [](Link& l, Actions& o) { l.echo_cookie({0xEC}, o); }}},
      {"closing",
       {[](Link& l, Actions& o) { l.association_up(o); },
        [](Link& l, Actions& o) {
          l.asp_state(mxua::AspState::Inactive, mxua::AspState::Active, kRoutingContext, o);
        },
        [](Link& l, Actions& o) { l.close(rserpool::TimePoint{}, o); }}},
      {"failing",
       {[](Link& l, Actions& o) { l.association_up(o); },
        [](Link& l, Actions& o) {
          l.asp_state(mxua::AspState::Inactive, mxua::AspState::Active, kRoutingContext, o);
        },
        [](Link& l, Actions& o) { l.request_failed(o); }}},
      {"aborting (fenced)",
       {[](Link& l, Actions& o) { l.association_up(o); },
        [](Link& l, Actions& o) {
          l.asp_state(mxua::AspState::Inactive, mxua::AspState::Active, kRoutingContext, o);
        },
        [](Link& l, Actions& o) { l.fence(o); }}},
      {"closed",
       {[](Link& l, Actions& o) { l.association_up(o); },
        [](Link& l, Actions& o) { l.fence(o); },
        [](Link& l, Actions& o) { l.association_down(tr::DownReason::local_close, o); }}},
  };
  std::size_t shortcuts = 0;
  for (const auto& [name, steps] : states) {
    for (const bool outbound : {true, false}) {
      auto ca = std::make_shared<LinkCounters>();
      auto cb = std::make_shared<LinkCounters>();
      Link a{ca};
      Link b{cb};
      Actions oa, ob;
      for (const auto& step : steps) {
        step(a, oa);
        step(b, ob);
      }
      oa.clear();
      ob.clear();
      const MtpMessage m = data(9, 1);
      const bool now = outbound ? a.send_now(m) : a.deliver_now(m);
      if (outbound)
        b.send(m, ob);
      else
        b.data(m, ob);
      const bool sole = ob.size() == 1 && (outbound ? std::holds_alternative<action::SendData>(ob[0])
                                                    : std::holds_alternative<action::Deliver>(ob[0]));
      EXPECT_EQ(now, sole) << name << (outbound ? ", send" : ", data");
      if (now) {
        ++shortcuts;
        EXPECT_EQ(ca->out.messages, cb->out.messages) << name;
        EXPECT_EQ(ca->out.bytes, cb->out.bytes) << name;
        EXPECT_EQ(ca->in.messages, cb->in.messages) << name;
        EXPECT_EQ(ca->in.bytes, cb->in.bytes) << name;
        EXPECT_EQ(a.next_deadline(), b.next_deadline()) << name << ": the shortcut moves no timer";
      } else {
        EXPECT_EQ(ca->out.messages, 0U) << name;
        EXPECT_EQ(ca->in.messages, 0U) << name;
      }
    }
  }
  EXPECT_EQ(shortcuts, 5U) << "send: active; data: m3ua_starting, active (with and without an echo owed), closing";
}

TEST_F(LinkFixture, ControlChannelBadInputIsCountedNeverFatal) {
  bring_up();
  link.control(kAsapPpid, rserpool::Bytes{0xFF, 0x00}, out);
  link.control(99, rserpool::Bytes{0x01}, out);
  link.control(kAsapPpid, asap::encode(asap::CookieEcho{{0x01}}), out);
  EXPECT_EQ(counters->control_errors, 3U);
  EXPECT_EQ(only<action::Discarded>(out).size(), 3U);
  EXPECT_EQ(link.state(), LinkState::active);
  out.clear();
  link.control(kAsapPpid, asap::encode(asap::Cookie{{0xC0}}), out);
  auto cookie = only<action::CookieReceived>(out);
  ASSERT_EQ(cookie.size(), 1U);
  EXPECT_EQ(cookie[0].cookie, (rserpool::Bytes{0xC0}));
}

}  // namespace
}  // namespace sg::gwc_link
