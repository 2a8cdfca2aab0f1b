#pragma once
// The ASPs an SGP knows, one per association (RFC 4666 4.3.1: the ASP state
// as the SGP keeps it). An ASP is DOWN until its ASPUP is accepted, then
// INACTIVE; whether it is ACTIVE is a per-AS fact kept by each Application
// Server. Also the ASPUP admission rules of RFC 4666 4.3.4.1.
#include <map>
#include <optional>

#include "mxua/fsm/heartbeat.hpp"
#include "mxua/fsm/sgp/sgp_config.hpp"

namespace mxua {

struct Asp {
  AssocId assoc = 0;
  std::uint16_t outbound_streams = 2;
  bool up = false;  // ASP-INACTIVE or better (ASPUP accepted)
  std::optional<std::uint32_t> asp_id;
  Heartbeat beat;
  std::optional<PeerId> peer{};  // the configured peer the association is bound to
  bool reset_requested = false;  // aborted for DATA before ASP Up (SgpConfig)
};

class AspTable {
 public:
  using Map = std::map<AssocId, Asp>;

  // The association's ASP, created DOWN; an existing one (SCTP restart) is
  // returned as it is with fresh = false.
  std::pair<Asp*, bool> add(AssocId assoc, std::uint16_t outbound_streams, std::optional<Duration> t_beat,
                            std::optional<PeerId> peer = std::nullopt);
  void remove(AssocId assoc) { asps_.erase(assoc); }
  Asp* find(AssocId assoc);
  const Asp* find(AssocId assoc) const;
  std::uint16_t outbound_streams(AssocId assoc) const;

  // RFC 4666 4.3.4.1: the ERR an ASPUP gets instead of its ACK, if any:
  // a blocked ASP Identifier (0x0d), a missing one the SGP requires (0x0e),
  // one another up ASP already uses (0x0f).
  std::optional<ErrorCode> refuse_aspup(const Asp& asp, const AspUp& m, const SgpConfig& cfg) const;

  Map::iterator begin() noexcept { return asps_.begin(); }
  Map::iterator end() noexcept { return asps_.end(); }
  Map::const_iterator begin() const noexcept { return asps_.begin(); }
  Map::const_iterator end() const noexcept { return asps_.end(); }
  std::size_t size() const noexcept { return asps_.size(); }

 private:
  Map asps_;
};

}  // namespace mxua
