#pragma once
// Enhanced-mode sessions (draft-ietf-rserpool-service 3.3, 4.4-4.5; RFC
// 5352 3.8-3.9), sans-I/O.
//
// Session (pool-user side): one session to a pool handle, served by one PE
// at a time over an association that carries both ASAP control messages and
// user data. On a failure the transport hands back what it had not sent;
// the session picks the next PE (the PE's business-card order if it sent
// one, else the pool policy through PoolUser), connects, and then, in this
// order and nothing else in between:
//   1. COOKIE_ECHO with the newest cookie, as the first control message,
//   2. FailoverCallback to the application (it may re-synchronise),
//   3. the unsent messages, then what was queued meanwhile, in order,
//   4. FailoverIndication(new PE).
// Each failed PE is reported once (ENDPOINT_UNREACHABLE through PoolUser).
//
// Silence (for request/response services, not in the RFCs): with
// silence_timeout set, the first data sent after the last message heard
// from the PE starts a timer that any message from the PE stops; when it
// expires the PE is declared failed (AbortPe: the driver aborts the
// association, and its hand-back comes through on_pe_failure() as for any
// failure). Kernel SCTP cannot see a hung PE whose kernel still answers
// heartbeats; this can.
//
// Stalled (nobody to fail over to): the data stays queued and the pool is
// resolved again every stale_cache (PEs may have registered since).
//
// Timers: next_deadline() / on_timeout(now) (docs/architecture.md).
//
// PeSession (pool-element side): SET_COOKIE sends ASAP_COOKIE, a received
// COOKIE_ECHO becomes CookieIndication, send_business_card() sends the
// preferred failover order.
#include <deque>
#include <optional>
#include <vector>

#include "rserpool/asap/actions.hpp"
#include "rserpool/asap/pass_through.hpp"
#include "rserpool/asap/pool_user.hpp"
#include "rserpool/base/timer_set.hpp"

namespace rserpool::asap {

struct SessionConfig {
  SessionId id = 0;
  PoolHandle pool;
  std::size_t max_queued = 4096;  // messages held while no PE is connected
  PassThroughConfig pass_through{};  // DATA_SEND by transport address
  Duration silence_timeout{0};       // 0: off (see above)
};

class Session {
 public:
  // aborting: the PE was declared failed by silence and the driver aborts
  // its association; data waits for on_pe_failure().
  enum class State : std::uint8_t { idle, resolving, connecting, established, aborting, stalled, closed };

  Session(SessionConfig config, PoolUser& pool_user);

  State state() const noexcept { return state_; }
  SessionId id() const noexcept { return config_.id; }
  std::optional<PeIdentifier> current_pe() const noexcept;
  std::size_t queued() const noexcept { return queue_.size(); }
  const std::optional<Bytes>& last_cookie() const noexcept { return cookie_; }
  const std::vector<PoolElementParameter>& failover_order() const noexcept { return card_; }
  const TimerSet<Timer>& timers() const noexcept { return timers_; }
  std::optional<TimePoint> next_deadline() const { return timers_.next_deadline(); }
  void on_timeout(TimePoint now, Actions& out);

  // Service primitives. send*() return false when the message was not
  // accepted (queue full, session closed, unknown PE, not connected for
  // pass-through).
  void open(TimePoint now, Actions& out);
  void close(TimePoint now, Actions& out);
  bool send(Bytes data, TimePoint now, Actions& out);                     // to the pool
  bool send_to(PeIdentifier pe, Bytes data, TimePoint now, Actions& out);  // to one PE
  bool send_pass_through(Bytes data, TimePoint now, Actions& out);        // no queue, no re-send
  // DATA_SEND by transport address: a pass-through channel to `address`
  // (pass_through.hpp), independent of the current PE; no failover, no
  // re-send. Refusals are returned; later failures come as
  // PassThroughFailed.
  Result<ChannelId, PassThroughError> send_to_address(const TransportParameter& address, Bytes data,
                                                      Actions& out);
  void close_address(const TransportParameter& address, Actions& out);
  const PassThroughChannels& pass_through() const noexcept { return channels_; }

  // Events. The driver forwards PoolResolved / PoolUpdated /
  // ResolutionFailed for this session's pool.
  void on_pool_resolved(TimePoint now, Actions& out);
  void on_pool_resolution_failed(TimePoint now, Actions& out);
  void on_pe_connected(TimePoint now, Actions& out);
  void on_pe_connect_failed(TimePoint now, Actions& out);
  // The association to the current PE failed; `unsent` is what the
  // transport had accepted but not delivered, oldest first.
  void on_pe_failure(std::vector<Bytes> unsent, TimePoint now, Actions& out);
  // An ASAP control message from the current PE.
  void on_pe_message(const wire::asap::Message& m, TimePoint now, Actions& out);
  // User data from the current PE (delivered to the application by the
  // driver; the core only learns that the PE answered).
  void on_pe_data(TimePoint now);
  // Pass-through channel events.
  void on_address_connected(ChannelId channel, Actions& out);
  void on_address_failed(ChannelId channel, std::size_t undelivered, Actions& out);

 private:
  void fail_current(std::vector<Bytes> unsent, TimePoint now, Actions& out);
  // Connects to the next candidate; false when there is none.
  bool connect_next(TimePoint now, Actions& out);
  void connect(PoolElementParameter pe, Actions& out);
  void flush_queue(TimePoint now, Actions& out);
  void stall(TimePoint now, Actions& out);
  // Data goes to the PE: start waiting for its answer (silence_timeout).
  void send_data(Bytes data, bool pass_through, TimePoint now, Actions& out);
  void heard_from_pe();

  SessionConfig config_;
  PoolUser& pool_user_;
  State state_ = State::idle;
  std::optional<PoolElementParameter> current_;
  std::optional<PeIdentifier> failed_pe_;  // set while a failover runs
  bool served_ = false;                    // a PE has served this session
  std::vector<PeIdentifier> tried_;        // failed during this failover
  std::deque<Bytes> queue_;
  std::optional<Bytes> cookie_;               // newest only (RFC 5352 3.8)
  std::vector<PoolElementParameter> card_;    // business-card failover order
  PassThroughChannels channels_;
  TimerSet<Timer> timers_;  // silence, stall retry
};

std::string_view to_string(Session::State s) noexcept;

class PeSession {
 public:
  PeSession(std::uint32_t pu, PoolHandle pool) : pu_(pu), pool_(std::move(pool)) {}

  void set_cookie(Bytes cookie, Actions& out);
  void send_business_card(std::vector<PoolElementParameter> order, Actions& out);
  void on_pu_message(const wire::asap::Message& m, Actions& out);

 private:
  std::uint32_t pu_;
  PoolHandle pool_;
};

}  // namespace rserpool::asap
