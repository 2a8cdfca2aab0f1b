#pragma once
// Pool member selection policies (RFC 5356, plus rsplib's private DPF
// policies 0xB0002001/0xB0002002), registrar side.
//
// Every PE of a pool has the pool's policy type (registration enforces it), so
// each pool owns one PoolSelection built for that type by find_policy(). The
// pool hands out small dense slot numbers; the selection keeps its own index
// over them. select() answers a handle resolution and advances the policy
// state ("the head moves forward", degradation counters, ...).
//
// Cost per operation, n = PEs in the pool, N = items asked for:
//
//  policy                structure                              add/change/remove  select N
//  RR                    intrusive circular list + head         O(1)               O(N)
//  WRR                   ordered (pass, seq) index, stride      O(log n)           O(N + log n)
//                        scheduling: pass += 2^32/weight
//  RAND                  dense array + position map,            O(1)               O(N)
//                        partial Fisher-Yates
//  WRAND, RLU, WRAND-DPF Fenwick tree over weights              O(log n)           O(N log n)
//  PRIO                  ordered (-priority, seq) index         O(log n)           O(N + log n)
//  LU, LUD, PLU, LU-DPF  ordered (effective load, seq) index    O(log n)           O(N + log n)
//
// "seq" is a per-pool counter: an entry that is selected gets a fresh, larger
// seq, so among equal keys the selections rotate (RR among equal loads or
// priorities, as RFC 5356 asks).
//
// max_increment: how many of the returned entries count as "selected" (get
// a fresh seq, a WRR pass step, a LUD degradation step). RFC 5356 describes
// RR as "the head moves forward by one" per resolution; rsplib uses 1 for
// every policy. A registrar that wants the literal "each PE returned to a PU
// is degraded" LUD reading passes max_increment = max_items.
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "rserpool/core/random.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool::core {

using Slot = std::uint32_t;

inline constexpr std::uint32_t kMaxLoad = 0xFFFFFFFFU;  // 100 %

// ---- Effective values (also used by the pool-user side) -------------------

// RLU: weight = 0xFFFFFFFF - load, at least 1 so that a pool whose PEs all
// report 100 % still answers (rsplib does the same).
std::uint64_t rlu_weight(std::uint32_t load) noexcept;
// WRAND-DPF: weight - round(weight * distance * dpf / 0xFFFFFFFF), at least
// 1; weight 0 stays 0 (RFC 5356 3.2: the PE cannot serve).
std::uint64_t wrand_dpf_weight(const PolicyParameters& p) noexcept;
// LU-DPF: load + distance * dpf, capped at 0xFFFFFFFF. (The digest's
// load + distance * (dpf/0xFFFFFFFF) * 0xFFFFFFFF.)
std::uint32_t lu_dpf_load(const PolicyParameters& p) noexcept;
// PLU: load + degradation, capped.
std::uint32_t plu_load(const PolicyParameters& p) noexcept;
// LUD: load + count * degradation, capped.
std::uint32_t lud_load(const PolicyParameters& p, std::uint32_t count) noexcept;

// ---- Registrar-side selection ----------------------------------------------

class PoolSelection {
 public:
  virtual ~PoolSelection() = default;
  PoolSelection() = default;
  PoolSelection(const PoolSelection&) = delete;
  PoolSelection& operator=(const PoolSelection&) = delete;

  virtual void add(Slot slot, const PolicyParameters& p) = 0;
  // New policy values for a member (re-registration or ENRP update). Resets
  // the LUD degradation counter, as RFC 5356 asks.
  virtual void change(Slot slot, const PolicyParameters& p) = 0;
  virtual void remove(Slot slot) = 0;
  // Appends up to max_items distinct slots to out, best first, and advances
  // the state for the first max_increment of them.
  virtual void select(std::size_t max_items, std::size_t max_increment, Random& rng,
                      std::vector<Slot>& out) = 0;
  // LUD counter of a member (0 for policies without one).
  virtual std::uint32_t degradation_count(Slot) const { return 0; }
};

struct PolicyDescriptor {
  PolicyType type;
  std::string_view name;  // rsplib's spelling, for logs and the CLI
  std::unique_ptr<PoolSelection> (*make)();
};

// nullptr when the type is not supported here.
const PolicyDescriptor* find_policy(PolicyType type) noexcept;
const PolicyDescriptor* find_policy(std::uint32_t code) noexcept;
std::span<const PolicyDescriptor> supported_policies() noexcept;

}  // namespace rserpool::core
