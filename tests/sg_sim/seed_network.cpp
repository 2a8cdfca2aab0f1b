// The simulated network between the parties: packets on associations
// (seed_net.hpp: per-stream order, retransmission delay), what a
// kernel acknowledged and its process never read.
#include "seed_world_impl.hpp"

namespace sg::sim::seeded {
namespace world {

rserpool::Duration World::draw_delay(long lo_us, long hi_us) {
  return std::chrono::microseconds(std::uniform_int_distribution<long>(lo_us, hi_us)(rng_));
}

rserpool::Duration World::draw_extra() {
  if (plan_.retransmit_probability <= 0) return rserpool::Duration{0};
  return std::uniform_real_distribution<double>(0, 1)(rng_) < plan_.retransmit_probability ? plan_.rto
                                                                                            : rserpool::Duration{0};
}

// The SS7 association's: its own generator (the other draws stay those of
// the seeds before it lost anything), counted.
rserpool::Duration World::draw_ss7_extra() {
  if (plan_.ss7_retransmit_probability <= 0) return rserpool::Duration{0};
  if (std::uniform_real_distribution<double>(0, 1)(ss7_loss_rng_) >= plan_.ss7_retransmit_probability)
    return rserpool::Duration{0};
  ++out_.ss7_retransmissions;
  return plan_.ss7_rto;
}

void World::lost_in_kernel(const Assoc& a, const Packet& p) {
  if (p.kept_copy && !a.gateway_died && gws_[a.g].alive) {
    // The gateway kept a copy for the heir: lost only if it dies first.
    kept_in_gateway_[a.g].push_back(p.data);
    return;
  }
  ++out_.lost_in_kernel;
  ev("lost-in-kernel", tag(p.data));
  expose(p.data, Why::kernel);
}

void World::deliver_assoc(Assoc& a) {
  if (ctl_cut(a)) return;  // nothing crosses a partition
  Controller* c = controller(a.pe);
  // Gateway -> controller.
  while (auto p = a.to_ctl.pop_due(now_)) {
    if (a.ctl_down || !c) {
      a.rejected_to_ctl.push_back(std::move(*p));
      continue;
    }
    if (c->proc == Proc::dead) {
      if (!p->control) lost_in_kernel(a, *p);
      continue;
    }
    if (c->proc == Proc::hung) {
      a.unread.push_back(std::move(*p));
      continue;
    }
    controller_reads(*c, a, std::move(*p));
  }
  // Controller -> gateway.
  Gateway& w = gws_[a.g];
  while (auto p = a.to_gw.pop_due(now_)) {
    if (!w.alive || a.gw_down || !a.link) {
      if (!a.ctl_down) {
        // The controller does not know yet: handed back when it does.
        a.rejected_to_gw.push_back(std::move(*p));
        continue;
      }
      // Arrives after the association went at both ends: gone.
      if (!p->control) {
        ev("lost-from-controller", a.g, a.pe, tag(p->data));
        expose(p->data, Why::controller_sent);
      } else if (c) {
        for (auto cic : calls_in_cookie(*p)) expose_call(cic, Why::controller_sent);
      }
      continue;
    }
    gwc_link::Actions out;
    if (p->control) {
      a.link->control(gwc_link::kAsapPpid, p->payload, out);
    } else {
      a.link->data(std::move(p->data), out);
    }
    run_link(a, out, false);
  }
}

}  // namespace world

}  // namespace sg::sim::seeded
