#include "rserpool/ops/sctp_commands.hpp"

#include "rserpool/ops/number.hpp"

namespace rserpool::ops {

transport::SctpOptions apply(const SctpOverrides& o, transport::SctpOptions p) {
  using Ms = std::chrono::milliseconds;
  if (o.rto_initial_ms) p.rto_initial = Ms(*o.rto_initial_ms);
  if (o.rto_min_ms) p.rto_min = Ms(*o.rto_min_ms);
  if (o.rto_max_ms) p.rto_max = Ms(*o.rto_max_ms);
  if (o.path_max_retransmissions) p.path_max_retrans = *o.path_max_retransmissions;
  if (o.association_max_retransmissions) p.association_max_retrans = *o.association_max_retransmissions;
  if (o.heartbeat_interval_ms) p.heartbeat_interval = Ms(*o.heartbeat_interval_ms);
  if (o.heartbeat) p.heartbeat_enabled = *o.heartbeat;
  if (o.sack_delay_ms) p.sack_delay = Ms(*o.sack_delay_ms);
  if (o.sack_frequency) p.sack_frequency = *o.sack_frequency;
  if (o.receive_buffer) p.receive_buffer = *o.receive_buffer;
  if (o.bundle) p.bundle = *o.bundle;
  return p;
}

std::string check_rto(const transport::SctpOptions& e) {
  if (e.rto_min <= e.rto_initial && e.rto_initial <= e.rto_max) return {};
  const auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; };
  return "SCTP RTO min " + ms(e.rto_min) + ", initial " + ms(e.rto_initial) + ", max " + ms(e.rto_max) +
         ": min <= initial <= max is required";
}

