#pragma once
// Creating associations: connect() for the client role, Listener for the
// server role. The backend comes from EndpointConfig::kind.
#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <system_error>
#include <vector>

#include "rserpool/base/result.hpp"
#include "rserpool/transport/association.hpp"
#include "rserpool/transport/config.hpp"
#include "rserpool/transport/counters.hpp"

namespace rserpool::transport {

// True when this kernel creates SCTP sockets (checked once, then cached).
bool kernel_sctp_available();
// sctp or tcp, never automatic; logs a warning when automatic falls back.
TransportKind resolve_kind(TransportKind requested);

// Associations keep themselves alive while their socket is open (pending
// reads hold a reference): end them with close() or abort(), not by
// dropping the pointer.
//
// Starts an association towards config.remote_addresses:remote_port.
// Returns at once; the outcome arrives as on_up or on_down(connect_failed).
// Errors here are configuration or socket errors (no remote address,
// SCTP requested without kernel support, bind failure).
Result<std::shared_ptr<Association>, std::error_code> connect(boost::asio::io_context& io, EndpointConfig config,
                                                               std::shared_ptr<AssociationHandler> handler);

class Listener {
 public:
  // Called once per accepted association, before any notification; returns
  // the handler for it (null: the association is aborted).
  using AcceptHandler = std::function<std::shared_ptr<AssociationHandler>(const std::shared_ptr<Association>&)>;

  static Result<std::shared_ptr<Listener>, std::error_code> open(boost::asio::io_context& io, EndpointConfig config,
                                                                 AcceptHandler on_accept);
  virtual ~Listener() = default;

  virtual TransportKind kind() const noexcept = 0;
  virtual std::uint16_t port() const noexcept = 0;  // the bound port (useful with local_port 0)
  virtual std::vector<TransportAddress> local_addresses() const = 0;
  // Stops accepting. Associations already accepted live on. The pending
  // accept keeps the listener alive until close(), whatever the caller holds.
  virtual void close() = 0;
  virtual TransportCounters& counters() noexcept = 0;
};

}  // namespace rserpool::transport
