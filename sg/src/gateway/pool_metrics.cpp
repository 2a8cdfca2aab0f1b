#include "pool_metrics.hpp"

#include <map>
#include <string>
#include <tuple>

#include "pool_runtime.hpp"
#include "pool_text.hpp"

namespace sg::gateway {

void describe_gateway_metrics(rserpool::ops::MetricsRegistry& registry) {
  using T = rserpool::ops::MetricFamily::Type;
  const std::vector<std::tuple<const char*, const char*, T>> families = {
      {"sg_ss7_messages_total", "M3UA DATA messages from (in) and to (out) the SS7 side", T::counter},
      {"sg_ss7_bytes_total", "MTP3-user bytes from (in) and to (out) the SS7 side", T::counter},
      {"sg_ss7_held", "DATA from the controllers waiting for an active SS7 path", T::gauge},
      {"sg_ss7_held_total",
       "DATA from the controllers that waited for an active SS7 path, and those given up (expired, overflow)",
       T::counter},
      {"sg_pe_messages_total", "DATA messages to (out) and from (in) each pool element", T::counter},
      {"sg_pe_bytes_total", "MTP3-user bytes to (out) and from (in) each pool element", T::counter},
      {"sg_pe_flows", "Flows bound to each pool element", T::gauge},
      {"sg_pe_link_failures_total", "Link failures per pool element", T::counter},
      {"sg_pe_m3ua_refused_total", "DATA refused by M3UA on a pool element's link (failed over)", T::counter},
      {"sg_pool_accepted_total", "Messages the pool distributor accepted", T::counter},
      {"sg_pool_sent_total", "Messages sent to a pool element", T::counter},
      {"sg_pool_queued_total", "Messages queued (PE connecting or pool-wait)", T::counter},
      {"sg_pool_resent_after_failover_total", "Messages re-sent after a failover (hand-back and queued)", T::counter},
      {"sg_failovers_total", "PE failures handled", T::counter},
      {"sg_flows_moved_total", "Flows moved to an heir", T::counter},
      {"sg_cookies_echoed_total", "ASAP COOKIE_ECHO sent to heirs", T::counter},
      {"sg_cookies_received_total", "ASAP COOKIE received from pool elements", T::counter},
      {"sg_drains_total", "PEs drained", T::counter},
      {"sg_unreachable_reported_total", "ENDPOINT_UNREACHABLE reports", T::counter},
      {"sg_pool_fenced_total", "PEs cut off after their calls failed over", T::counter},
      {"sg_pool_audits_passed_total", "Fences lifted: PE still listed after the registrar's audit bound", T::counter},
      {"sg_pool_reconnects_total", "Reconnection attempts to a failed PE", T::counter},
      {"sg_pool_suspicions_total", "Registrar loss notices while the link to the PE was up", T::counter},
      {"sg_pool_suspicions_cleared_total", "Suspected PEs that proved alive", T::counter},
      {"sg_pool_kept_resent_total", "Messages kept since a loss notice and re-sent to an heir", T::counter},
      {"sg_pool_calls_taken_over_total", "Calls this gateway did not set up (its mate's, or its previous run's), placed by the shared hash", T::counter},
      {"sg_pool_held_for_settle_total", "Messages of such calls that waited for the start-up settle", T::counter},
      {"sg_pool_placement_settled", "1 once the pool's PE list has settled after start-up", T::gauge},
      {"sg_drops_total", "Messages dropped, by reason", T::counter},
      {"sg_pool_flows", "Flows in the pool", T::gauge},
      {"sg_pool_wait_depth", "Messages waiting for a usable PE", T::gauge},
      {"sg_pool_available", "1 when the pool can take traffic", T::gauge},
      {"sg_pool_members", "PEs per distributor state", T::gauge},
      {"sg_duna_sent_total", "DUNA sent, per destination", T::counter},
      {"sg_dava_sent_total", "DAVA sent, per destination", T::counter},
      {"sg_scon_sent_total", "SCON sent, per destination", T::counter},
      {"sg_ss7_associations", "SS7-side associations up", T::gauge},
      {"sg_ss7_refused_associations_total", "SS7 associations refused by the allow-list", T::counter},
      {"sg_ss7_evicted_associations_total", "Idle SS7 associations closed to make room for a newcomer of their peer",
       T::counter},
      {"sg_m3ua_drops_total", "Messages dropped by the SS7-side M3UA layer, by reason", T::counter},
      {"sg_m3ua_errors_total", "M3UA ERR messages on the SS7 side, by direction and error code", T::counter},
      {"sg_ss7_request_refusals_total", "ASPUP/ASPAC refused or unanswered, per STP connection", T::counter},
      {"sg_ss7_return_paths", "Point codes with a learnt return path", T::gauge},
      {"sg_ss7_stale_asp_resets_total",
       "SS7 associations aborted because their peer sent DATA without ever sending ASP Up on them", T::counter},
      {"sg_ss7_return_path_refused_total", "DATA that tried to move another peer's return path", T::counter},
      {"sg_ss7_return_path_evicted_total", "Return paths forgotten at capacity (least recently used)", T::counter},
  };
  for (const auto& [name, help, type] : families) registry.describe({name, help, type});
}

void collect_pool(const PoolRuntime& pool, std::vector<rserpool::ops::Sample>& out) {
  const auto& d = pool.distributor();
  const auto& c = d.counters();
  auto add = [&](const char* name, double v, std::map<std::string, std::string> labels = {}) {
    labels.emplace("pool", pool.name());
    out.push_back(rserpool::ops::Sample{name, std::move(labels), v});
  };
  auto n = [](std::uint64_t v) { return static_cast<double>(v); };
  add("sg_pool_accepted_total", n(c.accepted));
  add("sg_pool_sent_total", n(c.sent));
  add("sg_pool_queued_total", n(c.queued));
  add("sg_pool_resent_after_failover_total", n(c.resent_after_failover));
  add("sg_failovers_total", n(c.failovers));
  add("sg_flows_moved_total", n(c.flows_moved));
  add("sg_cookies_echoed_total", n(c.cookies_echoed));
  add("sg_drains_total", n(c.drains));
  add("sg_unreachable_reported_total", n(pool.unreachable_reported()));
  add("sg_pool_fenced_total", n(c.fenced));
  add("sg_pool_audits_passed_total", n(c.audits_passed));
  add("sg_pool_reconnects_total", n(c.reconnect_attempts));
  add("sg_pool_suspicions_total", n(c.suspicions));
  add("sg_pool_suspicions_cleared_total", n(c.suspicions_cleared));
  add("sg_pool_kept_resent_total", n(c.kept_since_notice));
  add("sg_pool_calls_taken_over_total", n(c.calls_taken_over));
  add("sg_pool_held_for_settle_total", n(c.held_for_settle));
  add("sg_pool_placement_settled", d.placement_settled() ? 1.0 : 0.0);
  // Every reason the distributor can produce, nothing it cannot; what a
  // fenced PE sent is dropped by its link or by the distributor: one figure.
  for (std::size_t i = 0; i < kDropReasons; ++i) {
    const auto r = static_cast<DropReason>(i);
    std::uint64_t v = c.dropped(r);
    if (r == DropReason::fenced_member) v += pool.dropped_after_fence();
    add("sg_drops_total", n(v), {{"reason", std::string(to_string(r))}});
  }
  add("sg_pool_flows", n(d.flow_count()));
  add("sg_pool_wait_depth", n(d.pool_wait_depth()));
  add("sg_pool_available", d.pool_available() ? 1.0 : 0.0);
  std::map<std::string, std::size_t> by_state;
  for (auto s : {MemberState::connecting, MemberState::active, MemberState::suspect, MemberState::draining,
                 MemberState::failed})
    by_state[std::string(to_string(s))] = 0;
  for (auto id : d.members())
    if (auto st = d.state_of(id)) ++by_state[std::string(to_string(*st))];
  for (const auto& [state, count] : by_state) add("sg_pool_members", n(count), {{"state", state}});
  std::uint64_t cookies = 0;
  for (const auto& [id, lc] : pool.link_counters()) {
    const std::string pe = pe_text(id);
    add("sg_pe_messages_total", n(lc->out.messages), {{"pe", pe}, {"direction", "out"}});
    add("sg_pe_messages_total", n(lc->in.messages), {{"pe", pe}, {"direction", "in"}});
    add("sg_pe_bytes_total", n(lc->out.bytes), {{"pe", pe}, {"direction", "out"}});
    add("sg_pe_bytes_total", n(lc->in.bytes), {{"pe", pe}, {"direction", "in"}});
    add("sg_pe_flows", n(d.flow_count(id)), {{"pe", pe}});
    add("sg_pe_link_failures_total", n(lc->failures), {{"pe", pe}});
    add("sg_pe_m3ua_refused_total", n(lc->m3ua_refused), {{"pe", pe}});
    cookies += lc->cookies_received;
  }
  add("sg_cookies_received_total", n(cookies));
}

}  // namespace sg::gateway
