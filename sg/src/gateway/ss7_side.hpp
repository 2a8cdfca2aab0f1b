#pragma once
// The SS7-facing M3UA side of the gateway: an SGP listener for upstream ASPs
// (an STP, a load generator; allow-list of configured peers) and/or client
// connections to STPs (as ASP; `role ipsp` uses the same single-exchange
// initiator procedure, which is what an IPSP initiator sends).
//
// Return path: DATA a gateway controller sends goes back where its DPC was
// last seen as an OPC (the association that carried that point code's
// traffic, with its routing context), else to the first AS that is active.
#include <boost/asio/io_context.hpp>

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mxua/driver/asp_connection.hpp"
#include "mxua/driver/sgp_server.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/ops/metrics.hpp"
#include "sg/config/sg_config.hpp"
#include "sg/gateway/counters.hpp"

namespace sg::gateway {

struct Ss7Profile {
  rserpool::transport::TransportKind kind = rserpool::transport::TransportKind::automatic;
  rserpool::transport::SctpOptions sctp;
  rserpool::transport::TcpMappingOptions tcp;
};

struct Ss7Hooks {
  std::function<void(MtpMessage&&)> data;  // DATA from the SS7 side
};

class M3uaSide : public mxua::driver::Events {
 public:
  static rserpool::Result<std::unique_ptr<M3uaSide>, std::string> open(boost::asio::io_context& io,
                                                                     const SgConfig& config, Ss7Profile profile,
                                                                     Ss7Hooks hooks, GatewayCounters& counters);
  M3uaSide(boost::asio::io_context& io, Ss7Hooks hooks, GatewayCounters& counters);
  ~M3uaSide() override;

  // DATA from a gateway controller towards the SS7 network.
  void send(const MtpMessage& m);
  // DUNA (available false) / DAVA for these destinations, to every active
  // ASP. Destinations left unavailable are announced again to each ASP that
  // becomes active later (an STP that connects while a pool is empty).
  void announce(const std::vector<mxua::MaskedPointCode>& destinations, bool available);
  // SCON for these destinations (level 1 at onset, 0 at abatement).
  void congestion(const std::vector<mxua::PointCode>& destinations, bool onset);

  // Graceful shutdown, first step: ASPDN on our client connections.
  void begin_shutdown();
  // Second step: close every association gracefully.
  void close_associations();
  // Last step: stop listening, stop reconnecting, abort what is left.
  void stop();
  std::size_t open_associations() const;

  std::optional<std::uint16_t> sgp_port() const;
  std::string show() const;
  void collect(std::vector<rserpool::ops::Sample>& out) const;

  // mxua::driver::Events (the SGP's associations)
  void on_association_up(mxua::AssocId a, const rserpool::transport::AssociationInfo& i) override;
  void on_association_down(mxua::AssocId a, rserpool::transport::DownReason r) override;
  void on_association_refused(mxua::AssocId a, const rserpool::transport::AssociationInfo& i) override;
  void on_data(mxua::DataIndication&& d) override;
  void on_asp_state(const mxua::AspStateChanged& c) override;
  void on_as_state(const mxua::AsStateChanged& c) override;
  void on_drop(const mxua::Drop& d) override;

 private:
  struct Origin {
    std::optional<std::size_t> connection;  // nullopt: our SGP
    std::optional<std::uint32_t> routing_context;
  };
  struct Connection;

  void received(mxua::DataIndication&& d, std::optional<std::size_t> connection);
  bool send_via_sgp(const MtpMessage& m, std::optional<std::uint32_t> rc);
  bool send_via_connection(std::size_t i, const MtpMessage& m);
  void tell_unavailable(mxua::AssocId assoc, std::uint32_t routing_context);

  boost::asio::io_context& io_;
  Ss7Hooks hooks_;
  GatewayCounters& counters_;
  std::unique_ptr<mxua::driver::SgpServer> sgp_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<std::uint32_t> as_order_;  // configured ASes' RCs, configuration order
  std::map<std::uint32_t, Origin> origins_;  // point code -> where its traffic came from
  std::vector<mxua::MaskedPointCode> unavailable_;  // announced DUNA, no DAVA since
  std::map<mxua::AssocId, std::string> sgp_peers_;
  std::array<std::uint64_t, mxua::kDropReasons> m3ua_drops_{};
  std::uint64_t refused_ = 0;
  std::string listen_text_;
  bool stopping_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for posted work
};

}  // namespace sg::gateway
