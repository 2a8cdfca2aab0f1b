#include "sg/routing/rendezvous.hpp"

#include <cmath>

namespace sg {
namespace {

// SplitMix64's finaliser: a bijection with full avalanche, so keys that
// differ in one low bit (neighbouring circuits) get unrelated draws.
constexpr std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x;
}

constexpr std::uint64_t kFlowDomain = 0x5347'464C'4F57'0001ULL;  // "SGFLOW"
constexpr std::uint64_t kHeirDomain = 0x5347'4845'4952'0001ULL;  // "SGHEIR"
constexpr std::uint64_t kPeDomain = 0x5347'5045'0000'0001ULL;

bool weighted(rserpool::PolicyType t) noexcept {
  using P = rserpool::PolicyType;
  return t == P::weighted_round_robin || t == P::weighted_random || t == P::weighted_random_dpf;
}

}  // namespace

std::uint64_t rendezvous_key(const FlowKey& flow) noexcept {
  std::uint64_t h = mix(kFlowDomain ^ flow.opc);
  h = mix(h ^ flow.dpc);
  const std::uint64_t rest = (std::uint64_t{flow.si} << 24) | (std::uint64_t{flow.circuit ? 1U : 0U} << 16) |
                             flow.selector;
  return mix(h ^ rest);
}

std::uint64_t rendezvous_heir_key(rserpool::PeIdentifier failed) noexcept { return mix(kHeirDomain ^ failed); }

std::uint64_t rendezvous_draw(std::uint64_t key, rserpool::PeIdentifier pe) noexcept {
  return mix(key ^ mix(kPeDomain + pe));
}

std::uint32_t rendezvous_weight(const rserpool::PolicyParameters* policy) noexcept {
  if (policy == nullptr || !weighted(policy->type)) return 1;
  return policy->weight;
}

rserpool::PeIdentifier rendezvous_pick(std::uint64_t key, std::span<const Candidate> candidates) noexcept {
  const std::uint32_t w0 = rendezvous_weight(candidates.front().policy);
  bool equal = true;
  for (const auto& c : candidates) equal = equal && rendezvous_weight(c.policy) == w0;
  const Candidate* best = nullptr;
  if (equal) {
    // Equal weights: the highest draw, in integers (no rounding to agree on).
    std::uint64_t best_draw = 0;
    for (const auto& c : candidates) {
      const std::uint64_t d = rendezvous_draw(key, c.id);
      if (!best || d > best_draw || (d == best_draw && c.id < best->id)) {
        best = &c;
        best_draw = d;
      }
    }
    return best->id;
  }
  // Weighted: score = w / -ln(u), u uniform in (0, 1): the winner is PE i
  // with probability w_i / sum(w) (the minimum of exponentials of rates w).
  double best_score = -1.0;
  for (const auto& c : candidates) {
    const std::uint32_t w = rendezvous_weight(c.policy);
    const double u = (static_cast<double>(rendezvous_draw(key, c.id) >> 11) + 0.5) * 0x1.0p-53;
    const double score = w == 0 ? 0.0 : static_cast<double>(w) / -std::log(u);
    if (!best || score > best_score || (score == best_score && c.id < best->id)) {
      best = &c;
      best_score = score;
    }
  }
  return best->id;
}

rserpool::PeIdentifier RendezvousMemberSelector::pick(const Placement& what, std::span<const Candidate> candidates) {
  const std::uint64_t key =
      what.purpose == Placement::Purpose::heir ? rendezvous_heir_key(what.failed) : rendezvous_key(what.flow);
  return rendezvous_pick(key, candidates);
}

}  // namespace sg
