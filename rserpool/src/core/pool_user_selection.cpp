#include "rserpool/core/pool_user_selection.hpp"

#include <algorithm>

#include "rserpool/core/policy.hpp"

namespace rserpool::core {

namespace {

bool is_random_family(PolicyType p) noexcept {
  return p == PolicyType::random || p == PolicyType::weighted_random ||
         p == PolicyType::randomized_least_used || p == PolicyType::weighted_random_dpf;
}

bool contains(std::span<const PeIdentifier> ids, PeIdentifier id) noexcept {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

void PoolUserSelector::set_policy(PolicyType overall) {
  if (overall == policy_) return;
  policy_ = overall;
  last_.reset();
  lud_counts_.clear();
}

void PoolUserSelector::list_changed() { lud_counts_.clear(); }

std::uint32_t PoolUserSelector::local_count(PeIdentifier id) const noexcept {
  for (const auto& [pe, n] : lud_counts_)
    if (pe == id) return n;
  return 0;
}

void PoolUserSelector::count_pick(PeIdentifier id) {
  for (auto& [pe, n] : lud_counts_) {
    if (pe == id) {
      if (n != UINT32_MAX) ++n;
      return;
    }
  }
  lud_counts_.emplace_back(id, 1);
}

std::uint64_t PoolUserSelector::rank_of(const PoolElementParameter& pe) const noexcept {
  switch (policy_) {
    case PolicyType::priority: return std::uint64_t{kMaxLoad} - pe.policy.priority;
    case PolicyType::least_used: return pe.policy.load;
    case PolicyType::least_used_degradation: return lud_load(pe.policy, local_count(pe.id));
    case PolicyType::priority_least_used: return plu_load(pe.policy);
    case PolicyType::least_used_dpf: return lu_dpf_load(pe.policy);
    default: return 0;  // RR, WRR: every entry equal, rotation decides
  }
}

std::optional<std::size_t> PoolUserSelector::select(std::span<const PoolElementParameter> list,
                                                    std::span<const PeIdentifier> excluded,
                                                    Random& rng) {
  const std::size_t n = list.size();
  if (n == 0) return std::nullopt;

  if (is_random_family(policy_)) {
    std::size_t usable = 0;
    for (const auto& pe : list) usable += contains(excluded, pe.id) ? 0U : 1U;
    if (usable == 0) return std::nullopt;
    auto k = rng.uniform(usable);
    for (std::size_t i = 0; i < n; ++i) {
      if (contains(excluded, list[i].id)) continue;
      if (k-- == 0) {
        last_ = list[i].id;
        return i;
      }
    }
    return std::nullopt;  // unreachable
  }

  std::size_t start = 0;
  if (last_) {
    for (std::size_t i = 0; i < n; ++i) {
      if (list[i].id == *last_) {
        start = i + 1;
        break;
      }
    }
  }
  std::optional<std::size_t> best;
  std::uint64_t best_rank = 0;
  for (std::size_t step = 0; step < n; ++step) {
    const std::size_t i = (start + step) % n;
    if (contains(excluded, list[i].id)) continue;
    const std::uint64_t r = rank_of(list[i]);
    if (!best || r < best_rank) {
      best = i;
      best_rank = r;
    }
  }
  if (best) {
    last_ = list[*best].id;
    if (policy_ == PolicyType::least_used_degradation) count_pick(list[*best].id);
  }
  return best;
}

}  // namespace rserpool::core
