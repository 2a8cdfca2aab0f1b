#pragma once
// One Application Server at the SGP, one per routing context (RFC 4666
// 1.2, 4.3.2): its state machine (AS-DOWN / INACTIVE / ACTIVE / PENDING),
// the ASPs active in it, T(r) and the queue it holds while AS-PENDING, the
// NTFYs its transitions cause (4.3.4.5), and the delivery of DATA to its
// ASPs by traffic mode (4.3.4.3, traffic_distribution.hpp).
#include <deque>
#include <set>
#include <vector>

#include "mxua/fsm/sgp/asp_table.hpp"
#include "rserpool/base/timer_set.hpp"

namespace mxua {

// What an AS procedure needs from the SGP around it, for one event.
struct SgpContext {
  const AspTable& asps;
  rserpool::TimerSet<TimerKey>& timers;
  const SgpConfig& cfg;
  DropCounters& drops;
  TimePoint now;
  Actions& out;

  void drop(AssocId a, DropReason r, std::uint32_t n = 1) {
    drops.add(r, n);
    out.push_back(Drop{a, r, n});
  }
};

class ApplicationServer {
 public:
  // `owners`: the configured peers named in cfg.owners (resolved by the
  // node); `owner`: for an AS created by RKM, the registering ASP's peer.
  ApplicationServer(AsConfig cfg, bool dynamic, std::vector<PeerId> owners = {},
                    std::optional<PeerId> owner = std::nullopt)
      : cfg_(std::move(cfg)),
        dynamic_(dynamic),
        owners_(std::move(owners)),
        dynamic_owner_(owner),
        mode_(cfg_.mode) {}

  std::uint32_t routing_context() const noexcept { return cfg_.routing_context; }
  const AsConfig& config() const noexcept { return cfg_; }
  AsState state() const noexcept { return state_; }
  // The mode in force: the configured one, or the one an ASP asked for
  // when the AS accepts the peer's mode (RFC 4666 4.3.4.3).
  TrafficMode mode() const noexcept { return mode_; }
  // Whether an ASPAC asking for `m` is acceptable now; adopt() takes it.
  bool accepts_mode(std::optional<TrafficMode> m) const;
  void adopt_mode(TrafficMode m) { mode_ = m; }
  bool dynamic() const noexcept { return dynamic_; }
  const std::vector<AssocId>& active() const noexcept { return active_; }  // sorted
  bool is_active(AssocId a) const;
  std::size_t queued() const noexcept { return queue_.size(); }
  TimerKey recovery_timer() const noexcept { return TimerKey{TimerKind::Tr, cfg_.routing_context}; }

  // Whether this ASP may serve the AS: it registered the AS's key, or the
  // AS is configured (not created by RKM), owned by the ASP's peer (or by
  // no peer), and lists the ASP's Identifier or no Identifier at all.
  bool allows(const Asp& asp) const;
  // Whether this ASP's peer owns the AS (configured owners, or the peer
  // that registered a dynamic AS): the RKM permission check.
  bool owned_by(const Asp& asp) const;
  bool serves(const Asp& asp) const { return asp.up && allows(asp); }
  std::size_t members_up(const AspTable& asps) const;

  // RKM membership (RFC 4666 4.4): registrations live while the ASP is up.
  bool registered_by(AssocId a) const { return registrants_.count(a) != 0; }
  void add_registrant(AssocId a) { registrants_.insert(a); }
  void remove_registrant(AssocId a) { registrants_.erase(a); }
  bool has_registrants() const noexcept { return !registrants_.empty(); }

  // The AS transitions of RFC 4666 4.3.2 after an ASP changed state (the
  // ACK that caused it is already in ctx.out, so NTFYs follow it): DN2IA,
  // IA2DN, IA2AC, AC2PN (starts T(r)), PN2AC (stops T(r), flushes the
  // queue). Returns whether the state changed.
  bool update(SgpContext& ctx);
  // ASPAC accepted (RFC 4666 4.3.4.3): in override mode the previously
  // active ASP goes INACTIVE and gets NTFY Alternate ASP Active; in
  // broadcast mode the next DATA carries a fresh Correlation Id.
  // Returns the ASP an override takeover displaced.
  std::optional<AssocId> activate(const Asp& asp, SgpContext& ctx);
  // ASPIA, or the ASP went DOWN (`failure`: the other ASPs get NTFY ASP
  // Failure). Returns whether the ASP was active here.
  bool deactivate(const Asp& asp, bool failure, SgpContext& ctx);
  // T(r) expired (PN2IA / PN2DN): the queue is dropped and counted.
  void recovery_expired(SgpContext& ctx);
  // The AS is removed (last RKM registrant gone): queue dropped, DOWN.
  void dissolve(SgpContext& ctx);

  // SS7 -> ASP: AS-ACTIVE delivers, AS-PENDING queues (bounded), otherwise
  // the message is dropped with its reason.
  void route(const DataView& d, SgpContext& ctx);
  // route()'s common case without an action list (issue 16): true, with
  // `s` filled, exactly when route() would give that one SendData and
  // nothing else (AS-ACTIVE, a mode that picks one ASP, which has a DATA
  // stream), broadcast excepted (it may tag a Correlation Id: always the
  // full path); false, and nothing changed, otherwise.
  bool route_now(const DataView& d, const AspTable& asps, SendData& s) const;
  // The ASPs route() would send this DATA to now (traffic_distribution).
  std::span<const AssocId> targets(std::uint8_t sls) const;

  // NTFY to one ASP / to every ASP serving the AS (RFC 4666 4.3.4.5).
  void notify(AssocId to, Status st, std::optional<std::uint32_t> asp_id, Actions& out) const;
  void notify_members(const AspTable& asps, Status st, bool inactive_only, std::optional<AssocId> except,
                      std::optional<std::uint32_t> asp_id, Actions& out) const;
  // NTFY with the current AS state (to an ASP that just came up).
  Status state_status() const;

 private:
  void set_state(AsState to, Actions& out);
  void deliver(DataView v, std::optional<Data> owned, SgpContext& ctx);
  void flush(SgpContext& ctx);
  unsigned needed_active() const;

  AsConfig cfg_;
  bool dynamic_ = false;
  std::vector<PeerId> owners_;
  std::optional<PeerId> dynamic_owner_;
  TrafficMode mode_;
  AsState state_ = AsState::Down;
  std::vector<AssocId> active_;  // sorted: loadshare maps SLS over this order
  std::set<AssocId> registrants_;
  std::deque<Data> queue_;       // held while AS-PENDING
  bool tag_correlation_ = false;  // broadcast: the next DATA carries a Correlation Id
  std::uint32_t next_correlation_id_ = 1;
};

}  // namespace mxua
