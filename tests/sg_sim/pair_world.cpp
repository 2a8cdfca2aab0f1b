#include "pair_world.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <variant>

#include "sg/routing/pool_member_selector.hpp"
#include "sg/routing/rendezvous.hpp"
#include "sg/sim/sg_load_share.hpp"

namespace sg::sim::pair {
namespace {

using rserpool::PeIdentifier;

// One-way delay of every association.
constexpr auto kDelay = 1ms;
// How long an association takes to come up (connect, M3UA ASPUP/ASPAC).
constexpr auto kConnect = 3ms;
// A killed process's kernel aborts its associations: the peers see it then.
constexpr auto kAbortSeen = 1ms;

struct InFlight {
  std::variant<rserpool::Bytes, MtpMessage> item;  // cookie echo or data
  TimePoint arrives;
};

struct Gateway {
  std::unique_ptr<PoolMemberSelector> selector;
  std::unique_ptr<PoolDistributor> distributor;
  bool alive = false;
  std::optional<TimePoint> killed_at;
  std::optional<TimePoint> restarted_at;
  std::deque<InFlight> from_ss7;  // SS7 side -> gateway
  std::deque<std::pair<MtpMessage, TimePoint>> to_ss7;
};

struct Controller {
  GwcCallModel model;
  bool alive = true;
  // Per gateway: association state and what is in flight each way.
  struct Assoc {
    bool up = false;
    std::optional<TimePoint> comes_up;
    std::deque<InFlight> from_sg;
    std::deque<std::pair<MtpMessage, TimePoint>> to_sg;
  };
  std::vector<Assoc> assoc;
  int last_link = -1;  // the gateway that carried data here last (answers go back there)
  std::deque<MtpMessage> held;  // no gateway association up: waits, in order
};

class World {
 public:
  explicit World(const Scenario& s)
      : s_(s), gen_(config(s), TimePoint{}), ss7_(ss7_config(s)) {
    gws_.resize(static_cast<std::size_t>(s.gateways));
    for (auto id : s.controllers) add_controller(id);
    listed_ = std::set<PeIdentifier>(s.controllers.begin(), s.controllers.end());
    for (int g = 0; g < s.gateways; ++g) start_gateway(g, /*restart=*/false);
    // At start, both views are whole and every association is up.
    for (int g = 0; g < s.gateways; ++g) {
      publish(g);
      for (auto& [id, c] : pes_) complete_connect(g, id);
      ss7_out(ss7_.sg_active(static_cast<std::size_t>(g), now_));
      apply(g, gw(g).distributor->on_timeout(now_ + s.placement_settle));
    }
  }

  Result run() {
    const auto end = TimePoint{} + s_.end;
    for (now_ = TimePoint{}; now_ < end; now_ += 1ms) {
      faults();
      deliver();
      timers();
    }
    return finish();
  }

 private:
  static GeneratorConfig config(const Scenario& s) {
    GeneratorConfig g;
    g.calls_per_second = s.calls_per_second;
    g.sccp_per_second = s.sccp_per_second;
    g.hold_time = s.hold_time;
    g.answer_timeout = 3s;
    g.release_timeout = 3s;
    return g;
  }
  // The SS7 side holds its traffic (2 s at most) while no gateway is
  // reachable, as an STP's controlled rerouting does.
  static SgLoadShareConfig ss7_config(const Scenario& s) {
    SgLoadShareConfig c;
    c.sgs = static_cast<std::size_t>(s.gateways);
    c.max_wait = 2000ms;
    c.changeback = 50ms;
    return c;
  }
  Gateway& gw(int g) { return gws_[static_cast<std::size_t>(g)]; }
  Controller::Assoc& assoc(Controller& c, int g) { return c.assoc[static_cast<std::size_t>(g)]; }
  TimePoint at(ms t) const { return TimePoint{} + t; }

  void add_controller(PeIdentifier id) {
    Controller& c = pes_[id];
    c.assoc.resize(static_cast<std::size_t>(s_.gateways));
  }

  void start_gateway(int g, bool restart) {
    Gateway& w = gw(g);
    w.selector = std::make_unique<PoolMemberSelector>(s_.placement, 0x5347u + static_cast<std::uint64_t>(g));
    DistributorConfig dc;
    dc.placement = s_.placement;
    dc.placement_settle = s_.placement_settle;
    DistributorProfile profile;
    profile.membership.audit_bound = 2s;
    profile.membership.retry_initial = 500ms;
    w.distributor = std::make_unique<PoolDistributor>(dc, *w.selector, profile);
    w.distributor->start(now_);
    w.alive = true;
    if (restart) w.restarted_at = now_;
  }

