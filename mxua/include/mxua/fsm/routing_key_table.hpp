#pragma once
// Routing keys at the SGP: (DPC, OPC, SI, NA) -> Routing Context. A key
// matches when one of its {DPC, SI list, OPC list} groups matches; among
// matching keys the most specific wins (narrowest DPC mask, then with SI, then
// with OPC list). An empty SI list means any SI except MTP management (0).
#include <cstdint>
#include <optional>
#include <vector>

#include "mxua/messages.hpp"

namespace mxua {

struct RoutingKeyEntry {
  std::uint32_t routing_context = 0;
  std::optional<std::uint32_t> network_appearance;
  std::vector<RoutingKeyDestination> destinations;
};

class RoutingKeyTable {
 public:
  // Replaces an existing entry with the same RC.
  void add(RoutingKeyEntry e);
  bool remove(std::uint32_t rc);
  const RoutingKeyEntry* find(std::uint32_t rc) const;
  // RC of a key with exactly these destinations and NA, if any.
  std::optional<std::uint32_t> find_equal(const std::vector<RoutingKeyDestination>& d,
                                          std::optional<std::uint32_t> na) const;
  std::optional<std::uint32_t> match(PointCode dpc, PointCode opc, std::uint8_t si,
                                     std::optional<std::uint32_t> na) const;
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  std::vector<RoutingKeyEntry> entries_;
};

}  // namespace mxua
