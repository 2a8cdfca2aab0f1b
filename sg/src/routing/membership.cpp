#include "sg/routing/membership.hpp"

namespace sg {

using rserpool::PeIdentifier;

std::vector<Membership::Change> Membership::update(std::span<const rserpool::PoolElementParameter> list) {
  std::map<PeIdentifier, const rserpool::PoolElementParameter*> next;
  for (const auto& pe : list) next.try_emplace(pe.id, &pe);
  overall_ = list.empty() ? std::nullopt : std::optional(list.front().policy);

  std::vector<Change> changes;
  for (auto it = listings_.begin(); it != listings_.end();) {
    if (next.count(it->first)) {
      ++it;
      continue;
    }
    changes.push_back(Change{it->first, MembershipChange::left});
    it = listings_.erase(it);  // the operator's drain goes with it
  }
  for (const auto& [id, pe] : next) {
    auto [it, inserted] = listings_.try_emplace(id, Listing{*pe, false});
    if (inserted) {
      changes.push_back(Change{id, MembershipChange::joined});
      continue;
    }
    auto& old = it->second.parameter;
    // A new user transport means a new registration (a restarted process
    // on another port): the association to the old one leads nowhere.
    if (!(old.user_transport == pe->user_transport))
      changes.push_back(Change{id, MembershipChange::moved});
    else if (!(old.policy == pe->policy))
      changes.push_back(Change{id, MembershipChange::policy_changed});
    old = *pe;
  }
  return changes;
}

const rserpool::PoolElementParameter* Membership::listed(PeIdentifier pe) const {
  auto it = listings_.find(pe);
  return it == listings_.end() ? nullptr : &it->second.parameter;
}

void Membership::set_operator_drained(PeIdentifier pe) {
  if (auto it = listings_.find(pe); it != listings_.end()) it->second.operator_drained = true;
}

bool Membership::operator_drained(PeIdentifier pe) const {
  auto it = listings_.find(pe);
  return it != listings_.end() && it->second.operator_drained;
}

std::optional<rserpool::PolicyParameters> Membership::overall_policy() const { return overall_; }

std::vector<rserpool::PoolElementParameter> Membership::selectable() const {
  std::vector<rserpool::PoolElementParameter> out;
  out.reserve(listings_.size());
  for (const auto& [id, l] : listings_)
    if (!l.operator_drained) out.push_back(l.parameter);
  return out;
}

}  // namespace sg
