#include "mxua/fsm/sgp/sgp_peers.hpp"

#include <algorithm>

namespace mxua {
namespace {

// An IPv4 peer seen on a dual-stack socket arrives as ::ffff:a.b.c.d.
rserpool::IpAddress canonical(const rserpool::IpAddress& a) {
  if (!a.is_v6()) return a;
  const std::uint8_t* b = a.data();
  for (int i = 0; i < 10; ++i)
    if (b[i] != 0) return a;
  if (b[10] != 0xff || b[11] != 0xff) return a;
  return rserpool::IpAddress::v4({b[12], b[13], b[14], b[15]});
}

bool has(const std::vector<rserpool::IpAddress>& list, const rserpool::IpAddress& a) {
  const auto c = canonical(a);
  return std::any_of(list.begin(), list.end(), [&](const rserpool::IpAddress& x) { return canonical(x) == c; });
}

}  // namespace

std::optional<PeerId> SgpPeers::bind(const std::vector<rserpool::IpAddress>& remote) const {
  if (remote.empty()) return std::nullopt;
  std::optional<PeerId> found;
  for (PeerId i = 0; i < peers_.size(); ++i) {
    const auto& p = peers_[i];
    const bool all = std::all_of(remote.begin(), remote.end(),
                                 [&](const rserpool::IpAddress& a) { return has(p.addresses, a); });
    if (!all) continue;
    if (found) return std::nullopt;  // two peers claim these addresses: neither is trusted with them
    found = i;
  }
  return found;
}

bool SgpPeers::permits_opc(PeerId peer, PointCode opc) const {
  const auto* c = config(peer);
  return c && opc_permitted(c->originating_point_codes, opc);
}

std::optional<PeerId> SgpPeers::find(const std::string& name) const {
  for (PeerId i = 0; i < peers_.size(); ++i)
    if (peers_[i].name == name) return i;
  return std::nullopt;
}

bool opc_permitted(const std::vector<MaskedPointCode>& allowed, PointCode opc) noexcept {
  if (allowed.empty()) return true;
  return std::any_of(allowed.begin(), allowed.end(), [&](const MaskedPointCode& m) { return m.contains(opc); });
}

}  // namespace mxua
