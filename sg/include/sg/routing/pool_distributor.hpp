#pragma once
// The gateway's pool user for one pool: it decides which pool element (a
// gateway controller) gets each message, keeps flows sticky, runs the
// failover, and judges each PE from what the registrar and the link say.
// Sans-I/O (docs/architecture.md, "The substrate"): events in with `now`,
// typed actions out, its timers in one TimerSet behind next_deadline() /
// on_timeout(now). The driver (sgd's PoolRuntime, or a simulation) executes
// the actions and holds no decision.
//
// Guarantees, with the reasons operators care about:
// - A flow (ISUP circuit, or OPC/DPC/SI/SLS) stays on one PE while that PE
//   lives, so a call's messages arrive in order at the controller that holds
//   the call state.
// - Nothing accepted is lost silently: a message is sent, queued (behind a
//   PE whose association is coming up, or in the pool-wait queue while the
//   pool has no PE), re-sent after a failover, or dropped with a counted
//   reason.
// - On a PE failure, the messages the transport handed back unsent and the
//   messages queued for that PE are re-routed first, in their original
//   order, before anything newer.
// - A failed PE's flows all move to one successor, which receives the
//   failed PE's latest ASAP cookie (COOKIE_ECHO) before any data. The
//   cookie is the failed PE's state as a whole, so it has exactly one heir,
//   as in RSerPool's enhanced-mode session failover; new flows keep being
//   balanced over all live PEs. An heir that is suspected stays the heir
//   (what it is sent is kept, as for any suspect); an heir that fails
//   passes its whole estate on: its own flows, the calls it inherited and
//   the orphans still waiting for it go to its one heir, with its cookie
//   and the cookies it inherited and has not covered with one of its own.
//   So a cookie has one living heir, chosen by both gateways of a pair
//   from the same failure, and no call is split from the state it needs.
// - Placement (new flows and heirs) is the selector's (MemberSelector). A
//   shared one (rendezvous hashing) makes it a function of the flow (or of
//   the failed PE) and the pool's members: a mated gateway, or this one
//   after a restart, places a call where it was placed and picks the same
//   heir. A bound flow keeps its PE while that PE lives, whatever joins.
// - A failure is reported to the registrar (ENDPOINT_UNREACHABLE) once per
//   failure event: failed reconnection attempts belong to the same event,
//   a successful reconnection ends it.
// - Fencing: a PE whose calls failed over is cut off (its association
//   aborted, whatever it still sends dropped and counted) and not
//   reconnected until the registrar shows it alive again (MembershipConfig).
// - A registrar's loss notice while the link is up is a failure suspicion:
//   no new flows go there; what is sent to it from then on is kept, and
//   re-sent to the heir if the link fails, or forgotten when the PE proves
//   alive (link up for MembershipConfig::suspicion, or listed again); a PE
//   that proved alive but is not listed is then drained. A kept copy can
//   reach the heir although the suspect processed it (nothing tells us it
//   did, except an RLC for its circuit, which discards that circuit's
//   copies): a possible duplicate is the price of never losing a message
//   that the dying PE's kernel acknowledged and its process never read.
// - A pool that has had no active PE since start() is unavailable at once
//   (DUNA): a gateway that cannot reach any controller must not attract
//   SS7 traffic (a restarted gateway of a pair whose view stays empty: the
//   STP sends that traffic to the mate). Once it has had one, a pool with
//   no active PE for pool_wait is announced unavailable; available again
//   (DAVA) when a PE's association comes up. Either way traffic that still
//   arrives waits pool_wait (dropped and counted after that).
// - A drained PE gets no new flows; calls in progress stay until released
//   or until the drain deadline, then move like a failover.
#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "rserpool/base/result.hpp"
#include "rserpool/base/time.hpp"
#include "rserpool/base/timer_set.hpp"
#include "rserpool/wire/types.hpp"
#include "sg/routing/flow.hpp"
#include "sg/routing/flow_table.hpp"
#include "sg/routing/membership.hpp"
#include "sg/routing/mtp_message.hpp"

