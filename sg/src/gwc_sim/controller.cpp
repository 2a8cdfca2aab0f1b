#include "controller.hpp"

#include <boost/asio/post.hpp>

#include "rserpool/asap/service/control_channel.hpp"
#include "rserpool/base/log.hpp"
#include "sg/gwc_link/profile.hpp"

namespace sg::gwcsim {
namespace {

namespace tr = rserpool::transport;
namespace drv = mxua::driver;

std::shared_ptr<spdlog::logger> logger() {
  static auto l = rserpool::log::get("gwc-sim");
  return l;
}

}  // namespace

// One SG association: the M3UA driver and its indications.
class GatewayController::Link : public drv::Events {
 public:
  Link(GatewayController& owner, LinkId id) : owner_(owner), id_(id) {
    driver_ = drv::AssociationDriver::standalone(
        owner.io_, mxua::Endpoint::ipsp(gwc_link::pool_element_side()), *this);
    driver_->set_other_ppid_handler([this](tr::Message&& m) { owner_.control(id_, std::move(m)); });
  }
  ~Link() override {
    // The association may outlive us by a callback or two: silence it.
    if (auto a = driver_->association()) a->set_handler(nullptr);
  }
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  drv::AssociationDriver& driver() { return *driver_; }
  std::shared_ptr<drv::AssociationDriver> handler() { return driver_; }
  bool up() const { return driver_->up(); }

  void on_association_up(mxua::AssocId, const tr::AssociationInfo& info) override {
    logger()->info("SG association {} up from {}", id_,
                   info.remote.empty() ? std::string("?") : info.remote.front().to_string());
  }
  void on_association_down(mxua::AssocId, tr::DownReason r) override {
    logger()->info("SG association {} down: {}", id_, tr::to_string(r));
    owner_.link_down(id_, r);
  }
  void on_data(mxua::DataIndication&& d) override { owner_.data(id_, d.data); }
  // What the transport could not deliver to a dying SG goes out through
  // another SG association (or waits for one), in order.
  void on_send_failed(mxua::AssocId, std::vector<mxua::Data>&& unsent) override {
    set_active(false);
    owner_.handed_back(id_, std::move(unsent));
  }
  void on_asp_state(const mxua::AspStateChanged& c) override {
    logger()->info("SG association {}: peer ASP {} -> {}", id_, mxua::to_string(c.from), mxua::to_string(c.to));
    if (c.to == mxua::AspState::Active) owner_.link_active(id_);
  }
  bool active() const { return active_; }
  void set_active(bool a) { active_ = a; }
  void on_drop(const mxua::Drop& d) override {
    logger()->debug("SG association {}: dropped {} ({})", id_, d.count, mxua::to_string(d.reason));
  }

