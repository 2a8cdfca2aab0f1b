#include "rserpool/asap/service/pool_session.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

#include "pool_user_impl.hpp"
#include "rserpool/asap/service/control_channel.hpp"
#include "rserpool/asap/service/endpoint_mapping.hpp"
#include "rserpool/asap/service/registrar_access.hpp"
#include "rserpool/base/log.hpp"
#include "rserpool/transport/endpoint.hpp"

namespace rserpool::asap {

namespace {

// Forwards one PE association's notifications to its session, tagged with
// the generation so notifications of a replaced association are ignored.
class PeLinkHandler : public transport::AssociationHandler {
 public:
  PeLinkHandler(std::weak_ptr<PoolSession::Impl> s, std::uint64_t gen) : s_(std::move(s)), gen_(gen) {}
  void on_up(transport::Association&, const transport::AssociationInfo&) override {
    if (auto s = s_.lock()) s->on_up(gen_);
  }
  void on_message(transport::Association&, transport::Message&& m) override {
    if (auto s = s_.lock()) s->on_message(gen_, std::move(m));
  }
  void on_send_failed(transport::Association&, std::vector<transport::Message>&& unsent) override {
    if (auto s = s_.lock()) s->on_send_failed(gen_, std::move(unsent));
  }
  void on_down(transport::Association&, transport::DownReason reason) override {
    if (auto s = s_.lock()) s->on_down(gen_, reason);
  }

 private:
  std::weak_ptr<PoolSession::Impl> s_;
  std::uint64_t gen_;
};

// The same for one pass-through channel.
class AddressLinkHandler : public transport::AssociationHandler {
 public:
  AddressLinkHandler(std::weak_ptr<PoolSession::Impl> s, ChannelId ch, std::uint64_t gen)
      : s_(std::move(s)), ch_(ch), gen_(gen) {}
  void on_up(transport::Association&, const transport::AssociationInfo&) override {
    if (auto s = s_.lock()) s->on_address_up(ch_, gen_);
  }
  void on_message(transport::Association&, transport::Message&& m) override {
    if (auto s = s_.lock()) s->on_address_message(ch_, gen_, std::move(m));
  }
  void on_send_failed(transport::Association&, std::vector<transport::Message>&& unsent) override {
    std::size_t data = 0;
    for (const auto& m : unsent)
      if (m.ppid != kAsapPpid) ++data;
    if (auto s = s_.lock()) s->on_address_send_failed(ch_, gen_, data);
  }
  void on_down(transport::Association&, transport::DownReason reason) override {
    if (auto s = s_.lock()) s->on_address_down(ch_, gen_, reason);
  }

