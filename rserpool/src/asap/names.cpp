#include "rserpool/asap/actions.hpp"

namespace rserpool::asap {

std::string_view to_string(TimerKind k) noexcept {
  switch (k) {
    case TimerKind::t1_enrp_request: return "T1-ENRPrequest";
    case TimerKind::t2_registration: return "T2-registration";
    case TimerKind::t3_deregistration: return "T3-deregistration";
    case TimerKind::t4_reregistration: return "T4-reregistration";
    case TimerKind::t5_server_hunt: return "T5-Serverhunt";
    case TimerKind::t7_enrp_outdate: return "T7-ENRPoutdate";
    case TimerKind::hunt_retry: return "hunt-retry";
    case TimerKind::cache_refresh: return "cache-refresh";
    case TimerKind::session_silence: return "session-silence";
    case TimerKind::session_stall_retry: return "session-stall-retry";
  }
  return "?";
}

std::string_view to_string(RegistrationCode c) noexcept {
  switch (c) {
    case RegistrationCode::granted: return "granted";
    case RegistrationCode::rejected: return "rejected";
    case RegistrationCode::timeout: return "timeout";
    case RegistrationCode::no_registrar: return "no-registrar";
  }
  return "?";
}

std::string_view to_string(DeregistrationCode c) noexcept {
  switch (c) {
    case DeregistrationCode::done: return "done";
    case DeregistrationCode::refused: return "refused";
    case DeregistrationCode::timeout: return "timeout";
  }
  return "?";
}

std::string_view to_string(ResolutionFailure f) noexcept {
  switch (f) {
    case ResolutionFailure::unknown_pool: return "unknown-pool";
    case ResolutionFailure::empty_pool: return "empty-pool";
    case ResolutionFailure::timeout: return "timeout";
    case ResolutionFailure::rejected: return "rejected";
    case ResolutionFailure::no_registrar: return "no-registrar";
  }
  return "?";
}

std::string_view to_string(PassThroughFailure f) noexcept {
  switch (f) {
    case PassThroughFailure::connect_failed: return "connect-failed";
    case PassThroughFailure::lost: return "lost";
  }
  return "?";
}

}  // namespace rserpool::asap
