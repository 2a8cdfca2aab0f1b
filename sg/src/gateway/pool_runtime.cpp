#include "pool_runtime.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "rserpool/asap/service/endpoint_mapping.hpp"
#include "rserpool/base/log.hpp"

namespace sg::gateway {
namespace {

using rserpool::PeIdentifier;

auto logger() {
  static auto l = rserpool::log::get("pool");
  return l;
}

std::string pe_text(PeIdentifier pe) {
  char b[12];
  std::snprintf(b, sizeof b, "%08x", pe);
  return b;
}

std::string policy_text(const rserpool::PolicyParameters& p) {
  std::string s(rserpool::to_string(p.type));
  switch (p.type) {
    case rserpool::PolicyType::weighted_round_robin:
    case rserpool::PolicyType::weighted_random:
    case rserpool::PolicyType::weighted_random_dpf: s += " weight " + std::to_string(p.weight); break;
    case rserpool::PolicyType::priority: s += " priority " + std::to_string(p.priority); break;
    case rserpool::PolicyType::least_used:
    case rserpool::PolicyType::randomized_least_used:
    case rserpool::PolicyType::least_used_dpf:
      s += " load " + std::to_string(static_cast<unsigned>(static_cast<double>(p.load) * 100.0 / 4294967295.0)) + "%";
      break;
    case rserpool::PolicyType::least_used_degradation:
    case rserpool::PolicyType::priority_least_used:
      s += " load " + std::to_string(static_cast<unsigned>(static_cast<double>(p.load) * 100.0 / 4294967295.0)) +
           "% degradation " + std::to_string(p.degradation);
      break;
    default: break;
  }
  return s;
}

std::string transport_text(const rserpool::TransportParameter& t) {
  std::string s = t.addresses.empty() ? std::string("-") : t.addresses.front().to_string();
  if (t.addresses.size() > 1) s += "(+" + std::to_string(t.addresses.size() - 1) + ")";
  s += ":" + std::to_string(t.port);
  s += t.protocol == rserpool::TransportProtocol::sctp ? "/sctp" : t.protocol == rserpool::TransportProtocol::tcp ? "/tcp" : "/?";
  return s;
}

}  // namespace

PoolRuntime::PoolRuntime(boost::asio::io_context& io, std::string name, DistributorConfig config,
                         LinkProfile profile, PoolHooks hooks, GatewayCounters& counters, std::uint64_t seed)
    : io_(io),
      name_(std::move(name)),
      profile_(profile),
      hooks_(std::move(hooks)),
      gateway_counters_(counters),
      selector_(seed),
      distributor_(config, selector_),
      timer_(io) {
  // From now on, a pool that gets no active PE within pool-wait is
  // announced unavailable, whether or not traffic arrived.
  distributor_.start(now());
  arm_timer();
}

void PoolRuntime::configure(const DistributorConfig& config) {
  if (config == distributor_.config()) return;
  run(distributor_.reconfigure(config, now()));
  logger()->info("pool {}: pool-wait {} ms, drain-deadline {} ms, max-queue {}, congestion {}/{}", name_,
                 std::chrono::duration_cast<std::chrono::milliseconds>(config.pool_wait).count(),
                 std::chrono::duration_cast<std::chrono::milliseconds>(config.drain_deadline).count(),
                 config.max_queue, config.congestion_onset, config.congestion_abatement);
}

PoolRuntime::~PoolRuntime() {
  timer_.cancel();
  for (auto& [pe, r] : retries_) r.timer->cancel();
  for (auto& [pe, link] : links_) link->abort();
  for (auto& weak : closing_)
    if (auto l = weak.lock()) l->detach();
}

std::shared_ptr<PeLinkCounters> PoolRuntime::counters_of(PeIdentifier pe) {
  auto& c = link_counters_[pe];
  if (!c) c = std::make_shared<PeLinkCounters>();
  return c;
}

std::uint64_t PoolRuntime::drops(DropReason r) const noexcept {
  const auto& c = distributor_.counters();
  switch (r) {
    case DropReason::pool_unavailable: return c.dropped_pool_unavailable;
    case DropReason::queue_full: return c.dropped_queue_full;
    case DropReason::member_gone: return c.dropped_member_gone;
    case DropReason::no_route: return 0;
  }
  return 0;
}

void PoolRuntime::members(const std::vector<rserpool::PoolElementParameter>& list) {
  const auto t = now();
  std::optional<rserpool::PolicyParameters> overall;
  if (!list.empty()) overall = list.front().policy;
  std::vector<rserpool::PoolElementParameter> usable;
  for (const auto& pe : list)
    if (!drained_.count(pe.id)) usable.push_back(pe);
  selector_.update(overall, usable);

  std::map<PeIdentifier, rserpool::PoolElementParameter> next;
  for (const auto& pe : list) next.emplace(pe.id, pe);
  // Gone from the handlespace: drain (calls stay until released).
  for (const auto& [id, old] : known_) {
    if (next.count(id)) continue;
    logger()->info("pool {}: PE {} left the pool", name_, pe_text(id));
    drained_.erase(id);
    if (auto it = retries_.find(id); it != retries_.end()) {
      it->second.timer->cancel();
      retries_.erase(it);
    }
    run(distributor_.member_removed(id, t));
  }
  for (const auto& [id, pe] : next) {
    auto old = known_.find(id);
    const bool is_new = old == known_.end();
    const bool policy_changed = !is_new && !(old->second.policy == pe.policy);
    const bool moved = !is_new && !(old->second.user_transport == pe.user_transport);
    known_[id] = pe;
    if (drained_.count(id)) continue;
    if (is_new) logger()->info("pool {}: PE {} at {} ({})", name_, pe_text(id), transport_text(pe.user_transport),
                               policy_text(pe.policy));
    if (moved) {
      // Re-registered elsewhere: the old association leads nowhere useful.
      logger()->info("pool {}: PE {} moved to {}", name_, pe_text(id), transport_text(pe.user_transport));
      if (auto l = links_.find(id); l != links_.end()) l->second->abort();
    }
    if (is_new || policy_changed || !distributor_.state_of(id)) run(distributor_.member_added(id, pe.policy, t));
  }
  for (auto it = known_.begin(); it != known_.end();) it = next.count(it->first) ? std::next(it) : known_.erase(it);
}

void PoolRuntime::message(MtpMessage&& m) { run(distributor_.message(std::move(m), now())); }

rserpool::Result<void, std::string> PoolRuntime::drain(PeIdentifier pe, std::optional<Duration> deadline) {
  auto state = distributor_.state_of(pe);
  if (!state) return rserpool::unexpected("pool " + name_ + " has no PE " + pe_text(pe));
  if (*state == MemberState::draining) return rserpool::unexpected("PE " + pe_text(pe) + " is already draining");
  drained_.insert(pe);
  std::vector<rserpool::PoolElementParameter> usable;
  for (const auto& [id, p] : known_)
    if (!drained_.count(id)) usable.push_back(p);
  selector_.update(known_.empty() ? std::nullopt : std::optional(known_.begin()->second.policy), usable);
  logger()->info("pool {}: operator drains PE {}", name_, pe_text(pe));
  if (deadline)
    run(distributor_.drain(pe, *deadline, now()));
  else
    run(distributor_.member_removed(pe, now()));
  return {};
}

std::size_t PoolRuntime::close_links() {
  std::size_t n = 0;
  for (auto& [pe, r] : retries_) r.timer->cancel();
  retries_.clear();
  for (auto& [pe, link] : links_) {
    if (link->state() == LinkState::failed) continue;
    link->close();
    closing_.push_back(link);
    ++n;
  }
  return n;
}

std::size_t PoolRuntime::open_links() const {
  std::size_t n = 0;
  for (const auto& [pe, link] : links_)
    if (link->state() != LinkState::failed) ++n;
  for (const auto& weak : closing_)
    if (auto l = weak.lock(); l && l->state() != LinkState::failed) ++n;
  return n;
}

void PoolRuntime::run(std::vector<Action>&& actions) {
  for (auto& a : actions) {
    std::visit(
        [this](auto& act) {
          using T = std::decay_t<decltype(act)>;
          if constexpr (std::is_same_v<T, action::Connect>) {
            connect(act.pe);
          } else if constexpr (std::is_same_v<T, action::Disconnect>) {
            if (auto it = links_.find(act.pe); it != links_.end()) {
              it->second->close();  // hand-backs still come through the hooks
              std::erase_if(closing_, [](const std::weak_ptr<PeLink>& w) { return w.expired(); });
              closing_.push_back(it->second);
              links_.erase(it);
            }
            if (auto it = retries_.find(act.pe); it != retries_.end()) {
              it->second.timer->cancel();
              retries_.erase(it);
            }
          } else if constexpr (std::is_same_v<T, action::SendData>) {
            send(act.pe, std::move(act.message));
          } else if constexpr (std::is_same_v<T, action::SendCookieEcho>) {
            auto it = links_.find(act.pe);
            if (it == links_.end() || !it->second->send_cookie_echo(act.cookie))
              logger()->warn("pool {}: COOKIE_ECHO to PE {} not sent: no active link", name_, pe_text(act.pe));
          } else if constexpr (std::is_same_v<T, action::ReportUnreachable>) {
            ++unreachable_reported_;
            ++gateway_counters_.unreachable_reported;
            logger()->warn("pool {}: reporting PE {} unreachable", name_, pe_text(act.pe));
            if (hooks_.report_unreachable) hooks_.report_unreachable(act.pe);
          } else if constexpr (std::is_same_v<T, action::Drop>) {
            // Counted by the distributor; the log is rate limited (floods).
            const auto t = now();
            if (t - drop_log_window_ >= std::chrono::seconds(1)) {
              if (drops_suppressed_ != 0)
                logger()->warn("pool {}: {} more drop(s) in the last second", name_, drops_suppressed_);
              drop_log_window_ = t;
              drops_suppressed_ = 0;
              logger()->warn("pool {}: dropped a message (OPC {} DPC {} SI {}): {}", name_, act.message.opc,
                             act.message.dpc, act.message.si, to_string(act.reason));
            } else {
              ++drops_suppressed_;
            }
          } else if constexpr (std::is_same_v<T, action::PoolUnavailable>) {
            logger()->warn("pool {}: no usable PE for the pool-wait time: destinations unavailable", name_);
            if (hooks_.availability) hooks_.availability(false);
          } else if constexpr (std::is_same_v<T, action::PoolAvailable>) {
            logger()->info("pool {}: available again", name_);
            if (hooks_.availability) hooks_.availability(true);
          } else if constexpr (std::is_same_v<T, action::Congestion>) {
            logger()->warn("pool {}: congestion {}", name_, act.onset ? "onset" : "abated");
            if (hooks_.congestion) hooks_.congestion(act.onset);
          }
        },
        a);
  }
  arm_timer();
}

void PoolRuntime::send(PeIdentifier pe, MtpMessage&& m) {
  auto it = links_.find(pe);
  if (it != links_.end() && it->second->send(m)) return;
  // The distributor believes the link is up but it is not (a failure on its
  // way): treat it as that failure, so the message is re-routed, not lost.
  gateway_counters_.drop(GatewayDrop::link_refused);
  std::vector<MtpMessage> back;
  back.push_back(std::move(m));
  run(distributor_.association_failed(pe, std::move(back), now()));
}

void PoolRuntime::connect(PeIdentifier pe) {
  auto known = known_.find(pe);
  if (known == known_.end()) {
    run(distributor_.member_removed(pe, now()));
    return;
  }
  if (auto old = links_.find(pe); old != links_.end()) {
    old->second->abort();
    links_.erase(old);
  }
  auto endpoint = rserpool::asap::endpoint_for(known->second.user_transport);
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
    hooks.up = [this](PeIdentifier id) { link_up(id); };
    hooks.failed = [this](PeIdentifier id, std::vector<MtpMessage>&& back, bool first) {
      link_failed(id, std::move(back), first);
    };
    hooks.data = [this](PeIdentifier id, MtpMessage&& m) {
      distributor_.observe_from_member(id, m);
      if (hooks_.to_ss7) hooks_.to_ss7(std::move(m));
    };
    hooks.cookie = [this](PeIdentifier id, rserpool::Bytes&& cookie) {
      distributor_.cookie_received(id, std::move(cookie));
    };
    auto link = PeLink::open(io_, pe, std::move(*endpoint), profile_.t_beat, std::move(hooks), counters_of(pe));
    if (link) {
      logger()->info("pool {}: connecting to PE {} at {}", name_, pe_text(pe),
                     transport_text(known->second.user_transport));
      links_[pe] = std::move(*link);
      return;
    }
    logger()->warn("pool {}: cannot connect to PE {}: {}", name_, pe_text(pe), link.error());
  } else {
    logger()->warn("pool {}: PE {} registered an unusable transport: {}", name_, pe_text(pe), endpoint.error());
  }
  // Could not even start: a failure like any other, tried again later.
  run(distributor_.association_failed(pe, {}, now()));
  schedule_retry(pe);
}

