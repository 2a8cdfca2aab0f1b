#include "pe_link.hpp"

#include "rserpool/base/buffer_pool.hpp"

#include "mtp_conversion.hpp"
#include "rserpool/base/log.hpp"
#include "rserpool/transport/endpoint.hpp"
#include "rserpool/wire/asap.hpp"
#include "sg/gwc_link/profile.hpp"

namespace sg::gateway {
namespace {

namespace tr = rserpool::transport;
namespace asap = rserpool::wire::asap;

auto pe_link_log() {
  static auto l = rserpool::log::get("link");
  return l;
}

}  // namespace

rserpool::Result<std::shared_ptr<PeLink>, std::string> PeLink::open(
    boost::asio::io_context& io, const rserpool::Clock& clock, rserpool::PeIdentifier pe, std::string label,
    tr::EndpointConfig endpoint, std::optional<std::chrono::milliseconds> t_beat, PeLinkHooks hooks,
    std::shared_ptr<gwc_link::LinkCounters> counters) {
  auto link = std::make_shared<PeLink>(Key{}, io, clock, pe, std::move(label), std::move(hooks), std::move(counters));
  link->driver_ = mxua::driver::AssociationDriver::standalone(
      io, mxua::Endpoint::ipsp(gwc_link::pool_user_side(t_beat)), *link);
  std::weak_ptr<PeLink> weak = link;
  link->driver_->set_other_ppid_handler([weak](tr::Message&& m) {
    auto l = weak.lock();
    if (!l) return;
    gwc_link::Actions out;
    l->core_.control(m.ppid, m.payload, out);
    l->execute(out);
  });
  if (endpoint.name.empty()) endpoint.name = "pe-" + std::to_string(pe);
  link->driver_->set_name(endpoint.name);  // m3ua log lines name the PE
  auto assoc = tr::connect(io, std::move(endpoint), link->driver_);
  if (!assoc) return rserpool::unexpected(assoc.error().message());
  link->assoc_ = std::move(*assoc);
  link->self_ = link;
  return link;
}

PeLink::PeLink(Key, boost::asio::io_context& io, const rserpool::Clock& clock, rserpool::PeIdentifier pe,
               std::string label, PeLinkHooks hooks, std::shared_ptr<gwc_link::LinkCounters> counters)
    : io_(io),
      clock_(clock),
      pe_(pe),
      label_(std::move(label)),
      hooks_(std::move(hooks)),
      core_(std::move(counters)),
      timer_(io, clock, [this] { on_timer(); }) {}

PeLink::~PeLink() = default;

std::uint16_t PeLink::outbound_streams() {
  // What M3UA itself uses to pick DATA streams (data_stream()).
  const auto* client = driver_->endpoint().requesting();
  return client ? client->config().outbound_streams : std::uint16_t{0};
}

void PeLink::execute(gwc_link::Actions& actions) {
  namespace act = gwc_link::action;
  for (auto& a : actions) {
    std::visit(
        [this](auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, act::Up>) {
            pe_link_log()->info("{}: M3UA active", label_);
            if (hooks_.up) hooks_.up(pe_);
          } else if constexpr (std::is_same_v<T, act::Failed>) {
            pe_link_log()->warn("{}: link failed ({}{}{}), {} message(s) to re-send", label_, gwc_link::to_string(x.cause),
                           x.down ? ": " : "", x.down ? tr::to_string(*x.down) : std::string_view{},
                           x.handed_back.size());
            if (hooks_.failed) hooks_.failed(pe_, std::move(x.handed_back));
          } else if constexpr (std::is_same_v<T, act::Closed>) {
            pe_link_log()->info("{}: association closed, {} message(s) handed back", label_, x.handed_back.size());
            if (hooks_.closed) hooks_.closed(pe_, std::move(x.handed_back));
          } else if constexpr (std::is_same_v<T, act::Deliver>) {
            if (hooks_.data) hooks_.data(pe_, std::move(x.message));
          } else if constexpr (std::is_same_v<T, act::CookieReceived>) {
            if (hooks_.cookie) hooks_.cookie(pe_, std::move(x.cookie));
          } else if constexpr (std::is_same_v<T, act::SendControl>) {
            if (!assoc_) return;
            const auto stream = x.message.stream;
            auto r = assoc_->send(tr::Message{gwc_link::kAsapPpid, stream, false, std::move(x.message.payload)});
            if (!r)
              rserpool::log::warn_limited(pe_link_log(), "ASAP control message refused", "{}: COOKIE_ECHO on stream {} refused: {}",
                                          label_, stream, tr::to_string(r.error()));
          } else if constexpr (std::is_same_v<T, act::SendData>) {
            send_data(x.message);
          } else if constexpr (std::is_same_v<T, act::RequestAspDown>) {
            driver_->request([](mxua::Endpoint& e, mxua::TimePoint now) { return e.requesting()->shutdown(now); });
          } else if constexpr (std::is_same_v<T, act::CloseAssociation>) {
            if (assoc_) assoc_->close();
          } else if constexpr (std::is_same_v<T, act::AbortAssociation>) {
            if (assoc_) assoc_->abort();
          } else if constexpr (std::is_same_v<T, act::Discarded>) {
            if (x.what == gwc_link::Discard::m3ua_inbound) {
              rserpool::log::warn_limited(pe_link_log(), "M3UA dropped a message from a gateway controller",
                                          "{}: M3UA dropped a message from the controller: {}", label_,
                                          mxua::to_string(static_cast<mxua::DropReason>(x.detail)));
            } else {
              rserpool::log::warn_limited(pe_link_log(), gwc_link::to_string(x.what), "{}: {} dropped ({})", label_,
                                          gwc_link::to_string(x.what), x.detail);
            }
          }
        },
        a);
  }
  actions.clear();
  arm_timer();
}

