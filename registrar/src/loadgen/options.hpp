#pragma once
// Command line of rserpool-loadgen. Parsing is separate from the driver so
// that a bad option is a clear message and exit status 2, never a half-run.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rserpool/base/ip_address.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/transport/config.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool::loadgen {

struct Options {
  // ASAP endpoints of the registrar(s) PEs register at; associations are
  // spread over them round-robin.
  std::vector<TransportAddress> registrars;
  // Where handle resolutions (and the convergence check) go; defaults to the
  // first registrar.
  std::optional<TransportAddress> resolve_at;
  transport::TransportKind kind = transport::TransportKind::automatic;
  std::optional<IpAddress> local_address;  // bind the associations here
  std::optional<IpAddress> pe_address;     // in each PE's user transport (default: local/bound address)
  std::uint16_t pe_base_port = 20000;

  std::size_t pes = 0;           // PEs to register (0: resolution-only run)
  std::size_t pools = 1;         // PE i joins pool i % pools
  std::string pool_prefix = "LoadPool";
  std::size_t associations = 1;  // registration associations
  double rate = 0;               // registrations (and resolutions) per second; 0: as fast as the window allows
  std::size_t window = 32;       // requests outstanding at once
  PolicyType policy = PolicyType::round_robin;
  std::int32_t life_ms = 3'600'000;

  std::size_t resolutions = 0;   // handle resolutions to send (cycling over the pools)
  double duration_s = 0;         // or: resolve for this long
  std::uint32_t items = 3;       // Handle Resolution Option

  // Resolve every pool at resolve_at until this many PEs are visible in
  // total (handlespace download / synchronisation time).
  std::size_t converge = 0;
  double timeout_s = 120;        // bound on every phase (connect retries included)
  double hold_s = 0;             // keep PEs registered this long after the run; < 0: until SIGINT/SIGTERM
  bool deregister = true;        // deregister before closing
  bool json = false;
  std::uint32_t seed = 0;        // PE identifiers; 0: random
};

// argv without the program name. Error: a one-line reason.
Result<Options, std::string> parse_options(const std::vector<std::string>& args);
std::string usage();

}  // namespace rserpool::loadgen
