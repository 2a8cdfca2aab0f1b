// A gateway's pool view is the whole pool: the pool user config sgd runs
// (sg/gateway/pool_user_config.hpp), against the real registrar core, caches
// every PE of a pool of more than the registrar's default answer size, in
// the first answer and in every pushed update. (Found by the seeded
// simulation: without the Handle Resolution Option the registrar answers
// with 3 PEs, and the gateway took them for the whole pool.)
#include <gtest/gtest.h>

#include "registrar/registrar.hpp"
#include "rserpool/asap/pool_user.hpp"
#include "rserpool/wire/asap.hpp"
#include "sg/gateway/pool_user_config.hpp"

namespace {

using namespace std::chrono_literals;
namespace asap = rserpool::wire::asap;
using rserpool::TimePoint;

constexpr rserpool::registrar::AssociationId kPu = 100;

rserpool::PoolElementParameter pe(rserpool::PeIdentifier id) {
  rserpool::PoolElementParameter p;
  p.id = id;
  p.registration_life_ms = 30000;
  p.user_transport.port = 7000;
  p.user_transport.addresses = {rserpool::IpAddress::v4({10, 0, 0, static_cast<std::uint8_t>(id)})};
  return p;
}

// Runs one pool user against one registrar core: what each sends the other
// is delivered at once.
struct Pair {
  rserpool::registrar::Registrar reg{rserpool::registrar::RegistrarConfig::aggressive(7)};
  rserpool::asap::PoolUser pu;
  TimePoint now = TimePoint{} + 1s;
  explicit Pair(rserpool::asap::PoolUserConfig c) : pu(std::move(c)) {}

  void to_registrar(rserpool::asap::Actions& out) {
    for (auto& a : out) {
      if (std::holds_alternative<rserpool::asap::ConnectRegistrar>(a)) {
        (void)reg.on_asap_association_up(kPu, {rserpool::IpAddress::v4({10, 9, 9, 9})}, 2900, now);
        rserpool::asap::Actions more;
        pu.on_registrar_connected(0, now, more);
        to_registrar(more);
      } else if (auto* s = std::get_if<rserpool::asap::SendToRegistrar>(&a)) {
        to_user(reg.on_asap_message(kPu, asap::encode(s->message), now));
      }
    }
  }
  void to_user(const std::vector<rserpool::registrar::Action>& acts) {
    for (const auto& a : acts) {
      const auto* s = std::get_if<rserpool::registrar::SendAsap>(&a);
      if (!s || s->association != kPu) continue;
      auto d = asap::decode(rserpool::registrar::encode(s->message));
      ASSERT_TRUE(static_cast<bool>(d));
      rserpool::asap::Actions out;
      pu.on_registrar_message(0, d->message, now, out);
      to_registrar(out);
    }
  }
  void register_pes(rserpool::PeIdentifier from, rserpool::PeIdentifier to) {
    for (auto id = from; id <= to; ++id) {
      const auto aid = static_cast<rserpool::registrar::AssociationId>(id);
      (void)reg.on_asap_association_up(aid, {rserpool::IpAddress::v4({10, 0, 0, static_cast<std::uint8_t>(id)})}, 5000,
                                       now);
      to_user(reg.on_asap_message(aid, asap::encode(asap::Registration{rserpool::PoolHandle("gwc"), pe(id)}), now));
    }
  }
  std::size_t cached() const { return pu.cached_list(rserpool::PoolHandle("gwc")).size(); }
};

rserpool::asap::PoolUserConfig with_registrar(rserpool::asap::PoolUserConfig c) {
  c.hunt.registrars = {{rserpool::IpAddress::v4({10, 1, 0, 1}), 3863}};
  return c;
}

TEST(GatewayPoolView, TheWholePoolInTheAnswerAndInEveryPush) {
  Pair p(with_registrar(sg::gateway::pool_user_config(/*aggressive=*/true, 1)));
  p.register_pes(1, 5);
  rserpool::asap::Actions out;
  p.pu.watch(rserpool::PoolHandle("gwc"), p.now, out);
  p.to_registrar(out);
  EXPECT_EQ(p.cached(), 5U);
  EXPECT_TRUE(p.pu.is_subscribed(rserpool::PoolHandle("gwc")));
  p.register_pes(6, 7);  // pushed over the subscription
  EXPECT_EQ(p.cached(), 7U);
}

// What sgd did before: no Handle Resolution Option, the registrar's
// default (3) taken for the whole pool.
TEST(GatewayPoolView, WithoutTheOptionTheRegistrarAnswersThree) {
  auto c = sg::gateway::pool_user_config(true, 1);
  c.items.reset();
  Pair p(with_registrar(c));
  p.register_pes(1, 5);
  rserpool::asap::Actions out;
  p.pu.watch(rserpool::PoolHandle("gwc"), p.now, out);
  p.to_registrar(out);
  EXPECT_EQ(p.cached(), 3U);
}

}  // namespace
