// The registrar's counters as metric samples (CLI `show counters` and
// Prometheus GET /metrics), collected on the io thread.
#include <malloc.h>

#include <string>
#include <utility>

#include "rserpool/base/buffer_pool.hpp"

#include "daemon_ops.hpp"

namespace rserpool::registrar::daemon {
namespace {

using ops::MetricFamily;
using ops::Sample;

struct CoreCounter {
  const char* name;
  const char* help;
  std::uint64_t Counters::*field;
};

constexpr CoreCounter kCore[] = {
    {"registrar_registrations_total", "REGISTRATIONs accepted (new PEs)", &Counters::registrations},
    {"registrar_reregistrations_total", "REGISTRATIONs updating a known PE", &Counters::reregistrations},
    {"registrar_registrations_rejected_total", "REGISTRATIONs rejected", &Counters::registrations_rejected},
    {"registrar_registrations_rate_limited_total", "REGISTRATIONs over the rate limit",
     &Counters::registrations_rate_limited},
    {"registrar_deregistrations_total", "DEREGISTRATIONs", &Counters::deregistrations},
    {"registrar_deregistrations_rejected_total", "DEREGISTRATIONs of another association's PE",
     &Counters::deregistrations_rejected},
    {"registrar_resolutions_total", "HANDLE_RESOLUTIONs answered", &Counters::resolutions},
    {"registrar_resolutions_unknown_pool_total", "HANDLE_RESOLUTIONs for an unknown pool",
     &Counters::resolutions_unknown_pool},
    {"registrar_resolutions_rate_limited_total", "HANDLE_RESOLUTIONs over the rate limit",
     &Counters::resolutions_rate_limited},
    {"registrar_unreachable_reports_total", "ENDPOINT_UNREACHABLEs", &Counters::unreachable_reports},
    {"registrar_unreachable_rate_limited_total", "ENDPOINT_UNREACHABLEs over the rate limit",
     &Counters::unreachable_rate_limited},
    {"registrar_unreachable_audits_total", "PE audits started by an ENDPOINT_UNREACHABLE",
     &Counters::unreachable_audits},
    {"registrar_unreachable_removals_total", "Reported PEs removed because their audit failed",
     &Counters::unreachable_removals},
    {"registrar_unreachable_refuted_total", "Reported PEs that answered their audit (kept)",
     &Counters::unreachable_refuted},
    {"registrar_registrations_refused_owned_total",
     "REGISTRATIONs of a PE identifier another live association owns (refused, 0x4)",
     &Counters::registrations_refused_owned},
    {"registrar_keep_alive_acks_foreign_total", "KEEP_ALIVE_ACKs from an association that may not answer for the PE",
     &Counters::keep_alive_acks_foreign},
    {"registrar_keep_alive_acks_unregistered_total",
     "KEEP_ALIVE_ACKs for a PE no longer registered, answered with a DEREGISTRATION_RESPONSE",
     &Counters::keep_alive_acks_unregistered},
    {"registrar_keep_alives_sent_total", "ENDPOINT_KEEP_ALIVEs sent", &Counters::keep_alives_sent},
    {"registrar_keep_alive_acks_total", "ENDPOINT_KEEP_ALIVE_ACKs received", &Counters::keep_alive_acks},
    {"registrar_keep_alive_timeouts_total", "PEs removed for a missing KEEP_ALIVE_ACK", &Counters::keep_alive_timeouts},
    {"registrar_expirations_total", "PEs whose registration life ended", &Counters::expirations},
    {"registrar_subscription_updates_total", "Pushed HANDLE_RESOLUTION_RESPONSEs", &Counters::subscription_updates},
    {"registrar_asap_unexpected_total", "ASAP messages a server does not expect", &Counters::asap_unexpected},
    {"registrar_asap_unknown_association_total", "ASAP messages on associations not admitted (dropped)",
     &Counters::asap_unknown_association},
    {"registrar_associations_refused_per_address_total", "ASAP associations refused: their address holds its cap",
     &Counters::associations_refused_per_address},
    {"registrar_associations_refused_full_total", "ASAP associations refused: full, no idle client to evict",
     &Counters::associations_refused_full},
    {"registrar_associations_evicted_total", "Idle ASAP clients closed to make room", &Counters::associations_evicted},
    {"registrar_subscriptions_refused_total", "Subscriptions over the per-association bound (answered A=0)",
     &Counters::subscriptions_refused},
    {"registrar_resolutions_truncated_total", "Resolution answers cut short by max-resolution-bytes",
     &Counters::resolutions_truncated},
    {"registrar_monitor_requests_total", "Handle table and list requests from monitors", &Counters::monitor_requests},
    {"registrar_monitor_ignored_total", "Other messages from monitors (ignored)", &Counters::monitor_ignored},
    {"registrar_asap_errors_received_total", "ASAP ERRORs received", &Counters::asap_errors_received},
    {"registrar_enrp_received_total", "ENRP messages processed", &Counters::enrp_received},
    {"registrar_enrp_misaddressed_total", "ENRP messages for another server", &Counters::enrp_misaddressed},
    {"registrar_enrp_errors_received_total", "ENRP_ERRORs received", &Counters::enrp_errors_received},
    {"registrar_updates_sent_total", "HANDLE_UPDATEs sent", &Counters::updates_sent},
    {"registrar_updates_applied_total", "HANDLE_UPDATEs and table entries applied", &Counters::updates_applied},
    {"registrar_updates_ignored_total", "HANDLE_UPDATEs and table entries ignored", &Counters::updates_ignored},
    {"registrar_checksum_mismatches_total", "PRESENCE checksums differing from our view",
     &Counters::checksum_mismatches},
    {"registrar_resyncs_total", "Handle table resynchronisations started", &Counters::resyncs},
    {"registrar_takeovers_won_total", "Takeovers we executed", &Counters::takeovers_won},
    {"registrar_takeovers_aborted_total", "Takeovers abandoned", &Counters::takeovers_aborted},
    {"registrar_peers_dead_total", "Peers declared dead", &Counters::peers_dead},
    {"registrar_mentor_pages_total", "HANDLE_TABLE_RESPONSE pages of the initial mentor download",
     &Counters::mentor_pages},
    {"registrar_mentor_elements_total", "PEs received in the initial mentor download", &Counters::mentor_elements},
};

struct DriverCounter {
  const char* name;
  const char* help;
  std::uint64_t ServerCounters::*field;
};

constexpr DriverCounter kDriver[] = {
    {"registrar_asap_associations_accepted_total", "ASAP associations accepted",
     &ServerCounters::asap_associations_accepted},
    {"registrar_asap_associations_closed_total", "ASAP associations ended", &ServerCounters::asap_associations_closed},
    {"registrar_asap_messages_received_total", "ASAP messages received", &ServerCounters::asap_messages_received},
    {"registrar_asap_messages_sent_total", "ASAP messages sent", &ServerCounters::asap_messages_sent},
    {"registrar_asap_send_failures_total", "ASAP messages not delivered", &ServerCounters::asap_send_failures},
    {"registrar_asap_wrong_ppid_total", "Non-ASAP PPIDs on the ASAP port", &ServerCounters::asap_wrong_ppid},
    {"registrar_element_connects_total", "Connections to taken-over PEs", &ServerCounters::element_connects},
    {"registrar_element_connect_failures_total", "Failed connections to taken-over PEs",
     &ServerCounters::element_connect_failures},
    {"registrar_enrp_associations_accepted_total", "ENRP associations accepted",
     &ServerCounters::enrp_associations_accepted},
    {"registrar_enrp_associations_refused_total", "ENRP associations from untrusted addresses",
     &ServerCounters::enrp_associations_refused},
    {"registrar_enrp_connects_total", "ENRP associations we started", &ServerCounters::enrp_connects},
    {"registrar_enrp_connect_failures_total", "ENRP associations that did not come up",
     &ServerCounters::enrp_connect_failures},
    {"registrar_enrp_messages_received_total", "ENRP messages received", &ServerCounters::enrp_messages_received},
    {"registrar_enrp_messages_sent_total", "ENRP messages sent", &ServerCounters::enrp_messages_sent},
    {"registrar_enrp_send_failures_total", "ENRP messages not delivered", &ServerCounters::enrp_send_failures},
    {"registrar_enrp_wrong_ppid_total", "Non-ENRP PPIDs on ENRP associations", &ServerCounters::enrp_wrong_ppid},
    {"registrar_enrp_unroutable_total", "ENRP messages for a server we cannot reach", &ServerCounters::enrp_unroutable},
    {"registrar_enrp_sender_changed_total", "ENRP messages with a foreign sender id on a bound association",
     &ServerCounters::enrp_sender_changed},
    {"registrar_enrp_listed_servers_refused_total", "LIST_RESPONSE entries outside the ENRP allow-list",
     &ServerCounters::enrp_listed_servers_refused},
    {"registrar_enrp_monitors_accepted_total", "ENRP associations accepted as monitors (read-only)",
     &ServerCounters::enrp_monitors_accepted},
    {"registrar_asap_aborted_send_queue_total", "ASAP associations aborted: more held than the send-queue limit",
     &ServerCounters::asap_aborted_send_queue},
    {"registrar_enrp_aborted_send_queue_total", "ENRP associations aborted: more held than the send-queue limit",
     &ServerCounters::enrp_aborted_send_queue},
    {"registrar_asap_aborted_by_caps_total", "ASAP associations refused at admission or evicted to make room",
     &ServerCounters::asap_aborted_by_caps},
    {"registrar_memory_trims_total", "Times unused heap was given back after associations went away",
     &ServerCounters::memory_trims},
    {"registrar_announces_sent_total", "ASAP_SERVER_ANNOUNCEs sent", &ServerCounters::announces_sent},
    {"registrar_announce_failures_total", "ASAP_SERVER_ANNOUNCEs that could not be sent",
     &ServerCounters::announce_failures},
};

}  // namespace

void describe_metrics(Running& running) {
  auto& m = running.metrics;
  for (const auto& c : kCore) m.describe(MetricFamily{c.name, c.help, MetricFamily::Type::counter});
  for (const auto& c : kDriver) m.describe(MetricFamily{c.name, c.help, MetricFamily::Type::counter});
  m.describe(MetricFamily{"registrar_asap_decode_errors_total", "Undecodable ASAP messages, by cause answered",
                          MetricFamily::Type::counter});
  m.describe(MetricFamily{"registrar_enrp_decode_errors_total", "Undecodable ENRP messages, by cause answered",
                          MetricFamily::Type::counter});
  m.describe(MetricFamily{"registrar_pools", "Pools in the handlespace", MetricFamily::Type::gauge});
  m.describe(MetricFamily{"registrar_pool_elements", "PEs in the handlespace", MetricFamily::Type::gauge});
  m.describe(MetricFamily{"registrar_pool_elements_home", "PEs we are home registrar for", MetricFamily::Type::gauge});
  m.describe(MetricFamily{"registrar_peers_active", "ENRP peers alive", MetricFamily::Type::gauge});
  m.describe(MetricFamily{"registrar_asap_associations", "ASAP associations open", MetricFamily::Type::gauge});
  m.describe(MetricFamily{"registrar_send_queued_bytes", "Bytes queued for peers that have not read them yet",
                          MetricFamily::Type::gauge});
  m.describe(MetricFamily{"registrar_heap_in_use_bytes", "Heap bytes allocated and not freed (all arenas)",
                          MetricFamily::Type::gauge});
  m.describe(MetricFamily{"registrar_heap_free_bytes", "Heap bytes freed but still mapped (all arenas)",
                          MetricFamily::Type::gauge});
  m.describe(MetricFamily{"registrar_buffers_pooled", "Recycled message buffers held by the io thread's pool",
                          MetricFamily::Type::gauge});
  Running* r = &running;
  m.add_collector([r](std::vector<Sample>& out) {
    if (!r->server) return;
    const auto& s = *r->server;
    const auto& c = s.core().counters();
    for (const auto& k : kCore) out.push_back(Sample{k.name, {}, static_cast<double>(c.*(k.field))});
    const auto& d = s.counters();
    for (const auto& k : kDriver) out.push_back(Sample{k.name, {}, static_cast<double>(d.*(k.field))});
    auto causes = [&](const char* name, const std::array<std::uint64_t, 12>& a) {
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i] == 0) continue;
        const std::string cause = i == 11 ? std::string("silent")
                                          : std::string(to_string(static_cast<ErrorCause>(i)));
        out.push_back(Sample{name, {{"cause", cause}}, static_cast<double>(a[i])});
      }
    };
    causes("registrar_asap_decode_errors_total", c.asap_decode_errors);
    causes("registrar_enrp_decode_errors_total", c.enrp_decode_errors);
    const auto& hs = s.core().handlespace();
    out.push_back(Sample{"registrar_pools", {}, static_cast<double>(hs.pool_count())});
    out.push_back(Sample{"registrar_pool_elements", {}, static_cast<double>(hs.element_count())});
    out.push_back(Sample{"registrar_pool_elements_home", {}, static_cast<double>(hs.owned_count(s.id()))});
    out.push_back(Sample{"registrar_peers_active", {}, static_cast<double>(s.core().active_peers().size())});
    out.push_back(Sample{"registrar_asap_associations", {}, static_cast<double>(s.asap_association_count())});
    out.push_back(Sample{"registrar_send_queued_bytes", {}, static_cast<double>(s.outbound_held_bytes())});
    // Live bytes against what the process maps: the difference is what a
    // trim could give back (the attack tests tell one from the other).
    const auto heap = ::mallinfo2();
    out.push_back(Sample{"registrar_heap_in_use_bytes", {}, static_cast<double>(heap.uordblks + heap.hblkhd)});
    out.push_back(Sample{"registrar_heap_free_bytes", {}, static_cast<double>(heap.fordblks)});
    // Collected on the io thread: its pool is the one the transports use.
    out.push_back(Sample{"registrar_buffers_pooled", {}, static_cast<double>(buffers::stats().pooled)});
  });
}

}  // namespace rserpool::registrar::daemon
