#pragma once
// What the entities of one registrar core share (RFC 5353 1.3: the ASAP
// server, ENRP peering and takeover all work on one handlespace): the
// configuration, the handlespace, the counters, the seeded generator, and
// the actions of the event being handled. Owned by Registrar; the entities
// hold a reference.
#include <utility>
#include <vector>

#include "registrar/actions.hpp"
#include "registrar/config.hpp"
#include "registrar/counters.hpp"
#include "rserpool/core/handlespace.hpp"
#include "rserpool/core/random.hpp"

namespace rserpool::registrar {

struct CoreShared {
  explicit CoreShared(RegistrarConfig c)
      : config(std::move(c)), handlespace(core::HandlespaceConfig{config.seed, 1}), rng(config.seed ^ 0xa5a5a5a5ULL) {}

  RegistrarConfig config;
  core::Handlespace handlespace;
  core::Random rng;
  Counters counters;
  std::vector<Action> out;

  ServerIdentifier self() const noexcept { return config.server_id; }
  void notify(Event e, const PoolHandle& pool = {}, PeIdentifier pe = 0, ServerIdentifier server = 0,
              AssociationId association = 0) {
    // Built in place and filled in: the handle is copied once (a copy into
    // a by-value parameter, then two moves, cost about as much again on
    // every registration and removal).
    auto& n = std::get<Notify>(out.emplace_back(std::in_place_type<Notify>));
    n.event = e;
    n.pool = pool;
    n.pe = pe;
    n.server = server;
    n.association = association;
  }
  // Never to ourselves nor to "nobody".
  void send_enrp(ServerIdentifier peer, wire::enrp::Message m) {
    if (peer == 0 || peer == config.server_id) return;
    out.push_back(SendEnrp{peer, std::move(m)});
  }
  void send_asap(AssociationId association, AsapOut m) { out.push_back(SendAsap{association, std::move(m)}); }
  // The answer to the message being handled, placed before what handling
  // it queued at and after `at` (updates to peers, pushes to subscribers).
  void send_asap_at(std::size_t at, AssociationId association, wire::asap::Message&& m) {
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), SendAsap{association, AsapOut{std::move(m)}});
  }
  // The same for a granted registration, built in place when nothing was
  // queued after `at` (the co-located registrar without peers).
  void send_registration_answer_at(std::size_t at, AssociationId association, ByteView pool, PeIdentifier pe) {
    if (at == out.size()) {
      out.emplace_back(std::in_place_type<SendAsap>, association, std::in_place_type<RegistrationAnswer>,
                       RegistrationAnswer{pool, pe});
      return;
    }
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(at),
               SendAsap{association, AsapOut{RegistrationAnswer{pool, pe}}});
  }
};

}  // namespace rserpool::registrar
