// Deterministic simulation: several registrars, many PEs and a PU wired
// through an in-process network driven by one seed. Chaos phase: registrar
// crashes and restarts (state lost), ENRP partitions, loss, delay and
// reordering, PE deaths (clean and silent). Quiet phase: everything healed.
// Then the invariants are checked. A failing seed is printed; rerun it with
// REGISTRAR_SIM_SEED=<n>.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <sstream>

#include "test_support.hpp"

using namespace regtest;
namespace asap = rserpool::wire::asap;
namespace enrp = rserpool::wire::enrp;

namespace {

constexpr int kRegistrars = 4;

// Totals over all seeds, so the test can show the chaos really happened.
struct SimStats {
  std::uint64_t crashes = 0, partitions = 0, pe_deaths = 0, takeovers = 0, resyncs = 0, keep_alive_timeouts = 0;
  std::uint64_t expirations = 0, live_pes_checked = 0, pushes = 0, registrations = 0;
};
constexpr int kPes = 16;
constexpr auto kReregistration = 10000ms;
constexpr std::int32_t kLifeMs = 30000;
constexpr auto kChaos = 30000ms;
constexpr auto kQuiet = 25000ms;

ServerIdentifier slot_id(int slot) { return static_cast<ServerIdentifier>(0x1000 * (slot + 1)); }

class Simulation {
 public:
  Simulation(std::uint64_t seed, SimStats& stats) : rnd_(seed), seed_(seed), stats_(stats) {}

  std::string run() {
    for (int s = 0; s < kRegistrars; ++s) boot(s);
    for (int i = 0; i < kPes; ++i) {
      Pe pe;
      pe.pool = PoolHandle{"pool-" + std::to_string(i % 3)};
      pe.id = static_cast<PeIdentifier>(1000 + i);
      pe.ip = ip(static_cast<std::uint8_t>(i + 1));
      pes_.push_back(pe);
      at_time(ms(rnd_.uniform(500)), [this, i] { pe_connect(i, static_cast<int>(rnd_.uniform(kRegistrars))); });
      schedule_rereg(i);
    }
    // Chaos.
    for (auto t = 1000ms; t < kChaos; t += 1000ms) at_time(t, [this] { chaos_step(); });
    at_time(kChaos, [this] { heal(); });
    run_until(kChaos + kQuiet);
    return check();
  }

 private:
  struct Pe {
    PoolHandle pool;
    PeIdentifier id = 0;
    IpAddress ip;
    bool alive = true;
    bool silent = false;  // died without closing its association
    TimePoint died{};
    int home = -1;
    AssociationId assoc = 0;
    bool registered = false;
  };
  struct Assoc {
    int pe = -1;  // -1: the PU
    int slot = 0;
    std::uint64_t incarnation = 0;
  };
  struct Event {
    TimePoint at;
    std::uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  static std::chrono::milliseconds ms(std::uint64_t v) { return std::chrono::milliseconds{static_cast<std::int64_t>(v)}; }
  void at_time(std::chrono::milliseconds t, std::function<void()> fn) { queue_.push({TimePoint{} + t, seq_++, std::move(fn)}); }
  void after(std::chrono::milliseconds d, std::function<void()> fn) { queue_.push({now_ + d, seq_++, std::move(fn)}); }

  void run_until(std::chrono::milliseconds end) {
    const TimePoint stop = TimePoint{} + end;
    while (!queue_.empty() && queue_.top().at <= stop) {
      Event e = queue_.top();
      queue_.pop();
      now_ = e.at;
      e.fn();
    }
    now_ = stop;
  }

  std::uint64_t& inc(int s) { return incarnation_[static_cast<std::size_t>(s)]; }
  bool live(int s) const { return regs_[static_cast<std::size_t>(s)] != nullptr; }
  Registrar& reg(int s) { return *regs_[static_cast<std::size_t>(s)]; }
  int slot_of(ServerIdentifier id) const {
    for (int s = 0; s < kRegistrars; ++s) {
      if (slot_id(s) == id) return s;
    }
    return -1;
  }

  void boot(int s) {
    auto cfg = RegistrarConfig::aggressive(slot_id(s));
    for (int p = 0; p < kRegistrars; ++p) {
      if (p != s) cfg.peers.push_back(slot_id(p));
    }
    cfg.seed = seed_ * 131 + static_cast<std::uint64_t>(s) + inc(s) * 7;
    cfg.keep_alive_interval = 3000ms;
    cfg.keep_alive_timeout = 1500ms;
    regs_[static_cast<std::size_t>(s)] = std::make_unique<Registrar>(cfg);
    ++inc(s);
    execute(s, reg(s).start(now_));
  }

