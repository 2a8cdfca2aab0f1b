// The registrar façade: routes events to the ASAP server, ENRP peering and
// takeover entities, handles what is due first, and hands the event's
// actions back.
#include "registrar/registrar.hpp"

#include <algorithm>
#include <utility>

namespace rserpool::registrar {

namespace asap = wire::asap;
namespace enrp = wire::enrp;

std::string_view to_string(TimerKind k) noexcept {
  switch (k) {
    case TimerKind::lifetime_expiry: return "lifetime-expiry";
    case TimerKind::keep_alive: return "keep-alive";
    case TimerKind::peer_heartbeat: return "peer-heartbeat";
    case TimerKind::peer_monitor: return "peer-monitor";
    case TimerKind::table_request: return "table-request";
    case TimerKind::takeover: return "takeover";
    case TimerKind::orphan_check: return "orphan-check";
  }
  return "?";
}

std::string_view to_string(Event e) noexcept {
  switch (e) {
    case Event::pe_registered: return "pe-registered";
    case Event::pe_reregistered: return "pe-reregistered";
    case Event::pe_deregistered: return "pe-deregistered";
    case Event::pe_expired: return "pe-expired";
    case Event::pe_keep_alive_timeout: return "pe-keep-alive-timeout";
    case Event::pe_unreachable_removed: return "pe-unreachable-removed";
    case Event::pe_association_lost: return "pe-association-lost";
    case Event::peer_up: return "peer-up";
    case Event::peer_dead: return "peer-dead";
    case Event::takeover_started: return "takeover-started";
    case Event::takeover_won: return "takeover-won";
    case Event::takeover_aborted: return "takeover-aborted";
    case Event::taken_over_by_peer: return "taken-over-by-peer";
    case Event::resync_started: return "resync-started";
    case Event::resync_done: return "resync-done";
    case Event::pe_reported_but_answering: return "pe-reported-but-answering";
    case Event::pe_identity_conflict: return "pe-identity-conflict";
    case Event::asap_association_refused_per_address: return "asap-association-refused-per-address";
    case Event::asap_association_refused_full: return "asap-association-refused-full";
    case Event::asap_association_evicted: return "asap-association-evicted";
    case Event::asap_message_malformed: return "asap-message-malformed";
    case Event::enrp_message_malformed: return "enrp-message-malformed";
  }
  return "?";
}

void encode_into(const AsapOut& m, Bytes& out) {
  if (const auto* r = std::get_if<ResolutionAnswer>(&m)) {
    asap::encode_resolution_response(out, r->accepted, r->pool_handle, r->overall_policy, r->pool_elements.view());
    return;
  }
  if (const auto* r = std::get_if<RegistrationAnswer>(&m)) {
    asap::encode_registration_response(out, r->pool_handle, r->pe_id);
    return;
  }
  asap::encode_into(std::get<asap::Message>(m), out);
}

Bytes encode(const AsapOut& m) {
  Bytes out;
  encode_into(m, out);
  return out;
}

// The entities reference each other and the shared state: they live
// together, behind one pointer, so the façade moves as a whole.
struct Registrar::Parts {
  explicit Parts(RegistrarConfig config)
      : shared(std::move(config)), asap(shared, peering), peering(shared, asap), takeover(shared, peering, asap) {
    peering.set_takeover(takeover);
  }
  CoreShared shared;
  AsapServer asap;
  EnrpPeering peering;
  Takeover takeover;
  // The earliest deadline as the last event left it: the state changes
  // only inside events, so the driver's re-arm after an event and the next
  // event's "anything due?" read it instead of asking the three entities
  // again (issue 16: twice per message otherwise).
  std::optional<TimePoint> deadline;
  bool deadline_known = false;
  // `deadline` was known when the event began and begin_event() handled
  // nothing due: an event that changes no deadline leaves it as it is.
  bool deadline_kept = false;

