#pragma once
// Executes the Actions of one M3UA core on Boost.Asio, in order: Send and
// SendData are encoded here (once) and go to the named association with
// PPID 3 on the given stream, PeerUnavailable and AssociationRefused abort
// the association, every indication goes to the user's Events. After each
// batch the runner re-arms its one OS timer at the core's next_deadline();
// when it fires, the core's on_timeout(now) runs and its actions follow.
// One runner serves one core: an SgpNode (all its associations) or one ASP
// / IPSP endpoint. The runner decides nothing: it executes.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "mxua/driver/events.hpp"
#include "mxua/fsm/actions.hpp"
#include "rserpool/base/time.hpp"

namespace mxua::driver {

inline constexpr std::uint32_t kM3uaPpid = 3;

// A new association id: unique in the process, never reused, never 0
// (log lines and the cores' actions name associations by it).
AssocId next_association_id() noexcept;

class ActionRunner : public std::enable_shared_from_this<ActionRunner> {
  struct Key {};  // construction only through create(): the timer needs weak_from_this()

 public:
  // The core's timer interface (docs/architecture.md, "The substrate").
  struct CoreTimers {
    std::function<std::optional<TimePoint>()> next_deadline;
    std::function<void(TimePoint, Actions&)> on_timeout;
    // Optional: a count that grows whenever next_deadline() may have
    // changed (the core's TimerSet::changes()). While it stands still the
    // runner does not ask next_deadline() again after a batch (issue 16:
    // the relay path moves no timer, yet asked after every message).
    std::function<std::uint64_t()> changes;
  };

  static std::shared_ptr<ActionRunner> create(boost::asio::io_context& io, Events& events,
                                              const rserpool::Clock& clock = rserpool::SteadyClock::instance());
  ActionRunner(Key, boost::asio::io_context& io, Events& events, const rserpool::Clock& clock);
  ~ActionRunner();
  ActionRunner(const ActionRunner&) = delete;
  ActionRunner& operator=(const ActionRunner&) = delete;

  void set_core_timers(CoreTimers t) {
    core_ = std::move(t);
    seen_changes_.reset();
  }

  TimePoint now() const { return clock_.now(); }
  boost::asio::io_context& io() noexcept { return io_; }
  Events& events() noexcept { return events_; }
  DriverCounters& counters() noexcept { return counters_; }
  const DriverCounters& counters() const noexcept { return counters_; }

  // The association that Send{assoc} actions go to, from up to down, and
  // how log lines name it ("stp-a 192.0.2.1:2905").
  void attach(AssocId assoc, std::shared_ptr<tr::Association> a, const tr::AssociationInfo& info,
              std::string label = {});
  void detach(AssocId assoc);
  std::shared_ptr<tr::Association> association(AssocId assoc) const;
  std::size_t associations() const noexcept { return assocs_.size(); }
  std::string label(AssocId assoc) const;

  // Executes every action in order, then clears the vector (its capacity
  // stays, so a caller can reuse it), then re-arms the core's timer. Safe to
  // re-enter from Events callbacks.
  void run(Actions& actions);
  // run(), with the buffer that holds the user data of the DATA being
  // sent (the caller's own, e.g. the frame it was received in, the user
  // data where it lay: ProtocolData::user_at):
  // when one SendData, and only one, borrows its user data from it, that
  // DATA is built in the buffer itself (encode_data_in_place(): no second
  // buffer, no copy) and `user_part` is left empty. A refused one is then
  // handed back from the bytes the transport gives back. Otherwise
  // (and when it is too small to hold the DATA: growing it would allocate)
  // `user_part` is left as it was.
  void run(Actions& actions, Bytes& user_part);
  // One SendData the core gave without an action list (issue 16:
  // AspClient::send_data_now(), SgpNode::route_now(), both const: the
  // core's timers did not move): executed as run(actions, user_part) would
  // execute it as the sole action. Re-arms only where the timers may have
  // moved since: when the transport refused it, whose hand-back runs the
  // user's events, which may call into the core.
  void send_data_now(const SendData& s, Bytes& user_part);

  // Messages the transport could not deliver: DATA decoded and handed to
  // Events::on_send_failed, everything else counted and dropped.
  void hand_back(AssocId assoc, std::vector<tr::Message>&& unsent);

  // When the OS timer is armed for (the core's next deadline), if at all.
  std::optional<TimePoint> armed_at() const noexcept { return armed_at_; }
  // How many times the core's next_deadline() was asked (tests).
  std::uint64_t deadline_queries() const noexcept { return deadline_queries_; }
  void cancel_timer();

 private:
  struct Bound {
    std::shared_ptr<tr::Association> assoc;
    std::uint16_t outbound_streams = 0;
    bool tcp = false;
    std::string label;
  };

  // `data`: the DATA being sent (nullptr for management), handed back
  // from there if the transport refuses it; `data_frame`: `bytes` is a DATA
  // built in place (no view of it left), handed back from the refused bytes.
  void send(AssocId assoc, std::uint16_t stream, const DataView* data, Bytes& bytes, bool data_frame = false);
  Bound* bound(AssocId assoc);  // nullptr: not attached
  void hand_back_frame(AssocId assoc, Bytes& frame);
  void execute(const SendData& a);
  void log_err_sent(AssocId assoc, const Err& e);
  void rearm();
  void fire(std::uint64_t generation);
  void peer_unavailable(AssocId assoc);
  void refused(AssocId assoc);

  boost::asio::io_context& io_;
  Events& events_;
  const rserpool::Clock& clock_;
  CoreTimers core_;
  boost::asio::steady_timer timer_;
  std::optional<TimePoint> armed_at_;
  // The core's changes() when next_deadline() was last asked and the OS
  // timer set from it; forgotten when the timer fires or is cancelled (the
  // deadline it was set for may have moved later meanwhile without a
  // change since: see rearm()).
  std::optional<std::uint64_t> seen_changes_;
  std::uint64_t deadline_queries_ = 0;
  std::uint64_t generation_ = 0;
  int depth_ = 0;  // run() nesting: re-arm once, at the outermost level
  Bytes* send_loan_ = nullptr;  // run(actions, user_part): the sole SendData's user part
  std::unordered_map<AssocId, Bound> assocs_;
  // bound()'s last answer; reset by attach() and detach().
  AssocId last_assoc_ = 0;
  Bound* last_bound_ = nullptr;
  DriverCounters counters_;
};

}  // namespace mxua::driver
