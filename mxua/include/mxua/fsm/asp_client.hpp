#pragma once
// ASP side of one association (RFC 4666 4.3.1, the node that sends the
// requests): ASPUP right after the association comes up (4.3.4.1), then one
// ASPAC per configured activation (4.3.4.3); ASPUP, ASPAC, ASPIA and ASPDN
// are retransmitted on T(ack) until acknowledged or max_retransmissions is
// reached. Requests go out one at a time so one T(ack) per association
// suffices. Also used as the requesting half of an IPSP.
//
// A request the SGP refuses (ERR) or never answers (T(ack) exhausted) is
// not given up: ASPUP and ASPAC are sent again after a back-off that grows
// from retry_initial to retry_max (reset by an acknowledgement), and the
// refusal is kept for the operator (last_refusal()). An ASPAC refused with
// ERR Unsupported Traffic Mode Type (RFC 4666 4.3.4.3, 3.8.1) is asked
// again at once when the ASP follows the SGP's mode: without the Traffic
// Mode Type (the SGP applies the AS's mode), then with each other mode.
//
// Timers (T(ack), T(beat), the back-off) live in the core's TimerSet: the
// driver arms one OS timer at next_deadline() and calls on_timeout(now).
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mxua/codec.hpp"
#include "mxua/fsm/actions.hpp"
#include "mxua/fsm/data_verdict.hpp"
#include "mxua/fsm/destination_table.hpp"
#include "mxua/fsm/heartbeat.hpp"
#include "mxua/fsm/sgp/sgp_peers.hpp"
#include "rserpool/base/timer_set.hpp"

namespace mxua {

// One ASPAC: the RCs it names (none: let the SGP activate all the ASP's ASes)
// and the traffic mode it asks for.
struct AspActivation {
  std::vector<std::uint32_t> routing_contexts;
  std::optional<TrafficMode> traffic_mode = TrafficMode::Loadshare;
};

struct AspClientConfig {
  AssocId assoc = 0;
  std::optional<std::uint32_t> asp_id;
  std::vector<AspActivation> activations{AspActivation{}};
  bool auto_activate = true;  // send the activations as soon as ASPUP is acknowledged
  Duration t_ack = Millis{2000};
  unsigned max_retransmissions = 4;  // after the first transmission
  std::optional<Duration> t_beat;    // BEAT only on transports without their own heartbeat
  std::uint16_t outbound_streams = 2;
  std::optional<std::uint32_t> network_appearance;  // put into DATA we send
  bool err_on_unexpected_data = true;              // ERR 0x06 for DATA while not active (else drop only)
  // Follow the SGP's traffic mode when it refuses ours (see above).
  bool follow_peer_mode = false;
  // Back-off before a refused or unanswered ASPUP / ASPAC goes out again.
  Duration retry_initial = Millis{1000};
  Duration retry_max = Millis{30000};
  // Originating point codes the SGP may send us DATA from (OPC screening,
  // sgp_peers.hpp); empty: any.
  std::vector<MaskedPointCode> originating_point_codes{};
  DecodeLimits limits;
};

// The last request the peer refused or left unanswered.
struct RequestRefusal {
  MessageId request;
  std::optional<ErrorCode> error;          // nullopt: no answer within T(ack) and its retransmissions
  std::optional<TrafficMode> traffic_mode;  // of a refused ASPAC
  std::vector<std::uint32_t> routing_contexts;
  TimePoint at{};
  std::optional<TimePoint> retry_at;  // nullopt: not retried (ASPIA, ASPDN)
};

class AspClient {
 public:
  explicit AspClient(AspClientConfig cfg);

  Actions association_up(TimePoint now, std::optional<std::uint16_t> outbound_streams = std::nullopt);
  Actions association_down(TimePoint now);
  Actions receive(std::uint16_t stream, ByteView bytes, TimePoint now) {
    Actions out;
    receive(stream, bytes, now, out);
    return out;
  }
  // Appends to `out`: a driver can reuse one vector for every message.
  void receive(std::uint16_t stream, ByteView bytes, TimePoint now, Actions& out);
  // receive()'s common case without an action list (issue 16): true, with
  // `indication` filled, exactly when receive() would give one
  // DataIndication and nothing else, with the same effect on the client;
  // false, and the client untouched, otherwise: the caller then calls
  // receive(). The verdict is handle_data()'s own (data_verdict()).
  bool receive_data_now(std::uint16_t stream, ByteView bytes, TimePoint now, DataIndication& indication);
  // The substrate's timer convention (docs/architecture.md).
  std::optional<TimePoint> next_deadline() const { return timers_.next_deadline(); }
  // Grows whenever next_deadline() may have changed (TimerSet::changes()).
  std::uint64_t timer_changes() const noexcept { return timers_.changes(); }
  void on_timeout(TimePoint now, Actions& out);
  Actions on_timeout(TimePoint now) {
    Actions out;
    on_timeout(now, out);
    return out;
  }

