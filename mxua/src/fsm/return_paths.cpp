#include "mxua/fsm/return_paths.hpp"

#include <algorithm>

namespace mxua {

void ReturnPaths::set_owned(PathOwner owner, std::vector<MaskedPointCode> pcs) {
  if (pcs.empty())
    owned_.erase(owner);
  else
    owned_[owner] = std::move(pcs);
}

ReturnPaths::Ownership ReturnPaths::configured_ownership(PointCode pc, PathOwner owner) const {
  Ownership o;
  for (const auto& [who, pcs] : owned_)
    if (std::any_of(pcs.begin(), pcs.end(), [&](const MaskedPointCode& m) { return m.contains(pc); })) {
      o.any = true;
      if (who == owner) {
        o.mine = true;
        break;
      }
    }
  return o;
}

std::size_t ReturnPaths::links(PathOwner owner) const {
  auto it = links_.find(owner);
  return it == links_.end() ? 0 : it->second;
}

void ReturnPaths::link_down(PathOwner owner) {
  auto it = links_.find(owner);
  if (it == links_.end()) return;
  if (--it->second != 0) return;
  links_.erase(it);
  for (auto e = lru_.begin(); e != lru_.end();) {
    if (e->path.owner != owner) {
      ++e;
      continue;
    }
    index_.erase(e->pc);
    e = lru_.erase(e);
    ++counters_.released;
  }
}

ReturnPaths::Learn ReturnPaths::learn(PointCode opc, const ReturnPath& via) {
  const Ownership o = ownership(opc, via.owner);
  const bool owns = o.mine;
  if (o.any && !owns) {
    ++counters_.refused;  // another owner's configured point code
    return Learn::Refused;
  }
  // The most recently used entry, without the hash lookup (issue 16: the
  // answers and the next requests of a relayed exchange name the same
  // point code); what the lookup below would do for it.
  if (!lru_.empty() && lru_.front().pc == opc.value) {
    Entry& e = lru_.front();
    if (e.path.owner != via.owner && !owns) {
      ++counters_.refused;
      return Learn::Refused;
    }
    e.path = via;
    return Learn::Refreshed;
  }
  if (auto it = index_.find(opc.value); it != index_.end()) {
    Entry& e = *it->second;
    if (e.path.owner != via.owner && !owns) {
      ++counters_.refused;  // first owner keeps it while it has a link up
      return Learn::Refused;
    }
    e.path = via;
    if (it->second != lru_.begin()) lru_.splice(lru_.begin(), lru_, it->second);
    return Learn::Refreshed;
  }
  lru_.push_front(Entry{opc.value, via});
  index_.emplace(opc.value, lru_.begin());
  ++counters_.learned;
  while (index_.size() > capacity_) {
    index_.erase(lru_.back().pc);
    lru_.pop_back();
    ++counters_.evicted;
  }
  return Learn::New;
}

std::optional<ReturnPath> ReturnPaths::lookup(PointCode dpc) const {
  auto it = index_.find(dpc.value);
  if (it == index_.end()) return std::nullopt;
  return it->second->path;
}

}  // namespace mxua
