// The gateway's promise, simulated deterministically: an SS7 load generator,
// the pool distributor, three gateway controllers; one controller dies
// mid-load with messages in flight. No call may fail, no controller may see
// a message for a call it does not know, no circuit may see its messages
// out of order, thanks to the hand-back, the re-send order and the cookie.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <variant>

#include "sg/routing/pool_distributor.hpp"
#include "sg/sim/gwc_call_model.hpp"
#include "sg/sim/ss7_call_generator.hpp"

namespace sg::sim {
namespace {

using namespace std::chrono_literals;
using rserpool::PeIdentifier;

class RoundRobin : public MemberSelector {
 public:
  PeIdentifier pick(std::span<const Candidate> c) override { return c[n_++ % c.size()].id; }

 private:
  std::size_t n_ = 0;
};

struct Controller {
  GwcCallModel model;
  bool alive = true;
  // What the SG sent and the association has not delivered yet: a cookie
  // echo or a data message, in send order.
  struct InFlight {
    std::variant<rserpool::Bytes, MtpMessage> item;
    TimePoint sent;
  };
  std::deque<InFlight> in_flight;
};

// One-way delay of the SG-to-controller association: what was sent within
// the last few milliseconds is still in flight when a controller dies.
constexpr auto kAssociationDelay = 5ms;

struct Result {
  GeneratorStats gen;
  std::map<PeIdentifier, GwcCounters> gwc;
  DistributorCounters sg;
};

Result run(bool cookies, std::uint32_t kill_at_ms) {
  RoundRobin rr;
  DistributorConfig dcfg;
  PoolDistributor sg(dcfg, rr);
  GeneratorConfig gcfg;
  gcfg.calls_per_second = 200;
  gcfg.sccp_per_second = 100;
  gcfg.hold_time = 300ms;
  gcfg.answer_timeout = 3s;
  gcfg.release_timeout = 3s;
  const TimePoint t0{};
  Ss7CallGenerator gen(gcfg, t0);
  std::map<PeIdentifier, Controller> pes;
  for (PeIdentifier id : {11U, 22U, 33U}) {
    pes[id];
    (void)sg.member_added(id, rserpool::PolicyParameters{}, t0);
    (void)sg.association_up(id, t0);
  }
  TimePoint now = t0;
  auto apply = [&](const std::vector<Action>& actions) {
    for (const auto& a : actions) {
      if (auto* s = std::get_if<action::SendData>(&a)) pes[s->pe].in_flight.push_back({s->message, now});
      else if (auto* c = std::get_if<action::SendCookieEcho>(&a)) pes[c->pe].in_flight.push_back({c->cookie, now});
    }
  };
  for (std::uint32_t ms = 0; ms < 8000; ++ms) {
    now = t0 + std::chrono::milliseconds(ms);
    if (ms == kill_at_ms) {
      // SIGKILL: what was in flight comes back from the transport, unsent.
      Controller& victim = pes[22];
      victim.alive = false;
      std::vector<MtpMessage> back;
      for (auto& f : victim.in_flight)
        if (auto* m = std::get_if<MtpMessage>(&f.item)) back.push_back(*m);
      victim.in_flight.clear();
      apply(sg.association_failed(22, back, now));
    }
    if (ms == 4000) gen.stop_originating();
    for (auto& m : gen.advance(now)) apply(sg.message(m, now));
    for (auto& [id, pe] : pes) {
      if (!pe.alive) continue;
      std::vector<MtpMessage> replies;
      bool changed = false;
      while (!pe.in_flight.empty() && pe.in_flight.front().sent + kAssociationDelay <= now) {
        auto item = std::move(pe.in_flight.front().item);
        pe.in_flight.pop_front();
        if (auto* cookie = std::get_if<rserpool::Bytes>(&item)) {
          (void)pe.model.adopt_cookie(*cookie, now);
        } else {
          for (auto& r : pe.model.on_message(std::get<MtpMessage>(item), now)) replies.push_back(r);
        }
        changed = true;
      }
      for (auto& r : pe.model.advance(now)) {
        replies.push_back(r);
        changed = true;
      }
      // The controller refreshes its cookie whenever its call table changed.
      if (cookies && changed) sg.cookie_received(id, pe.model.make_cookie());
      for (auto& r : replies) {
        sg.observe_from_member(id, r);
        for (auto& back : gen.on_message(r, now)) apply(sg.message(back, now));
      }
    }
    apply(sg.advance(now));
  }
  Result out{gen.stats(), {}, sg.counters()};
  for (auto& [id, pe] : pes)
    if (pe.alive) out.gwc[id] = pe.model.counters();
  return out;
}

TEST(GatewaySimulation, ControllerDeathMidLoadLosesNoCall) {
  const auto r = run(/*cookies=*/true, /*kill_at_ms=*/2000);
  EXPECT_GT(r.gen.calls_started, 700U);
  EXPECT_EQ(r.gen.calls_completed, r.gen.calls_started);
  EXPECT_EQ(r.gen.calls_failed, 0U);
  EXPECT_EQ(r.gen.unexpected_messages, 0U);
  EXPECT_EQ(r.gen.sccp_answered, r.gen.sccp_sent);
  EXPECT_EQ(r.sg.failovers, 1U);
  EXPECT_GT(r.sg.resent_after_failover, 0U);
  EXPECT_GT(r.sg.cookies_echoed, 0U);
  std::uint64_t adopted = 0;
  for (const auto& [id, c] : r.gwc) {
    EXPECT_EQ(c.unknown_call_messages, 0U) << "controller " << id;
    EXPECT_EQ(c.ordering_violations, 0U) << "controller " << id;
    adopted += c.adopted_calls;
  }
  EXPECT_GT(adopted, 0U);
}

// The same run without cookies shows what they are for: the survivors get
// releases for calls they never saw.
TEST(GatewaySimulation, WithoutCookiesSurvivorsSeeUnknownCalls) {
  const auto r = run(/*cookies=*/false, /*kill_at_ms=*/2000);
  std::uint64_t unknown = 0;
  for (const auto& [id, c] : r.gwc) unknown += c.unknown_call_messages;
  EXPECT_GT(unknown, 0U);
}

}  // namespace
}  // namespace sg::sim
