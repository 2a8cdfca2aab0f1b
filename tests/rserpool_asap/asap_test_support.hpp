#pragma once
// Helpers for the sans-I/O ASAP endpoint tests: pick actions out of an
// Actions vector by type, build registrar addresses and PE parameters.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "rserpool/asap/actions.hpp"
#include "rserpool/asap/registrar_hunt.hpp"
#include "rserpool/base/time.hpp"

namespace rserpool::asap::test {

using namespace std::chrono_literals;

template <class T>
std::vector<T> all(const Actions& a) {
  std::vector<T> r;
  for (const auto& x : a)
    if (const auto* p = std::get_if<T>(&x)) r.push_back(*p);
  return r;
}

template <class T>
std::size_t count(const Actions& a) {
  return all<T>(a).size();
}

template <class T>
T only(const Actions& a) {
  auto v = all<T>(a);
  EXPECT_EQ(v.size(), 1u);
  if (v.empty()) return T{};
  return v.front();
}

// Messages of type M sent to registrars.
template <class M>
std::vector<std::pair<AssocId, M>> sent(const Actions& a) {
  std::vector<std::pair<AssocId, M>> r;
  for (const auto& s : all<SendToRegistrar>(a))
    if (const auto* m = std::get_if<M>(&s.message)) r.emplace_back(s.assoc, *m);
  return r;
}

// Virtual time: tests count from the clock's epoch.
inline TimePoint at(Duration d) { return TimePoint{} + d; }

// A timer of a core (its own TimerSet, or its hunt's for PoolElement and
// PoolUser): when it is due, if armed.
template <class Core>
std::optional<TimePoint> deadline(const Core& c, TimerKind k, std::uint32_t key = 0) {
  if (auto d = c.timers().deadline(Timer{k, key})) return d;
  if constexpr (requires { c.hunt(); }) return c.hunt().timers().deadline(Timer{k, key});
  return std::nullopt;
}
template <class Core>
bool armed(const Core& c, TimerKind k, std::uint32_t key = 0) {
  return deadline(c, k, key).has_value();
}
// Armed to fire at `when`.
template <class Core>
bool armed_at(const Core& c, TimerKind k, TimePoint when, std::uint32_t key = 0) {
  return deadline(c, k, key) == when;
}

// Advances a core to `when`: whatever is due then fires (substrate
// convention: on_timeout(now) handles every timer due at now).
template <class Core>
Actions fire(Core& c, TimePoint when) {
  Actions out;
  c.on_timeout(when, out);
  return out;
}

inline std::vector<AssocId> connects(const Actions& a) {
  std::vector<AssocId> r;
  for (const auto& c : all<ConnectRegistrar>(a)) r.push_back(c.assoc);
  return r;
}

inline TransportAddress registrar_address(int i) {
  return *TransportAddress::parse("10.0.0." + std::to_string(i) + ":3863");
}

inline HuntConfig hunt_config(int registrars) {
  HuntConfig h;
  for (int i = 1; i <= registrars; ++i) h.registrars.push_back(registrar_address(i));
  return h;
}

inline PoolElementParameter pe(PeIdentifier id, PolicyParameters policy = {}) {
  PoolElementParameter p;
  p.id = id;
  p.registration_life_ms = 30'000;
  p.user_transport.protocol = TransportProtocol::sctp;
  p.user_transport.port = static_cast<std::uint16_t>(10000 + (id & 0xff));
  p.user_transport.addresses.push_back(*IpAddress::parse("192.168.1.1"));
  p.policy = policy;
  return p;
}

}  // namespace rserpool::asap::test
