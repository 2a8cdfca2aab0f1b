#pragma once
// What a gateway controller (gwc-sim) sends toward the SS7 side, over its
// SG associations, in order; sans-I/O (events and `now` in, steps out).
//
// A message goes on the association its call came on, else on any active
// one; with none it waits, in order, bounded in number and age, and leaves
// on the first association that becomes active.
//
// An SG that dies takes a moment to be seen dead: the controller's kernel
// still accepts what is sent on the association (it stays unacknowledged),
// then refuses a send (SCTP: not connected) before the association's end is
// reported, and gives back what it had accepted only at that end. Sent on
// at once through the other SG, the refused message and those after it
// overtake the ones the kernel still holds: an ANM reached the SS7 side
// before its call's ACM, which the dead association gave back 37 ms later
// (UML, osmo-stp pair test under load: an unexpected message at ss7-gen).
// So from a refusal until that association is down, everything waits; at
// its end what its kernel gave back goes first, then the refused messages,
// then what waited, in the order they were sent. An association refused
// but never reported down is given up after `dying_bound`.
//
// What the dead SG had already passed to its kernel toward the STP is not
// given back, and still leaves in the kernel's graceful shutdown: the calls
// whose last message went through a failed association wait a moment
// before they continue through the mate (sim::ChangeoverHold).
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "rserpool/base/time.hpp"
#include "sg/routing/mtp_message.hpp"
#include "sg/sim/changeover_hold.hpp"

namespace sg::sim {

struct OutboxConfig {
  std::size_t max_held = 10000;
  std::chrono::milliseconds max_age{10000};
  std::chrono::milliseconds dying_bound{2000};
  ChangeoverConfig changeover{};
};

struct OutboxCounters {
  std::uint64_t held = 0;         // waited for an SG association (or a dying one's end)
  std::uint64_t expired = 0;      // ... and expired or overflowed
  std::uint64_t refused = 0;      // refused by an association at once (it is dying)
  std::uint64_t handed_back = 0;  // accepted by an association that then went down undelivered
};

class SgOutbox {
 public:
  using LinkId = std::uint64_t;
  struct Step {
    enum class Kind : std::uint8_t {
      send,     // send `message` on `link` now
      held,     // it waits (trace only)
      expired,  // it waited too long, or too many waited: dropped (trace only)
      changeover,  // its call waits for the changeover hold (trace only)
    };
    Kind kind = Kind::send;
    LinkId link = 0;
    MtpMessage message;
  };
  using Steps = std::vector<Step>;

  explicit SgOutbox(OutboxConfig c = {}) : cfg_(c), changeover_(c.changeover) {}

  // The association's M3UA is active: what waited leaves on it.
  void link_active(LinkId id, rserpool::TimePoint now, Steps& out);
  // A message toward the SS7 side; `preferred` is the association its call
  // came on (0: any).
  void send(LinkId preferred, MtpMessage m, rserpool::TimePoint now, Steps& out);
  // The association refused a send at once (the driver's send step): it is
  // dying. Nothing is sent until it is down.
  void refused(LinkId id, std::vector<MtpMessage> messages, rserpool::TimePoint now);
  // The association gave back what it had accepted and not delivered.
  void handed_back(LinkId id, std::vector<MtpMessage> messages, rserpool::TimePoint now, Steps& out);
  // The association is down (after its last hand-back).
  void link_down(LinkId id, rserpool::TimePoint now, Steps& out);
  // Time passed: calls whose changeover hold ended continue.
  void on_timeout(rserpool::TimePoint now, Steps& out);
  // When on_timeout() is due next (none: no call waits).
  std::optional<rserpool::TimePoint> next_deadline() const { return changeover_.next_deadline(); }
  const ChangeoverHold& changeover() const noexcept { return changeover_; }

  std::size_t waiting() const noexcept { return held_.size(); }
  bool active(LinkId id) const;
  const OutboxCounters& counters() const noexcept { return counters_; }

 private:
  struct Held {
    MtpMessage message;
    rserpool::TimePoint since;
  };
  struct Link {
    bool active = false;
    // Refused at once: dying. `returned` (the kernel's hand-back) is older
    // than `refused`.
    std::optional<rserpool::TimePoint> dying_since;
    std::vector<MtpMessage> returned, refused;
  };
  bool dying() const;
  // Its end (or given up): what it gave back, then what it refused, go
  // before what waits.
  void bury(std::map<LinkId, Link>::iterator it, rserpool::TimePoint now);
  void give_up_dying(rserpool::TimePoint now);
  void hold(MtpMessage m, rserpool::TimePoint now, Steps& out);
  void flush(rserpool::TimePoint now, Steps& out);
  std::optional<LinkId> pick(LinkId preferred) const;
  // A send step for `m` on `link`, unless its call waits for the changeover.
  void emit(LinkId link, MtpMessage m, rserpool::TimePoint now, Steps& out);

  OutboxConfig cfg_;
  std::map<LinkId, Link> links_;
  std::deque<Held> held_;
  OutboxCounters counters_;
  ChangeoverHold changeover_;
};

}  // namespace sg::sim
