#include "ss7_side.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <sstream>

#include <boost/asio/post.hpp>

#include "mtp_conversion.hpp"
#include "rserpool/base/log.hpp"

namespace sg::gateway {
namespace {

namespace tr = rserpool::transport;

constexpr std::size_t kMaxOrigins = 65536;

auto logger() {
  static auto l = rserpool::log::get("ss7");
  return l;
}

std::string peer_text(const tr::AssociationInfo& info) {
  return info.remote.empty() ? std::string("?") : info.remote.front().to_string();
}

}  // namespace

// One client connection to an STP, with the events adapter that tells the
// side which connection spoke.
struct M3uaSide::Connection : mxua::driver::Events {
  Connection(M3uaSide& s, std::size_t i, Ss7Connect c) : side(s), index(i), cfg(std::move(c)) {}
  void on_association_up(mxua::AssocId, const tr::AssociationInfo& info) override {
    logger()->info("connect {}: association up with {}", cfg.name, peer_text(info));
  }
  void on_association_down(mxua::AssocId, tr::DownReason r) override {
    logger()->info("connect {}: association down ({})", cfg.name, tr::to_string(r));
    if (side.stopping_ && conn) conn->stop();  // no reconnect while shutting down
  }
  void on_data(mxua::DataIndication&& d) override { side.received(std::move(d), index); }
  void on_asp_state(const mxua::AspStateChanged& c) override {
    logger()->info("connect {}: ASP {} -> {}{}", cfg.name, mxua::to_string(c.from), mxua::to_string(c.to),
                   c.routing_context ? " (RC " + std::to_string(*c.routing_context) + ")" : std::string());
  }
  void on_drop(const mxua::Drop& d) override { side.on_drop(d); }
  void on_request_failed(const mxua::RequestFailed& r) override {
    logger()->warn("connect {}: M3UA request {}/{} failed", cfg.name, r.request.msg_class, r.request.msg_type);
  }

