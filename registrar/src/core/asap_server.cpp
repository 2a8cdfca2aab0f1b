// ASAP server side (RFC 5352 section 3): registration, deregistration,
// handle resolution with subscriptions, keep-alive audit, unreachable
// reports, lifetime expiry.
#include "registrar/asap_server.hpp"

#include <algorithm>
#include <new>
#include <variant>

#include "rserpool/wire/decode_error.hpp"
#include "rserpool/wire/parameters.hpp"

namespace rserpool::registrar {

namespace asap = wire::asap;
namespace enrp = wire::enrp;

namespace {
asap::RegistrationResponse reject(const PoolHandle& pool, PeIdentifier id, ErrorCause cause, Bytes info = {}) {
  asap::RegistrationResponse resp;
  resp.rejected = true;
  resp.pool_handle = pool;
  resp.pe_id = id;
  resp.error.push_back(OperationErrorCause{cause, std::move(info)});
  return resp;
}
}  // namespace

AsapServer::AsapServer(CoreShared& shared, HandleUpdateSink& peers) : s_(shared), peers_(peers) {
  s_.handlespace.set_removal_observer(this);
}

namespace {
// std::push_heap and friends build a max-heap: "later" puts the earliest
// key on top.
struct AgendaLater {
  template <class Item>
  bool operator()(const Item& a, const Item& b) const noexcept {
    return b.key < a.key;
  }
};
}  // namespace

// The records live in our arena, reached through the handlespace's
// entries (every live record has one), retired ones only through the
// agenda's items.
AsapServer::~AsapServer() {
  s_.handlespace.set_removal_observer(nullptr);
  for (const AgendaItem& item : agenda_) drop_agenda_item(item.pe);
  agenda_.clear();
  for (ServerIdentifier owner : s_.handlespace.owners()) {
    for (const auto* e : s_.handlespace.owned_by(owner)) {
      if (OwnedPe* st = record_of(e)) {
        s_.handlespace.set_home_record(*e, nullptr);
        free_record(st);
      }
    }
  }
}

void AsapServer::free_record(OwnedPe* st) noexcept {
  st->~OwnedPe();
  arena_->deallocate(st, sizeof(OwnedPe));
}

void AsapServer::drop_agenda_item(OwnedPe* pe) noexcept {
  if (--pe->agenda_items == 0 && pe->retired) free_record(pe);
}

// Compaction first: after an association's close most items are stale,
// and one pass drops them where popping each stale top would cost
// O(log n) apiece.
void AsapServer::settle_agenda_now() {
  agenda_dirty_ = false;
  if (agenda_.size() > 2 * agenda_live_ + 64) compact_agenda();
  while (!agenda_.empty() && !live(agenda_.front())) {
    std::pop_heap(agenda_.begin(), agenda_.end(), AgendaLater{});
    OwnedPe* pe = agenda_.back().pe;
    agenda_.pop_back();
    drop_agenda_item(pe);
  }
}

// Stale items out in one pass, the heap rebuilt: O(items), once per as
// many cancellations as there are live items, so O(1) per cancellation.
void AsapServer::compact_agenda() {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < agenda_.size(); ++i) {
    if (live(agenda_[i])) {
      agenda_[kept++] = agenda_[i];
    } else {
      drop_agenda_item(agenda_[i].pe);
    }
  }
  agenda_.resize(kept);
  std::make_heap(agenda_.begin(), agenda_.end(), AgendaLater{});
}

bool AsapServer::is_home_for(const PoolHandle& pool, PeIdentifier id) const {
  return record_of(pool.bytes(), id) != nullptr;
}

std::size_t AsapServer::unreachable_reporters(const PoolHandle& pool, PeIdentifier id) const {
  const OwnedPe* st = record_of(pool.bytes(), id);
  return st == nullptr ? 0 : st->reporters.size();
}

std::optional<AssociationId> AsapServer::association_of(const PoolHandle& pool, PeIdentifier id) const {
  const OwnedPe* st = record_of(pool.bytes(), id);
  return st == nullptr ? std::nullopt : st->association;
}

bool AsapServer::on_association_accepted(AssociationId id, TimePoint now) {
  const auto& caps = s_.config.caps;
  if (caps.max_associations != 0 && associations_.size() + accepted_.size() >= caps.max_associations &&
      !evict_idle_client(now)) {
    ++s_.counters.associations_refused_full;
    s_.notify(Event::asap_association_refused_full, {}, 0, 0, id);
    return false;
  }
  accepted_.insert(id);
  return true;
}