namespace sg {

using rserpool::Duration;
using rserpool::TimePoint;

enum class PlacementMode : std::uint8_t { rendezvous, policy };
std::string_view to_string(PlacementMode m) noexcept;

// Per-pool operator settings (`pool NAME` in the configuration).
struct DistributorConfig {
  // How long messages wait while the pool has no usable PE.
  Duration pool_wait = std::chrono::milliseconds(2000);
  // How long a draining PE keeps its calls.
  Duration drain_deadline = std::chrono::seconds(30);
  // Bound of each queue (per PE while connecting, the pool-wait queue, and
  // the copies kept for a suspected PE).
  std::size_t max_queue = 10000;
  // Above this fill of a queue the SS7 side is told of congestion (SCON).
  std::size_t congestion_onset = 8000;
  std::size_t congestion_abatement = 2000;
  // How new flows are placed (sgd: `placement`): by weighted rendezvous
  // hashing over the pool's members (the same choice at both gateways of a
  // mated pair and across a restart) or by the RFC 5356 policy the PEs
  // registered. Read by the pool's selector (PoolMemberSelector).
  PlacementMode placement = PlacementMode::rendezvous;
  // With a shared placement, how long the registrar's PE list must stay
  // unchanged after start-up before calls this gateway did not place are
  // placed (they wait in order meanwhile): a restarted gateway must not
  // hash them over a pool whose members are still registering again.
  // 600 ms: the controllers' registrar hunt brings them back within its
  // 200 ms cap of the registrar's return, and a loaded machine delays a
  // registration by several hundred ms more (UML: 550 ms seen, 7 calls in
  // progress misplaced with 300 ms). Only calls in progress wait for it.
  Duration placement_settle = std::chrono::milliseconds(600);
  friend bool operator==(const DistributorConfig&, const DistributorConfig&) = default;
};

// Gateway-wide settings every pool shares.
struct DistributorProfile {
  // How ISUP circuits are keyed: the CIC is 12 bits in ITU-T Q.763, 14 bits
  // in ANSI T1.113 (sgd: `point-code-format`).
  ss7::IsupVariant isup_variant = ss7::IsupVariant::itu;
  MembershipConfig membership;
};

// Why the distributor dropped a message. Every reason is produced here and
// counted (counters().dropped(reason)); the gateway's own reasons (no route,
// no SS7 path) are counted by the gateway.
enum class DropReason : std::uint8_t {
  pool_unavailable,  // waited pool_wait with no usable PE
  queue_full,        // a queue was at max_queue
  fenced_member,     // sent by a PE after its calls failed over: never forwarded
  foreign_call,      // sent by a PE on a circuit bound to another PE (the heir's call): never forwarded
  Count_
};
inline constexpr std::size_t kDropReasons = static_cast<std::size_t>(DropReason::Count_);
std::string_view to_string(DropReason r) noexcept;

enum class MemberState : std::uint8_t {
  connecting,  // association (re)starting; takes new flows only when no PE is active
  active,      // association up, M3UA active
  suspect,     // the registrar lost it while our link is up: no new flows, sends kept
  draining,    // leaving: no new flows, calls stay until released or the deadline
  failed,      // association failed: fenced, reconnection waits (audit or back-off)
};
std::string_view to_string(MemberState s) noexcept;

// What happened to a PE, for the operator's log.
enum class MemberNews : std::uint8_t {
  joined,           // listed: connecting
  moved,            // registered a new user transport: reconnecting there
  suspected,        // registrar's loss notice while the link is up
  proven_alive,     // suspicion over: the link stayed up
  relisted,         // listed again while suspected or draining: back in service
  draining,         // drain started (loss notice confirmed, or the operator)
  drained,          // drain finished: association closed
  fenced,           // calls failed over; reconnection waits for the registrar
  audit_passed,     // still listed audit_bound after our report: reconnecting
  retrying,         // reconnection attempt after the back-off
  removed,          // forgotten (left the handlespace with no association)
};
std::string_view to_string(MemberNews n) noexcept;

// The pool user's view of one PE, as handle resolution reports it.
struct Candidate {
  rserpool::PeIdentifier id = 0;
  const rserpool::PolicyParameters* policy = nullptr;
  std::size_t flows = 0;
};

// What a PE is chosen for: the key a shared placement hashes.
struct Placement {
  enum class Purpose : std::uint8_t {
    new_flow,          // a call set up here, or a non-call flow
    call_in_progress,  // a call this gateway did not place (its mate did, or its previous run)
    heir,              // the successor of a failed PE: `failed` is the key
  };
  Purpose purpose = Purpose::new_flow;
  FlowKey flow{};
  rserpool::PeIdentifier failed = 0;
};

// The seam where a PE is chosen for a new flow (and, through heir_for, for
// a failed PE's estate): the only place a PE or an heir is chosen. The RFC
// 5356 policy is one implementation (PolicyMemberSelector), the weighted
// rendezvous hash another (RendezvousMemberSelector); PoolMemberSelector
// switches between them per pool; tests use round robin.
class MemberSelector {
 public:
  virtual ~MemberSelector() = default;
  // `candidates` is never empty; returns one of their ids.
  virtual rserpool::PeIdentifier pick(const Placement& what, std::span<const Candidate> candidates) = 0;
  // The registrar's list changed: `selectable` are the listed PEs the
  // operator did not drain, `overall` the pool's policy.
  virtual void members_changed(std::optional<rserpool::PolicyParameters> /*overall*/,
                               std::span<const rserpool::PoolElementParameter> /*selectable*/) {}
  // True when the choice is a function of the key and the candidates
  // alone, so that another gateway seeing the same pool makes the same one
  // (a mated pair, or this gateway after a restart). The distributor then
  // offers every usable PE (an association still starting included: the
  // choice must not depend on our own links) and places calls in progress
  // that it did not place once its view of the pool has settled.
  virtual bool shared() const { return false; }
};

namespace action {
// Open an association to the PE's user transport (replacing any older one).
struct Connect { rserpool::PeIdentifier pe; rserpool::TransportParameter transport; };
// Graceful: ASPDN, then SCTP SHUTDOWN / TCP-mapping close.
struct Disconnect { rserpool::PeIdentifier pe; };
// Abort the association at once; whatever it still delivers is dropped
// (counted), what it hands back comes back through handed_back().
struct Fence { rserpool::PeIdentifier pe; };
struct SendData { rserpool::PeIdentifier pe; MtpMessage message; };
struct SendCookieEcho { rserpool::PeIdentifier pe; rserpool::Bytes cookie; };
struct ReportUnreachable { rserpool::PeIdentifier pe; };
struct Drop { MtpMessage message; DropReason reason; };
// The pool can take no traffic: the SS7 side should hear DUNA for the
// destinations routed to it; Available (DAVA) when it can again.
// `since_start`: no PE has been active since start (announced at once),
// else the pool lost its last one pool_wait ago.
struct PoolUnavailable { bool since_start = false; };
struct PoolAvailable {};
struct Congestion { bool onset; };
struct News { rserpool::PeIdentifier pe; MemberNews what; };
}  // namespace action

using Action = std::variant<action::Connect, action::Disconnect, action::Fence, action::SendData,
                            action::SendCookieEcho, action::ReportUnreachable, action::Drop,
                            action::PoolUnavailable, action::PoolAvailable, action::Congestion, action::News>;

struct DistributorCounters {
  std::uint64_t accepted = 0;
  std::uint64_t sent = 0;    // SendData actions (including re-sends)
  std::uint64_t queued = 0;
  std::uint64_t resent_after_failover = 0;
  std::uint64_t failovers = 0;
  std::uint64_t flows_moved = 0;
  std::uint64_t cookies_echoed = 0;
  std::uint64_t drains = 0;
  std::uint64_t fenced = 0;             // PEs cut off after a failover
  std::uint64_t audits_passed = 0;      // fences lifted by audit_bound
  std::uint64_t reconnect_attempts = 0;
  std::uint64_t suspicions = 0;         // loss notices while the link was up
  std::uint64_t suspicions_cleared = 0; // ... after which the PE proved alive
  std::uint64_t kept_since_notice = 0;  // messages re-sent because a suspect failed
  std::uint64_t calls_taken_over = 0;   // calls this gateway did not set up, placed by the shared hash
  std::uint64_t held_for_settle = 0;    // messages of such calls that waited for the start-up settle
  std::array<std::uint64_t, kDropReasons> drops{};
  std::uint64_t dropped(DropReason r) const noexcept { return drops[static_cast<std::size_t>(r)]; }
};

class PoolDistributor {
 public:
  PoolDistributor(DistributorConfig config, MemberSelector& selector, DistributorProfile profile = {});

