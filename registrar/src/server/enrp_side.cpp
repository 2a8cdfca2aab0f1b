// ENRP side of the driver: the associations to and from peers. Who may
// peer, which server an association speaks for and where a message goes
// are the PeerDirectory's decisions; this file opens, feeds and closes the
// associations it names.
#include <utility>

#include "rserpool/wire/enrp.hpp"
#include "server_impl.hpp"

namespace rserpool::registrar::detail {

namespace {

std::shared_ptr<transport::AssociationHandler> enrp_handler(std::weak_ptr<ServerState> s) {
  return make_link_handler(std::move(s), &ServerState::enrp_up, &ServerState::enrp_message,
                           &ServerState::enrp_send_failed, &ServerState::enrp_down);
}

}  // namespace

std::shared_ptr<transport::AssociationHandler> ServerState::accept_enrp(
    const std::shared_ptr<transport::Association>& a) {
  if (stopped) return nullptr;
  if (!directory.on_accepted(a->id())) {  // refused: the listener aborts it at once
    limited(spdlog::level::warn, "refused ENRP association (full)",
            "{}: refused ENRP association: {} inbound ENRP associations already", cfg.name, cfg.max_enrp_links);
    return nullptr;
  }
  enrp[a->id()] = a;
  return enrp_handler(weak_from_this());
}

// rspregistrar only takes a PRESENCE's Server Information from an
// association whose source is that endpoint (addresses and port), as its
// own one-to-many socket does: over SCTP we connect from our ENRP port.
// The TCP mapping cannot share a listening port; it connects from an
// ephemeral one (our own peers do not mind).
std::optional<LinkId> ServerState::open_enrp(const ConnectPeer& request) {
  auto ep = endpoint({}, 0, cfg.name + "/enrp-peer");
  ep.remote_addresses = {request.to.ip};
  ep.remote_port = request.to.port;
  ++counters.enrp_connects;
  Result<std::shared_ptr<transport::Association>, std::error_code> a =
      unexpected(std::make_error_code(std::errc::not_connected));
  if (kind == transport::TransportKind::sctp) {
    auto bound = ep;
    bound.local_addresses = cfg.enrp_addresses;
    bound.local_port = enrp_port;
    bound.reuse_port = true;
    a = transport::connect(io, bound, enrp_handler(weak_from_this()));
    if (!a) {
      log->debug("{}: cannot connect from ENRP port {} ({}): using an ephemeral port", cfg.name, enrp_port,
                 a.error().message());
    }
  }
  if (!a) a = transport::connect(io, ep, enrp_handler(weak_from_this()));
  if (!a) {
    ++counters.enrp_connect_failures;
    rserpool::log::warn_limited(log, "ENRP connect failed", "{}: cannot connect to ENRP peer {}: {}", cfg.name,
                                request.to.to_string(), a.error().message());
    return std::nullopt;
  }
  enrp[(*a)->id()] = *a;
  return (*a)->id();
}

void ServerState::connect_peer(const ConnectPeer& request) {
  if (auto link = open_enrp(request)) {
    directory.on_connecting(request, *link, now());
  } else {
    directory.on_connect_failed(request, now());
  }
}

void ServerState::enrp_up(transport::Association& a, const transport::AssociationInfo& info) {
  if (stopped || !enrp.count(a.id())) return;
  auto acts = directory.on_up(a.id(), info.remote, now());
  if (directory.link_known(a.id())) {
    limited(spdlog::level::info, "ENRP association up", "{}: ENRP association {} with {} up", cfg.name, a.id(),
            info.remote.empty() ? std::string("?") : info.remote.front().to_string());
  }
  execute(std::move(acts));
}

void ServerState::enrp_message(transport::Association& a, transport::Message&& m) {
  // A refused association (its abort under way) delivers nothing.
  if (stopped || !enrp.count(a.id()) || !directory.link_known(a.id())) return;
  if (m.ppid != kEnrpPpid && m.ppid != 0) {
    ++counters.enrp_wrong_ppid;
    return;
  }
  ++counters.enrp_messages_received;
  const auto t = now();
  // Decoded once: the directory looks at it (binding, Server Information,
  // LIST_RESPONSE filter), then the core takes it.
  auto decoded = wire::enrp::decode(m.payload);
  std::vector<DirectoryAction> acts;
  const auto delivery = directory.on_message(a.id(), m.payload, decoded, t, acts);
  execute(std::move(acts));
  if (delivery.deliver) execute(core.on_enrp_message(std::move(decoded), t, delivery.from, delivery.role));
}

void ServerState::enrp_send_failed(transport::Association& a, std::size_t count) {
  counters.enrp_send_failures += count;
  log->debug("{}: ENRP association {}: {} message(s) not delivered", cfg.name, a.id(), count);
}

void ServerState::enrp_down(transport::Association& a, transport::DownReason why) {
  auto it = enrp.find(a.id());
  if (it == enrp.end()) return;
  enrp.erase(it);
  released(outbound.held_bytes(a.id()) + kAssociationFootprint);
  outbound.forget(a.id());
  if (directory.link_known(a.id())) {
    limited(spdlog::level::info, "ENRP association down", "{}: ENRP association {} down: {}", cfg.name, a.id(),
            transport::to_string(why));
  }
  if (why == transport::DownReason::connect_failed) ++counters.enrp_connect_failures;
  directory.on_down(a.id(), why == transport::DownReason::connect_failed, now());
  arm_timers();
}

void ServerState::abort_enrp(LinkId link) {
  auto it = enrp.find(link);
  if (it == enrp.end()) return;
  auto a = it->second;
  a->abort();  // on_down follows from the io thread
}

void ServerState::send_enrp(ServerIdentifier peer, const wire::enrp::Message& message) {
  auto route = directory.route(peer, now());
  if (route.connect) {
    if (auto link = open_enrp(*route.connect)) {
      directory.on_connecting(*route.connect, *link, now());
      route.link = link;
    } else {
      directory.on_connect_failed(*route.connect, now());
    }
  }
  if (!route.link) {
    log->debug("{}: no association to server {:08x}: ENRP message dropped", cfg.name, peer);
    return;
  }
  send_enrp_on(*route.link, message);
}

// Encoded here, once, as the message leaves.
void ServerState::send_enrp_on(LinkId link, const wire::enrp::Message& message) {
  auto it = enrp.find(link);
  if (it == enrp.end()) {
    ++counters.enrp_send_failures;
    return;
  }
  Bytes bytes = wire::enrp::encode(message);
  const std::size_t size = bytes.size();
  auto association = it->second;
  auto r = association->send(transport::Message{kEnrpPpid, 0, false, std::move(bytes)});
  if (!r) {
    ++counters.enrp_send_failures;
    if (r.error() == transport::SendError::queue_full) queue_full_abort(*association, LinkClass::enrp);
    return;
  }
  ++counters.enrp_messages_sent;
  account_sent(*association, LinkClass::enrp, size);
}

}  // namespace rserpool::registrar::detail
