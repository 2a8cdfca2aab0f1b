#include "mxua/fsm/asp_client.hpp"
#include "mxua/frame_loan.hpp"

#include <algorithm>

namespace mxua {
namespace {

constexpr MessageId kAspUpId{3, type::kAspUp};
constexpr MessageId kAspDnId{3, type::kAspDn};
constexpr MessageId kAspAcId{4, type::kAspAc};
constexpr MessageId kAspIaId{4, type::kAspIa};

std::vector<std::uint32_t> sorted(std::vector<std::uint32_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

AspClient::AspClient(AspClientConfig cfg)
    : cfg_(std::move(cfg)), beat_(cfg_.assoc, cfg_.t_beat), backoff_(cfg_.retry_initial) {}

std::optional<TrafficMode> AspClient::traffic_mode(std::optional<std::uint32_t> rc) const {
  auto it = modes_.find(rc);
  if (it == modes_.end()) it = modes_.find(std::nullopt);  // activated without RC: every AS
  return it == modes_.end() ? std::nullopt : it->second;
}

void AspClient::set_association(AssocId assoc) noexcept {
  cfg_.assoc = assoc;
  beat_.rebind(assoc);
  timers_.clear();
}

void AspClient::sync_beat() {
  if (auto due = beat_.due())
    timers_.arm(beat_.timer(), *due);
  else
    timers_.cancel(beat_.timer());
}

AspState AspClient::state() const noexcept {
  if (!up_) return AspState::Down;
  return active_.empty() ? AspState::Inactive : AspState::Active;
}

bool AspClient::active_for(std::optional<std::uint32_t> rc) const {
  // The common case, one activation (a gateway controller link, an STP
  // connection): no tree search per DATA (issue 16).
  if (active_.size() == 1) {
    const auto& only = *active_.begin();
    return !only || only == rc;
  }
  if (active_.count(rc) != 0) return true;
  // Activated without RC: the SGP decides the ASes, so any RC is accepted.
  return active_.count(std::nullopt) != 0;
}

void AspClient::drop(DropReason r, Actions& out) {
  drops_.add(r);
  out.push_back(Drop{cfg_.assoc, r, 1});
}

void AspClient::send_err(Err e, Actions& out) {
  errs_.count_sent(e.code);
  out.push_back(Send{cfg_.assoc, 0, Message{std::move(e)}});
}

Actions AspClient::association_up(TimePoint now, std::optional<std::uint16_t> outbound_streams) {
  Actions out;
  now_ = now;
  if (outbound_streams) cfg_.outbound_streams = *outbound_streams;
  queue_.clear();
  deferred_.clear();
  backoff_ = cfg_.retry_initial;
  outstanding_ = false;
  up_ = false;
  active_.clear();
  modes_.clear();
  timers_.clear();
  beat_.start(now);
  sync_beat();
  // The ASP always starts with ASPUP (RFC 4666 4.3.4.1).
  enqueue(kAspUpId, Message{AspUp{cfg_.asp_id, std::nullopt}}, {}, std::nullopt, out);
  return out;
}

Actions AspClient::association_down(TimePoint now) {
  now_ = now;
  Actions out;
  beat_.stop();
  timers_.clear();
  queue_.clear();
  deferred_.clear();
  outstanding_ = false;
  restore_.clear();
  go_down(out);
  return out;
}

void AspClient::go_down(Actions& out) {
  const auto before = state();
  for (const auto& rc : active_) out.push_back(AspStateChanged{cfg_.assoc, rc, AspState::Active, AspState::Down});
  active_.clear();
  up_ = false;
  if (before != AspState::Down) out.push_back(AspStateChanged{cfg_.assoc, std::nullopt, before, AspState::Down});
}

void AspClient::set_active(std::optional<std::uint32_t> rc, bool active, Actions& out) {
  const bool was = active_.count(rc) != 0;
  if (was == active) return;
  const auto before = state();
  if (active) {
    active_.insert(rc);
  } else {
    active_.erase(rc);
    modes_.erase(rc);
  }
  out.push_back(AspStateChanged{cfg_.assoc, rc, active ? AspState::Inactive : AspState::Active,
                                active ? AspState::Active : AspState::Inactive});
  if (state() != before) out.push_back(AspStateChanged{cfg_.assoc, std::nullopt, before, state()});
}

void AspClient::enqueue(MessageId id, const Message& m, std::vector<std::uint32_t> rcs,
                        std::optional<TrafficMode> mode, Actions& out) {
  queue_.push_back(Request{id, m, std::move(rcs), mode, 0, mode});
  pump(out);
}

void AspClient::pump(Actions& out) {
  if (outstanding_ || queue_.empty()) return;
  auto& r = queue_.front();
  // ASPSM on stream 0; ASPTM may use any stream, stream 0 keeps it ordered
  // with the ASPSM that precedes it.
  r.sent = 1;
  outstanding_ = true;
  transmit(r, now_, out);
}

void AspClient::transmit(const Request& r, TimePoint now, Actions& out) {
  out.push_back(Send{cfg_.assoc, 0, r.message});
  timers_.arm(TimerKey{TimerKind::Tack, cfg_.assoc}, now + cfg_.t_ack);
}

bool AspClient::front_is(std::uint8_t cls, std::uint8_t t) const {
  return outstanding_ && !queue_.empty() && queue_.front().id == MessageId{cls, t};
}

void AspClient::complete_front(Actions& out) {
  timers_.cancel(TimerKey{TimerKind::Tack, cfg_.assoc});
  queue_.pop_front();
  outstanding_ = false;
  pump(out);
}

void AspClient::enqueue_activations(const std::vector<AspActivation>& acts, Actions& out) {
  for (const auto& a : acts)
    enqueue(kAspAcId, Message{AspAc{a.traffic_mode, a.routing_contexts, std::nullopt}}, a.routing_contexts,
            a.traffic_mode, out);
}

void AspClient::on_timeout(TimePoint now, Actions& out) {
  now_ = now;
  while (auto key = timers_.take_due(now)) {
    if (key->kind == TimerKind::Tbeat) {
      beat_.expired(now, out);
      sync_beat();
      continue;
    }
    if (key->kind == TimerKind::Retry) {
      retry_due(now, out);
      continue;
    }
    if (key->kind != TimerKind::Tack || !outstanding_ || queue_.empty()) continue;
    auto& r = queue_.front();
    if (r.sent > cfg_.max_retransmissions) {
      refused(std::nullopt, out);  // unanswered: tried again after the back-off
      continue;
    }
    ++r.sent;
    ++retransmissions_;
    transmit(r, now, out);
  }
}

// The outstanding request is refused (ERR) or unanswered: it leaves the
// queue; ASPUP and ASPAC come back after the back-off, which grows with
// each refusal.
void AspClient::refused(std::optional<ErrorCode> error, Actions& out) {
  Request r = std::move(queue_.front());
  queue_.pop_front();
  outstanding_ = false;
  timers_.cancel(TimerKey{TimerKind::Tack, cfg_.assoc});
  ++refusals_;
  RequestRefusal refusal{r.id, error, r.asked, r.rcs, now_, std::nullopt};
  if (r.id == kAspUpId || r.id == kAspAcId) {
    r.retry_at = now_ + backoff_;
    refusal.retry_at = r.retry_at;
    backoff_ = std::min<Duration>(backoff_ * 2, cfg_.retry_max);
    // The next attempt starts again from the configured mode.
    r.asked = r.mode;
    r.tried.clear();
    r.sent = 0;
    if (r.id == kAspAcId) r.message = Message{AspAc{r.mode, r.rcs, std::nullopt}};
    deferred_.push_back(std::move(r));
    arm_retry();
  }
  out.push_back(RequestFailed{cfg_.assoc, refusal.request, error, refusal.retry_at});
  last_refusal_ = std::move(refusal);
  pump(out);
}

// ERR Unsupported Traffic Mode Type for our ASPAC: when following the SGP,
// ask again at once with the next mode not refused yet; "no Traffic Mode
// Type" comes first, so the SGP applies the AS's own mode.
bool AspClient::follow_mode(Request& r, Actions& out) {
  if (!cfg_.follow_peer_mode || r.id != kAspAcId) return false;
  r.tried.push_back(r.asked);
  const std::optional<TrafficMode> candidates[] = {std::nullopt, TrafficMode::Override, TrafficMode::Loadshare,
                                                   TrafficMode::Broadcast};
  for (const auto& c : candidates) {
    if (std::find(r.tried.begin(), r.tried.end(), c) != r.tried.end()) continue;
    r.asked = c;
    r.message = Message{AspAc{c, r.rcs, std::nullopt}};
    r.sent = 1;
    ++mode_retries_;
    transmit(r, now_, out);
    return true;
  }
  return false;
}

void AspClient::arm_retry() {
  const TimerKey key{TimerKind::Retry, cfg_.assoc};
  if (deferred_.empty()) {
    timers_.cancel(key);
    return;
  }
  TimePoint first = deferred_.front().retry_at;
  for (const auto& r : deferred_) first = std::min(first, r.retry_at);
  timers_.arm(key, first);
}

void AspClient::retry_due(TimePoint now, Actions& out) {
  for (auto it = deferred_.begin(); it != deferred_.end();) {
    if (it->retry_at > now) {
      ++it;
      continue;
    }
    // An ASPAC waits for the ASP to be up; going up re-activates anyway.
    if (it->id != kAspAcId || up_) queue_.push_back(std::move(*it));
    it = deferred_.erase(it);
  }
  arm_retry();
  pump(out);
}

Actions AspClient::activate(AspActivation a, TimePoint now) {
  now_ = now;
  Actions out;
  if (!up_) {
    // Nothing but ASPUP before ASPUP ACK; remember it for after.
    cfg_.activations.push_back(std::move(a));
    return out;
  }
  enqueue_activations({a}, out);
  return out;
}

Actions AspClient::inactivate(std::vector<std::uint32_t> rcs, TimePoint now) {
  now_ = now;
  Actions out;
  if (up_) enqueue(kAspIaId, Message{AspIa{rcs, std::nullopt}}, rcs, std::nullopt, out);
  return out;
}

Actions AspClient::shutdown(TimePoint now) {
  now_ = now;
  Actions out;
  enqueue(kAspDnId, Message{AspDn{}}, {}, std::nullopt, out);
  return out;
}

Actions AspClient::register_keys(std::vector<RoutingKey> keys, TimePoint now) {
  now_ = now;
  Actions out;
  if (!up_ || keys.empty()) {
    drop(DropReason::BeforeAspUp, out);
    return out;
  }
  out.push_back(Send{cfg_.assoc, 0, Message{RegReq{std::move(keys)}}});
  return out;
}

Actions AspClient::deregister(std::vector<std::uint32_t> rcs, TimePoint now) {
  now_ = now;
  Actions out;
  if (!up_ || rcs.empty()) {
    drop(DropReason::BeforeAspUp, out);
    return out;
  }
  out.push_back(Send{cfg_.assoc, 0, Message{DeregReq{std::move(rcs)}}});
  return out;
}

Actions AspClient::send_ssnm(const Message& m, TimePoint now) {
  now_ = now;
  Actions out;
  if (!up_) {
    drop(DropReason::BeforeAspUp, out);
    return out;
  }
  out.push_back(Send{cfg_.assoc, 0, m});
  return out;
}

bool AspClient::send_data_now(const DataView& d, SendData& s) const {
  if (!active_for(d.routing_context)) return false;
  const auto stream = data_stream(d.protocol_data.sls, cfg_.outbound_streams);
  if (!stream) return false;
  s.assoc = cfg_.assoc;
  s.stream = *stream;
  s.data = d;
  s.owned.reset();
  if (cfg_.network_appearance && !d.network_appearance) s.data.network_appearance = cfg_.network_appearance;
  return true;
}

void AspClient::send_data(const DataView& d, Actions& out) {
  if (SendData s; send_data_now(d, s)) {
    out.push_back(std::move(s));
    return;
  }
  if (!active_for(d.routing_context)) {
    drop(DropReason::NotActive, out);
    return;
  }
  drop(DropReason::NoDataStream, out);  // active: send_data_now() found no DATA stream
}

void AspClient::receive(std::uint16_t stream, ByteView bytes, TimePoint now, Actions& out) {
  now_ = now;
  beat_.seen(now);
  auto hdr = decode_header(bytes, cfg_.limits);
  if (hdr && hdr->msg_class == static_cast<std::uint8_t>(MessageClass::Transfer)) {
    auto d = decode_data(bytes, *hdr);  // the header read once
    if (d) {
      handle_data(*d, stream, bytes, now, out);
      return;
    }
    if (auto e = make_error_reply(d.error())) send_err(std::move(*e), out);
    drop(DropReason::Malformed, out);
    return;
  }
  auto m = decode(bytes, cfg_.limits);
  if (!m) {
    if (auto e = make_error_reply(m.error())) send_err(std::move(*e), out);
    drop(DropReason::Malformed, out);
    return;
  }
  handle(*m, stream, bytes, now, out);
}

bool AspClient::receive_data_now(std::uint16_t stream, ByteView bytes, TimePoint now, DataIndication& indication) {
  DataView d;
  if (!decode_data_now(bytes, cfg_.limits, d)) return false;  // what receive() decodes as a DATA, and only that
  const DataVerdict v = data_verdict(d, stream);
  if (!v.accepted) return false;
  // What receive() and handle_data() do on this path, and nothing else.
  now_ = now;
  beat_.seen(now);
  indication.assoc = cfg_.assoc;
  indication.routing_context = v.routing_context;
  take_owned(d, indication.data);  // the received frame when the driver lent it
  return true;
}

// On a non-zero stream, while ACTIVE for the RC (or with an ASPAC
// outstanding: DATA may overtake its ACK on another stream), from an
// originating point code the peer may use. The first test that fails
// names the refusal.
DataVerdict AspClient::data_verdict(const DataView& d, std::uint16_t stream) const {
  using R = DataRefusal;
  if (stream == 0)
    return DataVerdict::refuse(R::because(DropReason::InvalidStream, ErrorCode::InvalidStreamIdentifier));
  if (!active_for(d.routing_context) && !front_is(4, type::kAspAc)) {
    const auto err = cfg_.err_on_unexpected_data ? std::optional(ErrorCode::UnexpectedMessage) : std::nullopt;
    return DataVerdict::refuse(R::because(DropReason::NotActive, err).naming_rc().unquoted());
  }
  if (!opc_permitted(cfg_.originating_point_codes, d.protocol_data.opc))
    return DataVerdict::refuse(R::because(DropReason::OpcScreened));  // counted, no ERR
  return DataVerdict::deliver(d.routing_context.value_or(0));
}

// The verdict as actions: the indication, or the refusal's ERR and drop.
void AspClient::handle_data(const DataView& d, std::uint16_t stream, ByteView raw, TimePoint now, Actions& out) {
  (void)now;
  const DataVerdict v = data_verdict(d, stream);
  if (v.accepted) {
    // Last use of d: the indication takes the received frame when the
    // driver lent it (frame_loan.hpp), instead of a copy of the user part.
    out.push_back(DataIndication{cfg_.assoc, v.routing_context, take_owned(d)});
    return;
  }
  if (v.refusal.err) send_err(refusal_err(v.refusal, d, raw), out);
  drop(v.refusal.drop, out);
}

void AspClient::handle(const Message& m, std::uint16_t stream, ByteView raw, TimePoint now, Actions& out) {
  now_ = now;
  const auto id = message_id(m);
  if (wants_stream_zero(id.msg_class, id.msg_type) && stream != 0) {
    if (!std::holds_alternative<Err>(m)) send_err(make_err(ErrorCode::InvalidStreamIdentifier, raw), out);
    drop(DropReason::InvalidStream, out);
    return;
  }
  if (const auto* dv = std::get_if<Data>(&m)) {
    handle_data(to_view(*dv), stream, raw, now, out);
    return;
  }
  // Before ASPUP ACK only the ASPSM answers, ERR, NTFY and BEAT count
  // (RFC 4666 4.3.4.1: the ASP discards anything else).
  const bool aspsm_or_mgmt = id.msg_class == 3 || id.msg_class == 0;
  if (!up_ && !aspsm_or_mgmt) {
    drop(DropReason::BeforeAspUp, out);
    return;
  }

  std::visit(
      [&](const auto& msg) {
        using T = std::decay_t<decltype(msg)>;
        if constexpr (std::is_same_v<T, AspUpAck>) {
          if (front_is(3, type::kAspUp)) {
            complete_front(out);
            backoff_ = cfg_.retry_initial;
            // The activations are sent afresh: refused ones need not wait.
            std::erase_if(deferred_, [](const Request& r) { return r.id == kAspAcId; });
            arm_retry();
            const auto before = state();
            up_ = true;
            if (before == AspState::Down)
              out.push_back(AspStateChanged{cfg_.assoc, std::nullopt, AspState::Down, AspState::Inactive});
            auto acts = restore_.empty() ? (cfg_.auto_activate ? cfg_.activations : std::vector<AspActivation>{})
                                         : std::exchange(restore_, {});
            enqueue_activations(acts, out);
            return;
          }
          // Unsolicited (RFC 4666 4.3.4.1): consider ourselves INACTIVE; if we
          // were not, report it and go back to where we were.
          const auto before = state();
          if (before == AspState::Inactive) return;
          std::vector<AspActivation> back;
          for (const auto& rc : active_)
            back.push_back(AspActivation{rc ? std::vector<std::uint32_t>{*rc} : std::vector<std::uint32_t>{},
                                         std::nullopt});
          for (const auto& rc : std::set<std::optional<std::uint32_t>>(active_)) set_active(rc, false, out);
          if (!up_) {
            up_ = true;
            out.push_back(AspStateChanged{cfg_.assoc, std::nullopt, AspState::Down, AspState::Inactive});
          }
          send_err(make_err(ErrorCode::UnexpectedMessage, raw), out);
          if (before == AspState::Down)
            enqueue(kAspDnId, Message{AspDn{}}, {}, std::nullopt, out);
          else
            enqueue_activations(back, out);
        } else if constexpr (std::is_same_v<T, AspDnAck>) {
          const bool solicited = front_is(3, type::kAspDn);
          const auto before = state();
          std::vector<AspActivation> back;
          for (const auto& rc : active_)
            back.push_back(AspActivation{rc ? std::vector<std::uint32_t>{*rc} : std::vector<std::uint32_t>{},
                                         std::nullopt});
          if (solicited) complete_front(out);
          go_down(out);
          // Unsolicited while up: return to the previous state.
          if (!solicited && before != AspState::Down) {
            restore_ = std::move(back);
            enqueue(kAspUpId, Message{AspUp{cfg_.asp_id, std::nullopt}}, {}, std::nullopt, out);
          }
        } else if constexpr (std::is_same_v<T, AspAcAck>) {
          if (!front_is(4, type::kAspAc)) {
            drop(DropReason::UnexpectedMessage, out);
            return;
          }
          const auto req_rcs = queue_.front().rcs;
          const std::optional<TrafficMode> mode = msg.traffic_mode ? msg.traffic_mode : queue_.front().asked;
          // The ACK must echo the requested RCs; ACK without RC for a request
          // without RC activates "all", tracked as nullopt.
          if (!req_rcs.empty() && sorted(msg.routing_contexts) != sorted(req_rcs) && !msg.routing_contexts.empty()) {
            drop(DropReason::UnexpectedMessage, out);
            return;
          }
          complete_front(out);
          backoff_ = cfg_.retry_initial;
          std::vector<std::optional<std::uint32_t>> now_active;
          if (req_rcs.empty()) {
            if (msg.routing_contexts.empty()) now_active.emplace_back(std::nullopt);
            for (auto rc : msg.routing_contexts) now_active.emplace_back(rc);
          } else {
            for (auto rc : req_rcs) now_active.emplace_back(rc);
          }
          for (const auto& rc : now_active) {
            set_active(rc, true, out);
            modes_[rc] = mode;
          }
        } else if constexpr (std::is_same_v<T, AspIaAck>) {
          const bool solicited = front_is(4, type::kAspIa);
          std::vector<std::optional<std::uint32_t>> which;
          if (msg.routing_contexts.empty())
            which.assign(active_.begin(), active_.end());
          else {
            // The AS without a Routing Context goes inactive with the first
            // one named, once (it was pushed after every RC, so an
            // unsolicited ASPIA ACK for n RCs queued n ASPACs for it).
            // "Active without RC" is read as "the set's first element is
            // nullopt" (nullopt sorts first), not as active_.count(nullopt):
            // g++ 12 with -fsanitize=address reports a false
            // -Wmaybe-uninitialized for the disengaged temporary's payload.
            const bool no_rc_active = !active_.empty() && !active_.begin()->has_value();
            for (auto rc : msg.routing_contexts) {
              which.emplace_back(rc);
              if (no_rc_active && which.size() == 1) which.emplace_back(std::nullopt);
            }
          }
          std::vector<AspActivation> back;
          for (const auto& rc : which)
            if (active_.count(rc))
              back.push_back(AspActivation{rc ? std::vector<std::uint32_t>{*rc} : std::vector<std::uint32_t>{},
                                           std::nullopt});
          if (solicited) complete_front(out);
          for (const auto& rc : which) set_active(rc, false, out);
          // Unsolicited ASPIA ACK (RFC 4666 4.3.4.4): recover if we were active.
          if (!solicited && cfg_.auto_activate) enqueue_activations(back, out);
        } else if constexpr (std::is_same_v<T, Ntfy>) {
          out.push_back(NtfyIndication{cfg_.assoc, msg});
          if (msg.status.type == StatusType::Other && msg.status.info == status_info::kAlternateAspActive) {
            // Override takeover: this ASP is now INACTIVE for those ASes.
            if (msg.routing_contexts.empty()) {
              for (const auto& rc : std::set<std::optional<std::uint32_t>>(active_)) set_active(rc, false, out);
            } else {
              for (auto rc : msg.routing_contexts) set_active(rc, false, out);
            }
          }
        } else if constexpr (std::is_same_v<T, Err>) {
          errs_.count_received(msg.code);
          out.push_back(ErrIndication{cfg_.assoc, msg});
          // An ERR while a request is outstanding answers that request.
          if (outstanding_ && !queue_.empty()) {
            if (msg.code == ErrorCode::UnsupportedTrafficModeType && follow_mode(queue_.front(), out)) return;
            refused(msg.code, out);
          }
        } else if constexpr (std::is_same_v<T, Beat>) {
          out.push_back(Send{cfg_.assoc, stream, Message{beat_ack_for(msg)}});
        } else if constexpr (std::is_same_v<T, BeatAck>) {
          // Liveness already noted.
        } else if constexpr (std::is_same_v<T, Duna> || std::is_same_v<T, Dava> || std::is_same_v<T, Scon> ||
                             std::is_same_v<T, Dupu> || std::is_same_v<T, Drst>) {
          destinations_.apply(m, cfg_.assoc, out);
        } else if constexpr (std::is_same_v<T, RegRsp>) {
          for (const auto& r : msg.results) {
            RoutingKey k;
            k.local_rk_id = r.local_rk_id;
            out.push_back(RegistrationIndication{cfg_.assoc, std::move(k), r});
          }
        } else if constexpr (std::is_same_v<T, DeregRsp>) {
          for (const auto& r : msg.results) out.push_back(DeregistrationIndication{cfg_.assoc, r});
        } else {
          // Requests (ASPUP, ASPAC, REG REQ, DAUD, ...) are for an SGP or IPSP.
          send_err(make_err(ErrorCode::UnexpectedMessage, raw), out);
          drop(DropReason::UnexpectedMessage, out);
        }
      },
      m);
}

}  // namespace mxua
