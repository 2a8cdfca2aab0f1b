#include "pe_link.hpp"

#include <boost/asio/steady_timer.hpp>

#include "mtp_conversion.hpp"
#include "rserpool/base/log.hpp"
#include "rserpool/transport/endpoint.hpp"
#include "rserpool/wire/asap.hpp"
#include "sg/gwc_link/profile.hpp"

namespace sg::gateway {
namespace {

namespace tr = rserpool::transport;
namespace asap = rserpool::wire::asap;

auto logger() {
  static auto l = rserpool::log::get("link");
  return l;
}

// How long a closing link waits for the ASPDN ACK before closing anyway.
constexpr auto kAspDownGrace = std::chrono::milliseconds(300);

}  // namespace

std::string_view to_string(LinkState s) noexcept {
  switch (s) {
    case LinkState::connecting: return "connecting";
    case LinkState::m3ua_starting: return "m3ua-starting";
    case LinkState::active: return "active";
    case LinkState::closing: return "closing";
    case LinkState::failed: return "failed";
  }
  return "unknown";
}

rserpool::Result<std::shared_ptr<PeLink>, std::string> PeLink::open(
    boost::asio::io_context& io, rserpool::PeIdentifier pe, tr::EndpointConfig endpoint,
    std::optional<std::chrono::milliseconds> t_beat, PeLinkHooks hooks, std::shared_ptr<PeLinkCounters> counters) {
  auto link = std::make_shared<PeLink>(Key{}, pe, std::move(hooks), std::move(counters));
  link->driver_ = mxua::driver::AssociationDriver::standalone(
      io, mxua::Endpoint::ipsp(gwc_link::pool_user_side(t_beat)), *link);
  std::weak_ptr<PeLink> weak = link;
  link->driver_->set_other_ppid_handler([weak](tr::Message&& m) {
    if (auto l = weak.lock()) l->on_control(std::move(m));
  });
  if (endpoint.name.empty()) endpoint.name = "pe-" + std::to_string(pe);
  link->driver_->set_name(endpoint.name);  // m3ua log lines name the PE
  auto assoc = tr::connect(io, std::move(endpoint), link->driver_);
  if (!assoc) return rserpool::unexpected(assoc.error().message());
  link->assoc_ = std::move(*assoc);
  link->self_ = link;
  link->grace_.emplace(io);
  ++link->counters_->connects;
  return link;
}

PeLink::PeLink(Key, rserpool::PeIdentifier pe, PeLinkHooks hooks, std::shared_ptr<PeLinkCounters> counters)
    : pe_(pe), hooks_(std::move(hooks)), counters_(std::move(counters)) {}

PeLink::~PeLink() = default;

std::string PeLink::remote() const {
  if (!assoc_ || assoc_->info().remote.empty()) return "-";
  return assoc_->info().remote.front().to_string();
}

std::uint16_t PeLink::outbound_streams() {
  // What M3UA itself uses to pick DATA streams (data_stream()).
  const auto* client = driver_->endpoint().requesting();
  return client ? client->config().outbound_streams : std::uint16_t{0};
}

void PeLink::send_control(std::vector<gwc_link::StreamMessage>& messages) {
  for (auto& c : messages) {
    auto r = assoc_->send(tr::Message{gwc_link::kAsapPpid, c.stream, false, std::move(c.payload)});
    if (!r) logger()->warn("PE {:08x}: COOKIE_ECHO on stream {} refused: {}", pe_, c.stream, tr::to_string(r.error()));
  }
  messages.clear();
}

bool PeLink::send(const MtpMessage& m) {
  if (state_ != LinkState::active) return false;
  if (echo_.pending() != 0) {
    if (auto stream = mxua::data_stream(m.sls, outbound_streams())) {
      echo_.before_data(*stream, control_out_);
      send_control(control_out_);
    }
  }
  driver_->send_data(to_data_view(m, gwc_link::kRoutingContext));
  counters_->out.add(m.data.size());
  return true;
}

bool PeLink::send_cookie_echo(const rserpool::Bytes& cookie) {
  if (!assoc_ || state_ != LinkState::active) return false;
  echo_.echo(asap::encode(asap::CookieEcho{cookie}), outbound_streams(), control_out_);
  send_control(control_out_);
  ++counters_->cookie_echoes_sent;
  return true;
}

void PeLink::close() {
  if (state_ == LinkState::closing || state_ == LinkState::failed || !assoc_) return;
  const bool m3ua_up = state_ == LinkState::active || state_ == LinkState::m3ua_starting;
  state_ = LinkState::closing;
  if (!m3ua_up) {
    assoc_->close();
    return;
  }
  driver_->request([](mxua::Endpoint& e, mxua::TimePoint now) { return e.requesting()->shutdown(now); });
  grace_->expires_after(kAspDownGrace);
  grace_->async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (!ec && self && self->assoc_) self->assoc_->close();
  });
}

