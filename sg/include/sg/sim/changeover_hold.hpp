#pragma once
// Time-controlled changeover per call, the controller's half (sans-I/O):
// when the SG association a call's last message went through fails, the
// call's next messages wait `hold` from that failure before they leave
// through the surviving gateway.
//
// Why: the two gateways of a pair reach the STP over two SCTP associations,
// and SCTP orders per association only. A killed gateway's kernel still
// sends what its STP-side socket had queued (graceful shutdown, RFC 9260
// 9.2), so a call's ACM accepted by the dying gateway just before its death
// can reach the STP after the call's ANM sent through the mate at once
// (UML, osmo-stp pair test, x45: ANM before ACM at the SS7 side). M3UA has
// no changeover carrying sequence numbers across SGs (MTP3 has, Q.704 5.5);
// what is left is MTP3's own fallback, the time-controlled changeover
// (Q.704 5.6: traffic withheld for T1, then restarted on the alternative),
// applied per call instead of per link: only the calls the dead
// association carried within `recent` before its failure wait; every other
// call goes on at once. `hold` (300 ms by default) is what the dead
// gateway's queue needs to reach the STP: one LAN round trip, plus one
// retransmission at the SG's RTO (the `aggressive` SCTP profile: RTO.Min
// 250 ms, RTO.Max 300 ms); an STP that reads its sockets later than that
// (starved) can still reorder, and only the STP could prevent it.
//
// Calls are ISUP circuits (OPC, DPC, CIC): MTP users other than ISUP (SCCP)
// pass untouched.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "rserpool/base/time.hpp"
#include "sg/routing/mtp_message.hpp"

namespace sg::sim {

struct ChangeoverConfig {
  // Zero: no hold (a call's messages change gateway at once).
  std::chrono::milliseconds hold{300};
  // How long before the failure a call's last message may have left for
  // the call to wait: what a gateway's kernel can still hold toward the
  // STP (three retransmissions at the `aggressive` RTO fail the
  // association anyway); it also bounds the state kept (the calls that
  // sent in the last `recent`).
  std::chrono::milliseconds recent{1000};
};

class ChangeoverHold {
 public:
  using LinkId = std::uint64_t;
  using CallKey = std::uint64_t;

  explicit ChangeoverHold(ChangeoverConfig c = {}) : cfg_(c) {}

  // The call `m` belongs to (nullopt: not a call, never held).
  static std::optional<CallKey> call_of(const MtpMessage& m);

  // `m` left on `link` now.
  void sent(LinkId link, const MtpMessage& m, rserpool::TimePoint now);
  // The association failed: the calls it carried recently wait.
  void failed(LinkId link, rserpool::TimePoint now);
  // Whether `m` must wait; if so a copy is kept, behind the call's others.
  bool hold(const MtpMessage& m, rserpool::TimePoint now);
  // Messages whose hold ended by `now`, in their calls' order.
  std::vector<MtpMessage> release(rserpool::TimePoint now);
  std::optional<rserpool::TimePoint> next_deadline() const;

  std::size_t waiting() const noexcept;
  std::uint64_t calls_held() const noexcept { return calls_held_; }
  std::uint64_t messages_held() const noexcept { return messages_held_; }

 private:
  struct Last {
    LinkId link = 0;
    rserpool::TimePoint at{};
  };
  struct Held {
    rserpool::TimePoint until{};
    std::deque<MtpMessage> messages;
  };
  void prune(rserpool::TimePoint now);

  ChangeoverConfig cfg_;
  std::map<CallKey, Last> last_;
  std::map<CallKey, Held> held_;
  rserpool::TimePoint pruned_{};
  std::uint64_t calls_held_ = 0;
  std::uint64_t messages_held_ = 0;
};

}  // namespace sg::sim