void AsapServer::on_association_up(AssociationId id, std::vector<IpAddress> peer_addresses, std::uint16_t peer_port,
                                   TimePoint now) {
  accepted_.erase(id);
  if (associations_.count(id) != 0) return;  // announced twice: the first admission stands
  const IpAddress source = peer_addresses.empty() ? IpAddress{} : peer_addresses.front();
  if (!make_room(id, source, now)) {
    s_.out.push_back(AbortAsap{id});
    return;
  }
  Association& a = associations_.try_emplace(id).first->second;
  a.addresses = peer_addresses;
  a.port = peer_port;
  a.last_active = now;
  a.resolutions = TokenBucket(s_.config.resolution_rate, now);
  a.unreachables = TokenBucket(s_.config.unreachable_rate, now);
  a.registrations = TokenBucket(s_.config.registration_rate, now);
  ++per_source_[source];
}

std::size_t AsapServer::client_count() const {
  return static_cast<std::size_t>(
      std::count_if(associations_.begin(), associations_.end(), [](const auto& a) { return a.second.element_count == 0; }));
}

// RFC 5355 2.1 (flooding): every association costs a descriptor and
// buffers, so their number is bounded (AssociationCaps). Associations that
// carry PEs are never evicted; idle clients make room for newcomers.
bool AsapServer::make_room(AssociationId newcomer, const IpAddress& source, TimePoint now) {
  const auto& caps = s_.config.caps;
  if (caps.max_per_address != 0) {
    auto it = per_source_.find(source);
    if (it != per_source_.end() && it->second >= caps.max_per_address) {
      ++s_.counters.associations_refused_per_address;
      s_.notify(Event::asap_association_refused_per_address, {}, 0, 0, newcomer);
      return false;
    }
  }
  if (caps.max_associations == 0) return true;
  const std::size_t client_cap =
      caps.max_associations > caps.reserved_for_pes ? caps.max_associations - caps.reserved_for_pes : 1;
  if (associations_.size() < caps.max_associations && client_count() < client_cap) return true;
  if (evict_idle_client(now)) return true;
  ++s_.counters.associations_refused_full;
  s_.notify(Event::asap_association_refused_full, {}, 0, 0, newcomer);
  return false;
}

// The client (no PE, no subscription) idle for longest goes, if it has
// been idle for client_idle.
bool AsapServer::evict_idle_client(TimePoint now) {
  auto victim = associations_.end();
  for (auto it = associations_.begin(); it != associations_.end(); ++it) {
    const Association& a = it->second;
    if (a.element_count != 0 || !a.subscriptions.empty() || now - a.last_active < s_.config.caps.client_idle) continue;
    if (victim == associations_.end() || a.last_active < victim->second.last_active) victim = it;
  }
  if (victim == associations_.end()) return false;
  const AssociationId evicted = victim->first;
  ++s_.counters.associations_evicted;
  s_.notify(Event::asap_association_evicted, {}, 0, 0, evicted);
  s_.out.push_back(AbortAsap{evicted});
  release(evicted, victim->second);
  associations_.erase(victim);
  return true;
}

// Forgets what an association held besides its PEs (subscriptions, its
// count for its source address).
void AsapServer::release(AssociationId id, Association& a) {
  for (const auto& [pool, sub] : a.subscriptions) {
    auto s = subscribers_.find(pool);
    if (s == subscribers_.end()) continue;
    s->second.erase(id);
    if (s->second.empty()) subscribers_.erase(s);
  }
  const IpAddress source = a.addresses.empty() ? IpAddress{} : a.addresses.front();
  if (auto it = per_source_.find(source); it != per_source_.end() && --it->second == 0) per_source_.erase(it);
}

void AsapServer::on_association_down(AssociationId id, TimePoint) {
  accepted_.erase(id);
  auto it = associations_.find(id);
  if (it == associations_.end()) return;
  release(id, it->second);
  // Its PEs, taken off the association's list before it goes. Removing
  // one PE's entry drops only that PE's record, so the pointers stay
  // valid. They go in the order they joined the association (the list
  // holds the latest first: read backwards), a function of the inputs as
  // the (pool rank, PE id) order it replaces, without its sort (issue 16:
  // about 100 instructions per PE).
  auto& pes = closing_;
  pes.clear();
  for (OwnedPe* p = it->second.first; p != nullptr;) {
    OwnedPe* next = p->next_on_association;
    pes.push_back(p);
    p->listed_in = nullptr;
    p->prev_on_association = p->next_on_association = nullptr;
    p = next;
  }
  // One notification per PE (and an update each when peered): room for
  // them at once, instead of moving every queued action at each growth.
  if (s_.config.remove_pes_on_association_down) s_.out.reserve(s_.out.size() + pes.size());
  associations_.erase(it);
  for (auto p = pes.rbegin(); p != pes.rend(); ++p) {
    OwnedPe* st = *p;
    if (st->association != id) continue;
    if (s_.config.remove_pes_on_association_down) {
      remove_owned(*st, Event::pe_association_lost);
    } else {
      st->association.reset();
    }
  }
}

