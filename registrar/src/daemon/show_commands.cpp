// Show commands of rserpool-registrar.
#include <charconv>
#include <cstdio>
#include <future>
#include <memory>
#include <sstream>

#include "daemon_ops.hpp"
#include "rserpool/transport/io_inbox.hpp"

namespace rserpool::registrar::daemon {
namespace {

using Clock = std::chrono::steady_clock;

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::string seconds(Clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", std::chrono::duration<double>(d).count());
  return buf;
}

std::string protocol(TransportProtocol p) {
  switch (p) {
    case TransportProtocol::sctp: return "sctp";
    case TransportProtocol::tcp: return "tcp";
    case TransportProtocol::udp: return "udp";
    case TransportProtocol::dccp: return "dccp";
    case TransportProtocol::udp_lite: return "udp-lite";
    case TransportProtocol::opaque: return "opaque";
  }
  return "?";
}

std::string transport_text(const TransportParameter& t) {
  std::string s = protocol(t.protocol);
  for (const auto& a : t.addresses) s += " " + a.to_string();
  s += " port " + std::to_string(t.port);
  if (t.protocol == TransportProtocol::sctp || t.protocol == TransportProtocol::tcp) {
    s += t.use == TransportUse::data_and_control ? " (data+control)" : " (data only)";
  }
  return s;
}

std::string policy_text(const PolicyParameters& p) {
  std::string s(to_string(p.type));
  auto field = [&](const char* name, std::uint32_t v) {
    if (v != 0) s += std::string(" ") + name + " " + std::to_string(v);
  };
  field("weight", p.weight);
  field("priority", p.priority);
  field("load", p.load);
  field("degradation", p.degradation);
  field("dpf", p.dpf);
  field("distance", p.distance);
  return s;
}

void pe_text(std::ostringstream& o, const RegistrarServer& s, const core::PoolElementEntry& e, Clock::time_point now) {
  const auto& pe = e.element();
  o << " PE " << hex32(pe.id) << " home " << hex32(pe.home_registrar) << " life ";
  if (pe.registration_life_ms == kInfiniteLifetime) {
    o << "infinite";
  } else {
    o << pe.registration_life_ms << " ms";
    if (auto x = e.expires_at()) o << " (expires in " << seconds(*x - now) << ")";
  }
  o << ", registered " << seconds(now - e.registered_at()) << " ago\n";
  o << "  user transport " << transport_text(pe.user_transport) << "\n";
  o << "  policy " << policy_text(pe.policy) << "\n";
  if (pe.asap_transport) o << "  asap transport " << transport_text(*pe.asap_transport) << "\n";
  if (const auto n = s.core().asap_server().unreachable_reporters(e.pool_handle(), pe.id); n != 0) {
    o << "  reported unreachable by " << n << " association(s), audit running\n";
  }
}

std::optional<std::uint32_t> parse_id(const std::string& s) {
  std::uint64_t v = 0;
  const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  const char* first = s.data() + (hex ? 2 : 0);
  auto [p, ec] = std::from_chars(first, s.data() + s.size(), v, hex ? 16 : 10);
  if (ec != std::errc{} || p != s.data() + s.size() || v > 0xffffffffULL) return std::nullopt;
  return static_cast<std::uint32_t>(v);
}

}  // namespace

std::string synchronisation_text(const Synchronisation& sync, Clock::time_point now) {
  using D = MentorDownload::State;
  const auto& d = sync.download;
  const auto ms = [](Clock::duration x) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(x).count()) + " ms";
  };
  const std::string progress = std::to_string(d.elements) + " PEs in " + std::to_string(d.pages) + " page(s)";
  switch (sync.state) {
    case Synchronisation::State::awaiting_mentor:
      return "synchronisation: awaiting mentor " +
             (sync.mentor_address ? sync.mentor_address->to_string() : std::string("(first configured peer)"));
    case Synchronisation::State::downloading:
      return "synchronisation: downloading from mentor " + hex32(d.mentor) +
             (d.state == D::queued ? " (after its audit download)" : "") + ", " + progress + " so far, " +
             ms(now - d.started);
    case Synchronisation::State::synchronised: break;
  }
  switch (d.state) {
    case D::done:
      return "synchronised: handlespace from mentor " + hex32(d.mentor) + ", " + progress + ", " +
             ms(d.finished - d.started);
    case D::rejected:
      return "synchronised: mentor " + hex32(d.mentor) + " refused (R=1, still starting); checksum audit";
    case D::stalled:
      return "synchronised: mentor " + hex32(d.mentor) + " stopped answering after " + progress +
             "; checksum audit";
    default: break;
  }
  if (sync.mentor_timed_out) return "synchronised: no mentor answered; checksum audit";
  return "synchronised: no mentor";
}

