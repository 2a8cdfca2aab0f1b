#pragma once
// The ports a daemon bound, for whoever started it (tests, orchestration):
// `--ports-file PATH` makes the daemon write one line per listener,
// "NAME PORT" (names: m3ua, asap, enrp, vty, metrics), once every listener
// is bound. A listener configured with port 0 gets a port the kernel chose,
// and this file is the only place that says which. The file appears whole
// or not at all: written to a temporary file beside it, then renamed.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "rserpool/base/result.hpp"

namespace rserpool::ops {

using BoundPorts = std::vector<std::pair<std::string, std::uint16_t>>;

// Writes `ports` to `path` atomically; the error names the file and reason.
Result<void, std::string> write_ports_file(const std::string& path, const BoundPorts& ports);

}  // namespace rserpool::ops