  // The pool is served from `now` on: until a PE's association is up the
  // pool is unavailable (PoolUnavailable from on_timeout(now): the timer is
  // due at once), even before any traffic arrived.
  void start(TimePoint now);
  // New settings for a running pool (operator change). Queues already
  // longer than a new bound are not cut: only new messages see it.
  std::vector<Action> reconfigure(const DistributorConfig& config, TimePoint now);
  const DistributorConfig& config() const noexcept { return config_; }
  const DistributorProfile& profile() const noexcept { return profile_; }

  // --- Pool membership, from ASAP handle resolution ---------------------
  // The registrar's whole current PE list (resolution or subscription).
  std::vector<Action> handlespace(std::span<const rserpool::PoolElementParameter> list, TimePoint now);
  // The driver knows the current list is the whole pool (the co-located
  // registrar downloaded its mate's handlespace and the list equals it):
  // the start-up settle ends now instead of after placement_settle, and the
  // calls in progress held for it are placed. Nothing before the first
  // list, nor once settled.
  std::vector<Action> list_complete(TimePoint now);
  // The driver expects the list to fill up soon (a restarted gateway alone
  // whose memory lists more PEs): until the settle ends, new calls wait
  // with the calls in progress instead of all going to the PEs listed
  // first (the SS7 side's backlog, hashed over a pool of one).
  void hold_new_calls_until_settled() noexcept { hold_new_calls_ = true; }
  enum class DrainRefusal : std::uint8_t { unknown_pe, already_draining };
  // The operator drains the PE (no new flows; calls stay until released or
  // `deadline`, default the pool's drain_deadline).
  rserpool::Result<std::vector<Action>, DrainRefusal> drain(rserpool::PeIdentifier pe,
                                                             std::optional<Duration> deadline, TimePoint now);

