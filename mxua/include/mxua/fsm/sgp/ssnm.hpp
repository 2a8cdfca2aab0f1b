#pragma once
// SS7 Signalling Network Management at the SGP (RFC 4666 4.5): the state of
// SS7 destinations as the SG knows it, announced to the ASPs that are
// ACTIVE (DUNA, DAVA, DRST, SCON, DUPU, with the routing contexts each ASP
// is active in), and the answers to an ASP's DAUD (4.5.3).
#include <map>

#include "mxua/fsm/destination_table.hpp"
#include "mxua/fsm/sgp/application_server.hpp"

namespace mxua {

using AsMap = std::map<std::uint32_t, ApplicationServer>;

class SgpSsnm {
 public:
  DestinationTable& destinations() noexcept { return destinations_; }
  const DestinationTable& destinations() const noexcept { return destinations_; }

  // MTP-PAUSE / MTP-RESUME / MTP-STATUS from the nodal interworking
  // function (RFC 4666 4.5.1): the table changes and every ASP active in
  // some AS hears of it.
  void announce(MaskedPointCode pc, DestinationAvailability a, const AspTable& asps, const AsMap& ases,
                Actions& out);
  void announce_congestion(PointCode pc, std::uint8_t level, const AspTable& asps, const AsMap& ases,
                           Actions& out);
  void announce_user_unavailable(PointCode pc, UserCause uc, const AspTable& asps, const AsMap& ases,
                                 Actions& out);

  // An ASP became ACTIVE in the AS `rc` (RFC 4666 4.5.1): it hears, after
  // its ASPAC ACK, DUNA for the destinations the SG has announced
  // unavailable and DRST for the restricted ones, so an STP that connects
  // while a destination is down does not send into a void.
  void tell_newly_active(AssocId assoc, std::uint32_t rc, Actions& out) const;

  // DAUD (RFC 4666 4.5.3): DUNA / DAVA / DRST per point code, SCON for a
  // congested one, ERR Destination Status Unknown (0x14) with the point
  // codes the SG knows nothing of (or DAVA when so configured).
  void on_daud(AssocId from, const Daud& m, const SgpConfig& cfg, ErrCounters& errs, Actions& out) const;

 private:
  DestinationTable destinations_;
};

// Routing contexts of the ASes this association is ACTIVE in, in RC order.
std::vector<std::uint32_t> active_contexts(const AsMap& ases, AssocId assoc);

}  // namespace mxua
