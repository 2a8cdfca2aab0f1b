#pragma once
// One pool user (any number of pools) on Boost.Asio: drives the sans-I/O
// asap::PoolUser (cache, handle resolution, T1, subscriptions, hunt,
// ENDPOINT_UNREACHABLE once per failure event) and the enhanced-mode
// sessions opened on it (pool_session.hpp), with one OS timer per core
// armed at its next_deadline() on the clock it is given.
//
// Threading: construct, call and destroy on the thread that runs `io`;
// handlers are invoked on that thread, never from inside the call that
// registered them. Handlers may call back into the service. Sessions must
// not outlive their service (they then refuse every call).
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "rserpool/asap/pool_user.hpp"
#include "rserpool/asap/service/pool_session.hpp"
#include "rserpool/asap/service/registrar_access.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/base/time.hpp"

namespace rserpool::asap {

struct PoolUserServiceCounters {
  std::uint64_t resolutions_sent = 0;        // HANDLE_RESOLUTION
  std::uint64_t resolutions_failed = 0;      // ResolutionFailed notifications
  std::uint64_t unreachable_reports = 0;     // ENDPOINT_UNREACHABLE sent
  std::uint64_t registrar_associations = 0;  // came up
  std::uint64_t decode_errors = 0;
  std::uint64_t failovers = 0;               // session failovers completed
};

class PoolUserService {
 public:
  using PeList = std::vector<PoolElementParameter>;
  using ResolveHandler = std::function<void(Result<PeList, ResolutionFailed>)>;
  using WatchHandler = std::function<void(const PeList&)>;
  using ServerHandler = std::function<void(std::optional<PoolElementParameter>)>;

  PoolUserService(boost::asio::io_context& io, PoolUserConfig pu, RegistrarAccess access,
                  const Clock& clock = SteadyClock::instance());
  ~PoolUserService();
  PoolUserService(const PoolUserService&) = delete;
  PoolUserService& operator=(const PoolUserService&) = delete;

  // From the cache when fresh, else HANDLE_RESOLUTION; `h` gets the PE list
  // or the failure (always asynchronously, exactly once).
  void resolve(const PoolHandle& pool, ResolveHandler h);
  // Keeps `pool` resolved (subscription if the config asks for it, else
  // re-resolution every stale_cache) and calls `cb` with the whole current
  // list whenever it changes; the first call follows the first resolution.
  // A failed or empty resolution counts as the empty list. One watcher per
  // pool (a second watch() replaces the first).
  void watch(const PoolHandle& pool, WatchHandler cb);
  void unwatch(const PoolHandle& pool);
  // Basic mode (RFC 5351 GET_PRIMARY_SERVER / GET_NEXT_SERVER). nullopt:
  // the pool could not be resolved or nobody usable is left.
  void get_primary_server(const PoolHandle& pool, ServerHandler h);
  // Reports the server the previous call handed out as failed, then
  // answers like get_primary_server().
  void get_next_server(const PoolHandle& pool, ServerHandler h);
  // ENDPOINT_UNREACHABLE, at most once per failure event.
  void report_failure(const PoolHandle& pool, PeIdentifier pe);

  // Enhanced mode: one session to `pool` (pool_session.hpp). It opens at
  // once (resolution, then the association to the chosen PE).
  std::unique_ptr<PoolSession> open_session(const PoolHandle& pool, SessionOptions options = {});

  std::optional<AssocId> home() const;  // current home registrar (index in the list)
  const PoolUserServiceCounters& counters() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace rserpool::asap
