#pragma once
// The SS7 side of a mated pair of signalling gateways as one ASP (ss7-gen
// --pair) sees it, sans-I/O: each message goes to one SG by its SLS (ISUP
// keeps a circuit on one SLS, so a call stays on one SG while both live);
// when an SG is lost its SLSs move to the others at once, starting with what
// its transport handed back; when it is ACTIVE again its SLSs come back
// after a time-controlled changeback (Q.704 6.4: the diverted traffic of
// those SLSs is held `changeback` so that what the other SG still carries
// arrives first). With no SG active, messages wait in order (bounded).
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "rserpool/base/time.hpp"
#include "sg/routing/mtp_message.hpp"

namespace sg::sim {

struct SgLoadShareConfig {
  std::size_t sgs = 2;
  std::size_t max_held = 10000;  // messages waiting for an SG; beyond it the oldest is dropped
  // How long a message may wait for an SG (0: not at all: dropped at once,
  // as an SS7 network discards toward an unavailable route).
  std::chrono::milliseconds max_wait{2000};
  std::chrono::milliseconds changeback{50};
};

struct SgLoadShareCounters {
  std::vector<std::uint64_t> sent;  // per SG
  std::uint64_t held = 0;           // waited for an SG (none active, or a changeback)
  std::uint64_t dropped = 0;        // no SG within max_wait, or beyond max_held
  std::uint64_t resent = 0;         // handed back by a lost SG's transport, re-sent elsewhere
  std::uint64_t failovers = 0;
  std::uint64_t changebacks = 0;
};

class SgLoadShare {
 public:
  struct Send {
    std::size_t sg;
    MtpMessage message;
  };

  explicit SgLoadShare(SgLoadShareConfig config = {});

  // A message towards the SS7 network's far end: where it goes now (none:
  // it waits).
  std::vector<Send> send(MtpMessage m, rserpool::TimePoint now);
  // The SG's ASP became ACTIVE: what waited for any SG goes; the SG's own
  // SLSs come back after the changeback.
  std::vector<Send> sg_active(std::size_t sg, rserpool::TimePoint now);
  // The SG is lost (association down, ASP no longer ACTIVE). `handed_back`:
  // what its transport accepted and did not deliver, oldest first: re-sent
  // through the others before anything newer of those SLSs.
  std::vector<Send> sg_lost(std::size_t sg, std::vector<MtpMessage> handed_back, rserpool::TimePoint now);

  std::optional<rserpool::TimePoint> next_deadline() const;
  std::vector<Send> on_timeout(rserpool::TimePoint now);

  bool active(std::size_t sg) const { return sgs_.at(sg).active; }
  bool any_active() const;
  // The SG an SLS uses now (none: no SG active).
  std::optional<std::size_t> route_of(std::uint8_t sls) const;
  std::size_t waiting() const noexcept { return held_.size(); }
  const SgLoadShareCounters& counters() const noexcept { return counters_; }

 private:
  struct Sg {
    bool active = false;
    // Changeback: its own SLSs' traffic waits here until `changeback_until`.
    std::optional<rserpool::TimePoint> changeback_until;
    std::deque<MtpMessage> changeback_held;
    bool diverted = false;  // some of its SLSs' traffic went to another SG since it was lost
  };
  // The SG that owns `sls` when all are active (sls mod n), else the next
  // active one after it.
  std::optional<std::size_t> pick(std::uint8_t sls) const;
  void route(MtpMessage m, rserpool::TimePoint now, std::vector<Send>& out);
  void hold(MtpMessage m, rserpool::TimePoint since);
  void flush(rserpool::TimePoint now, std::vector<Send>& out);

  SgLoadShareConfig config_;
  std::vector<Sg> sgs_;
  struct Held {
    MtpMessage message;
    rserpool::TimePoint since;
  };
  std::deque<Held> held_;
  SgLoadShareCounters counters_;
};

}  // namespace sg::sim