  std::optional<TimePoint> compute_deadline() const {
    std::optional<TimePoint> best;
    for (auto d : {asap.next_deadline(), peering.next_deadline(), takeover.next_deadline()}) {
      if (d && (!best || *d < *best)) best = d;
    }
    return best;
  }
};

Registrar::Registrar(RegistrarConfig config) : p_(std::make_unique<Parts>(std::move(config))) {}
Registrar::Registrar(Registrar&&) noexcept = default;
Registrar& Registrar::operator=(Registrar&&) noexcept = default;
Registrar::~Registrar() = default;

void Registrar::begin_event(TimePoint now) {
  p_->shared.out.reserve(4);  // one allocation for a typical event's actions
  p_->deadline_kept = p_->deadline_known;
  // What is due first: a late timer must not reorder protocol decisions.
  // Handling one entity's expiry may make another's due (a dead peer starts
  // a takeover that completes at once); each round consumes what it handles.
  for (int round = 0; round < 4; ++round) {
    const auto d = next_deadline();
    p_->deadline_known = false;  // the event is about to change the state
    if (!d || *d > now) break;
    p_->deadline_kept = false;
    p_->asap.on_timeout(now);
    p_->peering.on_timeout(now);
    p_->takeover.on_timeout(now);
    p_->asap.settle_agenda();  // the next round reads the deadlines
  }
}

std::vector<Action> Registrar::finish(bool deadlines_unchanged) {
  p_->asap.flush_subscriptions();
  p_->asap.settle_agenda();
  // A resolution neither adds nor removes a PE, an audit or a peer timer,
  // and the agenda was settled at the end of the previous event: the three
  // entities would be asked for the same deadline again (issue 16: about
  // 80 instructions per resolution).
  if (!deadlines_unchanged || !p_->deadline_kept) p_->deadline = p_->compute_deadline();
  p_->deadline_known = true;
  return std::exchange(p_->shared.out, {});
}

void Registrar::recycle(std::vector<Action>&& spent) noexcept {
  auto& out = p_->shared.out;
  if (!out.empty() || out.capacity() >= spent.capacity()) return;
  spent.clear();
  out.swap(spent);
}

std::vector<Action> Registrar::start(TimePoint now) {
  begin_event(now);
  p_->peering.start(now);
  return finish();
}

std::vector<Action> Registrar::start_mentor_download(ServerIdentifier mentor, TimePoint now) {
  begin_event(now);
  p_->peering.start_mentor_download(mentor, now);
  return finish();
}

std::vector<Action> Registrar::on_asap_association_accepted(AssociationId id, TimePoint now) {
  begin_event(now);
  if (!p_->asap.on_association_accepted(id, now)) p_->shared.out.push_back(AbortAsap{id});
  return finish();
}

std::vector<Action> Registrar::on_asap_association_up(AssociationId id, std::vector<IpAddress> peer_addresses,
                                                      std::uint16_t peer_port, TimePoint now) {
  begin_event(now);
  p_->asap.on_association_up(id, std::move(peer_addresses), peer_port, now);
  return finish();
}

std::vector<Action> Registrar::on_asap_association_down(AssociationId id, TimePoint now) {
  begin_event(now);
  p_->asap.on_association_down(id, now);
  return finish();
}

std::vector<Action> Registrar::on_asap_message(AssociationId id, ByteView message, TimePoint now) {
  begin_event(now);
  auto& s = p_->shared;
  // The common request decoded into views: no PoolHandle, no Message.
  // Anything but its plain form takes the full decoder below.
  if (auto view = asap::decode_handle_resolution_view(message)) {
    if (!p_->asap.on_handle_resolution(id, *view, now)) ++s.counters.asap_unknown_association;
    return finish(true);
  }
  // Likewise a plain REGISTRATION: its PE parameter is decoded straight
  // into the value the handlespace keeps.
  // Decoded into the ASAP server's scratch view, whose address list reuses
  // a removed PE's storage.
  if (auto& view = p_->asap.registration_scratch(); asap::decode_registration_view(message, view)) {
    if (!p_->asap.on_registration(id, std::move(view), now)) ++s.counters.asap_unknown_association;
    return finish();
  }
  auto decoded = asap::decode(message);
  if (!decoded) {
    // Not announced, or refused at admission (its abort is on its way):
    // nothing it sends is acted on, not even with an error.
    if (!p_->asap.has_association(id)) {
      ++s.counters.asap_unknown_association;
      return finish();
    }
    const auto& err = decoded.error();
    ++s.counters.asap_decode_errors[err.cause ? static_cast<std::size_t>(*err.cause) % 11 : 11];
    s.notify(Event::asap_message_malformed, {}, 0, 0, id);
    if (auto reply = asap::error_reply(err)) s.send_asap(id, asap::Message{std::move(*reply)});
    return finish();
  }
  auto report = asap::error_reply(decoded.value());
  const auto answered_at = s.out.size();
  if (!p_->asap.on_message(id, std::move(decoded.value().message), now)) {
    ++s.counters.asap_unknown_association;
    return finish();
  }
  // "Skip and report" parameters: reported before the message's answer.
  if (report) {
    s.out.insert(s.out.begin() + static_cast<std::ptrdiff_t>(answered_at), SendAsap{id, asap::Message{std::move(*report)}});
  }
  return finish();
}

bool Registrar::answer_plain_resolution(AssociationId id, ByteView message, TimePoint now, Bytes& answer) {
  // Something due would be handled first, with actions of its own; and the
  // deadline must be the one the last event left.
  if (!p_->deadline_known || (p_->deadline && *p_->deadline <= now)) return false;
  const auto view = asap::decode_handle_resolution_view(message);
  return view && p_->asap.answer_resolution(id, *view, now, answer);
}

std::vector<Action> Registrar::on_enrp_message(ByteView message, TimePoint now, ServerIdentifier from, EnrpRole role) {
  return on_enrp_message(enrp::decode(message), now, from, role);
}

std::vector<Action> Registrar::on_enrp_message(EnrpDecodeResult&& decoded, TimePoint now, ServerIdentifier from,
                                               EnrpRole role) {
  begin_event(now);
  auto& s = p_->shared;
  if (!decoded) {
    const auto& err = decoded.error();
    ++s.counters.enrp_decode_errors[err.cause ? static_cast<std::size_t>(*err.cause) % 11 : 11];
    s.notify(Event::enrp_message_malformed, {}, 0, from);
    if (from != 0) {
      if (auto reply = enrp::error_reply(err, s.self(), from)) s.send_enrp(from, std::move(*reply));
    }
    return finish();
  }
  auto& m = decoded.value().message;
  const ServerIdentifier sender = enrp::sender_id(m);
  if (auto report = enrp::error_reply(decoded.value(), s.self())) {
    if (sender != 0 && sender != s.self()) {
      report->receiver_id = sender;
      s.send_enrp(sender, std::move(*report));
    }
  }
  if (role == EnrpRole::monitor) {
    p_->peering.on_monitor_message(m, now);
    return finish();
  }
  if (!p_->peering.admit(m, now)) return finish();
  if (const auto* t = std::get_if<enrp::InitTakeover>(&m)) {
    p_->takeover.on_init_takeover(*t, now);
  } else if (const auto* a = std::get_if<enrp::InitTakeoverAck>(&m)) {
    p_->takeover.on_init_takeover_ack(*a, now);
  } else if (const auto* ts = std::get_if<enrp::TakeoverServer>(&m)) {
    p_->takeover.on_takeover_server(*ts, now);
  } else {
    p_->peering.on_message(std::move(m), now);
  }
  return finish();
}

std::optional<TimePoint> Registrar::next_deadline() const {
  return p_->deadline_known ? p_->deadline : p_->compute_deadline();
}

std::vector<Action> Registrar::on_timeout(TimePoint now) {
  begin_event(now);
  return finish();
}

enrp::Presence Registrar::presence(ServerIdentifier receiver, bool reply_required) const {
  return p_->peering.presence(receiver, reply_required);
}

ServerIdentifier Registrar::id() const noexcept { return p_->shared.self(); }
const RegistrarConfig& Registrar::config() const noexcept { return p_->shared.config; }
const core::Handlespace& Registrar::handlespace() const noexcept { return p_->shared.handlespace; }
const Counters& Registrar::counters() const noexcept { return p_->shared.counters; }
std::vector<ServerIdentifier> Registrar::active_peers() const { return p_->peering.active_peer_ids(); }
bool Registrar::peer_active(ServerIdentifier peer) const { return p_->peering.peer_active(peer); }
bool Registrar::takeover_in_progress(ServerIdentifier target) const { return p_->takeover.in_progress(target); }
const MentorDownload& Registrar::mentor_download() const noexcept { return p_->peering.mentor_download(); }
const AsapServer& Registrar::asap_server() const noexcept { return p_->asap; }

std::optional<TimePoint> Registrar::deadline(const TimerKey& key) const {
  switch (key.kind) {
    case TimerKind::lifetime_expiry: return p_->shared.handlespace.next_expiry();
    case TimerKind::keep_alive: return p_->asap.keep_alive_deadline();
    case TimerKind::peer_heartbeat:
    case TimerKind::peer_monitor:
    case TimerKind::table_request: return p_->peering.deadline(key);
    case TimerKind::takeover:
    case TimerKind::orphan_check: return p_->takeover.deadline(key);
  }
  return std::nullopt;
}

}  // namespace rserpool::registrar
