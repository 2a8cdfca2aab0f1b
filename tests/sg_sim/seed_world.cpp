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
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <tuple>
#include <variant>

#include "mxua/fsm/actions.hpp"
#include "rserpool/wire/asap.hpp"
#include "seed_net.hpp"
#include "seed_world.hpp"
#include "sg/gwc_link/link.hpp"
#include "sg/gwc_link/profile.hpp"
#include "sg/routing/pool_distributor.hpp"
#include "sg/routing/pool_member_selector.hpp"
#include "sg/sim/gwc_call_model.hpp"
#include "sg/sim/sg_load_share.hpp"
#include "sg/sim/ss7_call_generator.hpp"
#include "sg/ss7/isup.hpp"
#include "sg/ss7/sccp.hpp"

namespace sg::sim::seeded {

Plan draw_plan(std::uint64_t seed, std::mt19937_64& rng);

namespace {

using namespace std::chrono_literals;
using rserpool::PeIdentifier;
namespace asap = rserpool::wire::asap;

constexpr PeIdentifier kFirstPe = 0x1000;
// A registrar's view changes this long after a controller's association to
// it drops (SIGKILL, exit) or after it registers.
constexpr auto kRegistrarDelay = 5ms;
// Association set-up (INIT, COOKIE) and M3UA ASPUP/ASPAC, in round trips.
constexpr int kSetupRoundTrips = 2;
constexpr int kAspRoundTrips = 2;
// M3UA T(ack) towards a controller that does not answer ASPUP.
constexpr auto kAspTimeout = 2000ms;

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0x100000001b3ULL;
}

std::uint64_t fingerprint(const MtpMessage& m) {
  std::uint64_t h = mix(mix(m.opc, m.dpc), (std::uint64_t{m.si} << 16) | (std::uint64_t{m.ni} << 8) | m.sls);
  for (auto b : m.data) h = mix(h, b);
  return h;
}

struct Assoc {
  std::uint64_t id = 0;
  std::size_t g = 0;
  PeIdentifier pe = 0;
  std::unique_ptr<gwc_link::Link> link;
  rserpool::Duration delay{};
  bool established = false;  // both kernels: the association exists
  bool gw_down = false;      // the gateway's side saw it go (or the gateway died)
  bool gateway_died = false; // ... because the gateway was killed (not a fence)
  bool ctl_down = false;     // the controller's side saw it go
  bool ctl_active = false;   // the controller answered ASPAC: it sends on it
  Pipe to_ctl, to_gw;
  std::deque<Packet> unread;  // arrived while the controller did not run
  // Arrived at a kernel whose association is gone (ABORT answers them):
  // not acknowledged, so the sender's transport hands them back.
  std::vector<Packet> rejected_to_ctl, rejected_to_gw;
  // Oldest first: what was rejected and what is still on its way, merged
  // in send order (a retransmitted message is older than what overtook it).
  static std::vector<Packet> merged(std::vector<Packet>& rejected, Pipe& pipe) {
    std::vector<Packet> all = std::move(rejected);
    rejected.clear();
    for (auto& p : pipe.take_all()) all.push_back(std::move(p));
    std::stable_sort(all.begin(), all.end(), [](const Packet& x, const Packet& y) { return x.seq < y.seq; });
    return all;
  }
  std::vector<MtpMessage> take_unsent_to_ctl() {
    std::vector<MtpMessage> back;
    for (auto& p : merged(rejected_to_ctl, to_ctl))
      if (!p.control) back.push_back(std::move(p.data));
    return back;
  }
  std::vector<Packet> take_unsent_to_gw() { return merged(rejected_to_gw, to_gw); }
};

enum class Proc : std::uint8_t { running, hung, dead };

struct Controller {
  PeIdentifier id = 0;
  std::unique_ptr<GwcCallModel> model;
  Proc proc = Proc::running;
  bool listed = true;
  std::uint16_t port = 0;
  std::uint32_t incarnation = 0;
  std::vector<std::uint64_t> assoc;  // per gateway: the association it uses (0: none)
  std::deque<MtpMessage> held;       // no association up: waits, in order
  std::size_t last_gw = SIZE_MAX;
  bool kernel_alive = true;          // exit_notice: the kernel acknowledges what the dead process never reads
  std::optional<TimePoint> fenced_until;  // a gateway fenced it; the audit bound has not passed
  std::vector<std::pair<std::uint64_t, bool>> unseen_aborts;  // cut while it was hung (and by a gateway's death)
};

struct Ledger {
  struct Entry {
    std::int64_t count = 0;
    MtpMessage sample;
  };
  std::map<std::uint64_t, Entry> entries;
  void in(const MtpMessage& m) {
    auto& e = entries[fingerprint(m)];
    if (e.count++ == 0) e.sample = m;
  }
  void out(const MtpMessage& m) { --entries[fingerprint(m)].count; }
};

struct Gateway {
  bool alive = false;
  int incarnation = 0;
  std::unique_ptr<PoolMemberSelector> selector;
  std::unique_ptr<PoolDistributor> dist;
  std::map<PeIdentifier, std::uint64_t> link_of;  // the distributor's current link per PE
  Pipe from_ss7, to_ss7;
  rserpool::Duration ss7_delay{};
  Ledger ledger;
  std::shared_ptr<gwc_link::LinkCounters> link_counters = std::make_shared<gwc_link::LinkCounters>();
  TimePoint started_at{};
};

struct CallRecord {
  std::uint32_t serial = 0;
  TimePoint started{};
  bool open = false;
  std::set<std::uint8_t> seen;  // ACM/ANM/RLC at the SS7 side
};

class World {
 public:
  World(std::uint64_t seed, const Options& o) : rng_(seed), opt_(o) {
    plan_ = draw_plan(seed, rng_);
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
    for (std::size_t i = 0; i < plan_.controllers; ++i) {
      Controller c;
      c.id = kFirstPe + 0x11 * static_cast<PeIdentifier>(i + 1);
      c.model = std::make_unique<GwcCallModel>();
      c.port = static_cast<std::uint16_t>(4000 + i);
      c.assoc.assign(plan_.gateways, 0);
      ctls_.push_back(std::move(c));
    }
    for (std::size_t g = 0; g < plan_.gateways; ++g) start_gateway(g);
    for (const auto& f : plan_.faults) schedule(f.at, [this, f] { fault(f); });
    schedule(plan_.originate_for, [this] { gen_->stop_originating(); });
  }