 private:
  std::weak_ptr<PoolSession::Impl> s_;
  ChannelId ch_;
  std::uint64_t gen_;
};

// Far more than a transport can hand back (send_queue_limit plus the TCP
// mapping's unacknowledged window).
constexpr std::uint64_t kPassThroughMemory = 1u << 17;

}  // namespace

PoolSession::Impl::Impl(std::shared_ptr<PoolUserService::Impl> svc, SessionConfig cfg, SessionOptions opts)
    : service(svc),
      pool(cfg.pool),
      core(std::move(cfg), svc->core),
      timer(svc->io, svc->clock,
            [this] {
              step([&](Actions& out) {
                if (auto s = service.lock()) core.on_timeout(s->clock.now(), out);
                return true;
              });
            }),
      options(std::move(opts)) {}

void PoolSession::Impl::connect_pe(const PoolElementParameter& target) {
  disconnect_pe();
  auto svc = service.lock();
  if (!svc) return;
  const std::uint64_t gen = ++generation;
  pe = target;
  auto cfg = endpoint_for(target.user_transport);
  if (!cfg) {
    log::warn_limited(log::get("asap"), "unusable PE transport", "{}: session {}: PE {:#x} unusable: {}", svc->name,
                      core.id(), target.id, cfg.error());
    // Reported from the io_context: the core is still emitting actions.
    boost::asio::post(svc->io, [weak = weak_from_this(), gen] {
      if (auto s = weak.lock()) s->on_down(gen, transport::DownReason::connect_failed);
    });
    return;
  }
  if (options.aggressive) {
    cfg->sctp = transport::SctpOptions::aggressive();
    cfg->tcp = transport::TcpMappingOptions::aggressive();
  }
  cfg->name = svc->name + "/session" + std::to_string(core.id());
  if (options.tune) options.tune(*cfg);
  auto a = transport::connect(svc->io, std::move(*cfg), std::make_shared<PeLinkHandler>(weak_from_this(), gen));
  if (!a) {
    log::get("asap")->warn("{}: session {}: cannot connect to PE {:#x}: {}", svc->name, core.id(), target.id,
                           a.error().message());
    boost::asio::post(svc->io, [weak = weak_from_this(), gen] {
      if (auto s = weak.lock()) s->on_down(gen, transport::DownReason::connect_failed);
    });
    return;
  }
  assoc = std::move(*a);
}

void PoolSession::Impl::abort_pe(const AbortPe& a) {
  ++counters.silent_pe;
  log::warn_limited(log::get("asap"), "silent PE", "session {}: PE {:#x} silent for {} ms: treated as failed",
                    core.id(), a.pe, to_millis(a.silent_for));
  // The abort's hand-back and down notification arrive through the
  // handler like any other failure and reach the core as on_pe_failure().
  if (assoc) {
    assoc->abort();
    return;
  }
  // No association left to abort: report the failure from the io_context
  // (the core is still emitting actions) with what was handed back so far.
  if (auto svc = service.lock())
    boost::asio::post(svc->io, [weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self) return;
      auto unsent = std::exchange(self->handed_back, {});
      self->step([&](Actions& out) {
        auto sv = self->service.lock();
        if (!sv) return false;
        self->core.on_pe_failure(std::move(unsent), sv->clock.now(), out);
        return true;
      });
    });
}

void PoolSession::Impl::disconnect_pe() {
  ++generation;  // whatever the old association still reports is stale
  up = false;
  handed_back.clear();
  data_on_assoc = 0;
  pass_through_positions.clear();
  if (assoc) {
    assoc->set_handler(nullptr);
    assoc->close();
    assoc.reset();
  }
}

void PoolSession::Impl::send_control(const wire::asap::Message& m) {
  if (!assoc) return;
  if (auto r = assoc->send(control_message(m)); !r)
    log::warn_limited(log::get("asap"), "control message refused", "session {}: control message refused: {}", core.id(),
                      transport::to_string(r.error()));
}

void PoolSession::Impl::send_data(Bytes&& data, bool pass_through) {
  if (!assoc) {
    if (pass_through) {
      ++counters.pass_through_dropped;
      return;
    }
    // The core only sends while established; keep it for the failover.
    handed_back.push_back(std::move(data));
    return;
  }
  transport::Message m;
  m.ppid = options.data_ppid;
  m.stream = options.data_stream;
  m.payload = std::move(data);
  auto r = assoc->send(std::move(m));
  if (r) {
    ++counters.sent;
    if (pass_through) {
      ++counters.pass_through_sent;
      pass_through_positions.push_back(data_on_assoc);
    }
    ++data_on_assoc;
    while (!pass_through_positions.empty() && pass_through_positions.front() + kPassThroughMemory < data_on_assoc)
      pass_through_positions.pop_front();
    return;
  }
  ++counters.refused;
  log::warn_limited(log::get("asap"), "data refused", "session {}: data refused by the association: {}", core.id(),
                    transport::to_string(r.error()));
}

void PoolSession::Impl::on_up(std::uint64_t gen) {
  if (gen != generation) return;
  up = true;
  const auto now_pe = pe;
  step([&](Actions& out) {
    if (auto svc = service.lock()) core.on_pe_connected(svc->clock.now(), out);
    return true;
  });
  if (auto h = on_established; now_pe && h && gen == generation) h(*now_pe);
}

