#include "mxua/driver/sgp_server.hpp"

#include <algorithm>

#include "rserpool/base/log.hpp"

namespace mxua::driver {

SgpServer::SgpServer(Key, boost::asio::io_context& io, SgpServerConfig cfg, Events& events)
    : cfg_(std::move(cfg)), node_(cfg_.sgp), runner_(ActionRunner::create(io, events)) {
  runner_->set_core_timers(ActionRunner::CoreTimers{[this] { return node_.next_deadline(); },
                                                    [this](TimePoint now, Actions& out) { node_.on_timeout(now, out); },
                                                    [this] { return node_.timer_changes(); }});
}

rserpool::Result<std::unique_ptr<SgpServer>, std::error_code> SgpServer::open(boost::asio::io_context& io,
                                                                              SgpServerConfig cfg, Events& events) {
  // M3UA needs stream 0 plus at least one DATA stream.
  cfg.transport.out_streams = std::max<std::uint16_t>(cfg.transport.out_streams, 2);
  cfg.transport.in_streams = std::max<std::uint16_t>(cfg.transport.in_streams, 2);
  if (cfg.transport.name.empty()) cfg.transport.name = "m3ua-sgp";
  // The allow-list is the core's (SgpNode binds each association to a
  // configured peer by ALL its addresses): a plain address list is one
  // peer; accept_any lets unconfigured peers in.
  if (cfg.sgp.peers.empty() && !cfg.allowed_peers.empty())
    cfg.sgp.peers.push_back(SgpPeerConfig{"allowed", cfg.allowed_peers, {}});
  if (cfg.accept_any) cfg.sgp.accept_unknown_peers = true;
  auto s = std::make_unique<SgpServer>(Key{}, io, std::move(cfg), events);
  SgpServer* self = s.get();
  auto l = tr::Listener::open(io, self->cfg_.transport, [self](const std::shared_ptr<tr::Association>&) {
    // Prune the drivers whose association has gone.
    std::erase_if(self->drivers_, [](const auto& kv) { return kv.second.expired(); });
    const AssocId id = next_association_id();
    auto d = std::make_shared<AssociationDriver>(self->runner_, Endpoint::sgp(id, self->node_));
    self->drivers_[id] = d;
    return std::shared_ptr<tr::AssociationHandler>(d);
  });
  if (!l) return rserpool::unexpected(l.error());
  s->listener_ = std::move(*l);
  rserpool::log::get("m3ua")->info("SGP listening on port {} ({})", s->listener_->port(),
                                   tr::to_string(s->listener_->kind()));
  return s;
}

SgpServer::~SgpServer() {
  close();
  runner_->cancel_timer();
  runner_->set_core_timers({});
}

void SgpServer::close() {
  if (listener_) listener_->close();
  for (auto& [id, weak] : drivers_) {
    if (auto d = weak.lock()) {
      if (auto a = d->association()) {
        a->set_handler(nullptr);  // the node dies with us: no notifications into it
        a->abort();
      }
    }
  }
  drivers_.clear();
}

void SgpServer::route(const DataView& d) {
  Bytes none;
  route(d, none);
}

void SgpServer::route(const DataView& d, Bytes& user_part) {
  // The hot path: the node's verdict without an action list (issue 16).
  if (SendData s; node_.route_now(d, s)) return runner_->send_data_now(s, user_part);
  Actions acts = std::move(scratch_);
  acts.clear();
  node_.route(d, runner_->now(), acts);
  runner_->run(acts, user_part);
  scratch_ = std::move(acts);
}

bool SgpServer::route_now(const DataView& d, Bytes& user_part) {
  SendData s;
  if (!node_.route_now(d, s)) return false;
  runner_->send_data_now(s, user_part);
  return true;
}

void SgpServer::request(const std::function<Actions(SgpNode&, TimePoint)>& fn) {
  auto acts = fn(node_, runner_->now());
  runner_->run(acts);
}

std::vector<AssocId> SgpServer::associations() const {
  std::vector<AssocId> out;
  for (const auto& [id, weak] : drivers_)
    if (auto d = weak.lock(); d && d->up()) out.push_back(id);
  return out;
}

}  // namespace mxua::driver
