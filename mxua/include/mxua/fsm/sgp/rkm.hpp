#pragma once
// Routing Key Management at the SGP (RFC 4666 4.4): the routing-key table
// (DPC, OPC, SI, NA -> routing context), REG REQ against the configured
// keys, and ASes created for new keys when dynamic registration is
// permitted (4.4.1); DEREG REQ (4.4.2). An AS created by RKM lives as long
// as one of its registrants stays up.
#include "mxua/fsm/routing_key_table.hpp"
#include "mxua/fsm/sgp/ssnm.hpp"

namespace mxua {

class RoutingKeyManagement {
 public:
  explicit RoutingKeyManagement(const SgpConfig& cfg) : next_dynamic_rc_(cfg.first_dynamic_rc) {}

  RoutingKeyTable& keys() noexcept { return keys_; }
  const RoutingKeyTable& keys() const noexcept { return keys_; }
  std::size_t dynamic_count() const noexcept { return dynamic_count_; }

  // One routing key of a REG REQ (RFC 4666 4.4.1): the ASP becomes a
  // registrant of the AS whose key equals it, or of a new AS. Appends a
  // RegistrationIndication on success.
  RegistrationResult register_key(const Asp& asp, const RoutingKey& k, AsMap& ases, const SgpConfig& cfg,
                                  Actions& out);
  // One routing context of a DEREG REQ (RFC 4666 4.4.2).
  DeregistrationStatus deregister(const Asp& asp, std::uint32_t rc, AsMap& ases) const;
  // A dynamic AS is gone: its key goes too.
  void forget(std::uint32_t rc);

 private:
  RoutingKeyTable keys_;
  std::uint32_t next_dynamic_rc_;
  std::size_t dynamic_count_ = 0;
};

}  // namespace mxua