  // The gateway's registrar view: every PE listed (or the first n).
  void publish(int g, std::optional<std::size_t> first_n = std::nullopt) {
    std::vector<rserpool::PoolElementParameter> l;
    for (auto id : listed_) {
      if (first_n && l.size() >= *first_n) break;
      rserpool::PoolElementParameter p;
      p.id = id;
      p.user_transport.port = static_cast<std::uint16_t>(4000 + id);
      l.push_back(p);
    }
    apply(g, gw(g).distributor->handlespace(l, now_));
  }

  void complete_connect(int g, PeIdentifier id) {
    Controller& c = pes_.at(id);
    if (!c.alive || !gw(g).alive) return;
    auto& a = assoc(c, g);
    a.comes_up.reset();
    if (a.up) return;
    a.up = true;
    apply(g, gw(g).distributor->association_up(id, now_));
    // What waited for an SG association leaves now, in order.
    while (!c.held.empty()) {
      a.to_sg.emplace_back(std::move(c.held.front()), now_ + kDelay);
      c.held.pop_front();
    }
  }

  // --- Faults -------------------------------------------------------------------

  void faults() {
    if (s_.join_at && now_ == at(*s_.join_at)) {
      add_controller(s_.joiner);
      listed_.insert(s_.joiner);
      for (int g = 0; g < s_.gateways; ++g)
        if (gw(g).alive) publish(g);
    }
    if (s_.controller_dies_at && now_ == at(*s_.controller_dies_at)) kill_controller(s_.dying_controller);
    if (s_.one_sided_fence_at && now_ == at(*s_.one_sided_fence_at)) fence_one_sided();
    if (s_.kill_at && now_ == at(*s_.kill_at)) kill_gateway(s_.victim);
    if (s_.kill_at && s_.restart_after && now_ == at(*s_.kill_at + *s_.restart_after)) {
      start_gateway(s_.victim, /*restart=*/true);
      relist_step_ = 0;
    }
    if (auto& w = gw(s_.victim); w.restarted_at) {
      // Its view of the pool grows as its registrar learns the PEs.
      for (std::size_t i = relist_step_; i < listed_.size(); ++i) {
        const auto due = *w.restarted_at + s_.relist_first + static_cast<long>(i) * s_.relist_spread;
        if (now_ != due) continue;
        relist_step_ = i + 1;
        publish(s_.victim, relist_step_);
      }
      if (now_ == *w.restarted_at + s_.ss7_reconnect) ss7_out(ss7_.sg_active(static_cast<std::size_t>(s_.victim), now_));
    }
    for (auto& [id, c] : pes_)
      for (int g = 0; g < s_.gateways; ++g)
        if (auto& a = assoc(c, g); a.comes_up && *a.comes_up <= now_) complete_connect(g, id);
  }

  void kill_gateway(int g) {
    Gateway& w = gw(g);

    if (s_.gateways > 1) measure_exposure(g);
    w.alive = false;
    w.killed_at = now_;
    w.distributor.reset();
    w.selector.reset();
    // Its kernel delivers what it had written towards the controllers and
    // the SS7 side, and aborts its associations: the peers see that a
    // moment later, and their transports hand back what did not reach it.
    lost_at_.emplace_back(g, now_ + kAbortSeen);
  }

  void kill_controller(PeIdentifier id) {
    Controller& c = pes_.at(id);
    c.alive = false;
    listed_.erase(id);
    for (int g = 0; g < s_.gateways; ++g) {
      auto& a = assoc(c, g);
      if (!gw(g).alive || !a.up) continue;
      a.up = false;
      // What it had not read is handed back to the gateway.
      std::vector<MtpMessage> back;
      for (auto& f : a.from_sg)
        if (auto* m = std::get_if<MtpMessage>(&f.item)) back.push_back(*m);
      a.from_sg.clear();
      apply(g, gw(g).distributor->association_failed(id, std::move(back), now_));
      publish(g);
    }
  }