void PoolSession::Impl::on_message(std::uint64_t gen, transport::Message&& m) {
  if (gen != generation) return;
  if (m.ppid == kAsapPpid) {
    auto d = decode_control(m.payload);
    if (d.reply && assoc) (void)assoc->send(std::move(*d.reply));
    if (!d.message) {
      if (auto svc = service.lock()) ++svc->counters.decode_errors;
      return;
    }
    step([&](Actions& out) {
      if (auto svc = service.lock()) core.on_pe_message(*d.message, svc->clock.now(), out);
      return true;
    });
    return;
  }
  ++counters.received;
  // The PE answered (silence_timeout); no actions follow from that.
  if (auto svc = service.lock()) {
    core.on_pe_data(svc->clock.now());
    rearm();
  }
  // A copy: the handler may close or destroy this session.
  if (auto h = on_data) h(pe ? pe->id : 0, std::move(m));
}

void PoolSession::Impl::on_send_failed(std::uint64_t gen, std::vector<transport::Message>&& unsent) {
  if (gen != generation) return;
  // Control messages are not re-sent: the core echoes the cookie itself.
  for (auto& m : unsent)
    if (m.ppid != kAsapPpid) handed_back.push_back(std::move(m.payload));
}

void PoolSession::Impl::on_down(std::uint64_t gen, transport::DownReason reason) {
  if (gen != generation) return;
  const bool was_up = up;
  auto unsent = std::move(handed_back);
  handed_back.clear();
  if (!pass_through_positions.empty() && unsent.size() <= data_on_assoc) {
    // The hand-back is the newest unsent.size() data messages: drop the
    // pass-through ones among them.
    const std::uint64_t first = data_on_assoc - unsent.size();
    std::vector<Bytes> kept;
    kept.reserve(unsent.size());
    for (std::size_t i = 0; i < unsent.size(); ++i) {
      const std::uint64_t pos = first + i;
      if (std::binary_search(pass_through_positions.begin(), pass_through_positions.end(), pos))
        ++counters.pass_through_dropped;
      else
        kept.push_back(std::move(unsent[i]));
    }
    unsent = std::move(kept);
  }
  data_on_assoc = 0;
  pass_through_positions.clear();
  if (assoc) assoc->set_handler(nullptr);
  assoc.reset();
  up = false;
  ++generation;
  if (auto svc = service.lock())
    log::get("asap")->info("{}: session {}: association to PE {:#x} down ({}), {} message(s) handed back",
                           svc->name, core.id(), pe ? pe->id : 0, transport::to_string(reason), unsent.size());
  counters.resent += unsent.size();
  step([&](Actions& out) {
    auto svc = service.lock();
    if (!svc) return false;
    if (was_up)
      core.on_pe_failure(std::move(unsent), svc->clock.now(), out);
    else
      core.on_pe_connect_failed(svc->clock.now(), out);
    return true;
  });
}

void PoolSession::Impl::connect_address(ChannelId channel, const TransportParameter& address) {
  disconnect_address(channel);
  auto svc = service.lock();
  if (!svc) return;
  const std::uint64_t gen = next_address_generation++;
  auto report_failure = [&](const std::string& why) {
    log::warn_limited(log::get("asap"), "pass-through connect failed",
                      "{}: session {}: pass-through channel {} cannot connect: {}", svc->name, core.id(),
                      channel, why);
    address_links[channel] = AddressLink{nullptr, gen, false, 0};
    // From the io_context: the core is still emitting actions.
    boost::asio::post(svc->io, [weak = weak_from_this(), channel, gen] {
      if (auto s = weak.lock()) s->on_address_down(channel, gen, transport::DownReason::connect_failed);
    });
  };
  auto cfg = endpoint_for(address);
  if (!cfg) return report_failure(cfg.error());
  if (options.aggressive) {
    cfg->sctp = transport::SctpOptions::aggressive();
    cfg->tcp = transport::TcpMappingOptions::aggressive();
  }
  cfg->name = svc->name + "/session" + std::to_string(core.id()) + "/pass" + std::to_string(channel);
  if (options.tune) options.tune(*cfg);
  auto a = transport::connect(svc->io, std::move(*cfg),
                              std::make_shared<AddressLinkHandler>(weak_from_this(), channel, gen));
  if (!a) return report_failure(a.error().message());
  address_links[channel] = AddressLink{std::move(*a), gen, false, 0};
}

