#include "rserpool/asap/session.hpp"

#include <algorithm>

namespace rserpool::asap {

namespace {
constexpr Timer kSilence{TimerKind::session_silence, 0};
constexpr Timer kStallRetry{TimerKind::session_stall_retry, 0};
constexpr Duration kMinStallRetry = std::chrono::milliseconds(100);
}  // namespace

std::string_view to_string(Session::State s) noexcept {
  switch (s) {
    case Session::State::idle: return "idle";
    case Session::State::resolving: return "resolving";
    case Session::State::connecting: return "connecting";
    case Session::State::established: return "established";
    case Session::State::aborting: return "aborting";
    case Session::State::stalled: return "stalled";
    case Session::State::closed: return "closed";
  }
  return "?";
}

Session::Session(SessionConfig config, PoolUser& pool_user)
    : config_(std::move(config)), pool_user_(pool_user), channels_(config_.id, config_.pass_through) {}

std::optional<PeIdentifier> Session::current_pe() const noexcept {
  if (!current_) return std::nullopt;
  return current_->id;
}

void Session::on_timeout(TimePoint now, Actions& out) {
  while (auto t = timers_.take_due(now)) {
    if (t->kind == TimerKind::session_silence) {
      if (state_ != State::established || !current_) continue;
      // Declared failed; the association is aborted and its loss, with what
      // it hands back, arrives as on_pe_failure().
      state_ = State::aborting;
      out.push_back(AbortPe{config_.id, current_->id, config_.silence_timeout});
    } else if (t->kind == TimerKind::session_stall_retry) {
      if (state_ != State::stalled) continue;
      pool_user_.resolve(config_.pool, now, out);
      if (state_ == State::stalled)
        timers_.arm(kStallRetry, now + std::max(pool_user_.stale_cache(), kMinStallRetry));
    }
  }
}

void Session::heard_from_pe() { timers_.cancel(kSilence); }

void Session::send_data(Bytes data, bool pass_through, TimePoint now, Actions& out) {
  out.push_back(SendDataToPe{config_.id, std::move(data), pass_through});
  // The first data after the PE's last message starts the wait for an
  // answer; more data does not push it back.
  if (config_.silence_timeout > Duration::zero() && !timers_.armed(kSilence))
    timers_.arm(kSilence, now + config_.silence_timeout);
}

void Session::open(TimePoint now, Actions& out) {
  if (state_ != State::idle && state_ != State::closed) return;
  state_ = State::resolving;
  if (auto pe = pool_user_.get_primary_server(config_.pool, now, out)) connect(std::move(*pe), out);
}

void Session::close(TimePoint /*now*/, Actions& out) {
  if (state_ == State::connecting || state_ == State::established || state_ == State::aborting)
    out.push_back(DisconnectPe{config_.id});
  channels_.close_all(out);
  timers_.clear();
  state_ = State::closed;
  served_ = false;
  current_.reset();
  failed_pe_.reset();
  tried_.clear();
  queue_.clear();
}

void Session::connect(PoolElementParameter pe, Actions& out) {
  state_ = State::connecting;
  timers_.clear();  // a new association: nothing to wait for yet
  current_ = std::move(pe);
  out.push_back(ConnectPe{config_.id, *current_});
}

bool Session::connect_next(TimePoint now, Actions& out) {
  // The PE's business card, when it sent one, is the failover order
  // (RFC 5352 3.9 BC2); otherwise the pool's policy decides.
  for (const auto& pe : card_) {
    if (std::find(tried_.begin(), tried_.end(), pe.id) != tried_.end()) continue;
    connect(pe, out);
    return true;
  }
  if (auto pe = pool_user_.select(config_.pool, tried_, now)) {
    connect(std::move(*pe), out);
    return true;
  }
  return false;
}

bool Session::send(Bytes data, TimePoint now, Actions& out) {
  if (state_ == State::closed) return false;
  if (state_ == State::established && queue_.empty()) {
    send_data(std::move(data), false, now, out);
    return true;
  }
  if (queue_.size() >= config_.max_queued) return false;
  queue_.push_back(std::move(data));
  return true;
}

bool Session::send_to(PeIdentifier pe, Bytes data, TimePoint now, Actions& out) {
  if (state_ == State::closed) return false;
  if (current_ && current_->id == pe && state_ != State::resolving && state_ != State::stalled)
    return send(std::move(data), now, out);
  // Moving away while the silent PE's association is being aborted would
  // lose its hand-back: wait for the failure report.
  if (state_ == State::aborting) return false;
  std::optional<PoolElementParameter> target = pool_user_.cached_pe(config_.pool, pe);
  if (!target) {
    auto it = std::find_if(card_.begin(), card_.end(), [pe](const auto& p) { return p.id == pe; });
    if (it != card_.end()) target = *it;
  }
  if (!target) return false;
  if (queue_.size() >= config_.max_queued) return false;
  // A deliberate move, not a failover: no cookie, no callback.
  if (state_ == State::connecting || state_ == State::established) out.push_back(DisconnectPe{config_.id});
  failed_pe_.reset();
  tried_.clear();
  queue_.push_back(std::move(data));
  connect(std::move(*target), out);
  return true;
}

bool Session::send_pass_through(Bytes data, TimePoint now, Actions& out) {
  if (state_ != State::established) return false;
  send_data(std::move(data), true, now, out);
  return true;
}

Result<ChannelId, PassThroughError> Session::send_to_address(const TransportParameter& address, Bytes data,
                                                             Actions& out) {
  if (state_ == State::closed) return unexpected(PassThroughError::session_closed);
  return channels_.send(address, std::move(data), out);
}

void Session::close_address(const TransportParameter& address, Actions& out) { channels_.close(address, out); }

void Session::on_address_connected(ChannelId channel, Actions& out) { channels_.on_connected(channel, out); }

void Session::on_address_failed(ChannelId channel, std::size_t undelivered, Actions& out) {
  channels_.on_failed(channel, undelivered, out);
}

void Session::on_pool_resolved(TimePoint now, Actions& out) {
  if (state_ != State::resolving && state_ != State::stalled) return;
  if (connect_next(now, out)) return;
  stall(now, out);
}

void Session::stall(TimePoint now, Actions& out) {
  const bool was_stalled = state_ == State::stalled;
  state_ = State::stalled;
  // The next list (a later resolution or a pushed update) gets a clean
  // slate; PoolUser still skips PEs whose failure is recent.
  tried_.clear();
  // The core waits for a resolution, it never polls the registrar by
  // itself: ask again every stale_cache while nobody is usable.
  if (!was_stalled || !timers_.armed(kStallRetry))
    timers_.arm(kStallRetry, now + std::max(pool_user_.stale_cache(), kMinStallRetry));
  out.push_back(SessionStalled{config_.id});
}

void Session::on_pool_resolution_failed(TimePoint now, Actions& out) {
  if (state_ != State::resolving) return;
  stall(now, out);
}

void Session::on_pe_connected(TimePoint now, Actions& out) {
  if (state_ != State::connecting || !current_) return;
  state_ = State::established;
  // A failure before the session was ever served is not a failover: there
  // is no state to carry over and nothing for the application to re-sync.
  if (failed_pe_ && served_) {
    // Ordering is the point of enhanced mode: the new PE must see the
    // cookie before anything else, and the application must be able to
    // re-synchronise before the old traffic reaches the new PE.
    if (cookie_) out.push_back(SendControlToPe{config_.id, wire::asap::CookieEcho{*cookie_}});
    out.push_back(FailoverCallback{config_.id, *failed_pe_, *current_});
    flush_queue(now, out);
    out.push_back(FailoverIndication{config_.id, current_->id});
    failed_pe_.reset();
  } else {
    flush_queue(now, out);
    failed_pe_.reset();
  }
  served_ = true;
  tried_.clear();
}

void Session::flush_queue(TimePoint now, Actions& out) {
  for (auto& d : queue_) send_data(std::move(d), false, now, out);
  queue_.clear();
}

void Session::on_pe_connect_failed(TimePoint now, Actions& out) {
  if (state_ != State::connecting) return;
  fail_current({}, now, out);
}

void Session::on_pe_failure(std::vector<Bytes> unsent, TimePoint now, Actions& out) {
  if (state_ != State::connecting && state_ != State::established && state_ != State::aborting) return;
  out.push_back(DisconnectPe{config_.id});
  fail_current(std::move(unsent), now, out);
}

void Session::fail_current(std::vector<Bytes> unsent, TimePoint now, Actions& out) {
  timers_.cancel(kSilence);
  const PeIdentifier failed = current_->id;
  pool_user_.report_failure(config_.pool, failed, now, out);
  // What the transport handed back is older than anything queued since.
  queue_.insert(queue_.begin(), std::make_move_iterator(unsent.begin()), std::make_move_iterator(unsent.end()));
  tried_.push_back(failed);
  failed_pe_ = failed;
  current_.reset();
  if (connect_next(now, out)) return;
  // Nobody left in the list: ask the registrar for a fresh one. tried_
  // stays, so a business card cannot send us back to a PE that just failed.
  state_ = State::resolving;
  pool_user_.resolve(config_.pool, now, out);
}

void Session::on_pe_data(TimePoint /*now*/) { heard_from_pe(); }

void Session::on_pe_message(const wire::asap::Message& m, TimePoint /*now*/, Actions& out) {
  heard_from_pe();
  if (const auto* c = std::get_if<wire::asap::Cookie>(&m)) {
    cookie_ = c->cookie;  // keep only the newest
  } else if (const auto* b = std::get_if<wire::asap::BusinessCard>(&m)) {
    card_ = b->pool_elements;
    out.push_back(BusinessCardReceived{config_.id, card_.size()});
  }
}

void PeSession::set_cookie(Bytes cookie, Actions& out) {
  out.push_back(SendControlToPu{pu_, wire::asap::Cookie{std::move(cookie)}});
}

void PeSession::send_business_card(std::vector<PoolElementParameter> order, Actions& out) {
  out.push_back(SendControlToPu{pu_, wire::asap::BusinessCard{pool_, std::move(order)}});
}

void PeSession::on_pu_message(const wire::asap::Message& m, Actions& out) {
  if (const auto* e = std::get_if<wire::asap::CookieEcho>(&m)) out.push_back(CookieIndication{pu_, e->cookie});
}

}  // namespace rserpool::asap
