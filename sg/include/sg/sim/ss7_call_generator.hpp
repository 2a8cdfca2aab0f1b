#pragma once
// The call logic of the SS7-side load generator (ss7-gen), sans-I/O: it
// originates ISUP calls at a steady rate over a circuit range (IAM, wait for
// ACM and ANM, hold, REL, wait for RLC) plus SCCP unitdata queries, and
// measures what an operator measures: completed and failed calls, answer
// latency, messages that came back for calls it does not know.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "rserpool/base/time.hpp"
#include "sg/routing/mtp_message.hpp"
#include "sg/sim/latency_recorder.hpp"
#include "sg/ss7/isup.hpp"

namespace sg::sim {

// The product's one time type (docs/architecture.md, "The substrate").
using rserpool::TimePoint;
// Only for the tools' own loops, which read the clock themselves; the
// models take `now`.
using Clock = std::chrono::steady_clock;

struct GeneratorConfig {
  std::uint32_t opc = 1;    // the generator's own point code
  std::uint32_t dpc = 2;    // the point code routed to the GWC pool
  std::uint8_t ni = 2;      // national
  std::uint16_t first_cic = 1;
  std::uint16_t cic_count = 2000;
  double calls_per_second = 100;
  double sccp_per_second = 0;
  std::chrono::milliseconds hold_time{100};         // ANM to REL
  std::chrono::milliseconds answer_timeout{10000};  // IAM to ANM (T7-like)
  std::chrono::milliseconds release_timeout{10000}; // REL to RLC, all repeats included (T5-like)
  // Q.764 2.9.6 (T1): a REL not answered by RLC within `release_repeat` is
  // sent again (until `release_timeout` from the first): what a killed
  // gateway took with it (a REL its kernel acknowledged and its process
  // never passed on, or the RLC coming back) is recovered the way an
  // exchange recovers it. Zero: no repeat (the call fails at
  // release_timeout).
  std::chrono::milliseconds release_repeat{0};
  ss7::IsupVariant isup_variant = ss7::IsupVariant::itu;  // ANSI: 14-bit CICs
  // Keep the circuit of every failed call for take_failed_circuits() (the
  // deterministic simulation attributes each failure to a call).
  bool record_failures = false;
};

struct GeneratorStats {
  std::uint64_t calls_started = 0;
  std::uint64_t calls_completed = 0;   // RLC received
  std::uint64_t calls_failed = 0;      // a timer expired
  std::uint64_t calls_blocked = 0;     // no free circuit when one was due
  std::uint64_t unexpected_messages = 0;
  // An ACM that came after its call's ANM: the two crossed on their way
  // (they left the far end in order, through two gateways of a pair).
  // Q.764 answers the call on the ANM in the wait-for-ACM state (2.1.7) and
  // the late ACM is discarded; counted here, not as unexpected, so that a
  // test can bound it apart (last_reordered() names the circuit).
  std::uint64_t reordered_messages = 0;
  std::uint64_t releases_repeated = 0;  // T1 expired: REL sent again
  std::uint64_t repeated_rlc = 0;       // a further RLC for a call completed after repeated RELs
  std::uint64_t sccp_sent = 0;
  std::uint64_t sccp_answered = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_received = 0;
  LatencyRecorder answer_latency;  // IAM sent to ANM received
  LatencyRecorder sccp_latency;    // UDT sent to UDT answer received
};

class Ss7CallGenerator {
 public:
  Ss7CallGenerator(GeneratorConfig config, TimePoint start);

  // Messages due by `now`: new calls, releases, SCCP queries.
  std::vector<MtpMessage> on_timeout(TimePoint now);
  // The former name, for callers not moved yet (ss7-gen's main loop).
  std::vector<MtpMessage> advance(TimePoint now) { return on_timeout(now); }
  std::vector<MtpMessage> on_message(const MtpMessage& m, TimePoint now);
  std::optional<TimePoint> next_deadline() const;

  // Stop starting calls; calls in progress finish.
  void stop_originating() { originating_ = false; }
  bool idle() const noexcept { return calls_.empty() && sccp_pending_.empty(); }
  std::size_t calls_in_progress() const noexcept { return calls_.size(); }
  const GeneratorStats& stats() const noexcept { return stats_; }
  // The circuits whose call failed since the last call, in order
  // (GeneratorConfig::record_failures).
  std::vector<std::uint16_t> take_failed_circuits() { return std::exchange(failed_circuits_, {}); }

 private:
  enum class Phase : std::uint8_t { setup, ringing, answered, releasing };
  struct Call {
    Phase phase = Phase::setup;
    TimePoint iam_sent{};
    TimePoint deadline{};  // next timer of this call: timeout or release
    TimePoint released{};  // the first REL (T5-like bound of the repeats)
    std::uint32_t rels = 0;  // RELs sent: the first and every T1 repeat
    bool answered_before_acm = false;  // its ANM came in the wait-for-ACM state
  };
  // A call completed after repeated RELs: every REL is answered by an RLC
  // (Q.764 2.9.6), so up to rels - 1 more RLCs may still come. A gateway
  // outage longer than two T1 periods holds three RELs, and all three are
  // delivered and answered when it is back.
  struct RepeatedDone {
    TimePoint completed{};
    std::uint32_t rlcs_due = 0;
  };

  MtpMessage to_pool(std::uint16_t cic, rserpool::Bytes isup) const;
  std::optional<std::uint16_t> free_circuit();

  GeneratorConfig config_;
  bool originating_ = true;
  TimePoint next_call_;
  TimePoint next_sccp_;
  std::uint16_t cursor_ = 0;
  std::uint32_t sccp_seq_ = 0;
  std::map<std::uint16_t, Call> calls_;
  // Circuits whose call completed after a repeated REL, until
  // release_timeout or until every REL's RLC came.
  std::map<std::uint16_t, RepeatedDone> repeated_done_;
  std::map<std::uint32_t, TimePoint> sccp_pending_;
  GeneratorStats stats_;
  std::vector<std::uint16_t> failed_circuits_;
};

}  // namespace sg::sim