void PoolSession::Impl::send_to_address(ChannelId channel, Bytes&& data) {
  auto it = address_links.find(channel);
  if (it == address_links.end() || !it->second.assoc) {
    ++counters.pass_through_dropped;
    return;
  }
  auto r = it->second.assoc->send(transport::Message{options.data_ppid, options.data_stream, false, std::move(data)});
  if (r) {
    ++counters.pass_through_sent;
    return;
  }
  ++counters.pass_through_dropped;
  log::warn_limited(log::get("asap"), "pass-through data refused",
                    "session {}: pass-through channel {} refused a message: {}", core.id(), channel,
                    transport::to_string(r.error()));
}

void PoolSession::Impl::disconnect_address(ChannelId channel) {
  auto it = address_links.find(channel);
  if (it == address_links.end()) return;
  if (it->second.assoc) {
    it->second.assoc->set_handler(nullptr);
    it->second.assoc->close();
  }
  address_links.erase(it);
}

void PoolSession::Impl::close_addresses() {
  while (!address_links.empty()) disconnect_address(address_links.begin()->first);
}

void PoolSession::Impl::on_address_up(ChannelId channel, std::uint64_t gen) {
  auto it = address_links.find(channel);
  if (it == address_links.end() || it->second.generation != gen) return;
  it->second.up = true;
  step([&](Actions& out) {
    core.on_address_connected(channel, out);
    return true;
  });
}

void PoolSession::Impl::on_address_message(ChannelId channel, std::uint64_t gen, transport::Message&& m) {
  auto it = address_links.find(channel);
  if (it == address_links.end() || it->second.generation != gen) return;
  if (m.ppid == kAsapPpid) {
    // Cookies and business cards belong to the session's own PE; a
    // pass-through destination has no say in its failover.
    ++counters.pass_through_ignored;
    log::get("asap")->debug("session {}: ASAP control message on pass-through channel {} ignored", core.id(),
                            channel);
    return;
  }
  ++counters.pass_through_received;
  const TransportParameter* from = core.pass_through().address_of(channel);
  if (!from) return;
  const TransportParameter address = *from;
  if (auto h = on_pass_through_data) h(address, std::move(m));
}

void PoolSession::Impl::on_address_send_failed(ChannelId channel, std::uint64_t gen, std::size_t count) {
  auto it = address_links.find(channel);
  if (it == address_links.end() || it->second.generation != gen) return;
  it->second.undelivered += count;
}

void PoolSession::Impl::on_address_down(ChannelId channel, std::uint64_t gen, transport::DownReason reason) {
  auto it = address_links.find(channel);
  if (it == address_links.end() || it->second.generation != gen) return;
  const std::size_t undelivered = it->second.undelivered;
  if (it->second.assoc) it->second.assoc->set_handler(nullptr);
  address_links.erase(it);
  log::get("asap")->info("session {}: pass-through channel {} down ({})", core.id(), channel,
                         transport::to_string(reason));
  step([&](Actions& out) {
    core.on_address_failed(channel, undelivered, out);
    return true;
  });
}

void PoolSession::Impl::shutdown() {
  timer.cancel();
  disconnect_pe();
  close_addresses();
  closed = true;
}

// ---- public API ---------------------------------------------------------

