#pragma once
// The call logic of the gateway-controller simulator (gwc-sim), sans-I/O.
// It answers ISUP calls that arrive through the SG (IAM -> ACM, then ANM
// after the answer delay; REL -> RLC), echoes SCCP unitdata back, and keeps
// the numbers that show whether the SG did its job: messages for calls it
// never saw (lost or misrouted traffic), per-circuit ordering violations,
// calls adopted from a failed peer's cookie.
//
// Its ASAP cookie is its call table: after a failover the SG echoes the
// failed PE's cookie to the new PE before any data, and the new PE adopts
// those calls, so their later messages are not "unknown".
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "rserpool/base/bytes.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/base/time.hpp"
#include "sg/routing/mtp_message.hpp"
#include "sg/ss7/isup.hpp"

namespace sg::sim {

using rserpool::TimePoint;
using Clock = std::chrono::steady_clock;  // the tools' own loops only

struct GwcConfig {
  std::chrono::milliseconds answer_delay{20};  // IAM to ANM
  // Shared by the pool's PEs so that a cookie from a peer is recognised.
  std::uint64_t cookie_secret = 0x5347'5f52'5345'5250ULL;
  ss7::IsupVariant isup_variant = ss7::IsupVariant::itu;  // ANSI: 14-bit CICs
  // Self-fencing: a controller whose own loop did not run for this long has
  // been stopped (SIGSTOP, a VM freeze, a long pause); an SG may have failed
  // it over meanwhile. An association lost abnormally within
  // `fenced_after_stall` of such a resumption was cut off by an SG that
  // moved its calls. Any other abnormal loss is an SG that died or
  // restarted: its calls stay here, for its mate or its next run to route
  // to us. Below the fastest SG failure detection (2 x 500 ms M3UA BEAT).
  std::chrono::milliseconds stall_bound{250};
  std::chrono::milliseconds fenced_after_stall{1000};
  // How long a released circuit is remembered (repeated_releases); at
  // most `released_memory_max` circuits.
  std::chrono::milliseconds released_memory{10000};
  std::size_t released_memory_max = 65536;
};

struct GwcCounters {
  std::uint64_t calls_offered = 0;   // IAMs
  std::uint64_t calls_answered = 0;  // ANMs sent
  std::uint64_t calls_released = 0;  // RLCs sent for known calls
  std::uint64_t unknown_call_messages = 0;
  // A REL for a circuit this controller released within
  // `released_memory` (answered RLC again, Q.764): the SS7 side's T1
  // repeat after the first RLC was lost, not a misplaced call.
  std::uint64_t repeated_releases = 0;
  std::uint64_t ordering_violations = 0;
  std::uint64_t adopted_calls = 0;
  std::uint64_t sccp_answered = 0;
  std::uint64_t cookies_rejected = 0;
  std::uint64_t duplicate_cookies = 0;  // an echo of a cookie already adopted
  std::uint64_t calls_given_up = 0;     // stale: the SG cut off the association that carried them
  std::uint64_t calls_kept = 0;         // on an association an SG lost by dying, not by fencing us
  std::uint64_t stalls = 0;             // our own loop stopped for stall_bound or longer
};

enum class CookieError : std::uint8_t { truncated, bad_version, bad_signature };

class GwcCallModel {
 public:
  explicit GwcCallModel(GwcConfig config = {}) : config_(config) {}

  // A message from the SG; returns what the controller sends back.
  // `via` names the SG association it came over (any tag the caller
  // chooses): a call belongs to the association that last carried it.
  std::vector<MtpMessage> on_message(const MtpMessage& m, TimePoint now, std::uint64_t via = 0);
  // Answers whose time has come.
  std::vector<MtpMessage> on_timeout(TimePoint now);
  std::vector<MtpMessage> advance(TimePoint now) { return on_timeout(now); }  // former name
  std::optional<TimePoint> next_deadline() const;
  // The SG cut off association `via` (an abort after it failed this
  // controller over: it was hung, or unreachable): the calls it carried
  // belong to an heir now, which holds them through our cookie. Answering
  // them later would answer them twice: they are forgotten, unanswered.
  // Returns how many.
  std::size_t give_up_calls_of(std::uint64_t via);
  // Association `via` to an SG is gone. `abnormal`: lost or aborted, not a
  // graceful close. Decides between the two meanings of an abnormal loss:
  // right after a stall of our own, the SG fenced us (give_up_calls_of);
  // otherwise the SG died or restarted and its calls stay here (a mated SG,
  // or the restarted one, routes them to us by the same placement). A
  // graceful close keeps them too. Returns how many were given up.
  std::size_t association_lost(std::uint64_t via, bool abnormal, TimePoint now);

  // The SG association that last carried the call a reply of ours belongs
  // to (answers go back the way the call came, while it lives).
  std::optional<std::uint64_t> via_of(const MtpMessage& reply) const;

  // The call table as an ASAP cookie (signed with the pool secret).
  rserpool::Bytes make_cookie() const;
  // COOKIE_ECHO from the SG: take over the calls of a failed peer. The SG
  // echoes one cookie on every stream it sends DATA on, so a repeat of a
  // cookie already adopted changes nothing (0 adopted): the calls it lists
  // may have progressed or ended here since.
  rserpool::Result<std::size_t, CookieError> adopt_cookie(rserpool::ByteView cookie, TimePoint now,
                                                          std::uint64_t via = 0);

  const GwcCounters& counters() const noexcept { return counters_; }
  std::size_t active_calls() const noexcept { return calls_.size(); }

 private:
  enum class CallState : std::uint8_t { ringing = 1, answered = 2 };
  struct CircuitId {
    std::uint32_t remote = 0;  // the SS7-side exchange
    std::uint32_t local = 0;   // the point code the SG routes to us
    std::uint16_t cic = 0;
    auto operator<=>(const CircuitId&) const = default;
  };
  struct Call {
    CallState state = CallState::ringing;
    TimePoint answer_at{};
    std::uint8_t ni = 0;
    std::uint8_t sls = 0;
    std::uint64_t via = 0;  // the SG association that last carried it
  };

  MtpMessage reply(const CircuitId& id, const Call& call, rserpool::Bytes isup) const;
  // Every event passes here: a gap longer than stall_bound since the last
  // one is a stall of our own loop (next_deadline() keeps one due at least
  // every half stall_bound, so an idle controller is not taken as stopped).
  void observe(TimePoint now);
  std::uint64_t sign(rserpool::ByteView body) const;

  GwcConfig config_;
  std::map<CircuitId, Call> calls_;
  // Circuits released here, oldest first (repeated_releases).
  std::map<CircuitId, TimePoint> released_;
  std::deque<std::pair<TimePoint, CircuitId>> released_order_;
  void remember_released(const CircuitId& id, TimePoint now);
  std::deque<std::uint64_t> adopted_signatures_;  // recent cookies adopted, bounded
  std::optional<TimePoint> last_event_;
  std::optional<TimePoint> resumed_at_;  // the end of our last stall
  GwcCounters counters_;
};

}  // namespace sg::sim
