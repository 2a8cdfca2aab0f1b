#include "rserpool/asap/service/pool_element_service.hpp"

#include <variant>

#include "registrar_links.hpp"
#include "rserpool/base/log.hpp"
#include "rserpool/transport/deadline_timer.hpp"
#include "rserpool/transport/endpoint.hpp"

namespace rserpool::asap {

using service_detail::RegistrarLinks;

struct PoolElementService::Impl : std::enable_shared_from_this<Impl> {
  Impl(boost::asio::io_context& io_context, PoolElementConfig pe, RegistrarAccess access, TakeoverListen takeover,
       const Clock& c)
      : io(io_context),
        clock(c),
        takeover_cfg(std::move(takeover)),
        pool_handle(pe.pool),
        core(with_registrars(std::move(pe), access)),
        name("pe/" + core_pool_name() + "/" + std::to_string(core.pe_id())),
        timer(io_context, c, [this] { step([&](Actions& out) { core.on_timeout(clock.now(), out); }); }),
        links(io_context, std::move(access), name, link_events()) {}

  static PoolElementConfig with_registrars(PoolElementConfig pe, const RegistrarAccess& access) {
    if (pe.hunt.registrars.empty()) pe.hunt.registrars = access.registrars;
    return pe;
  }
  std::string core_pool_name() const { return pool_handle.to_string(); }

  RegistrarLinks::Events link_events() {
    RegistrarLinks::Events e;
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
      auto self = shared_from_this();  // a callback may destroy the service
      const bool keep_alive = std::holds_alternative<wire::asap::EndpointKeepAlive>(m);
      if (keep_alive) ++counters.keep_alives;
      in_keep_alive = keep_alive;
      bool taken = true;
      const auto dropped = core.dropped_by_registrar();
      step([&](Actions& out) { taken = core.on_registrar_message(id, m, clock.now(), out); });
      in_keep_alive = false;
      if (closed) return;
      if (core.dropped_by_registrar() != dropped) {
        ++counters.registrations_dropped;
        log::warn_limited(log::get("asap"), "registration dropped by the registrar",
                          "{}: registrar {} dropped our registration (lifetime ran out there): registering again",
                          name, id);
      }
      if (!taken && id >= kInboundAssocBase) {
        // Whoever opened this association, a PE only takes registrar
        // messages from it (the core said no).
        const auto n = ++counters.inbound_ignored;
        log::warn_limited(log::get("asap"), "message not for a PE on an inbound association",
                          "{}: ignored {} on inbound association {} ({} so far)", name,
                          wire::asap::to_string(wire::asap::message_type(m)), id, n);
      }
    };
    e.decode_error = [this] { ++counters.decode_errors; };
    e.accepted_up = [this](AssocId id) {
      ++counters.inbound_associations;
      log::get("asap")->info("{}: registrar association {} accepted on ASAP port {}", name, id, asap_port());
    };
    return e;
  }

  // Opens the ASAP listener and makes the registrar associations start
  // from its port. Soft failure: the PE still registers.
  void listen() {
    if (!takeover_cfg.enabled) return;
    transport::EndpointConfig cfg = registrar_endpoint(links.access(), TransportAddress{});
    cfg.remote_addresses.clear();
    cfg.remote_port = 0;
    cfg.local_addresses = takeover_cfg.local_addresses;
    cfg.local_port = takeover_cfg.port;
    cfg.reuse_port = true;
    cfg.name = name + "/asap";
    auto l = transport::Listener::open(io, std::move(cfg),
                                       [weak = weak_from_this()](const std::shared_ptr<transport::Association>& a)
                                           -> std::shared_ptr<transport::AssociationHandler> {
                                         auto self = weak.lock();
                                         if (!self || self->closed) return nullptr;
                                         return self->accept_registrar(a);
                                       });
    if (!l) {
      // Name what was tried: the addresses (or the wildcard) and the port.
      std::string where = takeover_cfg.local_addresses.empty() ? std::string("the wildcard address") : std::string();
      for (const auto& a : takeover_cfg.local_addresses) where += (where.empty() ? "" : ",") + a.to_string();
      log::get("asap")->warn("{}: cannot listen for registrar takeovers on {} port {}{}: {}", name, where,
                             takeover_cfg.port, takeover_cfg.port == 0 ? " (ephemeral)" : "", l.error().message());
      return;
    }
    listener = std::move(*l);
    links.set_local_endpoint(takeover_cfg.local_addresses, listener->port());
    log::get("asap")->info("{}: ASAP transport port {} (registrar takeovers)", name, listener->port());
  }

  std::shared_ptr<transport::AssociationHandler> accept_registrar(const std::shared_ptr<transport::Association>& a) {
    if (links.accepted_count() >= takeover_cfg.max_associations) {
      ++counters.inbound_refused;
      log::warn_limited(log::get("asap"), "inbound registrar association refused",
                        "{}: refused a registrar association: {} already open", name,
                        takeover_cfg.max_associations);
      return nullptr;
    }
    const AssocId id = next_inbound++;
    return links.accept(id, a);
  }

