#pragma once
// gwc-sim's command line: the pool it joins, its registrars, the M3UA
// listener the SG connects to, its selection policy and call behaviour.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rserpool/base/ip_address.hpp"
#include "rserpool/transport/config.hpp"
#include "rserpool/wire/types.hpp"

namespace sg::gwcsim {

struct Options {
  std::string pool = "gwc";
  std::vector<rserpool::TransportAddress> registrars;  // default 127.0.0.1:3863
  rserpool::TransportAddress listen;                   // default 127.0.0.1:0
  rserpool::transport::TransportKind transport = rserpool::transport::TransportKind::automatic;
  rserpool::PolicyParameters policy;  // default round robin
  // Least-used family: a fixed load in percent, or (none) the share of
  // `capacity` calls in progress, reported as it changes.
  std::optional<double> fixed_load_percent;
  std::uint32_t capacity = 1000;
  std::chrono::milliseconds load_interval{500};  // at most one policy update per interval
  std::chrono::milliseconds answer_delay{20};
  // sim::ChangeoverConfig::hold: how long a call whose last message went
  // through a failed SG association waits before it continues through the
  // mate (what the dead SG's kernel still sends to the STP goes first).
  std::chrono::milliseconds changeover_hold{300};
  bool cookies = false;
  std::chrono::milliseconds stats_interval{0};
  std::chrono::milliseconds shutdown_grace{2000};  // SIGTERM: calls in progress may finish
  std::int32_t registration_life_ms = 30'000;
  std::optional<rserpool::PeIdentifier> pe_id;  // default random
  bool aggressive = false;
  bool bundle = false;  // --bundle on: what is written together toward the SG leaves bundled (SctpOptions::bundle)
  // An SG association lost abnormally right after a stall of our own is
  // taken as a fence (GwcConfig::fenced_after_stall): the calls it carried
  // are given up. Off (--no-self-fence): such a loss is always the SG's
  // death, for tests that never hang a controller, where a stall is only
  // the machine's load (a loaded UML guest stops every process for a
  // second at times, the SG with them, and the SG killed just after).
  bool self_fence = true;
  std::string name = "gwc-sim";
  // One line per ISUP message in or out (and held, handed back, expired),
  // with its CIC, for a test to tell what became of a failed call.
  std::string trace_path;
};

std::optional<Options> parse_options(int argc, char** argv, std::string& message, int& exit_code);

bool least_used_family(rserpool::PolicyType t) noexcept;

}  // namespace sg::gwcsim