bool AsapServer::on_message(AssociationId aid, asap::Message&& m, TimePoint now) {
  auto it = associations_.find(aid);
  if (it == associations_.end()) return false;
  Association& a = it->second;
  a.last_active = now;
  if (auto* r = std::get_if<asap::Registration>(&m)) {
    on_registration(aid, a, r->pool_handle.bytes(), std::move(r->pool_element), now);
  } else if (auto* d = std::get_if<asap::Deregistration>(&m)) {
    on_deregistration(aid, a, *d);
  } else if (auto* h = std::get_if<asap::HandleResolution>(&m)) {
    on_handle_resolution(aid, a, h->subscribe, h->pool_handle.bytes(), h->items, now);
  } else if (auto* k = std::get_if<asap::EndpointKeepAliveAck>(&m)) {
    on_keep_alive_ack(aid, *k, now);
  } else if (auto* u = std::get_if<asap::EndpointUnreachable>(&m)) {
    on_endpoint_unreachable(aid, a, *u, now);
  } else if (std::holds_alternative<asap::Error>(m)) {
    ++s_.counters.asap_errors_received;
  } else {
    // Server-to-client messages (responses, KEEP_ALIVE, ANNOUNCE) or
    // PE-to-PU ones (COOKIE, BUSINESS_CARD) have no meaning here.
    ++s_.counters.asap_unexpected;
  }
  return true;
}

bool AsapServer::on_registration(AssociationId aid, asap::RegistrationView&& r, TimePoint now) {
  auto it = associations_.find(aid);
  if (it == associations_.end()) return false;
  it->second.last_active = now;
  on_registration(aid, it->second, r.pool_handle, std::move(r.pool_element), now);
  return true;
}

