#include "rserpool/asap/service/pool_user_service.hpp"

#include <boost/asio/post.hpp>

#include <variant>

#include "pool_user_impl.hpp"
#include "rserpool/base/log.hpp"

namespace rserpool::asap {

namespace {
PoolUserConfig with_registrars(PoolUserConfig pu, const RegistrarAccess& access) {
  if (pu.hunt.registrars.empty()) pu.hunt.registrars = access.registrars;
  return pu;
}
}  // namespace

PoolUserService::Impl::Impl(boost::asio::io_context& io_context, PoolUserConfig pu, RegistrarAccess access,
                            const Clock& c)
    : io(io_context),
      clock(c),
      core(with_registrars(std::move(pu), access)),
      timer(io_context, c, [this] { step([&](Actions& out) { core.on_timeout(clock.now(), out); }); }),
      links(io_context, std::move(access), name, [this] {
        service_detail::RegistrarLinks::Events e;
        e.connected = [this](AssocId id) {
          ++counters.registrar_associations;
          step([&](Actions& out) { core.on_registrar_connected(id, clock.now(), out); });
        };
        e.connect_failed = [this](AssocId id) {
          step([&](Actions& out) { core.on_registrar_connect_failed(id, clock.now(), out); });
        };
        e.lost = [this](AssocId id) {
          log::get("asap")->info("{}: registrar association {} lost", name, id);
          step([&](Actions& out) { core.on_registrar_lost(id, clock.now(), out); });
        };
        e.message = [this](AssocId id, const wire::asap::Message& m) {
          step([&](Actions& out) { core.on_registrar_message(id, m, clock.now(), out); });
        };
        e.decode_error = [this] { ++counters.decode_errors; };
        return e;
      }()) {}

void PoolUserService::Impl::run(Actions& out) {
  for (auto& a : out) {
    if (closed) return;
    std::visit([this](auto& x) { execute(x); }, a);
  }
}

void PoolUserService::Impl::rearm() {
  if (closed) return;
  timer.arm(core.next_deadline());
  // A handler run by a re-armed session may touch others: take the list.
  while (!touched.empty()) {
    const SessionId id = touched.back();
    touched.pop_back();
    auto it = sessions.find(id);
    if (it == sessions.end()) continue;
    if (auto s = it->second.lock()) s->rearm();
  }
}

// Held for the duration of one action: a handler may destroy its session.
std::shared_ptr<PoolSession::Impl> PoolUserService::Impl::session(SessionId id) {
  auto it = sessions.find(id);
  if (it == sessions.end()) return nullptr;
  auto s = it->second.lock();
  if (!s || s->closed) return nullptr;
  touched.push_back(id);
  return s;
}

template <class T>
void PoolUserService::Impl::execute(T& a) {
  using A = std::decay_t<T>;
  if constexpr (std::is_same_v<A, ConnectRegistrar>) {
    log::get("asap")->debug("{}: connecting to registrar {} ({})", name, a.assoc, a.address.to_string());
    links.connect(a.assoc, a.address);
  } else if constexpr (std::is_same_v<A, DisconnectRegistrar>) {
    links.disconnect(a.assoc);
  } else if constexpr (std::is_same_v<A, SendToRegistrar>) {
    if (std::holds_alternative<wire::asap::HandleResolution>(a.message)) ++counters.resolutions_sent;
    if (const auto* u = std::get_if<wire::asap::EndpointUnreachable>(&a.message)) {
      ++counters.unreachable_reports;
      log::get("asap")->info("{}: reporting PE {:#x} of {} unreachable", name, u->pe_id,
                             u->pool_handle.to_string());
    }
    links.send(a.assoc, a.message);
  } else if constexpr (std::is_same_v<A, PoolResolved>) {
    pool_resolved(a.pool, false);
  } else if constexpr (std::is_same_v<A, PoolUpdated>) {
    pool_resolved(a.pool, true);
  } else if constexpr (std::is_same_v<A, ResolutionFailed>) {
    ++counters.resolutions_failed;
    auto [it, first] = failing.try_emplace(a.pool.to_string(), a.reason);
    const bool news = first || it->second != a.reason;
    it->second = a.reason;
    log::get("asap")->log(news ? spdlog::level::info : spdlog::level::debug, "{}: resolution of {} failed: {}{}",
                          name, a.pool.to_string(), to_string(a.reason),
                          news ? " (repeats are logged at debug level until it changes)" : "");
    pool_failed(a);
  } else if constexpr (std::is_same_v<A, ConnectPe>) {
    if (auto s = session(a.session)) s->connect_pe(a.pe);
  } else if constexpr (std::is_same_v<A, DisconnectPe>) {
    if (auto s = session(a.session)) s->disconnect_pe();
  } else if constexpr (std::is_same_v<A, AbortPe>) {
    if (auto s = session(a.session)) s->abort_pe(a);
  } else if constexpr (std::is_same_v<A, SendControlToPe>) {
    if (auto s = session(a.session)) s->send_control(a.message);
  } else if constexpr (std::is_same_v<A, SendDataToPe>) {
    if (auto s = session(a.session)) s->send_data(std::move(a.data), a.pass_through);
  } else if constexpr (std::is_same_v<A, FailoverCallback>) {
    if (auto s = session(a.session)) {
      log::get("asap")->info("{}: session {} fails over from PE {:#x} to PE {:#x}", name, a.session, a.failed_pe,
                             a.new_pe.id);
      if (auto h = s->on_failover) h(a);
    }
  } else if constexpr (std::is_same_v<A, FailoverIndication>) {
    if (auto s = session(a.session)) {
      ++counters.failovers;
      ++s->counters.failovers;
      if (auto h = s->on_failover_done) h(a);
    }
  } else if constexpr (std::is_same_v<A, SessionStalled>) {
    if (auto s = session(a.session)) {
      log::warn_limited(log::get("asap"), "session stalled", "{}: session {} has no PE to fail over to", name,
                        a.session);
      if (auto h = s->on_stalled) h();
    }
  } else if constexpr (std::is_same_v<A, ConnectAddress>) {
    if (auto s = session(a.session)) s->connect_address(a.channel, a.address);
  } else if constexpr (std::is_same_v<A, SendDataToAddress>) {
    if (auto s = session(a.session)) s->send_to_address(a.channel, std::move(a.data));
  } else if constexpr (std::is_same_v<A, DisconnectAddress>) {
    if (auto s = session(a.session)) s->disconnect_address(a.channel);
  } else if constexpr (std::is_same_v<A, PassThroughFailed>) {
    if (auto s = session(a.session)) {
      ++s->counters.pass_through_failures;
      s->counters.pass_through_dropped += a.dropped;
      log::get("asap")->info("{}: session {}: pass-through channel {} {}: {} message(s) dropped", name, a.session,
                             a.channel, to_string(a.reason), a.dropped);
      if (auto h = s->on_pass_through_failed) h(a);
    }
  } else if constexpr (std::is_same_v<A, BusinessCardReceived>) {
    if (auto s = session(a.session); s && s->on_business_card) {
      auto h = s->on_business_card;
      h(a);
    }
  } else {
    // PE-side actions (registration, PU control) are not produced here.
  }
}

void PoolUserService::Impl::pool_resolved(const PoolHandle& pool, bool pushed) {
  const TimePoint now = clock.now();
  if (!failing.empty() && failing.erase(pool.to_string()) != 0)
    log::get("asap")->info("{}: {} resolves again", name, pool.to_string());
  if (!pushed) {
    if (auto it = resolving.find(pool); it != resolving.end()) {
      auto handlers = std::move(it->second);
      resolving.erase(it);
      const auto list = core.cached_list(pool);
      for (auto& h : handlers) h(list);
    }
    if (auto it = awaiting_server.find(pool); it != awaiting_server.end()) {
      auto handlers = std::move(it->second);
      awaiting_server.erase(it);
      // select(), not get_primary_server(): an answer that lists only failed
      // PEs must not start another resolution round per waiting caller.
      for (auto& h : handlers) h(core.select(pool, {}, now));
    }
  }
  notify_watcher(pool);
  // Sessions waiting for this pool (resolving, stalled) continue.
  std::vector<std::shared_ptr<PoolSession::Impl>> waiting;
  for (auto& [id, weak] : sessions)
    if (auto s = weak.lock(); s && !s->closed && s->pool == pool && s->core.state() != Session::State::established &&
                              s->core.state() != Session::State::connecting)
      waiting.push_back(std::move(s));
  for (auto& s : waiting) {
    touched.push_back(s->core.id());
    Actions out;
    s->core.on_pool_resolved(now, out);
    run(out);
  }
}

void PoolUserService::Impl::pool_failed(const ResolutionFailed& f) {
  if (auto it = resolving.find(f.pool); it != resolving.end()) {
    auto handlers = std::move(it->second);
    resolving.erase(it);
    for (auto& h : handlers) h(unexpected(f));
  }
  if (auto it = awaiting_server.find(f.pool); it != awaiting_server.end()) {
    auto handlers = std::move(it->second);
    awaiting_server.erase(it);
    for (auto& h : handlers) h(std::nullopt);
  }
  notify_watcher(f.pool);
  const TimePoint now = clock.now();
  std::vector<std::shared_ptr<PoolSession::Impl>> waiting;
  for (auto& [id, weak] : sessions)
    if (auto s = weak.lock(); s && !s->closed && s->pool == f.pool) waiting.push_back(std::move(s));
  for (auto& s : waiting) {
    touched.push_back(s->core.id());
    Actions out;
    s->core.on_pool_resolution_failed(now, out);
    run(out);
  }
}

void PoolUserService::Impl::notify_watcher(const PoolHandle& pool) {
  auto it = watches.find(pool);
  if (it == watches.end()) return;
  auto list = core.cached_list(pool);
  if (it->second.last && *it->second.last == list) return;
  it->second.last = list;
  auto cb = it->second.cb;  // the callback may unwatch()
  cb(list);
}

void PoolUserService::Impl::shutdown() {
  closed = true;
  watches.clear();
  for (auto& [id, weak] : sessions)
    if (auto s = weak.lock()) s->shutdown();
  sessions.clear();
  timer.cancel();
  links.close_all();
  resolving.clear();
  awaiting_server.clear();
}

// ---- public API ---------------------------------------------------------

PoolUserService::PoolUserService(boost::asio::io_context& io, PoolUserConfig pu, RegistrarAccess access,
                                 const Clock& clock)
    : impl_(std::make_shared<Impl>(io, std::move(pu), std::move(access), clock)) {}

PoolUserService::~PoolUserService() {
  if (impl_) impl_->shutdown();
}

void PoolUserService::resolve(const PoolHandle& pool, ResolveHandler h) {
  auto& s = *impl_;
  if (s.closed) return;
  if (s.core.is_fresh(pool, s.clock.now())) {
    boost::asio::post(s.io, [weak = s.weak_from_this(), pool, h = std::move(h)] {
      auto self = weak.lock();
      if (!self || self->closed) return;
      auto list = self->core.cached_list(pool);
      if (list.empty()) {
        h(unexpected(ResolutionFailed{pool, ResolutionFailure::empty_pool, {}}));
        return;
      }
      h(std::move(list));
    });
    return;
  }
  s.resolving[pool].push_back(std::move(h));
  s.step([&](Actions& out) { s.core.resolve(pool, s.clock.now(), out); });
}

void PoolUserService::watch(const PoolHandle& pool, WatchHandler cb) {
  auto& s = *impl_;
  if (s.closed) return;
  auto& w = s.watches[pool];
  w.cb = std::move(cb);
  w.last.reset();
  const bool fresh = s.core.is_fresh(pool, s.clock.now());
  s.step([&](Actions& out) { s.core.watch(pool, s.clock.now(), out); });
  if (fresh) {
    boost::asio::post(s.io, [weak = s.weak_from_this(), pool] {
      if (auto self = weak.lock(); self && !self->closed) self->notify_watcher(pool);
    });
  }
}

void PoolUserService::unwatch(const PoolHandle& pool) {
  auto& s = *impl_;
  // find + erase(iterator): erase(key) makes GCC 12 warn (-Wstringop-overread).
  if (auto it = s.watches.find(pool); it != s.watches.end()) s.watches.erase(it);
  s.core.unwatch(pool);
  if (!s.closed) s.rearm();
}

namespace {
template <class Ask>
void answer_server(PoolUserService::Impl& s, const PoolHandle& pool, PoolUserService::ServerHandler h, Ask ask) {
  if (s.closed) return;
  std::optional<PoolElementParameter> pe;
  s.step([&](Actions& out) { pe = ask(out); });
  if (pe) {
    boost::asio::post(s.io, [weak = s.weak_from_this(), h = std::move(h), pe = std::move(*pe)] {
      if (auto self = weak.lock(); self && !self->closed) h(pe);
    });
    return;
  }
  // A miss always leaves a resolution outstanding: PoolResolved or
  // ResolutionFailed answers the handler.
  s.awaiting_server[pool].push_back(std::move(h));
}
}  // namespace

void PoolUserService::get_primary_server(const PoolHandle& pool, ServerHandler h) {
  auto& s = *impl_;
  answer_server(s, pool, std::move(h),
                [&](Actions& out) { return s.core.get_primary_server(pool, s.clock.now(), out); });
}

void PoolUserService::get_next_server(const PoolHandle& pool, ServerHandler h) {
  auto& s = *impl_;
  answer_server(s, pool, std::move(h),
                [&](Actions& out) { return s.core.get_next_server(pool, s.clock.now(), out); });
}

void PoolUserService::report_failure(const PoolHandle& pool, PeIdentifier pe) {
  auto& s = *impl_;
  s.step([&](Actions& out) { s.core.report_failure(pool, pe, s.clock.now(), out); });
}

std::unique_ptr<PoolSession> PoolUserService::open_session(const PoolHandle& pool, SessionOptions options) {
  auto& s = *impl_;
  const SessionId id = s.next_session++;
  SessionConfig cfg{id, pool, options.max_queued, {}, options.silence_timeout};
  cfg.pass_through.max_channels = options.max_pass_through_channels;
  cfg.pass_through.max_queued = options.max_pass_through_queued;
  auto impl = std::make_shared<PoolSession::Impl>(impl_, std::move(cfg), std::move(options));
  s.sessions[id] = impl;
  // Opened from the io_context so the caller can install its handlers first.
  boost::asio::post(s.io, [weak = std::weak_ptr<PoolSession::Impl>(impl)] {
    if (auto session = weak.lock())
      session->step([&](Actions& out) {
        if (auto svc = session->service.lock()) session->core.open(svc->clock.now(), out);
        return true;
      });
  });
  return std::make_unique<PoolSession>(std::move(impl));
}

std::optional<AssocId> PoolUserService::home() const { return impl_->core.hunt().home(); }
const PoolUserServiceCounters& PoolUserService::counters() const { return impl_->counters; }

}  // namespace rserpool::asap
