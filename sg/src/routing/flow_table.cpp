#include "sg/routing/flow_table.hpp"

namespace sg {

std::optional<rserpool::PeIdentifier> FlowTable::find(const FlowKey& flow) const {
  auto it = by_flow_.find(flow);
  if (it == by_flow_.end()) return std::nullopt;
  return it->second;
}

void FlowTable::assign(const FlowKey& flow, rserpool::PeIdentifier pe) {
  auto [it, inserted] = by_flow_.try_emplace(flow, pe);
  if (!inserted) {
    if (it->second == pe) return;
    auto old = by_pe_.find(it->second);
    if (old != by_pe_.end()) {
      old->second.erase(flow);
      if (old->second.empty()) by_pe_.erase(old);
    }
    it->second = pe;
  }
  by_pe_[pe].insert(flow);
}

bool FlowTable::release(const FlowKey& flow) {
  auto it = by_flow_.find(flow);
  if (it == by_flow_.end()) return false;
  auto pe = by_pe_.find(it->second);
  if (pe != by_pe_.end()) {
    pe->second.erase(flow);
    if (pe->second.empty()) by_pe_.erase(pe);
  }
  by_flow_.erase(it);
  return true;
}

std::vector<FlowKey> FlowTable::flows_of(rserpool::PeIdentifier pe) const {
  auto it = by_pe_.find(pe);
  if (it == by_pe_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::size_t FlowTable::count_of(rserpool::PeIdentifier pe) const {
  auto it = by_pe_.find(pe);
  return it == by_pe_.end() ? 0 : it->second.size();
}

std::vector<FlowKey> FlowTable::take_flows_of(rserpool::PeIdentifier pe) {
  auto it = by_pe_.find(pe);
  if (it == by_pe_.end()) return {};
  std::vector<FlowKey> flows(it->second.begin(), it->second.end());
  for (const auto& f : flows) by_flow_.erase(f);
  by_pe_.erase(it);
  return flows;
}

}  // namespace sg
