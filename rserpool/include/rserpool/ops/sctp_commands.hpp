#pragma once
// The configuration commands that set SctpOverrides (sctp_overrides.hpp).
#include <functional>
#include <string>

#include "rserpool/ops/sctp_overrides.hpp"
#include "rserpool/ops/vty.hpp"

namespace rserpool::ops {

// The ten commands `<prefix> rto-initial ...` .. `<prefix> receive-buffer
// ...` on `node`; `get` finds the overrides the node configures. RTO values
// are checked against the other RTO values set in the same node, so an
// inconsistent line is named with its file and line.
void declare_sctp_commands(Vty& vty, int node, const std::string& prefix, const std::string& what,
                           std::function<SctpOverrides&(CommandContext&)> get);

}  // namespace rserpool::ops
