#include "rserpool/asap/pool_element.hpp"

#include <algorithm>


namespace rserpool::asap {

namespace {
constexpr Timer kT2{TimerKind::t2_registration, 0};
constexpr Timer kT3{TimerKind::t3_deregistration, 0};
constexpr Timer kT4{TimerKind::t4_reregistration, 0};
constexpr Duration kMinReregistration = std::chrono::seconds(1);
}  // namespace

std::string_view to_string(PoolElement::State s) noexcept {
  switch (s) {
    case PoolElement::State::idle: return "idle";
    case PoolElement::State::registering: return "registering";
    case PoolElement::State::registered: return "registered";
    case PoolElement::State::deregistering: return "deregistering";
  }
  return "?";
}

PoolElement::PoolElement(PoolElementConfig config)
    : config_(std::move(config)),
      rng_(config_.seed != 0 ? config_.seed : 0x9e3779b97f4a7c15ULL ^ config_.pe_id),
      hunt_(config_.hunt, rng_) {}

std::optional<TimePoint> PoolElement::next_deadline() const {
  auto own = timers_.next_deadline();
  auto hunt = hunt_.next_deadline();
  if (!own) return hunt;
  if (!hunt) return own;
  return std::min(*own, *hunt);
}

void PoolElement::on_timeout(TimePoint now, Actions& out) {
  while (auto t = timers_.take_due(now)) on_timer(*t, now, out);
  if (hunt_.on_timeout(now, out) && pending_ == Pending::registration && !no_registrar_reported_) {
    // A whole T5 round without a registrar: keep hunting, but tell the
    // application now rather than never.
    no_registrar_reported_ = true;
    out.push_back(RegistrationResult{RegistrationCode::no_registrar, config_.pe_id, renewal_, {}});
  }
}

Duration PoolElement::reregistration_interval() const noexcept {
  if (config_.reregistration_interval) return *config_.reregistration_interval;
  if (config_.registration_life_ms < 0) return config_.reregistration_cap;  // infinite life
  const Duration life = std::chrono::milliseconds(config_.registration_life_ms);  // on the wire in ms
  const Duration by_life = life - config_.reregistration_margin;
  // A life shorter than the margin would give T4 <= 0: renew at half life
  // instead, but not in a tight loop.
  const Duration usable = by_life > Duration::zero() ? by_life : life / 2;
  return std::max(std::min(config_.reregistration_cap, usable), kMinReregistration);
}

wire::asap::Registration PoolElement::registration_message() const {
  wire::asap::Registration r;
  r.pool_handle = config_.pool;
  r.pool_element.id = config_.pe_id;
  r.pool_element.home_registrar = hunt_.home_server_id();
  r.pool_element.registration_life_ms = config_.registration_life_ms;
  r.pool_element.user_transport = config_.user_transport;
  r.pool_element.policy = config_.policy;
  return r;
}

void PoolElement::register_pe(TimePoint now, Actions& out) {
  if (state_ == State::registering && awaiting_response_) return;  // already on its way
  renewal_ = state_ == State::registered;
  if (state_ == State::registered) timers_.cancel(kT4);
  if (state_ == State::deregistering) {
    timers_.cancel(kT3);
    awaiting_response_ = false;
  }
  state_ = State::registering;
  attempts_ = 0;
  no_registrar_reported_ = false;
  send_registration(now, out);
}

void PoolElement::send_registration(TimePoint now, Actions& out) {
  const auto home = hunt_.home();
  if (!home) {
    pending_ = Pending::registration;
    hunt_.start(now, out);
    return;
  }
  pending_ = Pending::none;
  ++attempts_;
  request_assoc_ = *home;
  out.push_back(SendToRegistrar{*home, registration_message()});
  timers_.arm(kT2, now + config_.t2_registration);
  awaiting_response_ = true;
}

void PoolElement::send_deregistration(TimePoint now, Actions& out) {
  const auto home = hunt_.home();
  if (!home) {
    pending_ = Pending::deregistration;
    hunt_.start(now, out);
    return;
  }
  pending_ = Pending::none;
  ++attempts_;
  request_assoc_ = *home;
  out.push_back(SendToRegistrar{*home, wire::asap::Deregistration{config_.pool, config_.pe_id}});
  timers_.arm(kT3, now + config_.t3_deregistration);
  awaiting_response_ = true;
}

void PoolElement::send_pending(TimePoint now, Actions& out) {
  switch (pending_) {
    case Pending::registration: send_registration(now, out); break;
    case Pending::deregistration: send_deregistration(now, out); break;
    case Pending::none: break;
  }
}

void PoolElement::deregister(TimePoint now, Actions& out) {
  if (state_ == State::deregistering) return;
  timers_.cancel(kT4);
  if (state_ == State::idle) {
    // Nothing registered: the answer is known without asking (a registrar
    // answers success for unknown PEs too).
    out.push_back(DeregistrationResult{DeregistrationCode::done, config_.pe_id, {}});
    return;
  }
  if (awaiting_response_) timers_.cancel(kT2);
  awaiting_response_ = false;
  state_ = State::deregistering;
  attempts_ = 0;
  send_deregistration(now, out);
}

void PoolElement::update_policy(const PolicyParameters& policy, TimePoint now, Actions& out) {
  config_.policy = policy;
  if (state_ != State::registered && state_ != State::registering) return;
  // RFC 5352 3.1: a registered PE re-registers, same PE identifier, to
  // change its policy values.
  if (state_ == State::registered) {
    timers_.cancel(kT4);
    renewal_ = true;
  }
  state_ = State::registering;
  attempts_ = 0;
  send_registration(now, out);
}

void PoolElement::finish_registration(RegistrationCode code, std::vector<OperationErrorCause> causes,
                                      TimePoint now, Actions& out) {
  out.push_back(RegistrationResult{code, config_.pe_id, renewal_, std::move(causes)});
  if (code == RegistrationCode::granted) {
    state_ = State::registered;
    attempts_ = 0;
    timers_.arm(kT4, now + reregistration_interval());
  } else {
    state_ = State::idle;
    pending_ = Pending::none;
    timers_.cancel(kT4);
  }
}

void PoolElement::on_registrar_connected(AssocId assoc, TimePoint now, Actions& out) {
  if (hunt_.on_connected(assoc, now, out)) send_pending(now, out);
}

void PoolElement::on_registrar_connect_failed(AssocId assoc, TimePoint now, Actions& out) {
  hunt_.on_connect_failed(assoc, now, out);
}

void PoolElement::on_registrar_lost(AssocId assoc, TimePoint now, Actions& out) {
  if (!hunt_.on_lost(assoc, now, out)) return;
  // The home died: whatever was in flight there is lost. Register (or
  // deregister) again at the next home the hunt finds.
  if (awaiting_response_) {
    timers_.cancel(state_ == State::deregistering ? kT3 : kT2);
    awaiting_response_ = false;
  }
  switch (state_) {
    case State::idle: break;
    case State::registered:
      timers_.cancel(kT4);
      state_ = State::registering;
      renewal_ = true;
      attempts_ = 0;
      pending_ = Pending::registration;
      break;
    case State::registering:
      attempts_ = 0;
      pending_ = Pending::registration;
      break;
    case State::deregistering: pending_ = Pending::deregistration; break;
  }
}

bool PoolElement::on_registrar_message(AssocId assoc, const wire::asap::Message& m, TimePoint now,
                                       Actions& out) {
  if (!is_registrar_to_pe(m)) return false;  // not for a PE on a registrar association
  if (const auto* r = std::get_if<wire::asap::RegistrationResponse>(&m)) {
    on_registration_response(assoc, *r, now, out);
  } else if (const auto* d = std::get_if<wire::asap::DeregistrationResponse>(&m)) {
    on_deregistration_response(assoc, *d, now, out);
  } else if (const auto* k = std::get_if<wire::asap::EndpointKeepAlive>(&m)) {
    on_keep_alive(assoc, *k, now, out);
  } else if (const auto* e = std::get_if<wire::asap::Error>(&m)) {
    // The registrar could not parse what we sent: the registration in
    // flight will not be answered otherwise. Only the registrar it went to
    // can say so (anyone may open an association to our ASAP port).
    if (state_ == State::registering && awaiting_response_ && assoc == request_assoc_) {
      timers_.cancel(kT2);
      awaiting_response_ = false;
      finish_registration(RegistrationCode::rejected, e->causes, now, out);
    }
  }
  return true;
}

void PoolElement::on_registration_response(AssocId assoc, const wire::asap::RegistrationResponse& r,
                                           TimePoint now, Actions& out) {
  if (r.pool_handle != config_.pool || r.pe_id != config_.pe_id) return;
  if (state_ != State::registering || !awaiting_response_) return;  // late or duplicate
  if (assoc != request_assoc_) return;  // not from the registrar we asked
  timers_.cancel(kT2);
  awaiting_response_ = false;
  finish_registration(r.rejected ? RegistrationCode::rejected : RegistrationCode::granted, r.error, now, out);
}

void PoolElement::on_deregistration_response(AssocId assoc, const wire::asap::DeregistrationResponse& r,
                                             TimePoint now, Actions& out) {
  if (r.pool_handle != config_.pool || r.pe_id != config_.pe_id) return;
  // Answers count only from the registrar we asked; an unsolicited one
  // (lifetime expired) only from the home.
  if (assoc != (awaiting_response_ ? std::optional<AssocId>(request_assoc_) : hunt_.home())) return;
  if (state_ == State::deregistering && awaiting_response_) {
    timers_.cancel(kT3);
    awaiting_response_ = false;
    state_ = State::idle;
    out.push_back(DeregistrationResult{r.error.empty() ? DeregistrationCode::done : DeregistrationCode::refused,
                                       config_.pe_id, r.error});
    return;
  }
  if (state_ == State::registered) {
    // Unsolicited: the registrar let our lifetime expire (RFC 5352 3.2).
    // The application still wants to be in the pool, so register again.
    ++dropped_by_registrar_;  // the driver reports it (cores do not log)
    timers_.cancel(kT4);
    state_ = State::registering;
    renewal_ = true;
    attempts_ = 0;
    send_registration(now, out);
  }
}

void PoolElement::on_keep_alive(AssocId assoc, const wire::asap::EndpointKeepAlive& k, TimePoint now,
                                Actions& out) {
  // KA1: not our pool handle -> drop silently. A PE that is not registered
  // has nothing to confirm either.
  if (k.pool_handle != config_.pool || state_ == State::idle) return;
  // KA2: answer on the sender's association whatever the H bit.
  out.push_back(SendToRegistrar{assoc, wire::asap::EndpointKeepAliveAck{config_.pool, config_.pe_id}});
  if (!k.home) return;
  const auto previous = hunt_.home();
  if (!hunt_.adopt(assoc, k.server_id, out)) return;
  if (pending_ != Pending::none) {
    // The home was lost and the hunt had not found one yet: the takeover
    // answers it.
    send_pending(now, out);
    return;
  }
  if (previous == assoc) return;  // the home told us its server id
  if (awaiting_response_) {
    // In flight at the old home, which may be dead: ask the new one, or T2
    // would later abandon the new home for the old one's silence.
    timers_.cancel(state_ == State::deregistering ? kT3 : kT2);
    awaiting_response_ = false;
    if (state_ == State::deregistering) send_deregistration(now, out);
    else send_registration(now, out);
    return;
  }
  if (state_ == State::registered && config_.reregister_on_takeover) {
    timers_.cancel(kT4);
    state_ = State::registering;
    renewal_ = true;
    attempts_ = 0;
    send_registration(now, out);
  }
}

bool PoolElement::is_registrar_to_pe(const wire::asap::Message& m) noexcept {
  return std::holds_alternative<wire::asap::RegistrationResponse>(m) ||
         std::holds_alternative<wire::asap::DeregistrationResponse>(m) ||
         std::holds_alternative<wire::asap::EndpointKeepAlive>(m) || std::holds_alternative<wire::asap::Error>(m);
}

void PoolElement::on_timer(const Timer& t, TimePoint now, Actions& out) {
  switch (t.kind) {
    case TimerKind::t2_registration:
      if (state_ != State::registering || !awaiting_response_) return;
      awaiting_response_ = false;
      if (attempts_ >= config_.max_reg_attempt) {
        finish_registration(RegistrationCode::timeout, {}, now, out);
        return;
      }
      // The home is not answering: hunt for another one, then retry.
      pending_ = Pending::registration;
      hunt_.abandon_home(now, out);
      return;
    case TimerKind::t3_deregistration:
      if (state_ != State::deregistering || !awaiting_response_) return;
      awaiting_response_ = false;
      if (attempts_ >= config_.max_reg_attempt) {
        state_ = State::idle;
        pending_ = Pending::none;
        out.push_back(DeregistrationResult{DeregistrationCode::timeout, config_.pe_id, {}});
        return;
      }
      pending_ = Pending::deregistration;
      hunt_.abandon_home(now, out);
      return;
    case TimerKind::t4_reregistration:
      if (state_ != State::registered) return;
      state_ = State::registering;
      renewal_ = true;
      attempts_ = 0;
      send_registration(now, out);
      return;
    default: return;  // the hunt's timers live in the hunt
  }
}

void PoolElement::on_server_announce(const wire::asap::ServerAnnounce& a, const IpAddress& source, TimePoint now,
                                     Actions& out) {
  hunt_.on_server_announce(a, source, now, out);
}

}  // namespace rserpool::asap
