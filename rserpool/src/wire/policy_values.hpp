#pragma once
// A known policy type's values (RFC 5356 section 4) into PolicyParameters,
// in wire order, from any source of 32-bit values: the TLV decoder's reader
// and the one-pass REGISTRATION decoder's fixed offsets read the same
// layout, so the layout lives here once. The caller has checked that the
// type is known and that its values are there (policy_value_size).
#include <cstdint>

#include "rserpool/wire/parameters.hpp"

namespace rserpool::wire::detail {

template <typename NextU32>
void assign_policy_values(PolicyParameters& out, NextU32&& next) {
  switch (out.type) {
    case PolicyType::round_robin:
    case PolicyType::random:
      break;
    case PolicyType::weighted_round_robin:
    case PolicyType::weighted_random:
      out.weight = next();
      break;
    case PolicyType::priority:
      out.priority = next();
      break;
    case PolicyType::least_used:
    case PolicyType::randomized_least_used:
      out.load = next();
      break;
    case PolicyType::least_used_degradation:
    case PolicyType::priority_least_used:
      out.load = next();
      out.degradation = next();
      break;
    case PolicyType::weighted_random_dpf:
      out.weight = next();
      out.dpf = next();
      out.distance = next();
      break;
    case PolicyType::least_used_dpf:
      out.load = next();
      out.dpf = next();
      out.distance = next();
      break;
  }
}

}  // namespace rserpool::wire::detail