void PoolRuntime::link_up(PeIdentifier pe) {
  if (auto it = retries_.find(pe); it != retries_.end()) it->second.backoff = std::chrono::milliseconds(0);
  run(distributor_.association_up(pe, now()));
}

void PoolRuntime::link_failed(PeIdentifier pe, std::vector<MtpMessage>&& back, bool first) {
  run(distributor_.association_failed(pe, std::move(back), now()));
  if (first) schedule_retry(pe);
}

void PoolRuntime::schedule_retry(PeIdentifier pe) {
  if (!known_.count(pe) || drained_.count(pe)) return;
  auto& r = retries_[pe];
  if (!r.timer) r.timer = std::make_unique<boost::asio::steady_timer>(io_);
  r.backoff = r.backoff.count() == 0 ? profile_.retry_initial : std::min(r.backoff * 2, profile_.retry_max);
  r.timer->expires_after(r.backoff);
  r.timer->async_wait([this, pe](const boost::system::error_code& ec) {
    if (ec) return;
    auto known = known_.find(pe);
    if (known == known_.end() || drained_.count(pe)) return;
    if (distributor_.state_of(pe) != MemberState::failed) return;
    logger()->info("pool {}: retrying PE {}", name_, pe_text(pe));
    run(distributor_.member_added(pe, known->second.policy, now()));
  });
}

