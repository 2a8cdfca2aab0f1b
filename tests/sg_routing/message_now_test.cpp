// PoolDistributor::message_now(), the relay path's verdict without an
// action list: wherever it answers, it must do what message() does (the
// same PE, the same counters, the same flows afterwards), and where it
// declines it must change nothing. Two distributors driven by the same
// random pool life (lists, associations up and failing, drains, calls from
// both sides): one tries message_now() first, the other only message();
// their actions and state must agree at every step.
#include "sg/routing/pool_distributor.hpp"
#include "sg/ss7/isup.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <sstream>
#include <string>

namespace sg {
namespace {

using namespace std::chrono_literals;
using rserpool::PeIdentifier;

// Round robin over the candidates' order: stateful, so any extra or
// missing selection on one side shows up as a different placement later.
class NowRoundRobinSelector : public MemberSelector {
 public:
  PeIdentifier pick(const Placement&, std::span<const Candidate> c) override { return c[next_++ % c.size()].id; }

 private:
  std::size_t next_ = 0;
};

rserpool::PoolElementParameter now_listing(PeIdentifier id) {
  rserpool::PoolElementParameter p;
  p.id = id;
  p.user_transport.addresses = {*rserpool::IpAddress::parse("192.0.2.1")};
  p.user_transport.port = static_cast<std::uint16_t>(4000 + id);
  p.user_transport.protocol = rserpool::TransportProtocol::sctp;
  return p;
}

std::string describe(const std::vector<Action>& actions) {
  std::ostringstream s;
  for (const auto& a : actions) {
    s << a.index();
    std::visit(
        [&](const auto& x) {
          if constexpr (requires { x.pe; }) s << " pe " << x.pe;
          if constexpr (requires { x.message; }) {
            s << " si " << int{x.message.si} << " sls " << int{x.message.sls} << " [";
            for (auto b : x.message.data) s << int{b} << ',';
            s << ']';
          }
        },
        a);
    s << '\n';
  }
  return s.str();
}

std::string describe(const PoolDistributor& d) {
  std::ostringstream s;
  const auto& c = d.counters();
  s << "accepted " << c.accepted << " sent " << c.sent << " queued " << c.queued << " failovers " << c.failovers
    << " flows " << d.flow_count() << " wait " << d.pool_wait_depth() << " taken " << c.calls_taken_over;
  for (std::size_t r = 0; r < kDropReasons; ++r) s << " drop" << r << ' ' << c.drops[r];
  for (PeIdentifier pe = 1; pe <= 3; ++pe) {
    const auto st = d.state_of(pe);
    s << " | pe " << pe << ' ' << (st ? std::string(to_string(*st)) : "-") << " flows " << d.flow_count(pe)
      << " queue " << d.queue_depth(pe) << " kept " << d.kept_depth(pe);
  }
  return s.str();
}

MtpMessage to_pool(std::mt19937& rng) {
  MtpMessage m;
  m.opc = 100;
  m.dpc = 200;
  m.sls = static_cast<std::uint8_t>(rng() % 4);
  const auto cic = static_cast<std::uint16_t>(rng() % 6);
  switch (rng() % 5) {
    case 0: m.si = kSiIsup; m.data = ss7::encode_iam(cic, "1"); break;
    case 1: m.si = kSiIsup; m.data = ss7::encode_anm(cic); break;
    case 2: m.si = kSiIsup; m.data = ss7::encode_rel(cic); break;
    case 3: m.si = kSiIsup; m.data = ss7::encode_rlc(cic); break;
    default: m.si = kSiSccp; m.data = {static_cast<std::uint8_t>(rng())}; break;
  }
  return m;
}

TEST(PoolDistributorMessageNow, AgreesWithMessageWhereverItAnswers) {
  std::size_t answered = 0;
  std::size_t declined = 0;
  for (std::uint32_t seed = 1; seed <= 60; ++seed) {
    std::mt19937 rng(seed);
    DistributorConfig config;
    config.pool_wait = 40ms;
    config.max_queue = 50;
    DistributorProfile profile;
    profile.membership.retry_initial = 5ms;
    profile.membership.retry_max = 20ms;
    profile.membership.audit_bound = 30ms;
    profile.membership.suspicion = 15ms;
    NowRoundRobinSelector sel_a;
    NowRoundRobinSelector sel_b;
    PoolDistributor a(config, sel_a, profile);  // message_now() first
    PoolDistributor b(config, sel_b, profile);  // message() only
    TimePoint now{};
    a.start(now);
    b.start(now);
    std::set<PeIdentifier> listed{1, 2, 3};
    std::set<PeIdentifier> connecting;
    std::set<PeIdentifier> up;
    // Both sides' actions must agree; the association events follow them.
    auto both = [&](auto&& event) {
      const auto x = event(a);
      const auto y = event(b);
      ASSERT_EQ(describe(x), describe(y)) << "seed " << seed;
      for (const auto& act : x) {
        if (auto* c = std::get_if<action::Connect>(&act)) connecting.insert(c->pe);
        if (auto* d = std::get_if<action::Disconnect>(&act)) up.erase(d->pe), connecting.erase(d->pe);
        if (auto* f = std::get_if<action::Fence>(&act)) up.erase(f->pe), connecting.erase(f->pe);
      }
    };
    auto publish = [&] {
      std::vector<rserpool::PoolElementParameter> l;
      for (auto pe : listed) l.push_back(now_listing(pe));
      both([&](PoolDistributor& d) { return d.handlespace(l, now); });
    };
    publish();
    for (int step = 0; step < 600; ++step) {
      now += 1ms;
      both([&](PoolDistributor& d) { return d.on_timeout(now); });
      const auto pe = static_cast<PeIdentifier>(1 + rng() % 3);
      const int r = static_cast<int>(rng() % 100);
      if (r < 60) {
        const MtpMessage m = to_pool(rng);
        const auto c = a.classify(m);
        std::vector<Action> x;
        if (auto target = a.message_now(c)) {
          ++answered;
          x.push_back(action::SendData{*target, m});
        } else {
          ++declined;
          ASSERT_EQ(describe(a), describe(b)) << "seed " << seed << ": declined, yet changed something";
          a.message(m, c, now, x);
        }
        const auto y = b.message(m, now);
        ASSERT_EQ(describe(x), describe(y)) << "seed " << seed << " step " << step;
      } else if (r < 75) {
        // A controller's own message: binds (or ends) its calls.
        MtpMessage m = to_pool(rng);
        std::swap(m.opc, m.dpc);
        const auto x = a.from_member(pe, m, now);
        const auto y = b.from_member(pe, m, now);
        ASSERT_EQ(x.forward, y.forward) << "seed " << seed;
        ASSERT_EQ(describe(x.actions), describe(y.actions)) << "seed " << seed;
      } else if (r < 85) {
        if (connecting.erase(pe) != 0) {
          up.insert(pe);
          both([&](PoolDistributor& d) { return d.association_up(pe, now); });
        }
      } else if (r < 91) {
        if (up.erase(pe) != 0 || connecting.erase(pe) != 0)
          both([&](PoolDistributor& d) { return d.association_failed(pe, {}, now); });
      } else if (r < 97) {
        if (!listed.erase(pe)) listed.insert(pe);  // a loss notice, or listed (again)
        publish();
      } else {
        auto x = a.drain(pe, 20ms, now);
        auto y = b.drain(pe, 20ms, now);
        ASSERT_EQ(static_cast<bool>(x), static_cast<bool>(y)) << "seed " << seed;
        if (x) {
          ASSERT_EQ(describe(*x), describe(*y)) << "seed " << seed;
        }
      }
      ASSERT_EQ(describe(a), describe(b)) << "seed " << seed << " step " << step;
    }
  }
  // Both paths were taken often (the shortcut is the common case).
  EXPECT_GT(answered, 2000U);
  EXPECT_GT(declined, 2000U);
}

}  // namespace
}  // namespace sg
