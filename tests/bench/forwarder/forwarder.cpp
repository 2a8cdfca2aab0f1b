#include "forwarder.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

#include "mxua/constants.hpp"
#include "rserpool/base/log.hpp"

namespace sg::bench {
namespace {

namespace tr = rserpool::transport;

std::shared_ptr<spdlog::logger> logger() {
  static auto l = rserpool::log::get("m3ua-forwarder");
  return l;
}

std::string where(const tr::EndpointConfig& c, bool remote) {
  const auto& ips = remote ? c.remote_addresses : c.local_addresses;
  const auto port = remote ? c.remote_port : c.local_port;
  std::string a = ips.empty() ? std::string("*") : ips.front().to_string();
  if (a.find(':') != std::string::npos) a = "[" + a + "]";
  return a + ":" + std::to_string(port);
}

}  // namespace

// Notifications of one association, for the peer it belongs to.
class Forwarder::PeerHandler : public tr::AssociationHandler {
 public:
  PeerHandler(Forwarder& f, Peer& p) : f_(f), p_(p), alive_(f.alive_) {}
  void on_up(tr::Association&, const tr::AssociationInfo& info) override {
    if (!alive_.expired()) f_.up(p_, info);
  }
  void on_message(tr::Association&, tr::Message&& m) override {
    if (!alive_.expired()) f_.received(p_, std::move(m));
  }
  void on_send_failed(tr::Association&, std::vector<tr::Message>&& unsent) override {
    if (alive_.expired()) return;
    f_.counters_.unsent += unsent.size();
    rserpool::log::warn_limited(logger(), "messages not delivered",
                                "{} message(s) not delivered by a failed association: dropped (counted as unsent)",
                                unsent.size());
  }
  void on_down(tr::Association&, tr::DownReason r) override {
    if (alive_.expired()) return;
    logger()->info("{} association down: {}", p_.downstream ? "downstream" : "SS7", tr::to_string(r));
    f_.down(p_);
  }