  M3uaSide& side;
  std::size_t index;
  Ss7Connect cfg;
  std::shared_ptr<mxua::driver::AspConnection> conn;  // declared last: destroyed first
};

M3uaSide::M3uaSide(boost::asio::io_context& io, Ss7Hooks hooks, GatewayCounters& counters)
    : io_(io), hooks_(std::move(hooks)), counters_(counters) {}

M3uaSide::~M3uaSide() {
  stopping_ = true;
  for (auto& c : connections_) c->conn.reset();
  sgp_.reset();
}

rserpool::Result<std::unique_ptr<M3uaSide>, std::string> M3uaSide::open(boost::asio::io_context& io,
                                                                     const SgConfig& config, Ss7Profile profile,
                                                                     Ss7Hooks hooks, GatewayCounters& counters) {
  auto side = std::make_unique<M3uaSide>(io, std::move(hooks), counters);
  const auto& ss7 = config.ss7;
  if (!ss7.listen_ips.empty()) {
    mxua::driver::SgpServerConfig sc;
    sc.transport.local_addresses = ss7.listen_ips;
    sc.transport.local_port = ss7.listen_port;
    sc.transport.kind = profile.kind;
    sc.transport.sctp = profile.sctp;
    sc.transport.tcp = profile.tcp;
    sc.transport.name = "ss7-sgp";
    // One AS per configured peer routing context; without any, one AS
    // (RC 0) that any ASP may activate. ASPs may also register keys (RKM).
    std::set<std::uint32_t> rcs;
    for (const auto& p : ss7.peers) {
      for (const auto& ip : p.remote_ips) sc.allowed_peers.push_back(ip);
      if (p.routing_context && rcs.insert(*p.routing_context).second) {
        mxua::AsConfig as;
        as.name = p.name;
        as.routing_context = *p.routing_context;
        as.mode = mxua::TrafficMode::Loadshare;
        sc.sgp.application_servers.push_back(as);
        side->as_order_.push_back(as.routing_context);
      }
    }
    if (sc.sgp.application_servers.empty()) {
      mxua::AsConfig as;
      as.name = "default";
      as.routing_context = 0;
      sc.sgp.application_servers.push_back(as);
      side->as_order_.push_back(0);
    }
    sc.sgp.rkm = mxua::RkmPermission::DynamicPermitted;
    sc.accept_any = ss7.accept_any_peer;
    auto server = mxua::driver::SgpServer::open(io, std::move(sc), *side);
    if (!server) {
      std::string where;
      for (const auto& ip : ss7.listen_ips) where += (where.empty() ? "" : ",") + ip.to_string();
      return rserpool::unexpected("ss7-side: cannot listen on " + where + " port " + std::to_string(ss7.listen_port) +
                                  ": " + server.error().message());
    }
    side->sgp_ = std::move(*server);
    std::ostringstream t;
    for (std::size_t i = 0; i < ss7.listen_ips.size(); ++i) t << (i ? "," : "") << ss7.listen_ips[i].to_string();
    t << " port " << side->sgp_->port() << ", peers " << (ss7.accept_any_peer ? "any" : "configured only");
    side->listen_text_ = t.str();
    logger()->info("SGP listening on {}", side->listen_text_);
  }
  std::size_t index = 0;
  for (const auto& k : ss7.connects) {
    auto c = std::make_unique<Connection>(*side, index++, k);
    mxua::driver::AspConnectionConfig ac;
    ac.transport.remote_addresses = k.remote_ips;
    ac.transport.remote_port = k.remote_port;
    ac.transport.local_addresses = k.local_ips;
    ac.transport.kind = profile.kind;
    ac.transport.sctp = profile.sctp;
    ac.transport.tcp = profile.tcp;
    ac.transport.name = k.name;
    ac.asp.activations = {mxua::AspActivation{
        k.routing_context ? std::vector<std::uint32_t>{*k.routing_context} : std::vector<std::uint32_t>{},
        mxua::TrafficMode::Loadshare}};
    c->conn = mxua::driver::AspConnection::create(io, std::move(ac), *c);
    c->conn->start();
    logger()->info("connect {}: connecting as {} to {} port {}", k.name, k.role == PeerRole::ipsp ? "IPSP" : "ASP",
                   k.remote_ips.empty() ? std::string("?") : k.remote_ips.front().to_string(), k.remote_port);
    side->connections_.push_back(std::move(c));
  }
  return side;
}

std::optional<std::uint16_t> M3uaSide::sgp_port() const {
  if (!sgp_) return std::nullopt;
  return sgp_->port();
}

void M3uaSide::received(mxua::DataIndication&& d, std::optional<std::size_t> connection) {
  const auto& p = d.data.protocol_data;
  counters_.ss7_in.add(p.user_data.size());
  std::optional<std::uint32_t> rc = d.data.routing_context;
  if (!rc && !connection) rc = d.routing_context;
  // Bounded: the allow-listed peers' point codes, not an attacker's table.
  if (origins_.size() >= kMaxOrigins && !origins_.count(p.opc.value)) origins_.clear();
  Origin& o = origins_[p.opc.value];
  o.connection = connection;
  o.routing_context = rc;
  if (hooks_.data) hooks_.data(to_mtp(std::move(d.data.protocol_data)));
}

void M3uaSide::on_data(mxua::DataIndication&& d) { received(std::move(d), std::nullopt); }

bool M3uaSide::send_via_sgp(const MtpMessage& m, std::optional<std::uint32_t> rc) {
  if (!sgp_) return false;
  if (!rc) {
    for (auto candidate : as_order_)
      if (sgp_->node().as_state(candidate) == mxua::AsState::Active) {
        rc = candidate;
        break;
      }
  }
  if (!rc) return false;
  if (sgp_->node().as_state(*rc) != mxua::AsState::Active &&
      sgp_->node().as_state(*rc) != mxua::AsState::Pending)
    return false;
  sgp_->route(to_data_view(m, rc));
  return true;
}

bool M3uaSide::send_via_connection(std::size_t i, const MtpMessage& m) {
  if (i >= connections_.size() || !connections_[i]->conn) return false;
  auto& c = *connections_[i];
  return c.conn->send_data(to_data_view(m, c.cfg.routing_context));
}

void M3uaSide::send(const MtpMessage& m) {
  bool sent = false;
  bool tried = false;
  if (auto o = origins_.find(m.dpc); o != origins_.end()) {
    tried = true;
    sent = o->second.connection ? send_via_connection(*o->second.connection, m)
                                : send_via_sgp(m, o->second.routing_context);
  }
  if (!sent) {
    // Unknown destination, or its path is down: any active path.
    if (sgp_ && send_via_sgp(m, std::nullopt)) sent = true;
    for (std::size_t i = 0; !sent && i < connections_.size(); ++i)
      if (connections_[i]->conn && connections_[i]->conn->active_for(connections_[i]->cfg.routing_context))
        sent = send_via_connection(i, m);
  }
  if (sent) {
    counters_.ss7_out.add(m.data.size());
    return;
  }
  counters_.drop(tried ? GatewayDrop::ss7_refused : GatewayDrop::no_ss7_path);
  logger()->debug("no SS7 path for DATA to DPC {}", m.dpc);
}

void M3uaSide::announce(const std::vector<mxua::MaskedPointCode>& destinations, bool available) {
  if (destinations.empty()) return;
  for (const auto& pc : destinations) {
    auto it = std::find(unavailable_.begin(), unavailable_.end(), pc);
    if (available && it != unavailable_.end()) unavailable_.erase(it);
    if (!available && it == unavailable_.end()) unavailable_.push_back(pc);
  }
  const auto a = available ? mxua::DestinationAvailability::Available : mxua::DestinationAvailability::Unavailable;
  if (sgp_) {
    sgp_->request([&](mxua::SgpNode& node, mxua::TimePoint now) {
      mxua::Actions all;
      for (const auto& pc : destinations) {
        auto acts = node.announce(pc, a, now);
        for (auto& x : acts) all.push_back(std::move(x));
      }
      return all;
    });
  }
  (available ? counters_.dava_sent : counters_.duna_sent) += destinations.size();
  logger()->warn("{} for {} destination(s) to the SS7 side", available ? "DAVA" : "DUNA", destinations.size());
}

void M3uaSide::congestion(const std::vector<mxua::PointCode>& destinations, bool onset) {
  if (destinations.empty()) return;
  const std::uint8_t level = onset ? 1 : 0;
  if (sgp_) {
    sgp_->request([&](mxua::SgpNode& node, mxua::TimePoint now) {
      mxua::Actions all;
      for (const auto& pc : destinations) {
        auto acts = node.announce_congestion(pc, level, now);
        for (auto& x : acts) all.push_back(std::move(x));
      }
      return all;
    });
  }
  for (auto& c : connections_) {
    if (!c->conn || c->conn->state() == mxua::AspState::Down) continue;
    c->conn->request([&](mxua::AspClient& client, mxua::TimePoint now) {
      mxua::Scon s;
      for (const auto& pc : destinations) s.affected_point_codes.push_back(mxua::MaskedPointCode{0, pc});
      s.congestion_level = level;
      return client.send_ssnm(mxua::Message{s}, now);
    });
  }
  counters_.scon_sent += destinations.size();
}

void M3uaSide::begin_shutdown() {
  stopping_ = true;
  for (auto& c : connections_) {
    if (!c->conn || c->conn->state() == mxua::AspState::Down) continue;
    c->conn->request([](mxua::AspClient& client, mxua::TimePoint now) { return client.shutdown(now); });
  }
}

void M3uaSide::close_associations() {
  stopping_ = true;
  if (sgp_)
    for (auto id : sgp_->associations())
      if (auto a = sgp_->association(id)) a->close();
  for (auto& c : connections_) {
    if (!c->conn) continue;
    if (auto a = c->conn->association(); a && a->is_up())
      a->close();
    else
      c->conn->stop();
  }
}

void M3uaSide::stop() {
  stopping_ = true;
  for (auto& c : connections_)
    if (c->conn) c->conn->stop();
  if (sgp_) sgp_->close();
}

std::size_t M3uaSide::open_associations() const {
  std::size_t n = sgp_ ? sgp_->associations().size() : 0;
  for (const auto& c : connections_)
    if (c->conn)
      if (auto a = c->conn->association(); a && a->is_up()) ++n;
  return n;
}

void M3uaSide::on_association_up(mxua::AssocId a, const tr::AssociationInfo& i) {
  sgp_peers_[a] = peer_text(i);
  logger()->info("SGP: association {} up with {}", a, peer_text(i));
}

void M3uaSide::on_association_down(mxua::AssocId a, tr::DownReason r) {
  logger()->info("SGP: association {} with {} down ({})", a, sgp_peers_[a], tr::to_string(r));
  sgp_peers_.erase(a);
}

void M3uaSide::on_association_refused(mxua::AssocId, const tr::AssociationInfo& i) {
  ++refused_;
  logger()->warn("SGP: refused an association from {} (not a configured peer)", peer_text(i));
}

void M3uaSide::on_asp_state(const mxua::AspStateChanged& c) {
  logger()->info("SGP: ASP on association {} {} -> {}{}", c.assoc, mxua::to_string(c.from), mxua::to_string(c.to),
                 c.routing_context ? " (RC " + std::to_string(*c.routing_context) + ")" : std::string());
  if (c.to != mxua::AspState::Active || !c.routing_context || unavailable_.empty() || !sgp_) return;
  // After the ASPAC ACK that is being sent with this very change: an ASP
  // hears SSNM only once it is active.
  boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), assoc = c.assoc, rc = *c.routing_context] {
    if (!alive.expired()) tell_unavailable(assoc, rc);
  });
}

