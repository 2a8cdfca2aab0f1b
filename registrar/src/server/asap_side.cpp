// ASAP side of the driver: associations from PEs and PUs on the ASAP port,
// and our own connections to PEs taken over from a dead peer.
#include <algorithm>
#include <utility>

#include "rserpool/base/buffer_pool.hpp"
#include "server_impl.hpp"

namespace rserpool::registrar::detail {

namespace {

std::shared_ptr<transport::AssociationHandler> asap_handler(std::weak_ptr<ServerState> s) {
  return make_link_handler(std::move(s), &ServerState::asap_up, &ServerState::asap_message,
                           &ServerState::asap_send_failed, &ServerState::asap_down);
}

}  // namespace

// Refused here, the association never gets a handler: the listener aborts
// it and frees its descriptor at once (a burst of connections cannot run
// the process out of descriptors while aborts are under way).
std::shared_ptr<transport::AssociationHandler> ServerState::accept_asap(
    const std::shared_ptr<transport::Association>& a) {
  if (stopped) return nullptr;
  auto acts = core.on_asap_association_accepted(a->id(), now());
  const bool refused = std::any_of(acts.begin(), acts.end(), [&](const Action& x) {
    const auto* abort = std::get_if<AbortAsap>(&x);
    return abort != nullptr && abort->association == a->id();
  });
  if (refused) ++counters.asap_aborted_by_caps;
  std::erase_if(acts, [&](const Action& x) {
    const auto* abort = std::get_if<AbortAsap>(&x);
    return abort != nullptr && abort->association == a->id();
  });
  execute(std::move(acts));
  if (refused) return nullptr;
  asap[a->id()] = AsapLink{a, std::nullopt, false};
  return asap_handler(weak_from_this());
}

void ServerState::asap_up(transport::Association& a, const transport::AssociationInfo& info) {
  auto it = asap.find(a.id());
  if (it == asap.end() || stopped) return;
  it->second.up = true;
  if (!it->second.element_target) ++counters.asap_associations_accepted;
  const std::uint16_t port = info.remote.empty() ? 0 : info.remote.front().port;
  log->debug("{}: ASAP association {} up from {}", cfg.name, a.id(),
             info.remote.empty() ? std::string("?") : info.remote.front().to_string());
  execute(core.on_asap_association_up(a.id(), ips_of(info.remote), port, now()));
}

void ServerState::asap_message(transport::Association& a, transport::Message&& m) {
  if (stopped) return;
  const auto it = asap.find(a.id());
  if (it == asap.end()) return;
  // rsplib sends ASAP with PPID 11; 0 ("unspecified") is tolerated, anything
  // else is another protocol on the wrong port.
  if (m.ppid != kAsapPpid && m.ppid != 0) {
    ++counters.asap_wrong_ppid;
    log->debug("{}: ASAP association {}: dropped message with PPID {}", cfg.name, a.id(), m.ppid);
    return;
  }
  ++counters.asap_messages_received;
  const TimePoint t = now();
  // A plain resolution: answered in bytes, no action list, no timer to
  // re-arm (the core says when that is exact).
  if (core.answer_resolution(a.id(), m.payload, t, answer_buffer)) {
    buffers::give(std::move(m.payload));
    send_asap_bytes(it, std::exchange(answer_buffer, buffers::take(256)));
    return;
  }
  execute(core.on_asap_message(a.id(), m.payload, t));
  // The core keeps no view of it past the event: the transport reads the
  // next message into this buffer (rserpool/base/buffer_pool.hpp).
  buffers::give(std::move(m.payload));
}

void ServerState::asap_send_failed(transport::Association& a, std::size_t count) {
  counters.asap_send_failures += count;
  log->debug("{}: ASAP association {}: {} message(s) not delivered", cfg.name, a.id(), count);
}

void ServerState::asap_down(transport::Association& a, transport::DownReason why) {
  auto it = asap.find(a.id());
  if (it == asap.end()) return;
  const bool element = it->second.element_target.has_value();
  if (element) {
    auto e = element_links.find(*it->second.element_target);
    if (e != element_links.end() && e->second == a.id()) element_links.erase(e);
    if (why == transport::DownReason::connect_failed) ++counters.element_connect_failures;
  } else {
    ++counters.asap_associations_closed;
  }
  asap.erase(it);
  // What it held: its queue here, and the transport's buffers (about a
  // read buffer's worth).
  released(outbound.held_bytes(a.id()) + kAssociationFootprint);
  outbound.forget(a.id());
  log->debug("{}: ASAP association {} down ({})", cfg.name, a.id(), transport::to_string(why));
  if (stopped) return;
  execute(core.on_asap_association_down(a.id(), now()));
}

// Encoded here, once, as the message leaves, into a recycled buffer that
// the transport gives back once the peer has it.
void ServerState::send_asap(AssociationId id, const AsapOut& message) {
  auto it = asap.find(id);
  if (it == asap.end()) {
    ++counters.asap_send_failures;
    return;
  }
  Bytes bytes = buffers::take(256);
  encode_into(message, bytes);
  send_asap_bytes(it, std::move(bytes));
}

void ServerState::send_asap_bytes(AssociationId id, Bytes&& message) {
  auto it = asap.find(id);
  if (it == asap.end()) {
    ++counters.asap_send_failures;
    return;
  }
  send_asap_bytes(it, std::move(message));
}

void ServerState::send_asap_bytes(std::map<AssociationId, AsapLink>::iterator it, Bytes&& message) {
  const AssociationId id = it->first;
  const std::size_t bytes = message.size();
  auto& association = *it->second.association;
  auto r = association.send(transport::Message{kAsapPpid, 0, false, std::move(message)});
  if (!r) {
    ++counters.asap_send_failures;
    log->debug("{}: ASAP association {}: send refused ({})", cfg.name, id, transport::to_string(r.error()));
    // The transport's backstop was reached before the core's bound (a
    // configuration with larger class bounds): same policy, a peer that
    // does not read is aborted, counted as such.
    if (r.error() == transport::SendError::queue_full) queue_full_abort(association, LinkClass::asap);
    return;
  }
  ++counters.asap_messages_sent;
  account_sent(association, LinkClass::asap, bytes);
}

void ServerState::abort_asap(AssociationId id) {
  auto it = asap.find(id);
  if (it == asap.end()) return;
  ++counters.asap_aborted_by_caps;
  it->second.association->abort();  // on_down follows from the io thread
}

void ServerState::send_asap_to_element(SendAsapToElement&& s) {
  const auto& t = s.asap_transport;
  if (t.addresses.empty() || t.port == 0) {
    ++counters.element_connect_failures;
    return;
  }
  const TransportAddress target{t.addresses.front(), t.port};
  if (auto e = element_links.find(target); e != element_links.end()) {
    return send_asap_bytes(e->second, wire::asap::encode(s.message));
  }
  auto ep = endpoint({}, 0, cfg.name + "/asap-pe");
  ep.remote_addresses = t.addresses;
  ep.remote_port = t.port;
  auto a = transport::connect(io, ep, asap_handler(weak_from_this()));
  if (!a) {
    ++counters.element_connect_failures;
    limited(spdlog::level::info, "taken-over PE unreachable", "{}: cannot reach taken-over PE {:08x} at {}: {}",
            cfg.name, s.pe, target.to_string(), a.error().message());
    return;
  }
  ++counters.element_connects;
  const auto id = (*a)->id();
  asap[id] = AsapLink{*a, target, false};
  element_links[target] = id;
  send_asap_bytes(id, wire::asap::encode(s.message));
}

}  // namespace rserpool::registrar::detail
