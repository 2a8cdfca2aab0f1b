#include "mxua/fsm/sgp_node.hpp"
#include "mxua/frame_loan.hpp"

#include <algorithm>

namespace mxua {

SgpNode::SgpNode(SgpConfig cfg) : cfg_(std::move(cfg)), peers_(cfg_.peers), rkm_(cfg_) {
  for (const auto& a : cfg_.application_servers) {
    if (!a.destinations.empty())
      rkm_.keys().add(RoutingKeyEntry{a.routing_context, a.network_appearance, a.destinations});
    // Owners by name; a name that is no configured peer owns nothing (the
    // AS then serves nobody rather than everybody).
    std::vector<PeerId> owners;
    for (const auto& name : a.owners)
      if (auto id = peers_.find(name)) owners.push_back(*id);
    as_.emplace(a.routing_context, ApplicationServer(a, false, std::move(owners)));
  }
}

// ---------------------------------------------------------------- helpers

ApplicationServer* SgpNode::find_as(std::uint32_t rc) {
  auto it = as_.find(rc);
  return it == as_.end() ? nullptr : &it->second;
}

const ApplicationServer* SgpNode::find_as(std::uint32_t rc) const {
  auto it = as_.find(rc);
  return it == as_.end() ? nullptr : &it->second;
}

bool SgpNode::active_anywhere(AssocId a) const {
  return std::any_of(as_.begin(), as_.end(), [&](const auto& kv) { return kv.second.is_active(a); });
}

void SgpNode::sync_beat(Asp& asp) {
  if (auto due = asp.beat.due())
    timers_.arm(asp.beat.timer(), *due);
  else
    timers_.cancel(asp.beat.timer());
}

void SgpNode::send_err(AssocId a, Err e, Actions& out) {
  errs_.count_sent(e.code);
  out.push_back(Send{a, 0, Message{std::move(e)}});
}

void SgpNode::drop(AssocId a, DropReason r, Actions& out, std::uint32_t n) {
  drops_.add(r, n);
  out.push_back(Drop{a, r, n});
}

// The ASP goes DOWN (ASPDN, association loss, SCTP restart): INACTIVE in
// every AS (NTFY ASP Failure when `failure`), its registrations withdrawn.
void SgpNode::asp_down(Asp& asp, bool failure, TimePoint now, Actions& out) {
  if (!asp.up) return;
  const bool was_active = active_anywhere(asp.assoc);
  asp.up = false;
  auto ctx = context(now, out);
  for (auto& [rc, as] : as_) as.deactivate(asp, failure, ctx);
  out.push_back(AspStateChanged{asp.assoc, std::nullopt, was_active ? AspState::Active : AspState::Inactive,
                                AspState::Down});
  withdraw_registrations(asp, now, out);
}

// Registrations live as long as the ASP is up (RFC 4666 4.4); an AS that
// RKM created goes with its last registrant.
void SgpNode::withdraw_registrations(Asp& asp, TimePoint now, Actions& out) {
  std::vector<std::uint32_t> gone;
  for (auto& [rc, as] : as_) {
    as.remove_registrant(asp.assoc);
    if (as.dynamic() && !as.has_registrants()) gone.push_back(rc);
  }
  auto ctx = context(now, out);
  for (auto& [rc, as] : as_) as.update(ctx);
  for (auto rc : gone) remove_as(rc, now, out);
}

void SgpNode::remove_as(std::uint32_t rc, TimePoint now, Actions& out) {
  ApplicationServer* as = find_as(rc);
  if (!as) return;
  auto ctx = context(now, out);
  as->dissolve(ctx);
  rkm_.forget(rc);
  as_.erase(rc);
}

// ---------------------------------------------------------------- traffic

std::optional<std::uint32_t> SgpNode::as_for(const DataView& d) const {
  if (d.routing_context) return d.routing_context;
  return rkm_.keys().match(d.protocol_data.dpc, d.protocol_data.opc, d.protocol_data.si, d.network_appearance);
}

void SgpNode::route(const DataView& d, TimePoint now, Actions& out) {
  const auto rc = as_for(d);
  ApplicationServer* as = rc ? find_as(*rc) : nullptr;
  if (!as) {
    drop(0, DropReason::NoRoutingKey, out);
    return;
  }
  auto ctx = context(now, out);
  as->route(d, ctx);
}

bool SgpNode::route_now(const DataView& d, SendData& s) const {
  const auto rc = as_for(d);
  const ApplicationServer* as = rc ? find_as(*rc) : nullptr;
  return as && as->route_now(d, asps_, s);
}

std::optional<RouteDecision> SgpNode::decide(const DataView& d) const {
  const auto rc = as_for(d);
  const ApplicationServer* as = rc ? find_as(*rc) : nullptr;
  if (!as || as->state() != AsState::Active) return std::nullopt;
  const auto asps = as->targets(d.protocol_data.sls);
  if (asps.empty()) return std::nullopt;
  return RouteDecision{*rc, as->mode(), asps};
}

// ---------------------------------------------------------------- events

Actions SgpNode::association_up(AssocId assoc, std::uint16_t outbound_streams, TimePoint now) {
  return up(assoc, std::nullopt, outbound_streams, now);
}

Actions SgpNode::association_up(AssocId assoc, const std::vector<rserpool::IpAddress>& remote,
                                std::uint16_t outbound_streams, TimePoint now) {
  const auto peer = peers_.bind(remote);
  if (!peer && !cfg_.accept_unknown_peers) {
    // Not every address of the association is one configured peer's.
    ++refused_;
    Actions out;
    if (asps_.find(assoc)) {  // an SCTP restart now from addresses not the peer's: gone
      Actions down = association_down(assoc, now);
      out.insert(out.end(), std::make_move_iterator(down.begin()), std::make_move_iterator(down.end()));
    }
    out.push_back(AssociationRefused{assoc});
    return out;
  }
  Actions out;
  if (cfg_.max_associations_per_peer != 0 && !asps_.find(assoc)) {
    // The peer's share of associations (a host with its address could open
    // any number): the oldest idle one makes room, else the newcomer waits.
    std::size_t held = 0;
    std::optional<AssocId> idle;
    for (const auto& [id, asp] : asps_) {
      if (asp.peer != peer) continue;
      ++held;
      if (!asp.up && !idle) idle = id;  // ids grow: the first is the oldest
    }
    if (held >= cfg_.max_associations_per_peer) {
      if (!idle) {
        ++refused_;
        out.push_back(AssociationRefused{assoc, AssociationRefused::Why::peer_full});
        return out;
      }
      ++evicted_;
      out = association_down(*idle, now);
      out.push_back(AssociationRefused{*idle, AssociationRefused::Why::evicted});
    }
  }
  Actions more = up(assoc, peer, outbound_streams, now);
  out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  return out;
}

std::optional<PeerId> SgpNode::peer_of(AssocId assoc) const {
  const Asp* asp = asps_.find(assoc);
  return asp ? asp->peer : std::nullopt;
}

Actions SgpNode::up(AssocId assoc, std::optional<PeerId> peer, std::uint16_t outbound_streams, TimePoint now) {
  Actions out;
  auto [asp, fresh] = asps_.add(assoc, outbound_streams, cfg_.t_beat, peer);
  if (!fresh) asp_down(*asp, true, now, out);  // SCTP restart: the ASP is DOWN again
  asp->beat.start(now);
  sync_beat(*asp);
  return out;
}

Actions SgpNode::association_down(AssocId assoc, TimePoint now) {
  Actions out;
  Asp* asp = asps_.find(assoc);
  if (!asp) return out;
  asp->beat.stop();
  sync_beat(*asp);
  asp_down(*asp, true, now, out);
  asps_.remove(assoc);
  return out;
}

void SgpNode::seen(AssocId assoc, TimePoint now) {
  if (Asp* asp = asps_.find(assoc)) asp->beat.seen(now);
}

void SgpNode::on_timeout(TimePoint now, Actions& out) {
  while (auto key = timers_.take_due(now)) {
    if (key->kind == TimerKind::Tbeat) {
      if (Asp* asp = asps_.find(key->id)) {
        asp->beat.expired(now, out);
        sync_beat(*asp);
      }
    } else if (key->kind == TimerKind::Tr) {
      if (ApplicationServer* as = find_as(key->id)) {
        auto ctx = context(now, out);
        as->recovery_expired(ctx);
      }
    }
  }
}

void SgpNode::receive(AssocId assoc, std::uint16_t stream, ByteView bytes, TimePoint now, Actions& out) {
  Asp* asp = asps_.find(assoc);
  if (!asp) {
    drop(assoc, DropReason::UnknownAssociation, out);
    return;
  }
  asp->beat.seen(now);
  auto hdr = decode_header(bytes, cfg_.limits);
  if (hdr && hdr->msg_class == static_cast<std::uint8_t>(MessageClass::Transfer)) {
    auto d = decode_data(bytes, *hdr);  // the header read once
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

bool SgpNode::receive_data_now(AssocId assoc, std::uint16_t stream, ByteView bytes, TimePoint now,
                               DataIndication& indication) {
  Asp* asp = asps_.find(assoc);
  if (!asp) return false;
  DataView d;
  if (!decode_data_now(bytes, cfg_.limits, d)) return false;  // what receive() decodes as a DATA, and only that
  const DataVerdict v = data_verdict(*asp, d, stream);
  if (!v.accepted) return false;
  // What receive() and handle_data() do on this path, and nothing else.
  asp->beat.seen(now);
  indication.assoc = assoc;
  indication.routing_context = v.routing_context;
  take_owned(d, indication.data);  // the received frame when the driver lent it
  return true;
}

// DATA from an ASP (RFC 4666 3.3.1, 4.3.4.3): on a non-zero stream, from an
// ASP that is up and ACTIVE in the AS the RC names (or in exactly one AS
// when the RC is absent), with the AS's Network Appearance if it has one,
// and an originating point code its peer may use. The first test that
// fails names the refusal.
DataVerdict SgpNode::data_verdict(const Asp& asp, const DataView& d, std::uint16_t stream) const {
  using R = DataRefusal;
  if (stream == 0)
    return DataVerdict::refuse(R::because(DropReason::InvalidStream, ErrorCode::InvalidStreamIdentifier));
  if (!asp.up) return DataVerdict::refuse(R::because(DropReason::BeforeAspUp, ErrorCode::UnexpectedMessage));
  const ApplicationServer* as = nullptr;
  if (d.routing_context) {
    as = find_as(*d.routing_context);
    if (!as || !as->allows(asp))
      return DataVerdict::refuse(R::because(DropReason::NotActive, ErrorCode::InvalidRoutingContext).naming_rc());
  } else {
    std::size_t n = 0;
    for (const auto& [rc, a] : as_)
      if (a.is_active(asp.assoc)) {
        as = &a;
        ++n;
      }
    // RC is required when the association carries several ASes.
    if (n > 1) return DataVerdict::refuse(R::because(DropReason::NotActive, ErrorCode::MissingParameter));
  }
  if (!as || !as->is_active(asp.assoc)) {
    // RFC 4666 4.3.4.3: ERR Unexpected Message (with the RC) or silent drop.
    const auto err = cfg_.err_on_unexpected_data ? std::optional(ErrorCode::UnexpectedMessage) : std::nullopt;
    return DataVerdict::refuse(R::because(DropReason::NotActive, err).naming_rc());
  }
  const auto& na = as->config().network_appearance;
  if (na && d.network_appearance && *d.network_appearance != *na)
    return DataVerdict::refuse(R::because(DropReason::NotActive, ErrorCode::InvalidNetworkAppearance).naming_na());
  // Per-peer OPC screening: a peer may originate only its configured point
  // codes; anything else is dropped and counted, without an ERR that
  // would tell the sender what passes.
  if (asp.peer && !peers_.permits_opc(*asp.peer, d.protocol_data.opc))
    return DataVerdict::refuse(R::because(DropReason::OpcScreened));
  return DataVerdict::deliver(as->routing_context());
}

// The verdict as actions: the indication, or the refusal's ERR and drop.
void SgpNode::handle_data(AssocId assoc, const DataView& d, std::uint16_t stream, ByteView raw, TimePoint now,
                          Actions& out) {
  (void)now;
  Asp* asp = asps_.find(assoc);
  if (!asp) {
    drop(assoc, DropReason::UnknownAssociation, out);
    return;
  }
  const DataVerdict v = data_verdict(*asp, d, stream);
  if (v.accepted) {
    // Last use of d: the indication takes the received frame when the
    // driver lent it (frame_loan.hpp), instead of a copy of the user part.
    out.push_back(DataIndication{assoc, v.routing_context, take_owned(d)});
    return;
  }
  if (v.refusal.err) send_err(assoc, refusal_err(v.refusal, d, raw), out);
  drop(assoc, v.refusal.drop, out);
  // RFC 4666 4.3.4.1/4.3.4.3: no conforming ASP sends DATA before its ASP
  // Up (and ASP Active) are acknowledged; one that does holds a stale ASP
  // state and would go on sending into refusals. Reset it (once).
  if (v.refusal.drop == DropReason::BeforeAspUp && cfg_.reset_on_data_before_asp_up && !asp->reset_requested) {
    asp->reset_requested = true;
    ++stale_asp_resets_;
    out.push_back(AssociationRefused{assoc, AssociationRefused::Why::data_before_asp_up});
  }
}

void SgpNode::handle(AssocId assoc, const Message& m, std::uint16_t stream, ByteView raw, TimePoint now,
                     Actions& out) {
  Asp* asp = asps_.find(assoc);
  if (!asp) {
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
  if (!asp->up && id.msg_class != 3 && id.msg_class != 0) {
    send_err(assoc, make_err(ErrorCode::UnexpectedMessage, raw), out);
    drop(assoc, DropReason::BeforeAspUp, out);
    return;
  }
  std::visit(
      [&](const auto& msg) {
        using T = std::decay_t<decltype(msg)>;
        if constexpr (std::is_same_v<T, AspUp>) {
          on_aspup(*asp, msg, raw, now, out);
        } else if constexpr (std::is_same_v<T, AspDn>) {
          on_aspdn(*asp, now, out);
        } else if constexpr (std::is_same_v<T, Beat>) {
          out.push_back(Send{assoc, stream, Message{beat_ack_for(msg)}});
        } else if constexpr (std::is_same_v<T, BeatAck>) {
        } else if constexpr (std::is_same_v<T, AspAc>) {
          on_aspac(*asp, msg, now, out);
        } else if constexpr (std::is_same_v<T, AspIa>) {
          on_aspia(*asp, msg, now, out);
        } else if constexpr (std::is_same_v<T, RegReq>) {
          on_reg_req(*asp, msg, now, out);
        } else if constexpr (std::is_same_v<T, DeregReq>) {
          on_dereg_req(*asp, msg, now, out);
        } else if constexpr (std::is_same_v<T, Daud>) {
          ssnm_.on_daud(assoc, msg, cfg_, errs_, out);
        } else if constexpr (std::is_same_v<T, Duna> || std::is_same_v<T, Dava> || std::is_same_v<T, Scon> ||
                             std::is_same_v<T, Dupu> || std::is_same_v<T, Drst>) {
          // From an ASP (SCON: congestion towards it) or an IPSP peer.
          ssnm_.destinations().apply(m, assoc, out);
        } else if constexpr (std::is_same_v<T, Err>) {
          errs_.count_received(msg.code);
          out.push_back(ErrIndication{assoc, msg});
        } else if constexpr (std::is_same_v<T, Ntfy>) {
          out.push_back(NtfyIndication{assoc, msg});
        } else {
          // ACKs and responses: the SGP sends no requests.
          if (!asp->up && id.msg_class == 3) {
            drop(assoc, DropReason::BeforeAspUp, out);
            return;
          }
          send_err(assoc, make_err(ErrorCode::UnexpectedMessage, raw), out);
          drop(assoc, DropReason::UnexpectedMessage, out);
        }
      },
      m);
}

// ---------------------------------------------------------------- ASPSM (RFC 4666 4.3.4.1, 4.3.4.2)

void SgpNode::on_aspup(Asp& asp, const AspUp& m, ByteView raw, TimePoint now, Actions& out) {
  if (auto refusal = asps_.refuse_aspup(asp, m, cfg_)) {
    send_err(asp.assoc, make_err(*refusal, {}), out);
    return;
  }
  // The ACK goes out even when the ASP is already up (RFC 4666 4.3.4.1).
  out.push_back(Send{asp.assoc, 0, Message{AspUpAck{cfg_.asp_id, std::nullopt}}});
  if (!asp.up) {
    asp.up = true;
    asp.asp_id = m.asp_id;
    out.push_back(AspStateChanged{asp.assoc, std::nullopt, AspState::Down, AspState::Inactive});
    auto ctx = context(now, out);
    for (auto& [rc, as] : as_) {
      if (!as.allows(asp)) continue;
      // DN2IA notifies every member; otherwise tell the newcomer the current state.
      if (!as.update(ctx) && as.state() != AsState::Down) as.notify(asp.assoc, as.state_status(), std::nullopt, out);
    }
    return;
  }
  if (!active_anywhere(asp.assoc)) return;
  // ASPUP from an ACTIVE ASP: ERR Unexpected Message, the ASP goes INACTIVE in
  // every AS and its registrations count as withdrawn.
  send_err(asp.assoc, make_err(ErrorCode::UnexpectedMessage, raw), out);
  auto ctx = context(now, out);
  for (auto& [rc, as] : as_) as.deactivate(asp, false, ctx);
  out.push_back(AspStateChanged{asp.assoc, std::nullopt, AspState::Active, AspState::Inactive});
  withdraw_registrations(asp, now, out);
}

void SgpNode::on_aspdn(Asp& asp, TimePoint now, Actions& out) {
  // ACKed even when the ASP is already DOWN.
  out.push_back(Send{asp.assoc, 0, Message{AspDnAck{}}});
  asp_down(asp, true, now, out);
}

// ---------------------------------------------------------------- ASPTM (RFC 4666 4.3.4.3, 4.3.4.4)

void SgpNode::on_aspac(Asp& asp, const AspAc& m, TimePoint now, Actions& out) {
  std::vector<ApplicationServer*> targets;
  std::vector<std::uint32_t> accepted;
  auto mode_ok = [&](const ApplicationServer& as) { return as.accepts_mode(m.traffic_mode); };
  const bool blocked = asp.asp_id && std::find(cfg_.blocked_asp_ids.begin(), cfg_.blocked_asp_ids.end(),
                                               *asp.asp_id) != cfg_.blocked_asp_ids.end();
  auto refuse = [&](ErrorCode code, std::uint32_t rc) {
    Err e = make_err(code, {});
    e.routing_contexts.push_back(rc);
    send_err(asp.assoc, std::move(e), out);
  };
  if (!m.routing_contexts.empty()) {
    for (auto rc : m.routing_contexts) {
      ApplicationServer* as = find_as(rc);
      // RFC 4666 3.8.1: a Routing Context not configured (for this ASP) is
      // an Invalid Routing Context, named in the ERR.
      if (!as || !as->allows(asp)) {
        refuse(ErrorCode::InvalidRoutingContext, rc);
      } else if (blocked) {
        refuse(ErrorCode::RefusedManagementBlocking, rc);
      } else if (!mode_ok(*as)) {
        refuse(ErrorCode::UnsupportedTrafficModeType, rc);
      } else {
        targets.push_back(as);
        accepted.push_back(rc);
      }
    }
  } else {
    for (auto& [rc, as] : as_)
      if (as.allows(asp)) targets.push_back(&as);
    if (targets.empty()) {
      // RFC 4666 3.8.1: no RC and no AS known for this ASP by configuration.
      send_err(asp.assoc, make_err(ErrorCode::NoConfiguredAsForAsp, {}), out);
      return;
    }
    if (cfg_.rc_required) {
      send_err(asp.assoc, make_err(ErrorCode::MissingParameter, {}), out);
      return;
    }
    for (ApplicationServer* as : targets)
      if (!mode_ok(*as)) {
        refuse(ErrorCode::UnsupportedTrafficModeType, as->routing_context());
        return;
      }
  }
  if (targets.empty()) return;
  // The ACK names the mode in force: the one asked for, or, when the ASPAC
  // left it to us, the AS's (one AS) so a following ASP learns it.
  std::optional<TrafficMode> ack_mode = m.traffic_mode;
  if (!ack_mode && targets.size() == 1) ack_mode = targets.front()->mode();
  out.push_back(Send{asp.assoc, 0, Message{AspAcAck{ack_mode, accepted, std::nullopt}}});
  const bool was_active = active_anywhere(asp.assoc);
  auto ctx = context(now, out);
  for (ApplicationServer* as : targets) {
    const bool newly = !as->is_active(asp.assoc);
    if (m.traffic_mode && *m.traffic_mode != as->mode()) as->adopt_mode(*m.traffic_mode);
    if (auto displaced = as->activate(asp, ctx); displaced && !active_anywhere(*displaced))
      out.push_back(AspStateChanged{*displaced, std::nullopt, AspState::Active, AspState::Inactive});
    // RFC 4666 4.5.1: what the SG knows to be unavailable or restricted,
    // told to the ASP once it can hear SSNM (after the ACK).
    if (newly) ssnm_.tell_newly_active(asp.assoc, as->routing_context(), out);
  }
  if (!was_active && active_anywhere(asp.assoc))
    out.push_back(AspStateChanged{asp.assoc, std::nullopt, AspState::Inactive, AspState::Active});
}

void SgpNode::on_aspia(Asp& asp, const AspIa& m, TimePoint now, Actions& out) {
  std::vector<ApplicationServer*> targets;
  std::vector<std::uint32_t> accepted;
  if (!m.routing_contexts.empty()) {
    for (auto rc : m.routing_contexts) {
      ApplicationServer* as = find_as(rc);
      if (!as || !as->allows(asp)) {
        Err e = make_err(ErrorCode::InvalidRoutingContext, {});
        e.routing_contexts.push_back(rc);
        send_err(asp.assoc, std::move(e), out);
      } else {
        targets.push_back(as);
        accepted.push_back(rc);
      }
    }
    if (targets.empty()) return;
  } else {
    for (auto& [rc, as] : as_)
      if (as.allows(asp)) targets.push_back(&as);
    if (targets.empty()) {
      send_err(asp.assoc, make_err(ErrorCode::NoConfiguredAsForAsp, {}), out);
      return;
    }
  }
  out.push_back(Send{asp.assoc, 0, Message{AspIaAck{accepted, std::nullopt}}});
  const bool was_active = active_anywhere(asp.assoc);
  auto ctx = context(now, out);
  for (ApplicationServer* as : targets) as->deactivate(asp, false, ctx);
  if (was_active && !active_anywhere(asp.assoc))
    out.push_back(AspStateChanged{asp.assoc, std::nullopt, AspState::Active, AspState::Inactive});
}

// ---------------------------------------------------------------- SSNM (RFC 4666 4.5)

Actions SgpNode::announce(MaskedPointCode pc, DestinationAvailability a, TimePoint now) {
  (void)now;
  Actions out;
  ssnm_.announce(pc, a, asps_, as_, out);
  return out;
}

Actions SgpNode::announce_congestion(PointCode pc, std::uint8_t level, TimePoint now) {
  (void)now;
  Actions out;
  ssnm_.announce_congestion(pc, level, asps_, as_, out);
  return out;
}

Actions SgpNode::announce_user_unavailable(PointCode pc, UserCause uc, TimePoint now) {
  (void)now;
  Actions out;
  ssnm_.announce_user_unavailable(pc, uc, asps_, as_, out);
  return out;
}

// ---------------------------------------------------------------- RKM (RFC 4666 4.4)

void SgpNode::on_reg_req(Asp& asp, const RegReq& m, TimePoint now, Actions& out) {
  RegRsp rsp;
  Actions indications;
  for (const auto& k : m.routing_keys) rsp.results.push_back(rkm_.register_key(asp, k, as_, cfg_, indications));
  out.push_back(Send{asp.assoc, 0, Message{rsp}});
  out.insert(out.end(), std::make_move_iterator(indications.begin()), std::make_move_iterator(indications.end()));
  // A newly registered AS has this ASP as an INACTIVE member now (DN2IA).
  auto ctx = context(now, out);
  for (const auto& r : rsp.results)
    if (r.status == RegistrationStatus::Success)
      if (ApplicationServer* as = find_as(r.routing_context)) as->update(ctx);
}

void SgpNode::on_dereg_req(Asp& asp, const DeregReq& m, TimePoint now, Actions& out) {
  DeregRsp rsp;
  std::vector<std::uint32_t> gone;
  std::vector<std::uint32_t> changed;
  for (auto rc : m.routing_contexts) {
    const auto status = rkm_.deregister(asp, rc, as_);
    if (status == DeregistrationStatus::Success) {
      const ApplicationServer* as = find_as(rc);
      (as->dynamic() && !as->has_registrants() ? gone : changed).push_back(rc);
    }
    rsp.results.push_back(DeregistrationResult{rc, status});
  }
  out.push_back(Send{asp.assoc, 0, Message{rsp}});
  for (const auto& r : rsp.results) out.push_back(DeregistrationIndication{asp.assoc, r});
  for (auto rc : gone) remove_as(rc, now, out);
  auto ctx = context(now, out);
  for (auto rc : changed)
    if (ApplicationServer* as = find_as(rc)) as->update(ctx);
}

// ---------------------------------------------------------------- introspection

AspState SgpNode::asp_state(AssocId assoc, std::optional<std::uint32_t> rc) const {
  const Asp* asp = asps_.find(assoc);
  if (!asp || !asp->up) return AspState::Down;
  if (rc) {
    const ApplicationServer* as = find_as(*rc);
    return as && as->is_active(assoc) ? AspState::Active : AspState::Inactive;
  }
  return active_anywhere(assoc) ? AspState::Active : AspState::Inactive;
}

std::optional<AsState> SgpNode::as_state(std::uint32_t rc) const {
  const ApplicationServer* as = find_as(rc);
  if (!as) return std::nullopt;
  return as->state();
}

std::vector<AssocId> SgpNode::active_asps(std::uint32_t rc) const {
  const ApplicationServer* as = find_as(rc);
  return as ? as->active() : std::vector<AssocId>{};
}

std::size_t SgpNode::queued(std::uint32_t rc) const {
  const ApplicationServer* as = find_as(rc);
  return as ? as->queued() : 0;
}

const ApplicationServer* SgpNode::application_server(std::uint32_t rc) const { return find_as(rc); }

}  // namespace mxua