// `pool` views the received message; a PoolHandle is built only where one
// is kept or sent (the answer, the event, a new pool).
void AsapServer::on_registration(AssociationId aid, Association& a, ByteView pool, PoolElementParameter&& pe,
                                 TimePoint now) {
  auto& c = s_.counters;
  const auto& cfg = s_.config;
  auto& hs = s_.handlespace;
  const PeIdentifier id = pe.id;
  auto refuse = [&](ErrorCause cause, Bytes info = {}) {
    ++c.registrations_rejected;
    s_.send_asap(aid, asap::Message{reject(PoolHandle(pool), id, cause, std::move(info))});
  };
  if (!a.registrations.take(now)) {
    ++c.registrations_rate_limited;
    return refuse(ErrorCause::lack_of_resources);
  }
  // One lookup finds the PE and, through it, our record of it (nullptr:
  // unknown, or not ours).
  const core::Handlespace::Found found = hs.lookup(pool, id);
  OwnedPe* const mine = record_of(found.entry);
  if (a.element_count >= cfg.max_pes_per_association && !(mine != nullptr && mine->listed_in == &a)) {
    return refuse(ErrorCause::lack_of_resources);
  }
  if (id == 0) return refuse(ErrorCause::invalid_values, wire::encode_pe_identifier(id));
  if (!is_known_policy(static_cast<std::uint32_t>(pe.policy.type))) {
    return refuse(ErrorCause::invalid_values, wire::encode_parameter(pe.policy));
  }
  // A PE identifier belongs to the association that registered it (RFC 5352
  // 3.1 / RFC 5355 2.1, registration spoofing): while that association is
  // up, nobody else may register, move or re-point it. The incumbent is
  // audited at once, so an owner that is really gone makes room within one
  // keep-alive timeout and the newcomer's next attempt succeeds.
  if (mine != nullptr && mine->association && *mine->association != aid &&
      associations_.count(*mine->association) != 0) {
    ++c.registrations_refused_owned;
    s_.notify(Event::pe_identity_conflict, PoolHandle(pool), id, 0, aid);
    if (!mine->ack_deadline) send_keep_alive(*mine, false, now);
    return refuse(ErrorCause::non_unique_pe_identifier, wire::encode_pe_identifier(id));
  }
  // Only addresses the registering association itself carries may be
  // registered, so a PE cannot point pool users at someone else. A PE
  // that lists more (rsplib registers every local address, IPv6 ones
  // included, over an IPv4-only association) keeps the verified subset;
  // one that lists none of its own is refused.
  const auto foreign = [&](const IpAddress& ip) {
    return std::find(a.addresses.begin(), a.addresses.end(), ip) == a.addresses.end();
  };
  if (cfg.check_pe_addresses) {
    // One look per listed address; the list is rewritten only when it
    // holds a foreign one (the refusal reports it as registered).
    auto& listed = pe.user_transport.addresses;
    const auto foreign_count =
        static_cast<std::size_t>(std::count_if(listed.begin(), listed.end(), foreign));
    if (foreign_count != 0) {
      if (foreign_count == listed.size()) {
        return refuse(cfg.address_check_cause, wire::encode_parameter(pe.user_transport));
      }
      listed.erase(std::remove_if(listed.begin(), listed.end(), foreign), listed.end());
      c.foreign_addresses_removed += foreign_count;
    }
  }
  pe.home_registrar = s_.self();
  // The ASAP transport is where *we* reach the PE: its association.
  if (a.addresses.empty()) {
    pe.asap_transport.reset();
  } else {
    TransportParameter& asap_transport = pe.asap_transport.emplace();
    asap_transport.protocol = TransportProtocol::sctp;
    asap_transport.port = a.port;
    asap_transport.use = TransportUse::data_only;
    asap_transport.addresses = a.addresses;  // inline: no allocation for 1-4 addresses
  }
  core::RegistrationContext ctx;
  ctx.owner = s_.self();
  ctx.now = now;
  ctx.check_unique_id = true;
  auto outcome = hs.register_element(pool, std::move(pe), ctx, found);  // nothing changed since the lookup
  if (!outcome) {
    const auto& rej = outcome.error();
    Bytes info;
    if (rej.pool_policy) info = wire::encode_parameter(*rej.pool_policy);
    if (rej.pool_transport) info = wire::encode_parameter(*rej.pool_transport);
    return refuse(rej.cause, std::move(info));
  }
  // The handlespace's entry: its copy of the handle serves the answer, the
  // event and the updates.
  const core::PoolElementEntry* entry = outcome->entry;
  const PoolHandle& handle = entry->pool_handle();
  if (outcome->new_element) {
    ++c.registrations;
    s_.notify(Event::pe_registered, handle, id);
  } else {
    ++c.reregistrations;
    s_.notify(Event::pe_reregistered, handle, id);
  }
  // The entry keeps our record across a re-registration (a sole member
  // recreating its pool lost it with the old entry: adopt() makes another).
  adopt(*entry, aid, &a, now);
  const auto answer_at = s_.out.size();
  // The co-located registrar with no peers pays nothing for ENRP.
  if (peers_.has_peers()) peers_.element_changed(enrp::UpdateAction::add_pe, handle, entry->element());
  pool_changed(pool);
  // Answer first: the ENRP updates above are queued behind it. The handle
  // is the handlespace's copy, valid until the driver has encoded it.
  s_.send_registration_answer_at(answer_at, aid, handle.bytes(), id);
}

void AsapServer::on_deregistration(AssociationId aid, Association& a, asap::Deregistration& d) {
  asap::DeregistrationResponse resp;
  resp.pe_id = d.pe_id;
  if (const auto* e = s_.handlespace.find(d.pool_handle, d.pe_id)) {
    OwnedPe* st = record_of(e);
    if (st == nullptr || st->listed_in != &a || st->association != aid) {
      // Only the PE itself, on the association it registered over, may take
      // itself out (RFC 5352 3.3 / 6: a PU must not deregister others).
      ++s_.counters.deregistrations_rejected;
      resp.error.push_back(OperationErrorCause{ErrorCause::rejected_security, wire::encode_pe_identifier(d.pe_id)});
      resp.pool_handle = std::move(d.pool_handle);
      s_.send_asap(aid, asap::Message{std::move(resp)});
      return;
    }
    ++s_.counters.deregistrations;
    remove_owned(*st, Event::pe_deregistered);
  }
  // Unknown PE: success all the same (RFC 5352 3.3).
  resp.pool_handle = std::move(d.pool_handle);
  s_.send_asap(aid, asap::Message{std::move(resp)});
}

asap::HandleResolutionResponse AsapServer::unknown_pool_answer(ByteView pool, bool accepted) {
  ++s_.counters.resolutions_unknown_pool;
  asap::HandleResolutionResponse resp;
  resp.accepted = accepted;
  resp.pool_handle = PoolHandle(pool);
  resp.error.push_back(OperationErrorCause{ErrorCause::unknown_pool_handle, wire::encode_parameter(resp.pool_handle)});
  return resp;
}