  // --- Association events, from the PE link -----------------------------
  std::vector<Action> association_up(rserpool::PeIdentifier pe, TimePoint now);
  // The association failed (lost, aborted, M3UA ASP down, heartbeat or BEAT
  // timeout, M3UA refused our DATA); reported once per association, when it
  // is down. `handed_back`: what it accepted and did not deliver, oldest
  // first.
  std::vector<Action> association_failed(rserpool::PeIdentifier pe, std::vector<MtpMessage> handed_back,
                                         TimePoint now);
  // What an association that we closed or fenced handed back: re-routed.
  std::vector<Action> handed_back(rserpool::PeIdentifier pe, std::vector<MtpMessage> messages, TimePoint now);
  // An association the gateway closed while still counting on the PE (the
  // gateway's own shutdown) is down: its calls move like a failover, its
  // leftovers are re-routed, but the PE did nothing wrong: no report, no
  // fence, reconnection with the back-off.
  std::vector<Action> association_closed(rserpool::PeIdentifier pe, std::vector<MtpMessage> leftovers,
                                         TimePoint now);
  // The PE's control channel delivered a new ASAP cookie.
  void cookie_received(rserpool::PeIdentifier pe, rserpool::Bytes cookie);

  // --- Traffic ---------------------------------------------------------
  std::vector<Action> message(MtpMessage m, TimePoint now);
  // The same for the relay path (issue 16): `c` is the message classified
  // once by the caller (the route lookup needs its CIC too, with the same
  // ISUP variant as profile().isup_variant), the actions are appended to
  // `out`, a vector the caller reuses.
  void message(MtpMessage m, const ClassifiedMessage& c, TimePoint now, std::vector<Action>& out);
  // The relay path's common case without an action list (issue 16: the
  // vector, the variant's moves and its visit cost about a tenth of a
  // relayed message): a flow bound to an active PE, not a new call on a
  // circuit a failed PE's call was taken from. Then the message is
  // accepted and sent exactly as message() would (counted, the call ended
  // on its release) and the PE is returned: the caller sends it there, the
  // one action message() would have given. Otherwise nothing changed and
  // the caller calls message(). Moves no timer.
  std::optional<rserpool::PeIdentifier> message_now(const ClassifiedMessage& c);
  // A message the PE sent toward the SS7 side. `forward` false: drop it
  // (counted as fenced_member): the PE was cut off, its calls belong to an
  // heir. Forwarded messages bind their circuit to the PE (calls the
  // controller originates) and end it on release (which may end a drain).
  struct FromMember {
    bool forward = true;
    std::vector<Action> actions;
    // forward false: which rule dropped it, and the circuit or SLS it spoke
    // of (the operator's log line names both: issue 13).
    DropReason reason = DropReason::fenced_member;
    FlowKey flow;
    // foreign_call: the PE the circuit's call is bound to now (none: the
    // call was taken from this PE and is not bound anywhere yet).
    std::optional<rserpool::PeIdentifier> owner;
  };
  FromMember from_member(rserpool::PeIdentifier pe, const MtpMessage& m, TimePoint now);

