#include "rserpool/asap/service/pe_session_server.hpp"

#include <map>
#include <variant>

#include "rserpool/asap/service/control_channel.hpp"
#include "rserpool/asap/service/endpoint_mapping.hpp"
#include "rserpool/asap/service/registrar_access.hpp"
#include "rserpool/asap/session.hpp"
#include "rserpool/base/log.hpp"
#include "rserpool/transport/endpoint.hpp"

namespace rserpool::asap {

struct PeSessionServer::Impl : std::enable_shared_from_this<Impl> {
  struct Pu {
    std::shared_ptr<transport::Association> assoc;
    PeSession core;
    bool up = false;
  };

  class Handler : public transport::AssociationHandler {
   public:
    Handler(std::weak_ptr<Impl> s, PuId id) : s_(std::move(s)), id_(id) {}
    void on_up(transport::Association&, const transport::AssociationInfo&) override {
      if (auto s = s_.lock()) s->on_up(id_);
    }
    void on_message(transport::Association&, transport::Message&& m) override {
      if (auto s = s_.lock()) s->on_message(id_, std::move(m));
    }
    void on_down(transport::Association&, transport::DownReason) override {
      if (auto s = s_.lock()) s->on_down(id_);
    }

   private:
    std::weak_ptr<Impl> s_;
    PuId id_;
  };

  Impl(boost::asio::io_context& io_context, PoolHandle p) : io(io_context), pool(std::move(p)) {}

  std::shared_ptr<transport::AssociationHandler> accept(const std::shared_ptr<transport::Association>& a) {
    if (closed) return nullptr;
    const PuId id = next_pu++;
    pus.emplace(id, Pu{a, PeSession(id, pool), false});
    ++counters.associations;
    return std::make_shared<Handler>(weak_from_this(), id);
  }

  void on_up(PuId id) {
    auto it = pus.find(id);
    if (it == pus.end()) return;
    it->second.up = true;
    if (auto h = on_pu_up) h(id);
  }

  void on_message(PuId id, transport::Message&& m) {
    auto it = pus.find(id);
    if (it == pus.end()) return;
    if (m.ppid != kAsapPpid) {
      ++counters.data_received;
      if (auto h = on_data) h(id, std::move(m));
      return;
    }
    auto d = decode_control(m.payload);
    if (d.reply) (void)it->second.assoc->send(std::move(*d.reply));
    if (!d.message) {
      ++counters.decode_errors;
      return;
    }
    Actions out;
    it->second.core.on_pu_message(*d.message, out);
    run(out);
  }

  void on_down(PuId id) {
    auto it = pus.find(id);
    if (it == pus.end()) return;
    const bool was_up = it->second.up;
    pus.erase(it);
    if (auto h = on_pu_down; was_up && h) h(id);
  }

  void run(Actions& out) {
    for (auto& a : out) {
      if (auto* c = std::get_if<SendControlToPu>(&a)) {
        if (auto it = pus.find(c->pu); it != pus.end()) (void)it->second.assoc->send(control_message(c->message));
      } else if (auto* ci = std::get_if<CookieIndication>(&a)) {
        ++counters.cookie_echoes;
        if (auto h = on_cookie_echo) h(ci->pu, ci->cookie);
      }
    }
  }

  template <class F>
  bool with_pu(PuId id, F&& f) {
    auto it = pus.find(id);
    if (it == pus.end()) return false;
    Actions out;
    f(it->second.core, out);
    run(out);
    return true;
  }

  void shutdown(bool abort) {
    closed = true;
    if (listener) listener->close();
    auto all = std::move(pus);
    pus.clear();
    for (auto& [id, pu] : all) {
      pu.assoc->set_handler(nullptr);
      if (abort)
        pu.assoc->abort();
      else
        pu.assoc->close();
    }
  }

  boost::asio::io_context& io;
  PoolHandle pool;
  std::shared_ptr<transport::Listener> listener;
  std::map<PuId, Pu> pus;
  PuId next_pu = 1;
  PeSessionServerCounters counters;
  bool closed = false;
  std::function<void(PuId)> on_pu_up, on_pu_down;
  std::function<void(PuId, transport::Message&&)> on_data;
  std::function<void(PuId, const Bytes&)> on_cookie_echo;
};

Result<std::unique_ptr<PeSessionServer>, std::error_code> PeSessionServer::open(boost::asio::io_context& io,
                                                                               transport::EndpointConfig listen,
                                                                               PoolHandle pool) {
  auto impl = std::make_shared<Impl>(io, std::move(pool));
  auto l = transport::Listener::open(io, std::move(listen),
                                     [weak = std::weak_ptr<Impl>(impl)](const std::shared_ptr<transport::Association>& a)
                                         -> std::shared_ptr<transport::AssociationHandler> {
                                       auto s = weak.lock();
                                       return s ? s->accept(a) : nullptr;
                                     });
  if (!l) return unexpected(l.error());
  impl->listener = std::move(*l);
  return std::make_unique<PeSessionServer>(std::move(impl));
}

PeSessionServer::PeSessionServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
PeSessionServer::~PeSessionServer() {
  if (impl_) impl_->shutdown(false);
}

void PeSessionServer::on_pu_up(std::function<void(PuId)> h) { impl_->on_pu_up = std::move(h); }
void PeSessionServer::on_pu_down(std::function<void(PuId)> h) { impl_->on_pu_down = std::move(h); }
void PeSessionServer::on_data(std::function<void(PuId, transport::Message&&)> h) { impl_->on_data = std::move(h); }
void PeSessionServer::on_cookie_echo(std::function<void(PuId, const Bytes&)> h) {
  impl_->on_cookie_echo = std::move(h);
}

bool PeSessionServer::send(PuId pu, transport::Message msg) {
  auto it = impl_->pus.find(pu);
  if (it == impl_->pus.end()) return false;
  if (!it->second.assoc->send(std::move(msg))) return false;
  ++impl_->counters.data_sent;
  return true;
}

bool PeSessionServer::set_cookie(PuId pu, Bytes cookie) {
  return impl_->with_pu(pu, [&](PeSession& s, Actions& out) { s.set_cookie(std::move(cookie), out); });
}

bool PeSessionServer::send_business_card(PuId pu, std::vector<PoolElementParameter> order) {
  return impl_->with_pu(pu, [&](PeSession& s, Actions& out) { s.send_business_card(std::move(order), out); });
}

void PeSessionServer::close_pu(PuId pu) {
  auto it = impl_->pus.find(pu);
  if (it == impl_->pus.end()) return;
  it->second.assoc->set_handler(nullptr);
  it->second.assoc->close();
  impl_->pus.erase(it);
}

void PeSessionServer::shutdown(bool abort) { impl_->shutdown(abort); }

TransportParameter PeSessionServer::user_transport(std::vector<IpAddress> advertised) const {
  std::vector<IpAddress> addresses = std::move(advertised);
  if (addresses.empty() && impl_->listener)
    for (const auto& a : impl_->listener->local_addresses())
      if (!a.ip.is_unspecified()) addresses.push_back(a.ip);
  return user_transport_for(kind(), std::move(addresses), port());
}

std::uint16_t PeSessionServer::port() const { return impl_->listener ? impl_->listener->port() : 0; }
transport::TransportKind PeSessionServer::kind() const {
  return impl_->listener ? impl_->listener->kind() : transport::TransportKind::tcp;
}
const PeSessionServerCounters& PeSessionServer::counters() const { return impl_->counters; }

}  // namespace rserpool::asap