  std::uint16_t asap_port() const { return listener ? listener->port() : 0; }

  // Runs one core event, executes what it asked for in order, and re-arms
  // the OS timer at the core's next deadline. The shared_ptr keeps this
  // alive if a callback destroys the service.
  template <class F>
  void step(F&& f) {
    if (closed) return;
    auto self = shared_from_this();
    Actions out;
    f(out);
    run(out);
    if (!closed) timer.arm(core.next_deadline());
  }

  void run(Actions& out) {
    for (auto& a : out) {
      if (closed) return;
      std::visit([this](auto& x) { execute(x); }, a);
    }
  }

  void execute(ConnectRegistrar& c) {
    log::get("asap")->debug("{}: connecting to registrar {} ({})", name, c.assoc, c.address.to_string());
    links.connect(c.assoc, c.address);
  }
  void execute(DisconnectRegistrar& d) { links.disconnect(d.assoc); }
  void execute(SendToRegistrar& s) { links.send(s.assoc, s.message); }
  void execute(RegistrationResult& r) {
    if (r.code == RegistrationCode::granted)
      ++counters.registrations_granted;
    else if (r.code != RegistrationCode::no_registrar)
      ++counters.registrations_failed;
    log::get("asap")->info("{}: registration{} {}", name, r.renewal ? " renewal" : "", to_string(r.code));
    if (auto cb = on_registration) cb(r);  // a copy: the callback may replace it
  }
  void execute(DeregistrationResult& r) {
    log::get("asap")->info("{}: deregistration {}", name, to_string(r.code));
    if (auto done = std::exchange(on_deregistered, nullptr)) done(r);
  }
  void execute(HomeRegistrarChanged& h) {
    const char* how = "hunt";
    if (h.assoc >= kInboundAssocBase) {
      ++counters.homes_by_takeover;
      how = "takeover on inbound association";
    } else if (in_keep_alive) {
      ++counters.homes_by_keep_alive;
      how = "H bit";
    } else {
      ++counters.homes_by_hunt;
    }
    log::get("asap")->info("{}: home registrar is now {} (server id {:#x}, by {})", name, h.assoc, h.server_id, how);
    if (auto cb = on_home_changed) cb(h);
  }
  template <class T>
  void execute(T&) {}  // pool-user and session actions: not produced by a PE

  void shutdown() {
    closed = true;
    if (listener) listener->close();
    timer.cancel();
    links.close_all();
  }

  boost::asio::io_context& io;
  const Clock& clock;
  TakeoverListen takeover_cfg;
  std::shared_ptr<transport::Listener> listener;
  AssocId next_inbound = kInboundAssocBase;
  bool in_keep_alive = false;  // HomeRegistrarChanged now comes from an H bit
  PoolHandle pool_handle;
  PoolElement core;
  std::string name;
  transport::DeadlineTimer timer;
  RegistrarLinks links;
  PoolElementServiceCounters counters;
  std::function<void(const RegistrationResult&)> on_registration;
  std::function<void(const HomeRegistrarChanged&)> on_home_changed;
  std::function<void(const DeregistrationResult&)> on_deregistered;
  bool closed = false;
};

PoolElementService::PoolElementService(boost::asio::io_context& io, PoolElementConfig pe, RegistrarAccess access,
                                       TakeoverListen takeover, const Clock& clock)
    : impl_(std::make_shared<Impl>(io, std::move(pe), std::move(access), std::move(takeover), clock)) {
  impl_->listen();
}

PoolElementService::~PoolElementService() {
  if (impl_) impl_->shutdown();
}

void PoolElementService::on_registration(std::function<void(const RegistrationResult&)> cb) {
  impl_->on_registration = std::move(cb);
}
void PoolElementService::on_home_changed(std::function<void(const HomeRegistrarChanged&)> cb) {
  impl_->on_home_changed = std::move(cb);
}

void PoolElementService::register_pe() {
  impl_->step([&](Actions& out) { impl_->core.register_pe(impl_->clock.now(), out); });
}

void PoolElementService::update_policy(const PolicyParameters& p) {
  impl_->step([&](Actions& out) { impl_->core.update_policy(p, impl_->clock.now(), out); });
}

void PoolElementService::deregister(std::function<void(const DeregistrationResult&)> done) {
  impl_->on_deregistered = std::move(done);
  impl_->step([&](Actions& out) { impl_->core.deregister(impl_->clock.now(), out); });
}

PoolElement::State PoolElementService::state() const { return impl_->core.state(); }
PeIdentifier PoolElementService::pe_id() const { return impl_->core.pe_id(); }
std::optional<AssocId> PoolElementService::home() const { return impl_->core.hunt().home(); }
const PoolHandle& PoolElementService::pool() const { return impl_->pool_handle; }
const PoolElementServiceCounters& PoolElementService::counters() const { return impl_->counters; }
std::uint16_t PoolElementService::asap_port() const { return impl_->asap_port(); }

}  // namespace rserpool::asap