  // The fencing gateway's link to the controller fails (BEAT): what the
  // controller had not read yet from it is handed back; the controller
  // sees the abort (not after a stall of its own: it keeps the calls).
  void fence_one_sided() {
    const int g = s_.fencing_gateway;
    const auto id = s_.fenced_controller;
    Controller& c = pes_.at(id);
    auto& a = assoc(c, g);
    if (!gw(g).alive || !a.up) return;
    a.up = false;
    std::vector<MtpMessage> back;
    for (auto& f : a.from_sg)
      if (auto* m = std::get_if<MtpMessage>(&f.item)) back.push_back(*m);
    a.from_sg.clear();
    if (c.last_link == g) c.last_link = -1;
    for (auto& [m, t] : a.to_sg) controller_send(id, c, -1, std::move(m));
    a.to_sg.clear();
    (void)c.model.association_lost(static_cast<std::uint64_t>(g + 1), /*abnormal=*/true, now_);
    apply(g, gw(g).distributor->association_failed(id, std::move(back), now_));
  }

  // Calls in progress at the kill, and those the survivor would hash to a
  // controller other than the one holding them (membership changed since
  // they were placed).
  void measure_exposure(int victim) {
    static const rserpool::PolicyParameters kRoundRobin{};
    std::vector<Candidate> candidates;
    for (auto id : listed_) candidates.push_back(Candidate{id, &kRoundRobin, 0});
    const auto cfg = config(s_);
    for (auto& [id, c] : pes_) {
      if (!c.alive) continue;
      for (const auto& cic : calls_of(id)) {
        // The victim carried the circuits of its SLSs.
        if (static_cast<int>(cic & 0x0F) % s_.gateways != victim) continue;
        ++calls_in_progress_at_kill_;
        FlowKey k;
        k.opc = std::min(cfg.opc, cfg.dpc);
        k.dpc = std::max(cfg.opc, cfg.dpc);
        k.si = kSiIsup;
        k.circuit = true;
        k.selector = cic;
        if (!candidates.empty() && rendezvous_pick(rendezvous_key(k), candidates) != id) ++exposed_at_kill_;
      }
    }
  }
  std::vector<std::uint16_t> calls_of(PeIdentifier id) {
    std::vector<std::uint16_t> out;
    const auto cookie = pes_.at(id).model.make_cookie();
    // The cookie is the call table: 1 + 4 bytes, then 13 per call.
    rserpool::ByteReader r(cookie);
    (void)r.u8();
    const auto n = r.u32();
    for (std::uint32_t i = 0; i < n; ++i) {
      (void)r.u32();
      (void)r.u32();
      out.push_back(r.u16());
      (void)r.u8();
      (void)r.u8();
      (void)r.u8();
    }
    return out;
  }

  // --- Delivery -------------------------------------------------------------------

