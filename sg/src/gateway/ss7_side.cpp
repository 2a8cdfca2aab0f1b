#include "ss7_side.hpp"

#include <algorithm>
#include <sstream>

#include "mtp_conversion.hpp"
#include "ss7_plan.hpp"
#include "rserpool/base/log.hpp"

namespace sg::gateway {
namespace {

namespace tr = rserpool::transport;

auto ss7_side_log() {
  static auto l = rserpool::log::get("ss7");
  return l;
}

std::string peer_text(const tr::AssociationInfo& info) {
  return info.remote.empty() ? std::string("?") : info.remote.front().to_string();
}

std::string rc_text(const std::optional<std::uint32_t>& rc) {
  return rc ? " (RC " + std::to_string(*rc) + ")" : std::string();
}

}  // namespace

// One client connection to an STP, with the events adapter that tells the
// side which connection spoke.
struct M3uaSide::Connection : mxua::driver::Events {
  Connection(M3uaSide& s, std::size_t i, Ss7Connect c, mxua::PathOwner o)
      : side(s), index(i), cfg(std::move(c)), path_owner(o) {}
  mxua::PathOwner owner() const { return path_owner; }

  void on_association_up(mxua::AssocId a, const tr::AssociationInfo& info) override {
    ss7_side_log()->info("connect {}: association {} up with {}", cfg.name, a, peer_text(info));
    side.paths_.link_up(owner());
  }
  void on_association_down(mxua::AssocId a, tr::DownReason r) override {
    ss7_side_log()->info("connect {}: association {} down ({})", cfg.name, a, tr::to_string(r));
    side.paths_.link_down(owner());
    if (side.stopping_ && conn) conn->stop();  // no reconnect while shutting down
  }
  void on_data(mxua::DataIndication&& d) override {
    side.received(std::move(d), owner(), cfg.routing_context);
  }
  bool keeps_frames() const override { return true; }
  void on_asp_state(const mxua::AspStateChanged& c) override {
    ss7_side_log()->info("connect {}: ASP {} -> {}{}", cfg.name, mxua::to_string(c.from), mxua::to_string(c.to),
                   rc_text(c.routing_context));
    if (c.to == mxua::AspState::Active && side.hooks_.path_active) side.hooks_.path_active();
  }
  void on_request_failed(const mxua::RequestFailed& r) override {
    const std::string why = r.error ? "ERR " + std::string(mxua::to_string(*r.error)) : std::string("no answer");
    const std::string again =
        r.retry_at ? "; again in " + std::to_string(rserpool::to_millis(*r.retry_at - rserpool::SteadyClock::instance().now())) +
                         " ms"
                   : std::string();
    rserpool::log::warn_limited(ss7_side_log(), "M3UA request refused", "connect {}: {} refused: {}{}", cfg.name,
                                mxua::message_name(r.request.msg_class, r.request.msg_type), why, again);
  }