void M3uaSide::tell_unavailable(mxua::AssocId assoc, std::uint32_t routing_context) {
  if (stopping_ || !sgp_ || unavailable_.empty()) return;
  if (sgp_->node().asp_state(assoc, routing_context) != mxua::AspState::Active) return;
  mxua::Duna duna;
  duna.routing_contexts = {routing_context};
  duna.affected_point_codes = unavailable_;
  sgp_->request([&](mxua::SgpNode&, mxua::TimePoint) {
    return mxua::Actions{mxua::Send{assoc, 0, mxua::Message{duna}}};
  });
  counters_.duna_sent += unavailable_.size();
  logger()->warn("DUNA for {} destination(s) to the ASP on association {} (RC {}), active while they are unavailable",
                 unavailable_.size(), assoc, routing_context);
}

void M3uaSide::on_as_state(const mxua::AsStateChanged& c) {
  logger()->info("SGP: AS RC {} {} -> {}", c.routing_context, mxua::to_string(c.from), mxua::to_string(c.to));
}

void M3uaSide::on_drop(const mxua::Drop& d) {
  m3ua_drops_[static_cast<std::size_t>(d.reason)] += d.count;
}

std::string M3uaSide::show() const {
  std::ostringstream o;
  if (sgp_) {
    o << "SGP on " << listen_text_ << "\n";
    for (auto id : sgp_->associations()) {
      auto it = sgp_peers_.find(id);
      o << "  association " << id << " peer " << (it != sgp_peers_.end() ? it->second : std::string("?"))
        << " ASP " << mxua::to_string(sgp_->node().asp_state(id)) << "\n";
    }
    for (auto rc : as_order_) {
      auto st = sgp_->node().as_state(rc);
      o << "  AS RC " << rc << ": " << (st ? mxua::to_string(*st) : std::string_view("-")) << ", active ASPs "
        << sgp_->node().active_asps(rc).size() << ", queued " << sgp_->node().queued(rc) << "\n";
    }
    o << "  refused associations " << refused_ << "\n";
  } else {
    o << "SGP: not listening (no ss7-side local-ip)\n";
  }
  for (const auto& c : connections_) {
    o << "connect " << c->cfg.name << " to "
      << (c->cfg.remote_ips.empty() ? std::string("?") : c->cfg.remote_ips.front().to_string()) << " port "
      << c->cfg.remote_port << " as " << (c->cfg.role == PeerRole::ipsp ? "IPSP" : "ASP");
    if (c->conn)
      o << ": ASP " << mxua::to_string(c->conn->state()) << ", connects " << c->conn->connects();
    o << "\n";
  }
  o << "M3UA drops:";
  bool any = false;
  for (std::size_t i = 0; i < m3ua_drops_.size(); ++i)
    if (m3ua_drops_[i] != 0) {
      o << " " << mxua::to_string(static_cast<mxua::DropReason>(i)) << "=" << m3ua_drops_[i];
      any = true;
    }
  o << (any ? "\n" : " none\n");
  return o.str();
}

void M3uaSide::collect(std::vector<rserpool::ops::Sample>& out) const {
  out.push_back({"sg_ss7_associations", {}, static_cast<double>(open_associations())});
  out.push_back({"sg_ss7_refused_associations_total", {}, static_cast<double>(refused_)});
  for (std::size_t i = 0; i < m3ua_drops_.size(); ++i)
    out.push_back({"sg_m3ua_drops_total",
                   {{"reason", std::string(mxua::to_string(static_cast<mxua::DropReason>(i)))}},
                   static_cast<double>(m3ua_drops_[i])});
}

}  // namespace sg::gateway