bool AsapServer::fill_answer(ByteView pool, std::uint32_t items, ResolutionAnswer& answer) {
  auto& hs = s_.handlespace;
  if (!hs.resolve(pool, items, chosen_)) return false;
  std::size_t bytes = 0;
  for (const auto* e : chosen_) {
    if (e->cached_encoding().empty()) hs.set_cached_encoding(*e, wire::encode_parameter(e->element()));
    // Bounded in bytes as well as items: PEs with many addresses end the
    // answer early (at least one PE always goes).
    bytes += e->cached_encoding().size();
    if (bytes > s_.config.max_resolution_bytes && !answer.pool_elements.empty()) {
      ++s_.counters.resolutions_truncated;
      break;
    }
    answer.pool_elements.push_back(e->cached_encoding());
  }
  if (!chosen_.empty()) {
    answer.overall_policy = chosen_.front()->element().policy.type;
    // The handlespace's copy: valid as long as the PE views are.
    answer.pool_handle = chosen_.front()->pool_handle().bytes();
  } else {
    answer.pool_handle = pool;  // not reached: a pool has at least one PE
  }
  return true;
}

void AsapServer::send_resolution(AssociationId aid, ByteView pool, std::uint32_t items, bool accepted) {
  // Built in place in the action list: the answer (views, a policy type
  // and up to four inline PE views) is not moved on its way there.
  auto& send = std::get<SendAsap>(
      s_.out.emplace_back(std::in_place_type<SendAsap>, aid, std::in_place_type<ResolutionAnswer>));
  ResolutionAnswer& answer = std::get<ResolutionAnswer>(send.message);
  answer.accepted = accepted;
  if (!fill_answer(pool, items, answer)) send.message = asap::Message{unknown_pool_answer(pool, accepted)};
}

// No action list, no answer value in it, no deadline to recompute: the
// request's bytes in, the answer's bytes out (issue 16). The checks that
// can send the request elsewhere come before anything changes.
bool AsapServer::answer_resolution(AssociationId aid, const asap::HandleResolutionView& r, TimePoint now,
                                   Bytes& out) {
  if (r.subscribe) return false;
  auto it = associations_.find(aid);
  if (it == associations_.end()) return false;
  Association& a = it->second;
  // A refused take() changes nothing: on_handle_resolution() takes again
  // at the same `now` and is refused the same way.
  if (!a.resolutions.take(now)) return false;
  a.last_active = now;
  ++s_.counters.resolutions;
  ResolutionAnswer answer;
  if (fill_answer(r.pool_handle, resolution_items(r.items), answer)) {
    asap::encode_resolution_response(out, false, answer.pool_handle, answer.overall_policy,
                                     answer.pool_elements.view());
  } else {
    asap::encode_into(asap::Message{unknown_pool_answer(r.pool_handle, false)}, out);
  }
  return true;
}

std::uint32_t AsapServer::resolution_items(std::optional<std::uint32_t> requested) const {
  const auto& cfg = s_.config;
  const std::uint32_t items = requested.value_or(cfg.default_resolution_items);
  return std::clamp<std::uint32_t>(items, 1, std::max<std::uint32_t>(1, cfg.max_resolution_items));
}

bool AsapServer::on_handle_resolution(AssociationId aid, const asap::HandleResolutionView& r, TimePoint now) {
  auto it = associations_.find(aid);
  if (it == associations_.end()) return false;
  it->second.last_active = now;
  on_handle_resolution(aid, it->second, r.subscribe, r.pool_handle, r.items, now);
  return true;
}

void AsapServer::on_handle_resolution(AssociationId aid, Association& a, bool subscribe, ByteView pool,
                                      std::optional<std::uint32_t> requested, TimePoint now) {
  const auto& cfg = s_.config;
  if (!a.resolutions.take(now)) {
    ++s_.counters.resolutions_rate_limited;
    if (cfg.answer_rate_limited) {
      asap::HandleResolutionResponse resp;
      resp.pool_handle = PoolHandle(pool);
      resp.error.push_back(OperationErrorCause{ErrorCause::lack_of_resources, {}});
      s_.send_asap(aid, asap::Message{std::move(resp)});
    }
    return;
  }
  ++s_.counters.resolutions;
  const std::uint32_t items = resolution_items(requested);
  bool accepted = false;
  if (subscribe) {
    // Subscriptions live as long as the association (RFC 5352 3.8); a
    // subscription to a pool that does not exist yet is kept too, so the
    // subscriber learns when it appears. Bounded per association: beyond
    // the bound the answer says A=0 (not accepted).
    PoolHandle handle(pool);
    auto sub = a.subscriptions.find(handle);
    if (sub != a.subscriptions.end()) {
      sub->second.items = items;
      accepted = true;
    } else if (a.subscriptions.size() < cfg.max_subscriptions_per_association) {
      a.subscriptions.emplace(handle, Subscription{items});
      subscribers_[std::move(handle)].insert(aid);
      accepted = true;
    } else {
      ++s_.counters.subscriptions_refused;
    }
  }
  send_resolution(aid, pool, items, accepted);
}

