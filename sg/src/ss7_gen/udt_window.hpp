#pragma once
// Throughput mode of ss7-gen, sans-I/O: a closed loop of SCCP unitdata
// queries, `window` of them in flight, each answer (the gateway controller
// echoes UDT) releasing the next. The rate it reaches is what the path
// sustains at that concurrency; the latency is per query, round trip.
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "sg/routing/mtp_message.hpp"
#include "sg/sim/latency_recorder.hpp"
#include "sg/sim/ss7_call_generator.hpp"

namespace sg::ss7gen {

struct WindowConfig {
  std::uint32_t opc = 0;
  std::uint32_t dpc = 0;
  std::uint8_t ni = 2;
  unsigned window = 64;
  std::size_t payload = 32;  // user data bytes (sequence number first)
  std::uint64_t limit = 0;   // queries in all (0: no limit)
};

struct WindowStats {
  std::uint64_t sent = 0;
  std::uint64_t answered = 0;
  std::uint64_t unexpected = 0;  // not a UDT, or an answer to no query of ours
  sim::LatencyRecorder latency;
};

class UdtWindow {
 public:
  explicit UdtWindow(WindowConfig c) : config_(c) {}

  // The first `window` queries.
  std::vector<MtpMessage> start(sim::TimePoint now);
  // An answer: the next query, unless stopped.
  std::vector<MtpMessage> on_message(const MtpMessage& m, sim::TimePoint now);
  void stop() noexcept { sending_ = false; }
  // Every query of a counted run (WindowConfig::limit) has been sent.
  bool exhausted() const noexcept { return config_.limit != 0 && seq_ >= config_.limit; }
  // Queries sent and not answered (losses, once the loop has stopped and drained).
  std::size_t in_flight() const noexcept { return pending_.size(); }
  const WindowStats& stats() const noexcept { return stats_; }
  WindowStats& stats() noexcept { return stats_; }

 private:
  MtpMessage query(sim::TimePoint now);

  WindowConfig config_;
  bool sending_ = true;
  std::uint32_t seq_ = 0;
  std::unordered_map<std::uint32_t, sim::TimePoint> pending_;
  WindowStats stats_;
};

}  // namespace sg::ss7gen
