// The ASAP ends (RFC 5352) the registrars serve: each controller's real
// PoolElement core (registration, re-registration, deregistration on a
// graceful leave, answering keep-alives, hunting a new home registrar), and
// each gateway's real PoolUser core, subscribed to the pool at its
// co-located registrar: the gateway's pool view is what that core caches,
// handed to the distributor as sgd's PoolUserService watcher does.
#include "seed_world_impl.hpp"
#include "sg/gateway/pool_user_config.hpp"

namespace sg::sim::seeded {
namespace world {

namespace asapc = rserpool::asap;

namespace {
rserpool::IpAddress registrar_ip(std::size_t g) { return rserpool::IpAddress::v4({10, 1, 0, static_cast<std::uint8_t>(g + 1)}); }
rserpool::IpAddress controller_ip(std::size_t i) { return rserpool::IpAddress::v4({10, 0, 0, static_cast<std::uint8_t>(i + 1)}); }
}  // namespace

// As gwc-sim registers: one PE per controller, its SCTP user transport,
// every gateway's registrar in its list (entry k: gateway k's).
asapc::PoolElementConfig World::pe_config(const Controller& c) const {
  const std::size_t i = static_cast<std::size_t>(&c - ctls_.data());
  asapc::PoolElementConfig pc;
  pc.pool = rserpool::PoolHandle(kPool);
  pc.pe_id = c.id;
  pc.user_transport.port = c.port;
  pc.user_transport.addresses = {controller_ip(i)};
  pc.registration_life_ms = 30'000;
  for (std::size_t g = 0; g < gws_.size(); ++g) pc.hunt.registrars.push_back({registrar_ip(g), kAsapPort});
  pc.t2_registration = 2s;
  pc.t3_deregistration = 2s;
  pc.seed = (static_cast<std::uint64_t>(c.id) << 8) + c.incarnation + 1;
  return pc;
}

void World::start_pe(Controller& c) {
  c.asap_links.clear();
  c.asap_unread.clear();
  c.next_inbound = asapc::kInboundAssocBase;
  c.pe = std::make_unique<asapc::PoolElement>(pe_config(c));
  asapc::Actions out;
  c.pe->register_pe(now_, out);
  run_pe(c, out);
}

void World::run_pe(Controller& c, asapc::Actions& actions) {
  const std::size_t i = static_cast<std::size_t>(&c - ctls_.data());
  for (auto& act : actions) {
    if (auto* cr = std::get_if<asapc::ConnectRegistrar>(&act)) {
      if (cr->assoc >= gws_.size()) continue;  // only the configured registrars
      c.asap_links[cr->assoc] = open_asap(cr->assoc, /*pool_user=*/false, i, cr->assoc, draw_delay(200, 5000));
    } else if (auto* d = std::get_if<asapc::DisconnectRegistrar>(&act)) {
      if (auto it = c.asap_links.find(d->assoc); it != c.asap_links.end()) {
        asap_owner_closes(it->second, /*abort=*/false);
        c.asap_links.erase(it);
      }
    } else if (auto* s = std::get_if<asapc::SendToRegistrar>(&act)) {
      auto it = c.asap_links.find(s->assoc);
      auto l = it == c.asap_links.end() ? asap_links_.end() : asap_links_.find(it->second);
      if (l == asap_links_.end() || l->second.owner_gone || !l->second.up) {
        ++out_.asap_unsendable;
        continue;
      }
      Packet p;
      p.control = true;
      p.payload = rserpool::wire::asap::encode(s->message);
      l->second.to_reg.send(std::move(p), now_, l->second.delay, draw_extra(), seq_++);
    } else if (auto* r = std::get_if<asapc::RegistrationResult>(&act)) {
      ev("pe-registration", c.id, static_cast<std::uint64_t>(r->code), r->renewal);
      if (r->code != asapc::RegistrationCode::granted) ++out_.registrations_refused;
    } else if (auto* dr = std::get_if<asapc::DeregistrationResult>(&act)) {
      ev("pe-deregistration", c.id, static_cast<std::uint64_t>(dr->code));
    } else if (auto* h = std::get_if<asapc::HomeRegistrarChanged>(&act)) {
      ev("pe-home", c.id, h->assoc, h->server_id);
    }
  }
}

void World::pe_reads(Controller& c, asapc::AssocId local, const rserpool::Bytes& bytes) {
  auto d = rserpool::wire::asap::decode(bytes);
  if (!d) {
    violation("undecodable ASAP message at a controller");
    return;
  }
  asapc::Actions out;
  c.pe->on_registrar_message(local, d->message, now_, out);
  run_pe(c, out);
}

void World::start_pool_user(std::size_t g) {
  Gateway& w = gws_[g];
  auto pu = gateway::pool_user_config(/*aggressive=*/true, plan_.seed * 4 + g + 2);  // sgd's
  pu.hunt.registrars = {{registrar_ip(g), kAsapPort}};
  w.pool_user = std::make_unique<asapc::PoolUser>(pu);
  w.asap_links.clear();
  w.last_list.reset();
  asapc::Actions out;
  w.pool_user->watch(rserpool::PoolHandle(kPool), now_, out);
  run_pool_user(g, out);
  notify_watcher(g);
  schedule_at(now_ + kEmptyPoolPoll, [this, g, inc = w.incarnation] { check_empty_pool(g, inc); });
}

void World::run_pool_user(std::size_t g, asapc::Actions& actions) {
  Gateway& w = gws_[g];
  for (auto& act : actions) {
    if (!w.alive) return;
    if (auto* cr = std::get_if<asapc::ConnectRegistrar>(&act)) {
      w.asap_links[cr->assoc] = open_asap(g, /*pool_user=*/true, g, cr->assoc, kLoopbackDelay);
    } else if (auto* d = std::get_if<asapc::DisconnectRegistrar>(&act)) {
      if (auto it = w.asap_links.find(d->assoc); it != w.asap_links.end()) {
        asap_owner_closes(it->second, /*abort=*/false);
        w.asap_links.erase(it);
      }
    } else if (auto* s = std::get_if<asapc::SendToRegistrar>(&act)) {
      auto it = w.asap_links.find(s->assoc);
      auto l = it == w.asap_links.end() ? asap_links_.end() : asap_links_.find(it->second);
      if (l == asap_links_.end() || l->second.owner_gone || !l->second.up) {
        ++out_.asap_unsendable;
        continue;
      }
      if (std::holds_alternative<rserpool::wire::asap::EndpointUnreachable>(s->message)) ++out_.unreachable_reports;
      Packet p;
      p.control = true;
      p.payload = rserpool::wire::asap::encode(s->message);
      l->second.to_reg.send(std::move(p), now_, l->second.delay, draw_extra(), seq_++);
    } else if (std::holds_alternative<asapc::PoolResolved>(act) || std::holds_alternative<asapc::PoolUpdated>(act) ||
               std::holds_alternative<asapc::ResolutionFailed>(act)) {
      notify_watcher(g);
    }
  }
}

void World::pool_user_reads(std::size_t g, asapc::AssocId local, const rserpool::Bytes& bytes) {
  auto d = rserpool::wire::asap::decode(bytes);
  if (!d) {
    violation("undecodable ASAP message at a gateway");
    return;
  }
  asapc::Actions out;
  gws_[g].pool_user->on_registrar_message(local, d->message, now_, out);
  run_pool_user(g, out);
}

// PoolUserService's watcher: the cached list, when it changed.
void World::notify_watcher(std::size_t g) {
  Gateway& w = gws_[g];
  if (!w.alive || !w.pool_user) return;
  auto list = w.pool_user->cached_list(rserpool::PoolHandle(kPool));
  if (w.last_list && *w.last_list == list) return;
  w.last_list = list;
  publish(g, list);
}

// sgd (Gateway::Impl::check_empty_pools): a pool listing no PE is resolved
// again as soon as the co-located registrar lists some.
void World::check_empty_pool(std::size_t g, int incarnation) {
  Gateway& w = gws_[g];
  if (!w.alive || w.incarnation != incarnation) return;
  const bool empty = w.dist->membership().listed_count() == 0;
  if (empty && regs_[g].alive && regs_[g].core->handlespace().pool_size(rserpool::PoolHandle(kPool)) != 0) {
    asapc::Actions out;
    w.pool_user->watch(rserpool::PoolHandle(kPool), now_, out);
    run_pool_user(g, out);
    notify_watcher(g);
  }
  schedule_at(now_ + (empty ? kEmptyPoolPoll : 10 * kEmptyPoolPoll),
              [this, g, incarnation] { check_empty_pool(g, incarnation); });
}

// sgd (Gateway::Impl::registrar_event): the co-located registrar's events.
void World::registrar_event(std::size_t g, const rserpool::registrar::Notify& n) {
  using E = rserpool::registrar::Event;
  if (n.event != E::pe_registered && n.event != E::resync_done && n.event != E::takeover_won) return;
  Gateway& w = gws_[g];
  if (!w.alive || !w.pool_user || !w.dist || w.dist->membership().listed_count() != 0) return;
  asapc::Actions out;
  w.pool_user->watch(rserpool::PoolHandle(kPool), now_, out);
  run_pool_user(g, out);
  notify_watcher(g);
}

// Listed by some living gateway's registrar.
bool World::listed(const Controller& c) const {
  for (const auto& r : regs_)
    if (r.alive && r.core->handlespace().find(rserpool::PoolHandle(kPool), c.id)) return true;
  return false;
}

}  // namespace world
}  // namespace sg::sim::seeded
