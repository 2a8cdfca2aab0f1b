#pragma once
// Helpers for the registrar's sans-I/O tests: message builders and action
// filters.
#include <chrono>
#include <variant>
#include <vector>

#include "registrar/registrar.hpp"
#include "rserpool/wire/asap.hpp"
#include "rserpool/wire/enrp.hpp"

namespace regtest {

using namespace rserpool;
using namespace rserpool::registrar;
using namespace std::chrono_literals;

inline TimePoint at(std::chrono::milliseconds ms) { return TimePoint{} + ms; }

inline IpAddress ip(std::uint8_t last) { return IpAddress::v4({10, 0, 0, last}); }

inline PoolElementParameter make_pe(PeIdentifier id, std::uint8_t addr_last, std::int32_t life_ms = 30000,
                                    PolicyType policy = PolicyType::round_robin) {
  PoolElementParameter pe;
  pe.id = id;
  pe.registration_life_ms = life_ms;
  pe.user_transport.protocol = TransportProtocol::sctp;
  pe.user_transport.port = 7000;
  pe.user_transport.use = TransportUse::data_only;
  pe.user_transport.addresses = {ip(addr_last)};
  pe.policy.type = policy;
  return pe;
}

inline Bytes registration(const std::string& pool, const PoolElementParameter& pe) {
  return wire::asap::encode(wire::asap::Registration{PoolHandle{pool}, pe});
}

inline std::vector<wire::asap::Message> asap_sent(const std::vector<Action>& actions, AssociationId aid) {
  std::vector<wire::asap::Message> out;
  for (const auto& a : actions) {
    if (const auto* s = std::get_if<SendAsap>(&a); s && s->association == aid) {
      // What the driver would send: encoded once, at the edge.
      auto d = wire::asap::decode(encode(s->message));
      if (d) out.push_back(d.value().message);
    }
  }
  return out;
}

template <class M>
std::vector<M> asap_of(const std::vector<Action>& actions, AssociationId aid) {
  std::vector<M> out;
  for (auto& m : asap_sent(actions, aid)) {
    if (auto* x = std::get_if<M>(&m)) out.push_back(*x);
  }
  return out;
}

template <class M>
std::vector<std::pair<ServerIdentifier, M>> enrp_of(const std::vector<Action>& actions) {
  std::vector<std::pair<ServerIdentifier, M>> out;
  for (const auto& a : actions) {
    if (const auto* s = std::get_if<SendEnrp>(&a)) {
      if (auto* x = std::get_if<M>(&s->message)) out.emplace_back(s->peer, *x);
    }
  }
  return out;
}

inline bool has_event(const std::vector<Action>& actions, Event e) {
  for (const auto& a : actions) {
    if (const auto* n = std::get_if<Notify>(&a); n && n->event == e) return true;
  }
  return false;
}

}  // namespace regtest
