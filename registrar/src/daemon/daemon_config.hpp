#pragma once
// The daemon's configuration as read from the VTY config file (node
// `registrar`), and how it becomes a ServerConfig. Timer profile first, then
// individual timer overrides, whatever their order in the file.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "registrar/server.hpp"
#include "rserpool/ops/sctp_overrides.hpp"
#include "rserpool/ops/vty.hpp"

namespace rserpool::registrar::daemon {

enum class TimerProfile : std::uint8_t { rfc, aggressive };

enum class TimerName : std::uint8_t {
  keep_alive_interval,
  keep_alive_timeout,
  peer_heartbeat_cycle,
  max_time_last_heard,
  max_time_no_response,
  takeover_expire,
  unreachable_report_interval,
};

// Initial synchronisation (RFC 5353 3.3): where the handlespace comes from.
enum class MentorMode : std::uint8_t {
  first_peer,  // the first configured peer that answers (default)
  address,     // `mentor ADDR PORT`
  off,         // `no mentor`: peers' PEs arrive by the checksum audit only
};

struct DaemonConfig {
  std::optional<ServerIdentifier> server_id;  // none: random at start (as rsplib)
  transport::TransportKind transport = transport::TransportKind::automatic;
  std::vector<IpAddress> asap_addresses;
  std::uint16_t asap_port = 3863;
  std::vector<IpAddress> enrp_addresses;
  std::uint16_t enrp_port = 9901;
  std::vector<TransportAddress> peers;
  std::vector<IpAddress> allowed;
  bool accept_any_peer = false;
  std::vector<IpAddress> monitors;  // read-only ENRP clients (hsdump)
  std::optional<std::size_t> max_associations, max_associations_per_address, pe_reserved_associations;
  std::optional<std::uint32_t> client_idle_ms;
  std::optional<std::size_t> max_enrp_associations, max_monitors;
  std::optional<QueueLimits> send_queue_asap, send_queue_enrp;
  TimerProfile timer_profile = TimerProfile::rfc;
  bool aggressive_transport = false;
  // SCTP parameters one by one, over the transport profile.
  rserpool::ops::SctpOverrides sctp;
  std::map<TimerName, std::uint32_t> timers_ms;
  std::optional<std::uint32_t> max_bad_pe_reports;
  std::optional<RateLimit> resolution_rate, registration_rate, unreachable_rate;
  std::optional<std::size_t> max_pes_per_association;
  std::optional<std::uint32_t> max_resolution_items;
  std::optional<bool> check_pe_addresses;
  MentorMode mentor_mode = MentorMode::first_peer;
  std::optional<TransportAddress> mentor;  // with MentorMode::address
  std::optional<std::uint32_t> mentor_wait_ms;
  std::optional<TransportAddress> announce_to;  // ASAP_SERVER_ANNOUNCE target; none: off
  std::optional<std::uint32_t> announce_interval_ms;
  std::optional<IpAddress> announce_interface;
  std::optional<std::uint16_t> metrics_port;  // Prometheus GET /metrics on 127.0.0.1
  std::map<std::string, std::string> log_levels;
};

// Declares `registrar` and its commands; handlers fill `config` (on the VTY
// thread). Log levels given at run time apply at once; everything else is
// read at start-up (and saved by `write file`).
void declare_config_commands(ops::Vty& vty, DaemonConfig& config);
// The `registrar` node as `write file` renders it.
std::string render(const DaemonConfig& config);
// Checks that need the whole configuration; empty when fine.
std::string validate(const DaemonConfig& config);
ServerConfig to_server_config(const DaemonConfig& config, ServerIdentifier id);

}  // namespace rserpool::registrar::daemon
