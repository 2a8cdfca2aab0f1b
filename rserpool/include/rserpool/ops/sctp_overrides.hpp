#pragma once
// SCTP parameters set one by one, shared by every daemon that opens SCTP
// associations (sgd's SS7 side, its controller links and its co-located
// registrar; rserpool-registrar). The node's timer profile applies first,
// then each parameter set here. The commands that set them:
// sctp_commands.hpp.
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>

#include "rserpool/transport/config.hpp"

namespace rserpool::ops {

struct SctpOverrides {
  std::optional<std::uint32_t> rto_initial_ms;
  std::optional<std::uint32_t> rto_min_ms;
  std::optional<std::uint32_t> rto_max_ms;
  std::optional<std::uint16_t> path_max_retransmissions;
  std::optional<std::uint16_t> association_max_retransmissions;
  std::optional<std::uint32_t> heartbeat_interval_ms;
  std::optional<bool> heartbeat;
  std::optional<std::uint32_t> sack_delay_ms;
  std::optional<std::uint32_t> sack_frequency;
  std::optional<std::uint32_t> receive_buffer;
  std::optional<bool> bundle;
  bool empty() const noexcept { return *this == SctpOverrides{}; }
  friend bool operator==(const SctpOverrides&, const SctpOverrides&) = default;
};

// The profile's options with the overrides applied.
transport::SctpOptions apply(const SctpOverrides& o, transport::SctpOptions profile);

// "" when min <= initial <= max holds for the effective options, else the
// problem in words (for a configuration check naming `where`).
std::string check_rto(const transport::SctpOptions& effective);

// The same commands as configuration text, one per set parameter.
void render_sctp(std::ostringstream& o, const std::string& indent, const std::string& prefix, const SctpOverrides& s);

}  // namespace rserpool::ops
