#include "mxua/fsm/actions.hpp"

namespace mxua {

std::string_view to_string(AspState s) noexcept {
  switch (s) {
    case AspState::Down: return "ASP-DOWN";
    case AspState::Inactive: return "ASP-INACTIVE";
    case AspState::Active: return "ASP-ACTIVE";
  }
  return "?";
}

std::string_view to_string(AsState s) noexcept {
  switch (s) {
    case AsState::Down: return "AS-DOWN";
    case AsState::Inactive: return "AS-INACTIVE";
    case AsState::Active: return "AS-ACTIVE";
    case AsState::Pending: return "AS-PENDING";
  }
  return "?";
}

std::string_view timer_name(TimerKind k) noexcept {
  switch (k) {
    case TimerKind::Tack: return "T(ack)";
    case TimerKind::Tr: return "T(r)";
    case TimerKind::Tbeat: return "T(beat)";
    case TimerKind::Retry: return "retry";
  }
  return "?";
}

std::string_view to_string(DropReason r) noexcept {
  switch (r) {
    case DropReason::Malformed: return "malformed";
    case DropReason::InvalidStream: return "invalid-stream";
    case DropReason::BeforeAspUp: return "before-aspup";
    case DropReason::NotActive: return "asp-not-active";
    case DropReason::UnexpectedMessage: return "unexpected-message";
    case DropReason::UnknownAssociation: return "unknown-association";
    case DropReason::NoRoutingKey: return "no-routing-key";
    case DropReason::NoActiveAsp: return "no-active-asp";
    case DropReason::QueueFull: return "pending-queue-full";
    case DropReason::TrExpired: return "t_r-expired";
    case DropReason::NoDataStream: return "no-data-stream";
    case DropReason::OpcScreened: return "opc-screened";
    case DropReason::Count_: break;
  }
  return "?";
}

}  // namespace mxua
