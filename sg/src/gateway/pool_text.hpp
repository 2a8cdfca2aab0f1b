#pragma once
// The CLI's text about pools (`show pools`, `show pool NAME`, `show flows`)
// and the small formatters the pool's log lines share.
#include <string>

#include "rserpool/wire/types.hpp"

namespace sg::gateway {

class PoolRuntime;

std::string pe_text(rserpool::PeIdentifier pe);  // 8 hex digits, as `drain pe ID` takes it
std::string policy_text(const rserpool::PolicyParameters& p);
std::string transport_text(const rserpool::TransportParameter& t);

std::string show_pool(const PoolRuntime& pool, bool with_header = true);
std::string show_flows(const PoolRuntime& pool);

}  // namespace sg::gateway