  void deliver() {
    // Aborts reach the peers of a killed gateway.
    for (auto it = lost_at_.begin(); it != lost_at_.end();) {
      if (it->second > now_) {
        ++it;
        continue;
      }
      const int g = it->first;
      // The SS7 side moves the dead gateway's SLSs to its mate (M3UA ASP
      // failover), starting with what the transport handed back.
      Gateway& w = gw(g);
      std::vector<MtpMessage> back_to_ss7;
      for (auto& f : w.from_ss7) back_to_ss7.push_back(std::get<MtpMessage>(std::move(f.item)));
      w.from_ss7.clear();
      handed_back_to_ss7_ += back_to_ss7.size();
      ss7_out(ss7_.sg_lost(static_cast<std::size_t>(g), std::move(back_to_ss7), now_));
      for (auto& [id, c] : pes_) {
        auto& a = assoc(c, g);
        if (!a.up) continue;
        a.up = false;
        if (c.last_link == g) c.last_link = -1;
        // What it sent towards the dead gateway comes back: re-sent elsewhere.
        std::vector<MtpMessage> back;
        for (auto& [m, t] : a.to_sg) back.push_back(std::move(m));
        a.to_sg.clear();
        handed_back_to_controllers_ += back.size();
        if (c.alive) {
          (void)c.model.association_lost(static_cast<std::uint64_t>(g + 1), /*abnormal=*/true, now_);
          for (auto& m : back) controller_send(id, c, -1, std::move(m));
        }
      }
      it = lost_at_.erase(it);
    }
    // SS7 side -> gateways.
    for (int g = 0; g < s_.gateways; ++g) {
      Gateway& w = gw(g);
      // (A dead gateway's input waits for the abort to reach the sender.)
      while (w.alive && !w.from_ss7.empty() && w.from_ss7.front().arrives <= now_) {
        auto m = std::get<MtpMessage>(std::move(w.from_ss7.front().item));
        w.from_ss7.pop_front();
        apply(g, w.distributor->message(std::move(m), now_));
      }
    }
    // Gateways -> controllers.
    for (auto& [id, c] : pes_) {
      for (int g = 0; g < s_.gateways; ++g) {
        auto& a = assoc(c, g);
        while (c.alive && !a.from_sg.empty() && a.from_sg.front().arrives <= now_) {
          auto item = std::move(a.from_sg.front().item);
          a.from_sg.pop_front();
          const auto via = static_cast<std::uint64_t>(g + 1);
          if (auto* cookie = std::get_if<rserpool::Bytes>(&item)) {
            (void)c.model.adopt_cookie(*cookie, now_, via);
            send_cookie(id, c);
            continue;
          }
          const auto before = c.model.counters();
          auto replies = c.model.on_message(std::get<MtpMessage>(item), now_, via);
          c.last_link = g;
          if (c.model.counters().calls_offered != before.calls_offered ||
              c.model.counters().calls_released != before.calls_released)
            send_cookie(id, c);
          for (auto& r : replies) controller_send(id, c, g, std::move(r));
        }
      }
    }
    // Controllers -> gateways.
    for (auto& [id, c] : pes_) {
      for (int g = 0; g < s_.gateways; ++g) {
        auto& a = assoc(c, g);
        Gateway& w = gw(g);
        // (What reaches a dead gateway is handed back when its abort arrives.)
        while (w.alive && !a.to_sg.empty() && a.to_sg.front().second <= now_) {
          MtpMessage m = std::move(a.to_sg.front().first);
          a.to_sg.pop_front();
          auto verdict = w.distributor->from_member(id, m, now_);
          apply(g, std::move(verdict.actions));
          if (!verdict.forward) continue;
          if (w.restarted_at && !first_reply_ && m.si == kSiIsup)
            first_reply_ = now_ - *w.restarted_at;
          w.to_ss7.emplace_back(std::move(m), now_ + kDelay);
        }
      }
    }
    // Gateways -> SS7 side.
    for (int g = 0; g < s_.gateways; ++g) {
      Gateway& w = gw(g);
      while (!w.to_ss7.empty() && w.to_ss7.front().second <= now_) {
        MtpMessage m = std::move(w.to_ss7.front().first);
        w.to_ss7.pop_front();
        count_duplicates(m);
        for (auto& back : gen_.on_message(m, now_)) ss7_send(std::move(back));
      }
    }
  }

  void count_duplicates(const MtpMessage& m) {
    if (m.si != kSiIsup) return;
    auto h = ss7::parse_isup_header(m.data);
    if (!h) return;
    using T = ss7::IsupMessageType;
    auto& seen = phases_[h->cic];
    const auto type = static_cast<T>(h->message_type);
    if (type == T::acm || type == T::anm || type == T::rlc) {
      if (!seen.insert(h->message_type).second) ++duplicates_;
    }
    if (type == T::rlc) phases_.erase(h->cic);
  }

  void send_cookie(PeIdentifier id, Controller& c) {
    const auto cookie = c.model.make_cookie();
    for (int g = 0; g < s_.gateways; ++g)
      if (assoc(c, g).up && gw(g).alive) gw(g).distributor->cookie_received(id, cookie);
  }

  // A controller sends towards the SS7 side: on association `g` (the one
  // the message answers), else the one that carried data last, else any,
  // else it waits for one.
  void controller_send(PeIdentifier /*id*/, Controller& c, int g, MtpMessage m) {
    if (!c.held.empty()) {
      c.held.push_back(std::move(m));
      return;
    }
    for (int choice : {g, c.last_link}) {
      if (choice >= 0 && assoc(c, choice).up) {
        assoc(c, choice).to_sg.emplace_back(std::move(m), now_ + kDelay);
        return;
      }
    }
    for (int other = 0; other < s_.gateways; ++other) {
      if (assoc(c, other).up) {
        assoc(c, other).to_sg.emplace_back(std::move(m), now_ + kDelay);
        return;
      }
    }
    c.held.push_back(std::move(m));
  }

  // The SS7 side: SLS load sharing over the gateways whose ASP is active
  // (SgLoadShare, as ss7-gen --pair does).
  void ss7_send(MtpMessage m) { ss7_out(ss7_.send(std::move(m), now_)); }
  void ss7_out(std::vector<SgLoadShare::Send> sends) {
    for (auto& s : sends) gw(static_cast<int>(s.sg)).from_ss7.push_back(InFlight{std::move(s.message), now_ + kDelay});
  }

