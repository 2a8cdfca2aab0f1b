#pragma once
// Which pool element serves which flow. Lookup by flow is O(1); the flows of
// one PE are indexed too, because a PE failure must move all of its flows
// at once.
#include <cstddef>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "rserpool/wire/types.hpp"
#include "sg/routing/flow.hpp"

namespace sg {

class FlowTable {
 public:
  std::optional<rserpool::PeIdentifier> find(const FlowKey& flow) const;
  // Binds (or rebinds) a flow to a PE.
  void assign(const FlowKey& flow, rserpool::PeIdentifier pe);
  // Forgets a flow (call over). Returns whether it was bound.
  bool release(const FlowKey& flow);
  // The flows bound to `pe`, in no particular order.
  std::vector<FlowKey> flows_of(rserpool::PeIdentifier pe) const;
  std::size_t count_of(rserpool::PeIdentifier pe) const;
  // Unbinds every flow of `pe` and returns them (the PE is gone).
  std::vector<FlowKey> take_flows_of(rserpool::PeIdentifier pe);
  std::size_t size() const noexcept { return by_flow_.size(); }

 private:
  std::unordered_map<FlowKey, rserpool::PeIdentifier, FlowKeyHash> by_flow_;
  std::unordered_map<rserpool::PeIdentifier, std::unordered_set<FlowKey, FlowKeyHash>> by_pe_;
};

}  // namespace sg
