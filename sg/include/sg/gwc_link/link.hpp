#pragma once
// The pool user's end of one association to a gateway controller (a pool
// element), as a sans-I/O state machine: M3UA IPSP single exchange with the
// SG as initiator (profile.hpp), the ASAP control channel (PPID 11) on the
// same association, and COOKIE_ECHO before data on every stream
// (echo_before_data.hpp). The M3UA endpoint itself (ASPUP/ASPAC, T(ack),
// BEAT) is mxua's core; this one decides what the link is worth to the
// distributor:
//
//   connecting --association up--> m3ua_starting --ASP ACTIVE for RC 1--> active
//   any live state --failure--> failing --association down--> failed   (Failed, once)
//   m3ua_starting/active --close()--> closing --ASPDN ACK / grace--> closed (Closed)
//   any live state --fence()--> aborting --association down--> closed   (Closed)
//
// - The link is up for the distributor only once the IPSP is ACTIVE for the
//   link's routing context (RFC 4666 4.3.4.3): before that DATA would be
//   refused by M3UA.
// - A failure (association lost or aborted, M3UA leaving ACTIVE, ASPUP or
//   ASPAC unanswered, our DATA refused by M3UA) is reported once, when the
//   association is down, with everything the transport handed back and
//   every DATA given to the link after the failure was seen, oldest first:
//   one report holds all that must be re-sent (the transport hands back
//   before it reports down). While the association is still up it is
//   aborted first: a failed controller never keeps a live association.
// - A fenced (or failed) link delivers nothing more: DATA and cookies that
//   arrive after it are dropped and counted (a controller whose calls
//   failed over must not answer them a second time through us).
// - Graceful close: ASPDN, then the association is closed once ASPDN is
//   acknowledged or after a grace period.
//
// Events come in with `now` where time matters; actions go out in order;
// the grace period lives in the link's TimerSet (next_deadline(),
// on_timeout()). No I/O, no clock, no logging: the executor (sgd's PeLink,
// or a simulation) performs the actions and writes the log lines.
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "mxua/fsm/actions.hpp"
#include "rserpool/base/bytes.hpp"
#include "rserpool/base/time.hpp"
#include "rserpool/base/timer_set.hpp"
#include "rserpool/transport/message.hpp"
#include "sg/gwc_link/echo_before_data.hpp"
#include "sg/routing/mtp_message.hpp"

namespace sg::gwc_link {

enum class LinkState : std::uint8_t {
  connecting,     // association being set up
  m3ua_starting,  // association up, ASPUP/ASPAC under way
  active,         // IPSP ACTIVE for our routing context: carries DATA
  closing,        // graceful close under way (ASPDN, then SHUTDOWN)
  failing,        // a failure was seen: the association is being aborted
  aborting,       // fenced by the distributor: the association is being aborted
  failed,         // failure reported (Failed)
  closed,         // closed or fenced, leftovers reported (Closed)
};
std::string_view to_string(LinkState s) noexcept;

enum class FailureCause : std::uint8_t {
  association_lost,   // transport: lost, aborted, heartbeat or BEAT timeout, connect failed
  m3ua_left_active,   // the IPSP left ACTIVE while the association stayed up
  m3ua_start_failed,  // ASPUP or ASPAC unanswered or refused
  m3ua_refused_data,  // M3UA refused DATA we gave it (not active, no data stream)
};
std::string_view to_string(FailureCause c) noexcept;

// What the link discarded (counted), for a rate-limited warning.
enum class Discard : std::uint8_t {
  data_after_fence,     // DATA from a controller cut off from its calls
  cookie_after_fence,   // ASAP_COOKIE from a controller cut off from its calls
  m3ua_inbound,         // the M3UA layer dropped what the controller sent (detail: mxua::DropReason)
  undecodable_control,  // PPID 11 message that is no valid ASAP message
  unexpected_control,   // an ASAP message other than ASAP_COOKIE (detail: type)
  foreign_ppid,         // neither M3UA nor ASAP (detail: PPID)
};
std::string_view to_string(Discard d) noexcept;

struct LinkCounters {
  struct Traffic {
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
    void add(std::size_t n) noexcept {
      ++messages;
      bytes += n;
    }
  };
  Traffic in;   // DATA from the controller, delivered
  Traffic out;  // DATA to the controller, given to M3UA
  std::uint64_t cookies_received = 0;
  std::uint64_t cookie_echoes_sent = 0;
  std::uint64_t connects = 0;
  std::uint64_t failures = 0;
  std::uint64_t fenced = 0;
  std::uint64_t dropped_after_fence = 0;  // DATA and cookies after a fence or failure
  std::uint64_t m3ua_refused = 0;         // our DATA refused by M3UA (handed to failover)
  std::uint64_t m3ua_inbound_drops = 0;
  std::uint64_t control_errors = 0;       // undecodable, unexpected or foreign-PPID control messages
};

namespace action {
struct Up {};
// Once per association: everything to re-send elsewhere, oldest first.
struct Failed {
  FailureCause cause;
  std::optional<rserpool::transport::DownReason> down;  // the transport's reason, when it reported one
  std::vector<MtpMessage> handed_back;
};
// After close() or fence(): what the association did not deliver.
struct Closed { std::vector<MtpMessage> handed_back; };
struct Deliver { MtpMessage message; };  // DATA from the controller towards SS7
struct CookieReceived { rserpool::Bytes cookie; };
struct SendControl { StreamMessage message; };  // PPID 11, on that stream
struct SendData { MtpMessage message; };        // to M3UA (routing context kRoutingContext)
struct RequestAspDown {};
struct CloseAssociation {};
struct AbortAssociation {};
struct Discarded { Discard what; std::uint32_t detail = 0; };
}  // namespace action

using Action = std::variant<action::Up, action::Failed, action::Closed, action::Deliver, action::CookieReceived,
                            action::SendControl, action::SendData, action::RequestAspDown,
                            action::CloseAssociation, action::AbortAssociation, action::Discarded>;
using Actions = std::vector<Action>;

class Link {
 public:
  // How long a closing link waits for the ASPDN ACK before closing anyway.
  static constexpr rserpool::Duration kAspDownGrace = std::chrono::milliseconds(300);

