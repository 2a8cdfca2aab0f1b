#include "mxua/fsm/sgp/application_server.hpp"

#include <algorithm>

#include "mxua/fsm/sgp/traffic_distribution.hpp"

namespace mxua {
namespace {

Status as_status(AsState s) {
  const std::uint16_t info = s == AsState::Active    ? status_info::kAsActive
                             : s == AsState::Pending ? status_info::kAsPending
                                                     : status_info::kAsInactive;
  return Status{StatusType::AsStateChange, info};
}

const Status kInsufficient{StatusType::Other, status_info::kInsufficientAspResources};

// How an AS heads every DATA it sends: its RC, its Network Appearance if it
// has one, no Correlation Id (deliver() tags a broadcast's own).
DataView headed(DataView v, const AsConfig& cfg) {
  v.routing_context = cfg.routing_context;
  if (cfg.network_appearance) v.network_appearance = cfg.network_appearance;
  v.correlation_id.reset();
  return v;
}

}  // namespace

bool ApplicationServer::is_active(AssocId a) const { return std::binary_search(active_.begin(), active_.end(), a); }

bool ApplicationServer::owned_by(const Asp& asp) const {
  if (dynamic_) return dynamic_owner_ == asp.peer;
  if (cfg_.owners.empty()) return true;
  return asp.peer && std::find(owners_.begin(), owners_.end(), *asp.peer) != owners_.end();
}

bool ApplicationServer::allows(const Asp& asp) const {
  if (registrants_.count(asp.assoc) != 0) return true;
  if (dynamic_) return false;
  if (!owned_by(asp)) return false;
  if (cfg_.asp_ids.empty()) return true;
  return asp.asp_id && std::find(cfg_.asp_ids.begin(), cfg_.asp_ids.end(), *asp.asp_id) != cfg_.asp_ids.end();
}

std::size_t ApplicationServer::members_up(const AspTable& asps) const {
  std::size_t n = 0;
  for (const auto& [id, asp] : asps)
    if (serves(asp)) ++n;
  return n;
}

unsigned ApplicationServer::needed_active() const {
  // Override needs one ASP; loadshare and broadcast may wait for n
  // (RFC 4666 4.3.2, IA2AC: "n" ASPs for a smooth start).
  return mode() == TrafficMode::Override ? 1U : std::max(1U, cfg_.min_active_asps);
}

Status ApplicationServer::state_status() const { return as_status(state_); }

void ApplicationServer::notify(AssocId to, Status st, std::optional<std::uint32_t> asp_id, Actions& out) const {
  // NTFY may use any stream; stream 0 keeps it behind the ACK it follows.
  out.push_back(Send{to, 0, Message{Ntfy{st, asp_id, {cfg_.routing_context}, std::nullopt}}});
}

void ApplicationServer::notify_members(const AspTable& asps, Status st, bool inactive_only,
                                       std::optional<AssocId> except, std::optional<std::uint32_t> asp_id,
                                       Actions& out) const {
  for (const auto& [id, asp] : asps) {
    if (!serves(asp) || (except && *except == id)) continue;
    if (inactive_only && is_active(id)) continue;
    notify(id, st, asp_id, out);
  }
}

bool ApplicationServer::accepts_mode(std::optional<TrafficMode> m) const {
  if (!m || *m == mode_) return true;
  // RFC 4666 4.3.4.3: a mode that differs from the AS's is refused, unless
  // the AS follows its ASPs and none is active in another mode.
  return cfg_.accept_peer_mode && is_known(*m) && active_.empty();
}

void ApplicationServer::set_state(AsState to, Actions& out) {
  if (state_ == to) return;
  out.push_back(AsStateChanged{cfg_.routing_context, state_, to});
  state_ = to;
  // Out of use: a mode taken from an ASP gives way to the configured one.
  if (to == AsState::Inactive || to == AsState::Down) mode_ = cfg_.mode;
}

bool ApplicationServer::update(SgpContext& ctx) {
  const AsState start = state_;
  const std::size_t n_active = active_.size();
  const std::size_t up = members_up(ctx.asps);
  switch (state_) {
    case AsState::Down:
      if (up == 0) break;
      set_state(n_active >= needed_active() ? AsState::Active : AsState::Inactive, ctx.out);  // DN2IA
      notify_members(ctx.asps, as_status(state_), false, std::nullopt, std::nullopt, ctx.out);
      break;
    case AsState::Inactive:
      if (up == 0) {
        set_state(AsState::Down, ctx.out);  // IA2DN
      } else if (n_active >= needed_active()) {
        set_state(AsState::Active, ctx.out);  // IA2AC
        notify_members(ctx.asps, as_status(AsState::Active), false, std::nullopt, std::nullopt, ctx.out);
      }
      break;
    case AsState::Active:
      if (n_active == 0) {  // AC2PN: T(r) runs, traffic is queued
        set_state(AsState::Pending, ctx.out);
        ctx.timers.arm(recovery_timer(), ctx.now + ctx.cfg.t_r);
        notify_members(ctx.asps, as_status(AsState::Pending), true, std::nullopt, std::nullopt, ctx.out);
      }
      break;
    case AsState::Pending:
      if (n_active >= 1) {  // PN2AC: the queue goes to the new ASP
        ctx.timers.cancel(recovery_timer());
        set_state(AsState::Active, ctx.out);
        notify_members(ctx.asps, as_status(AsState::Active), false, std::nullopt, std::nullopt, ctx.out);
        flush(ctx);
      }
      break;
  }
  return state_ != start;
}

std::optional<AssocId> ApplicationServer::activate(const Asp& asp, SgpContext& ctx) {
  if (is_active(asp.assoc)) return std::nullopt;
  const std::uint32_t rc = cfg_.routing_context;
  std::optional<AssocId> displaced;
  if (mode() == TrafficMode::Override && !active_.empty()) {
    // Override takeover: the previous ASP goes INACTIVE and is told so,
    // with the new ASP's Identifier.
    displaced = active_.front();
    active_.clear();
    ctx.out.push_back(AspStateChanged{*displaced, rc, AspState::Active, AspState::Inactive});
    notify(*displaced, Status{StatusType::Other, status_info::kAlternateAspActive}, asp.asp_id, ctx.out);
  }
  active_.insert(std::upper_bound(active_.begin(), active_.end(), asp.assoc), asp.assoc);
  ctx.out.push_back(AspStateChanged{asp.assoc, rc, AspState::Inactive, AspState::Active});
  if (mode() == TrafficMode::Broadcast) tag_correlation_ = true;
  update(ctx);
  if (mode() == TrafficMode::Loadshare && state_ == AsState::Inactive && active_.size() < needed_active())
    notify_members(ctx.asps, kInsufficient, true, std::nullopt, std::nullopt, ctx.out);
  return displaced;
}

bool ApplicationServer::deactivate(const Asp& asp, bool failure, SgpContext& ctx) {
  if (!is_active(asp.assoc)) return false;
  active_.erase(std::find(active_.begin(), active_.end(), asp.assoc));
  ctx.out.push_back(AspStateChanged{asp.assoc, cfg_.routing_context, AspState::Active,
                                    failure ? AspState::Down : AspState::Inactive});
  if (failure)
    notify_members(ctx.asps, Status{StatusType::Other, status_info::kAspFailure}, false, asp.assoc, asp.asp_id,
                   ctx.out);
  update(ctx);
  if (mode() == TrafficMode::Loadshare && state_ == AsState::Active && !active_.empty() &&
      active_.size() < needed_active())
    notify_members(ctx.asps, kInsufficient, true, std::nullopt, std::nullopt, ctx.out);
  return true;
}

void ApplicationServer::recovery_expired(SgpContext& ctx) {
  if (state_ != AsState::Pending) return;
  // PN2IA / PN2DN: the queued traffic is dropped and counted.
  if (!queue_.empty()) {
    ctx.drop(0, DropReason::TrExpired, static_cast<std::uint32_t>(queue_.size()));
    queue_.clear();
  }
  if (members_up(ctx.asps) > 0) {
    set_state(AsState::Inactive, ctx.out);
    notify_members(ctx.asps, as_status(AsState::Inactive), false, std::nullopt, std::nullopt, ctx.out);
  } else {
    set_state(AsState::Down, ctx.out);
  }
}

void ApplicationServer::dissolve(SgpContext& ctx) {
  ctx.timers.cancel(recovery_timer());
  if (!queue_.empty()) ctx.drop(0, DropReason::TrExpired, static_cast<std::uint32_t>(queue_.size()));
  queue_.clear();
  active_.clear();
  set_state(AsState::Down, ctx.out);
}

// ---------------------------------------------------------------- traffic

std::span<const AssocId> ApplicationServer::targets(std::uint8_t sls) const {
  return select_asps(mode(), active_, sls);
}

bool ApplicationServer::route_now(const DataView& d, const AspTable& asps, SendData& s) const {
  if (state_ != AsState::Active || mode() == TrafficMode::Broadcast) return false;
  const auto to = targets(d.protocol_data.sls);
  if (to.size() != 1) return false;
  const auto stream = data_stream(d.protocol_data.sls, asps.outbound_streams(to[0]));
  if (!stream) return false;
  s.assoc = to[0];
  s.stream = *stream;
  // headed(d, cfg_), written where it goes (no temporary view copied in).
  s.data = d;
  s.data.routing_context = cfg_.routing_context;
  if (cfg_.network_appearance) s.data.network_appearance = cfg_.network_appearance;
  s.data.correlation_id.reset();
  s.owned.reset();
  return true;
}

void ApplicationServer::deliver(DataView v, std::optional<Data> owned, SgpContext& ctx) {
  v = headed(v, cfg_);
  if (mode() == TrafficMode::Broadcast && tag_correlation_) {
    // RFC 4666 4.3.4.3: after an ASP became active, the first broadcast
    // DATA carries a unique Correlation Id (the same on every copy).
    v.correlation_id = next_correlation_id_++;
    tag_correlation_ = false;
  }
  const auto to = targets(v.protocol_data.sls);
  if (to.empty()) {  // not reached while AS-ACTIVE (AC2PN leaves it at 0): counted all the same
    ctx.drop(0, DropReason::NoActiveAsp);
    return;
  }
  for (std::size_t i = 0; i < to.size(); ++i) {
    const AssocId a = to[i];
    const auto stream = data_stream(v.protocol_data.sls, ctx.asps.outbound_streams(a));
    if (!stream) {
      ctx.drop(a, DropReason::NoDataStream);
      continue;
    }
    SendData s{a, *stream, v, std::nullopt};
    if (owned) {
      // A queued message: the action owns it (the last copy takes it over).
      s.owned = i + 1 == to.size() ? std::move(*owned) : *owned;
      s.owned->routing_context = v.routing_context;
      s.owned->network_appearance = v.network_appearance;
      s.owned->correlation_id = v.correlation_id;
      s.data = DataView{};
    }
    ctx.out.push_back(std::move(s));
  }
}

void ApplicationServer::flush(SgpContext& ctx) {
  while (!queue_.empty() && state_ == AsState::Active) {
    Data d = std::move(queue_.front());
    queue_.pop_front();
    const DataView v = to_view(d);
    deliver(v, std::move(d), ctx);
  }
}

void ApplicationServer::route(const DataView& d, SgpContext& ctx) {
  switch (state_) {
    case AsState::Active:
      deliver(d, std::nullopt, ctx);
      break;
    case AsState::Pending:
      if (queue_.size() >= ctx.cfg.pending_queue_limit)
        ctx.drop(0, DropReason::QueueFull);
      else
        queue_.push_back(to_owned(d));
      break;
    default:
      ctx.drop(0, DropReason::NoActiveAsp);
      break;
  }
}

}  // namespace mxua