PoolSession::PoolSession(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

PoolSession::~PoolSession() {
  if (!impl_) return;
  close();
  if (auto svc = impl_->service.lock()) svc->sessions.erase(impl_->core.id());
}

void PoolSession::on_data(std::function<void(PeIdentifier, transport::Message&&)> h) { impl_->on_data = std::move(h); }
void PoolSession::on_failover(std::function<void(const FailoverCallback&)> h) { impl_->on_failover = std::move(h); }
void PoolSession::on_failover_done(std::function<void(const FailoverIndication&)> h) {
  impl_->on_failover_done = std::move(h);
}
void PoolSession::on_stalled(std::function<void()> h) { impl_->on_stalled = std::move(h); }
void PoolSession::on_business_card(std::function<void(const BusinessCardReceived&)> h) {
  impl_->on_business_card = std::move(h);
}
void PoolSession::on_established(std::function<void(const PoolElementParameter&)> h) {
  impl_->on_established = std::move(h);
}

bool PoolSession::send(Bytes data) {
  auto& s = *impl_;
  const bool ok = s.step([&](Actions& out) {
    auto svc = s.service.lock();
    return svc && s.core.send(std::move(data), svc->clock.now(), out);
  });
  if (!ok) ++s.counters.refused;
  return ok;
}

bool PoolSession::send_to(PeIdentifier pe, Bytes data) {
  auto& s = *impl_;
  const bool ok = s.step([&](Actions& out) {
    auto svc = s.service.lock();
    return svc && s.core.send_to(pe, std::move(data), svc->clock.now(), out);
  });
  if (!ok) ++s.counters.refused;
  return ok;
}

bool PoolSession::send_pass_through(Bytes data) {
  auto& s = *impl_;
  const bool ok = s.step([&](Actions& out) {
    auto svc = s.service.lock();
    return svc && s.core.send_pass_through(std::move(data), svc->clock.now(), out);
  });
  if (!ok) ++s.counters.refused;
  return ok;
}

Result<ChannelId, PassThroughError> PoolSession::send_to_address(const TransportParameter& address, Bytes data) {
  auto& s = *impl_;
  std::optional<Result<ChannelId, PassThroughError>> r;
  s.step([&](Actions& out) {
    r.emplace(s.core.send_to_address(address, std::move(data), out));
    return r->ok();
  });
  if (!r) r.emplace(unexpected(PassThroughError::session_closed));  // service gone or session closed
  if (!r->ok()) {
    ++s.counters.refused;
    ++s.counters.pass_through_refused;
    log::get("asap")->debug("session {}: pass-through send refused: {}", s.core.id(), to_string(r->error()));
  }
  return std::move(*r);
}

void PoolSession::close_address(const TransportParameter& address) {
  auto& s = *impl_;
  s.step([&](Actions& out) {
    s.core.close_address(address, out);
    return true;
  });
}

void PoolSession::on_pass_through_data(std::function<void(const TransportParameter&, transport::Message&&)> h) {
  impl_->on_pass_through_data = std::move(h);
}
void PoolSession::on_pass_through_failed(std::function<void(const PassThroughFailed&)> h) {
  impl_->on_pass_through_failed = std::move(h);
}

void PoolSession::close() {
  auto& s = *impl_;
  if (s.closed) return;
  s.step([&](Actions& out) {
    if (auto svc = s.service.lock()) s.core.close(svc->clock.now(), out);
    return true;
  });
  s.shutdown();
}

std::optional<PeIdentifier> PoolSession::current_pe() const { return impl_->core.current_pe(); }
bool PoolSession::established() const { return impl_->core.state() == Session::State::established; }
std::size_t PoolSession::queued() const { return impl_->core.queued(); }
const PoolSessionCounters& PoolSession::counters() const {
  impl_->counters.timer_rearms = impl_->timer.rearms();  // the timer's own count, read when asked
  return impl_->counters;
}

}  // namespace rserpool::asap
