#include "rserpool/asap/pool_element.hpp"

#include <algorithm>

#include "rserpool/base/log.hpp"

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

PoolElement::PoolElement(PoolElementConfig config) : config_(std::move(config)), hunt_(config_.hunt) {}

Duration PoolElement::reregistration_interval() const noexcept {
  if (config_.reregistration_interval) return *config_.reregistration_interval;
  if (config_.registration_life_ms < 0) return config_.reregistration_cap;  // infinite life
  const Duration by_life = Duration(config_.registration_life_ms) - config_.reregistration_margin;
  // A life shorter than the margin would give T4 <= 0: renew at half life
  // instead, but not in a tight loop.
  const Duration usable = by_life > Duration(0) ? by_life : Duration(config_.registration_life_ms / 2);
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

void PoolElement::register_pe(Time /*now*/, Actions& out) {
  if (state_ == State::registering && awaiting_response_) return;  // already on its way
  renewal_ = state_ == State::registered;
  if (state_ == State::registered) out.push_back(StopTimer{kT4});
  if (state_ == State::deregistering) {
    out.push_back(StopTimer{kT3});
    awaiting_response_ = false;
  }
  state_ = State::registering;
  attempts_ = 0;
  no_registrar_reported_ = false;
  send_registration(out);
}

void PoolElement::send_registration(Actions& out) {
  const auto home = hunt_.home();
  if (!home) {
    pending_ = Pending::registration;
    hunt_.start(out);
    return;
  }
  pending_ = Pending::none;
  ++attempts_;
  out.push_back(SendToRegistrar{*home, registration_message()});
  out.push_back(StartTimer{kT2, config_.t2_registration});
  awaiting_response_ = true;
}

void PoolElement::send_deregistration(Actions& out) {
  const auto home = hunt_.home();
  if (!home) {
    pending_ = Pending::deregistration;
    hunt_.start(out);
    return;
  }
  pending_ = Pending::none;
  ++attempts_;
  out.push_back(SendToRegistrar{*home, wire::asap::Deregistration{config_.pool, config_.pe_id}});
  out.push_back(StartTimer{kT3, config_.t3_deregistration});
  awaiting_response_ = true;
}

void PoolElement::send_pending(Actions& out) {
  switch (pending_) {
    case Pending::registration: send_registration(out); break;
    case Pending::deregistration: send_deregistration(out); break;
    case Pending::none: break;
  }
}

void PoolElement::deregister(Time /*now*/, Actions& out) {
  if (state_ == State::deregistering) return;
  out.push_back(StopTimer{kT4});
  if (state_ == State::idle) {
    // Nothing registered: the answer is known without asking (a registrar
    // answers success for unknown PEs too).
    out.push_back(DeregistrationResult{DeregistrationCode::done, config_.pe_id, {}});
    return;
  }
  if (awaiting_response_) out.push_back(StopTimer{kT2});
  awaiting_response_ = false;
  state_ = State::deregistering;
  attempts_ = 0;
  send_deregistration(out);
}

void PoolElement::update_policy(const PolicyParameters& policy, Time /*now*/, Actions& out) {
  config_.policy = policy;
  if (state_ != State::registered && state_ != State::registering) return;
  // RFC 5352 3.1: a registered PE re-registers, same PE identifier, to
  // change its policy values.
  if (state_ == State::registered) {
    out.push_back(StopTimer{kT4});
    renewal_ = true;
  }
  state_ = State::registering;
  attempts_ = 0;
  send_registration(out);
}

void PoolElement::finish_registration(RegistrationCode code, std::vector<OperationErrorCause> causes,
                                      Actions& out) {
  out.push_back(RegistrationResult{code, config_.pe_id, renewal_, std::move(causes)});
  if (code == RegistrationCode::granted) {
    state_ = State::registered;
    attempts_ = 0;
    out.push_back(StartTimer{kT4, reregistration_interval()});
  } else {
    state_ = State::idle;
    pending_ = Pending::none;
    out.push_back(StopTimer{kT4});
  }
}

void PoolElement::on_registrar_connected(AssocId assoc, Time /*now*/, Actions& out) {
  if (hunt_.on_connected(assoc, out)) send_pending(out);
}

void PoolElement::on_registrar_connect_failed(AssocId assoc, Time /*now*/, Actions& out) {
  hunt_.on_connect_failed(assoc, out);
}

void PoolElement::on_registrar_lost(AssocId assoc, Time /*now*/, Actions& out) {
  if (!hunt_.on_lost(assoc, out)) return;
  // The home died: whatever was in flight there is lost. Register (or
  // deregister) again at the next home the hunt finds.
  if (awaiting_response_) {
    out.push_back(StopTimer{state_ == State::deregistering ? kT3 : kT2});
    awaiting_response_ = false;
  }
  switch (state_) {
    case State::idle: break;
    case State::registered:
      out.push_back(StopTimer{kT4});
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

void PoolElement::on_registrar_message(AssocId assoc, const wire::asap::Message& m, Time /*now*/,
                                       Actions& out) {
  if (const auto* r = std::get_if<wire::asap::RegistrationResponse>(&m)) {
    on_registration_response(*r, out);
  } else if (const auto* d = std::get_if<wire::asap::DeregistrationResponse>(&m)) {
    on_deregistration_response(*d, out);
  } else if (const auto* k = std::get_if<wire::asap::EndpointKeepAlive>(&m)) {
    on_keep_alive(assoc, *k, out);
  } else if (const auto* e = std::get_if<wire::asap::Error>(&m)) {
    // The registrar could not parse what we sent: the registration in
    // flight will not be answered otherwise.
    if (state_ == State::registering && awaiting_response_) {
      out.push_back(StopTimer{kT2});
      awaiting_response_ = false;
      finish_registration(RegistrationCode::rejected, e->causes, out);
    }
  }
  // Other message types are not for a PE on its registrar association.
}

void PoolElement::on_registration_response(const wire::asap::RegistrationResponse& r, Actions& out) {
  if (r.pool_handle != config_.pool || r.pe_id != config_.pe_id) return;
  if (state_ != State::registering || !awaiting_response_) return;  // late or duplicate
  out.push_back(StopTimer{kT2});
  awaiting_response_ = false;
  finish_registration(r.rejected ? RegistrationCode::rejected : RegistrationCode::granted, r.error, out);
}

void PoolElement::on_deregistration_response(const wire::asap::DeregistrationResponse& r, Actions& out) {
  if (r.pool_handle != config_.pool || r.pe_id != config_.pe_id) return;
  if (state_ == State::deregistering && awaiting_response_) {
    out.push_back(StopTimer{kT3});
    awaiting_response_ = false;
    state_ = State::idle;
    out.push_back(DeregistrationResult{r.error.empty() ? DeregistrationCode::done : DeregistrationCode::refused,
                                       config_.pe_id, r.error});
    return;
  }
  if (state_ == State::registered) {
    // Unsolicited: the registrar let our lifetime expire (RFC 5352 3.2).
    // The application still wants to be in the pool, so register again.
    rserpool::log::get("asap")->warn("PE {:08x}: registrar dropped the registration, re-registering",
                                     config_.pe_id);
    out.push_back(StopTimer{kT4});
    state_ = State::registering;
    renewal_ = true;
    attempts_ = 0;
    send_registration(out);
  }
}

void PoolElement::on_keep_alive(AssocId assoc, const wire::asap::EndpointKeepAlive& k, Actions& out) {
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
    send_pending(out);
    return;
  }
  if (previous == assoc) return;  // the home told us its server id
  if (awaiting_response_) {
    // In flight at the old home, which may be dead: ask the new one, or T2
    // would later abandon the new home for the old one's silence.
    out.push_back(StopTimer{state_ == State::deregistering ? kT3 : kT2});
    awaiting_response_ = false;
    if (state_ == State::deregistering) send_deregistration(out);
    else send_registration(out);
    return;
  }
  if (state_ == State::registered && config_.reregister_on_takeover) {
    out.push_back(StopTimer{kT4});
    state_ = State::registering;
    renewal_ = true;
    attempts_ = 0;
    send_registration(out);
  }
}

bool PoolElement::is_registrar_to_pe(const wire::asap::Message& m) noexcept {
  return std::holds_alternative<wire::asap::RegistrationResponse>(m) ||
         std::holds_alternative<wire::asap::DeregistrationResponse>(m) ||
         std::holds_alternative<wire::asap::EndpointKeepAlive>(m) || std::holds_alternative<wire::asap::Error>(m);
}

void PoolElement::on_timer(const Timer& t, Time /*now*/, Actions& out) {
  switch (t.kind) {
    case TimerKind::t2_registration:
      if (state_ != State::registering || !awaiting_response_) return;
      awaiting_response_ = false;
      if (attempts_ >= config_.max_reg_attempt) {
        finish_registration(RegistrationCode::timeout, {}, out);
        return;
      }
      // The home is not answering: hunt for another one, then retry.
      pending_ = Pending::registration;
      hunt_.abandon_home(out);
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
      hunt_.abandon_home(out);
      return;
    case TimerKind::t4_reregistration:
      if (state_ != State::registered) return;
      state_ = State::registering;
      renewal_ = true;
      attempts_ = 0;
      send_registration(out);
      return;
    case TimerKind::t5_server_hunt:
      if (hunt_.on_t5_expiry(out) && pending_ == Pending::registration && !no_registrar_reported_) {
        // Keep hunting, but tell the application now rather than never.
        no_registrar_reported_ = true;
        out.push_back(RegistrationResult{RegistrationCode::no_registrar, config_.pe_id, renewal_, {}});
      }
      return;
    case TimerKind::t7_enrp_outdate: hunt_.on_t7_expiry(t.key); return;
    case TimerKind::t1_enrp_request: return;
  }
}

void PoolElement::on_server_announce(const wire::asap::ServerAnnounce& a, const IpAddress& source, Time /*now*/,
                                     Actions& out) {
  hunt_.on_server_announce(a, source, out);
}

}  // namespace rserpool::asap