namespace {
// Later than this past its instant: not scheduling noise (issue 13 saw ~700
// ms, against the aggressive profile's 400 ms heartbeat timeout).
constexpr rserpool::Duration kLateTimer = std::chrono::milliseconds(200);
}  // namespace

void PeLink::on_timer() {
  auto self = weak_from_this().lock();  // what execute() does may drop the last other reference
  if (!self) return;
  const auto now = clock_.now();
  if (armed_for_ && now - *armed_for_ >= kLateTimer)
    rserpool::log::warn_limited(pe_link_log(), "timer fired late",
                                "{}: a timer fired {} ms late: this process (or the host) did not run meanwhile; the "
                                "controller may have taken the gateway for dead",
                                label_, std::chrono::duration_cast<std::chrono::milliseconds>(now - *armed_for_).count());
  armed_for_.reset();
  gwc_link::Actions out;
  core_.on_timeout(now, out);
  execute(out);  // re-arms at the next deadline
}

void PeLink::send_data(MtpMessage& m) {
  sending_ = true;
  refused_.reset();
  // The DATA is built in the message's own buffer (the one its user part
  // was received into) and that buffer is queued: no second buffer, no
  // copy (issue 16). One the transport refuses comes back through
  // on_send_failed from those bytes.
  driver_->send_data(to_data_view(m, gwc_link::kRoutingContext), m.data);
  sending_ = false;
  // Encoded elsewhere and queued (not built in place): its bytes go back to
  // the pool. Built in place, nothing is left here.
  if (!refused_ && m.data.capacity() != 0) rserpool::buffers::give(std::move(m.data));
  if (refused_) {
    // Nothing accepted is lost silently: counted, said, and handed to
    // failover with the link.
    rserpool::log::warn_limited(pe_link_log(), "M3UA refused DATA to a gateway controller",
                                "{}: M3UA refused DATA (OPC {} DPC {} SLS {}): {}; failing the link over", label_,
                                m.opc, m.dpc, m.sls, mxua::to_string(*refused_));
    gwc_link::Actions more;
    core_.refused(std::move(m), more);
    execute(more);
  }
}

void PeLink::send(MtpMessage&& m) {
  // The hot path: the core's verdict for the common case (active, no
  // cookie owed) without an action list, a visit and a timer check per
  // message (issue 16); its deadlines do not move on it.
  if (core_.send_now(m)) return send_data(m);
  // Reuse one action vector (a re-entrant call finds it moved out and uses
  // a fresh one).
  gwc_link::Actions out = std::move(scratch_);
  core_.send(std::move(m), out);
  execute(out);
  scratch_ = std::move(out);
}

bool PeLink::send_cookie_echo(const rserpool::Bytes& cookie) {
  gwc_link::Actions out;
  const bool ok = core_.echo_cookie(asap::encode(asap::CookieEcho{cookie}), out);
  execute(out);
  return ok;
}

void PeLink::close() {
  gwc_link::Actions out;
  core_.close(clock_.now(), out);
  execute(out);
}

void PeLink::fence() {
  gwc_link::Actions out;
  core_.fence(out);
  if (!out.empty()) pe_link_log()->warn("{}: fenced: association aborted, anything it still sends is dropped", label_);
  execute(out);
}

void PeLink::abort() {
  hooks_ = {};
  timer_.cancel();
  if (assoc_) assoc_->abort();
}

void PeLink::on_association_up(mxua::AssocId, const tr::AssociationInfo&) {
  pe_link_log()->info("{}: association up, starting M3UA IPSP", label_);
  gwc_link::Actions out;
  core_.association_up(out);
  execute(out);
}

void PeLink::on_asp_state(const mxua::AspStateChanged& c) {
  if (c.to == mxua::AspState::Active) core_.set_outbound_streams(outbound_streams());
  gwc_link::Actions out;
  core_.asp_state(c.from, c.to, c.routing_context, out);
  execute(out);
}

void PeLink::on_request_failed(const mxua::RequestFailed& r) {
  if (core_.state() != LinkState::closing)
    pe_link_log()->warn("{}: M3UA request {}/{} failed{}", label_, r.request.msg_class, r.request.msg_type,
                   r.error ? " with an ERR" : " (no answer)");
  gwc_link::Actions out;
  core_.request_failed(out);
  execute(out);
}

void PeLink::on_drop(const mxua::Drop& d) {
  if (sending_) {
    refused_ = d.reason;  // our DATA: handled where it was sent
    return;
  }
  gwc_link::Actions out;
  core_.m3ua_dropped_inbound(d.reason, d.count, out);
  execute(out);
}

void PeLink::on_data(mxua::DataIndication&& d) {
  MtpMessage m = to_mtp(std::move(d.data.protocol_data));
  // The hot path, as in send(): delivered on the core's verdict.
  if (core_.deliver_now(m)) {
    if (hooks_.data) hooks_.data(pe_, std::move(m));
    return;
  }
  gwc_link::Actions out = std::move(scratch_);
  core_.data(std::move(m), out);
  execute(out);
  scratch_ = std::move(out);
}

void PeLink::on_send_failed(mxua::AssocId, std::vector<mxua::Data>&& unsent) {
  std::vector<MtpMessage> back;
  back.reserve(unsent.size());
  for (auto& d : unsent) back.push_back(to_mtp(std::move(d.protocol_data)));
  core_.send_failed(std::move(back));
}

void PeLink::on_association_down(mxua::AssocId, tr::DownReason r) {
  gwc_link::Actions out;
  core_.association_down(r, out);
  execute(out);
  timer_.cancel();
  // The association drops its handler after this: nothing refers to us any more.
  auto keep = std::move(self_);
}

}  // namespace sg::gateway
