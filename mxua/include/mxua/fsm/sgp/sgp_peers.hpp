#pragma once
// The configured peers of an SGP (an STP, an ASP host): which associations
// belong to which peer, and which originating point codes a peer may use.
//
// Binding (who is this association?): an SCTP association is bound to a
// peer only when EVERY peer address of the association is one of that
// peer's configured addresses. "Any one address matches" would let a host
// that lists a configured peer's address among its own (SCTP INIT address
// lists are the sender's word) pass for that peer. Addresses shared by two
// peers make an association ambiguous: it is bound to neither.
//
// Screening: a peer configured with originating point codes (single codes
// or masked ranges) may send DATA only with one of them as OPC; what else it
// sends is dropped and counted (DropReason::OpcScreened), so one peer
// cannot inject traffic in another's name or steer another's return path.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mxua/point_code.hpp"
#include "rserpool/base/ip_address.hpp"

namespace mxua {

// Index of a configured peer in SgpConfig::peers.
using PeerId = std::uint32_t;

struct SgpPeerConfig {
  std::string name;
  std::vector<rserpool::IpAddress> addresses;
  std::vector<MaskedPointCode> originating_point_codes;  // empty: no OPC screening
};

class SgpPeers {
 public:
  SgpPeers() = default;
  explicit SgpPeers(std::vector<SgpPeerConfig> peers) : peers_(std::move(peers)) {}

  // The peer every one of `remote` belongs to; nullopt when none (or more
  // than one) does, or when `remote` is empty.
  std::optional<PeerId> bind(const std::vector<rserpool::IpAddress>& remote) const;
  // Whether `peer` may send DATA with this OPC.
  bool permits_opc(PeerId peer, PointCode opc) const;
  std::optional<PeerId> find(const std::string& name) const;

  const SgpPeerConfig* config(PeerId peer) const {
    return peer < peers_.size() ? &peers_[peer] : nullptr;
  }
  std::size_t size() const noexcept { return peers_.size(); }
  bool empty() const noexcept { return peers_.empty(); }

 private:
  std::vector<SgpPeerConfig> peers_;
};

// Whether `opc` is one of `allowed` (exact code or inside a masked range);
// an empty list permits everything.
bool opc_permitted(const std::vector<MaskedPointCode>& allowed, PointCode opc) noexcept;

}  // namespace mxua
