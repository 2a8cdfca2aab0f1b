#pragma once
// One M3UA endpoint per association, whatever the role:
//   Asp   the requesting side (AspClient);
//   Sgp   the serving side, a view onto an SgpNode shared by all the
//         associations of the local SGP (AS state spans associations);
//   Ipsp  peer to peer: single exchange (RFC 4666 4.3.1: only the initiator
//         sends ASPUP/ASPAC, each side changes state on the one exchange) or
//         double exchange (both sides send requests: requests go to the
//         serving half, ACKs to the requesting half).
// Bytes in with their stream number, actions out: the transport driver calls
// association_up/down and receive, arms one OS timer at next_deadline() and
// calls on_timeout(now) when it fires, and executes the actions.
#include <memory>
#include <optional>

#include "mxua/fsm/asp_client.hpp"
#include "mxua/fsm/sgp_node.hpp"

namespace mxua {

enum class Role : std::uint8_t { Asp, Sgp, Ipsp };
enum class IpspExchange : std::uint8_t { Single, Double };

struct IpspConfig {
  IpspExchange exchange = IpspExchange::Single;
  bool initiator = true;  // single exchange: this side sends ASPUP/ASPAC
  AspClientConfig requesting;  // its assoc is the endpoint's association
  SgpConfig serving;           // the ASes the peer may activate towards us
};

class Endpoint {
 public:
  static Endpoint asp(AspClientConfig cfg);
  static Endpoint sgp(AssocId assoc, SgpNode& node);
  static Endpoint ipsp(IpspConfig cfg);

  Role role() const noexcept { return role_; }
  AssocId association() const noexcept { return assoc_; }

  Actions association_up(std::uint16_t outbound_streams, TimePoint now);
  // With the peer's addresses: an SGP endpoint binds the association to a
  // configured peer or refuses it (SgpNode::association_up).
  Actions association_up(std::uint16_t outbound_streams, TimePoint now,
                         const std::vector<rserpool::IpAddress>& remote);
  Actions association_down(TimePoint now);
  Actions receive(std::uint16_t stream, ByteView bytes, TimePoint now);
  // The earlier of the two halves' deadlines; on_timeout runs both.
  std::optional<TimePoint> next_deadline() const;
  // Grows whenever next_deadline() may have changed: the sum of the halves'
  // TimerSet::changes() (each only grows).
  std::uint64_t timer_changes() const noexcept {
    return (client_ ? client_->timer_changes() : 0) + (owned_node_ ? owned_node_->timer_changes() : 0);
  }
  Actions on_timeout(TimePoint now);
  // The driver's association id (process-unique), before association_up.
  void set_association(AssocId assoc);
  // DATA from the local MTP3 user towards the peer.
  Actions send_data(const DataView& d, TimePoint now);
  // The same, appending to `out` (a vector the driver reuses: issue 16).
  void send_data(const DataView& d, TimePoint now, Actions& out);

  AspClient* requesting() noexcept { return client_.get(); }
  SgpNode* serving() noexcept { return node_; }

 private:
  Endpoint(Role r, AssocId a) : role_(r), assoc_(a) {}
  Role role_;
  AssocId assoc_;
  std::unique_ptr<AspClient> client_;      // Asp, Ipsp initiator / double exchange
  std::unique_ptr<SgpNode> owned_node_;    // Ipsp responder / double exchange
  SgpNode* node_ = nullptr;                // Sgp (shared) or owned_node_
};

}  // namespace mxua
