#include "mxua/fsm/endpoint.hpp"

#include <algorithm>

namespace mxua {
namespace {

// Messages a serving half answers (requests); everything else (ACKs, NTFY,
// responses, SSNM announcements) belongs to the requesting half.
bool is_request(const Message& m) {
  return std::holds_alternative<AspUp>(m) || std::holds_alternative<AspDn>(m) || std::holds_alternative<AspAc>(m) ||
         std::holds_alternative<AspIa>(m) || std::holds_alternative<RegReq>(m) ||
         std::holds_alternative<DeregReq>(m) || std::holds_alternative<Daud>(m) || std::holds_alternative<Beat>(m);
}

}  // namespace

Endpoint Endpoint::asp(AspClientConfig cfg) {
  Endpoint e(Role::Asp, cfg.assoc);
  e.client_ = std::make_unique<AspClient>(std::move(cfg));
  return e;
}

Endpoint Endpoint::sgp(AssocId assoc, SgpNode& node) {
  Endpoint e(Role::Sgp, assoc);
  e.node_ = &node;
  return e;
}

Endpoint Endpoint::ipsp(IpspConfig cfg) {
  Endpoint e(Role::Ipsp, cfg.requesting.assoc);
  const bool both = cfg.exchange == IpspExchange::Double;
  if (both || cfg.initiator) e.client_ = std::make_unique<AspClient>(cfg.requesting);
  if (both || !cfg.initiator) {
    // One heartbeat per association: the requesting half runs it when present.
    if (e.client_) cfg.serving.t_beat.reset();
    e.owned_node_ = std::make_unique<SgpNode>(std::move(cfg.serving));
    e.node_ = e.owned_node_.get();
  }
  return e;
}

Actions Endpoint::association_up(std::uint16_t outbound_streams, TimePoint now) {
  Actions out;
  if (node_) out = node_->association_up(assoc_, outbound_streams, now);
  if (client_) {
    auto more = client_->association_up(now, outbound_streams);
    out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  return out;
}

Actions Endpoint::association_up(std::uint16_t outbound_streams, TimePoint now,
                                 const std::vector<rserpool::IpAddress>& remote) {
  if (role_ == Role::Sgp) return node_->association_up(assoc_, remote, outbound_streams, now);
  return association_up(outbound_streams, now);
}

Actions Endpoint::association_down(TimePoint now) {
  Actions out;
  if (node_) out = node_->association_down(assoc_, now);
  if (client_) {
    auto more = client_->association_down(now);
    out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  return out;
}

Actions Endpoint::receive(std::uint16_t stream, ByteView bytes, TimePoint now) {
  if (!node_) return client_->receive(stream, bytes, now);
  if (!client_) return node_->receive(assoc_, stream, bytes, now);
  // Double-exchange IPSP: decode once, then pick the half.
  Actions out;
  client_->seen(now);
  node_->seen(assoc_, now);
  auto hdr = decode_header(bytes, node_->config().limits);
  if (hdr && hdr->msg_class == static_cast<std::uint8_t>(MessageClass::Transfer)) {
    auto d = decode_data(bytes, *hdr);  // the header read once
    if (!d) return node_->receive(assoc_, stream, bytes, now);  // the serving half answers the ERR
    // DATA belongs to whichever half has the peer/us active for it.
    if (node_->asp_state(assoc_, d->routing_context) == AspState::Active)
      node_->handle_data(assoc_, *d, stream, bytes, now, out);
    else
      client_->handle_data(*d, stream, bytes, now, out);
    return out;
  }
  auto m = decode(bytes, node_->config().limits);
  if (!m) return node_->receive(assoc_, stream, bytes, now);
  if (is_request(*m))
    node_->handle(assoc_, *m, stream, bytes, now, out);
  else
    client_->handle(*m, stream, bytes, now, out);
  return out;
}

std::optional<TimePoint> Endpoint::next_deadline() const {
  std::optional<TimePoint> a = client_ ? client_->next_deadline() : std::nullopt;
  std::optional<TimePoint> b = node_ && owned_node_ ? node_->next_deadline() : std::nullopt;
  if (a && b) return std::min(*a, *b);
  return a ? a : b;
}

Actions Endpoint::on_timeout(TimePoint now) {
  Actions out;
  if (client_) client_->on_timeout(now, out);
  // A shared SgpNode (role Sgp) runs its timers through its own driver.
  if (owned_node_) owned_node_->on_timeout(now, out);
  return out;
}

void Endpoint::set_association(AssocId assoc) {
  assoc_ = assoc;
  if (client_) client_->set_association(assoc);
}

Actions Endpoint::send_data(const DataView& d, TimePoint now) {
  Actions out;
  send_data(d, now, out);
  return out;
}

void Endpoint::send_data(const DataView& d, TimePoint now, Actions& out) {
  if (client_ && client_->active_for(d.routing_context)) {
    client_->send_data(d, out);
  } else if (node_) {
    node_->route(d, now, out);
  } else {
    client_->send_data(d, out);  // reports the drop
  }
}

}  // namespace mxua