  M3uaSide& side;
  std::size_t index;
  Ss7Connect cfg;
  mxua::PathOwner path_owner;
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
  Ss7Plan plan = plan_ss7(config, profile.retry_initial, profile.retry_max);
  side->paths_ = std::move(plan.return_paths);
  if (plan.sgp) {
    mxua::driver::SgpServerConfig sc;
    sc.transport.local_addresses = ss7.listen_ips;
    sc.transport.local_port = ss7.listen_port;
    sc.transport.kind = profile.kind;
    sc.transport.sctp = profile.sctp;
    sc.transport.tcp = profile.tcp;
    sc.transport.name = "ss7-sgp";
    sc.sgp = std::move(*plan.sgp);
    side->ases_ = sc.sgp.application_servers;
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
    ss7_side_log()->info("SGP listening on {}", side->listen_text_);
  }
  for (auto& planned : plan.connects) {
    const auto& k = planned.config;
    auto c = std::make_unique<Connection>(*side, side->connections_.size(), k, planned.owner);
    mxua::driver::AspConnectionConfig ac;
    ac.transport.remote_addresses = k.remote_ips;
    ac.transport.remote_port = k.remote_port;
    ac.transport.local_addresses = k.local_ips;
    ac.transport.kind = profile.kind;
    ac.transport.sctp = profile.sctp;
    ac.transport.tcp = profile.tcp;
    ac.transport.name = k.name;
    ac.asp = std::move(planned.asp);
    c->conn = mxua::driver::AspConnection::create(io, std::move(ac), *c);
    c->conn->start();
    ss7_side_log()->info("connect {}: connecting as {} to {} port {}, traffic mode {} ({})", k.name,
                   k.role == PeerRole::ipsp ? "IPSP" : "ASP",
                   k.remote_ips.empty() ? std::string("?") : k.remote_ips.front().to_string(), k.remote_port,
                   mxua::to_string(k.traffic_mode), to_string(k.negotiation));
    side->connections_.push_back(std::move(c));
  }
  return side;
}

std::optional<std::uint16_t> M3uaSide::sgp_port() const {
  if (!sgp_) return std::nullopt;
  return sgp_->port();
}

std::string M3uaSide::peer_name(mxua::AssocId a) const {
  if (!sgp_) return "-";
  const auto peer = sgp_->node().peer_of(a);
  const auto* c = peer ? sgp_->node().peers().config(*peer) : nullptr;
  return c ? c->name : std::string("-");
}

// DATA from the SS7 side: it teaches the return path of its OPC (the core
// keeps or refuses the lesson), then goes to the gateway.
void M3uaSide::received(mxua::DataIndication&& d, mxua::PathOwner owner, std::optional<std::uint32_t> rc) {
  const auto& p = d.data.protocol_data;
  counters_.ss7_in.add(p.user_part().size());
  if (paths_.learn(p.opc, mxua::ReturnPath{owner, rc}) == mxua::ReturnPaths::Learn::Refused)
    rserpool::log::warn_limited(ss7_side_log(), "return path refused",
                                "DATA with OPC {} on association {} did not move that point code's return path: it "
                                "belongs to another peer",
                                p.opc.value, d.assoc);
  if (hooks_.data) hooks_.data(to_mtp(std::move(d.data.protocol_data)));
}

void M3uaSide::on_data(mxua::DataIndication&& d) {
  auto it = sgp_links_.find(d.assoc);
  const mxua::PathOwner owner = it != sgp_links_.end() ? it->second.owner : Ss7Plan::kAnyOwner + d.assoc;
  const std::uint32_t rc = d.routing_context;
  received(std::move(d), owner, rc);
}

bool M3uaSide::send_via_sgp(MtpMessage& m, std::uint32_t rc) {
  if (!sgp_) return false;
  // The DATA is built in the buffer the user part came in (the runner lends
  // it to a sole SendData only): no second buffer, no copy (issue 16).
  const auto view = to_data_view(m, rc);
  // An active AS with one ASP for the SLS sends it at once (the node's own
  // verdict, which needs the AS active: the test below passes for it).
  if (sgp_->route_now(view, m.data)) return true;
  const auto st = sgp_->node().as_state(rc);
  if (st != mxua::AsState::Active && st != mxua::AsState::Pending) return false;
  sgp_->route(view, m.data);
  return true;
}

bool M3uaSide::send_via_connection(std::size_t i, MtpMessage& m) {
  if (i >= connections_.size() || !connections_[i]->conn) return false;
  auto& c = *connections_[i];
  if (!c.conn->active_for(c.cfg.routing_context)) return false;
  return c.conn->send_data(to_data_view(m, c.cfg.routing_context), m.data);
}

bool M3uaSide::send_via(const mxua::ReturnPath& path, MtpMessage& m) {
  if (path.owner >= Ss7Plan::kConnectionOwner && path.owner < Ss7Plan::kAnyOwner)
    return send_via_connection(path.owner - Ss7Plan::kConnectionOwner, m);
  return path.routing_context && send_via_sgp(m, *path.routing_context);
}

M3uaSide::SendResult M3uaSide::send(MtpMessage& m, bool caller_holds) {
  const std::size_t size = m.user_size();  // the DATA may take m.data with it
  bool tried = false;
  const bool sent = paths_.route(mxua::PointCode{m.dpc}, [&](const mxua::ReturnPath& p) {
    tried = true;
    return send_via(p, m);
  });
  if (sent) {
    counters_.ss7_out.add(size);
    return SendResult::sent;
  }
  if (tried && caller_holds) return SendResult::not_active;
  counters_.drop(tried ? GatewayDrop::ss7_refused : GatewayDrop::no_ss7_path);
  rserpool::log::warn_limited(ss7_side_log(), "no SS7 path", "DATA to DPC {} dropped: {}", m.dpc,
                              tried ? "no path to it is active" : "no path to it is configured");
  return tried ? SendResult::not_active : SendResult::not_configured;
}

void M3uaSide::announce(const std::vector<mxua::MaskedPointCode>& destinations, bool available) {
  if (destinations.empty()) return;
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
  ss7_side_log()->warn("{} for {} destination(s) to the SS7 side", available ? "DAVA" : "DUNA", destinations.size());
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
  // The core has bound the association to its peer by now.
  const auto peer = sgp_ ? sgp_->node().peer_of(a) : std::nullopt;
  const mxua::PathOwner owner = peer ? *peer : Ss7Plan::kAnyOwner + a;
  sgp_links_[a] = SgpLink{owner, peer_text(i)};
  paths_.link_up(owner);
  ss7_side_log()->info("SGP: association {} up with peer {} ({})", a, peer_name(a), peer_text(i));
}

void M3uaSide::on_association_down(mxua::AssocId a, tr::DownReason r) {
  auto it = sgp_links_.find(a);
  if (it == sgp_links_.end()) return;
  ss7_side_log()->info("SGP: association {} with {} down ({})", a, it->second.address, tr::to_string(r));
  paths_.link_down(it->second.owner);
  sgp_links_.erase(it);
}

void M3uaSide::on_association_refused(mxua::AssocId a, const tr::AssociationInfo& i) {
  // Counted by the core (refused_associations) and logged by the driver.
  (void)a;
  (void)i;
}

void M3uaSide::on_asp_state(const mxua::AspStateChanged& c) {
  ss7_side_log()->info("SGP: ASP on association {} (peer {}) {} -> {}{}", c.assoc, peer_name(c.assoc),
                 mxua::to_string(c.from), mxua::to_string(c.to), rc_text(c.routing_context));
}

void M3uaSide::on_as_state(const mxua::AsStateChanged& c) {
  ss7_side_log()->info("SGP: AS RC {} {} -> {}", c.routing_context, mxua::to_string(c.from), mxua::to_string(c.to));
  if (c.to == mxua::AsState::Active && hooks_.path_active) hooks_.path_active();
}

Ss7Status M3uaSide::status() const {
  Ss7Status s;
  s.now = rserpool::SteadyClock::instance().now();
  auto add_counters = [&](const mxua::DropCounters& d, const mxua::ErrCounters& e) {
    for (std::size_t i = 0; i < mxua::kDropReasons; ++i) s.m3ua_drops.by_reason[i] += d.by_reason[i];
    for (std::size_t i = 0; i < mxua::ErrCounters::kCodes; ++i) {
      s.errors.sent[i] += e.sent[i];
      s.errors.received[i] += e.received[i];
    }
    s.errors.sent_other += e.sent_other;
    s.errors.received_other += e.received_other;
  };
  if (sgp_) {
    const auto& node = sgp_->node();
    s.sgp = true;
    s.listen_text = listen_text_;
    for (auto id : sgp_->associations()) {
      auto it = sgp_links_.find(id);
      s.associations.push_back(Ss7Status::Association{id, peer_name(id),
                                                      it != sgp_links_.end() ? it->second.address : "?",
                                                      node.asp_state(id)});
    }
    for (const auto& cfg : ases_) {
      Ss7Status::As a;
      a.rc = cfg.routing_context;
      a.name = cfg.name;
      a.state = node.as_state(cfg.routing_context);
      const auto* as = node.application_server(cfg.routing_context);
      a.mode = as ? as->mode() : cfg.mode;
      a.active = node.active_asps(cfg.routing_context).size();
      a.queued = node.queued(cfg.routing_context);
      s.ases.push_back(std::move(a));
    }
    s.refused_associations = node.refused_associations();
    s.evicted_associations = node.evicted_associations();
    s.stale_asp_resets = node.stale_asp_resets();
    add_counters(node.drops(), node.errors());
  }
  for (const auto& c : connections_) {
    Ss7Status::Connection x;
    x.name = c->cfg.name;
    x.remote = c->cfg.remote_ips.empty() ? std::string("?") : c->cfg.remote_ips.front().to_string();
    x.port = c->cfg.remote_port;
    x.ipsp = c->cfg.role == PeerRole::ipsp;
    x.configured_mode = c->cfg.traffic_mode;
    x.follow = c->cfg.negotiation == ModeNegotiation::follow;
    if (c->conn) {
      auto& client = c->conn->client();
      x.state = client.state();
      x.connects = c->conn->connects();
      x.accepted_mode = client.traffic_mode(c->cfg.routing_context);
      x.last_refusal = client.last_refusal();
      x.refusals = client.refusals();
      add_counters(client.drops(), client.errors());
    }
    s.connections.push_back(std::move(x));
  }
  s.no_ss7_path = counters_.dropped(GatewayDrop::no_ss7_path);
  s.ss7_refused = counters_.dropped(GatewayDrop::ss7_refused);
  s.return_paths = paths_.counters();
  s.return_path_entries = paths_.size();
  s.return_path_capacity = paths_.capacity();
  return s;
}

}  // namespace sg::gateway