 private:
  GatewayController& owner_;
  LinkId id_;
  std::shared_ptr<drv::AssociationDriver> driver_;
  bool active_ = false;
};

rserpool::Result<std::unique_ptr<GatewayController>, std::error_code> GatewayController::open(
    boost::asio::io_context& io, ControllerConfig cfg) {
  auto c = std::make_unique<GatewayController>(io, std::move(cfg));
  GatewayController* self = c.get();
  std::weak_ptr<bool> alive = c->alive_;
  auto l = tr::Listener::open(io, c->cfg_.listen,
                              [self, alive](const std::shared_ptr<tr::Association>&)
                                  -> std::shared_ptr<tr::AssociationHandler> {
                                if (alive.expired()) return nullptr;
                                const LinkId id = self->next_link_++;
                                auto link = std::make_unique<Link>(*self, id);
                                auto h = link->handler();
                                self->links_.emplace(id, std::move(link));
                                self->accepted(id);
                                return h;
                              });
  if (!l) return rserpool::unexpected(l.error());
  c->listener_ = *l;
  return c;
}

GatewayController::GatewayController(boost::asio::io_context& io, ControllerConfig cfg)
    : io_(io),
      cfg_(std::move(cfg)),
      model_(cfg_.calls),
      clock_(cfg_.clock ? *cfg_.clock : rserpool::SteadyClock::instance()),
      answer_timer_(io, clock_, [this] { answers_due(); }),
      outbox_(cfg_.outbox),
      outbox_timer_(io, clock_, [this] { outbox_due(); }) {}

GatewayController::~GatewayController() {
  *alive_ = false;
  if (listener_) listener_->close();
  links_.clear();
}

std::size_t GatewayController::associations_up() const {
  std::size_t n = 0;
  for (const auto& [id, l] : links_) n += l->up() ? 1U : 0U;
  return n;
}

void GatewayController::close() {
  if (listener_) listener_->close();
  answer_timer_.cancel();
  outbox_timer_.cancel();
  for (auto& [id, l] : links_)
    if (auto a = l->driver().association()) a->close();
}

void GatewayController::accepted(LinkId) { ++counters_.associations; }

void GatewayController::link_down(LinkId id, tr::DownReason reason) {
  if (last_link_ == id) last_link_ = 0;
  if (auto it = links_.find(id); it != links_.end()) it->second->set_active(false);
  // Abnormal loss: either the SG fenced us (right after a stall of ours: an
  // heir holds these calls through our cookie) or the SG died (its mate or
  // its next run routes them to us again). The model tells which; without
  // self-fencing (ControllerConfig::self_fence) it is always the latter.
  const bool abnormal = cfg_.self_fence &&
                        (reason == tr::DownReason::aborted || reason == tr::DownReason::communication_lost ||
                         reason == tr::DownReason::heartbeat_timeout || reason == tr::DownReason::protocol_error);
  const auto kept_before = model_.counters().calls_kept;
  if (const auto n = model_.association_lost(id, abnormal, clock_.now()); n != 0) {
    counters_.calls_given_up += n;
    logger()->warn("SG association {} cut off ({}) right after this controller stalled: {} call(s) it carried "
                   "given up (the SG moved them)",
                   id, tr::to_string(reason), n);
    table_changed();
  } else if (const auto kept = model_.counters().calls_kept - kept_before; kept != 0) {
    counters_.calls_kept += kept;
    logger()->info("SG association {} lost ({}): {} call(s) it carried kept (the SG died or restarts: its mate or "
                   "its next run routes them here)",
                   id, tr::to_string(reason), kept);
  }
  // Its last hand-back came before this: what it gave back and refused
  // leaves now, ahead of what waited for its end.
  sim::SgOutbox::Steps steps;
  outbox_.link_down(id, clock_.now(), steps);
  run(steps);
  // Not from inside the driver's own callback: it is still on the stack.
  boost::asio::post(io_, [this, id, alive = std::weak_ptr<bool>(alive_)] {
    if (!alive.expired()) links_.erase(id);
  });
}

void GatewayController::data(LinkId id, const mxua::Data& d) {
  ++counters_.messages_in;
  last_link_ = id;
  const auto& p = d.protocol_data;
  const MtpMessage m{p.opc.value, p.dpc.value, p.si, p.ni, p.mp, p.sls, p.user_data};
  if (cfg_.trace) cfg_.trace("in", id, m);
  const auto before = model_.counters();
  const auto calls_before = model_.active_calls();
  const auto replies = model_.on_message(m, clock_.now(), id);
  const auto& after = model_.counters();
  // For a failing test's explanation: which message found no call here.
  if (cfg_.trace && after.unknown_call_messages != before.unknown_call_messages) cfg_.trace("unknown", id, m);
  // The cookie goes out before the replies it covers (same association,
  // ordered): whatever the SG forwarded, it holds a cookie at least as new.
  if (after.calls_offered != before.calls_offered || after.calls_released != before.calls_released ||
      model_.active_calls() != calls_before)
    table_changed();
  for (const auto& r : replies) send(id, r);
  schedule_answers();
}

void GatewayController::send(LinkId id, const MtpMessage& m) {
  // On `id`, else on any active SG association (an SG's mate carries its
  // calls' answers), else it waits; never ahead of what a dying association
  // may still give back (sim::SgOutbox).
  sim::SgOutbox::Steps steps;
  outbox_.send(id, m, clock_.now(), steps);
  run(steps);
}

void GatewayController::run(sim::SgOutbox::Steps& steps) {
  using Kind = sim::SgOutbox::Step::Kind;
  for (auto& s : steps) {
    switch (s.kind) {
      case Kind::send:
        send_now(s.link, s.message);
        break;
      case Kind::held:
        if (cfg_.trace) cfg_.trace("held", s.link, s.message);
        ++counters_.held_for_sg;
        break;
      case Kind::expired:
        if (cfg_.trace) cfg_.trace("expired", s.link, s.message);
        ++counters_.held_expired;
        ++counters_.send_failed;
        break;
      case Kind::changeover:
        if (cfg_.trace) cfg_.trace("changeover", s.link, s.message);
        ++counters_.changeover_held;
        break;
    }
  }
  schedule_outbox();
}

void GatewayController::schedule_outbox() { outbox_timer_.arm(outbox_.next_deadline()); }

void GatewayController::outbox_due() {
  sim::SgOutbox::Steps steps;
  outbox_.on_timeout(clock_.now(), steps);
  run(steps);
}

void GatewayController::handed_back(LinkId id, std::vector<mxua::Data>&& unsent) {
  if (unsent.empty()) return;
  if (last_link_ == id) last_link_ = 0;
  counters_.handed_back += unsent.size();
  std::vector<MtpMessage> back;
  for (const auto& d : unsent) {
    const auto& p = d.protocol_data;
    back.push_back(MtpMessage{p.opc.value, p.dpc.value, p.si, p.ni, p.mp, p.sls, p.user_data});
    if (cfg_.trace) cfg_.trace(sending_on_ == id ? "refused" : "handed-back", id, back.back());
  }
  if (sending_on_ == id) {
    // Refused at once by the association we were sending on: it is dying,
    // and what its kernel accepted before comes back only at its end.
    refused_now_ = true;
    logger()->info("SG association {}: {} message(s) refused: they and what follows wait for its end", id,
                   back.size());
    outbox_.refused(id, std::move(back), clock_.now());
    return;
  }
  logger()->info("SG association {}: {} message(s) not delivered: re-sent through another SG association", id,
                 back.size());
  sim::SgOutbox::Steps steps;
  outbox_.handed_back(id, std::move(back), clock_.now(), steps);
  run(steps);
}

void GatewayController::link_active(LinkId id) {
  auto it = links_.find(id);
  if (it == links_.end()) return;
  it->second->set_active(true);
  if (outbox_.waiting() != 0)
    logger()->info("SG association {} active: sending the {} message(s) that waited for an SG", id,
                   outbox_.waiting());
  sim::SgOutbox::Steps steps;
  outbox_.link_active(id, clock_.now(), steps);
  run(steps);
}

void GatewayController::send_now(LinkId id, const MtpMessage& m) {
  const auto now = clock_.now();
  auto it = links_.find(id);
  if (it == links_.end() || !it->second->up()) {
    // Gone under the outbox's feet: as refused, and buried at once if the
    // association's end was already reported.
    outbox_.refused(id, {m}, now);
    if (it == links_.end()) {
      sim::SgOutbox::Steps steps;
      outbox_.link_down(id, now, steps);
      run(steps);
    }
    return;
  }
  mxua::DataView d;
  d.routing_context = gwc_link::kRoutingContext;
  d.protocol_data = mxua::ProtocolDataView{mxua::PointCode{m.opc}, mxua::PointCode{m.dpc}, m.si, m.ni, m.mp, m.sls,
                                           rserpool::ByteView(m.data)};
  sending_on_ = id;
  refused_now_ = false;
  it->second->driver().send_data(d);
  sending_on_ = 0;
  if (refused_now_) return;
  ++counters_.messages_out;
  if (cfg_.trace) cfg_.trace("out", id, m);
}

GatewayController::LinkId GatewayController::reply_link() const {
  if (last_link_ != 0) return last_link_;
  for (const auto& [id, l] : links_)
    if (l->up() && l->active()) return id;
  return 0;
}

void GatewayController::schedule_answers() { answer_timer_.arm(model_.next_deadline()); }

void GatewayController::answers_due() {
  auto out = model_.on_timeout(clock_.now());
  if (!out.empty()) {
    table_changed();  // ringing -> answered is in the cookie, before the ANM
    // Back the way the call came (its SG holds its flow), else any SG.
    for (const auto& m : out) {
      const auto via = model_.via_of(m);
      send(via ? *via : reply_link(), m);
    }
  }
  schedule_answers();
}

void GatewayController::table_changed() {
  if (changed_) changed_();
  // Synchronously, before the data that follows the change: an heir must
  // never receive a cookie older than what its predecessor answered (a
  // ringing call in the cookie after the ANM left would be answered twice).
  if (cfg_.cookies) send_cookie();
}

void GatewayController::send_cookie() {
  const auto msg = gwc_link::control_message(rserpool::wire::asap::Cookie{model_.make_cookie()});
  for (auto& [id, l] : links_) {
    auto a = l->driver().association();
    if (!a || !l->up()) continue;
    if (a->send(msg)) ++counters_.cookies_sent;
    else ++counters_.send_failed;
  }
}

void GatewayController::control(LinkId id, tr::Message&& m) {
  if (m.ppid != gwc_link::kAsapPpid) {
    ++counters_.control_errors;
    logger()->warn("SG association {}: message with PPID {} ignored", id, m.ppid);
    return;
  }
  auto decoded = rserpool::asap::decode_control(m.payload);
  if (!decoded.message) {
    ++counters_.control_errors;
    logger()->warn("SG association {}: undecodable ASAP control message", id);
    auto it = links_.find(id);
    if (decoded.reply && it != links_.end())
      if (auto a = it->second->driver().association()) (void)a->send(std::move(*decoded.reply));
    return;
  }
  const auto* echo = std::get_if<rserpool::wire::asap::CookieEcho>(&*decoded.message);
  if (!echo) {
    ++counters_.control_errors;
    logger()->info("SG association {}: ASAP {} on the data association ignored", id,
                   static_cast<unsigned>(rserpool::wire::asap::message_type(*decoded.message)));
    return;
  }
  ++counters_.cookie_echoes;
  const auto duplicates_before = model_.counters().duplicate_cookies;
  // Accepted on any stream: the SG repeats the cookie on each data stream
  // it uses, so that it precedes the data there; repeats change nothing.
  auto adopted = model_.adopt_cookie(echo->cookie, clock_.now(), id);
  if (!adopted) {
    ++counters_.cookies_rejected;
    logger()->warn("SG association {}: COOKIE_ECHO rejected (error {})", id, static_cast<int>(adopted.error()));
    return;
  }
  if (model_.counters().duplicate_cookies != duplicates_before) {
    logger()->debug("SG association {}: COOKIE_ECHO repeated on stream {}", id, m.stream);
    return;
  }
  logger()->info("SG association {}: COOKIE_ECHO, {} calls adopted", id, *adopted);
  last_link_ = id;
  table_changed();
  schedule_answers();
}

}  // namespace sg::gwcsim