  // --- Time -------------------------------------------------------------
  std::optional<TimePoint> next_deadline() const { return timers_.next_deadline(); }
  std::vector<Action> on_timeout(TimePoint now);

  // --- Inspection -------------------------------------------------------
  const DistributorCounters& counters() const noexcept { return counters_; }
  const Membership& membership() const noexcept { return membership_; }
  std::optional<MemberState> state_of(rserpool::PeIdentifier pe) const;
  std::vector<rserpool::PeIdentifier> members() const;
  // Messages waiting behind a PE whose association is not up yet.
  std::size_t queue_depth(rserpool::PeIdentifier pe) const;
  // Messages kept since a loss notice (suspect PEs).
  std::size_t kept_depth(rserpool::PeIdentifier pe) const;
  std::size_t flow_count(rserpool::PeIdentifier pe) const { return flows_.count_of(pe); }
  std::vector<FlowKey> flows_of(rserpool::PeIdentifier pe) const { return flows_.flows_of(pe); }
  std::size_t flow_count() const noexcept { return flows_.size(); }
  std::size_t pool_wait_depth() const noexcept { return pool_wait_.size(); }
  bool pool_available() const noexcept { return !unavailable_signalled_; }
  // The registrar's list has been stable since start-up for the placement
  // settle time: calls this gateway did not place are placed from now on.
  bool placement_settled() const noexcept { return settled_; }
  ClassifiedMessage classify(const MtpMessage& m) const { return sg::classify(m, profile_.isup_variant); }

