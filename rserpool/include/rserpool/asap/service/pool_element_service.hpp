#pragma once
// One registered pool element on Boost.Asio: drives the sans-I/O
// asap::PoolElement (registration, T2/T3/T4, hunt, keep-alive answers) with
// registrar associations (PPID 11) and one steady_timer per core timer.
//
// Threading: construct, call and destroy on the thread that runs `io`;
// callbacks are invoked on that thread. Callbacks may destroy the service.
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "rserpool/asap/pool_element.hpp"
#include "rserpool/asap/service/registrar_access.hpp"

namespace rserpool::asap {

struct PoolElementServiceCounters {
  std::uint64_t registrations_granted = 0;
  std::uint64_t registrations_failed = 0;  // rejected, timeout
  std::uint64_t keep_alives = 0;           // ENDPOINT_KEEP_ALIVE received
  std::uint64_t registrar_associations = 0;  // came up
  std::uint64_t decode_errors = 0;
};

class PoolElementService {
 public:
  PoolElementService(boost::asio::io_context& io, PoolElementConfig pe, RegistrarAccess access);
  // Cancels timers and closes the registrar associations; no DEREGISTRATION
  // (use deregister() first for a graceful exit).
  ~PoolElementService();
  PoolElementService(const PoolElementService&) = delete;
  PoolElementService& operator=(const PoolElementService&) = delete;

  void on_registration(std::function<void(const RegistrationResult&)> cb);  // every outcome, incl. renewals
  void on_home_changed(std::function<void(const HomeRegistrarChanged&)> cb);

  void register_pe();                             // REGISTER (T4 re-registration follows)
  void update_policy(const PolicyParameters& p);  // e.g. a new load for least-used
  // Graceful shutdown: DEREGISTRATION, `done` gets the outcome (once).
  void deregister(std::function<void(const DeregistrationResult&)> done);

  PoolElement::State state() const;
  PeIdentifier pe_id() const;
  std::optional<AssocId> home() const;  // index of the home registrar in the list
  const PoolHandle& pool() const;
  const PoolElementServiceCounters& counters() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace rserpool::asap
