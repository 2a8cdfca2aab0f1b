#pragma once
// The metric families of the gateway (Prometheus names, as `show counters`
// prints them) and the samples of one pool.
#include <vector>

#include "rserpool/ops/metrics.hpp"

namespace sg::gateway {

class PoolRuntime;

// Every family sgd exports, with its help text and type.
void describe_gateway_metrics(rserpool::ops::MetricsRegistry& registry);
void collect_pool(const PoolRuntime& pool, std::vector<rserpool::ops::Sample>& out);

}  // namespace sg::gateway