  explicit Link(std::shared_ptr<LinkCounters> counters);

  // --- Transport -------------------------------------------------------------
  void association_up(Actions& out);
  void association_down(rserpool::transport::DownReason reason, Actions& out);
  // DATA the transport accepted and did not deliver (oldest first).
  void send_failed(std::vector<MtpMessage> unsent);
  // Outbound streams M3UA uses for DATA (it picks data_stream(sls, n)).
  void set_outbound_streams(std::uint16_t n) noexcept { outbound_streams_ = n; }

  // --- M3UA indications ----------------------------------------------------
  // `routing_context` as the ASP state indication carries it (none: all).
  void asp_state(mxua::AspState from, mxua::AspState to, std::optional<std::uint32_t> routing_context,
                 Actions& out);
  void request_failed(Actions& out);
  void data(MtpMessage m, Actions& out);
  // The common case of data() without an action list (issue 16: once per
  // message from a controller): true when data() would give exactly one
  // Deliver of `m` and nothing else; then it is counted as data() counts
  // it and the caller delivers it. False: nothing done, call data().
  bool deliver_now(const MtpMessage& m);
  void m3ua_dropped_inbound(mxua::DropReason reason, std::uint32_t count, Actions& out);

  // --- ASAP control channel --------------------------------------------------
  void control(std::uint32_t ppid, rserpool::ByteView payload, Actions& out);

  // --- From the distributor --------------------------------------------------
  // DATA for the controller: appends the cookie echoes owed on its stream,
  // then SendData. A link that is failing keeps it for its Failed report.
  void send(MtpMessage m, Actions& out);
  // The common case of send() without an action list (issue 16: once per
  // message to a controller): true when send() would give exactly one
  // SendData of `m` and nothing else (active, no cookie echo owed); then it
  // is counted as send() counts it and the caller hands it to M3UA (and
  // reports a refusal through refused(), as after SendData). False: nothing
  // done, call send().
  bool send_now(const MtpMessage& m);
  // M3UA refused the DATA just given to it: the link cannot carry traffic.
  void refused(MtpMessage m, Actions& out);
  // ASAP_COOKIE_ECHO before any later DATA on every stream (false: not active).
  bool echo_cookie(const rserpool::Bytes& encoded_echo, Actions& out);
  void close(rserpool::TimePoint now, Actions& out);
  // The controller's calls failed over: cut it off at once.
  void fence(Actions& out);

  // --- Time --------------------------------------------------------------------
  std::optional<rserpool::TimePoint> next_deadline() const { return timers_.next_deadline(); }
  void on_timeout(rserpool::TimePoint now, Actions& out);

  LinkState state() const noexcept { return state_; }
  bool live() const noexcept;  // may still deliver or carry traffic
  const LinkCounters& counters() const noexcept { return *counters_; }

 private:
  enum class Timer : std::uint8_t { aspdn_grace };
  void fail(FailureCause cause, Actions& out);
  void report_down(std::optional<rserpool::transport::DownReason> reason, Actions& out);
  std::vector<MtpMessage> take_leftovers();

  std::shared_ptr<LinkCounters> counters_;
  LinkState state_ = LinkState::connecting;
  bool association_is_up_ = false;
  FailureCause cause_ = FailureCause::association_lost;
  std::uint16_t outbound_streams_ = 0;
  std::vector<MtpMessage> handed_back_;  // by the transport (sent before anything below)
  std::vector<MtpMessage> held_;         // given to us after the failure was seen, or refused by M3UA
  EchoBeforeData echo_;
  std::vector<StreamMessage> control_out_;  // scratch
  rserpool::TimerSet<Timer> timers_;
};

}  // namespace sg::gwc_link