void AsapServer::flush_subscriptions() {
  if (changed_pools_.empty()) return;
  auto pools = std::exchange(changed_pools_, {});
  for (const PoolHandle& pool : pools) {
    auto s = subscribers_.find(pool);
    if (s == subscribers_.end()) continue;
    for (AssociationId aid : s->second) {
      auto a = associations_.find(aid);
      if (a == associations_.end()) continue;
      auto sub = a->second.subscriptions.find(pool);
      if (sub == a->second.subscriptions.end()) continue;
      ++s_.counters.subscription_updates;
      send_resolution(aid, pool.bytes(), sub->second.items, true);
    }
  }
}

// Whether an association other than the PE's own may answer for it: only
// one whose addresses are the PE's (its ASAP transport, or the user
// transport it registered), so a stranger cannot bind a taken-over PE to
// itself and then remove it by closing.
bool AsapServer::may_speak_for(const Association& a, const core::PoolElementEntry& e) const {
  if (!s_.config.check_pe_addresses) return true;
  const auto& pe = e.element();
  const auto listed = [&](const IpAddress& ip) {
    const auto& u = pe.user_transport.addresses;
    if (std::find(u.begin(), u.end(), ip) != u.end()) return true;
    return pe.asap_transport &&
           std::find(pe.asap_transport->addresses.begin(), pe.asap_transport->addresses.end(), ip) !=
               pe.asap_transport->addresses.end();
  };
  return std::any_of(a.addresses.begin(), a.addresses.end(), listed);
}

void AsapServer::on_keep_alive_ack(AssociationId aid, const asap::EndpointKeepAliveAck& k, TimePoint now) {
  const auto* e = s_.handlespace.find(k.pool_handle, k.pe_id);
  OwnedPe* const mine = record_of(e);
  if (mine == nullptr) {
    if (e == nullptr) {
      // The PE answers an audit it was already removed for (it was hung
      // past keep-alive-timeout, RFC 5352 3.5): it believes itself
      // registered and would stay listed nowhere until its next
      // re-registration. Tell it, as for an expired lifetime (RFC 5352
      // 3.3: an unsolicited DEREGISTRATION_RESPONSE), and it registers
      // again. Only on the association the ACK came over, one answer per
      // ACK and no state kept: nothing another peer owns is touched.
      ++s_.counters.keep_alive_acks_unregistered;
      asap::DeregistrationResponse resp;
      resp.pool_handle = k.pool_handle;
      resp.pe_id = k.pe_id;
      s_.send_asap(aid, asap::Message{std::move(resp)});
      return;
    }
    ++s_.counters.asap_unexpected;  // listed, but another registrar's PE
    return;
  }
  OwnedPe& st = *mine;
  if (st.association != aid) {
    // A taken-over PE answering on a new association: bind it there, but
    // only while its own association is gone and only from its addresses.
    const bool owner_up = st.association && associations_.count(*st.association) != 0;
    auto a = associations_.find(aid);
    if (owner_up || a == associations_.end() || !may_speak_for(a->second, *e)) {
      ++s_.counters.keep_alive_acks_foreign;
      return;
    }
    st.association = aid;
    link(a->second, st);  // off the old association's list, if any
  }
  ++s_.counters.keep_alive_acks;
  if (!st.reporters.empty()) {
    // Reported unreachable, yet it answers: the reports were wrong (a
    // pool user's own path, or a lie). Kept; said once it is notable.
    if (s_.config.max_bad_pe_reports != 0 && st.reporters.size() >= s_.config.max_bad_pe_reports) {
      s_.notify(Event::pe_reported_but_answering, k.pool_handle, k.pe_id, 0, aid);
    }
    ++s_.counters.unreachable_refuted;
    st.reporters.clear();
  }
  st.ack_deadline.reset();
  st.next_audit = jittered_audit(now);
  reschedule(st);
}

