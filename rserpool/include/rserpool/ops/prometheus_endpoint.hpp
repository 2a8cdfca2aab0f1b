#pragma once
// A minimal HTTP/1.0 server for `GET /metrics` (Prometheus text format) on
// an address of the operator's choosing (loopback by default). It runs on
// the data path's io_context, so collecting needs no locking; requests are
// small and bounded, and a slow or hostile client is cut off by a deadline.
#include <boost/asio/io_context.hpp>

#include <memory>
#include <system_error>

#include "rserpool/base/ip_address.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/ops/metrics.hpp"

namespace rserpool::ops {

class PrometheusEndpoint {
 public:
  static Result<std::shared_ptr<PrometheusEndpoint>, std::error_code> open(boost::asio::io_context& io,
                                                                           TransportAddress where,
                                                                           const MetricsRegistry& registry);
  virtual ~PrometheusEndpoint() = default;
  virtual std::uint16_t port() const = 0;
  virtual void close() = 0;
  virtual std::uint64_t requests_served() const = 0;
};

}  // namespace rserpool::ops
