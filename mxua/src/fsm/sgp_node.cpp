#include "mxua/fsm/sgp_node.hpp"

#include <algorithm>

namespace mxua {
namespace {

Status as_status(AsState s) {
  const std::uint16_t info = s == AsState::Active    ? status_info::kAsActive
                             : s == AsState::Pending ? status_info::kAsPending
                                                     : status_info::kAsInactive;
  return Status{StatusType::AsStateChange, info};
}

unsigned needed_active(const AsConfig& c) {
  return c.mode == TrafficMode::Override ? 1U : std::max(1U, c.min_active_asps);
}

}  // namespace

SgpNode::SgpNode(SgpConfig cfg) : cfg_(std::move(cfg)), next_dynamic_rc_(cfg_.first_dynamic_rc) {
  for (const auto& a : cfg_.application_servers) {
    As as;
    as.cfg = a;
    if (!a.destinations.empty()) rkt_.add(RoutingKeyEntry{a.routing_context, a.network_appearance, a.destinations});
    as_.emplace(a.routing_context, std::move(as));
  }
}

// ---------------------------------------------------------------- helpers

SgpNode::Peer* SgpNode::peer(AssocId a) {
  auto it = peers_.find(a);
  return it == peers_.end() ? nullptr : &it->second;
}

SgpNode::As* SgpNode::find_as(std::uint32_t rc) {
  auto it = as_.find(rc);
  return it == as_.end() ? nullptr : &it->second;
}

bool SgpNode::allowed(const As& as, const Peer& p) const {
  if (as.registrants.count(p.assoc) != 0) return true;
  if (as.dynamic) return false;
  if (as.cfg.asp_ids.empty()) return true;
  return p.asp_id && std::find(as.cfg.asp_ids.begin(), as.cfg.asp_ids.end(), *p.asp_id) != as.cfg.asp_ids.end();
}

bool SgpNode::is_active(const As& as, AssocId a) const {
  return std::binary_search(as.active.begin(), as.active.end(), a);
}

std::size_t SgpNode::members_up(const As& as) const {
  std::size_t n = 0;
  for (const auto& [id, p] : peers_)
    if (serves(as, p)) ++n;
  return n;
}

void SgpNode::send(AssocId a, std::uint16_t stream, const Message& m, Actions& out) {
  out.push_back(Send{a, stream, encode(m)});
}

void SgpNode::send_err(AssocId a, Err e, Actions& out) { send(a, 0, Message{std::move(e)}, out); }

void SgpNode::drop(AssocId a, DropReason r, Actions& out, std::uint32_t n) {
  drops_.add(r, n);
  out.push_back(Drop{a, r, n});
}

void SgpNode::ntfy(const As& as, AssocId to, Status st, std::optional<std::uint32_t> asp_id, Actions& out) {
  // NTFY may use any stream; stream 0 keeps it behind the ACK it follows.
  send(to, 0, Message{Ntfy{st, asp_id, {as.cfg.routing_context}, std::nullopt}}, out);
}

void SgpNode::ntfy_all(const As& as, Status st, bool inactive_only, std::optional<AssocId> except,
                       std::optional<std::uint32_t> asp_id, Actions& out) {
  for (const auto& [id, p] : peers_) {
    if (!serves(as, p) || (except && *except == id)) continue;
    if (inactive_only && is_active(as, id)) continue;
    ntfy(as, id, st, asp_id, out);
  }
}

void SgpNode::set_as_state(As& as, AsState to, Actions& out) {
  if (as.state == to) return;
  out.push_back(AsStateChanged{as.cfg.routing_context, as.state, to});
  as.state = to;
}

// Applies the AS transitions of RFC 4666 4.3.2 after an ASP changed state;
// returns whether the AS state changed. The caller has already sent the ACK
// that caused it, so the NTFYs follow the ACK.
bool SgpNode::recompute(As& as, TimePoint now, Actions& out) {
  (void)now;
  const AsState start = as.state;
  const std::size_t n_active = as.active.size();
  const std::size_t up = members_up(as);
  const TimerId tr{TimerKind::Tr, 0, as.cfg.routing_context};
  switch (as.state) {
    case AsState::Down:
      if (up == 0) break;
      if (n_active >= needed_active(as.cfg)) {
        set_as_state(as, AsState::Active, out);
      } else {
        set_as_state(as, AsState::Inactive, out);  // DN2IA
      }
      ntfy_all(as, as_status(as.state), false, std::nullopt, std::nullopt, out);
      break;
    case AsState::Inactive:
      if (up == 0) {
        set_as_state(as, AsState::Down, out);  // IA2DN
      } else if (n_active >= needed_active(as.cfg)) {
        set_as_state(as, AsState::Active, out);  // IA2AC
        ntfy_all(as, as_status(AsState::Active), false, std::nullopt, std::nullopt, out);
      }
      break;
    case AsState::Active:
      if (n_active == 0) {  // AC2PN
        set_as_state(as, AsState::Pending, out);
        out.push_back(StartTimer{tr, cfg_.t_r});
        ntfy_all(as, as_status(AsState::Pending), true, std::nullopt, std::nullopt, out);
      }
      break;
    case AsState::Pending:
      if (n_active >= 1) {  // PN2AC
        out.push_back(StopTimer{tr});
        set_as_state(as, AsState::Active, out);
        ntfy_all(as, as_status(AsState::Active), false, std::nullopt, std::nullopt, out);
        flush(as, now, out);
      }
      break;
  }
  return as.state != start;
}

void SgpNode::activate(Peer& p, As& as, TimePoint now, Actions& out) {
  if (is_active(as, p.assoc)) return;
  const std::uint32_t rc = as.cfg.routing_context;
  const bool peer_was_active = std::any_of(as_.begin(), as_.end(), [&](const auto& kv) { return is_active(kv.second, p.assoc); });
  if (as.cfg.mode == TrafficMode::Override && !as.active.empty()) {
    // Override takeover: the previous ASP goes INACTIVE and is told so.
    const AssocId old = as.active.front();
    as.active.clear();
    out.push_back(AspStateChanged{old, rc, AspState::Active, AspState::Inactive});
    ntfy(as, old, Status{StatusType::Other, status_info::kAlternateAspActive}, p.asp_id, out);
    auto* op = peer(old);
    if (op && std::none_of(as_.begin(), as_.end(), [&](const auto& kv) { return is_active(kv.second, old); }))
      out.push_back(AspStateChanged{old, std::nullopt, AspState::Active, AspState::Inactive});
  }
  as.active.insert(std::upper_bound(as.active.begin(), as.active.end(), p.assoc), p.assoc);
  out.push_back(AspStateChanged{p.assoc, rc, AspState::Inactive, AspState::Active});
  if (!peer_was_active) out.push_back(AspStateChanged{p.assoc, std::nullopt, AspState::Inactive, AspState::Active});
  if (as.cfg.mode == TrafficMode::Broadcast) as.tag_correlation = true;
  recompute(as, now, out);
  if (as.cfg.mode == TrafficMode::Loadshare && as.state == AsState::Inactive &&
      as.active.size() < needed_active(as.cfg))
    ntfy_all(as, Status{StatusType::Other, status_info::kInsufficientAspResources}, true, std::nullopt,
             std::nullopt, out);
}

void SgpNode::deactivate(Peer& p, As& as, bool failure, TimePoint now, Actions& out) {
  if (!is_active(as, p.assoc)) return;
  const std::uint32_t rc = as.cfg.routing_context;
  as.active.erase(std::find(as.active.begin(), as.active.end(), p.assoc));
  out.push_back(AspStateChanged{p.assoc, rc, AspState::Active, failure ? AspState::Down : AspState::Inactive});
  if (failure)
    ntfy_all(as, Status{StatusType::Other, status_info::kAspFailure}, false, p.assoc, p.asp_id, out);
  recompute(as, now, out);
  if (as.cfg.mode == TrafficMode::Loadshare && as.state == AsState::Active && !as.active.empty() &&
      as.active.size() < needed_active(as.cfg))
    ntfy_all(as, Status{StatusType::Other, status_info::kInsufficientAspResources}, true, std::nullopt,
             std::nullopt, out);
}

void SgpNode::peer_down(Peer& p, bool failure, TimePoint now, Actions& out) {
  if (!p.up) return;
  const bool was_active = std::any_of(as_.begin(), as_.end(), [&](const auto& kv) { return is_active(kv.second, p.assoc); });
  p.up = false;
  for (auto& [rc, as] : as_) deactivate(p, as, failure, now, out);
  out.push_back(AspStateChanged{p.assoc, std::nullopt, was_active ? AspState::Active : AspState::Inactive,
                                AspState::Down});
  // Registrations live as long as the ASP is up.
  std::vector<std::uint32_t> gone;
  for (auto& [rc, as] : as_) {
    as.registrants.erase(p.assoc);
    if (as.dynamic && as.registrants.empty()) gone.push_back(rc);
  }
  for (auto& [rc, as] : as_) recompute(as, now, out);
  for (auto rc : gone) remove_as(rc, out);
}

void SgpNode::remove_as(std::uint32_t rc, Actions& out) {
  As* as = find_as(rc);
  if (!as) return;
  if (as->state == AsState::Pending) out.push_back(StopTimer{TimerId{TimerKind::Tr, 0, rc}});
  if (!as->queue.empty()) drop(0, DropReason::TrExpired, out, static_cast<std::uint32_t>(as->queue.size()));
  set_as_state(*as, AsState::Down, out);
  rkt_.remove(rc);
  as_.erase(rc);
  --dynamic_count_;
}

// ---------------------------------------------------------------- traffic

void SgpNode::deliver(As& as, const DataView& in, Actions& out) {
  DataView v = in;
  v.routing_context = as.cfg.routing_context;
  if (as.cfg.network_appearance) v.network_appearance = as.cfg.network_appearance;
  v.correlation_id.reset();
  auto send_to = [&](AssocId a, const DataView& dv) {
    const Peer* p = peer(a);
    const auto stream = data_stream(dv.protocol_data.sls, p ? p->outbound_streams : 0);
    if (!stream) {
      drop(a, DropReason::NoDataStream, out);
      return;
    }
    Send s{a, *stream, {}};
    encode_data(dv, s.bytes);
    out.push_back(std::move(s));
  };
  switch (as.cfg.mode) {
    case TrafficMode::Override:
      send_to(as.active.front(), v);
      break;
    case TrafficMode::Broadcast: {
      DataView bv = v;
      if (as.tag_correlation) {
        bv.correlation_id = next_correlation_id_++;
        as.tag_correlation = false;
      }
      for (auto a : as.active) send_to(a, bv);
      break;
    }
    default:
      send_to(as.active[v.protocol_data.sls % as.active.size()], v);
      break;
  }
}

void SgpNode::flush(As& as, TimePoint now, Actions& out) {
  (void)now;
  while (!as.queue.empty() && as.state == AsState::Active) {
    const Data d = std::move(as.queue.front());
    as.queue.pop_front();
    deliver(as, to_view(d), out);
  }
}

void SgpNode::route(const DataView& d, TimePoint now, Actions& out) {
  (void)now;
  std::optional<std::uint32_t> rc = d.routing_context;
  if (!rc) rc = rkt_.match(d.protocol_data.dpc, d.protocol_data.opc, d.protocol_data.si, d.network_appearance);
  As* as = rc ? find_as(*rc) : nullptr;
  if (!as) {
    drop(0, DropReason::NoRoutingKey, out);
    return;
  }
  switch (as->state) {
    case AsState::Active:
      deliver(*as, d, out);
      break;
    case AsState::Pending:
      if (as->queue.size() >= cfg_.pending_queue_limit) {
        drop(0, DropReason::QueueFull, out);
      } else {
        as->queue.push_back(to_owned(d));
      }
      break;
    default:
      drop(0, DropReason::NoActiveAsp, out);
      break;
  }
}

std::optional<RouteTarget> SgpNode::decide(const DataView& d) const {
  std::optional<std::uint32_t> rc = d.routing_context;
  if (!rc) rc = rkt_.match(d.protocol_data.dpc, d.protocol_data.opc, d.protocol_data.si, d.network_appearance);
  if (!rc) return std::nullopt;
  auto it = as_.find(*rc);
  if (it == as_.end() || it->second.state != AsState::Active || it->second.active.empty()) return std::nullopt;
  const As& as = it->second;
  const AssocId a = as.cfg.mode == TrafficMode::Loadshare ? as.active[d.protocol_data.sls % as.active.size()]
                                                          : as.active.front();
  auto pit = peers_.find(a);
  const auto stream = data_stream(d.protocol_data.sls, pit == peers_.end() ? 0 : pit->second.outbound_streams);
  if (!stream) return std::nullopt;
  return RouteTarget{a, *stream, *rc};
}

// ---------------------------------------------------------------- events

Actions SgpNode::association_up(AssocId assoc, std::uint16_t outbound_streams, TimePoint now) {
  Actions out;
  auto [it, fresh] = peers_.try_emplace(assoc, Peer{assoc, outbound_streams, false, std::nullopt,
                                                    Heartbeat(assoc, cfg_.t_beat)});
  if (!fresh) {
    // SCTP restart: the ASP is DOWN again.
    peer_down(it->second, true, now, out);
    it->second.outbound_streams = outbound_streams;
  }
  it->second.beat.start(now, out);
  return out;
}

Actions SgpNode::association_down(AssocId assoc, TimePoint now) {
  Actions out;
  Peer* p = peer(assoc);
  if (!p) return out;
  p->beat.stop(out);
  peer_down(*p, true, now, out);
  peers_.erase(assoc);
  return out;
}

void SgpNode::seen(AssocId assoc, TimePoint now) {
  if (Peer* p = peer(assoc)) p->beat.seen(now);
}

Actions SgpNode::timer_expired(TimerId id, TimePoint now) {
  Actions out;
  if (id.kind == TimerKind::Tbeat) {
    if (Peer* p = peer(id.assoc)) p->beat.expired(now, out);
    return out;
  }
  if (id.kind != TimerKind::Tr) return out;
  As* as = find_as(id.rc);
  if (!as || as->state != AsState::Pending) return out;
  // PN2IA / PN2DN: the queued traffic is dropped and counted.
  if (!as->queue.empty()) {
    drop(0, DropReason::TrExpired, out, static_cast<std::uint32_t>(as->queue.size()));
    as->queue.clear();
  }
  if (members_up(*as) > 0) {
    set_as_state(*as, AsState::Inactive, out);
    ntfy_all(*as, as_status(AsState::Inactive), false, std::nullopt, std::nullopt, out);
  } else {
    set_as_state(*as, AsState::Down, out);
  }
  return out;
}

void SgpNode::receive(AssocId assoc, std::uint16_t stream, ByteView bytes, TimePoint now, Actions& out) {
  Peer* p = peer(assoc);
  if (!p) {
    drop(assoc, DropReason::UnknownAssociation, out);
    return;
  }
  p->beat.seen(now);
  auto hdr = decode_header(bytes, cfg_.limits);
  if (hdr && hdr->msg_class == static_cast<std::uint8_t>(MessageClass::Transfer)) {
    auto d = decode_data(bytes, cfg_.limits);
    if (d) {
      handle_data(assoc, *d, stream, bytes, now, out);
      return;
    }
    if (auto e = make_error_reply(d.error())) send_err(assoc, std::move(*e), out);
    drop(assoc, DropReason::Malformed, out);
    return;
  }
  auto m = decode(bytes, cfg_.limits);
  if (!m) {
    if (auto e = make_error_reply(m.error())) send_err(assoc, std::move(*e), out);
    drop(assoc, DropReason::Malformed, out);
    return;
  }
  handle(assoc, *m, stream, bytes, now, out);
}

void SgpNode::handle_data(AssocId assoc, const DataView& d, std::uint16_t stream, ByteView raw, TimePoint now,
                          Actions& out) {
  (void)now;
  Peer* p = peer(assoc);
  if (!p) {
    drop(assoc, DropReason::UnknownAssociation, out);
    return;
  }
  if (stream == 0) {
    send_err(assoc, make_err(ErrorCode::InvalidStreamIdentifier, raw), out);
    drop(assoc, DropReason::InvalidStream, out);
    return;
  }
  if (!p->up) {
    send_err(assoc, make_err(ErrorCode::UnexpectedMessage, raw), out);
    drop(assoc, DropReason::BeforeAspUp, out);
    return;
  }
  As* as = nullptr;
  if (d.routing_context) {
    as = find_as(*d.routing_context);
    if (!as || !allowed(*as, *p)) {
      Err e = make_err(ErrorCode::InvalidRoutingContext, raw);
      e.routing_contexts.push_back(*d.routing_context);
      send_err(assoc, std::move(e), out);
      drop(assoc, DropReason::NotActive, out);
      return;
    }
  } else {
    std::size_t n = 0;
    for (auto& [rc, a] : as_)
      if (is_active(a, assoc)) {
        as = &a;
        ++n;
      }
    if (n > 1) {  // RC is required when the association carries several ASes
      send_err(assoc, make_err(ErrorCode::MissingParameter, raw), out);
      drop(assoc, DropReason::NotActive, out);
      return;
    }
  }
  if (!as || !is_active(*as, assoc)) {
    // RFC 4666 4.3.4.3: ERR Unexpected Message (with the RC) or silent drop.
    if (cfg_.err_on_unexpected_data) {
      Err e = make_err(ErrorCode::UnexpectedMessage, raw);
      if (d.routing_context) e.routing_contexts.push_back(*d.routing_context);
      send_err(assoc, std::move(e), out);
    }
    drop(assoc, DropReason::NotActive, out);
    return;
  }
  if (as->cfg.network_appearance && d.network_appearance && *d.network_appearance != *as->cfg.network_appearance) {
    Err e = make_err(ErrorCode::InvalidNetworkAppearance, raw);
    e.network_appearance = d.network_appearance;
    send_err(assoc, std::move(e), out);
    drop(assoc, DropReason::NotActive, out);
    return;
  }
  out.push_back(DataIndication{assoc, as->cfg.routing_context, to_owned(d)});
}

void SgpNode::handle(AssocId assoc, const Message& m, std::uint16_t stream, ByteView raw, TimePoint now,
                     Actions& out) {
  Peer* p = peer(assoc);
  if (!p) {
    drop(assoc, DropReason::UnknownAssociation, out);
    return;
  }
  if (const auto* dv = std::get_if<Data>(&m)) {
    handle_data(assoc, to_view(*dv), stream, raw, now, out);
    return;
  }
  const auto id = message_id(m);
  if (wants_stream_zero(id.msg_class, id.msg_type) && stream != 0) {
    if (!std::holds_alternative<Err>(m)) send_err(assoc, make_err(ErrorCode::InvalidStreamIdentifier, raw), out);
    drop(assoc, DropReason::InvalidStream, out);
    return;
  }
  // Before ASPUP only ASPSM and MGMT make sense; the rest is answered with
  // ERR Unexpected Message and dropped.
  if (!p->up && id.msg_class != 3 && id.msg_class != 0) {
    send_err(assoc, make_err(ErrorCode::UnexpectedMessage, raw), out);
    drop(assoc, DropReason::BeforeAspUp, out);
    return;
  }
  std::visit(
      [&](const auto& msg) {
        using T = std::decay_t<decltype(msg)>;
        if constexpr (std::is_same_v<T, AspUp>) {
          on_aspup(*p, msg, raw, now, out);
        } else if constexpr (std::is_same_v<T, AspDn>) {
          on_aspdn(*p, now, out);
        } else if constexpr (std::is_same_v<T, Beat>) {
          send(assoc, stream, Message{beat_ack_for(msg)}, out);
        } else if constexpr (std::is_same_v<T, BeatAck>) {
        } else if constexpr (std::is_same_v<T, AspAc>) {
          on_aspac(*p, msg, now, out);
        } else if constexpr (std::is_same_v<T, AspIa>) {
          on_aspia(*p, msg, now, out);
        } else if constexpr (std::is_same_v<T, RegReq>) {
          on_reg_req(*p, msg, now, out);
        } else if constexpr (std::is_same_v<T, DeregReq>) {
          on_dereg_req(*p, msg, now, out);
        } else if constexpr (std::is_same_v<T, Daud>) {
          on_daud(*p, msg, out);
        } else if constexpr (std::is_same_v<T, Duna> || std::is_same_v<T, Dava> || std::is_same_v<T, Scon> ||
                             std::is_same_v<T, Dupu> || std::is_same_v<T, Drst>) {
          // From an ASP (SCON: congestion towards it) or an IPSP peer.
          destinations_.apply(m, assoc, out);
        } else if constexpr (std::is_same_v<T, Err>) {
          out.push_back(ErrIndication{assoc, msg});
        } else if constexpr (std::is_same_v<T, Ntfy>) {
          out.push_back(NtfyIndication{assoc, msg});
        } else {
          // ACKs and responses: the SGP sends no requests.
          if (!p->up && id.msg_class == 3) {
            drop(assoc, DropReason::BeforeAspUp, out);
            return;
          }
          send_err(assoc, make_err(ErrorCode::UnexpectedMessage, raw), out);
          drop(assoc, DropReason::UnexpectedMessage, out);
        }
      },
      m);
}

// ---------------------------------------------------------------- ASPSM / ASPTM

void SgpNode::on_aspup(Peer& p, const AspUp& m, ByteView raw, TimePoint now, Actions& out) {
  if (m.asp_id && std::find(cfg_.blocked_asp_ids.begin(), cfg_.blocked_asp_ids.end(), *m.asp_id) !=
                      cfg_.blocked_asp_ids.end()) {
    send_err(p.assoc, make_err(ErrorCode::RefusedManagementBlocking, {}), out);
    return;
  }
  if (cfg_.require_asp_id && !m.asp_id) {
    send_err(p.assoc, make_err(ErrorCode::AspIdentifierRequired, {}), out);
    return;
  }
  if (m.asp_id)
    for (const auto& [id, other] : peers_)
      if (id != p.assoc && other.up && other.asp_id == m.asp_id) {
        send_err(p.assoc, make_err(ErrorCode::InvalidAspIdentifier, {}), out);
        return;
      }
  // The ACK goes out even when the ASP is already up (RFC 4666 4.3.4.1).
  send(p.assoc, 0, Message{AspUpAck{cfg_.asp_id, std::nullopt}}, out);
  if (!p.up) {
    p.up = true;
    p.asp_id = m.asp_id;
    out.push_back(AspStateChanged{p.assoc, std::nullopt, AspState::Down, AspState::Inactive});
    for (auto& [rc, as] : as_) {
      if (!allowed(as, p)) continue;
      // DN2IA notifies every member; otherwise tell the newcomer the current state.
      if (!recompute(as, now, out) && as.state != AsState::Down) ntfy(as, p.assoc, as_status(as.state), std::nullopt, out);
    }
    return;
  }
  const bool was_active = std::any_of(as_.begin(), as_.end(), [&](const auto& kv) { return is_active(kv.second, p.assoc); });
  if (!was_active) return;
  // ASPUP from an ACTIVE ASP: ERR Unexpected Message, the ASP goes INACTIVE in
  // every AS and its registrations count as withdrawn.
  send_err(p.assoc, make_err(ErrorCode::UnexpectedMessage, raw), out);
  for (auto& [rc, as] : as_) deactivate(p, as, false, now, out);
  out.push_back(AspStateChanged{p.assoc, std::nullopt, AspState::Active, AspState::Inactive});
  std::vector<std::uint32_t> gone;
  for (auto& [rc, as] : as_) {
    as.registrants.erase(p.assoc);
    if (as.dynamic && as.registrants.empty()) gone.push_back(rc);
  }
  for (auto rc : gone) remove_as(rc, out);
}

void SgpNode::on_aspdn(Peer& p, TimePoint now, Actions& out) {
  // ACKed even when the ASP is already DOWN.
  send(p.assoc, 0, Message{AspDnAck{}}, out);
  peer_down(p, true, now, out);
}

void SgpNode::on_aspac(Peer& p, const AspAc& m, TimePoint now, Actions& out) {
  std::vector<As*> targets;
  std::vector<std::uint32_t> accepted;
  auto mode_ok = [&](const As& as) { return !m.traffic_mode || *m.traffic_mode == as.cfg.mode; };
  if (!m.routing_contexts.empty()) {
    for (auto rc : m.routing_contexts) {
      As* as = find_as(rc);
      if (!as || !allowed(*as, p)) {
        Err e = make_err(ErrorCode::NoConfiguredAsForAsp, {});
        e.routing_contexts.push_back(rc);
        send_err(p.assoc, std::move(e), out);
      } else if (p.asp_id && std::find(cfg_.blocked_asp_ids.begin(), cfg_.blocked_asp_ids.end(), *p.asp_id) !=
                                 cfg_.blocked_asp_ids.end()) {
        Err e = make_err(ErrorCode::RefusedManagementBlocking, {});
        e.routing_contexts.push_back(rc);
        send_err(p.assoc, std::move(e), out);
      } else if (!mode_ok(*as)) {
        Err e = make_err(ErrorCode::UnsupportedTrafficModeType, {});
        e.routing_contexts.push_back(rc);
        send_err(p.assoc, std::move(e), out);
      } else {
        targets.push_back(as);
        accepted.push_back(rc);
      }
    }
  } else {
    for (auto& [rc, as] : as_)
      if (allowed(as, p)) targets.push_back(&as);
    if (targets.empty()) {
      send_err(p.assoc, make_err(ErrorCode::InvalidRoutingContext, {}), out);
      return;
    }
    if (cfg_.rc_required) {
      send_err(p.assoc, make_err(ErrorCode::MissingParameter, {}), out);
      return;
    }
    for (As* as : targets)
      if (!mode_ok(*as)) {
        Err e = make_err(ErrorCode::UnsupportedTrafficModeType, {});
        e.routing_contexts.push_back(as->cfg.routing_context);
        send_err(p.assoc, std::move(e), out);
        return;
      }
  }
  if (targets.empty()) return;
  send(p.assoc, 0, Message{AspAcAck{m.traffic_mode, accepted, std::nullopt}}, out);
  for (As* as : targets) activate(p, *as, now, out);
}

void SgpNode::on_aspia(Peer& p, const AspIa& m, TimePoint now, Actions& out) {
  std::vector<As*> targets;
  std::vector<std::uint32_t> accepted;
  if (!m.routing_contexts.empty()) {
    for (auto rc : m.routing_contexts) {
      As* as = find_as(rc);
      if (!as || !allowed(*as, p)) {
        Err e = make_err(ErrorCode::InvalidRoutingContext, {});
        e.routing_contexts.push_back(rc);
        send_err(p.assoc, std::move(e), out);
      } else {
        targets.push_back(as);
        accepted.push_back(rc);
      }
    }
    if (targets.empty()) return;
  } else {
    for (auto& [rc, as] : as_)
      if (allowed(as, p)) targets.push_back(&as);
    if (targets.empty()) {
      send_err(p.assoc, make_err(ErrorCode::NoConfiguredAsForAsp, {}), out);
      return;
    }
  }
  send(p.assoc, 0, Message{AspIaAck{accepted, std::nullopt}}, out);
  const bool was_active = std::any_of(as_.begin(), as_.end(), [&](const auto& kv) { return is_active(kv.second, p.assoc); });
  for (As* as : targets) deactivate(p, *as, false, now, out);
  const bool still_active = std::any_of(as_.begin(), as_.end(), [&](const auto& kv) { return is_active(kv.second, p.assoc); });
  if (was_active && !still_active)
    out.push_back(AspStateChanged{p.assoc, std::nullopt, AspState::Active, AspState::Inactive});
}

// ---------------------------------------------------------------- SSNM

void SgpNode::on_daud(Peer& p, const Daud& m, Actions& out) {
  Duna duna;
  Dava dava;
  Drst drst;
  Err unknown;
  unknown.code = ErrorCode::DestinationStatusUnknown;
  std::vector<Scon> scons;
  for (const auto& r : m.affected_point_codes) {
    const auto st = destinations_.lookup(r.pc);
    if (!st) {
      (cfg_.daud_unknown_is_available ? dava.affected_point_codes : unknown.affected_point_codes).push_back(r);
      continue;
    }
    switch (st->availability) {
      case DestinationAvailability::Unavailable: duna.affected_point_codes.push_back(r); break;
      case DestinationAvailability::Restricted: drst.affected_point_codes.push_back(r); break;
      case DestinationAvailability::Available: dava.affected_point_codes.push_back(r); break;
    }
    if (st->availability != DestinationAvailability::Unavailable && st->congestion_level > 0) {
      Scon s;
      s.affected_point_codes.push_back(MaskedPointCode{0, r.pc});
      s.congestion_level = st->congestion_level;
      scons.push_back(std::move(s));
    }
  }
  auto finish = [&](SsnmCommon& c) {
    c.network_appearance = m.network_appearance;
    c.routing_contexts = m.routing_contexts;
  };
  if (!duna.affected_point_codes.empty()) finish(duna), send(p.assoc, 0, Message{duna}, out);
  if (!dava.affected_point_codes.empty()) finish(dava), send(p.assoc, 0, Message{dava}, out);
  if (!drst.affected_point_codes.empty()) finish(drst), send(p.assoc, 0, Message{drst}, out);
  for (auto& s : scons) finish(s), send(p.assoc, 0, Message{s}, out);
  if (!unknown.affected_point_codes.empty()) {
    unknown.routing_contexts = m.routing_contexts;
    unknown.network_appearance = m.network_appearance;
    send_err(p.assoc, std::move(unknown), out);
  }
}

namespace {
template <class M>
void fill_rcs(M& msg, const std::vector<std::uint32_t>& rcs) {
  msg.routing_contexts = rcs;
}
}  // namespace

Actions SgpNode::announce(MaskedPointCode pc, DestinationAvailability a, TimePoint now) {
  (void)now;
  Actions out;
  destinations_.set_availability(pc, a);
  for (const auto& [id, p] : peers_) {
    std::vector<std::uint32_t> rcs;
    for (const auto& [rc, as] : as_)
      if (is_active(as, id)) rcs.push_back(rc);
    if (rcs.empty()) continue;  // SSNM goes to ASPs that are ACTIVE
    SsnmCommon c;
    c.routing_contexts = rcs;
    c.affected_point_codes.push_back(pc);
    Message m = a == DestinationAvailability::Unavailable ? Message{Duna{c}}
                : a == DestinationAvailability::Restricted ? Message{Drst{c}}
                                                           : Message{Dava{c}};
    send(id, 0, m, out);
  }
  return out;
}

Actions SgpNode::announce_congestion(PointCode pc, std::uint8_t level, TimePoint now) {
  (void)now;
  Actions out;
  destinations_.set_congestion(pc, level);
  for (const auto& [id, p] : peers_) {
    Scon s;
    for (const auto& [rc, as] : as_)
      if (is_active(as, id)) s.routing_contexts.push_back(rc);
    if (s.routing_contexts.empty()) continue;
    s.affected_point_codes.push_back(MaskedPointCode{0, pc});
    s.congestion_level = level;
    send(id, 0, Message{s}, out);
  }
  return out;
}

Actions SgpNode::announce_user_unavailable(PointCode pc, UserCause uc, TimePoint now) {
  (void)now;
  Actions out;
  destinations_.set_user_unavailable(pc, uc);
  for (const auto& [id, p] : peers_) {
    Dupu d;
    for (const auto& [rc, as] : as_)
      if (is_active(as, id)) d.routing_contexts.push_back(rc);
    if (d.routing_contexts.empty()) continue;
    d.affected_point_codes.push_back(MaskedPointCode{0, pc});
    d.user_cause = uc;
    send(id, 0, Message{d}, out);
  }
  return out;
}

// ---------------------------------------------------------------- RKM

RegistrationResult SgpNode::register_key(Peer& p, const RoutingKey& k, Actions& out) {
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
  std::optional<std::uint32_t> rc = rkt_.find_equal(k.destinations, k.network_appearance);
  if (k.routing_context) {
    As* named = find_as(*k.routing_context);
    if (!named) return fail(RegistrationStatus::InvalidRoutingKey);
    if (rc != k.routing_context) return fail(RegistrationStatus::RoutingKeyChangeRefused);
  }
  if (rc) {
    As& as = *find_as(*rc);
    if (as.registrants.count(p.assoc) != 0) return fail(RegistrationStatus::AlreadyRegistered);
    if (k.traffic_mode && *k.traffic_mode != as.cfg.mode) return fail(RegistrationStatus::UnsupportedTrafficHandlingMode);
    if (!as.dynamic && !as.cfg.asp_ids.empty() && !allowed(as, p)) return fail(RegistrationStatus::PermissionDenied);
    as.registrants.insert(p.assoc);
    r.routing_context = *rc;
  } else {
    if (cfg_.rkm != RkmPermission::DynamicPermitted) return fail(RegistrationStatus::NotCurrentlyProvisioned);
    if (dynamic_count_ >= cfg_.max_dynamic_as) return fail(RegistrationStatus::InsufficientResources);
    while (as_.count(next_dynamic_rc_) != 0) ++next_dynamic_rc_;
    const std::uint32_t new_rc = next_dynamic_rc_++;
    As as;
    as.cfg.name = "dynamic-" + std::to_string(new_rc);
    as.cfg.routing_context = new_rc;
    as.cfg.mode = k.traffic_mode.value_or(cfg_.default_dynamic_mode);
    as.cfg.network_appearance = k.network_appearance;
    as.cfg.destinations = k.destinations;
    as.dynamic = true;
    as.registrants.insert(p.assoc);
    rkt_.add(RoutingKeyEntry{new_rc, k.network_appearance, k.destinations});
    as_.emplace(new_rc, std::move(as));
    ++dynamic_count_;
    r.routing_context = new_rc;
  }
  RoutingKey registered = k;
  registered.routing_context = r.routing_context;
  out.push_back(RegistrationIndication{p.assoc, std::move(registered), r});
  return r;
}

void SgpNode::on_reg_req(Peer& p, const RegReq& m, TimePoint now, Actions& out) {
  RegRsp rsp;
  Actions indications;
  for (const auto& k : m.routing_keys) rsp.results.push_back(register_key(p, k, indications));
  send(p.assoc, 0, Message{rsp}, out);
  out.insert(out.end(), std::make_move_iterator(indications.begin()), std::make_move_iterator(indications.end()));
  // A newly registered AS has this ASP as an INACTIVE member now (DN2IA).
  for (const auto& r : rsp.results)
    if (r.status == RegistrationStatus::Success)
      if (As* as = find_as(r.routing_context)) recompute(*as, now, out);
}

void SgpNode::on_dereg_req(Peer& p, const DeregReq& m, TimePoint now, Actions& out) {
  DeregRsp rsp;
  std::vector<std::uint32_t> gone;
  std::vector<std::uint32_t> changed;
  for (auto rc : m.routing_contexts) {
    DeregistrationResult r{rc, DeregistrationStatus::Success};
    As* as = find_as(rc);
    if (!as) {
      r.status = DeregistrationStatus::InvalidRoutingContext;
    } else if (as->registrants.count(p.assoc) == 0) {
      r.status = DeregistrationStatus::NotRegistered;
    } else if (is_active(*as, p.assoc)) {
      r.status = DeregistrationStatus::AspCurrentlyActive;
    } else {
      as->registrants.erase(p.assoc);
      if (as->dynamic && as->registrants.empty())
        gone.push_back(rc);
      else
        changed.push_back(rc);
    }
    rsp.results.push_back(r);
  }
  send(p.assoc, 0, Message{rsp}, out);
  for (const auto& r : rsp.results) out.push_back(DeregistrationIndication{p.assoc, r});
  for (auto rc : gone) remove_as(rc, out);
  for (auto rc : changed)
    if (As* as = find_as(rc)) recompute(*as, now, out);
}

// ---------------------------------------------------------------- introspection

AspState SgpNode::asp_state(AssocId assoc, std::optional<std::uint32_t> rc) const {
  auto it = peers_.find(assoc);
  if (it == peers_.end() || !it->second.up) return AspState::Down;
  if (rc) {
    auto a = as_.find(*rc);
    return a != as_.end() && is_active(a->second, assoc) ? AspState::Active : AspState::Inactive;
  }
  for (const auto& [r, as] : as_)
    if (is_active(as, assoc)) return AspState::Active;
  return AspState::Inactive;
}

std::optional<AsState> SgpNode::as_state(std::uint32_t rc) const {
  auto it = as_.find(rc);
  if (it == as_.end()) return std::nullopt;
  return it->second.state;
}

std::vector<AssocId> SgpNode::active_asps(std::uint32_t rc) const {
  auto it = as_.find(rc);
  return it == as_.end() ? std::vector<AssocId>{} : it->second.active;
}

std::size_t SgpNode::queued(std::uint32_t rc) const {
  auto it = as_.find(rc);
  return it == as_.end() ? 0 : it->second.queue.size();
}

}  // namespace mxua