// RFC 5352 3.5: a report makes the home audit the PE at once (ENDPOINT_KEEP_ALIVE);
// the PE is removed when the audit fails, never for the reports themselves,
// so no number of reports removes a PE that answers, and a dead PE goes
// within one keep-alive timeout of the first report. Each association
// counts once per PE and interval.
void AsapServer::on_endpoint_unreachable(AssociationId aid, Association& a, const asap::EndpointUnreachable& u,
                                         TimePoint now) {
  if (!a.unreachables.take(now)) {
    ++s_.counters.unreachable_rate_limited;
    return;
  }
  ++s_.counters.unreachable_reports;
  OwnedPe* const mine = record_of(u.pool_handle.bytes(), u.pe_id);
  // Only the home server acts; others would desynchronise the handlespace.
  if (mine == nullptr) return;
  OwnedPe& st = *mine;
  if (st.reporters.empty() || now - st.reports_since >= s_.config.unreachable_report_interval) {
    st.reporters.clear();
    st.reports_since = now;
  }
  constexpr std::size_t kMaxReportersTracked = 64;  // enough to count past any threshold
  if (std::find(st.reporters.begin(), st.reporters.end(), aid) == st.reporters.end() &&
      st.reporters.size() < kMaxReportersTracked) {
    st.reporters.push_back(aid);
  }
  if (!st.ack_deadline) {
    ++s_.counters.unreachable_audits;
    send_keep_alive(st, false, now);
  }
}

TimePoint AsapServer::jittered_audit(TimePoint now) {
  const auto base = to_millis(s_.config.keep_alive_interval);
  if (base <= 0) return now + s_.config.keep_alive_interval;
  // Uniform in [0.5, 1.5] x interval (RFC 5352 3.5: spread the audit).
  const auto span = static_cast<std::uint64_t>(base) + 1;
  const auto offset = static_cast<std::int64_t>(s_.rng.uniform(span)) + base / 2;
  return now + std::chrono::milliseconds{offset};
}

void AsapServer::reschedule(OwnedPe& st) {
  // The old item (if any) goes stale; a new one is pushed.
  if (st.in_agenda) {
    st.in_agenda = false;
    --agenda_live_;
    agenda_dirty_ = true;
  }
  ++st.agenda_stamp;
  TimePoint at;
  if (st.ack_deadline) {
    at = *st.ack_deadline;
  } else if (s_.config.keep_alive_audit) {
    at = st.next_audit;
  } else {
    return;
  }
  st.in_agenda = true;
  ++agenda_live_;
  ++st.agenda_items;
  agenda_.push_back(AgendaItem{AgendaKey{at, st.entry->pool_rank(), st.entry->id()}, &st, st.agenda_stamp});
  std::push_heap(agenda_.begin(), agenda_.end(), AgendaLater{});
}

AsapServer::OwnedPe& AsapServer::adopt(const core::PoolElementEntry& e, std::optional<AssociationId> aid,
                                       Association* assoc, TimePoint now) {
  OwnedPe* st = record_of(&e);
  if (st == nullptr) {
    st = new (arena_->allocate(sizeof(OwnedPe))) OwnedPe();
    st->entry = &e;
    s_.handlespace.set_home_record(e, st);
    ++home_count_;
  }
  st->association = aid;
  // Onto the association's list (off another's, if it moved); a PE with
  // no association is on none.
  if (assoc != nullptr) {
    link(*assoc, *st);
  } else {
    unlink(*st);
  }
  st->ack_deadline.reset();
  st->next_audit = jittered_audit(now);
  reschedule(*st);
  return *st;
}

void AsapServer::adopt_taken_over(const PoolHandle& pool, PeIdentifier id, TimePoint now) {
  const auto* e = s_.handlespace.find(pool, id);
  if (e == nullptr) return;
  OwnedPe& st = adopt(*e, std::nullopt, nullptr, now);
  // "Adopt me as your home": the PE answers with a KEEP_ALIVE_ACK.
  send_keep_alive(st, true, now);
}

void AsapServer::disown(const PoolHandle& pool, PeIdentifier id) {
  if (OwnedPe* st = record_of(pool.bytes(), id)) disown(*st);
}

void AsapServer::disown(OwnedPe& st) {
  if (st.in_agenda) {
    st.in_agenda = false;
    --agenda_live_;
    agenda_dirty_ = true;
  }
  unlink(st);
  s_.handlespace.set_home_record(*st.entry, nullptr);
  st.entry = nullptr;
  --home_count_;
  if (st.agenda_items == 0) {
    free_record(&st);
    return;
  }
  // Its agenda items still point here: retired, freed with the last one.
  st.retired = true;
  std::vector<AssociationId>().swap(st.reporters);
}

// Whatever removes one of our PEs' entries (our own removals disown first):
// a peer's update, a sweep, a sole member recreating its pool.
void AsapServer::before_removal(const core::PoolElementEntry&, core::HomeRecord& record) {
  disown(static_cast<OwnedPe&>(record));
}

