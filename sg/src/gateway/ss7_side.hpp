#pragma once
// The SS7-facing M3UA side of the gateway, an executor of sans-I/O cores:
//   - an SGP listener for upstream ASPs (an STP, a load generator): one
//     mxua::SgpNode decides which association is which configured peer
//     (every address must be the peer's), which peer owns which routing
//     context, OPC screening, traffic modes, and DUNA/DRST to an ASP that
//     becomes active while destinations are down (RFC 4666 4.5.1);
//   - client connections to STPs (as ASP; `role ipsp` uses the same
//     single-exchange initiator procedure): one mxua::AspClient each, which
//     retries refused requests with a back-off and follows the STP's traffic
//     mode when configured to;
//   - the return paths (mxua::ReturnPaths): DATA a gateway controller sends
//     goes back the way its DPC's traffic came (bounded, least recently used
//     first out, owned by the peer that taught it), else by the default paths.
// This file feeds the cores events and carries out their answers; the
// decisions are theirs. What cores to build comes from ss7_plan.hpp (pure);
// rendering for the CLI and metrics from ss7_show.cpp.
#include <boost/asio/io_context.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mxua/driver/asp_connection.hpp"
#include "mxua/driver/sgp_server.hpp"
#include "mxua/fsm/return_paths.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/ops/metrics.hpp"
#include "sg/config/sg_config.hpp"
#include "sg/gateway/counters.hpp"

namespace sg::gateway {

struct Ss7Profile {
  rserpool::transport::TransportKind kind = rserpool::transport::TransportKind::automatic;
  rserpool::transport::SctpOptions sctp;  // the timer profile, then `ss7-side sctp ...`
  rserpool::transport::TcpMappingOptions tcp;
  // Back-off of a refused ASPUP/ASPAC on the STP connections.
  std::chrono::milliseconds retry_initial{1000};
  std::chrono::milliseconds retry_max{30000};
};

struct Ss7Hooks {
  std::function<void(MtpMessage&&)> data;  // DATA from the SS7 side
  // An AS (or a client connection's ASP) became active: DATA the gateway
  // held for want of an active path can go now.
  std::function<void()> path_active;
};

// A snapshot of the side for `show m3ua` and the metrics (ss7_show.cpp).
struct Ss7Status {
  struct Association {
    mxua::AssocId id = 0;
    std::string peer;     // configured peer name, or "-" (accept-peers any)
    std::string address;  // as the transport reported it
    mxua::AspState state = mxua::AspState::Down;
  };
  struct As {
    std::uint32_t rc = 0;
    std::string name;
    std::optional<mxua::AsState> state;
    mxua::TrafficMode mode = mxua::TrafficMode::Loadshare;
    std::size_t active = 0;
    std::size_t queued = 0;
  };
  struct Connection {
    std::string name;
    std::string remote;
    std::uint16_t port = 0;
    bool ipsp = false;
    mxua::AspState state = mxua::AspState::Down;
    std::uint64_t connects = 0;
    mxua::TrafficMode configured_mode = mxua::TrafficMode::Loadshare;
    bool follow = false;
    std::optional<mxua::TrafficMode> accepted_mode;
    std::optional<mxua::RequestRefusal> last_refusal;
    std::uint64_t refusals = 0;
  };
  bool sgp = false;
  std::string listen_text;
  std::vector<Association> associations;
  std::vector<As> ases;
  std::uint64_t refused_associations = 0;
  std::uint64_t evicted_associations = 0;
  std::uint64_t stale_asp_resets = 0;  // peers reset for DATA before ASP Up
  std::vector<Connection> connections;
  mxua::DropCounters m3ua_drops;  // SGP and connections together
  mxua::ErrCounters errors;       // ERR sent and received, by code
  std::uint64_t no_ss7_path = 0, ss7_refused = 0;  // DATA from the controllers not sent
  mxua::ReturnPathCounters return_paths;
  std::size_t return_path_entries = 0, return_path_capacity = 0;
  rserpool::TimePoint now{};
};
std::string render(const Ss7Status& s);
void collect(const Ss7Status& s, std::vector<rserpool::ops::Sample>& out);

class M3uaSide : public mxua::driver::Events {
 public:
  static rserpool::Result<std::unique_ptr<M3uaSide>, std::string> open(boost::asio::io_context& io,
                                                                     const SgConfig& config, Ss7Profile profile,
                                                                     Ss7Hooks hooks, GatewayCounters& counters);
  M3uaSide(boost::asio::io_context& io, Ss7Hooks hooks, GatewayCounters& counters);
  ~M3uaSide() override;

  // DATA from a gateway controller towards the SS7 network. A path that is
  // configured but not active: `caller_holds` true, the caller keeps the
  // message (not counted as a drop); false, it is dropped and counted.
  // A DATA sent may take m.data's buffer with it (built in that buffer, no
  // copy: issue 16); m is left whole whenever it is not sent.
  enum class SendResult : std::uint8_t { sent, not_active, not_configured };
  SendResult send(MtpMessage& m, bool caller_holds = false);
  // DUNA (available false) / DAVA for these destinations, to every active
  // ASP of the SGP. The SGP core remembers them: an ASP that becomes
  // active later hears of those still unavailable.
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
  Ss7Status status() const;
  std::string show() const { return render(status()); }
  void collect(std::vector<rserpool::ops::Sample>& out) const { gateway::collect(status(), out); }

  // mxua::driver::Events (the SGP's associations)
  void on_association_up(mxua::AssocId a, const rserpool::transport::AssociationInfo& i) override;
  void on_association_down(mxua::AssocId a, rserpool::transport::DownReason r) override;
  void on_association_refused(mxua::AssocId a, const rserpool::transport::AssociationInfo& i) override;
  void on_data(mxua::DataIndication&& d) override;
  // DATA stays in the frame it came in (MtpMessage::at): sent on re-headed
  // in the same bytes (issue 16).
  bool keeps_frames() const override { return true; }
  void on_asp_state(const mxua::AspStateChanged& c) override;
  void on_as_state(const mxua::AsStateChanged& c) override;

 private:
  struct Connection;

  void received(mxua::DataIndication&& d, mxua::PathOwner owner, std::optional<std::uint32_t> rc);
  bool send_via(const mxua::ReturnPath& path, MtpMessage& m);
  bool send_via_sgp(MtpMessage& m, std::uint32_t rc);
  bool send_via_connection(std::size_t i, MtpMessage& m);
  std::string peer_name(mxua::AssocId a) const;

  boost::asio::io_context& io_;
  Ss7Hooks hooks_;
  GatewayCounters& counters_;
  std::unique_ptr<mxua::driver::SgpServer> sgp_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<mxua::AsConfig> ases_;  // configured ASes, configuration order
  mxua::ReturnPaths paths_;
  struct SgpLink {
    mxua::PathOwner owner = 0;
    std::string address;
  };
  std::map<mxua::AssocId, SgpLink> sgp_links_;
  std::string listen_text_;
  bool stopping_ = false;
};

}  // namespace sg::gateway