  void crash(int s) {
    collect(s);
    ++stats_.crashes;
    regs_[static_cast<std::size_t>(s)].reset();
    armed_[static_cast<std::size_t>(s)].reset();
    ++inc(s);
    // Associations die with it; their PEs notice a little later.
    for (auto it = assocs_.begin(); it != assocs_.end();) {
      if (it->second.slot == s) {
        const int pe = it->second.pe;
        const AssociationId aid = it->first;
        it = assocs_.erase(it);
        if (pe >= 0) after(ms(10 + rnd_.uniform(200)), [this, pe, aid] { pe_lost(pe, aid); });
      } else {
        ++it;
      }
    }
  }

  // --- timers and actions ---
  // The driver's part: execute the actions (encoding each message once, as
  // it leaves), then hold one timer per core at its next_deadline().
  void execute(int s, std::vector<Action> actions) {
    for (auto& a : actions) {
      if (auto* se = std::get_if<SendEnrp>(&a)) {
        send_enrp(s, *se);
      } else if (auto* sa = std::get_if<SendAsap>(&a)) {
        auto it = assocs_.find(sa->association);
        if (it == assocs_.end()) continue;
        const int pe = it->second.pe;
        const AssociationId aid = sa->association;
        Bytes msg = encode(sa->message);
        after(ms(1 + rnd_.uniform(5)), [this, pe, aid, msg, s] { to_pe(pe, aid, s, msg); });
      } else if (auto* sx = std::get_if<SendAsapToElement>(&a)) {
        const int pe = find_pe(sx->pool, sx->pe);
        Bytes msg = asap::encode(sx->message);
        if (pe >= 0) after(ms(1 + rnd_.uniform(5)), [this, pe, msg, s] { to_pe_direct(pe, s, msg); });
      }
    }
    if (live(s)) rearm(s);
  }

  void rearm(int s) {
    auto& armed = armed_[static_cast<std::size_t>(s)];
    const auto due = reg(s).next_deadline();
    if (due == armed) return;
    armed = due;
    if (!due) return;
    const std::uint64_t generation = ++timer_generation_[static_cast<std::size_t>(s)];
    const std::uint64_t incarnation = inc(s);
    queue_.push({std::max(*due, now_), seq_++, [this, s, incarnation, generation] {
                   if (!live(s) || inc(s) != incarnation) return;
                   if (timer_generation_[static_cast<std::size_t>(s)] != generation) return;
                   armed_[static_cast<std::size_t>(s)].reset();
                   execute(s, reg(s).on_timeout(now_));
                 }});
  }

  void send_enrp(int from, SendEnrp& se) {
    const int to = slot_of(se.peer);
    if (to < 0) return;
    if (cut_.count({std::min(from, to), std::max(from, to)})) return;
    if (lossy_ && rnd_.uniform(100) < 5) return;
    Bytes msg = enrp::encode(se.message);
    const auto delay = ms(1 + rnd_.uniform(lossy_ ? 80 : 20));  // random delay = reordering
    const ServerIdentifier sender = slot_id(from);
    after(delay, [this, to, msg, sender] {
      if (live(to)) execute(to, reg(to).on_enrp_message(msg, now_, sender));
    });
  }

  // --- chaos ---
  void chaos_step() {
    const auto r = rnd_.uniform(100);
    if (r < 12) {
      int s = static_cast<int>(rnd_.uniform(kRegistrars));
      int alive = 0;
      for (int i = 0; i < kRegistrars; ++i) alive += live(i) ? 1 : 0;
      if (live(s) && alive > 1) {
        crash(s);
        after(ms(1000 + rnd_.uniform(8000)), [this, s] {
          if (!live(s)) boot(s);
        });
      }
    } else if (r < 20) {
      int a = static_cast<int>(rnd_.uniform(kRegistrars)), b = static_cast<int>(rnd_.uniform(kRegistrars));
      if (a != b) {
        auto key = std::pair{std::min(a, b), std::max(a, b)};
        cut_.insert(key);
        ++stats_.partitions;
        after(ms(2000 + rnd_.uniform(8000)), [this, key] { cut_.erase(key); });
      }
    } else if (r < 28) {
      lossy_ = !lossy_;
    } else if (r < 36) {
      int i = static_cast<int>(rnd_.uniform(kPes));
      if (pes_[static_cast<std::size_t>(i)].alive) pe_die(i, rnd_.uniform(2) == 0);
    } else if (r < 50) {
      pu_resolve(static_cast<int>(rnd_.uniform(kRegistrars)), static_cast<int>(rnd_.uniform(3)));
    }
  }

