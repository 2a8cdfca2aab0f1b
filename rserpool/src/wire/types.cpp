// Names for the RSerPool value types declared in rserpool/wire/types.hpp.
#include "rserpool/wire/types.hpp"

namespace rserpool {

std::string_view to_string(PolicyType p) noexcept {
  switch (p) {
    case PolicyType::round_robin: return "Round Robin";
    case PolicyType::weighted_round_robin: return "Weighted Round Robin";
    case PolicyType::random: return "Random";
    case PolicyType::weighted_random: return "Weighted Random";
    case PolicyType::priority: return "Priority";
    case PolicyType::least_used: return "Least Used";
    case PolicyType::least_used_degradation: return "Least Used with Degradation";
    case PolicyType::priority_least_used: return "Priority Least Used";
    case PolicyType::randomized_least_used: return "Randomized Least Used";
    case PolicyType::weighted_random_dpf: return "Weighted Random with DPF";
    case PolicyType::least_used_dpf: return "Least Used with DPF";
  }
  return "Unknown Policy";
}

bool is_known_policy(std::uint32_t code) noexcept {
  switch (static_cast<PolicyType>(code)) {
    case PolicyType::round_robin:
    case PolicyType::weighted_round_robin:
    case PolicyType::random:
    case PolicyType::weighted_random:
    case PolicyType::priority:
    case PolicyType::least_used:
    case PolicyType::least_used_degradation:
    case PolicyType::priority_least_used:
    case PolicyType::randomized_least_used:
    case PolicyType::weighted_random_dpf:
    case PolicyType::least_used_dpf:
      return true;
  }
  return false;
}

std::string_view to_string(ErrorCause c) noexcept {
  switch (c) {
    case ErrorCause::unspecified: return "Unspecified Error";
    case ErrorCause::unrecognized_parameter: return "Unrecognized Parameter";
    case ErrorCause::unrecognized_message: return "Unrecognized Message";
    case ErrorCause::invalid_values: return "Invalid Values";
    case ErrorCause::non_unique_pe_identifier: return "Non-unique PE Identifier";
    case ErrorCause::inconsistent_pooling_policy: return "Inconsistent Pooling Policy";
    case ErrorCause::lack_of_resources: return "Lack of Resources";
    case ErrorCause::inconsistent_transport_type: return "Inconsistent Transport Type";
    case ErrorCause::inconsistent_data_control: return "Inconsistent Data/Control Configuration";
    case ErrorCause::unknown_pool_handle: return "Unknown Pool Handle";
    case ErrorCause::rejected_security: return "Rejected due to Security Considerations";
  }
  return "Unknown Error Cause";
}

}  // namespace rserpool
