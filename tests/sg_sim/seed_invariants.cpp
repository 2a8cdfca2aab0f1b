// The seeded world (seed_world.hpp): the executor of the cores' actions on a
// simulated network, the faults, and the bookkeeping the invariants need.
//
// What the model says may fail (each counted, each attributed to a call):
// - a message a controller's kernel acknowledged and its process never read
//   (it died with the association still up, or it hung and was cut off),
//   unless the gateway kept a copy (sent after the registrar's loss notice);
// - a message a killed gateway held, or had sent and the network had not
//   delivered when its kernel aborted;
// - a message a dying controller had sent that had not arrived when its
//   association went down (its cookie included: then its calls);
// - docs/gateway.md's bound: a call in progress when a gateway died that
//   was placed before the last membership change.
// Every other call must complete; no controller may see a message for a
// call it does not hold (unless that call is exempt); each circuit's
// messages arrive in order; the SS7 side sees no duplicate ACM/ANM/RLC;
// a failed controller's cookie has one living heir at a time; each
// gateway's accounting balances.
#include "seed_world_impl.hpp"

namespace sg::sim::seeded {
namespace world {

void World::violation(const std::string& what) {
  if (out_.violations.size() < 20) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "at %.3f ms: ",
                  static_cast<double>((now_ - TimePoint{}).count()) / 1e6);
    out_.violations.push_back(buf + what);
  }
  ev("VIOLATION");
}

void World::expose(const MtpMessage& m, Why why) {
  if (m.si == kSiIsup) {
    if (auto h = ss7::parse_isup_header(m.data)) expose_call(h->cic, why);
  } else if (m.si == kSiSccp) {
    if (auto u = ss7::decode_udt(m.data); u && u->data.size() >= 4)
      exempt_queries_.insert(rserpool::load_u32(u->data.data()));
  }
}

void World::expose_call(std::uint16_t cic, Why why) {
  auto& rec = calls_[cic];
  if (exempt_.emplace(cic, rec.serial).second) {
    if (why == Why::membership) ++out_.exposed_by_membership;
    if (why == Why::ringing) ++out_.ringing_at_failure;
  }
  ev("exempt", cic, rec.serial, static_cast<std::uint64_t>(why));
}

bool World::exempt(std::uint16_t cic) const {
  auto it = calls_.find(cic);
  return it != calls_.end() && exempt_.count({cic, it->second.serial}) != 0;
}

// Every call a controller holds (from its cookie, the call table);
// `ringing_only`: those not answered yet.
std::vector<std::uint16_t> World::calls_in(const rserpool::Bytes& cookie, bool ringing_only) {
  std::vector<std::uint16_t> out;
  rserpool::ByteReader r(cookie);
  (void)r.u8();
  const auto n = r.u32();
  for (std::uint32_t i = 0; i < n; ++i) {
    (void)r.u32();
    (void)r.u32();
    const auto cic = r.u16();
    const auto state = r.u8();
    if (!ringing_only || state != 2) out.push_back(cic);
    (void)r.u8();
    (void)r.u8();
  }
  return out;
}

// A call ringing at a controller that fails waits for the SS7 side's next
// message on its circuit: the distributor echoes the cookie to the heir
// with the flow's next message, and the SS7 side sends none before the
// answer (finding; see docs/architecture.md, "Deterministic simulation").
void World::expose_ringing(Controller& c) {
  for (auto cic : calls_in(c.model->make_cookie(), /*ringing_only=*/true)) expose_call(cic, Why::ringing);
}

// Two faults within a call's lifetime (docs/gateway.md, "Calls placed
// before a membership change"): a pool change and a gateway death, in
// either order. The calls set up before the first may reach a controller
// that does not hold them.
void World::gateway_event() {
  last_gateway_death_ = now_;
  if (gws_.size() > 1) order_exempt_until_ = now_ + 300ms;
  // A controller fenced but still listed (hung, or not audited yet) is in
  // a restarted gateway's hash and not in its mate's: every call in
  // progress is exposed then (finding, docs/architecture.md).
  const bool fenced_but_listed = std::any_of(ctls_.begin(), ctls_.end(), [&](const Controller& c) {
    return listed(c) && c.fenced_until && *c.fenced_until > now_;
  });
  for (auto& [cic, rec] : calls_)
    if (rec.open && (fenced_but_listed || rec.started <= last_pool_change_)) expose_call(cic, Why::membership);
}

void World::pool_changed() {
  last_pool_change_ = now_;
  if (!last_gateway_death_) return;
  for (auto& [cic, rec] : calls_)
    if (rec.open && rec.started <= *last_gateway_death_) expose_call(cic, Why::membership);
}