  // --- Timers -------------------------------------------------------------------

  void timers() {
    ss7_out(ss7_.on_timeout(now_));
    if (now_ == at(s_.stop_originating)) gen_.stop_originating();
    for (auto& m : gen_.on_timeout(now_)) ss7_send(std::move(m));
    for (auto& [id, c] : pes_) {
      if (!c.alive) continue;
      auto answers = c.model.on_timeout(now_);
      if (!answers.empty()) send_cookie(id, c);
      // An answer goes back the way its call came (gwc-sim does the same).
      for (auto& m : answers) {
        const auto via = c.model.via_of(m);
        controller_send(id, c, via ? static_cast<int>(*via) - 1 : c.last_link, std::move(m));
      }
    }
    for (int g = 0; g < s_.gateways; ++g)
      if (gw(g).alive) apply(g, gw(g).distributor->on_timeout(now_));
  }

  // --- The gateway's actions ----------------------------------------------------

  void apply(int g, std::vector<Action> actions) {
    for (auto& a : actions) {
      if (auto* d = std::get_if<action::SendData>(&a)) {
        Controller& c = pes_.at(d->pe);
        if (c.alive) assoc(c, g).from_sg.push_back(InFlight{std::move(d->message), now_ + kDelay});
        if (gw(g).restarted_at && !first_traffic_) first_traffic_ = now_ - *gw(g).restarted_at;
      } else if (auto* e = std::get_if<action::SendCookieEcho>(&a)) {
        Controller& c = pes_.at(e->pe);
        if (c.alive) assoc(c, g).from_sg.push_back(InFlight{std::move(e->cookie), now_ + kDelay});
      } else if (auto* cn = std::get_if<action::Connect>(&a)) {
        Controller& c = pes_.at(cn->pe);
        if (c.alive) assoc(c, g).comes_up = now_ + kConnect;
      } else if (auto* f = std::get_if<action::Fence>(&a)) {
        Controller& c = pes_.at(f->pe);
        assoc(c, g).up = false;
        assoc(c, g).from_sg.clear();
      } else if (auto* dc = std::get_if<action::Disconnect>(&a)) {
        assoc(pes_.at(dc->pe), g).up = false;
      } else if (std::holds_alternative<action::Drop>(a)) {
        ++drops_;
      }
    }
  }

  Result finish() {
    Result r;
    r.gen = gen_.stats();
    for (auto& [id, c] : pes_) {
      if (!c.alive) continue;
      r.gwc[id] = c.model.counters();
      r.unknown_at_controllers += c.model.counters().unknown_call_messages;
    }
    r.duplicates_at_ss7 = duplicates_;
    r.calls_in_progress_at_kill = calls_in_progress_at_kill_;
    r.exposed_at_kill = exposed_at_kill_;
    r.restart_to_first_reply = first_reply_ ? std::optional<ms>(std::chrono::duration_cast<ms>(*first_reply_))
                                              : std::nullopt;
    r.restart_to_traffic =
        first_traffic_ ? std::optional<ms>(std::chrono::duration_cast<ms>(*first_traffic_))
                                : std::nullopt;
    for (auto& w : gws_)
      if (w.distributor) r.gateways.push_back(w.distributor->counters());
    r.handed_back_to_ss7 = handed_back_to_ss7_;
    r.handed_back_to_controllers = handed_back_to_controllers_;
    return r;
  }

  Scenario s_;
  Ss7CallGenerator gen_;
  std::vector<Gateway> gws_;
  std::map<PeIdentifier, Controller> pes_;
  std::set<PeIdentifier> listed_;
  TimePoint now_{};
  SgLoadShare ss7_;
  std::vector<std::pair<int, TimePoint>> lost_at_;
  std::map<std::uint16_t, std::set<std::uint8_t>> phases_;
  std::size_t relist_step_ = 0;
  std::optional<rserpool::Duration> first_reply_;
  std::optional<rserpool::Duration> first_traffic_;
  std::uint64_t duplicates_ = 0;
  std::uint64_t drops_ = 0;
  std::uint64_t calls_in_progress_at_kill_ = 0;
  std::uint64_t exposed_at_kill_ = 0;
  std::uint64_t handed_back_to_ss7_ = 0;
  std::uint64_t handed_back_to_controllers_ = 0;
};

}  // namespace

Result run(const Scenario& s) { return World(s).run(); }

}  // namespace sg::sim::pair
