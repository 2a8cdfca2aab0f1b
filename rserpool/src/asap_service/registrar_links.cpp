#include "registrar_links.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

#include "rserpool/asap/service/control_channel.hpp"
#include "rserpool/base/log.hpp"
#include "rserpool/transport/endpoint.hpp"

namespace rserpool::asap::service_detail {

// Holds a weak reference to the links' liveness token: the association may
// outlive the endpoint by a few io_context turns (graceful close).
class RegistrarLinks::Handler : public transport::AssociationHandler {
 public:
  Handler(RegistrarLinks& links, std::weak_ptr<bool> alive, AssocId id, std::uint64_t gen)
      : links_(links), alive_(std::move(alive)), id_(id), gen_(gen) {}
  void on_up(transport::Association&, const transport::AssociationInfo&) override {
    if (alive_.lock()) links_.on_up(id_, gen_);
  }
  void on_message(transport::Association&, transport::Message&& m) override {
    if (alive_.lock()) links_.on_message(id_, gen_, std::move(m));
  }
  void on_down(transport::Association&, transport::DownReason reason) override {
    if (!alive_.lock()) return;
    log::get("asap")->debug("{}: registrar association {} down: {}", links_.name_, id_, transport::to_string(reason));
    links_.on_down(id_, gen_);
  }

 private:
  RegistrarLinks& links_;
  std::weak_ptr<bool> alive_;
  AssocId id_;
  std::uint64_t gen_;
};


RegistrarLinks::RegistrarLinks(boost::asio::io_context& io, RegistrarAccess access, std::string name, Events events)
    : io_(io), access_(std::move(access)), name_(std::move(name)), events_(std::move(events)) {}

RegistrarLinks::~RegistrarLinks() { close_all(); }

void RegistrarLinks::connect(AssocId id, const TransportAddress& address) {
  disconnect(id);
  const std::uint64_t gen = next_generation_++;
  auto cfg = registrar_endpoint(access_, address);
  cfg.name = name_ + "/registrar" + std::to_string(id);
  auto handler = std::make_shared<Handler>(*this, alive_, id, gen);
  auto plain = cfg;
  const bool tcp = transport::resolve_kind(access_.kind) == transport::TransportKind::tcp;
  const auto avoid = std::find(avoid_port_to_.begin(), avoid_port_to_.end(), address);
  const bool from_port = local_port_ != 0 && !(tcp && avoid != avoid_port_to_.end());
  if (avoid != avoid_port_to_.end()) avoid_port_to_.erase(avoid);
  if (from_port) {
    cfg.local_addresses = local_addresses_;
    cfg.local_port = local_port_;
    cfg.reuse_port = true;
  }
  auto assoc = transport::connect(io_, std::move(cfg), handler);
  if (!assoc && from_port) {
    // Binding to our ASAP port failed (kernel policy, address family): the
    // registrar is still worth reaching, only a takeover could not find us.
    log::get("asap")->warn("{}: cannot open a registrar association from port {} ({}): using an ephemeral port",
                           name_, local_port_, assoc.error().message());
    assoc = transport::connect(io_, std::move(plain), handler);
  }
  if (!assoc) {
    log::get("asap")->warn("{}: cannot connect to registrar {}: {}", name_, address.to_string(),
                           assoc.error().message());
    links_[id] = Link{nullptr, gen, false, false, std::nullopt};
    // Reported from the io_context so the core's action list finishes first.
    boost::asio::post(io_, [this, weak = std::weak_ptr<bool>(alive_), id, gen] {
      if (weak.lock()) on_down(id, gen);
    });
    return;
  }
  links_[id] = Link{std::move(*assoc), gen, false, false, from_port ? std::optional(address) : std::nullopt};
}

void RegistrarLinks::set_local_endpoint(std::vector<IpAddress> addresses, std::uint16_t port) {
  local_addresses_ = std::move(addresses);
  local_port_ = port;
}

std::shared_ptr<transport::AssociationHandler> RegistrarLinks::accept(AssocId id,
                                                                      std::shared_ptr<transport::Association> assoc) {
  disconnect(id);
  const std::uint64_t gen = next_generation_++;
  links_[id] = Link{std::move(assoc), gen, false, true, std::nullopt};
  return std::make_shared<Handler>(*this, alive_, id, gen);
}

std::size_t RegistrarLinks::accepted_count() const noexcept {
  std::size_t n = 0;
  for (const auto& [id, l] : links_)
    if (l.accepted) ++n;
  return n;
}

void RegistrarLinks::disconnect(AssocId id) {
  auto it = links_.find(id);
  if (it == links_.end()) return;
  if (it->second.assoc) {
    it->second.assoc->set_handler(nullptr);
    it->second.assoc->close();
  }
  links_.erase(it);
}

bool RegistrarLinks::send(AssocId id, const wire::asap::Message& m) {
  auto it = links_.find(id);
  if (it == links_.end() || !it->second.assoc) {
    log::get("asap")->debug("{}: no registrar association {} for {}", name_, id,
                            wire::asap::to_string(wire::asap::message_type(m)));
    return false;
  }
  auto r = it->second.assoc->send(control_message(m));
  if (!r) {
    log::warn_limited(log::get("asap"), "registrar association refused a message",
                      "{}: registrar association {} refused {}: {}", name_, id,
                      wire::asap::to_string(wire::asap::message_type(m)), transport::to_string(r.error()));
    return false;
  }
  return true;
}

void RegistrarLinks::close_all() {
  while (!links_.empty()) disconnect(links_.begin()->first);
}

void RegistrarLinks::on_up(AssocId id, std::uint64_t gen) {
  auto it = links_.find(id);
  if (it == links_.end() || it->second.generation != gen) return;
  it->second.up = true;
  if (!it->second.accepted) {
    events_.connected(id);
  } else if (events_.accepted_up) {
    events_.accepted_up(id);
  }
}

void RegistrarLinks::on_message(AssocId id, std::uint64_t gen, transport::Message&& m) {
  auto it = links_.find(id);
  if (it == links_.end() || it->second.generation != gen) return;
  if (m.ppid != kAsapPpid) {
    // rsplib sends ASAP with PPID 11 only; anything else is not ours.
    log::get("asap")->debug("{}: dropped message with PPID {} from registrar {}", name_, m.ppid, id);
    events_.decode_error();
    return;
  }
  auto d = decode_control(m.payload);
  if (d.reply) {
    if (it->second.assoc) (void)it->second.assoc->send(std::move(*d.reply));
  }
  if (!d.message) {
    events_.decode_error();
    return;
  }
  events_.message(id, *d.message);
}

void RegistrarLinks::on_down(AssocId id, std::uint64_t gen) {
  auto it = links_.find(id);
  if (it == links_.end() || it->second.generation != gen) return;
  const bool was_up = it->second.up;
  const bool accepted = it->second.accepted;
  if (!was_up && it->second.from_port_to) avoid_port_to_.push_back(*it->second.from_port_to);
  if (it->second.assoc) it->second.assoc->set_handler(nullptr);
  links_.erase(it);
  if (was_up)
    events_.lost(id);
  else if (!accepted)
    events_.connect_failed(id);
}

}  // namespace rserpool::asap::service_detail
