// The seeded world (seed_world.hpp): the run loop, scheduling, the trace
// and the cores' timers. The parties live in their own files
// (seed_world_impl.hpp lists them).
#include "seed_world_impl.hpp"

namespace sg::sim::seeded {
namespace world {

World::World(std::uint64_t seed, const Options& o) : rng_(seed), opt_(o) {
  plan_ = draw_plan(seed, rng_);
  ss7_loss_rng_.seed(seed ^ 0x7373376c6f737301ULL);
  out_.plan = plan_;
  GeneratorConfig gc;
  gc.calls_per_second = plan_.calls_per_second;
  gc.sccp_per_second = plan_.sccp_per_second;
  gc.hold_time = std::chrono::duration_cast<std::chrono::milliseconds>(plan_.hold_time);
  gc.answer_timeout = 3s;
  gc.release_timeout = 3s;
  gc.record_failures = true;
  // Calls start once the SS7 side's associations are up (a pair's SLSs
  // would otherwise move at the changeback, like a gateway's death).
  gen_ = std::make_unique<Ss7CallGenerator>(gc, TimePoint{} + 50ms);
  SgLoadShareConfig lc;
  lc.sgs = plan_.gateways;
  lc.max_wait = 2000ms;
  lc.changeback = 50ms;
  ss7_ = std::make_unique<SgLoadShare>(lc);
  gws_.resize(plan_.gateways);
  // The SS7 side's ASP towards each gateway: ASPAC for the one routing
  // context, loadshare; T(ack) as an STP's default.
  ss7_asps_.resize(plan_.gateways);
  for (auto& asp : ss7_asps_) {
    mxua::AspClientConfig ac;
    ac.activations = {mxua::AspActivation{{kRc}, mxua::TrafficMode::Loadshare}};
    ac.outbound_streams = kSs7Streams;
    asp.client = std::make_unique<mxua::AspClient>(ac);
  }
  for (std::size_t i = 0; i < plan_.controllers; ++i) {
    Controller c;
    c.id = kFirstPe + 0x11 * static_cast<PeIdentifier>(i + 1);
    c.model = std::make_unique<GwcCallModel>();
    c.port = static_cast<std::uint16_t>(4000 + i);
    c.assoc.assign(plan_.gateways, 0);
    c.cut_until.assign(plan_.gateways, std::nullopt);
    c.relink_after_cut.assign(plan_.gateways, false);
    ctls_.push_back(std::move(c));
  }
  regs_.resize(plan_.gateways);
  view_reported_.assign(plan_.gateways, false);
  view_checked_for_.assign(plan_.gateways, TimePoint::max());
  enrp_.delay = draw_delay(200, 3000);
  pool_truth_.resize(plan_.gateways);
  dpc_reported_.assign(plan_.gateways, false);
  for (const auto& f : plan_.faults)
    if (f.kind == FaultKind::pool_outage)
      outage_windows_.emplace_back(TimePoint{} + f.at - 500ms, TimePoint{} + f.at + f.a + kOutageSettle);
  for (std::size_t g = 0; g < plan_.gateways; ++g) start_gateway(g);
  // The controllers register with the registrars (ASAP).
  for (auto& c : ctls_) start_pe(c);
  for (const auto& f : plan_.faults) schedule(f.at, [this, f] { fault(f); });
  schedule(plan_.originate_for, [this] { gen_->stop_originating(); });
}

Outcome World::run() {
  for (;;) {
    auto t = next_time();
    if (!t || *t > TimePoint{} + plan_.end) break;
    if (*t > now_) now_ = *t;
    step();
  }
  finish();
  return std::move(out_);
}

std::optional<TimePoint> World::next_time() const {
  std::optional<TimePoint> t;
  auto consider = [&](std::optional<TimePoint> x) {
    if (x && (!t || *x < *t)) t = x;
  };
  if (!events_.empty()) consider(events_.begin()->first.first);
  consider(gen_->next_deadline());
  consider(ss7_->next_deadline());
  for (const auto& w : gws_) {
    if (!w.alive) continue;
    consider(w.dist->next_deadline());
    consider(w.sgp->next_deadline());
  }
  for (const auto& asp : ss7_asps_) consider(asp.client->next_deadline());
  for (std::size_t g = 0; g < gws_.size(); ++g) {
    if (ss7_cut(g)) continue;  // what waits at a partition moves when it heals (an event)
    if (gws_[g].alive) consider(gws_[g].from_ss7.next());
    consider(gws_[g].to_ss7.next());
  }
  for (const auto& c : ctls_)
    if (c.proc == Proc::running) {
      consider(c.model->next_deadline());
      if (c.pe) consider(c.pe->next_deadline());
    }
  for (const auto& r : regs_)
    if (r.alive) {
      consider(r.core->next_deadline());
      consider(r.directory->next_deadline());
    }
  for (const auto& w : gws_)
    if (w.alive && w.pool_user) consider(w.pool_user->next_deadline());
  for (const auto& [id, l] : asap_links_) {
    consider(l.to_reg.next());
    consider(l.to_owner.next());
  }
  if (!enrp_.cut_until)
    for (const auto& [id, l] : enrp_.links)
      for (const auto& pipe : l.to) consider(pipe.next());
  for (const auto& [id, a] : assocs_) {
    if (!ctl_cut(*a)) {  // what waits at a partition moves when it heals (an event)
      consider(a->to_ctl.next());
      consider(a->to_gw.next());
    }
    if (a->link) consider(a->link->next_deadline());
  }
  return t;
}

void World::step() {
  while (!events_.empty() && events_.begin()->first.first <= now_) {
    auto f = std::move(events_.begin()->second);
    events_.erase(events_.begin());
    f();
  }
  deliver_ss7_side();
  deliver_enrp();
  deliver_asap();
  for (auto& [id, a] : assocs_) deliver_assoc(*a);
  std::erase_if(assocs_, [](const auto& kv) {
    const Assoc& a = *kv.second;
    return a.gw_down && a.ctl_down && a.to_ctl.empty() && a.to_gw.empty() && a.unread.empty() &&
           a.rejected_to_ctl.empty() && a.rejected_to_gw.empty();
  });
  timers();
  track_enrp_whole();
  check_destination_state();
  check_convergence();
}

void World::ev(const char* what, std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  ++out_.events;
  const auto t = static_cast<std::uint64_t>((now_ - TimePoint{}).count());
  hash_ = mix(mix(mix(hash_, t), std::hash<std::string_view>{}(what)), mix(a, mix(b, c)));
  if (!opt_.trace) return;
  char buf[200];
  std::snprintf(buf, sizeof buf, "%10.3f ms  %-28s %" PRIu64 " %" PRIu64 " %" PRIu64,
                static_cast<double>(t) / 1e6, what, a, b, c);
  out_.trace.emplace_back(buf);
}

std::uint64_t World::tag(const MtpMessage& m) {
  if (m.si == kSiIsup) {
    if (auto h = ss7::parse_isup_header(m.data)) return (std::uint64_t{h->message_type} << 16) | h->cic;
  }
  return 0xFF0000ULL | m.sls;
}

Assoc* World::assoc(std::uint64_t id) {
  auto it = assocs_.find(id);
  return it == assocs_.end() ? nullptr : it->second.get();
}

void World::timers() {
  from_generator(gen_->on_timeout(now_));
  ss7_out(ss7_->on_timeout(now_));
  for (auto& c : ctls_) {
    if (c.proc != Proc::running) continue;
    auto answers = c.model->on_timeout(now_);
    if (answers.empty()) continue;
    table_changed(c);
    for (auto& m : answers) {
      const auto via = c.model->via_of(m);
      std::size_t g = SIZE_MAX;
      if (via)
        if (Assoc* a = assoc(*via)) g = a->g;
      controller_send(c, g, std::move(m));
    }
  }
  for (std::size_t g = 0; g < regs_.size(); ++g) {
    if (regs_[g].alive)
      if (auto d = regs_[g].core->next_deadline(); d && *d <= now_) run_registrar(g, regs_[g].core->on_timeout(now_));
    if (regs_[g].alive)
      if (auto d = regs_[g].directory->next_deadline(); d && *d <= now_)
        run_directory(g, regs_[g].directory->on_timeout(now_));
  }
  for (auto& c : ctls_) {
    if (c.proc != Proc::running || !c.pe) continue;
    if (auto d = c.pe->next_deadline(); d && *d <= now_) {
      rserpool::asap::Actions out;
      c.pe->on_timeout(now_, out);
      run_pe(c, out);
    }
  }
  for (std::size_t g = 0; g < gws_.size(); ++g) {
    Gateway& w = gws_[g];
    if (!w.alive || !w.pool_user) continue;
    if (auto d = w.pool_user->next_deadline(); d && *d <= now_) {
      rserpool::asap::Actions out;
      w.pool_user->on_timeout(now_, out);
      run_pool_user(g, out);
    }
  }
  for (std::size_t g = 0; g < gws_.size(); ++g)
    if (gws_[g].alive) apply(g, gws_[g].dist->on_timeout(now_));
  for (std::size_t g = 0; g < gws_.size(); ++g) {
    if (!gws_[g].alive) continue;
    if (auto d = gws_[g].sgp->next_deadline(); d && *d <= now_) run_sgp(g, gws_[g].sgp->on_timeout(now_));
  }
  for (std::size_t g = 0; g < ss7_asps_.size(); ++g)
    if (auto d = ss7_asps_[g].client->next_deadline(); d && *d <= now_) run_asp(g, ss7_asps_[g].client->on_timeout(now_));
  for (auto& [id, a] : assocs_) {
    if (!a->link || a->gw_down) continue;
    if (auto d = a->link->next_deadline(); d && *d <= now_) {
      gwc_link::Actions out;
      a->link->on_timeout(now_, out);
      run_link(*a, out, false);
    }
  }
}

}  // namespace world

Outcome run(std::uint64_t seed, const Options& options) { return world::World(seed, options).run(); }

std::string replay_command(std::uint64_t seed) {
  return "SG_SIM_SEED=" + std::to_string(seed) +
         " build/tests/sg_sim/sg_seed_sim_test --gtest_filter='SeededSimulation.ReplayOneSeed'"
         "   # or: build/tests/sg_sim/sg-sim-seed " + std::to_string(seed) + " --trace";
}

}  // namespace sg::sim::seeded
