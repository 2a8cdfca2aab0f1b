#pragma once
// A short memory of each circuit's ISUP messages as one side of a call saw
// them (the load generator, a controller), for the line that explains a
// failed call or an ordering violation: a soak that fails prints the
// circuit's sequence at both ends, so a lost or overtaken message shows as
// a gap in one of them (issue 13). Bounded: the last `depth` messages of
// each circuit, at most 16,384 circuits (14-bit CICs).
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "sg/routing/mtp_message.hpp"
#include "sg/ss7/isup.hpp"

namespace sg::sim {

class CircuitHistory {
 public:
  explicit CircuitHistory(std::size_t depth = 8, ss7::IsupVariant variant = ss7::IsupVariant::itu)
      : depth_(depth == 0 ? 1 : depth), variant_(variant) {}

  // An ISUP message received (`in`) or sent on its circuit, at `unix_ms`
  // (wall clock: the line is read beside the other processes' logs), over
  // association `via` (0: not told). Anything else (SCCP, undecodable) is
  // not recorded.
  void record(const MtpMessage& m, bool in, std::int64_t unix_ms, std::uint64_t via = 0);
  // The circuit's messages, oldest first: "<IAM a1 17:41:49.429 >ACM a1
  // 17:41:49.430 ..." ('<' received, '>' sent; UTC time of day); "none"
  // when nothing was recorded.
  std::string describe(std::uint16_t cic) const;
  // Every circuit recorded, in ascending order.
  std::vector<std::uint16_t> circuits() const;

 private:
  struct Event {
    std::int64_t unix_ms = 0;
    std::uint64_t via = 0;
    std::uint8_t type = 0;
    bool in = false;
  };
  struct Ring {
    std::vector<Event> events;  // at most depth_
    std::size_t next = 0;       // the oldest, once full
  };
  std::size_t depth_;
  ss7::IsupVariant variant_;
  std::unordered_map<std::uint16_t, Ring> circuits_;
};

}  // namespace sg::sim