 private:
  struct Member {
    MemberState state = MemberState::connecting;
    rserpool::PolicyParameters policy;
    rserpool::TransportParameter transport;
    std::deque<MtpMessage> queue;  // waiting for the association (or for a suspect to clear)
    std::optional<rserpool::Bytes> latest_cookie;
    std::vector<rserpool::Bytes> echo_before_data;  // cookies to send when up
    // The failed PEs' cookies echoed (or to be echoed) to it as an heir,
    // oldest first. Its own cookie covers those calls only once it has
    // adopted them: until it speaks for one of them and then sends a
    // cookie, its own heir needs these too.
    std::vector<rserpool::Bytes> inherited;
    bool spoke_for_inherited = false;  // answered an inherited call since the last echo
    bool carried_traffic = false;  // report unreachable only if we tried it
    // A failure event lasts from the first failure to the next association
    // up: failed reconnection attempts are not new failovers or reports.
    bool failure_event = false;
    bool reported_unreachable = false;
    TimePoint reported_at{};
    bool audit_passed = false;  // the fence is lifted; back-off from here
    Duration backoff{0};
    // Suspicion: copies of what was sent since the registrar's loss notice.
    std::deque<MtpMessage> since_notice;
    std::optional<Duration> drain_requested;  // operator drain while suspected
  };
  // The flows a failed (or drained) PE left behind, and who inherits them.
  struct Estate {
    // The failed PE's latest cookie, then the cookies it had inherited and
    // not yet covered by one of its own (an heir that fails passes on what
    // it inherited: its flows and the estates it was heir of go to one heir).
    std::vector<rserpool::Bytes> cookies;
    std::optional<rserpool::PeIdentifier> heir;
    std::set<rserpool::PeIdentifier> echoed_to;  // PEs that have this cookie
    std::size_t flows = 0;  // orphaned flows not yet rebound
  };
  struct Waiting {
    MtpMessage message;
    TimePoint since;
  };
  // Timers (rserpool::TimerSet): per pool and per PE.
  enum class TimerKind : std::uint8_t { availability, pool_wait, settle, drain, suspicion, audit, retry };
  struct TimerKey {
    TimerKind kind;
    rserpool::PeIdentifier pe = 0;
    friend auto operator<=>(const TimerKey&, const TimerKey&) = default;
  };

  void route(MtpMessage m, const ClassifiedMessage& c, TimePoint now, std::vector<Action>& out);
  void deliver(rserpool::PeIdentifier pe, Member& member, MtpMessage m, std::vector<Action>& out);
  // Into the pool-wait queue (no usable PE, or the placement not settled).
  void hold(MtpMessage m, TimePoint now, std::vector<Action>& out);
  // A PE for `what` among the usable ones (see MemberSelector::shared()).
  std::optional<rserpool::PeIdentifier> select(const Placement& what);
  void join(rserpool::PeIdentifier pe, TimePoint now, std::vector<Action>& out);
  void loss_notice(rserpool::PeIdentifier pe, TimePoint now, std::vector<Action>& out);
  void moved(rserpool::PeIdentifier pe, TimePoint now, std::vector<Action>& out);
  void connect(rserpool::PeIdentifier pe, Member& m, TimePoint now, std::vector<Action>& out);
  void start_drain(rserpool::PeIdentifier pe, Duration deadline, TimePoint now, std::vector<Action>& out);
  void finish_drain(rserpool::PeIdentifier pe, TimePoint now, std::vector<Action>& out);
  void prove_alive(rserpool::PeIdentifier pe, TimePoint now, std::vector<Action>& out);
  // The member's association is gone (or cut off by us): failover.
  enum class Loss : std::uint8_t {
    failed,     // the link failed: report, fence, wait for the registrar
    cut_off,    // we cut it off (it registered anew): fence, no report
    closed,     // we closed it (shutdown): neither
  };
  void fail_member(rserpool::PeIdentifier pe, std::vector<MtpMessage> handed_back, Loss loss, TimePoint now,
                   std::vector<Action>& out);
  // Drops a member with no association (connecting, failed): its queue is
  // re-routed, its timers cancelled.
  void remove_member(rserpool::PeIdentifier pe, TimePoint now, std::vector<Action>& out);
  void became_active(TimePoint now, std::vector<Action>& out);
  void reroute(std::vector<MtpMessage> messages, TimePoint now, std::vector<Action>& out);
  // The same, counted as re-sent after a failover.
  void reroute_counted(std::vector<MtpMessage> messages, TimePoint now, std::vector<Action>& out);
  // Unbinds every flow of `pe` into its estate; returns how many.
  std::size_t orphan_flows_of(rserpool::PeIdentifier pe, std::vector<rserpool::Bytes> cookies);
  std::optional<rserpool::PeIdentifier> heir_for(rserpool::PeIdentifier origin);
  // An orphaned flow whose estate's heir is `pe`, which has the estate's
  // cookie: bound to `pe` now (as a message of the flow routed there would
  // bind it). False: not such a flow, nothing changed.
  bool reclaim_as_heir(rserpool::PeIdentifier pe, const FlowKey& flow, std::vector<Action>& out);
  // An orphaned flow bound to `heir` (flows_ already says so): out of the
  // orphans, the estate's cookies echoed to the heir once (before any of
  // the flow's data), the estate gone with its last flow.
  void adopt_orphan(std::unordered_map<FlowKey, rserpool::PeIdentifier, FlowKeyHash>::iterator orphan,
                    rserpool::PeIdentifier heir, Member& member, std::vector<Action>& out);
  // `pe` failed: the estates it was heir of become part of its own (their
  // orphans and cookies go to its heir). Returns how many flows came along.
  std::size_t fold_estates_into(rserpool::PeIdentifier pe);
  // Echoes the estate's cookies to `target` (once per estate and heir).
  void echo_estate(Estate& estate, rserpool::PeIdentifier target, Member& member, std::vector<Action>& out);
  static std::vector<rserpool::Bytes> cookies_of(const Member& m);
  bool usable(rserpool::PeIdentifier pe) const;
  // An heir keeps its estates while usable or merely suspected.
  bool keeps_estates(rserpool::PeIdentifier pe) const;
  void flush_pool_wait(TimePoint now, std::vector<Action>& out);
  void update_congestion(std::vector<Action>& out);
  bool has_usable_member() const;
  bool has_active_member() const;
  // Starts (or stops) the clock of "no active PE" that leads to DUNA.
  void track_availability(TimePoint now);
  // When a pool empty since `empty_since` is announced unavailable.
  TimePoint availability_deadline(TimePoint empty_since) const;
  // Start-up: (re)arms the settle timer after a change of the PE list.
  void membership_moved(TimePoint now);
  void arm_pool_wait();
  void cancel_member_timers(rserpool::PeIdentifier pe);
  void drop(MtpMessage m, DropReason r, std::vector<Action>& out);

