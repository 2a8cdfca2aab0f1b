#pragma once
// Which calls failed, and when they had started: the generator counts
// failures, a failover test needs to know whether a failed call began
// before or after the failure was detected. The ledger mirrors the
// generator's view of each circuit from the messages that cross the wire,
// and names the calls whose timers must have expired when the generator's
// failure count goes up.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "sg/routing/mtp_message.hpp"
#include "sg/sim/ss7_call_generator.hpp"

namespace sg::ss7gen {

struct FailedCall {
  std::uint16_t cic = 0;
  std::chrono::system_clock::time_point started;
  // The call's last message from this side (IAM or REL) and when it left:
  // the message whose answer never came. A message that a killed gateway's
  // kernel acknowledged just before the kill is lost with it; this tells
  // those apart from calls lost later.
  std::chrono::system_clock::time_point last_sent;
  const char* last_type = "iam";
  // The far end's ACM came back: the IAM reached a controller, and what
  // was lost is on the way back (the answer).
  bool acm = false;
};

class CallLedger {
 public:
  explicit CallLedger(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  void sent(const MtpMessage& m, sim::TimePoint now);
  // Returns the call the far end released (the generator counts it failed).
  std::optional<FailedCall> received(const MtpMessage& m, sim::TimePoint now);
  // IAM to ANM of the call the last received() answered, once.
  std::optional<std::chrono::nanoseconds> take_answer_latency() {
    auto l = answer_latency_;
    answer_latency_.reset();
    return l;
  }
  // The generator's failure count rose: the calls whose timers expired.
  std::vector<FailedCall> expired(sim::TimePoint now);

 private:
  struct Entry {
    sim::TimePoint deadline{};
    sim::TimePoint iam_sent{};
    std::chrono::system_clock::time_point started;
    bool answered = false;
    std::chrono::system_clock::time_point last_sent;
    const char* last_type = "iam";
    bool acm = false;
  };
  std::chrono::milliseconds timeout_;
  std::map<std::uint16_t, Entry> calls_;
  std::optional<std::chrono::nanoseconds> answer_latency_;
};

}  // namespace sg::ss7gen