void PoolRuntime::arm_timer() {
  auto next = distributor_.next_deadline();
  if (!next) {
    if (armed_for_) timer_.cancel();
    armed_for_.reset();
    return;
  }
  if (armed_for_ && *armed_for_ == *next) return;
  armed_for_ = next;
  timer_.expires_at(*next);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    armed_for_.reset();
    run(distributor_.advance(now()));
  });
}

std::string PoolRuntime::show(bool with_header) const {
  std::ostringstream o;
  const auto& c = distributor_.counters();
  const auto ids = distributor_.members();
  std::set<PeIdentifier> all(ids.begin(), ids.end());
  for (const auto& [id, p] : known_) all.insert(id);
  if (with_header) {
    o << "pool " << name_ << ": policy " << rserpool::to_string(selector_.policy()) << ", " << known_.size()
      << " PE(s) registered, " << distributor_.flow_count() << " flow(s), pool-wait "
      << distributor_.pool_wait_depth() << ", " << (distributor_.pool_available() ? "available" : "UNAVAILABLE")
      << "\n";
    const auto& cfg = distributor_.config();
    o << "  pool-wait " << std::chrono::duration_cast<std::chrono::milliseconds>(cfg.pool_wait).count()
      << " ms, drain-deadline " << std::chrono::duration_cast<std::chrono::milliseconds>(cfg.drain_deadline).count()
      << " ms, max-queue " << cfg.max_queue << ", congestion onset " << cfg.congestion_onset << " abatement "
      << cfg.congestion_abatement << "\n";
    o << "  accepted " << c.accepted << " sent " << c.sent << " queued " << c.queued << " failovers " << c.failovers
      << " flows-moved " << c.flows_moved << " cookies-echoed " << c.cookies_echoed << " resent "
      << c.resent_after_failover << " drains " << c.drains << "\n";
  }
  char line[256];
  std::snprintf(line, sizeof line, "  %-8s  %-26s %-10s %-13s %-28s %7s %10s %10s %6s\n", "PE", "address", "state",
                "link", "policy", "flows", "msgs-out", "msgs-in", "queue");
  o << line;
  for (auto id : all) {
    auto k = known_.find(id);
    auto st = distributor_.state_of(id);
    auto l = links_.find(id);
    auto lc = link_counters_.find(id);
    const std::string state = st ? std::string(to_string(*st)) : std::string(drained_.count(id) ? "drained" : "gone");
    const std::string link = l != links_.end() ? std::string(to_string(l->second->state())) : std::string("-");
    const std::string addr = k != known_.end() ? transport_text(k->second.user_transport) : std::string("-");
    const std::string pol = k != known_.end() ? policy_text(k->second.policy) : std::string("-");
    const std::uint64_t out = lc != link_counters_.end() ? lc->second->out.messages : 0;
    const std::uint64_t in = lc != link_counters_.end() ? lc->second->in.messages : 0;
    std::snprintf(line, sizeof line, "  %-8s  %-26s %-10s %-13s %-28s %7zu %10llu %10llu %6zu\n", pe_text(id).c_str(),
                  addr.c_str(), state.c_str(), link.c_str(), pol.c_str(), distributor_.flow_count(id),
                  static_cast<unsigned long long>(out), static_cast<unsigned long long>(in),
                  distributor_.queue_depth(id));
    o << line;
  }
  return o.str();
}

