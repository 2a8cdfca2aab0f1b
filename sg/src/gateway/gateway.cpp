#include "sg/gateway/gateway.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>

#include "pool_memory.hpp"
#include "pool_metrics.hpp"
#include "pool_runtime.hpp"
#include "pool_text.hpp"
#include "registrar/server.hpp"
#include "rserpool/base/buffer_pool.hpp"
#include "rserpool/asap/service/pool_user_service.hpp"
#include "rserpool/base/log.hpp"
#include "rserpool/base/time.hpp"
#include "rserpool/ops/prometheus_endpoint.hpp"
#include "rserpool/transport/deadline_timer.hpp"
#include "rserpool/transport/endpoint.hpp"
#include "sg/gateway/pool_user_config.hpp"
#include "sg/routing/flow.hpp"
#include "sg/routing/rendezvous.hpp"
#include "sg/routing/route_table.hpp"
#include "sg/routing/ss7_hold.hpp"
#include "ss7_side.hpp"

namespace sg {
namespace {

namespace tr = rserpool::transport;
using gateway::PoolRuntime;
using gateway::M3uaSide;

auto logger() {
  static auto l = rserpool::log::get("sgd");
  return l;
}

tr::TransportKind kind_of(TransportChoice t) {
  switch (t) {
    case TransportChoice::sctp: return tr::TransportKind::sctp;
    case TransportChoice::tcp: return tr::TransportKind::tcp;
    case TransportChoice::automatic: break;
  }
  return tr::TransportKind::automatic;
}

std::uint64_t clock_seed() {
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^ 0x5347'4457ULL;
}

// Where the co-located registrar is reached from inside the process: its
// first ASAP address, or loopback of the same family when it is a wildcard.
rserpool::IpAddress reach(const std::vector<rserpool::IpAddress>& listen) {
  if (listen.empty()) return rserpool::IpAddress::v4_loopback();
  const auto& a = listen.front();
  if (!a.is_unspecified()) return a;
  return a.is_v6() ? rserpool::IpAddress::v6_loopback() : rserpool::IpAddress::v4_loopback();
}

std::string key_text(const RoutingKey& k, mxua::PcFormat f) {
  std::ostringstream o;
  o << "dpc " << mxua::format_point_code(mxua::PointCode{k.dpc.point_code}, f);
  if (k.dpc.wildcard_bits) o << "/" << unsigned{k.dpc.wildcard_bits};
  if (k.opc) {
    o << " opc " << mxua::format_point_code(mxua::PointCode{k.opc->point_code}, f);
    if (k.opc->wildcard_bits) o << "/" << unsigned{k.opc->wildcard_bits};
  }
  if (k.service_indicators.any()) {
    o << " si";
    for (std::size_t i = 0; i < k.service_indicators.size(); ++i)
      if (k.service_indicators.test(i)) o << " " << i;
  }
  if (k.network_indicator) o << " ni " << unsigned{*k.network_indicator};
  if (k.cics) o << " cic " << k.cics->first << "-" << k.cics->last;
  return o.str();
}

}  // namespace

struct Gateway::Impl {
  Impl(boost::asio::io_context& i, SgConfig c, GatewayOptions o)
      : io(i),
        clock(o.clock ? *o.clock : rserpool::SteadyClock::instance()),
        config(std::move(c)),
        options(o),
        shutdown_timer(i),
        membership_timer(i),
        ss7_hold_timer(i, clock, [this] { flush_ss7_held(); }) {}

