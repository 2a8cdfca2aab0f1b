#pragma once
// The gateway's configuration grammar on the VTY (Osmocom style): nodes
// sg, ss7-side (peer, connect), registrar (colocated), pool, route. Every
// command checks its values and says what is wrong; the reference is
// docs/configuration.md.
#include <functional>
#include <string>

#include "rserpool/ops/vty.hpp"
#include "sg/config/sg_config.hpp"

namespace sg {

enum class ConfigChange { route, route_removed, pool, log_level, other };

// Called after a successful command typed at run time (not while the
// config file is read), so the running daemon can apply it.
using ConfigChangeHandler = std::function<void(ConfigChange, const std::string& name)>;

void declare_config_commands(rserpool::ops::Vty& vty, SgConfig& config, ConfigChangeHandler on_change = {});

}  // namespace sg