std::optional<std::string> on_io(boost::asio::io_context& io, std::function<std::string()> fn,
                                 std::chrono::milliseconds timeout) {
  auto done = std::make_shared<std::promise<std::string>>();
  auto answer = done->get_future();
  // The io_context's inbox, not its own queue: the data path runs without
  // the scheduler's lock (main.cpp, io_inbox.hpp).
  transport::IoInbox::of(io).post([done, fn = std::move(fn)] { done->set_value(fn()); });
  if (answer.wait_for(timeout) != std::future_status::ready) return std::nullopt;
  return answer.get();
}

std::string show_registrar(const RegistrarServer& s) {
  std::ostringstream o;
  const auto& c = s.config();
  const auto& hs = s.core().handlespace();
  auto addresses = [](const std::vector<IpAddress>& v) {
    if (v.empty()) return std::string("any");
    std::string t;
    for (const auto& a : v) t += (t.empty() ? "" : " ") + a.to_string();
    return t;
  };
  std::size_t active = s.core().active_peers().size();
  o << "Registrar " << hex32(s.id()) << "\n";
  o << " transport " << transport::to_string(s.kind()) << "\n";
  o << " ASAP " << addresses(c.asap_addresses) << " port " << s.asap_port() << "\n";
  o << " ENRP " << addresses(c.enrp_addresses) << " port " << s.enrp_port() << "\n";
  o << " uptime " << seconds(s.now() - s.started_at()) << "\n";
  o << " pools " << hs.pool_count() << ", pool elements " << hs.element_count() << " (home here "
    << hs.owned_count(s.id()) << ")\n";
  o << " peers " << active << " active, " << c.enrp_peers.size() << " configured\n";
  const auto& caps = c.core.caps;
  o << " ASAP associations " << s.asap_association_count() << " (at most " << caps.max_associations << ", "
    << caps.max_per_address << " per address, " << caps.reserved_for_pes << " kept for PEs)\n";
  o << " ENRP associations " << s.directory().link_count() << " (inbound at most " << c.max_enrp_links
    << ", monitors " << c.max_monitor_links << ")\n";
  o << " " << synchronisation_text(s.synchronisation(), s.now()) << "\n";
  o << " timers: peer-heartbeat-cycle " << c.core.peer_heartbeat_cycle.count() << " ms, max-time-last-heard "
    << c.core.max_time_last_heard.count() << " ms, max-time-no-response " << c.core.max_time_no_response.count()
    << " ms, takeover-expire " << c.core.takeover_expire.count() << " ms, keep-alive "
    << c.core.keep_alive_interval.count() << "/" << c.core.keep_alive_timeout.count() << " ms\n";
  return o.str();
}

std::string show_pools(const RegistrarServer& s) {
  const auto& hs = s.core().handlespace();
  std::ostringstream o;
  char line[160];
  std::snprintf(line, sizeof line, "%-32s %-24s %6s %6s\n", "Pool", "Policy", "PEs", "Home");
  o << line;
  for (const auto& pool : hs.pool_handles()) {
    const auto elements = hs.elements_of(pool);
    std::size_t home = 0;
    for (const auto* e : elements) home += e->owner() == s.id() ? 1U : 0U;
    const auto policy = hs.pool_policy(pool);
    std::snprintf(line, sizeof line, "%-32s %-24s %6zu %6zu\n", pool.to_string().c_str(),
                  policy ? std::string(to_string(*policy)).c_str() : "?", elements.size(), home);
    o << line;
  }
  return o.str();
}

