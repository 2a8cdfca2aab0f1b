#pragma once
// The gateway's pool user for one pool: it decides which pool element (a
// gateway controller) gets each message, keeps flows sticky, and runs the
// failover. Sans-I/O: events in, actions out, virtual time passed in.
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
// - A failed PE's flows all move to one successor, chosen by the pool
//   policy, which receives the failed PE's latest ASAP cookie (COOKIE_ECHO)
//   before any data. The cookie is the failed PE's state as a whole, so it
//   has exactly one heir, as in RSerPool's enhanced-mode session failover;
//   new flows keep being balanced over all live PEs.
// - A failure is reported to the registrar (ENDPOINT_UNREACHABLE) once per
//   failure event: failed reconnection attempts belong to the same event,
//   a successful reconnection ends it.
// - A pool with no active PE for pool_wait (from start() on, so also at
//   start-up) is announced unavailable (DUNA); available again (DAVA) when
//   a PE's association comes up.
// - A PE that deregisters is drained: no new flows; calls in progress stay
//   until released or until the drain deadline, then move like a failover.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>
#include <string_view>
#include <variant>
#include <vector>

#include "rserpool/wire/types.hpp"
#include "sg/routing/flow.hpp"
#include "sg/routing/flow_table.hpp"
#include "sg/routing/mtp_message.hpp"

namespace sg {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

struct DistributorConfig {
  // How long messages wait while the pool has no usable PE.
  Duration pool_wait = std::chrono::milliseconds(2000);
  // How long a draining PE keeps its calls.
  Duration drain_deadline = std::chrono::seconds(30);
  // Bound of each queue (per PE while connecting, and the pool-wait queue).
  std::size_t max_queue = 10000;
  // Above this fill of a queue the SS7 side is told of congestion (SCON).
  std::size_t congestion_onset = 8000;
  std::size_t congestion_abatement = 2000;
  friend bool operator==(const DistributorConfig&, const DistributorConfig&) = default;
};

enum class DropReason : std::uint8_t { pool_unavailable, queue_full, no_route, member_gone };
std::string_view to_string(DropReason r) noexcept;

enum class MemberState : std::uint8_t { connecting, active, draining, failed };
std::string_view to_string(MemberState s) noexcept;

// The pool user's view of one PE, as handle resolution reports it.
struct Candidate {
  rserpool::PeIdentifier id = 0;
  const rserpool::PolicyParameters* policy = nullptr;
  std::size_t flows = 0;
};

// Picks the PE for a new flow among the usable ones, by the pool's policy.
class MemberSelector {
 public:
  virtual ~MemberSelector() = default;
  // `candidates` is never empty; returns one of their ids.
  virtual rserpool::PeIdentifier pick(std::span<const Candidate> candidates) = 0;
};

namespace action {
struct Connect { rserpool::PeIdentifier pe; };
struct Disconnect { rserpool::PeIdentifier pe; };
struct SendData { rserpool::PeIdentifier pe; MtpMessage message; };
struct SendCookieEcho { rserpool::PeIdentifier pe; rserpool::Bytes cookie; };
struct ReportUnreachable { rserpool::PeIdentifier pe; };
struct Drop { MtpMessage message; DropReason reason; };
// The pool can take no traffic: the SS7 side should hear DUNA for the
// destinations routed to it; Available (DAVA) when it can again.
struct PoolUnavailable {};
struct PoolAvailable {};
struct Congestion { bool onset; };
}  // namespace action

using Action = std::variant<action::Connect, action::Disconnect, action::SendData, action::SendCookieEcho,
                            action::ReportUnreachable, action::Drop, action::PoolUnavailable,
                            action::PoolAvailable, action::Congestion>;

struct DistributorCounters {
  std::uint64_t accepted = 0;
  std::uint64_t sent = 0;
  std::uint64_t queued = 0;
  std::uint64_t resent_after_failover = 0;
  std::uint64_t failovers = 0;
  std::uint64_t flows_moved = 0;
  std::uint64_t cookies_echoed = 0;
  std::uint64_t drains = 0;
  std::uint64_t dropped_pool_unavailable = 0;
  std::uint64_t dropped_queue_full = 0;
  std::uint64_t dropped_member_gone = 0;
};

class PoolDistributor {
 public:
  PoolDistributor(DistributorConfig config, MemberSelector& selector);

  // The pool is served from `now` on: if no PE is active by now + pool_wait
  // the pool is announced unavailable, even before any traffic arrived.
  void start(TimePoint now);
  // New settings for a running pool (operator change). Queues already
  // longer than a new bound are not cut: only new messages see it.
  std::vector<Action> reconfigure(const DistributorConfig& config, TimePoint now);
  const DistributorConfig& config() const noexcept { return config_; }

  // --- Pool membership, from ASAP handle resolution ---------------------
  // A PE appeared (or its policy values changed). New PEs start connecting.
  std::vector<Action> member_added(rserpool::PeIdentifier pe, const rserpool::PolicyParameters& policy,
                                   TimePoint now);
  // The PE left the pool (deregistered, or expired at the registrar): drain.
  std::vector<Action> member_removed(rserpool::PeIdentifier pe, TimePoint now);
  // The operator drains the PE: as member_removed, with its own deadline.
  std::vector<Action> drain(rserpool::PeIdentifier pe, Duration deadline, TimePoint now);

