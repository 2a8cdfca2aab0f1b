#pragma once
// Counters for operators. The data path keeps its counters as plain fields
// owned by its own (Asio) thread: no atomics, no locks. A collector, run on
// that same thread, turns them into samples; the CLI and the Prometheus
// endpoint read snapshots, never the live fields.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace rserpool::ops {

struct Sample {
  std::string name;                           // e.g. sg_messages_total
  std::map<std::string, std::string> labels;  // e.g. {pool="gwc", reason="queue-full"}
  double value = 0;
  friend bool operator==(const Sample&, const Sample&) = default;
};

struct MetricFamily {
  std::string name;
  std::string help;
  enum class Type { counter, gauge } type = Type::counter;
};

class MetricsRegistry {
 public:
  using Collector = std::function<void(std::vector<Sample>&)>;

  void describe(MetricFamily family);
  void add_collector(Collector c);
  // Runs every collector: call it on the thread that owns the counters.
  std::vector<Sample> collect() const;
  // The Prometheus text exposition format (version 0.0.4) of `samples`.
  std::string to_prometheus(const std::vector<Sample>& samples) const;
  // One line per sample, for the CLI's `show counters`.
  static std::string to_table(const std::vector<Sample>& samples);

 private:
  std::map<std::string, MetricFamily> families_;
  std::vector<Collector> collectors_;
};

}  // namespace rserpool::ops