  void heal() {
    cut_.clear();
    lossy_ = false;
    for (int s = 0; s < kRegistrars; ++s) {
      if (!live(s)) boot(s);
    }
  }

  // --- PEs ---
  int find_pe(const PoolHandle& pool, PeIdentifier id) const {
    for (std::size_t i = 0; i < pes_.size(); ++i) {
      if (pes_[i].id == id && pes_[i].pool == pool) return static_cast<int>(i);
    }
    return -1;
  }

  void pe_connect(int i, int slot) {
    Pe& pe = pes_[static_cast<std::size_t>(i)];
    if (!pe.alive) return;
    if (!live(slot)) {
      after(ms(100 + rnd_.uniform(400)), [this, i] { pe_connect(i, static_cast<int>(rnd_.uniform(kRegistrars))); });
      return;
    }
    pe_close(i);
    const AssociationId aid = next_assoc_++;
    assocs_[aid] = Assoc{i, slot, inc(slot)};
    pe.home = slot;
    pe.assoc = aid;
    pe.registered = false;
    execute(slot, reg(slot).on_asap_association_up(aid, {pe.ip}, 7000, now_));
    pe_register(i);
  }

  void pe_close(int i) {
    Pe& pe = pes_[static_cast<std::size_t>(i)];
    if (pe.assoc == 0) return;
    auto it = assocs_.find(pe.assoc);
    if (it != assocs_.end()) {
      const int slot = it->second.slot;
      const AssociationId aid = it->first;
      assocs_.erase(it);
      if (live(slot)) after(ms(1 + rnd_.uniform(5)), [this, slot, aid] {
          if (live(slot)) execute(slot, reg(slot).on_asap_association_down(aid, now_));
        });
    }
    pe.assoc = 0;
    pe.home = -1;
  }

  void pe_register(int i) {
    Pe& pe = pes_[static_cast<std::size_t>(i)];
    if (!pe.alive || pe.assoc == 0) return;
    // Every other PE registers for life: only audits and takeovers clean those up.
    auto p = make_pe(pe.id, static_cast<std::uint8_t>(i + 1), i % 2 == 0 ? kLifeMs : kInfiniteLifetime);
    p.user_transport.addresses = {pe.ip};
    const int slot = pe.home;
    const AssociationId aid = pe.assoc;
    Bytes msg = registration(pe.pool.to_string(), p);
    after(ms(1 + rnd_.uniform(5)), [this, slot, aid, msg] {
      if (live(slot) && assocs_.count(aid)) execute(slot, reg(slot).on_asap_message(aid, msg, now_));
    });
  }

  void schedule_rereg(int i) {
    after(kReregistration, [this, i] {
      Pe& pe = pes_[static_cast<std::size_t>(i)];
      if (!pe.alive) return;
      if (pe.assoc == 0) {
        pe_connect(i, static_cast<int>(rnd_.uniform(kRegistrars)));
      } else {
        pe_register(i);
      }
      schedule_rereg(i);
    });
  }

  void pe_lost(int i, AssociationId aid) {
    Pe& pe = pes_[static_cast<std::size_t>(i)];
    if (pe.assoc != aid) return;
    pe.assoc = 0;
    pe.home = -1;
    pe.registered = false;
    if (pe.alive) after(ms(50 + rnd_.uniform(500)), [this, i] {
        if (pes_[static_cast<std::size_t>(i)].assoc == 0) pe_connect(i, static_cast<int>(rnd_.uniform(kRegistrars)));
      });
  }

  void pe_die(int i, bool silent) {
    Pe& pe = pes_[static_cast<std::size_t>(i)];
    ++stats_.pe_deaths;
    pe.alive = false;
    pe.silent = silent;
    pe.died = now_;
    pe.registered = false;
    if (!silent) pe_close(i);
  }