void PeLink::abort() {
  hooks_ = {};
  state_ = LinkState::closing;
  if (grace_) grace_->cancel();
  if (assoc_) assoc_->abort();
}

void PeLink::on_association_up(mxua::AssocId, const tr::AssociationInfo& info) {
  if (state_ == LinkState::connecting) state_ = LinkState::m3ua_starting;
  echo_.clear();
  logger()->info("PE {:08x}: association up ({}), starting M3UA IPSP", pe_,
                 info.remote.empty() ? std::string("?") : info.remote.front().to_string());
}

void PeLink::on_asp_state(const mxua::AspStateChanged& c) {
  const bool ours = !c.routing_context || *c.routing_context == gwc_link::kRoutingContext;
  if (!ours) return;
  if (c.to == mxua::AspState::Active && state_ == LinkState::m3ua_starting) {
    state_ = LinkState::active;
    logger()->info("PE {:08x}: M3UA active", pe_);
    if (hooks_.up) hooks_.up(pe_);
    return;
  }
  if (c.from == mxua::AspState::Active && c.to != mxua::AspState::Active) {
    if (state_ == LinkState::closing) {
      if (c.to == mxua::AspState::Down && assoc_) assoc_->close();  // ASPDN answered: close now
      return;
    }
    fail("M3UA left ACTIVE");
  }
  if (c.to == mxua::AspState::Down && !c.routing_context && state_ == LinkState::closing && assoc_) assoc_->close();
}

void PeLink::on_request_failed(const mxua::RequestFailed& r) {
  if (state_ == LinkState::closing) {
    if (assoc_) assoc_->close();
    return;
  }
  // ASPUP or ASPAC never acknowledged (or refused): the PE cannot take
  // traffic over this association.
  logger()->warn("PE {:08x}: M3UA request {}/{} failed{}", pe_, r.request.msg_class, r.request.msg_type,
                 r.error ? " with an ERR" : " (no answer)");
  fail("M3UA start-up failed");
  if (assoc_) assoc_->abort();
}

void PeLink::on_drop(const mxua::Drop& d) {
  logger()->debug("PE {:08x}: M3UA dropped {} message(s): {}", pe_, d.count, mxua::to_string(d.reason));
}

void PeLink::on_data(mxua::DataIndication&& d) {
  counters_->in.add(d.data.protocol_data.user_data.size());
  if (hooks_.data) hooks_.data(pe_, to_mtp(std::move(d.data.protocol_data)));
}

void PeLink::on_send_failed(mxua::AssocId, std::vector<mxua::Data>&& unsent) {
  std::vector<MtpMessage> back;
  back.reserve(unsent.size());
  for (auto& d : unsent) back.push_back(to_mtp(std::move(d.protocol_data)));
  if (failure_reported_ || state_ == LinkState::closing) {
    // Late, or a link we were closing: still never lost.
    if (hooks_.failed) hooks_.failed(pe_, std::move(back), false);
    return;
  }
  for (auto& m : back) handed_back_.push_back(std::move(m));
}

void PeLink::on_association_down(mxua::AssocId, tr::DownReason r) {
  if (state_ == LinkState::closing) {
    logger()->info("PE {:08x}: association closed ({})", pe_, tr::to_string(r));
    state_ = LinkState::failed;
    if (!handed_back_.empty() && hooks_.failed) hooks_.failed(pe_, std::move(handed_back_), false);
  } else {
    fail(std::string(tr::to_string(r)).c_str());
  }
  if (grace_) grace_->cancel();
  echo_.clear();
  // The association drops its handler after this: nothing refers to us any more.
  auto keep = std::move(self_);
}

void PeLink::fail(const char* why) {
  if (failure_reported_) return;
  failure_reported_ = true;
  state_ = LinkState::failed;
  ++counters_->failures;
  logger()->warn("PE {:08x}: link failed ({}), {} message(s) handed back", pe_, why, handed_back_.size());
  if (hooks_.failed) hooks_.failed(pe_, std::move(handed_back_), true);
  handed_back_.clear();
}

void PeLink::on_control(tr::Message&& m) {
  if (m.ppid != gwc_link::kAsapPpid) {
    logger()->debug("PE {:08x}: ignored a message with PPID {}", pe_, m.ppid);
    return;
  }
  auto decoded = asap::decode(m.payload);
  if (!decoded) {
    ++counters_->control_decode_errors;
    logger()->warn("PE {:08x}: undecodable ASAP control message ({} bytes)", pe_, m.payload.size());
    return;
  }
  if (auto* c = std::get_if<asap::Cookie>(&decoded->message)) {
    ++counters_->cookies_received;
    if (hooks_.cookie) hooks_.cookie(pe_, std::move(c->cookie));
    return;
  }
  logger()->debug("PE {:08x}: ignored ASAP control message type {}", pe_,
                  static_cast<int>(asap::message_type(decoded->message)));
}

}  // namespace sg::gateway