  // Layer-management requests.
  Actions activate(AspActivation a, TimePoint now);
  Actions inactivate(std::vector<std::uint32_t> rcs, TimePoint now);
  Actions shutdown(TimePoint now);  // ASPDN
  Actions register_keys(std::vector<RoutingKey> keys, TimePoint now);
  Actions deregister(std::vector<std::uint32_t> rcs, TimePoint now);
  // SSNM the ASP may send (DAUD, SCON); refused before ASPUP ACK.
  Actions send_ssnm(const Message& m, TimePoint now);

  // DATA towards the SGP: on the SLS stream, only while ASP-ACTIVE for the RC.
  void send_data(const DataView& d, Actions& out);
  // send_data()'s common case without an action list (issue 16): true,
  // with `s` filled, exactly when send_data() would give that one SendData
  // (nothing is counted on it); false otherwise, and send_data() says why.
  bool send_data_now(const DataView& d, SendData& s) const;
  Actions send_data(const DataView& d) {
    Actions out;
    send_data(d, out);
    return out;
  }

  // Entry points for a composite endpoint that decoded the message already.
  void handle(const Message& m, std::uint16_t stream, ByteView raw, TimePoint now, Actions& out);
  void handle_data(const DataView& d, std::uint16_t stream, ByteView raw, TimePoint now, Actions& out);
  // What handle_data() does with this DATA: deliver it, or refuse it
  // (drop reason, ERR).
  DataVerdict data_verdict(const DataView& d, std::uint16_t stream) const;
  void seen(TimePoint now) noexcept { beat_.seen(now); }

  AspState state() const noexcept;  // DOWN, INACTIVE, or ACTIVE when active for any RC
  bool active_for(std::optional<std::uint32_t> rc) const;
  const DestinationTable& destinations() const noexcept { return destinations_; }
  const DropCounters& drops() const noexcept { return drops_; }
  const AspClientConfig& config() const noexcept { return cfg_; }
  const ErrCounters& errors() const noexcept { return errs_; }
  const std::optional<RequestRefusal>& last_refusal() const noexcept { return last_refusal_; }
  std::uint64_t refusals() const noexcept { return refusals_; }
  std::uint64_t mode_retries() const noexcept { return mode_retries_; }
  // The traffic mode the SGP accepted for an activation (nullopt: not
  // active, or the ACK and the request named none).
  std::optional<TrafficMode> traffic_mode(std::optional<std::uint32_t> rc) const;
  // Requests waiting for their back-off to end.
  std::size_t deferred() const noexcept { return deferred_.size(); }
  std::uint64_t retransmissions() const noexcept { return retransmissions_; }
  // The driver's association id, set before association_up (the driver
  // gives every association a process-unique id).
  void set_association(AssocId assoc) noexcept;
  const rserpool::TimerSet<TimerKey>& timers() const noexcept { return timers_; }

 private:
  struct Request {
    MessageId id;
    Message message;
    std::vector<std::uint32_t> rcs;
    std::optional<TrafficMode> mode;  // as configured
    unsigned sent = 0;
    std::optional<TrafficMode> asked;                  // the Traffic Mode Type of the current ASPAC
    std::vector<std::optional<TrafficMode>> tried{};   // modes the SGP refused (follow)
    TimePoint retry_at{};
  };
  void enqueue(MessageId id, const Message& m, std::vector<std::uint32_t> rcs, std::optional<TrafficMode> mode,
               Actions& out);
  void pump(Actions& out);
  void complete_front(Actions& out);
  bool front_is(std::uint8_t cls, std::uint8_t type) const;
  void go_down(Actions& out);
  void set_active(std::optional<std::uint32_t> rc, bool active, Actions& out);
  void enqueue_activations(const std::vector<AspActivation>& acts, Actions& out);
  void send_err(Err e, Actions& out);
  void drop(DropReason r, Actions& out);
  void transmit(const Request& r, TimePoint now, Actions& out);
  void sync_beat();
  void refused(std::optional<ErrorCode> error, Actions& out);
  bool follow_mode(Request& r, Actions& out);
  void retry_due(TimePoint now, Actions& out);
  void arm_retry();

  AspClientConfig cfg_;
  bool up_ = false;                                // ASP-INACTIVE or better
  std::set<std::optional<std::uint32_t>> active_;  // nullopt: activated without RC
  std::deque<Request> queue_;
  bool outstanding_ = false;
  std::vector<AspActivation> restore_;  // activations to redo after an unsolicited ACK
  Heartbeat beat_;
  rserpool::TimerSet<TimerKey> timers_;
  TimePoint now_{};  // of the event being handled (request transmissions arm T(ack) from it)
  DestinationTable destinations_;
  DropCounters drops_;
  ErrCounters errs_;
  std::uint64_t retransmissions_ = 0;
  std::deque<Request> deferred_;  // refused, waiting for the back-off (oldest first)
  Duration backoff_;
  std::optional<RequestRefusal> last_refusal_;
  std::uint64_t refusals_ = 0;
  std::uint64_t mode_retries_ = 0;
  std::map<std::optional<std::uint32_t>, std::optional<TrafficMode>> modes_;
};

}  // namespace mxua
