#include "sg/gwc_link/link.hpp"

#include <algorithm>

#include "rserpool/wire/asap.hpp"
#include "sg/gwc_link/profile.hpp"

namespace sg::gwc_link {

namespace asap = rserpool::wire::asap;

std::string_view to_string(LinkState s) noexcept {
  switch (s) {
    case LinkState::connecting: return "connecting";
    case LinkState::m3ua_starting: return "m3ua-starting";
    case LinkState::active: return "active";
    case LinkState::closing: return "closing";
    case LinkState::failing: return "failing";
    case LinkState::aborting: return "fenced";
    case LinkState::failed: return "failed";
    case LinkState::closed: return "closed";
  }
  return "unknown";
}

std::string_view to_string(FailureCause c) noexcept {
  switch (c) {
    case FailureCause::association_lost: return "association lost";
    case FailureCause::m3ua_left_active: return "M3UA left ACTIVE";
    case FailureCause::m3ua_start_failed: return "M3UA start-up failed";
    case FailureCause::m3ua_refused_data: return "M3UA refused our DATA";
  }
  return "unknown";
}

std::string_view to_string(Discard d) noexcept {
  switch (d) {
    case Discard::data_after_fence: return "DATA from a fenced controller";
    case Discard::cookie_after_fence: return "ASAP_COOKIE from a fenced controller";
    case Discard::m3ua_inbound: return "dropped by M3UA";
    case Discard::undecodable_control: return "undecodable ASAP control message";
    case Discard::unexpected_control: return "unexpected ASAP control message";
    case Discard::foreign_ppid: return "message with an unknown PPID";
  }
  return "unknown";
}

Link::Link(std::shared_ptr<LinkCounters> counters) : counters_(std::move(counters)) { ++counters_->connects; }

bool Link::live() const noexcept {
  return state_ == LinkState::connecting || state_ == LinkState::m3ua_starting || state_ == LinkState::active ||
         state_ == LinkState::closing;
}

void Link::association_up(Actions& out) {
  association_is_up_ = true;
  echo_.clear();
  switch (state_) {
    case LinkState::connecting: state_ = LinkState::m3ua_starting; break;
    case LinkState::closing:
    case LinkState::failing:
    case LinkState::aborting:
      // Closed or cut off before it came up: finish that now.
      out.push_back(state_ == LinkState::closing ? Action{action::CloseAssociation{}}
                                                 : Action{action::AbortAssociation{}});
      break;
    default: break;
  }
}

void Link::send_failed(std::vector<MtpMessage> unsent) {
  if (state_ == LinkState::failed || state_ == LinkState::closed) return;  // transport contract: never after down
  for (auto& m : unsent) handed_back_.push_back(std::move(m));
}

void Link::association_down(rserpool::transport::DownReason reason, Actions& out) {
  association_is_up_ = false;
  echo_.clear();
  timers_.cancel(Timer::aspdn_grace);
  switch (state_) {
    case LinkState::closing:
    case LinkState::aborting:
      state_ = LinkState::closed;
      out.push_back(action::Closed{take_leftovers()});
      return;
    case LinkState::failing: report_down(reason, out); return;
    case LinkState::connecting:
    case LinkState::m3ua_starting:
    case LinkState::active:
      cause_ = FailureCause::association_lost;
      report_down(reason, out);
      return;
    case LinkState::failed:
    case LinkState::closed: return;
  }
}

void Link::report_down(std::optional<rserpool::transport::DownReason> reason, Actions& out) {
  state_ = LinkState::failed;
  ++counters_->failures;
  out.push_back(action::Failed{cause_, reason, take_leftovers()});
}

std::vector<MtpMessage> Link::take_leftovers() {
  // What the transport gave back was sent before anything held here.
  std::vector<MtpMessage> all = std::move(handed_back_);
  handed_back_.clear();
  for (auto& m : held_) all.push_back(std::move(m));
  held_.clear();
  return all;
}

void Link::fail(FailureCause cause, Actions& out) {
  if (!live()) return;
  cause_ = cause;
  // The report waits for the association to be down, so that it carries
  // everything the transport hands back (it does so before reporting down).
  // A failed controller never keeps a live association: abort it.
  state_ = LinkState::failing;
  timers_.cancel(Timer::aspdn_grace);
  out.push_back(action::AbortAssociation{});
}

void Link::asp_state(mxua::AspState from, mxua::AspState to, std::optional<std::uint32_t> routing_context,
                     Actions& out) {
  const bool ours = !routing_context || *routing_context == kRoutingContext;
  if (!ours) return;
  if (to == mxua::AspState::Active && state_ == LinkState::m3ua_starting) {
    state_ = LinkState::active;
    out.push_back(action::Up{});
    return;
  }
  if (from == mxua::AspState::Active && to != mxua::AspState::Active) {
    if (state_ == LinkState::closing) {
      if (to == mxua::AspState::Down) out.push_back(action::CloseAssociation{});  // ASPDN answered: close now
      return;
    }
    fail(FailureCause::m3ua_left_active, out);
    return;
  }
  if (to == mxua::AspState::Down && !routing_context && state_ == LinkState::closing)
    out.push_back(action::CloseAssociation{});
}

void Link::request_failed(Actions& out) {
  if (state_ == LinkState::closing) {
    out.push_back(action::CloseAssociation{});
    return;
  }
  // ASPUP or ASPAC never acknowledged (or refused): the controller cannot
  // take traffic over this association.
  fail(FailureCause::m3ua_start_failed, out);
}

bool Link::deliver_now(const MtpMessage& m) {
  if (state_ != LinkState::m3ua_starting && state_ != LinkState::active && state_ != LinkState::closing) return false;
  counters_->in.add(m.user_size());
  return true;
}

void Link::data(MtpMessage m, Actions& out) {
  if (deliver_now(m)) {
    out.push_back(action::Deliver{std::move(m)});
    return;
  }
  // Failing, fenced, failed: the distributor has (or is about to have)
  // handed this controller's calls to an heir.
  ++counters_->dropped_after_fence;
  out.push_back(action::Discarded{Discard::data_after_fence, 0});
}

void Link::m3ua_dropped_inbound(mxua::DropReason reason, std::uint32_t count, Actions& out) {
  counters_->m3ua_inbound_drops += count;
  out.push_back(action::Discarded{Discard::m3ua_inbound, static_cast<std::uint32_t>(reason)});
}

void Link::control(std::uint32_t ppid, rserpool::ByteView payload, Actions& out) {
  if (ppid != kAsapPpid) {
    ++counters_->control_errors;
    out.push_back(action::Discarded{Discard::foreign_ppid, ppid});
    return;
  }
  auto decoded = asap::decode(payload);
  if (!decoded) {
    ++counters_->control_errors;
    out.push_back(action::Discarded{Discard::undecodable_control, static_cast<std::uint32_t>(payload.size())});
    return;
  }
  auto* cookie = std::get_if<asap::Cookie>(&decoded->message);
  if (!cookie) {
    ++counters_->control_errors;
    out.push_back(action::Discarded{Discard::unexpected_control,
                                    static_cast<std::uint32_t>(asap::message_type(decoded->message))});
    return;
  }
  if (!live()) {
    // Its state is not the pool's any more: an heir holds its calls.
    ++counters_->dropped_after_fence;
    out.push_back(action::Discarded{Discard::cookie_after_fence, 0});
    return;
  }
  ++counters_->cookies_received;
  out.push_back(action::CookieReceived{std::move(cookie->cookie)});
}

bool Link::send_now(const MtpMessage& m) {
  if (state_ != LinkState::active || echo_.pending() != 0) return false;
  counters_->out.add(m.user_size());
  return true;
}

void Link::send(MtpMessage m, Actions& out) {
  if (send_now(m)) {
    out.push_back(action::SendData{std::move(m)});
    return;
  }
  if (state_ == LinkState::failing || state_ == LinkState::closing || state_ == LinkState::aborting) {
    // Going away: this joins what the link reports at the end (Failed or
    // Closed), after whatever the transport still hands back, and is
    // re-sent elsewhere from there.
    held_.push_back(std::move(m));
    return;
  }
  if (state_ != LinkState::active) {
    // Not carrying DATA (the distributor sends only to active links): M3UA
    // would refuse it, so treat it the same way.
    refused(std::move(m), out);
    return;
  }
  if (echo_.pending() != 0) {
    if (auto stream = mxua::data_stream(m.sls, outbound_streams_)) {
      echo_.before_data(*stream, control_out_);
      for (auto& c : control_out_) out.push_back(action::SendControl{std::move(c)});
      control_out_.clear();
    }
  }
  counters_->out.add(m.user_size());
  out.push_back(action::SendData{std::move(m)});
}

void Link::refused(MtpMessage m, Actions& out) {
  ++counters_->m3ua_refused;
  // It was counted out when handed to M3UA: it never left.
  if (counters_->out.messages != 0) {
    --counters_->out.messages;
    counters_->out.bytes -= std::min<std::uint64_t>(counters_->out.bytes, m.user_size());
  }
  held_.push_back(std::move(m));
  if (state_ == LinkState::failing || state_ == LinkState::aborting) return;
  if (live()) {
    fail(FailureCause::m3ua_refused_data, out);
    return;
  }
  // Closed or failed already: nothing will report it, so report it now.
  out.push_back(action::Closed{take_leftovers()});
}

bool Link::echo_cookie(const rserpool::Bytes& encoded_echo, Actions& out) {
  if (state_ != LinkState::active) return false;
  echo_.echo(encoded_echo, outbound_streams_, control_out_);
  for (auto& c : control_out_) out.push_back(action::SendControl{std::move(c)});
  control_out_.clear();
  ++counters_->cookie_echoes_sent;
  return true;
}

void Link::close(rserpool::TimePoint now, Actions& out) {
  if (state_ == LinkState::closing || !live()) return;
  const bool m3ua_up = state_ == LinkState::active || state_ == LinkState::m3ua_starting;
  state_ = LinkState::closing;
  if (!m3ua_up || !association_is_up_) {
    out.push_back(action::CloseAssociation{});
    return;
  }
  out.push_back(action::RequestAspDown{});
  timers_.arm(Timer::aspdn_grace, now + kAspDownGrace);
}

void Link::fence(Actions& out) {
  if (state_ == LinkState::failed || state_ == LinkState::closed || state_ == LinkState::aborting) return;
  ++counters_->fenced;
  timers_.cancel(Timer::aspdn_grace);
  // A failure already seen is reported as a fence: the distributor has
  // acted already, what is left comes back as leftovers.
  state_ = LinkState::aborting;
  out.push_back(action::AbortAssociation{});
}

void Link::on_timeout(rserpool::TimePoint now, Actions& out) {
  while (auto t = timers_.take_due(now)) {
    if (*t == Timer::aspdn_grace && state_ == LinkState::closing) out.push_back(action::CloseAssociation{});
  }
}

}  // namespace sg::gwc_link
