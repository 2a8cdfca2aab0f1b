#pragma once
// Builders shared by the core tests.
#include <cstdint>

#include "rserpool/core/handlespace.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool::core::test {

inline TransportParameter sctp_transport(std::uint8_t host, TransportUse use = TransportUse::data_only) {
  TransportParameter t;
  t.protocol = TransportProtocol::sctp;
  t.port = 2905;
  t.use = use;
  t.addresses.push_back(IpAddress::v4({10, 0, 0, host}));
  return t;
}

inline PoolElementParameter make_pe(PeIdentifier id, PolicyParameters policy,
                                    std::int32_t life_ms = kInfiniteLifetime) {
  PoolElementParameter pe;
  pe.id = id;
  pe.registration_life_ms = life_ms;
  pe.user_transport = sctp_transport(static_cast<std::uint8_t>(id & 0xFFU));
  pe.policy = policy;
  return pe;
}

inline PolicyParameters rr() { return PolicyParameters{}; }
inline PolicyParameters policy(PolicyType t) {
  PolicyParameters p;
  p.type = t;
  return p;
}
inline PolicyParameters weighted(PolicyType t, std::uint32_t w) {
  PolicyParameters p = policy(t);
  p.weight = w;
  return p;
}
inline PolicyParameters loaded(PolicyType t, std::uint32_t load, std::uint32_t degradation = 0) {
  PolicyParameters p = policy(t);
  p.load = load;
  p.degradation = degradation;
  return p;
}
inline PolicyParameters prio(std::uint32_t priority) {
  PolicyParameters p = policy(PolicyType::priority);
  p.priority = priority;
  return p;
}

// Percent of full load as the 32-bit fraction RFC 5356 uses.
constexpr std::uint32_t percent(double pc) {
  return static_cast<std::uint32_t>(pc / 100.0 * 4294967295.0);
}

inline RegistrationContext by(ServerIdentifier owner, TimePoint now = TimePoint{}) {
  RegistrationContext c;
  c.owner = owner;
  c.now = now;
  return c;
}

inline TimePoint at_ms(std::int64_t ms) { return TimePoint{} + std::chrono::milliseconds(ms); }

}  // namespace rserpool::core::test
