#pragma once
// One registered pool element on Boost.Asio: drives the sans-I/O
// asap::PoolElement (registration, T2/T3/T4, hunt, keep-alive answers) with
// registrar associations (PPID 11) and one OS timer armed at the core's
// next_deadline(), on the clock it is given (the steady clock by default).
//
// Threading: construct, call and destroy on the thread that runs `io`;
// callbacks are invoked on that thread. Callbacks may destroy the service.
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "rserpool/asap/pool_element.hpp"
#include "rserpool/asap/service/registrar_access.hpp"
#include "rserpool/base/time.hpp"

namespace rserpool::asap {

struct PoolElementServiceCounters {
  std::uint64_t registrations_granted = 0;
  std::uint64_t registrations_failed = 0;  // rejected, timeout
  std::uint64_t keep_alives = 0;           // ENDPOINT_KEEP_ALIVE received
  std::uint64_t registrar_associations = 0;  // came up
  std::uint64_t decode_errors = 0;
  // How each home registrar was found: by the server hunt, by the H bit on
  // an association we opened, or by the H bit on an association a
  // registrar opened to our ASAP port (ENRP takeover).
  std::uint64_t homes_by_hunt = 0;
  std::uint64_t homes_by_keep_alive = 0;
  std::uint64_t homes_by_takeover = 0;
  std::uint64_t inbound_associations = 0;  // registrar associations accepted (came up)
  std::uint64_t inbound_refused = 0;       // over TakeoverListen::max_associations
  std::uint64_t inbound_ignored = 0;       // messages a registrar does not send a PE: dropped
  std::uint64_t registrations_dropped = 0; // the home let our lifetime run out (we registered again)
};

// The PE's ASAP transport address (RFC 5352 2.2.1: the home registrar
// records the source address of our REGISTRATION's association). A
// registrar taking over from a dead home (RFC 5353 3.9) connects there and
// sends ENDPOINT_KEEP_ALIVE with the H bit. So the PE listens on one port
// and opens every registrar association from that port (SO_REUSEPORT).
struct TakeoverListen {
  bool enabled = true;
  std::vector<IpAddress> local_addresses;  // empty: wildcard (every address the associations may use)
  std::uint16_t port = 0;                  // 0: ephemeral, chosen once at start
  std::size_t max_associations = 8;        // accepted registrar associations open at once
};

class PoolElementService {
 public:
  // Listening for takeovers fails soft: logged, and the PE works as before
  // (ephemeral source ports, re-homing by hunt or H bit only).
  PoolElementService(boost::asio::io_context& io, PoolElementConfig pe, RegistrarAccess access,
                     TakeoverListen takeover = {}, const Clock& clock = SteadyClock::instance());
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
  // The port registrars can reach us on (our ASAP transport), 0 when not
  // listening.
  std::uint16_t asap_port() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace rserpool::asap
