#include "pool_runtime.hpp"

#include <algorithm>

#include "pool_text.hpp"
#include "rserpool/asap/service/endpoint_mapping.hpp"
#include "rserpool/base/log.hpp"

namespace sg::gateway {
namespace {

using rserpool::PeIdentifier;

auto pool_runtime_log() {
  static auto l = rserpool::log::get("pool");
  return l;
}

}  // namespace

PoolRuntime::PoolRuntime(boost::asio::io_context& io, const rserpool::Clock& clock, std::string name,
                         DistributorConfig config, DistributorProfile profile, LinkProfile links, PoolHooks hooks,
                         GatewayCounters& counters, std::uint64_t seed)
    : io_(io),
      clock_(clock),
      name_(std::move(name)),
      profile_(std::move(links)),
      hooks_(std::move(hooks)),
      gateway_counters_(counters),
      selector_(config.placement, seed),
      distributor_(config, selector_, profile),
      timer_(io, clock, [this] {
        run(distributor_.on_timeout(now()));  // re-arms at the next deadline
        note_settled();
      }) {
  // From now on, a pool that gets no active PE within pool-wait is
  // announced unavailable, whether or not traffic arrived.
  distributor_.start(now());
  arm_timer();
}

PoolRuntime::~PoolRuntime() {
  timer_.cancel();
  for (auto& [pe, link] : links_) link->abort();
  for (auto& weak : retired_)
    if (auto l = weak.lock()) l->detach();
}

void PoolRuntime::configure(const DistributorConfig& config) {
  if (config == distributor_.config()) return;
  selector_.set_mode(config.placement);
  run(distributor_.reconfigure(config, now()));
  pool_runtime_log()->info("pool {}: placement {}, pool-wait {} ms, drain-deadline {} ms, max-queue {}, congestion {}/{}",
                 name_, to_string(config.placement), rserpool::to_millis(config.pool_wait),
                 rserpool::to_millis(config.drain_deadline), config.max_queue, config.congestion_onset,
                 config.congestion_abatement);
}

std::shared_ptr<gwc_link::LinkCounters> PoolRuntime::counters_of(PeIdentifier pe) {
  auto& c = link_counters_[pe];
  if (!c) c = std::make_shared<gwc_link::LinkCounters>();
  return c;
}

std::string PoolRuntime::label(PeIdentifier pe) const {
  auto a = addresses_.find(pe);
  return "pool " + name_ + " PE " + pe_text(pe) + " at " + (a == addresses_.end() ? std::string("?") : a->second);
}

std::optional<LinkState> PoolRuntime::link_state(PeIdentifier pe) const {
  auto it = links_.find(pe);
  if (it == links_.end()) return std::nullopt;
  return it->second->state();
}

std::uint64_t PoolRuntime::dropped_after_fence() const noexcept {
  std::uint64_t n = 0;
  for (const auto& [pe, c] : link_counters_) n += c->dropped_after_fence;
  return n;
}

void PoolRuntime::handlespace(const std::vector<rserpool::PoolElementParameter>& list) {
  for (const auto& pe : list) {
    const auto* known = distributor_.membership().listed(pe.id);
    if (known && known->user_transport == pe.user_transport) continue;
    addresses_[pe.id] = transport_text(pe.user_transport);
    pool_runtime_log()->info("pool {}: PE {} registered at {} ({})", name_, pe_text(pe.id), addresses_[pe.id],
                   policy_text(pe.policy));
  }
  run(distributor_.handlespace(list, now()));
  note_settled();
}

void PoolRuntime::list_complete() {
  run(distributor_.list_complete(now()));
  note_settled();
}

void PoolRuntime::note_settled() {
  if (settle_noted_ || !distributor_.placement_settled()) return;
  settle_noted_ = true;
  pool_runtime_log()->info("pool {}: placement settled with {} PE(s) listed: calls in progress not placed here are placed now",
                 name_, distributor_.membership().listed_count());
  if (hooks_.settled) hooks_.settled();
}

void PoolRuntime::message(MtpMessage&& m) { run(distributor_.message(std::move(m), now())); }

void PoolRuntime::message(MtpMessage&& m, const ClassifiedMessage& c) {
  // The distributor's verdict for the common case: no action list, no
  // visit, no timer check (its deadlines do not move on it).
  if (const auto pe = distributor_.message_now(c)) return send(*pe, std::move(m));
  // A re-entrant call finds the vector moved out and starts a fresh one.
  std::vector<Action> acts = std::move(message_scratch_);
  acts.clear();
  distributor_.message(std::move(m), c, now(), acts);
  run(std::move(acts));
  acts.clear();
  message_scratch_ = std::move(acts);
}

rserpool::Result<void, std::string> PoolRuntime::drain(PeIdentifier pe, std::optional<Duration> deadline) {
  auto r = distributor_.drain(pe, deadline, now());
  if (!r) {
    if (r.error() == PoolDistributor::DrainRefusal::already_draining)
      return rserpool::unexpected("PE " + pe_text(pe) + " is already draining");
    return rserpool::unexpected("pool " + name_ + " has no PE " + pe_text(pe));
  }
  pool_runtime_log()->info("{}: the operator drains it", label(pe));
  run(std::move(*r));
  return {};
}

std::size_t PoolRuntime::close_links() {
  stopping_ = true;  // no new associations from here on
  std::size_t n = 0;
  for (auto& [pe, link] : links_) {
    if (!link->open_association()) continue;
    link->close();  // DATA still routed to it joins its hand-back
    ++n;
  }
  return n;
}

std::size_t PoolRuntime::open_links() const {
  std::size_t n = 0;
  for (const auto& [pe, link] : links_)
    if (link->open_association()) ++n;
  for (const auto& weak : retired_)
    if (auto l = weak.lock(); l && l->open_association()) ++n;
  return n;
}

void PoolRuntime::retire(std::shared_ptr<PeLink> link) {
  std::erase_if(retired_, [](const std::weak_ptr<PeLink>& w) { return w.expired(); });
  retired_.push_back(std::move(link));
}

void PoolRuntime::run(std::vector<Action>&& actions) {
  for (auto& a : actions) {
    std::visit(
        [this](auto& act) {
          using T = std::decay_t<decltype(act)>;
          if constexpr (std::is_same_v<T, action::Connect>) {
            if (!stopping_) connect(act.pe, act.transport);
          } else if constexpr (std::is_same_v<T, action::Disconnect> || std::is_same_v<T, action::Fence>) {
            auto it = links_.find(act.pe);
            if (it == links_.end()) return;
            auto link = std::move(it->second);
            links_.erase(it);
            // What it hands back still comes through its hooks.
            if constexpr (std::is_same_v<T, action::Fence>)
              link->fence();
            else
              link->close();
            retire(std::move(link));
          } else if constexpr (std::is_same_v<T, action::SendData>) {
            send(act.pe, std::move(act.message));
          } else if constexpr (std::is_same_v<T, action::SendCookieEcho>) {
            auto it = links_.find(act.pe);
            auto link = it == links_.end() ? nullptr : it->second;  // hooks may replace it meanwhile
            if (!link || !link->send_cookie_echo(act.cookie))
              pool_runtime_log()->warn("{}: COOKIE_ECHO not sent: no active link", label(act.pe));
          } else if constexpr (std::is_same_v<T, action::ReportUnreachable>) {
            ++unreachable_reported_;
            ++gateway_counters_.unreachable_reported;
            pool_runtime_log()->warn("{}: reporting it unreachable to the registrar", label(act.pe));
            if (hooks_.report_unreachable) hooks_.report_unreachable(act.pe);
          } else if constexpr (std::is_same_v<T, action::Drop>) {
            // Counted by the distributor; the log is rate limited (floods).
            rserpool::log::warn_limited(pool_runtime_log(), to_string(act.reason), "pool {}: dropped a message (OPC {} DPC {} SI {}): {}",
                                        name_, act.message.opc, act.message.dpc, act.message.si,
                                        to_string(act.reason));
          } else if constexpr (std::is_same_v<T, action::PoolUnavailable>) {
            if (act.since_start)
              pool_runtime_log()->warn("pool {}: no usable PE since start: destinations unavailable until one is up", name_);
            else
              pool_runtime_log()->warn("pool {}: no usable PE for the pool-wait time: destinations unavailable", name_);
            if (hooks_.availability) hooks_.availability(false);
          } else if constexpr (std::is_same_v<T, action::PoolAvailable>) {
            pool_runtime_log()->info("pool {}: available again", name_);
            if (hooks_.availability) hooks_.availability(true);
          } else if constexpr (std::is_same_v<T, action::Congestion>) {
            pool_runtime_log()->warn("pool {}: congestion {}", name_, act.onset ? "onset" : "abated");
            if (hooks_.congestion) hooks_.congestion(act.onset);
          } else if constexpr (std::is_same_v<T, action::News>) {
            const bool bad = act.what == MemberNews::suspected || act.what == MemberNews::fenced;
            if (bad)
              pool_runtime_log()->warn("{}: {}", label(act.pe), to_string(act.what));
            else
              pool_runtime_log()->info("{}: {}", label(act.pe), to_string(act.what));
          }
        },
        a);
  }
  arm_timer();
}

void PoolRuntime::send(PeIdentifier pe, MtpMessage&& m) {
  auto it = links_.find(pe);
  if (it != links_.end()) {
    auto link = it->second;  // its hooks may drop it from links_ meanwhile
    link->send(std::move(m));
    return;
  }
  // The distributor believes in a link that is not there (should not
  // happen): treat it as that link's failure, so the message is re-routed.
  gateway_counters_.drop(GatewayDrop::link_refused);
  rserpool::log::warn_limited(pool_runtime_log(), "DATA for a PE without a link", "{}: no link for DATA: failing it over",
                              label(pe));
  std::vector<MtpMessage> back;
  back.push_back(std::move(m));
  run(distributor_.association_failed(pe, std::move(back), now()));
}

void PoolRuntime::connect(PeIdentifier pe, const rserpool::TransportParameter& transport) {
  if (auto old = links_.find(pe); old != links_.end()) {
    auto link = std::move(old->second);
    links_.erase(old);
    link->fence();
    retire(std::move(link));
  }
  auto endpoint = rserpool::asap::endpoint_for(transport);
  if (endpoint) {
    endpoint->sctp = profile_.sctp;
    endpoint->tcp = profile_.tcp;
    endpoint->name = name_ + "/" + pe_text(pe);
    endpoint->local_addresses = profile_.local_addresses;
    const auto& remote = endpoint->remote_addresses;
    if (endpoint->local_addresses.empty() && !remote.empty() &&
        std::all_of(remote.begin(), remote.end(), [](const rserpool::IpAddress& a) { return a.is_loopback(); }))
      endpoint->local_addresses = {remote.front().is_v6() ? rserpool::IpAddress::v6_loopback()
                                                          : rserpool::IpAddress::v4_loopback()};
    PeLinkHooks hooks;
    hooks.up = [this](PeIdentifier id) { run(distributor_.association_up(id, now())); };
    hooks.failed = [this](PeIdentifier id, std::vector<MtpMessage>&& back) {
      run(distributor_.association_failed(id, std::move(back), now()));
    };
    hooks.closed = [this](PeIdentifier id, std::vector<MtpMessage>&& back) {
      auto current = links_.find(id);
      if (current != links_.end() && !current->second->open_association()) {
        // The PE's own link, closed by us while the distributor counted on
        // it (shutdown): the distributor must stop sending there.
        auto keep = std::move(current->second);
        links_.erase(current);
        run(distributor_.association_closed(id, std::move(back), now()));
        return;
      }
      // A link we retired (drain finished, fenced, replaced).
      if (!back.empty()) run(distributor_.handed_back(id, std::move(back), now()));
    };
    hooks.data = [this](PeIdentifier id, MtpMessage&& m) {
      auto verdict = distributor_.from_member(id, m, now());
      if (verdict.forward) {
        if (hooks_.to_ss7) hooks_.to_ss7(std::move(m));
      } else {
        // The rule and the circuit: a dropped answer is a call the SS7 side
        // may see fail, and its CIC is what ties this line to that call.
        const char* why = verdict.reason == DropReason::fenced_member ? "the controller is fenced"
                          : verdict.owner ? "the call is another controller's"
                                          : "the call was taken from this controller";
        rserpool::log::warn_limited(pool_runtime_log(), "DATA from a fenced gateway controller",
                                    "{}: DATA dropped ({}): {} (OPC {} DPC {} SI {} {} {}{})", label(id),
                                    to_string(verdict.reason), why, m.opc, m.dpc, m.si,
                                    verdict.flow.circuit ? "CIC" : "SLS", verdict.flow.selector,
                                    verdict.owner ? ", bound to PE " + pe_text(*verdict.owner) : std::string());
      }
      if (!verdict.actions.empty()) run(std::move(verdict.actions));
    };
    hooks.cookie = [this](PeIdentifier id, rserpool::Bytes&& cookie) {
      distributor_.cookie_received(id, std::move(cookie));
    };
    auto link = PeLink::open(io_, clock_, pe, label(pe), std::move(*endpoint), profile_.t_beat, std::move(hooks),
                             counters_of(pe));
    if (link) {
      pool_runtime_log()->info("{}: connecting", label(pe));
      links_[pe] = std::move(*link);
      return;
    }
    pool_runtime_log()->warn("{}: cannot connect: {}", label(pe), link.error());
  } else {
    pool_runtime_log()->warn("{}: registered an unusable transport: {}", label(pe), endpoint.error());
  }
  // Could not even start: a failure like any other, tried again later.
  run(distributor_.association_failed(pe, {}, now()));
}

void PoolRuntime::arm_timer() { timer_.arm(distributor_.next_deadline()); }

}  // namespace sg::gateway