void declare_sctp_commands(Vty& vty, int node, const std::string& prefix, const std::string& what,
                           std::function<SctpOverrides&(CommandContext&)> get) {
  const std::string head = "SCTP of " + what;
  auto rto = [get](CommandContext& c, std::optional<std::uint32_t> SctpOverrides::*field, const char* name) {
    auto& o = get(c);
    const auto parsed = number_arg<std::uint32_t>(c, 0);
    if (!parsed) return;
    const auto v = *parsed;
    auto t = o;
    t.*field = v;
    if (t.rto_min_ms && t.rto_max_ms && *t.rto_min_ms > *t.rto_max_ms) {
      c.error = std::string(name) + " " + std::to_string(v) + ": rto-min " + std::to_string(*t.rto_min_ms) +
                " ms is above rto-max " + std::to_string(*t.rto_max_ms) + " ms";
      return;
    }
    if (t.rto_initial_ms && ((t.rto_min_ms && *t.rto_initial_ms < *t.rto_min_ms) ||
                             (t.rto_max_ms && *t.rto_initial_ms > *t.rto_max_ms))) {
      c.error = std::string(name) + " " + std::to_string(v) + ": rto-initial " + std::to_string(*t.rto_initial_ms) +
                " ms is outside rto-min..rto-max";
      return;
    }
    o = t;
  };
  vty.add_command(node, prefix + " rto-initial <10-600000>",
                  {head, "Initial retransmission timeout (SCTP_RTOINFO)", "Milliseconds"},
                  [rto](CommandContext& c) { rto(c, &SctpOverrides::rto_initial_ms, "rto-initial"); });
  vty.add_command(node, prefix + " rto-min <10-600000>",
                  {head, "Lowest retransmission timeout: keep it above the peer's delayed SACK (typically 200 ms)",
                   "Milliseconds"},
                  [rto](CommandContext& c) { rto(c, &SctpOverrides::rto_min_ms, "rto-min"); });
  vty.add_command(node, prefix + " rto-max <10-600000>", {head, "Highest retransmission timeout", "Milliseconds"},
                  [rto](CommandContext& c) { rto(c, &SctpOverrides::rto_max_ms, "rto-max"); });
  vty.add_command(node, prefix + " path-max-retransmissions <1-20>",
                  {head, "Retransmissions before a path is marked down (spp_pathmaxrxt)", "Count"},
                  [get](CommandContext& c) {
                    if (const auto n = number_arg<std::uint16_t>(c, 0)) get(c).path_max_retransmissions = *n;
                  });
  vty.add_command(node, prefix + " association-max-retransmissions <1-40>",
                  {head, "Retransmissions before the association fails (sasoc_asocmaxrxt)", "Count"},
                  [get](CommandContext& c) {
                    if (const auto n = number_arg<std::uint16_t>(c, 0)) get(c).association_max_retransmissions = *n;
                  });
  vty.add_command(node, prefix + " heartbeat-interval <10-3600000>",
                  {head, "SCTP heartbeat interval (spp_hbinterval)", "Milliseconds"},
                  [get](CommandContext& c) {
                    if (const auto n = number_arg<std::uint32_t>(c, 0)) get(c).heartbeat_interval_ms = *n;
                  });
  vty.add_command(node, prefix + " heartbeat (on|off)", {head, "SCTP heartbeats", "Send heartbeats", "No heartbeats"},
                  [get](CommandContext& c) { get(c).heartbeat = c.args[0] == "on"; });
  vty.add_command(node, prefix + " sack-delay <1-500>",
                  {head, "Our delayed SACK (SCTP_DELAYED_SACK sack_delay)", "Milliseconds"},
                  [get](CommandContext& c) { if (const auto n = number_arg<std::uint32_t>(c, 0)) get(c).sack_delay_ms = *n; });
  vty.add_command(node, prefix + " sack-frequency <1-16>",
                  {head, "Packets received before a SACK is sent (sack_freq; 1: no delay)", "Count"},
                  [get](CommandContext& c) { if (const auto n = number_arg<std::uint32_t>(c, 0)) get(c).sack_frequency = *n; });
  vty.add_command(node, prefix + " receive-buffer <4096-16777216>",
                  {head,
                   "Socket receive buffer (SO_RCVBUF): bounds the receive window, what the kernel acknowledges "
                   "before the process has read it",
                   "Bytes"},
                  [get](CommandContext& c) { if (const auto n = number_arg<std::uint32_t>(c, 0)) get(c).receive_buffer = *n; });
  vty.add_command(node, prefix + " bundle (on|off)",
                  {head,
                   "Messages written together go bundled into as few packets as they fit (MSG_MORE); "
                   "none waits longer",
                   "Bundle what is written together", "One packet per message"},
                  [get](CommandContext& c) { get(c).bundle = c.args[0] == "on"; });
}

void render_sctp(std::ostringstream& o, const std::string& indent, const std::string& prefix, const SctpOverrides& s) {
  const std::string p = indent + prefix + " ";
  if (s.rto_initial_ms) o << p << "rto-initial " << *s.rto_initial_ms << "\n";
  if (s.rto_min_ms) o << p << "rto-min " << *s.rto_min_ms << "\n";
  if (s.rto_max_ms) o << p << "rto-max " << *s.rto_max_ms << "\n";
  if (s.path_max_retransmissions) o << p << "path-max-retransmissions " << *s.path_max_retransmissions << "\n";
  if (s.association_max_retransmissions)
    o << p << "association-max-retransmissions " << *s.association_max_retransmissions << "\n";
  if (s.heartbeat_interval_ms) o << p << "heartbeat-interval " << *s.heartbeat_interval_ms << "\n";
  if (s.heartbeat) o << p << "heartbeat " << (*s.heartbeat ? "on" : "off") << "\n";
  if (s.sack_delay_ms) o << p << "sack-delay " << *s.sack_delay_ms << "\n";
  if (s.sack_frequency) o << p << "sack-frequency " << *s.sack_frequency << "\n";
  if (s.receive_buffer) o << p << "receive-buffer " << *s.receive_buffer << "\n";
  if (s.bundle) o << p << "bundle " << (*s.bundle ? "on" : "off") << "\n";
}

}  // namespace rserpool::ops
