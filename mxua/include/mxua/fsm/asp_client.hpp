#pragma once
// ASP side of one association (RFC 4666 4.3.1, the node that sends the
// requests): ASPUP right after the association comes up (4.3.4.1), then one
// ASPAC per configured activation (4.3.4.3); ASPUP, ASPAC, ASPIA and ASPDN
// are retransmitted on T(ack) until acknowledged or max_retransmissions is
// reached. Requests go out one at a time so one T(ack) per association
// suffices. Also used as the requesting half of an IPSP.
//
// Timers (T(ack), T(beat)) live in the core's TimerSet: the driver arms one
// OS timer at next_deadline() and calls on_timeout(now).
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mxua/codec.hpp"
#include "mxua/fsm/actions.hpp"
#include "mxua/fsm/destination_table.hpp"
#include "mxua/fsm/heartbeat.hpp"
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
  DecodeLimits limits;
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
  // The substrate's timer convention (docs/architecture.md).
  std::optional<TimePoint> next_deadline() const { return timers_.next_deadline(); }
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
  Actions send_data(const DataView& d) {
    Actions out;
    send_data(d, out);
    return out;
  }

  // Entry points for a composite endpoint that decoded the message already.
  void handle(const Message& m, std::uint16_t stream, ByteView raw, TimePoint now, Actions& out);
  void handle_data(const DataView& d, std::uint16_t stream, ByteView raw, TimePoint now, Actions& out);
  void seen(TimePoint now) noexcept { beat_.seen(now); }

  AspState state() const noexcept;  // DOWN, INACTIVE, or ACTIVE when active for any RC
  bool active_for(std::optional<std::uint32_t> rc) const;
  const DestinationTable& destinations() const noexcept { return destinations_; }
  const DropCounters& drops() const noexcept { return drops_; }
  const AspClientConfig& config() const noexcept { return cfg_; }
  const ErrCounters& errors() const noexcept { return errs_; }
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
    std::optional<TrafficMode> mode;
    unsigned sent = 0;
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
};

}  // namespace mxua