// An SCCP query whose late arrival the model allows (counted).
void World::order_exempt(const MtpMessage& m) {
  if (m.si != kSiSccp) return;
  auto u = ss7::decode_udt(m.data);
  if (!u || u->data.size() < 4) return;
  if (order_exempt_queries_.insert(rserpool::load_u32(u->data.data())).second) ++out_.reordered_after_suspicion;
}

// Per-SLS order (SCCP class 1 relies on it): the SS7 side numbers its
// queries, and each SLS carries every 16th; at a controller the numbers
// of one SLS must rise (a kept copy may repeat the last one).
void World::check_sls_order(const Controller& c, const MtpMessage& m) {
  if (m.si != kSiSccp) return;
  auto u = ss7::decode_udt(m.data);
  if (!u || u->data.size() < 4) return;
  const auto seq = rserpool::load_u32(u->data.data());
  auto& last = sls_seen_[{c.id, c.incarnation, m.sls}];
  // A query the model lets fail (sent in a pool outage) may also come
  // late: it waited in one gateway's pool-wait queue while a changeback
  // moved its SLS to the mate (finding, docs/architecture.md).
  if (last && seq < *last && now_ > order_exempt_until_ && !exempt_queries_.count(seq) &&
      !order_exempt_queries_.count(seq)) {
    violation("controller " + std::to_string(c.id) + " got SCCP query " + std::to_string(seq) + " after " +
              std::to_string(*last) + " on SLS " + std::to_string(m.sls));
  }
  if (!last || seq > *last) last = seq;
}

void World::check_failures() {
  for (auto cic : gen_->take_failed_circuits()) {
    calls_[cic].open = false;
    if (exempt(cic) || (hung_at_restart_ && calls_[cic].started + 3s >= *hung_at_restart_)) {
      ++out_.exempt_calls;
      continue;
    }
    char buf[120];
    std::snprintf(buf, sizeof buf, "call on circuit %u failed (call %u of that circuit)", cic, calls_[cic].serial);
    violation(buf);
  }
}

void World::note_heir(std::size_t g, PeIdentifier heir, const rserpool::Bytes& cookie) {
  if (empty_table(cookie)) return;  // adopts nothing
  auto it = cookie_origin_.find(fingerprint_bytes(cookie));
  ev("cookie-echo", g, heir, it == cookie_origin_.end() ? 0 : it->second);
  if (it == cookie_origin_.end()) return;
  // Per incarnation: a rejoined controller's cookies are a new holder's.
  auto& living = heirs_[{it->second, cookie_incarnation_[it->first]}];
  std::erase_if(living, [&](PeIdentifier h) {
    Controller* c = controller(h);
    return !c || c->proc == Proc::dead;
  });
  living.insert(heir);
  if (living.size() > 1 && heir_exempt_cookies_.count(fingerprint_bytes(cookie))) {
    // Its heirs died with the pool, each gateway of the pair saw the
    // deaths in its own order, and chose the next heir in the cascade
    // from its own view (finding, docs/architecture.md). Counted.
    ++out_.heirs_split_by_outage;
    ev("heirs-split-by-outage", it->second, living.size());
    return;
  }
  if (living.size() > 1) {
    violation("the cookie of controller " + std::to_string(it->second) + " went to " + std::to_string(living.size()) +
              " living heirs");
  }
}

// A cookie's last 8 bytes are its MAC over the call table: its identity.
std::uint64_t World::fingerprint_bytes(const rserpool::Bytes& b) {
  if (b.size() < 13) return 0;
  return (std::uint64_t{rserpool::load_u32(&b[b.size() - 8])} << 32) | rserpool::load_u32(&b[b.size() - 4]);
}

// The pool as it is (not as any gateway believes it): a controller whose
// process is not dead holds an association to gateway g that is up at
// both ends with its ASP ACTIVE. A hung controller counts until the
// gateway cuts it off (BEAT): the gateway cannot know before.
bool World::usable(std::size_t g) const {
  for (const auto& [id, a] : assocs_) {
    if (a->g != g || !a->established || a->gw_down || a->ctl_down || !a->ctl_active) continue;
    for (const auto& c : ctls_)
      if (c.id == a->pe && c.proc != Proc::dead) return true;
  }
  return false;
}

bool World::in_outage(TimePoint t) const {
  return std::any_of(outage_windows_.begin(), outage_windows_.end(),
                     [&](const auto& w) { return t >= w.first && t < w.second; });
}