std::string show_pool(const RegistrarServer& s, const std::string& name) {
  const auto& hs = s.core().handlespace();
  const PoolHandle pool(name);
  const auto policy = hs.pool_policy(pool);
  if (!policy) return "% no pool '" + name + "'\n";
  std::ostringstream o;
  const auto elements = hs.elements_of(pool);
  o << "Pool " << name << ": policy " << to_string(*policy) << ", " << elements.size() << " PE(s)\n";
  const auto now = s.now();
  for (const auto* e : elements) pe_text(o, s, *e, now);
  return o.str();
}

std::string show_pe(const RegistrarServer& s, PeIdentifier id) {
  const auto& hs = s.core().handlespace();
  std::ostringstream o;
  const auto now = s.now();
  for (const auto& pool : hs.pool_handles()) {
    if (const auto* e = hs.find(pool, id)) {
      o << "Pool " << pool.to_string() << ":\n";
      pe_text(o, s, *e, now);
    }
  }
  if (o.str().empty()) return "% no PE " + hex32(id) + "\n";
  return o.str();
}

std::string show_peers(const RegistrarServer& s) {
  std::ostringstream o;
  char line[200];
  std::snprintf(line, sizeof line, "%-10s  %-40s %-6s %-5s %-8s %-12s %-8s %s\n", "Server", "Address", "Config",
                "Assoc", "State", "Last heard", "Checksum", "PEs");
  o << line;
  const auto now = s.now();
  for (const auto& p : s.peers()) {
    const std::string heard = p.last_heard ? seconds(now - *p.last_heard) + " ago" : "never";
    char sum[8] = "-";
    if (p.last_checksum) std::snprintf(sum, sizeof sum, "0x%04x", *p.last_checksum);
    std::snprintf(line, sizeof line, "%-10s  %-40s %-6s %-5s %-8s %-12s %-8s %zu\n",
                  p.id ? hex32(p.id).c_str() : "?", p.address ? p.address->to_string().c_str() : "-",
                  p.configured ? "yes" : "no", p.association_up ? "up" : "down",
                  p.active ? "active" : (p.id ? "dead" : "unknown"), heard.c_str(), sum, p.owned_pes);
    o << line;
  }
  return o.str();
}

void declare_show_commands(ops::Vty& vty, Running& running) {
  // Made here, on the thread that will run the io_context and before it
  // runs: the VTY thread only looks it up (io_inbox.hpp).
  transport::IoInbox::of(running.io);
  Running* r = &running;
  // Runs a view on the io thread and prints it (or why it could not).
  auto view = [r](ops::CommandContext& c, std::function<std::string(const RegistrarServer&)> fn) {
    auto text = on_io(r->io, [r, fn = std::move(fn)] {
      return r->server ? fn(*r->server) : std::string("% registrar not running\n");
    });
    if (!text) {
      c.error = "data path did not answer in time";
      return;
    }
    c.out = *text;
  };
  vty.add_show_command("show registrar", {"Show running state", "Identity, ports, uptime, totals"},
                       [view](ops::CommandContext& c) { view(c, show_registrar); });
  vty.add_show_command("show pools", {"Show running state", "Pools in the handlespace"},
                       [view](ops::CommandContext& c) { view(c, show_pools); });
  vty.add_show_command("show pool NAME", {"Show running state", "One pool and its pool elements", "Pool handle"},
                       [view](ops::CommandContext& c) {
                         const std::string name = c.args[0];
                         view(c, [name](const RegistrarServer& s) { return show_pool(s, name); });
                       });
  vty.add_show_command("show pe ID", {"Show running state", "One pool element (in every pool)", "PE identifier (decimal or 0x hex)"},
                       [view](ops::CommandContext& c) {
                         auto id = parse_id(c.args[0]);
                         if (!id) {
                           c.error = "invalid PE identifier '" + c.args[0] + "'";
                           return;
                         }
                         view(c, [id](const RegistrarServer& s) { return show_pe(s, *id); });
                       });
  vty.add_show_command("show peers", {"Show running state", "ENRP peers"},
                       [view](ops::CommandContext& c) { view(c, show_peers); });
  vty.add_show_command("show counters", {"Show running state", "Protocol and driver counters"},
                       [r](ops::CommandContext& c) {
                         auto text = on_io(r->io, [r] { return ops::MetricsRegistry::to_table(r->metrics.collect()); });
                         if (!text) c.error = "data path did not answer in time";
                         else c.out = *text;
                       });
}

}  // namespace rserpool::registrar::daemon