  Outcome run() {
    for (;;) {
      auto t = next_time();
      if (!t || *t > TimePoint{} + plan_.end) break;
      if (*t > now_) now_ = *t;
      step();
    }
    finish();
    return std::move(out_);
  }

 private:
  // --- Scheduling --------------------------------------------------------------

  void schedule(rserpool::Duration at, std::function<void()> f) { schedule_at(TimePoint{} + at, std::move(f)); }
  void schedule_at(TimePoint at, std::function<void()> f) { events_.emplace(std::make_pair(at, seq_++), std::move(f)); }

  std::optional<TimePoint> next_time() const {
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
      consider(w.from_ss7.next());
    }
    for (const auto& w : gws_) consider(w.to_ss7.next());
    for (const auto& c : ctls_)
      if (c.proc == Proc::running) consider(c.model->next_deadline());
    for (const auto& [id, a] : assocs_) {
      consider(a->to_ctl.next());
      consider(a->to_gw.next());
      if (a->link) consider(a->link->next_deadline());
    }
    return t;
  }

  void step() {
    while (!events_.empty() && events_.begin()->first.first <= now_) {
      auto f = std::move(events_.begin()->second);
      events_.erase(events_.begin());
      f();
    }
    deliver_ss7_side();
    for (auto& [id, a] : assocs_) deliver_assoc(*a);
    std::erase_if(assocs_, [](const auto& kv) {
      const Assoc& a = *kv.second;
      return a.gw_down && a.ctl_down && a.to_ctl.empty() && a.to_gw.empty() && a.unread.empty() &&
             a.rejected_to_ctl.empty() && a.rejected_to_gw.empty();
    });
    timers();
  }

  // --- Trace -------------------------------------------------------------------

  void ev(const char* what, std::uint64_t a = 0, std::uint64_t b = 0, std::uint64_t c = 0) {
    ++out_.events;
    const auto t = static_cast<std::uint64_t>((now_ - TimePoint{}).count());
    hash_ = mix(mix(mix(hash_, t), std::hash<std::string_view>{}(what)), mix(a, mix(b, c)));
    if (!opt_.trace) return;
    char buf[200];
    std::snprintf(buf, sizeof buf, "%10.3f ms  %-28s %" PRIu64 " %" PRIu64 " %" PRIu64,
                  static_cast<double>(t) / 1e6, what, a, b, c);
    out_.trace.emplace_back(buf);
  }
  static std::uint64_t tag(const MtpMessage& m) {
    if (m.si == kSiIsup) {
      if (auto h = ss7::parse_isup_header(m.data)) return (std::uint64_t{h->message_type} << 16) | h->cic;
    }
    return 0xFF0000ULL | m.sls;
  }

