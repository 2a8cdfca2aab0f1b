#pragma once
// The signalling gateway assembled: the SS7-facing M3UA side, one pool
// distributor per configured pool with its links to the gateway
// controllers, the ASAP pool user that keeps the pools' membership, and,
// when configured, the co-located ENRP registrar. Built from an SgConfig;
// everything runs on one io_context thread (the data path).
//
// Threading: create, call and destroy on the thread that runs `io`. The CLI
// runs elsewhere and reaches the gateway by posting to that thread
// (sg/gateway/cli.hpp).
//
// Ports: a port of 0 in the configuration (ss7-side local-port, colocated
// asap-port / enrp-port) binds an ephemeral port; the accessors below say
// which (tests).
#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rserpool/base/result.hpp"
#include "rserpool/base/time.hpp"
#include "rserpool/ops/metrics.hpp"
#include "sg/config/sg_config.hpp"
#include "sg/gateway/counters.hpp"
#include "sg/routing/pool_distributor.hpp"

namespace sg {

struct GatewayOptions {
  std::uint64_t seed = 0;  // selection randomness; 0: from the clock
  // Where the drivers read `now` (default: the process's steady clock).
  const rserpool::Clock* clock = nullptr;
  // A file where each pool's PE list is remembered across restarts (empty:
  // none): a restarted gateway whose list equals the remembered one settles
  // at once (docs/gateway.md, "A gateway that starts").
  std::string pool_memory{};
};

class Gateway {
 public:
  // Opens the listeners and starts every component; errors (bind failures,
  // an unusable configuration) as one readable sentence.
  static rserpool::Result<std::unique_ptr<Gateway>, std::string> start(boost::asio::io_context& io, SgConfig config,
                                                                      GatewayOptions options = {});
  ~Gateway();  // immediate: aborts what is still open
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Graceful stop: ASPDN to the gateway controllers and upstream STPs,
  // graceful SCTP shutdown (TCP close) of every association, registrar stop.
  // `done` runs once everything is closed, at most about 2 s later.
  void shutdown(std::function<void()> done);

  std::optional<std::uint16_t> ss7_port() const;
  std::optional<std::uint16_t> registrar_asap_port() const;
  std::optional<std::uint16_t> registrar_enrp_port() const;
  std::optional<std::uint16_t> metrics_port() const;  // Prometheus endpoint

  // --- Operator actions ---------------------------------------------------
  // Drains a PE (no new flows; calls stay until released or the deadline).
  // `pool` empty: whichever pool has the PE.
  rserpool::Result<void, std::string> drain(const std::string& pool, rserpool::PeIdentifier pe,
                                            std::optional<Duration> deadline);
  // Adds or replaces a route (incomplete ones are removed until complete).
  rserpool::Result<void, std::string> set_route(const RouteSettings& route);
  bool remove_route(const std::string& name);
  // A pool configured at run time starts being watched; for a pool that
  // runs already, its settings (pool-wait, drain-deadline, queue bounds)
  // take effect at once.
  void add_pool(const PoolSettings& pool);

  // --- Inspection (the CLI's show commands) -----------------------------------
  std::string show_pools(const std::string& pool = {}) const;
  std::string show_flows(const std::string& pool = {}) const;
  std::string show_ss7() const;
  std::string show_routes() const;
  std::string show_registrar() const;
  std::string show_counters() const;

  std::vector<rserpool::ops::Sample> collect() const;
  const rserpool::ops::MetricsRegistry& metrics() const;
  const GatewayCounters& counters() const;
  const PoolDistributor* distributor(const std::string& pool) const;
  std::vector<std::string> pools() const;

  struct Impl;

 private:
  explicit Gateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sg