std::string PoolRuntime::show_flows() const {
  std::ostringstream o;
  o << "pool " << name_ << ": " << distributor_.flow_count() << " flow(s)\n";
  for (auto id : distributor_.members()) {
    o << "  PE " << pe_text(id) << ": " << distributor_.flow_count(id) << " flow(s)";
    // A sample, so an operator can see what kind of traffic sticks where.
    const auto flows = distributor_.flows_of(id);
    for (std::size_t i = 0; i < flows.size() && i < 5; ++i) {
      const auto& f = flows[i];
      o << (i == 0 ? ": " : ", ") << "opc " << f.opc << " dpc " << f.dpc << " si " << unsigned{f.si}
        << (f.circuit ? " cic " : " sls ") << f.selector;
    }
    if (flows.size() > 5) o << ", ...";
    o << "\n";
  }
  return o.str();
}

void PoolRuntime::collect(std::vector<rserpool::ops::Sample>& out) const {
  const auto& c = distributor_.counters();
  auto add = [&](const char* name, double v, std::map<std::string, std::string> labels = {}) {
    labels.emplace("pool", name_);
    out.push_back(rserpool::ops::Sample{name, std::move(labels), v});
  };
  add("sg_pool_accepted_total", static_cast<double>(c.accepted));
  add("sg_pool_sent_total", static_cast<double>(c.sent));
  add("sg_pool_queued_total", static_cast<double>(c.queued));
  add("sg_pool_resent_after_failover_total", static_cast<double>(c.resent_after_failover));
  add("sg_failovers_total", static_cast<double>(c.failovers));
  add("sg_flows_moved_total", static_cast<double>(c.flows_moved));
  add("sg_cookies_echoed_total", static_cast<double>(c.cookies_echoed));
  add("sg_drains_total", static_cast<double>(c.drains));
  add("sg_unreachable_reported_total", static_cast<double>(unreachable_reported_));
  add("sg_drops_total", static_cast<double>(c.dropped_pool_unavailable), {{"reason", "pool-unavailable"}});
  add("sg_drops_total", static_cast<double>(c.dropped_queue_full), {{"reason", "queue-full"}});
  add("sg_drops_total", static_cast<double>(c.dropped_member_gone), {{"reason", "member-gone"}});
  add("sg_pool_flows", static_cast<double>(distributor_.flow_count()));
  add("sg_pool_wait_depth", static_cast<double>(distributor_.pool_wait_depth()));
  add("sg_pool_available", distributor_.pool_available() ? 1.0 : 0.0);
  std::map<std::string, std::size_t> by_state{{"connecting", 0}, {"active", 0}, {"draining", 0}, {"failed", 0}};
  for (auto id : distributor_.members())
    if (auto st = distributor_.state_of(id)) ++by_state[std::string(to_string(*st))];
  for (const auto& [state, n] : by_state) add("sg_pool_members", static_cast<double>(n), {{"state", state}});
  std::uint64_t cookies = 0;
  for (const auto& [id, lc] : link_counters_) {
    const std::string pe = pe_text(id);
    add("sg_pe_messages_total", static_cast<double>(lc->out.messages), {{"pe", pe}, {"direction", "out"}});
    add("sg_pe_messages_total", static_cast<double>(lc->in.messages), {{"pe", pe}, {"direction", "in"}});
    add("sg_pe_bytes_total", static_cast<double>(lc->out.bytes), {{"pe", pe}, {"direction", "out"}});
    add("sg_pe_bytes_total", static_cast<double>(lc->in.bytes), {{"pe", pe}, {"direction", "in"}});
    add("sg_pe_flows", static_cast<double>(distributor_.flow_count(id)), {{"pe", pe}});
    add("sg_pe_link_failures_total", static_cast<double>(lc->failures), {{"pe", pe}});
    cookies += lc->cookies_received;
  }
  add("sg_cookies_received_total", static_cast<double>(cookies));
}

}  // namespace sg::gateway