  boost::asio::io_context& io;
  const rserpool::Clock& clock;
  SgConfig config;
  GatewayOptions options;
  tr::TransportKind kind = tr::TransportKind::tcp;
  bool aggressive = false;
  GatewayCounters counters;
  RouteTable routes;
  std::unique_ptr<rserpool::registrar::RegistrarServer> registrar;
  std::unique_ptr<rserpool::asap::PoolUserService> pool_user;
  rserpool::asap::RegistrarAccess access;
  std::unique_ptr<M3uaSide> ss7;
  // Transparent comparison: the relay path finds a pool by its handle's
  // bytes without building a std::string per message (issue 16).
  std::map<std::string, std::unique_ptr<PoolRuntime>, std::less<>> pools;
  // Each route's pool, by the route's place in routes.routes() (nullptr:
  // its pool is not running): the relay path finds the pool without
  // looking its name up per message (issue 16). Rebuilt by index_routes()
  // whenever a route or a pool comes or goes.
  std::vector<PoolRuntime*> route_pools;
  gateway::LinkProfile link_profile;
  DistributorProfile distributor_profile;
  rserpool::ops::MetricsRegistry metrics;
  std::shared_ptr<rserpool::ops::PrometheusEndpoint> prometheus;
  boost::asio::steady_timer shutdown_timer;
  boost::asio::steady_timer membership_timer;  // check_empty_pools()
  bool membership_polling = false;             // check_empty_pools() running or armed
  // DATA from the controllers while the SS7 side has no active path to its
  // destination (the rule: sg/routing/ss7_hold.hpp).
  Ss7Hold ss7_hold;
  rserpool::transport::DeadlineTimer ss7_hold_timer;
  std::uint64_t next_seed = 1;
  bool shutting_down = false;
  // The previous run's lists (options.pool_memory) and what this run wrote
  // there last (each pool's list once settled, kept current).
  gateway::RememberedPools remembered;
  gateway::RememberedPools written;
  // The timer handlers hold a weak_ptr to this, never a bare `this`: a wait
  // that expired before the gateway was destroyed is already queued in the
  // io_context, cancel() cannot take it back and it completes with success.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  rserpool::Result<void, std::string> build();
  void start_pool(const PoolSettings& p);
  void index_routes();
  // (Re)starts the pool user's watch of the pool: resolves it now.
  void rewatch(const std::string& name);
  void registrar_event(const rserpool::registrar::Notify& n);
  // Ends a pool's start-up settle as soon as its list is known whole: the
  // co-located registrar downloaded its mate's handlespace (a restarted
  // gateway of a mated pair) and the pool's list equals what it holds.
  void settle_if_complete(PoolRuntime& pool);
  // Its own registrar, no ENRP peer or allowed peer, no other registrar:
  // nobody else places calls on its pools.
  bool gateway_alone() const {
    const auto& co = config.registrar.colocated;
    return co && co->enrp_peers.empty() && co->enrp_allowed.empty() && config.registrar.remote.empty();
  }
  // Once a pool has settled: its list, rewritten to the memory file when it
  // changed.
  void remember(const PoolRuntime& pool);
  // Re-resolves the pools that are empty here and not in the co-located
  // registrar; re-arms itself.
  void check_empty_pools();
  void poll_empty_pools();  // starts check_empty_pools() unless it runs already
  void from_ss7(MtpMessage&& m);
  void to_ss7(MtpMessage&& m);
  // Ss7Hold::flush with the SS7 side as it is now; re-arms the expiry.
  void flush_ss7_held();
  // The SS7 side's two attempts, for Ss7Hold.
  Ss7Hold::Try try_ss7(MtpMessage& m);
  void give_up_ss7(MtpMessage&& m);
  std::vector<mxua::MaskedPointCode> destinations_of(const std::string& pool) const;
  void collect(std::vector<rserpool::ops::Sample>& out) const;
  void finish_shutdown(TimePoint deadline, std::function<void()> done);
};

rserpool::Result<void, std::string> Gateway::Impl::build() {
  kind = tr::resolve_kind(kind_of(config.transport));
  aggressive = config.timers == TimerProfile::aggressive;
  next_seed = options.seed != 0 ? options.seed : clock_seed();
  for (const auto& [category, level] : config.log_levels) rserpool::log::set_level(category, level);
  if (!options.pool_memory.empty()) {
    if (auto read = gateway::read_pool_memory(options.pool_memory)) {
      remembered = std::move(*read);
      written = remembered;
      logger()->info("pool memory {}: {} pool(s) remembered", options.pool_memory, remembered.size());
    } else {
      // Without it the settle's timer decides, as on a first start.
      logger()->warn("pool memory unusable, ignored: {}", read.error());
    }
  }

  // Each side: the timer profile (every packet SACKed at once on the two
  // relaying sides: relay_sctp_profile), then its own `sctp ...` overrides.
  link_profile.sctp = apply(config.pe_sctp, relay_sctp_profile(config.timers));
  link_profile.tcp = aggressive ? tr::TcpMappingOptions::aggressive() : tr::TcpMappingOptions{};
  // Kernel SCTP cannot see a hung but alive controller: M3UA BEAT can.
  const std::uint32_t beat = config.pe_beat_ms.value_or(aggressive ? 500U : 5000U);
  if (beat != 0) link_profile.t_beat = std::chrono::milliseconds(beat);
  link_profile.local_addresses = config.pe_local_ips;

  // How the pools judge their PEs (docs/gateway.md, "Membership").
  auto& dp = distributor_profile;
  // ANSI T1.113 ISUP carries a 14-bit CIC, ITU-T Q.763 a 12-bit one.
  dp.isup_variant = config.pc_format == mxua::PcFormat::Ansi ? ss7::IsupVariant::ansi : ss7::IsupVariant::itu;
  auto& mc = dp.membership;
  mc.retry_initial = aggressive ? std::chrono::milliseconds(500) : std::chrono::milliseconds(2000);
  mc.retry_max = aggressive ? std::chrono::milliseconds(5000) : std::chrono::milliseconds(30000);
  // A reported PE is audited by its home registrar: one keep-alive timeout,
  // then its removal reaches us within one re-resolution (or at once over
  // the subscription).
  const auto keep_alive_timeout = aggressive ? rserpool::registrar::RegistrarConfig::aggressive(1).keep_alive_timeout
                                             : rserpool::registrar::RegistrarConfig::rfc_defaults(1).keep_alive_timeout;
  const rserpool::Duration resolution = aggressive ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(5000);
  mc.audit_bound = config.pe_audit_bound_ms ? rserpool::Duration(std::chrono::milliseconds(*config.pe_audit_bound_ms))
                                            : rserpool::Duration(keep_alive_timeout) + resolution;
  // A suspected PE is alive once M3UA BEAT would have failed it: its two
  // silent intervals plus one for a late event loop.
  if (config.pe_suspicion_ms)
    mc.suspicion = std::chrono::milliseconds(*config.pe_suspicion_ms);
  else if (link_profile.t_beat)
    mc.suspicion = 3 * *link_profile.t_beat;
  else
    mc.suspicion = aggressive ? std::chrono::milliseconds(1500) : std::chrono::milliseconds(15000);

  for (const auto& r : config.routes) {
    if (!r.has_dpc || r.pool.empty()) continue;
    if (auto added = routes.add(Route{r.name, r.key, rserpool::PoolHandle(r.pool)}); !added)
      return rserpool::unexpected("route " + r.name + ": " + std::string(to_string(added.error())));
  }

  if (const auto& co = config.registrar.colocated) {
    rserpool::registrar::ServerConfig sc;
    std::uint32_t id = co->server_id.value_or(0);
    while (id == 0) id = static_cast<std::uint32_t>(std::mt19937_64(next_seed)());
    sc.core = aggressive ? rserpool::registrar::RegistrarConfig::aggressive(id)
                         : rserpool::registrar::RegistrarConfig::rfc_defaults(id);
    sc.core.seed = next_seed;
    if (co->keep_alive_interval_ms) sc.core.keep_alive_interval = std::chrono::milliseconds(*co->keep_alive_interval_ms);
    if (co->keep_alive_timeout_ms) sc.core.keep_alive_timeout = std::chrono::milliseconds(*co->keep_alive_timeout_ms);
    sc.kind = kind;
    sc.asap_addresses = co->asap_ips;
    sc.asap_port = co->asap_port;
    sc.enrp_addresses = co->enrp_ips;
    sc.enrp_port = co->enrp_port;
    sc.enrp_peers = co->enrp_peers;
    sc.enrp_allowed = co->enrp_allowed;
    sc.aggressive_transport = aggressive;
    if (!co->sctp.empty()) sc.sctp = apply(co->sctp, sctp_profile(config.timers));
    sc.name = "registrar";
    auto server = rserpool::registrar::RegistrarServer::start(io, std::move(sc));
    if (!server) return rserpool::unexpected("co-located registrar: " + server.error());
    registrar = std::move(*server);
    access.registrars.push_back(rserpool::TransportAddress{reach(co->asap_ips), registrar->asap_port()});
    logger()->info("co-located registrar {:08x}: ASAP port {}, ENRP port {}", registrar->id(), registrar->asap_port(),
                   registrar->enrp_port());
  }
  for (const auto& r : config.registrar.remote) access.registrars.push_back(r);
  access.kind = kind;
  access.aggressive = aggressive;
  if (access.registrars.empty()) return rserpool::unexpected(std::string("no registrar configured"));

  const auto pu = gateway::pool_user_config(aggressive, next_seed + 1);
  pool_user = std::make_unique<rserpool::asap::PoolUserService>(io, pu, access);

  gateway::Ss7Profile sp;
  sp.kind = kind;
  sp.sctp = apply(config.ss7.sctp, relay_sctp_profile(config.timers));
  sp.tcp = link_profile.tcp;
  sp.retry_initial = aggressive ? std::chrono::milliseconds(500) : std::chrono::milliseconds(1000);
  sp.retry_max = aggressive ? std::chrono::milliseconds(5000) : std::chrono::milliseconds(30000);
  gateway::Ss7Hooks hooks;
  hooks.data = [this](MtpMessage&& m) { from_ss7(std::move(m)); };
  // Out of the M3UA core's notification: sending from inside it would
  // re-enter it.
  hooks.path_active = [this] {
    boost::asio::post(io, [this, token = std::weak_ptr<bool>(alive)] {
      if (!token.expired()) flush_ss7_held();
    });
  };
  auto side = M3uaSide::open(io, config, sp, std::move(hooks), counters);
  if (!side) return rserpool::unexpected(side.error());
  ss7 = std::move(*side);

  for (const auto& [name, p] : config.pools) start_pool(p);
  // A gateway alone that remembers its pools: new calls wait for the list
  // to be whole again too (at most the settle), so that the SS7 side's
  // backlog is spread over the pool rather than piled on the first
  // controller back.
  //
  // A gateway that is not alone (a mate, or registrars other gateways use
  // too) holds its new calls for the settle as well. Another gateway carries
  // these calls if this one dies, and finds each one's controller by the
  // same hash over the pool as it lists it. A call hashed here over the part
  // of the pool registered again so far (the first controllers back after a
  // restart, before the mentor download) may sit on a controller the other
  // would not pick: if this gateway then died, the call's messages would
  // reach a controller that does not hold it. The settle ends as soon as the
  // co-located registrar has the mate's handlespace and the list equals it
  // (settle_if_complete), within milliseconds when the mate answers;
  // otherwise the timer decides.
  for (const auto& [name, p] : pools) {
    const auto it = remembered.find(name);
    const bool expects_more = it != remembered.end() && it->second.size() > 1;
    if (!gateway_alone() || expects_more) p->hold_new_calls_until_settled();
  }
  if (registrar) {
    // A watched pool that resolved empty (at start-up: the controllers have
    // not registered again yet, the mentor download is still running) is
    // asked again only every refresh period (0.9 s aggressive), and the
    // pool user drops the registrar's push for a pool it found empty. The
    // co-located registrar is in this process: as soon as it lists PEs of
    // such a pool (a local registration, or PEs learnt over ENRP), the pool
    // is resolved again. A restart then carries traffic within a second.
    registrar->set_event_handler([this](const rserpool::registrar::Notify& n) { registrar_event(n); });
    check_empty_pools();
  }
  gateway::describe_gateway_metrics(metrics);
  metrics.add_collector([this](std::vector<rserpool::ops::Sample>& out) { collect(out); });
  if (config.metrics_endpoint) {
    auto ep = rserpool::ops::PrometheusEndpoint::open(io, *config.metrics_endpoint, metrics);
    if (!ep) return rserpool::unexpected("metrics-endpoint " + config.metrics_endpoint->to_string() + ": " + ep.error().message());
    prometheus = std::move(*ep);
    logger()->info("Prometheus metrics on http://{}/metrics", rserpool::TransportAddress{config.metrics_endpoint->ip, prometheus->port()}.to_string());
  }
  logger()->info("sgd started: transport {}, timers {}, {} pool(s), {} route(s)", tr::to_string(kind),
                 to_string(config.timers), pools.size(), routes.routes().size());
  return {};
}

void Gateway::Impl::registrar_event(const rserpool::registrar::Notify& n) {
  using E = rserpool::registrar::Event;
  if (n.event == E::resync_done)
    for (const auto& [name, p] : pools) settle_if_complete(*p);
  if (n.event != E::pe_registered && n.event != E::resync_done && n.event != E::takeover_won) return;
  for (const auto& [name, p] : pools) {
    if (p->distributor().membership().listed_count() != 0) continue;  // the subscription keeps it current
    if (n.event == E::pe_registered && n.pool.to_string() != name) continue;
    rewatch(name);
  }
}

void Gateway::Impl::settle_if_complete(PoolRuntime& pool) {
  const auto& membership = pool.distributor().membership();
  if (pool.distributor().placement_settled() || membership.listed_count() == 0) return;
  const auto list = gateway::remembered_of(membership);
  // The list the previous run placed its flows by, whole again. Only for a
  // gateway alone (its own registrar, no ENRP peer, no other registrar):
  // while it was down nobody else placed calls, so no PE it does not
  // remember holds one. A mate may have placed calls on a PE that joined
  // meanwhile: a gateway of a pair waits for its registrar's download.
  if (auto it = remembered.find(pool.name()); gateway_alone() && it != remembered.end() && it->second == list) {
    logger()->info("pool {}: the list equals the one the previous run placed by: settled", pool.name());
    pool.list_complete();
    return;
  }
  // Only a finished download says the handlespace is whole: a registrar
  // that started alone (no mate answered, or its mentor stalled) learns
  // the pool one registration at a time, and the settle's timer decides.
  if (!registrar ||
      registrar->synchronisation().download.state != rserpool::registrar::MentorDownload::State::done)
    return;
  gateway::RememberedList held;
  for (const auto* e : registrar->core().handlespace().elements_of(rserpool::PoolHandle(pool.name())))
    held[e->id()] = rendezvous_weight(&e->element().policy);
  // The same PEs with the same weights (what the hash uses).
  if (held != list) return;
  logger()->info("pool {}: the list equals the handlespace downloaded from the mate: settled", pool.name());
  pool.list_complete();
}

void Gateway::Impl::remember(const PoolRuntime& pool) {
  if (options.pool_memory.empty() || !pool.distributor().placement_settled()) return;
  auto list = gateway::remembered_of(pool.distributor().membership());
  auto& last = written[pool.name()];
  if (last == list) return;
  last = std::move(list);
  if (auto w = gateway::write_pool_memory(options.pool_memory, written); !w)
    rserpool::log::warn_limited(logger(), "pool memory", "pool memory not written: {}", w.error());
}

void Gateway::Impl::check_empty_pools() {
  // Set while a check runs or is scheduled: a watch answered at once from
  // inside rewatch() does not start a second one.
  membership_polling = true;
  bool any_empty = false;
  for (const auto& [name, p] : pools) {
    if (p->distributor().membership().listed_count() != 0) continue;
    any_empty = true;
    if (registrar && registrar->core().handlespace().pool_size(rserpool::PoolHandle(name)) != 0) rewatch(name);
  }
  // Only while some pool is empty: a few map lookups every 20 ms. A pool
  // empties only through its watch (the PE list it is given), which starts
  // the check again (poll_empty_pools()): no timer runs while every pool
  // has members, so the relay path meets no periodic timer re-arms and
  // clock readings (issue 16; a 200 ms poll cost 0.1 system calls per
  // relayed message at window 1 in UML).
  if (!any_empty || shutting_down) {
    membership_polling = false;
    return;
  }
  membership_timer.expires_after(std::chrono::milliseconds(20));
  membership_timer.async_wait([this, token = std::weak_ptr<bool>(alive)](const boost::system::error_code& ec) {
    if (ec || token.expired()) return;
    membership_polling = false;
    if (!shutting_down) check_empty_pools();
  });
}

void Gateway::Impl::poll_empty_pools() {
  if (!registrar || membership_polling || shutting_down) return;
  check_empty_pools();
}

void Gateway::Impl::rewatch(const std::string& name) {
  auto it = pools.find(name);
  if (it == pools.end() || !pool_user) return;
  PoolRuntime* raw = it->second.get();
  pool_user->watch(rserpool::PoolHandle(name), [this, raw](const rserpool::asap::PoolUserService::PeList& list) {
    raw->handlespace(list);
    settle_if_complete(*raw);
    remember(*raw);
    if (raw->distributor().membership().listed_count() == 0) poll_empty_pools();
  });
}

void Gateway::Impl::index_routes() {
  route_pools.clear();
  for (const auto& r : routes.routes()) {
    const auto& handle = r.pool.bytes();
    auto it = pools.find(std::string_view(reinterpret_cast<const char*>(handle.data()), handle.size()));
    route_pools.push_back(it != pools.end() ? it->second.get() : nullptr);
  }
}

void Gateway::Impl::start_pool(const PoolSettings& p) {
  if (pools.count(p.handle)) return;
  gateway::PoolHooks hooks;
  const std::string name = p.handle;
  hooks.report_unreachable = [this, name](rserpool::PeIdentifier pe) {
    if (pool_user) pool_user->report_failure(rserpool::PoolHandle(name), pe);
  };
  hooks.to_ss7 = [this](MtpMessage&& m) { to_ss7(std::move(m)); };
  hooks.settled = [this, name] {
    if (auto it = pools.find(name); it != pools.end()) remember(*it->second);
  };
  hooks.availability = [this, name](bool available) {
    if (ss7) ss7->announce(destinations_of(name), available);
  };
  hooks.congestion = [this, name](bool onset) {
    if (!ss7) return;
    std::vector<mxua::PointCode> pcs;
    for (const auto& d : destinations_of(name)) pcs.push_back(d.pc);
    ss7->congestion(pcs, onset);
  };
  auto rt = std::make_unique<PoolRuntime>(io, clock, name, p.distributor, distributor_profile, link_profile,
                                          std::move(hooks), counters, next_seed + 2 + pools.size());
  pools.emplace(name, std::move(rt));
  index_routes();
  rewatch(name);
  poll_empty_pools();  // a new pool starts empty
  logger()->info("pool {}: watching", name);
}

Ss7Hold::Try Gateway::Impl::try_ss7(MtpMessage& m) {
  if (ss7->send(m, true) == M3uaSide::SendResult::not_active) return Ss7Hold::Try::not_active;
  // Encoded elsewhere and queued, or counted as dropped: recycled (issue
  // 16). Built in its own buffer (the relay's case), nothing is left here.
  if (m.data.capacity() != 0) rserpool::buffers::give(std::move(m.data));
  return Ss7Hold::Try::gone;
}

void Gateway::Impl::give_up_ss7(MtpMessage&& m) {
  (void)ss7->send(m);  // sent if a path is active now, else counted and logged as a drop
  rserpool::buffers::give(std::move(m.data));
}

void Gateway::Impl::to_ss7(MtpMessage&& m) {
  if (!ss7) return;
  const auto offered = ss7_hold.offer(
      std::move(m), clock.now(), [this](MtpMessage& x) { return try_ss7(x); },
      [this](MtpMessage&& x) { give_up_ss7(std::move(x)); });
  if (offered == Ss7Hold::Offered::held_first) {
    logger()->info("no active SS7 path: holding DATA from the controllers (at most {} ms)",
                   std::chrono::duration_cast<std::chrono::milliseconds>(ss7_hold.config().hold).count());
    ss7_hold_timer.arm(ss7_hold.next_deadline());
  }
}

void Gateway::Impl::flush_ss7_held() {
  if (!ss7 || ss7_hold.empty()) return;
  const auto f = ss7_hold.flush(
      clock.now(), [this](MtpMessage& x) { return try_ss7(x); }, [this](MtpMessage&& x) { give_up_ss7(std::move(x)); });
  if (f.sent != 0)
    logger()->info("an SS7 path is active: {} held message(s) sent, {} still held", f.sent, ss7_hold.size());
  ss7_hold_timer.arm(ss7_hold.next_deadline());
}

std::vector<mxua::MaskedPointCode> Gateway::Impl::destinations_of(const std::string& pool) const {
  std::vector<mxua::MaskedPointCode> out;
  for (const Route* r : routes.routes_to(rserpool::PoolHandle(pool))) {
    mxua::MaskedPointCode pc{r->key.dpc.wildcard_bits, mxua::PointCode{r->key.dpc.point_code}};
    if (std::find(out.begin(), out.end(), pc) == out.end()) out.push_back(pc);
  }
  return out;
}

void Gateway::Impl::from_ss7(MtpMessage&& m) {
  const auto c = classify(m, distributor_profile.isup_variant);
  if (const Route* route = routes.lookup(m, c.cic)) {
    const auto at = static_cast<std::size_t>(route - routes.routes().data());
    if (at < route_pools.size() && route_pools[at] != nullptr) {
      route_pools[at]->message(std::move(m), c);  // classified once, here
      return;
    }
  }
  // Before any pool: the gateway's own drop reason, counted once here.
  counters.drop(GatewayDrop::no_route);
  rserpool::log::warn_limited(logger(), "no route", "no route for OPC {} DPC {} SI {}: dropped", m.opc, m.dpc, m.si);
}

void Gateway::Impl::collect(std::vector<rserpool::ops::Sample>& out) const {
  auto add = [&](const char* name, std::uint64_t v, std::map<std::string, std::string> labels = {}) {
    out.push_back(rserpool::ops::Sample{name, std::move(labels), static_cast<double>(v)});
  };
  add("sg_ss7_messages_total", counters.ss7_in.messages, {{"direction", "in"}});
  add("sg_ss7_messages_total", counters.ss7_out.messages, {{"direction", "out"}});
  add("sg_ss7_bytes_total", counters.ss7_in.bytes, {{"direction", "in"}});
  add("sg_ss7_bytes_total", counters.ss7_out.bytes, {{"direction", "out"}});
  for (std::size_t i = 0; i < kGatewayDrops; ++i)
    add("sg_drops_total", counters.drops[i], {{"reason", std::string(to_string(static_cast<GatewayDrop>(i)))}});
  add("sg_duna_sent_total", counters.duna_sent);
  add("sg_dava_sent_total", counters.dava_sent);
  add("sg_scon_sent_total", counters.scon_sent);
  const auto& held = ss7_hold.counters();
  add("sg_ss7_held", ss7_hold.size());
  add("sg_ss7_held_total", held.held, {{"outcome", "held"}});
  add("sg_ss7_held_total", held.expired, {{"outcome", "expired"}});
  add("sg_ss7_held_total", held.overflow, {{"outcome", "overflow"}});
  if (ss7) ss7->collect(out);
  for (const auto& [name, p] : pools) gateway::collect_pool(*p, out);
}

void Gateway::Impl::finish_shutdown(TimePoint deadline, std::function<void()> done) {
  std::size_t open = ss7 ? ss7->open_associations() : 0;
  for (const auto& [name, p] : pools) open += p->open_links();
  if (open != 0 && clock.now() < deadline) {
    shutdown_timer.expires_after(std::chrono::milliseconds(20));
    shutdown_timer.async_wait([this, token = std::weak_ptr<bool>(alive), deadline,
                               done = std::move(done)](const boost::system::error_code& ec) mutable {
      if (!ec && !token.expired()) finish_shutdown(deadline, std::move(done));
    });
    return;
  }
  if (open != 0) logger()->warn("shutdown: {} association(s) still open at the deadline: aborting them", open);
  if (ss7) ss7->stop();
  if (prometheus) prometheus->close();
  pool_user.reset();  // no more membership callbacks into the pools
  route_pools.clear();
  pools.clear();
  if (registrar) registrar->stop();
  logger()->info("sgd stopped");
  if (done) done();
}

std::string_view to_string(GatewayDrop d) noexcept {
  switch (d) {
    case GatewayDrop::no_route: return "no-route";
    case GatewayDrop::no_ss7_path: return "no-ss7-path";
    case GatewayDrop::ss7_refused: return "ss7-refused";
    case GatewayDrop::link_refused: return "link-refused";
    case GatewayDrop::Count_: break;
  }
  return "unknown";
}

// ---------------------------------------------------------------------------

Gateway::Gateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Gateway::~Gateway() {
  if (!impl_) return;
  impl_->shutdown_timer.cancel();
  impl_->membership_timer.cancel();
  impl_->ss7_hold_timer.cancel();
  if (impl_->prometheus) impl_->prometheus->close();
  impl_->pool_user.reset();
  impl_->route_pools.clear();
  impl_->pools.clear();
  impl_->ss7.reset();
  impl_->registrar.reset();
}

rserpool::Result<std::unique_ptr<Gateway>, std::string> Gateway::start(boost::asio::io_context& io, SgConfig config,
                                                                      GatewayOptions options) {
  auto impl = std::make_unique<Impl>(io, std::move(config), options);
  if (auto problems = validate(impl->config); !problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
    return rserpool::unexpected(all);
  }
  if (auto r = impl->build(); !r) return rserpool::unexpected(r.error());
  return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

void Gateway::shutdown(std::function<void()> done) {
  auto& d = *impl_;
  if (d.shutting_down) return;
  d.shutting_down = true;
  logger()->info("shutting down: ASPDN to the gateway controllers and upstream");
  if (d.ss7) d.ss7->begin_shutdown();
  for (auto& [name, p] : d.pools) p->close_links();
  d.shutdown_timer.expires_after(std::chrono::milliseconds(300));
  d.shutdown_timer.async_wait([&d, token = std::weak_ptr<bool>(d.alive),
                               done = std::move(done)](const boost::system::error_code& ec) mutable {
    if (ec || token.expired()) return;
    if (d.ss7) d.ss7->close_associations();
    d.finish_shutdown(d.clock.now() + std::chrono::milliseconds(1500), std::move(done));
  });
}

std::optional<std::uint16_t> Gateway::ss7_port() const { return impl_->ss7 ? impl_->ss7->sgp_port() : std::nullopt; }
std::optional<std::uint16_t> Gateway::metrics_port() const {
  if (!impl_->prometheus) return std::nullopt;
  return impl_->prometheus->port();
}
std::optional<std::uint16_t> Gateway::registrar_asap_port() const {
  if (!impl_->registrar) return std::nullopt;
  return impl_->registrar->asap_port();
}
std::optional<std::uint16_t> Gateway::registrar_enrp_port() const {
  if (!impl_->registrar) return std::nullopt;
  return impl_->registrar->enrp_port();
}

rserpool::Result<void, std::string> Gateway::drain(const std::string& pool, rserpool::PeIdentifier pe,
                                                   std::optional<Duration> deadline) {
  if (!pool.empty()) {
    auto it = impl_->pools.find(pool);
    if (it == impl_->pools.end()) return rserpool::unexpected("no pool " + pool);
    return it->second->drain(pe, deadline);
  }
  for (auto& [name, p] : impl_->pools)
    if (p->distributor().state_of(pe)) return p->drain(pe, deadline);
  char b[64];
  std::snprintf(b, sizeof b, "no pool has PE %08x", pe);
  return rserpool::unexpected(std::string(b));
}

rserpool::Result<void, std::string> Gateway::set_route(const RouteSettings& r) {
  impl_->routes.remove(r.name);
  impl_->index_routes();
  if (!r.has_dpc || r.pool.empty()) return {};  // incomplete: not routed until it is
  if (!impl_->pools.count(r.pool)) return rserpool::unexpected("route " + r.name + ": pool " + r.pool + " is not configured");
  const auto added = impl_->routes.add(Route{r.name, r.key, rserpool::PoolHandle(r.pool)});
  impl_->index_routes();
  if (!added) return rserpool::unexpected("route " + r.name + ": " + std::string(to_string(added.error())));
  logger()->info("route {} now {} -> pool {}", r.name, key_text(r.key, impl_->config.pc_format), r.pool);
  // A route to a pool announced unavailable: its destination is too.
  if (impl_->ss7 && !impl_->pools.at(r.pool)->distributor().pool_available())
    impl_->ss7->announce({mxua::MaskedPointCode{r.key.dpc.wildcard_bits, mxua::PointCode{r.key.dpc.point_code}}}, false);
  return {};
}

bool Gateway::remove_route(const std::string& name) {
  const bool removed = impl_->routes.remove(name);
  impl_->index_routes();
  if (removed) logger()->info("route {} removed", name);
  return removed;
}

void Gateway::add_pool(const PoolSettings& pool) {
  if (impl_->shutting_down) return;
  if (auto it = impl_->pools.find(pool.handle); it != impl_->pools.end()) {
    it->second->configure(pool.distributor);
    return;
  }
  impl_->start_pool(pool);
}

std::string Gateway::show_pools(const std::string& pool) const {
  std::string out;
  for (const auto& [name, p] : impl_->pools)
    if (pool.empty() || pool == name) out += gateway::show_pool(*p);
  if (out.empty()) out = pool.empty() ? "no pools configured\n" : "no pool " + pool + "\n";
  return out;
}

std::string Gateway::show_flows(const std::string& pool) const {
  std::string out;
  for (const auto& [name, p] : impl_->pools)
    if (pool.empty() || pool == name) out += gateway::show_flows(*p);
  if (out.empty()) out = "no pool " + pool + "\n";
  return out;
}

std::string Gateway::show_ss7() const {
  if (!impl_->ss7) return "no SS7 side\n";
  const auto& h = impl_->ss7_hold;
  // Given-up messages are also in "DATA to SS7 not sent" above (the SS7 side counts the drop).
  return impl_->ss7->show() + "DATA held for an active SS7 path: " + std::to_string(h.size()) + " now, " +
         std::to_string(h.counters().held) + " in all, given up " + std::to_string(h.counters().expired) +
         " after " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(h.config().hold).count()) +
         " ms and " + std::to_string(h.counters().overflow) + " beyond " + std::to_string(h.config().max_messages) +
         "\n";
}

std::string Gateway::show_routes() const {
  std::ostringstream o;
  if (impl_->routes.routes().empty()) o << "no routes\n";
  for (const auto& r : impl_->routes.routes())
    o << "route " << r.name << ": " << key_text(r.key, impl_->config.pc_format) << " -> pool " << r.pool.to_string()
      << "\n";
  return o.str();
}

std::string Gateway::show_registrar() const {
  std::ostringstream o;
  const auto& d = *impl_;
  if (d.registrar) {
    const auto& r = *d.registrar;
    char id[16];
    std::snprintf(id, sizeof id, "%08x", r.id());
    o << "co-located registrar " << id << ": " << tr::to_string(r.kind()) << ", ASAP port " << r.asap_port()
      << ", ENRP port " << r.enrp_port() << ", " << r.asap_association_count() << " ASAP association(s)\n";
    // What unauthenticated ASAP peers made it do (docs/security.md).
    const auto& rc = r.core().counters();
    std::uint64_t decode_errors = 0;
    for (auto n : rc.asap_decode_errors) decode_errors += n;
    o << "  unreachable reports " << rc.unreachable_reports << " (rate-limited " << rc.unreachable_rate_limited
      << "), audits " << rc.unreachable_audits << ", refuted " << rc.unreachable_refuted << ", removals "
      << rc.unreachable_removals << "\n  associations refused per-address " << rc.associations_refused_per_address
      << " full " << rc.associations_refused_full << ", evicted " << rc.associations_evicted
      << "; ASAP decode errors " << decode_errors << "\n";
    const auto& hs = r.core().handlespace();
    o << "  handlespace: " << hs.pool_count() << " pool(s), " << hs.element_count() << " PE(s)\n";
    for (const auto& h : hs.pool_handles()) o << "    pool " << h.to_string() << "\n";
    const auto peers = r.peers();
    o << "  ENRP peers: " << peers.size() << "\n";
    for (const auto& p : peers) {
      std::snprintf(id, sizeof id, "%08x", p.id);
      o << "    " << id << " " << (p.address ? p.address->to_string() : std::string("?"))
        << (p.association_up ? " up" : " down") << (p.active ? " active" : "") << ", owns " << p.owned_pes
        << " PE(s)\n";
    }
  }
  o << "pool user: registrars";
  for (const auto& a : d.access.registrars) o << " " << a.to_string();
  const auto home = d.pool_user ? d.pool_user->home() : std::nullopt;
  if (home && *home < d.access.registrars.size())
    o << "; home " << d.access.registrars[*home].to_string() << "\n";
  else
    o << "; home " << (home ? "an announced registrar" : "none yet") << "\n";
  if (d.pool_user) {
    const auto& c = d.pool_user->counters();
    o << "  resolutions " << c.resolutions_sent << " failed " << c.resolutions_failed << " unreachable-reports "
      << c.unreachable_reports << " registrar-associations " << c.registrar_associations << "\n";
  }
  return o.str();
}

std::string Gateway::show_counters() const { return rserpool::ops::MetricsRegistry::to_table(collect()); }

std::vector<rserpool::ops::Sample> Gateway::collect() const { return impl_->metrics.collect(); }
const rserpool::ops::MetricsRegistry& Gateway::metrics() const { return impl_->metrics; }
const GatewayCounters& Gateway::counters() const { return impl_->counters; }

const PoolDistributor* Gateway::distributor(const std::string& pool) const {
  auto it = impl_->pools.find(pool);
  return it == impl_->pools.end() ? nullptr : &it->second->distributor();
}

std::vector<std::string> Gateway::pools() const {
  std::vector<std::string> names;
  for (const auto& [name, p] : impl_->pools) names.push_back(name);
  return names;
}

}  // namespace sg