 private:
  Forwarder& f_;
  Peer& p_;
  std::weak_ptr<bool> alive_;
};

Forwarder::Forwarder(boost::asio::io_context& io, ForwarderConfig config) : io_(io), config_(std::move(config)) {}

Forwarder::~Forwarder() {
  *alive_ = false;
  close();
}

Forwarder::Peer* Forwarder::add_peer(bool downstream, PeerRole role, std::optional<std::uint32_t> rc) {
  auto p = std::make_unique<Peer>(Peer{nullptr, nullptr, PeerProtocol(role, rc), downstream, 0});
  p->handler = std::make_shared<PeerHandler>(*this, *p);
  peers_.push_back(std::move(p));
  return peers_.back().get();
}

rserpool::Result<void, std::string> Forwarder::start() {
  auto accept = [this](bool downstream) {
    return [this, downstream, alive = std::weak_ptr<bool>(alive_)](
               const std::shared_ptr<tr::Association>& a) -> std::shared_ptr<tr::AssociationHandler> {
      if (alive.expired()) return nullptr;
      Peer* p = add_peer(downstream, PeerRole::sgp, std::nullopt);
      p->assoc = a;
      return p->handler;
    };
  };
  auto l = tr::Listener::open(io_, config_.ss7, accept(false));
  if (!l) return rserpool::unexpected("cannot listen on " + where(config_.ss7, false) + ": " + l.error().message());
  ss7_listener_ = *l;
  if (config_.downstream_listen) {
    auto d = tr::Listener::open(io_, *config_.downstream_listen, accept(true));
    if (!d)
      return rserpool::unexpected("cannot listen on " + where(*config_.downstream_listen, false) + ": " +
                                  d.error().message());
    downstream_listener_ = *d;
  }
  for (const auto& c : config_.controllers) {
    Peer* p = add_peer(true, PeerRole::ipsp_initiator, config_.controller_rc);
    auto a = tr::connect(io_, c, p->handler);
    if (!a) return rserpool::unexpected("cannot connect to " + where(c, true) + ": " + a.error().message());
    p->assoc = *a;
  }
  return {};
}

void Forwarder::close() {
  if (ss7_listener_) ss7_listener_->close();
  if (downstream_listener_) downstream_listener_->close();
  for (auto& p : peers_)
    if (p->assoc) p->assoc->close();
}

std::uint16_t Forwarder::ss7_port() const { return ss7_listener_ ? ss7_listener_->port() : 0; }

std::optional<std::uint16_t> Forwarder::downstream_port() const {
  if (!downstream_listener_) return std::nullopt;
  return downstream_listener_->port();
}

std::size_t Forwarder::active_downstream() const { return downstream_.size(); }

void Forwarder::up(Peer& p, const tr::AssociationInfo& info) {
  p.outbound_streams = info.outbound_streams;
  logger()->info("{} association up from {}", p.downstream ? "downstream" : "SS7",
                 info.remote.empty() ? std::string("?") : info.remote.front().to_string());
  p.protocol.association_up(replies_);
  send_replies(p);
}

void Forwarder::received(Peer& p, tr::Message&& m) {
  if (m.ppid != mxua::kPpid) {
    ++counters_.ignored;
    return;
  }
  DataLayout layout;
  const bool was_active = p.protocol.active();
  switch (p.protocol.receive(m.payload, layout, replies_)) {
    case Inbound::data:
      if (p.downstream) {
        ++counters_.from_downstream;
        if (ss7_ == nullptr) {
          ++counters_.no_peer;
          return;
        }
        forward(*ss7_, std::move(m), layout);
      } else {
        ++counters_.from_ss7;
        ss7_ = &p;  // answers go back to the SS7 peer that sent last
        Peer* to = next_downstream();
        if (to == nullptr) {
          ++counters_.no_peer;
          rserpool::log::warn_limited(logger(), "no downstream peer", "DATA from the SS7 side dropped: no ACTIVE "
                                                                      "downstream peer");
          return;
        }
        forward(*to, std::move(m), layout);
      }
      return;
    case Inbound::management:
    case Inbound::activated:
    case Inbound::deactivated:
      ++counters_.management;
      break;
    case Inbound::ignored:
      ++counters_.ignored;
      break;
    case Inbound::malformed:
      ++counters_.malformed;
      rserpool::log::warn_limited(logger(), "malformed M3UA", "malformed M3UA message ({} bytes) dropped",
                                  m.payload.size());
      break;
  }
  send_replies(p);
  if (!p.downstream) {
    if (p.protocol.active()) ss7_ = &p;
    return;
  }
  if (p.protocol.active() != was_active) {
    if (p.protocol.active()) downstream_.push_back(&p);
    else downstream_.erase(std::remove(downstream_.begin(), downstream_.end(), &p), downstream_.end());
    if (changed_) changed_(downstream_.size());
  }
}

void Forwarder::forward(Peer& to, tr::Message&& m, const DataLayout& layout) {
  if (layout.routing_context_offset) {
    if (const auto rc = to.protocol.routing_context()) write_routing_context(m.payload, *layout.routing_context_offset, *rc);
  }
  m.stream = data_stream(m.stream, to.outbound_streams);
  if (to.assoc->send(std::move(m))) {
    ++(to.downstream ? counters_.to_downstream : counters_.to_ss7);
  } else {
    ++counters_.refused;
    rserpool::log::warn_limited(logger(), "send refused", "DATA dropped: the {} association refused it",
                                to.downstream ? "downstream" : "SS7");
  }
}

Forwarder::Peer* Forwarder::next_downstream() {
  if (downstream_.empty()) return nullptr;
  if (next_ >= downstream_.size()) next_ = 0;
  return downstream_[next_++];
}

void Forwarder::send_replies(Peer& p) {
  for (auto& r : replies_) {
    if (!p.assoc) break;
    if (!p.assoc->send(tr::Message{mxua::kPpid, 0, false, std::move(r)})) ++counters_.refused;
  }
  replies_.clear();
}

void Forwarder::down(Peer& p) {
  const bool was = std::find(downstream_.begin(), downstream_.end(), &p) != downstream_.end();
  downstream_.erase(std::remove(downstream_.begin(), downstream_.end(), &p), downstream_.end());
  if (ss7_ == &p) ss7_ = nullptr;
  if (was && changed_) changed_(downstream_.size());
  // Not from inside the association's callback: the handler is on the stack.
  boost::asio::post(io_, [this, peer = &p, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) return;
    peers_.erase(std::remove_if(peers_.begin(), peers_.end(), [peer](const auto& q) { return q.get() == peer; }),
                 peers_.end());
  });
}

}  // namespace sg::bench
