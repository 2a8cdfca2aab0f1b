#pragma once
// An SGP on the network: a transport Listener and one SgpNode shared by
// every accepted association (AS state spans associations). Which peers may
// stay is the node's decision (SgpConfig::peers, sgp_peers.hpp): an
// association not every address of which belongs to one configured peer is
// aborted at association up, counted (refused_peers) and logged, unless
// unknown peers are accepted. `allowed_peers` is shorthand for one peer
// with those addresses; `accept_any` for accept_unknown_peers.
#include <map>
#include <memory>
#include <system_error>
#include <vector>

#include "mxua/driver/association_driver.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/transport/endpoint.hpp"

namespace mxua::driver {

struct SgpServerConfig {
  tr::EndpointConfig transport;  // local addresses / port / kind / SCTP options
  SgpConfig sgp;
  std::vector<rserpool::IpAddress> allowed_peers;  // used when sgp.peers is empty
  bool accept_any = false;
};

class SgpServer {
  struct Key {};  // construction only through open()

 public:
  static rserpool::Result<std::unique_ptr<SgpServer>, std::error_code> open(boost::asio::io_context& io,
                                                                            SgpServerConfig cfg, Events& events);
  SgpServer(Key, boost::asio::io_context& io, SgpServerConfig cfg, Events& events);
  ~SgpServer();  // stops listening and aborts the associations
  SgpServer(const SgpServer&) = delete;
  SgpServer& operator=(const SgpServer&) = delete;

  // SS7 -> ASP: the node picks the AS (RC or routing key) and the ASP.
  void route(const DataView& d);
  // The same, for a caller whose buffer `user_part` holds exactly d's user
  // data and may go with it: a DATA sent once is built in that buffer
  // (ActionRunner::run(actions, user_part)), which is then left empty;
  // left as it was otherwise (not routed, or sent to more than one ASP).
  void route(const DataView& d, Bytes& user_part);
  // Only the common case of route(d, user_part): the node's verdict
  // without an action list (SgpNode::route_now(): an active AS, one ASP)
  // sends it, and true; false, nothing done (route() decides the rest).
  bool route_now(const DataView& d, Bytes& user_part);
  // Any other node operation (announce, ...) through the runner.
  void request(const std::function<Actions(SgpNode&, TimePoint)>& fn);

  SgpNode& node() noexcept { return node_; }
  std::uint16_t port() const noexcept { return listener_->port(); }
  const DriverCounters& counters() const noexcept { return runner_->counters(); }
  tr::TransportCounters& transport_counters() noexcept { return listener_->counters(); }
  // Associations currently up (admitted).
  std::vector<AssocId> associations() const;
  std::shared_ptr<tr::Association> association(AssocId id) const { return runner_->association(id); }
  TimePoint now() const { return runner_->now(); }
  void close();

 private:

  SgpServerConfig cfg_;
  SgpNode node_;
  std::shared_ptr<ActionRunner> runner_;
  std::shared_ptr<tr::Listener> listener_;
  std::map<AssocId, std::weak_ptr<AssociationDriver>> drivers_;
  Actions scratch_;
};

}  // namespace mxua::driver