  // --- Association events, from the M3UA/transport driver ---------------
  std::vector<Action> association_up(rserpool::PeIdentifier pe, TimePoint now);
  // The association failed (lost, aborted, M3UA ASP down, heartbeat or BEAT
  // timeout). `handed_back` are the messages the transport could not
  // deliver, oldest first.
  std::vector<Action> association_failed(rserpool::PeIdentifier pe, std::vector<MtpMessage> handed_back,
                                         TimePoint now);
  // The PE's control channel delivered a new ASAP cookie.
  void cookie_received(rserpool::PeIdentifier pe, rserpool::Bytes cookie);

  // --- Traffic ---------------------------------------------------------
  std::vector<Action> message(MtpMessage m, TimePoint now);
  // A message the PE sent toward the SS7 side: binds the circuit to that PE
  // (calls the controller originates) and ends it on release.
  void observe_from_member(rserpool::PeIdentifier pe, const MtpMessage& m);

  // --- Time -------------------------------------------------------------
  std::optional<TimePoint> next_deadline() const;
  std::vector<Action> advance(TimePoint now);

  // --- Inspection -------------------------------------------------------
  const DistributorCounters& counters() const noexcept { return counters_; }
  std::optional<MemberState> state_of(rserpool::PeIdentifier pe) const;
  std::vector<rserpool::PeIdentifier> members() const;
  // Messages waiting behind a PE whose association is not up yet.
  std::size_t queue_depth(rserpool::PeIdentifier pe) const;
  std::size_t flow_count(rserpool::PeIdentifier pe) const { return flows_.count_of(pe); }
  std::vector<FlowKey> flows_of(rserpool::PeIdentifier pe) const { return flows_.flows_of(pe); }
  std::size_t flow_count() const noexcept { return flows_.size(); }
  std::size_t pool_wait_depth() const noexcept { return pool_wait_.size(); }
  bool pool_available() const noexcept { return !unavailable_signalled_; }

 private:
  struct Member {
    MemberState state = MemberState::connecting;
    rserpool::PolicyParameters policy;
    std::deque<MtpMessage> queue;  // waiting for the association to come up
    std::optional<rserpool::Bytes> latest_cookie;
    std::vector<rserpool::Bytes> echo_before_data;  // cookies to send when up
    std::optional<TimePoint> drain_deadline;
    bool carried_traffic = false;  // report unreachable only if we tried it
    // A failure event lasts from the first failure to the next association
    // up: failed reconnection attempts are not new failovers or reports.
    bool failure_event = false;
    bool reported_unreachable = false;
  };
  // The flows a failed (or drained) PE left behind, and who inherits them.
  struct Estate {
    std::optional<rserpool::Bytes> cookie;
    std::optional<rserpool::PeIdentifier> heir;
    std::set<rserpool::PeIdentifier> echoed_to;  // PEs that have this cookie
    std::size_t flows = 0;  // orphaned flows not yet rebound
  };
  struct Waiting {
    MtpMessage message;
    TimePoint since;
  };

  void route(MtpMessage m, const ClassifiedMessage& c, TimePoint now, std::vector<Action>& out);
  void deliver(rserpool::PeIdentifier pe, Member& member, MtpMessage m, std::vector<Action>& out);
  std::optional<rserpool::PeIdentifier> select_for_new_flow();
  void finish_drain(rserpool::PeIdentifier pe, TimePoint now, std::vector<Action>& out);
  // Unbinds every flow of `pe` into its estate; returns how many.
  std::size_t orphan_flows_of(rserpool::PeIdentifier pe, const std::optional<rserpool::Bytes>& cookie);
  std::optional<rserpool::PeIdentifier> heir_for(rserpool::PeIdentifier origin);
  bool usable(rserpool::PeIdentifier pe) const;
  void flush_pool_wait(TimePoint now, std::vector<Action>& out);
  void update_congestion(std::vector<Action>& out);
  bool has_usable_member() const;
  bool has_active_member() const;
  // Starts (or stops) the clock of "no active PE" that leads to DUNA.
  void track_availability(TimePoint now);

  DistributorConfig config_;
  MemberSelector& selector_;
  std::map<rserpool::PeIdentifier, Member> members_;  // ordered: deterministic iteration
  FlowTable flows_;
  // Flows whose PE failed or left -> that PE, whose estate says where they go.
  std::unordered_map<FlowKey, rserpool::PeIdentifier, FlowKeyHash> orphans_;
  std::map<rserpool::PeIdentifier, Estate> estates_;
  std::deque<Waiting> pool_wait_;
  std::size_t queued_total_ = 0;
  std::optional<TimePoint> no_member_since_;
  bool unavailable_signalled_ = false;
  bool congested_ = false;
  DistributorCounters counters_;
  std::vector<Candidate> candidates_;  // scratch, reused per selection
};

}  // namespace sg