  void to_pe(int i, AssociationId aid, int slot, const Bytes& msg) {
    if (i < 0) return;  // the PU only checks it gets answers
    Pe& pe = pes_[static_cast<std::size_t>(i)];
    if (!pe.alive || pe.assoc != aid) return;
    auto d = asap::decode(msg);
    if (!d) return;
    auto& m = d.value().message;
    if (auto* r = std::get_if<asap::RegistrationResponse>(&m)) {
      pe.registered = !r->rejected;
      if (r->rejected) ++rejected_;
    } else if (auto* k = std::get_if<asap::EndpointKeepAlive>(&m)) {
      if (k->home) return to_pe_direct(i, slot_of(k->server_id), msg);
      execute_ack(i, slot, aid);
    } else if (std::holds_alternative<asap::DeregistrationResponse>(m)) {
      pe.registered = false;
      pe_register(i);
    }
  }

  void execute_ack(int i, int slot, AssociationId aid) {
    const Pe& pe = pes_[static_cast<std::size_t>(i)];
    Bytes ack = asap::encode(asap::EndpointKeepAliveAck{pe.pool, pe.id});
    after(ms(1 + rnd_.uniform(5)), [this, slot, aid, ack] {
      if (live(slot) && assocs_.count(aid)) execute(slot, reg(slot).on_asap_message(aid, ack, now_));
    });
  }

  // A keep-alive with H=1 from a registrar taking us over: move there.
  void to_pe_direct(int i, int slot, const Bytes& msg) {
    Pe& pe = pes_[static_cast<std::size_t>(i)];
    if (!pe.alive || slot < 0 || !live(slot)) return;
    auto d = asap::decode(msg);
    if (!d) return;
    const auto* k = std::get_if<asap::EndpointKeepAlive>(&d.value().message);
    if (k == nullptr) return;
    if (pe.home != slot || pe.assoc == 0) {
      pe_close(i);
      const AssociationId aid = next_assoc_++;
      assocs_[aid] = Assoc{i, slot, inc(slot)};
      pe.home = slot;
      pe.assoc = aid;
      execute(slot, reg(slot).on_asap_association_up(aid, {pe.ip}, 7000, now_));
    }
    execute_ack(i, slot, pe.assoc);
    pe_register(i);
  }

  void pu_resolve(int slot, int pool) {
    if (!live(slot)) return;
    const AssociationId aid = next_assoc_++;
    assocs_[aid] = Assoc{-1, slot, inc(slot)};
    execute(slot, reg(slot).on_asap_association_up(aid, {ip(200)}, 9000, now_));
    Bytes q = asap::encode(asap::HandleResolution{rnd_.uniform(2) == 0, PoolHandle{"pool-" + std::to_string(pool)}, {}});
    execute(slot, reg(slot).on_asap_message(aid, q, now_));
    after(ms(500), [this, slot, aid] {
      assocs_.erase(aid);
      if (live(slot)) execute(slot, reg(slot).on_asap_association_down(aid, now_));
    });
  }

  void collect(int s) {
    const auto& c = reg(s).counters();
    stats_.takeovers += c.takeovers_won;
    stats_.resyncs += c.resyncs;
    stats_.keep_alive_timeouts += c.keep_alive_timeouts;
    stats_.expirations += c.expirations;
    stats_.pushes += c.subscription_updates;
    stats_.registrations += c.registrations;
  }

