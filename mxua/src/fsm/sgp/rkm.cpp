#include "mxua/fsm/sgp/rkm.hpp"

namespace mxua {

RegistrationResult RoutingKeyManagement::register_key(const Asp& asp, const RoutingKey& k, AsMap& ases,
                                                      const SgpConfig& cfg, Actions& out) {
  RegistrationResult r{k.local_rk_id, RegistrationStatus::Success, 0};
  auto fail = [&](RegistrationStatus s) {
    r.status = s;
    r.routing_context = 0;
    return r;
  };
  if (k.traffic_mode && !is_known(*k.traffic_mode)) return fail(RegistrationStatus::UnsupportedTrafficHandlingMode);
  for (const auto& d : k.destinations) {
    if (d.dpc.mask > 24 || d.dpc.pc.value > 0x00ffffffU) return fail(RegistrationStatus::InvalidDpc);
    for (auto si : d.service_indicators)
      if (si > 15) return fail(RegistrationStatus::UnsupportedRkParameterField);
  }
  std::optional<std::uint32_t> rc = keys_.find_equal(k.destinations, k.network_appearance);
  if (k.routing_context) {
    auto named = ases.find(*k.routing_context);
    if (named == ases.end()) return fail(RegistrationStatus::InvalidRoutingKey);
    // Another peer's AS: refused before anything about it is told.
    if (!named->second.owned_by(asp)) return fail(RegistrationStatus::PermissionDenied);
    if (rc != k.routing_context) return fail(RegistrationStatus::RoutingKeyChangeRefused);
  }
  if (rc) {
    ApplicationServer& as = ases.at(*rc);
    // The key is another peer's (configured owner, or registered by it).
    if (!as.owned_by(asp)) return fail(RegistrationStatus::PermissionDenied);
    if (as.registered_by(asp.assoc)) return fail(RegistrationStatus::AlreadyRegistered);
    if (k.traffic_mode && *k.traffic_mode != as.mode()) return fail(RegistrationStatus::UnsupportedTrafficHandlingMode);
    if (!as.dynamic() && !as.config().asp_ids.empty() && !as.allows(asp))
      return fail(RegistrationStatus::PermissionDenied);
    as.add_registrant(asp.assoc);
    r.routing_context = *rc;
  } else {
    if (cfg.rkm != RkmPermission::DynamicPermitted) return fail(RegistrationStatus::NotCurrentlyProvisioned);
    if (dynamic_count_ >= cfg.max_dynamic_as) return fail(RegistrationStatus::InsufficientResources);
    while (ases.count(next_dynamic_rc_) != 0) ++next_dynamic_rc_;
    const std::uint32_t new_rc = next_dynamic_rc_++;
    AsConfig c;
    c.name = "dynamic-" + std::to_string(new_rc);
    c.routing_context = new_rc;
    c.mode = k.traffic_mode.value_or(cfg.default_dynamic_mode);
    c.network_appearance = k.network_appearance;
    c.destinations = k.destinations;
    ApplicationServer as(std::move(c), true, {}, asp.peer);
    as.add_registrant(asp.assoc);
    keys_.add(RoutingKeyEntry{new_rc, k.network_appearance, k.destinations});
    ases.emplace(new_rc, std::move(as));
    ++dynamic_count_;
    r.routing_context = new_rc;
  }
  RoutingKey registered = k;
  registered.routing_context = r.routing_context;
  out.push_back(RegistrationIndication{asp.assoc, std::move(registered), r});
  return r;
}

DeregistrationStatus RoutingKeyManagement::deregister(const Asp& asp, std::uint32_t rc, AsMap& ases) const {
  auto it = ases.find(rc);
  if (it == ases.end()) return DeregistrationStatus::InvalidRoutingContext;
  ApplicationServer& as = it->second;
  if (!as.registered_by(asp.assoc)) return DeregistrationStatus::NotRegistered;
  if (as.is_active(asp.assoc)) return DeregistrationStatus::AspCurrentlyActive;
  as.remove_registrant(asp.assoc);
  return DeregistrationStatus::Success;
}

void RoutingKeyManagement::forget(std::uint32_t rc) {
  if (keys_.remove(rc) && dynamic_count_ > 0) --dynamic_count_;
}

}  // namespace mxua