// The peers, the subscribers and the log are told from the entry, in the
// order they always were, before it goes: no copy of its parameter and
// handle is made only to be read once (the handlespace's erase()).
void AsapServer::remove_owned(OwnedPe& st, Event why) {
  const core::PoolElementEntry& e = *st.entry;
  disown(st);
  if (peers_.has_peers()) peers_.element_changed(enrp::UpdateAction::del_pe, e.pool_handle(), e.element());
  pool_changed(e.pool_handle());
  s_.notify(why, e.pool_handle(), e.id());
  s_.handlespace.erase(e);
}

void AsapServer::send_keep_alive(OwnedPe& st, bool home, TimePoint now) {
  const core::PoolElementEntry& e = *st.entry;
  asap::EndpointKeepAlive ka;
  ka.home = home;
  ka.server_id = s_.self();
  ka.pool_handle = e.pool_handle();
  ka.pe_id = e.id();
  ++s_.counters.keep_alives_sent;
  if (st.association) {
    s_.send_asap(*st.association, asap::Message{std::move(ka)});
  } else if (e.element().asap_transport) {
    s_.out.push_back(
        SendAsapToElement{e.pool_handle(), e.id(), *e.element().asap_transport, asap::Message{std::move(ka)}});
  }
  // With no way to reach the PE, the deadline removes it.
  st.ack_deadline = now + s_.config.keep_alive_timeout;
  reschedule(st);
}

std::optional<TimePoint> AsapServer::next_deadline() const {
  auto e = s_.handlespace.next_expiry();
  if (agenda_.empty()) return e;
  const TimePoint k = agenda_.front().key.at;
  return e && *e < k ? *e : k;
}

void AsapServer::on_timeout(TimePoint now) {
  process_expiry(now);
  process_keep_alive_agenda(now);
}

// Handling the top re-arms or disowns its PE, which makes its item stale:
// settled before each look at the top (and so on return).
void AsapServer::process_keep_alive_agenda(TimePoint now) {
  for (;;) {
    settle_agenda();
    if (agenda_.empty() || agenda_.front().key.at > now) break;
    OwnedPe& st = *agenda_.front().pe;
    if (st.ack_deadline) {
      ++s_.counters.keep_alive_timeouts;
      const bool reported = !st.reporters.empty();
      if (reported) ++s_.counters.unreachable_removals;
      remove_owned(st, reported ? Event::pe_unreachable_removed : Event::pe_keep_alive_timeout);
    } else {
      send_keep_alive(st, false, now);
    }
  }
}

// One expired PE at a time: our record (its association) is read before
// the entry goes.
void AsapServer::process_expiry(TimePoint now) {
  auto& hs = s_.handlespace;
  while (const core::PoolElementEntry* e = hs.first_expired(now)) {
    ++s_.counters.expirations;
    OwnedPe* st = record_of(e);
    std::optional<AssociationId> told;
    if (st != nullptr) {
      told = st->association;
      disown(*st);
    }
    auto removed = hs.remove(*e);
    if (st != nullptr) {
      // Tell the PE it is gone (unsolicited DEREGISTRATION_RESPONSE) and
      // the peers (they expire their copy too, but may run late).
      if (told) {
        asap::DeregistrationResponse resp;
        resp.pool_handle = removed.pool;
        resp.pe_id = removed.element.id;
        s_.send_asap(*told, asap::Message{std::move(resp)});
      }
      if (peers_.has_peers()) peers_.element_changed(enrp::UpdateAction::del_pe, removed.pool, removed.element);
    }
    pool_changed(removed.pool);
    s_.notify(Event::pe_expired, removed.pool, removed.element.id);
  }
}

wire::asap::RegistrationView& AsapServer::registration_scratch() { return registration_scratch_; }

void AsapServer::link(Association& a, OwnedPe& st) {
  if (st.listed_in == &a) return;
  unlink(st);
  st.listed_in = &a;
  st.prev_on_association = nullptr;
  st.next_on_association = a.first;
  if (a.first != nullptr) a.first->prev_on_association = &st;
  a.first = &st;
  ++a.element_count;
}

void AsapServer::unlink(OwnedPe& st) {
  Association* a = st.listed_in;
  if (a == nullptr) return;
  if (st.prev_on_association != nullptr) {
    st.prev_on_association->next_on_association = st.next_on_association;
  } else {
    a->first = st.next_on_association;
  }
  if (st.next_on_association != nullptr) st.next_on_association->prev_on_association = st.prev_on_association;
  --a->element_count;
  st.listed_in = nullptr;
  st.prev_on_association = st.next_on_association = nullptr;
}

}  // namespace rserpool::registrar
