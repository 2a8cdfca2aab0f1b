#pragma once
// Traffic distribution within an Application Server (RFC 4666 4.3.4.3 and
// 1.4.2.x): which of the AS's active ASPs one DATA message goes to.
//
//   Override   the one active ASP (a new ASPAC takes the traffic over);
//   Loadshare  one ASP chosen by SLS over the active ASPs in association
//              order: one SLS stays on one ASP while the set is unchanged,
//              so its messages keep their order (RFC 4666 leaves the
//              algorithm to the SGP);
//   Broadcast  every active ASP.
//
// The one function both route() and decide() use, so the decision that is
// reported is the one that is executed.
#include <span>

#include "mxua/fsm/actions.hpp"

namespace mxua {

// `active` sorted by association id. Empty when no ASP is active.
std::span<const AssocId> select_asps(TrafficMode mode, std::span<const AssocId> active, std::uint8_t sls) noexcept;

}  // namespace mxua
