#include "asap_client.hpp"

namespace regtest {

using namespace rserpool;

bool run_until(boost::asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.restart();
    io.run_for(5ms);
  }
  return true;
}

std::shared_ptr<AsapClient> AsapClient::connect(boost::asio::io_context& io, tr::TransportKind kind,
                                                const TransportAddress& registrar) {
  auto c = std::make_shared<AsapClient>();
  tr::EndpointConfig cfg;
  cfg.kind = kind;
  cfg.remote_addresses = {registrar.ip};
  cfg.remote_port = registrar.port;
  cfg.name = "test-asap-client";
  auto a = tr::connect(io, cfg, c);
  if (!a) return nullptr;
  c->assoc_ = std::move(a.value());
  return c;
}

void AsapClient::close() {
  if (assoc_) assoc_->close();
}

void AsapClient::register_pes(const PoolHandle& pool, const std::vector<PeIdentifier>& ids, const IpAddress& address,
                              std::uint16_t first_port) {
  std::uint16_t port = first_port;
  for (auto id : ids) {
    asap::Registration r;
    r.pool_handle = pool;
    r.pool_element.id = id;
    r.pool_element.registration_life_ms = 600'000;
    r.pool_element.user_transport.protocol = TransportProtocol::sctp;
    r.pool_element.user_transport.port = port++;
    r.pool_element.user_transport.addresses = {address};
    (void)assoc_->send(tr::Message{11, 0, false, asap::encode(r)});
  }
}

void AsapClient::resolve(const PoolHandle& pool, std::uint32_t items) {
  resolution_.reset();
  asap::HandleResolution hr;
  hr.pool_handle = pool;
  hr.items = items;
  (void)assoc_->send(tr::Message{11, 0, false, asap::encode(hr)});
}

std::optional<ServerIdentifier> AsapClient::home_of_last(PeIdentifier id) const {
  auto it = homes_.find(id);
  if (it == homes_.end()) return std::nullopt;
  return it->second;
}

void AsapClient::on_message(tr::Association& a, tr::Message&& msg) {
  auto d = asap::decode(msg.payload);
  if (!d) return;
  auto& m = d.value().message;
  if (auto* r = std::get_if<asap::RegistrationResponse>(&m)) {
    (r->rejected ? rejected_ : registered_).insert(r->pe_id);
  } else if (auto* k = std::get_if<asap::EndpointKeepAlive>(&m)) {
    ++keep_alives_;
    if (k->pe_id) {
      (void)a.send(tr::Message{11, 0, false, asap::encode(asap::EndpointKeepAliveAck{k->pool_handle, *k->pe_id})});
    } else {
      for (auto id : registered_)
        (void)a.send(tr::Message{11, 0, false, asap::encode(asap::EndpointKeepAliveAck{k->pool_handle, id})});
    }
  } else if (auto* hr = std::get_if<asap::HandleResolutionResponse>(&m)) {
    std::set<PeIdentifier> ids;
    homes_.clear();
    for (const auto& pe : hr->pool_elements) {
      ids.insert(pe.id);
      homes_[pe.id] = pe.home_registrar;
    }
    resolution_ = std::move(ids);
  }
}

std::optional<std::set<PeIdentifier>> resolve_once(boost::asio::io_context& io, tr::TransportKind kind,
                                                   const TransportAddress& registrar, const PoolHandle& pool,
                                                   std::uint32_t items, std::chrono::milliseconds timeout) {
  auto c = AsapClient::connect(io, kind, registrar);
  if (!c) return std::nullopt;
  std::optional<std::set<PeIdentifier>> out;
  if (run_until(io, [&] { return c->up() || c->down(); }, timeout) && c->up()) {
    c->resolve(pool, items);
    if (run_until(io, [&] { return c->last_resolution().has_value() || c->down(); }, timeout))
      out = c->last_resolution();
  }
  c->close();
  run_until(io, [&] { return c->down(); }, 1s);
  return out;
}

}  // namespace regtest