// The SS7 side heard DUNA (available false) or DAVA for the pool's DPC
// from gateway g. A DAVA must not come from a gateway whose pool was
// empty when it sent it (RFC 4666 4.5.1: DAVA says the SG can reach the
// destination again).
void World::dpc_announced(std::size_t g, bool available) {
  Ss7Asp& asp = ss7_asps_[g];
  const PoolTruth& t = pool_truth_[g];
  if (available && !t.usable && now_ - t.last_usable > gws_[g].ss7_delay + plan_.ss7_rto + kAnnounceSlack)
    violation("the SS7 side got DAVA from gateway " + std::to_string(g) + " whose pool has been empty for " +
              std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now_ - t.last_usable).count()) +
              " ms");
  if (asp.dpc_available == available) return;
  asp.dpc_available = available;
  asp.view_since = now_;
}

// DUNA / DAVA match the pool (checked after every step): while the SS7
// side's ASP towards a living gateway is ACTIVE, the pool's DPC is
// - unavailable (DUNA) once the pool has been empty for pool-wait plus
//   the announcement's lag: the gateway must not leave the SS7 side
//   sending into a void;
// - available (DAVA) once the pool has had a usable controller for the
//   announcement's lag: a DUNA must not outlive the outage.
void World::check_destination_state() {
  for (std::size_t g = 0; g < gws_.size(); ++g) {
    PoolTruth& t = pool_truth_[g];
    const bool u = gws_[g].alive && usable(g);
    if (u != t.usable) {
      t.usable = u;
      t.since = now_;
    }
    if (u) t.last_usable = now_;
    const Gateway& w = gws_[g];
    const Ss7Asp& asp = ss7_asps_[g];
    if (!w.alive || !asp.active || ss7_cut(g)) continue;
    const auto lag = 2 * w.ss7_delay + plan_.ss7_rto + kAnnounceSlack;
    // Measured from when all held: the pool's state, the ASP's activity
    // and an open path between them.
    const auto since = std::max(std::max(t.since, asp.view_since), w.ss7_healed_at);
    if (!u && asp.dpc_available && now_ - since > w.dist->config().pool_wait + lag && !dpc_reported_[g]) {
      dpc_reported_[g] = true;
      violation("gateway " + std::to_string(g) + "'s pool has been empty for " +
                std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now_ - t.since).count()) +
                " ms and the SS7 side had no DUNA");
    }
    if (u && !asp.dpc_available && now_ - since > lag && !dpc_reported_[g]) {
      dpc_reported_[g] = true;
      violation("gateway " + std::to_string(g) + "'s pool has had a controller for " +
                std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now_ - t.since).count()) +
                " ms and the SS7 side still holds its DUNA");
    }
  }
}

void World::finish() {
  check_failures();
  const auto& st = gen_->stats();
  out_.calls_started = st.calls_started;
  out_.calls_completed = st.calls_completed;
  out_.calls_failed = st.calls_failed;
  // A call the model lets fail may still be in its timeouts at the end
  // (started late in a pool outage: answer, then release timeout).
  std::size_t open_not_exempt = 0;
  for (const auto& [cic, rec] : calls_)
    if (rec.open && !exempt(cic)) ++open_not_exempt;
  if (!gen_->idle() && open_not_exempt > 0)
    violation("calls still in progress at the end: " + std::to_string(gen_->calls_in_progress()) + ", " +
              std::to_string(open_not_exempt) + " not exempt");
  const auto lost_queries = st.sccp_sent - st.sccp_answered;
  if (lost_queries > exempt_queries_.size() && !hung_at_restart_)
    violation(std::to_string(lost_queries) + " SCCP queries unanswered, " + std::to_string(exempt_queries_.size()) +
              " exempt");
  for (auto& c : ctls_)
    if (c.proc == Proc::running && !c.held.empty())
      violation("controller " + std::to_string(c.id) + " still holds " + std::to_string(c.held.size()) + " message(s)");
  for (std::size_t g = 0; g < gws_.size(); ++g) {
    Gateway& w = gws_[g];
    if (!w.alive) continue;
    accumulate(w);
    // Accounting: everything this incarnation accepted (or got back) has
    // left it: sent, or dropped with a counted reason.
    std::int64_t held = 0;
    for (auto& [k, e] : w.ledger.entries)
      if (e.count > 0) held += e.count;
    std::size_t queued = w.dist->pool_wait_depth();
    for (auto pe : w.dist->members()) queued += w.dist->queue_depth(pe);
    if (held != 0 || queued != 0)
      violation("gateway " + std::to_string(g) + ": " + std::to_string(held) + " accepted message(s) neither sent nor dropped, " +
                std::to_string(queued) + " still queued");
    std::uint64_t drops = 0;
    for (std::size_t r = 0; r < kDropReasons; ++r) drops += w.dist->counters().drops[r];
    (void)drops;
  }
  for (const auto& r : regs_)
    if (r.alive && r.core->mentor_download().state == rserpool::registrar::MentorDownload::State::done)
      ++out_.mentor_downloads;
  out_.trace_hash = hash_;
}

}  // namespace world

}  // namespace sg::sim::seeded