  DistributorConfig config_;
  DistributorProfile profile_;
  MemberSelector& selector_;
  Membership membership_;
  std::map<rserpool::PeIdentifier, Member> members_;  // ordered: deterministic iteration
  FlowTable flows_;
  // Flows whose PE failed or left -> that PE, whose estate says where they go.
  std::unordered_map<FlowKey, rserpool::PeIdentifier, FlowKeyHash> orphans_;
  // Calls taken from a failed (fenced) PE, by the PE they were taken from:
  // what that PE still says about them after it is reconnected is stale,
  // even once the heir has finished the call. Forgotten when a new call is
  // set up on the circuit; at most one entry per circuit.
  std::unordered_map<FlowKey, rserpool::PeIdentifier, FlowKeyHash> taken_from_;
  std::map<rserpool::PeIdentifier, Estate> estates_;
  std::deque<Waiting> pool_wait_;
  std::size_t queued_total_ = 0;
  std::optional<TimePoint> no_member_since_;
  bool unavailable_signalled_ = false;
  bool ever_active_ = false;  // a PE's association has been up since start()
  bool congested_ = false;
  bool settled_ = false;
  bool hold_new_calls_ = false;  // hold_new_calls_until_settled()
  bool rerouting_waiting_ = false;  // flush_pool_wait() is re-routing the pool-wait queue
  bool applying_list_ = false;     // handlespace() is applying a new PE list
  TimePoint waiting_since_{};       // ... and this is the current message's age
  std::optional<TimePoint> first_listed_;
  rserpool::TimerSet<TimerKey> timers_;
  DistributorCounters counters_;
  std::vector<Candidate> candidates_;  // scratch, reused per selection
};

}  // namespace sg
