#pragma once
// How a gateway resolves the pools it serves (sgd's PoolUserService runs
// it; the seeded simulation runs the same PoolUser core with it).
#include <chrono>
#include <cstdint>
#include <limits>

#include "rserpool/asap/pool_user.hpp"

namespace sg::gateway {

inline rserpool::asap::PoolUserConfig pool_user_config(bool aggressive, std::uint64_t seed) {
  rserpool::asap::PoolUserConfig pu;
  pu.subscribe = true;
  pu.stale_cache = aggressive ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(5000);
  // The distributor takes each answer (and each pushed list) for the whole
  // pool: a PE missing from it has left. Without the Handle Resolution
  // Option a registrar answers with its default number of PEs (3 for ours,
  // chosen by the pool's policy): a pool of four or more controllers lost
  // one at every push. Ask for all of them (the registrar caps the answer
  // at its max_resolution_items).
  pu.items = std::numeric_limits<std::uint32_t>::max();
  pu.seed = seed;
  return pu;
}

}  // namespace sg::gateway