  // --- invariants ---
  std::string check() {
    for (int s = 0; s < kRegistrars; ++s) {
      if (live(s)) collect(s);
    }
    for (const auto& pe : pes_) stats_.live_pes_checked += pe.alive ? 1 : 0;
    std::ostringstream err;
    using View = std::map<std::pair<std::string, PeIdentifier>, ServerIdentifier>;
    std::optional<View> first;
    int first_slot = -1;
    for (int s = 0; s < kRegistrars; ++s) {
      if (!live(s)) continue;
      View v;
      for (const auto& pool : reg(s).handlespace().pool_handles()) {
        for (const auto* e : reg(s).handlespace().elements_of(pool)) v[{pool.to_string(), e->id()}] = e->owner();
      }
      if (!first) {
        first = v;
        first_slot = s;
      } else if (v != *first) {
        err << "registrar " << s << " holds " << v.size() << " PEs, registrar " << first_slot << " holds "
            << first->size() << "; ";
        for (const auto& [k, o] : v) {
          auto it = first->find(k);
          if (it == first->end() || it->second != o) err << k.first << "/" << k.second << "->" << std::hex << o << std::dec << " ";
        }
        for (const auto& [k, o] : *first) {
          if (!v.count(k)) err << "missing " << k.first << "/" << k.second << " ";
        }
      }
    }
    for (int s = 0; s < kRegistrars; ++s) {
      if (!live(s)) continue;
      for (const auto& pe : pes_) {
        const auto* e = reg(s).handlespace().find(pe.pool, pe.id);
        if (pe.alive) {
          if (e == nullptr) {
            err << "live PE " << pe.id << " unknown at registrar " << s << "; ";
          } else if (pe.home < 0 || e->owner() != slot_id(pe.home)) {
            err << "PE " << pe.id << " home " << pe.home << " but owner " << std::hex << e->owner() << std::dec << " at " << s << "; ";
          } else if (!live(slot_of(e->owner()))) {
            err << "PE " << pe.id << " owned by dead registrar; ";
          }
          std::vector<const rserpool::core::PoolElementEntry*> out;
          if (!reg(s).handlespace().find(pe.pool, pe.id)) continue;
        } else if (e != nullptr && (e->element().registration_life_ms == kInfiniteLifetime ||
                                    now_ > pe.died + std::chrono::milliseconds{kLifeMs} + 1000ms)) {
          err << "dead PE " << pe.id << " (died " << (pe.died - TimePoint{}).count() / 1000000 << " ms) still at registrar "
              << s << "; ";
        }
      }
    }
    return err.str();
  }

  rserpool::core::Random rnd_;
  std::uint64_t seed_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  std::uint64_t seq_ = 0;
  TimePoint now_{};
  std::array<std::unique_ptr<Registrar>, kRegistrars> regs_{};
  std::array<std::uint64_t, kRegistrars> incarnation_{};
  std::array<std::optional<TimePoint>, kRegistrars> armed_{};  // each core's OS timer
  std::array<std::uint64_t, kRegistrars> timer_generation_{};
  std::vector<Pe> pes_;
  std::map<AssociationId, Assoc> assocs_;
  AssociationId next_assoc_ = 1;
  std::set<std::pair<int, int>> cut_;
  bool lossy_ = false;
  std::uint64_t rejected_ = 0;
  SimStats& stats_;
};

TEST(RegistrarSimulation, ManySeedsConvergeToOneHandlespace) {
  std::uint64_t first = 1, count = 500;
  if (const char* s = std::getenv("REGISTRAR_SIM_SEED")) {
    first = std::strtoull(s, nullptr, 10);
    count = 1;
  }
  if (const char* n = std::getenv("REGISTRAR_SIM_SEEDS")) count = std::strtoull(n, nullptr, 10);
  std::size_t failures = 0;
  SimStats stats;
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    Simulation sim(seed, stats);
    const std::string problems = sim.run();
    if (!problems.empty()) {
      ++failures;
      ADD_FAILURE() << "seed " << seed << " (replay: REGISTRAR_SIM_SEED=" << seed << "): " << problems;
      if (failures >= 5) break;
    }
  }
  EXPECT_EQ(failures, 0u);
  std::printf("%llu seeds: %llu registrar crashes, %llu partitions, %llu PE deaths, %llu takeovers won, %llu resyncs, "
              "%llu keep-alive timeouts, %llu expirations, %llu subscription pushes, %llu registrations, %llu live PEs "
              "checked\n",
              static_cast<unsigned long long>(count), static_cast<unsigned long long>(stats.crashes),
              static_cast<unsigned long long>(stats.partitions), static_cast<unsigned long long>(stats.pe_deaths),
              static_cast<unsigned long long>(stats.takeovers), static_cast<unsigned long long>(stats.resyncs),
              static_cast<unsigned long long>(stats.keep_alive_timeouts),
              static_cast<unsigned long long>(stats.expirations), static_cast<unsigned long long>(stats.pushes),
              static_cast<unsigned long long>(stats.registrations),
              static_cast<unsigned long long>(stats.live_pes_checked));
  if (count >= 50) {
    // The chaos must really have happened, or the invariants prove nothing.
    EXPECT_GT(stats.crashes, 0u);
    EXPECT_GT(stats.takeovers, 0u);
    EXPECT_GT(stats.resyncs, 0u);
    EXPECT_GT(stats.keep_alive_timeouts, 0u);
    EXPECT_GT(stats.live_pes_checked, 0u);
  }
}

}  // namespace