  void violation(const std::string& what) {
    if (out_.violations.size() < 20) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "at %.3f ms: ",
                    static_cast<double>((now_ - TimePoint{}).count()) / 1e6);
      out_.violations.push_back(buf + what);
    }
    ev("VIOLATION");
  }

  rserpool::Duration draw_delay(long lo_us, long hi_us) {
    return std::chrono::microseconds(std::uniform_int_distribution<long>(lo_us, hi_us)(rng_));
  }
  rserpool::Duration draw_extra() {
    if (plan_.retransmit_probability <= 0) return rserpool::Duration{0};
    return std::uniform_real_distribution<double>(0, 1)(rng_) < plan_.retransmit_probability ? plan_.rto
                                                                                              : rserpool::Duration{0};
  }

  // --- Exemptions (what the model says may fail) -------------------------------

  enum class Why : std::uint8_t { kernel, gateway, controller_sent, membership, ringing, gave_up };
  void expose(const MtpMessage& m, Why why) {
    if (m.si == kSiIsup) {
      if (auto h = ss7::parse_isup_header(m.data)) expose_call(h->cic, why);
    } else if (m.si == kSiSccp) {
      if (auto u = ss7::decode_udt(m.data); u && u->data.size() >= 4)
        exempt_queries_.insert(rserpool::load_u32(u->data.data()));
    }
  }
  void expose_call(std::uint16_t cic, Why why) {
    auto& rec = calls_[cic];
    if (exempt_.emplace(cic, rec.serial).second) {
      if (why == Why::membership) ++out_.exposed_by_membership;
      if (why == Why::ringing) ++out_.ringing_at_failure;
    }
    ev("exempt", cic, rec.serial, static_cast<std::uint64_t>(why));
  }
  bool exempt(std::uint16_t cic) const {
    auto it = calls_.find(cic);
    return it != calls_.end() && exempt_.count({cic, it->second.serial}) != 0;
  }
  // Every call a controller holds (from its cookie, the call table);
  // `ringing_only`: those not answered yet.
  static std::vector<std::uint16_t> calls_in(const rserpool::Bytes& cookie, bool ringing_only = false) {
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
  void expose_ringing(Controller& c) {
    for (auto cic : calls_in(c.model->make_cookie(), /*ringing_only=*/true)) expose_call(cic, Why::ringing);
  }

  // --- Gateways ----------------------------------------------------------------

  void start_gateway(std::size_t g) {
    Gateway& w = gws_[g];
    if (w.dist) accumulate(w);
    // A restarted gateway cannot know that a listed controller is hung: it
    // places new flows there (connecting) and they wait for M3UA T(ack)
    // (finding, docs/architecture.md): what it carries meanwhile may fail.
    if (w.incarnation > 0 &&
        std::any_of(ctls_.begin(), ctls_.end(), [](const Controller& c) { return c.proc == Proc::hung; }))
      hung_at_restart_ = now_;
    w.alive = true;
    ++w.incarnation;

    w.ledger = Ledger{};
    w.started_at = now_;
    w.link_of.clear();
    w.selector = std::make_unique<PoolMemberSelector>(PlacementMode::rendezvous, 0x5347u + g);
    DistributorConfig dc;
    DistributorProfile profile;
    profile.membership.audit_bound = 2s;
    profile.membership.retry_initial = 500ms;
    profile.membership.suspicion = 1500ms;
    w.dist = std::make_unique<PoolDistributor>(dc, *w.selector, profile);
    w.dist->start(now_);
    w.ss7_delay = draw_delay(200, 3000);
    ev("gateway-start", g, static_cast<std::uint64_t>(w.incarnation));
    // Its registrar lists the pool (a mentor download, or at start-up).
    schedule_at(now_ + kRegistrarDelay, [this, g, inc = w.incarnation] {
      if (gws_[g].alive && gws_[g].incarnation == inc) publish(g);
    });
    // The SS7 side's association comes up and its ASP becomes ACTIVE.
    schedule_at(now_ + 4 * w.ss7_delay + 1ms, [this, g, inc = w.incarnation] {
      if (!gws_[g].alive || gws_[g].incarnation != inc) return;
      ev("ss7-asp-active", g);
      ss7_out(ss7_->sg_active(g, now_));
      // A restarted gateway takes its SLSs back after the changeback: the
      // calls on them meet a gateway that did not place them, as at a death.
      if (gws_[g].incarnation > 1) schedule_at(now_ + 50ms, [this] { gateway_event(); });
    });
  }

  void accumulate(const Gateway& w) {
    const auto& c = w.dist->counters();
    out_.failovers += c.failovers;
    out_.cookies_echoed += c.cookies_echoed;
    out_.resent_after_failover += c.resent_after_failover;
  }

  void publish(std::size_t g) {
    Gateway& w = gws_[g];
    if (!w.alive) return;
    std::vector<rserpool::PoolElementParameter> l;
    for (const auto& c : ctls_) {
      if (!c.listed) continue;
      rserpool::PoolElementParameter p;
      p.id = c.id;
      p.user_transport.port = c.port;
      l.push_back(p);
    }
    ev("handlespace", g, l.size());
    apply(g, w.dist->handlespace(l, now_));
  }
  void publish_all() {
    for (std::size_t g = 0; g < gws_.size(); ++g) publish(g);
  }
  void relist_later() {
    schedule_at(now_ + kRegistrarDelay, [this] { publish_all(); });
  }

  Controller* controller(PeIdentifier id) {
    for (auto& c : ctls_)
      if (c.id == id) return &c;
    return nullptr;
  }
  Assoc* assoc(std::uint64_t id) {
    auto it = assocs_.find(id);
    return it == assocs_.end() ? nullptr : it->second.get();
  }

  // The distributor's actions.
  void apply(std::size_t g, std::vector<Action> actions) {
    Gateway& w = gws_[g];
    for (auto& act : actions) {
      if (!w.alive) return;
      if (auto* d = std::get_if<action::SendData>(&act)) {
        w.ledger.out(d->message);
        auto it = w.link_of.find(d->pe);
        Assoc* a = it == w.link_of.end() ? nullptr : assoc(it->second);
        if (!a || !a->link) {
          violation("SendData to a PE without a link");
          continue;
        }
        const bool kept = w.dist->state_of(d->pe) == MemberState::suspect;
        gwc_link::Actions out;
        a->link->send(std::move(d->message), out);
        run_link(*a, out, kept);
      } else if (auto* e = std::get_if<action::SendCookieEcho>(&act)) {
        auto it = w.link_of.find(e->pe);
        Assoc* a = it == w.link_of.end() ? nullptr : assoc(it->second);
        gwc_link::Actions out;
        if (!a || !a->link || !a->link->echo_cookie(asap::encode(asap::CookieEcho{e->cookie}), out)) {
          violation("COOKIE_ECHO with no active link");
          continue;
        }
        note_heir(g, e->pe, e->cookie);
        run_link(*a, out, false);
      } else if (auto* cn = std::get_if<action::Connect>(&act)) {
        connect(g, cn->pe);
      } else if (auto* f = std::get_if<action::Fence>(&act)) {
        ev("fence", g, f->pe);
        if (Controller* fc = controller(f->pe)) fc->fenced_until = now_ + 2s + 1s;  // audit bound, re-listing
        for (auto& h : heirs_) h.second.erase(f->pe);  // cut off: no longer anyone's living heir
        retire(g, f->pe, /*fence=*/true);
      } else if (auto* dc = std::get_if<action::Disconnect>(&act)) {
        ev("disconnect", g, dc->pe);
        retire(g, dc->pe, /*fence=*/false);
      } else if (auto* dr = std::get_if<action::Drop>(&act)) {
        w.ledger.out(dr->message);
        ev("drop", g, tag(dr->message), static_cast<std::uint64_t>(dr->reason));
      } else if (auto* n = std::get_if<action::News>(&act)) {
        ev("news", g, n->pe, static_cast<std::uint64_t>(n->what));
        // The pool changed (a start-up's joins are not a change).
        if (n->what != MemberNews::retrying && !(n->what == MemberNews::joined && now_ - w.started_at < 1s))
          pool_changed();
      } else if (std::holds_alternative<action::PoolUnavailable>(act)) {
        ev("pool-unavailable", g);
      } else if (std::holds_alternative<action::PoolAvailable>(act)) {
        ev("pool-available", g);
      }
    }
  }

  void retire(std::size_t g, PeIdentifier pe, bool fence) {
    Gateway& w = gws_[g];
    auto it = w.link_of.find(pe);
    if (it == w.link_of.end()) return;
    Assoc* a = assoc(it->second);
    w.link_of.erase(it);
    if (!a || !a->link) return;
    gwc_link::Actions out;
    if (fence) a->link->fence(out);
    else a->link->close(now_, out);
    run_link(*a, out, false);
  }

  void connect(std::size_t g, PeIdentifier pe) {
    Gateway& w = gws_[g];
    if (auto old = w.link_of.find(pe); old != w.link_of.end()) retire(g, pe, /*fence=*/true);
    auto a = std::make_unique<Assoc>();
    a->id = ++assoc_ids_;
    a->g = g;
    a->pe = pe;
    a->link = std::make_unique<gwc_link::Link>(w.link_counters);
    a->delay = draw_delay(200, 5000);
    const auto id = a->id;
    w.link_of[pe] = id;
    assocs_.emplace(id, std::move(a));
    ev("connect", g, pe, id);
    schedule_at(now_ + kSetupRoundTrips * 2 * assocs_.at(id)->delay, [this, id] { established(id); });
  }

  void established(std::uint64_t id) {
    Assoc* a = assoc(id);
    if (!a || a->gw_down) return;
    Controller* c = controller(a->pe);
    if (!c || !c->kernel_alive || c->proc == Proc::dead) {
      ev("connect-failed", a->g, a->pe, id);
      a->ctl_down = true;
      gw_association_down(*a, rserpool::transport::DownReason::connect_failed);
      return;
    }
    a->established = true;
    ev("association-up", a->g, a->pe, id);
    gwc_link::Actions out;
    a->link->association_up(out);
    a->link->set_outbound_streams(plan_.streams);
    run_link(*a, out, false);
    asp_start(id);
  }

  // ASPUP/ASPAC: needs the controller's process.
  void asp_start(std::uint64_t id) {
    schedule_at(now_ + kAspRoundTrips * 2 * assoc(id)->delay, [this, id] {
      Assoc* a = assoc(id);
      if (!a || a->gw_down || a->ctl_down) return;
      Controller* c = controller(a->pe);
      if (c->proc == Proc::hung) {
        // It answers when it resumes, unless T(ack) fails the request first.
        pending_asp_.insert(id);
        schedule_at(now_ + kAspTimeout, [this, id] {
          if (!pending_asp_.erase(id)) return;
          Assoc* x = assoc(id);
          if (!x || x->gw_down || !x->link) return;
          gwc_link::Actions out;
          x->link->request_failed(out);
          run_link(*x, out, false);
        });
        return;
      }
      asp_active(*a, *c);
    });
  }

  void asp_active(Assoc& a, Controller& c) {
    // The controller takes this association as its way to gateway a.g.
    a.ctl_active = true;
    c.assoc[a.g] = a.id;
    heirs_.erase(c.id);  // a new failure of it is a new event
    ev("asp-active", a.g, a.pe, a.id);
    gwc_link::Actions out;
    a.link->asp_state(mxua::AspState::Inactive, mxua::AspState::Active, gwc_link::kRoutingContext, out);
    run_link(a, out, false);
    flush_held(c);
  }

  // A gwc_link::Link's actions.
  void run_link(Assoc& a, gwc_link::Actions& actions, bool kept) {
    Gateway& w = gws_[a.g];
    for (auto& act : actions) {
      if (auto* sd = std::get_if<gwc_link::action::SendData>(&act)) {
        Packet p;
        p.stream = mxua::data_stream(sd->message.sls, plan_.streams).value_or(0);
        ev("gw-send", a.g, a.pe, tag(sd->message));
        p.data = std::move(sd->message);
        p.kept_copy = kept;
        a.to_ctl.send(std::move(p), now_, a.delay, draw_extra(), seq_++);
      } else if (auto* sc = std::get_if<gwc_link::action::SendControl>(&act)) {
        Packet p;
        p.control = true;
        p.stream = sc->message.stream;
        p.payload = std::move(sc->message.payload);
        ev("gw-cookie-echo", a.g, a.pe, p.stream);
        a.to_ctl.send(std::move(p), now_, a.delay, draw_extra(), seq_++);
      } else if (std::holds_alternative<gwc_link::action::Up>(act)) {
        if (w.alive && w.link_of.count(a.pe) && w.link_of[a.pe] == a.id) apply(a.g, w.dist->association_up(a.pe, now_));
      } else if (auto* f = std::get_if<gwc_link::action::Failed>(&act)) {
        ev("link-failed", a.g, a.pe, f->handed_back.size());
        for (auto& m : f->handed_back) w.ledger.in(m);
        if (w.link_of.count(a.pe) && w.link_of[a.pe] == a.id) w.link_of.erase(a.pe);
        apply(a.g, w.dist->association_failed(a.pe, std::move(f->handed_back), now_));
      } else if (auto* cl = std::get_if<gwc_link::action::Closed>(&act)) {
        ev("link-closed", a.g, a.pe, cl->handed_back.size());
        for (auto& m : cl->handed_back) w.ledger.in(m);
        if (w.link_of.count(a.pe) && w.link_of[a.pe] == a.id) {
          w.link_of.erase(a.pe);
          apply(a.g, w.dist->association_closed(a.pe, std::move(cl->handed_back), now_));
        } else if (!cl->handed_back.empty()) {
          apply(a.g, w.dist->handed_back(a.pe, std::move(cl->handed_back), now_));
        }
      } else if (auto* d = std::get_if<gwc_link::action::Deliver>(&act)) {
        auto verdict = w.dist->from_member(a.pe, d->message, now_);
        ev(verdict.forward ? "gw-forward" : "gw-drop-fenced", a.g, a.pe, tag(d->message));
        if (verdict.forward) w.to_ss7.send(Packet{false, d->message.sls, d->message, {}, false}, now_, w.ss7_delay,
                                           rserpool::Duration{0}, seq_++);
        apply(a.g, std::move(verdict.actions));
      } else if (auto* ck = std::get_if<gwc_link::action::CookieReceived>(&act)) {
        w.dist->cookie_received(a.pe, std::move(ck->cookie));
      } else if (std::holds_alternative<gwc_link::action::AbortAssociation>(act) ||
                 std::holds_alternative<gwc_link::action::CloseAssociation>(act)) {
        gateway_aborts(a);
      } else if (std::holds_alternative<gwc_link::action::RequestAspDown>(act)) {
        // ASPDN answered after one round trip: the link closes.
        schedule_at(now_ + 2 * a.delay, [this, id = a.id] {
          Assoc* x = assoc(id);
          if (!x || x->gw_down || !x->link) return;
          gwc_link::Actions out;
          x->link->asp_state(mxua::AspState::Active, mxua::AspState::Down, std::nullopt, out);
          run_link(*x, out, false);
        });
      } else if (auto* di = std::get_if<gwc_link::action::Discarded>(&act)) {
        ev("link-discarded", a.g, a.pe, static_cast<std::uint64_t>(di->what));
      }
    }
    actions.clear();
  }

  // The gateway aborts (or closes) the association: what had not reached
  // the controller is handed back by the transport (not acknowledged);
  // what reached a controller that did not read it is gone with the abort.
  void gateway_aborts(Assoc& a) {
    if (a.gw_down) return;
    auto back = a.take_unsent_to_ctl();
    ev("gw-abort", a.g, a.pe, back.size());
    a.link->send_failed(std::move(back));
    gw_association_down(a, rserpool::transport::DownReason::local_close);
    // What the controller had sent and we had not received: its transport
    // hands it back to the controller when it sees the abort.
    schedule_at(now_ + a.delay, [this, id = a.id] {
      if (Assoc* x = assoc(id)) controller_sees_abort(*x);
    });
  }

  void gw_association_down(Assoc& a, rserpool::transport::DownReason why) {
    if (a.gw_down) return;
    a.gw_down = true;
    if (!gws_[a.g].alive || !a.link) return;
    gwc_link::Actions out;
    a.link->association_down(why, out);
    run_link(a, out, false);
  }

  // --- Controllers ---------------------------------------------------------------

  void controller_sees_abort(Assoc& a) {
    if (a.ctl_down) return;
    Controller* c = controller(a.pe);
    a.ctl_down = true;
    auto unsent = a.take_unsent_to_gw();
    a.ctl_active = false;
    // Acknowledged by its kernel and unread: gone with the association.
    for (auto& p : a.unread)
      if (!p.control) lost_in_kernel(a, p);
    a.unread.clear();
    if (!c || c->proc == Proc::dead) {
      // Handed back to a process that is gone: lost with it.
      for (auto& p : unsent) {
        if (!p.control) expose(p.data, Why::controller_sent);
        else for (auto cic : calls_in_cookie(p)) expose_call(cic, Why::controller_sent);
      }
      return;
    }
    if (c->assoc[a.g] == a.id) c->assoc[a.g] = 0;
    if (c->last_gw == a.g) c->last_gw = SIZE_MAX;
    if (c->proc == Proc::hung) {
      c->unseen_aborts.emplace_back(a.id, a.gateway_died);
      for (auto& p : unsent)
        if (!p.control) c->held.push_back(std::move(p.data));
      return;
    }
    ev("ctl-assoc-lost", a.g, a.pe, a.id);
    lose_association(*c, a.id, a.gateway_died);
    for (auto& p : unsent)
      if (!p.control) controller_send(*c, SIZE_MAX, std::move(p.data));
  }

  // The controller sees an association end abnormally. Right after a stall
  // of its own the model takes it as a fence and gives the calls up
  // (GwcConfig::fenced_after_stall); when the gateway in fact died, those
  // calls were still its own: the model's heuristic, counted.
  void lose_association(Controller& c, std::uint64_t aid, bool gateway_died) {
    const auto before = calls_in(c.model->make_cookie());
    if (c.model->association_lost(aid, /*abnormal=*/true, now_) == 0 || !gateway_died) return;
    const auto after = calls_in(c.model->make_cookie());
    for (auto cic : before)
      if (std::find(after.begin(), after.end(), cic) == after.end()) expose_call(cic, Why::gave_up);
  }

  // Two faults within a call's lifetime (docs/gateway.md, "Calls placed
  // before a membership change"): a pool change and a gateway death, in
  // either order. The calls set up before the first may reach a controller
  // that does not hold them.
  void gateway_event() {
    last_gateway_death_ = now_;
    if (gws_.size() > 1) order_exempt_until_ = now_ + 300ms;
    // A controller fenced but still listed (hung, or not audited yet) is in
    // a restarted gateway's hash and not in its mate's: every call in
    // progress is exposed then (finding, docs/architecture.md).
    const bool fenced_but_listed = std::any_of(ctls_.begin(), ctls_.end(), [&](const Controller& c) {
      return c.listed && c.fenced_until && *c.fenced_until > now_;
    });
    for (auto& [cic, rec] : calls_)
      if (rec.open && (fenced_but_listed || rec.started <= last_pool_change_)) expose_call(cic, Why::membership);
  }
  void pool_changed() {
    last_pool_change_ = now_;
    if (!last_gateway_death_) return;
    for (auto& [cic, rec] : calls_)
      if (rec.open && rec.started <= *last_gateway_death_) expose_call(cic, Why::membership);
  }

  void lost_in_kernel(const Assoc& a, const Packet& p) {
    if (p.kept_copy && !a.gateway_died && gws_[a.g].alive) {
      // The gateway kept a copy for the heir: lost only if it dies first.
      kept_in_gateway_[a.g].push_back(p.data);
      return;
    }
    ++out_.lost_in_kernel;
    ev("lost-in-kernel", tag(p.data));
    expose(p.data, Why::kernel);
  }

  void deliver_assoc(Assoc& a) {
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

  std::vector<std::uint16_t> calls_in_echo(const Packet& p) {
    auto d = asap::decode(p.payload);
    if (!d) return {};
    auto* ck = std::get_if<asap::CookieEcho>(&d->message);
    return ck ? calls_in(ck->cookie) : std::vector<std::uint16_t>{};
  }
  std::vector<std::uint16_t> calls_in_cookie(const Packet& p) {
    auto d = asap::decode(p.payload);
    if (!d) return {};
    auto* ck = std::get_if<asap::Cookie>(&d->message);
    return ck ? calls_in(ck->cookie) : std::vector<std::uint16_t>{};
  }

  void controller_reads(Controller& c, Assoc& a, Packet p) {
    if (p.control) {
      auto d = asap::decode(p.payload);
      auto* echo = d ? std::get_if<asap::CookieEcho>(&d->message) : nullptr;
      if (!echo) {
        violation("undecodable control message at a controller");
        return;
      }
      const auto before = c.model->counters().adopted_calls;
      auto adopted = c.model->adopt_cookie(echo->cookie, now_, a.id);
      ev("ctl-adopt", c.id, adopted ? *adopted : 0, c.model->counters().adopted_calls - before);
      if (!adopted) violation("cookie rejected");
      if (adopted && *adopted > 0) table_changed(c);
      return;
    }
    const auto before = c.model->counters();
    const auto calls_before = c.model->active_calls();
    auto replies = c.model->on_message(p.data, now_, a.id);
    c.last_gw = a.g;
    const auto& after = c.model->counters();
    ev("ctl-read", c.id, tag(p.data), a.id);
    check_sls_order(c, p.data);
    if (after.unknown_call_messages != before.unknown_call_messages ||
        after.ordering_violations != before.ordering_violations) {
      auto h = ss7::parse_isup_header(p.data.data);
      const std::uint16_t cic = h ? h->cic : 0;
      if (!h || !exempt(cic)) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "controller %" PRIu32 " %s for circuit %u (message type %u)", c.id,
                      after.unknown_call_messages != before.unknown_call_messages ? "got a message for a call it does not hold"
                                                                               : "saw its circuit out of order",
                      cic, h ? h->message_type : 0U);
        violation(buf);
      } else {
        ++unknown_exempt_;
      }
    }
    if (after.calls_offered != before.calls_offered || after.calls_released != before.calls_released ||
        c.model->active_calls() != calls_before)
      table_changed(c);
    for (auto& r : replies) controller_send(c, a.g, std::move(r));
  }

  // Per-SLS order (SCCP class 1 relies on it): the SS7 side numbers its
  // queries, and each SLS carries every 16th; at a controller the numbers
  // of one SLS must rise (a kept copy may repeat the last one).
  void check_sls_order(const Controller& c, const MtpMessage& m) {
    if (m.si != kSiSccp) return;
    auto u = ss7::decode_udt(m.data);
    if (!u || u->data.size() < 4) return;
    const auto seq = rserpool::load_u32(u->data.data());
    auto& last = sls_seen_[{c.id, c.incarnation, m.sls}];
    if (last && seq < *last && now_ > order_exempt_until_) {
      violation("controller " + std::to_string(c.id) + " got SCCP query " + std::to_string(seq) + " after " +
                std::to_string(*last) + " on SLS " + std::to_string(m.sls));
    }
    if (!last || seq > *last) last = seq;
  }

  // As gwc-sim: the cookie (its call table) to every association, before
  // the replies it covers; ASAP control on stream 0.
  void table_changed(Controller& c) {
    const auto cookie = c.model->make_cookie();
    cookie_origin_[fingerprint_bytes(cookie)] = c.id;
    const auto encoded = asap::encode(asap::Cookie{cookie});
    for (std::size_t g = 0; g < gws_.size(); ++g) {
      Assoc* a = assoc(c.assoc[g]);
      if (!a || a->ctl_down || !a->ctl_active) continue;
      Packet p;
      p.control = true;
      p.stream = 0;
      p.payload = encoded;
      a->to_gw.send(std::move(p), now_, a->delay, draw_extra(), seq_++);
    }
  }

  // Back the way the call came, else any association, else it waits.
  void controller_send(Controller& c, std::size_t via, MtpMessage m) {
    if (c.held.empty()) {
      for (std::size_t choice : {via, c.last_gw}) {
        if (choice >= gws_.size()) continue;
        if (send_on(c, choice, m)) return;
      }
      for (std::size_t g = 0; g < gws_.size(); ++g)
        if (send_on(c, g, m)) return;
    }
    ev("ctl-held", c.id, tag(m));
    c.held.push_back(std::move(m));
  }
  bool send_on(Controller& c, std::size_t g, const MtpMessage& m) {
    Assoc* a = assoc(c.assoc[g]);
    if (!a || a->ctl_down || !a->ctl_active) return false;
    Packet p;
    p.stream = mxua::data_stream(m.sls, plan_.streams).value_or(0);
    p.data = m;
    ev("ctl-send", c.id, g, tag(m));
    a->to_gw.send(std::move(p), now_, a->delay, draw_extra(), seq_++);
    return true;
  }
  void flush_held(Controller& c) {
    std::deque<MtpMessage> held = std::move(c.held);
    c.held.clear();
    for (auto& m : held) controller_send(c, SIZE_MAX, std::move(m));
  }

  // --- SS7 side --------------------------------------------------------------------

  void ss7_out(std::vector<SgLoadShare::Send> sends) {
    for (auto& s : sends) {
      Gateway& w = gws_[s.sg];
      ev("ss7-send", s.sg, tag(s.message));
      w.from_ss7.send(Packet{false, s.message.sls, std::move(s.message), {}, false}, now_, w.ss7_delay,
                      rserpool::Duration{0}, seq_++);
    }
  }
  void from_generator(std::vector<MtpMessage> ms) {
    for (auto& m : ms) {
      if (m.si == kSiIsup) {
        if (auto h = ss7::parse_isup_header(m.data); h && h->message_type == static_cast<std::uint8_t>(ss7::IsupMessageType::iam)) {
          auto& rec = calls_[h->cic];
          ++rec.serial;
          rec.started = now_;
          rec.open = true;
          rec.seen.clear();
        }
      }
      ss7_out(ss7_->send(std::move(m), now_));
    }
    check_failures();
  }
  void check_failures() {
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

  void deliver_ss7_side() {
    for (std::size_t g = 0; g < gws_.size(); ++g) {
      Gateway& w = gws_[g];
      while (w.alive) {
        auto p = w.from_ss7.pop_due(now_);
        if (!p) break;
        ev("gw-accept", g, tag(p->data));
        w.ledger.in(p->data);
        apply(g, w.dist->message(std::move(p->data), now_));
      }
      while (auto p = w.to_ss7.pop_due(now_)) at_ss7(std::move(p->data));
    }
  }

  void at_ss7(MtpMessage m) {
    ev("ss7-receive", tag(m));
    if (m.si == kSiIsup) {
      if (auto h = ss7::parse_isup_header(m.data)) {
        using T = ss7::IsupMessageType;
        const auto type = static_cast<T>(h->message_type);
        auto& rec = calls_[h->cic];
        if (type == T::acm || type == T::anm || type == T::rlc) {
          if (!rec.open) {
            if (!exempt(h->cic)) violation("SS7 side: " + std::string(type == T::rlc ? "RLC" : type == T::anm ? "ANM" : "ACM") +
                                           " for no call on circuit " + std::to_string(h->cic));
          } else if (!rec.seen.insert(h->message_type).second) {
            if (!exempt(h->cic)) violation("SS7 side: duplicate " + std::to_string(h->message_type) + " on circuit " +
                                           std::to_string(h->cic));
          } else if (type == T::acm && rec.seen.count(static_cast<std::uint8_t>(T::anm))) {
            if (!exempt(h->cic)) violation("SS7 side: ACM after ANM on circuit " + std::to_string(h->cic));
          }
          if (type == T::rlc) rec.open = false;
        }
      }
    }
    const auto unexpected = gen_->stats().unexpected_messages;
    auto back = gen_->on_message(m, now_);
    if (gen_->stats().unexpected_messages != unexpected && m.si == kSiIsup) {
      auto h = ss7::parse_isup_header(m.data);
      if (h && !exempt(h->cic)) violation("SS7 side: unexpected message on circuit " + std::to_string(h->cic));
    }
    from_generator(std::move(back));
  }

  // --- Timers ----------------------------------------------------------------------

  void timers() {
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
    for (std::size_t g = 0; g < gws_.size(); ++g)
      if (gws_[g].alive) apply(g, gws_[g].dist->on_timeout(now_));
    for (auto& [id, a] : assocs_) {
      if (!a->link || a->gw_down) continue;
      if (auto d = a->link->next_deadline(); d && *d <= now_) {
        gwc_link::Actions out;
        a->link->on_timeout(now_, out);
        run_link(*a, out, false);
      }
    }
  }

  // --- One heir ---------------------------------------------------------------------

  void note_heir(std::size_t g, PeIdentifier heir, const rserpool::Bytes& cookie) {
    if (empty_table(cookie)) return;  // adopts nothing
    auto it = cookie_origin_.find(fingerprint_bytes(cookie));
    ev("cookie-echo", g, heir, it == cookie_origin_.end() ? 0 : it->second);
    if (it == cookie_origin_.end()) return;
    auto& living = heirs_[it->second];
    std::erase_if(living, [&](PeIdentifier h) {
      Controller* c = controller(h);
      return !c || c->proc == Proc::dead;
    });
    living.insert(heir);
    if (living.size() > 1) {
      violation("the cookie of controller " + std::to_string(it->second) + " went to " + std::to_string(living.size()) +
                " living heirs");
    }
  }
  // A cookie's last 8 bytes are its MAC over the call table: its identity.
  static std::uint64_t fingerprint_bytes(const rserpool::Bytes& b) {
    if (b.size() < 13) return 0;
    return (std::uint64_t{rserpool::load_u32(&b[b.size() - 8])} << 32) | rserpool::load_u32(&b[b.size() - 4]);
  }
  static bool empty_table(const rserpool::Bytes& b) { return b.size() < 5 || rserpool::load_u32(&b[1]) == 0; }

  // --- Faults ------------------------------------------------------------------------

  void fault(const Fault& f) {
    ev("FAULT", static_cast<std::uint64_t>(f.kind), f.target);
    switch (f.kind) {
      case FaultKind::controller_kill: kill_controller(ctls_[f.target], f.b); break;
      case FaultKind::controller_hang: hang_controller(ctls_[f.target], f.a); break;
      case FaultKind::controller_exit_notice: exit_controller(ctls_[f.target], f.a, f.b); break;
      case FaultKind::gateway_kill: kill_gateway(f.target, f.a); break;
    }
  }

  void kill_controller(Controller& c, rserpool::Duration rejoin) {
    if (c.proc == Proc::dead) return;
    expose_ringing(c);
    pool_changed();
    c.proc = Proc::dead;
    c.kernel_alive = false;
    for (const auto& m : c.held) expose(m, Why::controller_sent);
    c.held.clear();
    // Its kernel aborts every association: the gateways see it one delay
    // later; what they sent that had not arrived is handed back.
    for (auto& [id, a] : assocs_) {
      if (a->pe != c.id || a->ctl_down) continue;
      a->ctl_down = true;
      schedule_at(now_ + a->delay, [this, aid = id] {
        Assoc* x = assoc(aid);
        if (!x || x->gw_down) return;
        auto back = x->take_unsent_to_ctl();
        ev("abort-seen", x->g, x->pe, back.size());
        // What it sent before dying and has not arrived is gone with it.
        for (auto& p : x->take_unsent_to_gw()) {
          if (!p.control) expose(p.data, Why::controller_sent);
          else for (auto cic : calls_in_cookie(p)) expose_call(cic, Why::controller_sent);
        }
        if (!x->link) return;
        x->link->send_failed(std::move(back));
        gw_association_down(*x, rserpool::transport::DownReason::aborted);
      });
    }
    c.listed = false;
    relist_later();
    if (rejoin.count() > 0) schedule_at(now_ + rejoin, [this, id = c.id] { rejoin_controller(id); });
  }

  void rejoin_controller(PeIdentifier id) {
    Controller& c = *controller(id);
    if (c.proc != Proc::dead) return;
    ev("controller-rejoin", id);
    pool_changed();
    c.proc = Proc::running;
    c.kernel_alive = true;
    c.model = std::make_unique<GwcCallModel>();
    ++c.incarnation;
    c.assoc.assign(gws_.size(), 0);
    c.last_gw = SIZE_MAX;
    c.port = static_cast<std::uint16_t>(c.port + 100);  // registers anew
    c.listed = true;
    relist_later();
  }

  void hang_controller(Controller& c, rserpool::Duration resume_after) {
    if (c.proc != Proc::running) return;
    expose_ringing(c);
    // Its replies that wait for a gateway wait for it to run again.
    for (const auto& m : c.held) expose(m, Why::kernel);
    c.proc = Proc::hung;
    const auto hung_at = now_;
    // M3UA BEAT goes unanswered: each gateway fails its link then.
    schedule_at(hung_at + plan_.beat_detection, [this, id = c.id] {
      Controller& x = *controller(id);
      if (x.proc != Proc::hung) return;
      pool_changed();
      for (auto& [aid, a] : assocs_) {
        if (a->pe != id || a->gw_down || !a->link || !gws_[a->g].alive) continue;
        ev("beat-timeout", a->g, id, aid);
        gwc_link::Actions out;
        // The driver aborts the association; the transport then reports it down.
        // What its kernel holds unread is given up now (whatever it does
        // with it when it resumes, its answers are dropped: fenced).
        for (const auto& p : a->unread) {
          if (!p.control && !p.kept_copy) expose(p.data, Why::kernel);
          // A cookie it never adopted: the calls it carried have no holder.
          if (p.control) for (auto cic : calls_in_echo(p)) expose_call(cic, Why::kernel);
        }
        a->link->send_failed(a->take_unsent_to_ctl());
        gw_association_down(*a, rserpool::transport::DownReason::heartbeat_timeout);
        schedule_at(now_ + a->delay, [this, aid2 = aid] {
          if (Assoc* y = assoc(aid2)) controller_sees_abort(*y);
        });
      }
    });
    schedule_at(hung_at + resume_after, [this, id = c.id] { resume_controller(id); });
  }

  void resume_controller(PeIdentifier id) {
    Controller& c = *controller(id);
    if (c.proc != Proc::hung) return;
    ev("controller-resume", id);
    c.proc = Proc::running;
    // The aborts first (its socket reports them before anything else).
    for (auto [aid, died] : c.unseen_aborts) lose_association(c, aid, died);
    c.unseen_aborts.clear();
    // Then what its kernel kept for it, in order.
    for (auto& [aid, a] : assocs_) {
      if (a->pe != id) continue;
      auto unread = std::move(a->unread);
      a->unread.clear();
      for (auto& p : unread) controller_reads(c, *a, std::move(p));
    }
    for (auto aid : std::vector<std::uint64_t>(pending_asp_.begin(), pending_asp_.end())) {
      Assoc* a = assoc(aid);
      if (!a || a->pe != id) continue;
      pending_asp_.erase(aid);
      if (!a->gw_down && !a->ctl_down) asp_active(*a, c);
    }
    flush_held(c);
  }

  // The process dies; its kernel keeps the associations a while
  // (acknowledging what it will never read); the registrar notices after
  // `notice`, the gateway's link fails after `link`.
  void exit_controller(Controller& c, rserpool::Duration notice, rserpool::Duration link) {
    if (c.proc != Proc::running) return;
    expose_ringing(c);
    pool_changed();
    c.proc = Proc::dead;
    for (const auto& m : c.held) expose(m, Why::controller_sent);
    c.held.clear();
    schedule_at(now_ + notice, [this, id = c.id] {
      controller(id)->listed = false;
      publish_all();
    });
    schedule_at(now_ + link, [this, id = c.id] {
      Controller& x = *controller(id);
      x.kernel_alive = false;
      for (auto& [aid, a] : assocs_) {
        if (a->pe != id || a->ctl_down) continue;
        a->ctl_down = true;
        for (auto& p : a->unread)
          if (!p.control) lost_in_kernel(*a, p);
        a->unread.clear();
        schedule_at(now_ + a->delay, [this, aid2 = aid] {
          Assoc* y = assoc(aid2);
          if (!y || y->gw_down) return;
          auto back = y->take_unsent_to_ctl();
          for (auto& p : y->take_unsent_to_gw()) {
            if (!p.control) expose(p.data, Why::controller_sent);
            else for (auto cic : calls_in_cookie(p)) expose_call(cic, Why::controller_sent);
          }
          ev("shutdown-seen", y->g, y->pe, back.size());
          if (!y->link) return;
          y->link->send_failed(std::move(back));
          gw_association_down(*y, rserpool::transport::DownReason::peer_closed);
        });
      }
    });
  }

  // SIGKILL of a gateway: what it held is lost; its kernel aborts every
  // association; the SS7 side and the controllers get back what had not
  // reached it. `restart`: back after that long (0: stays down).
  void kill_gateway(std::size_t g, rserpool::Duration restart) {
    Gateway& w = gws_[g];
    if (!w.alive) return;
    ++out_.gateway_kills;
    gateway_event();
    for (const auto& m : kept_in_gateway_[g]) expose(m, Why::gateway);
    kept_in_gateway_[g].clear();
    for (auto& [k, e] : w.ledger.entries) {
      for (std::int64_t i = 0; i < e.count; ++i) {
        ++out_.lost_with_gateway;
        expose(e.sample, Why::gateway);
      }
    }
    accumulate(w);
    w.alive = false;
    w.dist.reset();
    w.selector.reset();
    w.link_of.clear();
    // To the SS7 side: what it had sent us and we had not received comes
    // back (one delay later, with the abort); what we had sent it and it
    // had not received by then is gone.
    const auto abort_at = now_ + w.ss7_delay;
    schedule_at(abort_at, [this, g] {
      Gateway& x = gws_[g];
      std::vector<MtpMessage> back;
      for (auto& p : x.from_ss7.take_all()) back.push_back(std::move(p.data));
      for (auto& p : x.to_ss7.take_all()) {
        ++out_.lost_with_gateway;
        expose(p.data, Why::gateway);
      }
      ev("ss7-sg-lost", g, back.size());
      ss7_out(ss7_->sg_lost(g, std::move(back), now_));
    });
    for (auto& [id, a] : assocs_) {
      if (a->g != g || a->gw_down) continue;
      a->gw_down = true;
      a->gateway_died = true;
      schedule_at(now_ + a->delay, [this, aid = id] {
        Assoc* x = assoc(aid);
        if (!x) return;
        for (auto& p : x->take_unsent_to_ctl()) {
          ++out_.lost_with_gateway;
          expose(p, Why::gateway);
        }
        controller_sees_abort(*x);
      });
    }
    if (restart.count() > 0) schedule_at(now_ + restart, [this, g] { start_gateway(g); });
  }

  // --- End of the run ----------------------------------------------------------------

  void finish() {
    check_failures();
    const auto& st = gen_->stats();
    out_.calls_started = st.calls_started;
    out_.calls_completed = st.calls_completed;
    out_.calls_failed = st.calls_failed;
    if (!gen_->idle()) violation("calls still in progress at the end: " + std::to_string(gen_->calls_in_progress()));
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
    out_.trace_hash = hash_;
  }

  Plan plan_;
  std::mt19937_64 rng_;
  Options opt_;
  Outcome out_;
  TimePoint now_{};
  std::uint64_t seq_ = 0;
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
  std::map<std::pair<TimePoint, std::uint64_t>, std::function<void()>> events_;
  std::unique_ptr<Ss7CallGenerator> gen_;
  std::unique_ptr<SgLoadShare> ss7_;
  std::vector<Gateway> gws_;
  std::vector<Controller> ctls_;
  std::map<std::uint64_t, std::unique_ptr<Assoc>> assocs_;
  std::uint64_t assoc_ids_ = 0;
  std::set<std::uint64_t> pending_asp_;
  std::map<std::uint16_t, CallRecord> calls_;
  std::set<std::pair<std::uint16_t, std::uint32_t>> exempt_;
  std::set<std::uint32_t> exempt_queries_;
  std::uint64_t unknown_exempt_ = 0;
  TimePoint last_pool_change_{};
  std::optional<TimePoint> last_gateway_death_;
  std::map<std::uint64_t, PeIdentifier> cookie_origin_;
  std::map<std::tuple<PeIdentifier, std::uint32_t, std::uint8_t>, std::optional<std::uint32_t>> sls_seen_;
  // An SLS moved to the mate when its gateway died: what the dead one had
  // in flight to a controller may arrive after what the mate sends (two
  // paths; an STP's time-controlled changeover, Q.704 5.6, would hold the
  // diverted traffic; SgLoadShare does so only at changeback). Counted.
  TimePoint order_exempt_until_{};
  std::optional<TimePoint> hung_at_restart_;
  std::map<std::size_t, std::vector<MtpMessage>> kept_in_gateway_;  // lost in a kernel, copy kept by that gateway
  std::map<PeIdentifier, std::set<PeIdentifier>> heirs_;
};

}  // namespace

Outcome run(std::uint64_t seed, const Options& options) { return World(seed, options).run(); }

std::string replay_command(std::uint64_t seed) {
  return "SG_SIM_SEED=" + std::to_string(seed) +
         " build/tests/sg_sim/sg_seed_sim_test --gtest_filter='SeededSimulation.ReplayOneSeed'"
         "   # or: build/tests/sg_sim/sg-sim-seed " + std::to_string(seed) + " --trace";
}

}  // namespace sg::sim::seeded
