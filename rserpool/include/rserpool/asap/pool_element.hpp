#pragma once
// Pool element side of ASAP (RFC 5352 3.1-3.4, 3.6), sans-I/O.
//
// Service primitives: register_pe() (REGISTER), deregister() (DEREGISTER),
// update_policy() (re-registration with the same PE identifier, e.g. a new
// load for the least-used family). Events: registrar association up / failed
// / lost, decoded ASAP messages from a registrar, timer expiries. Every
// outcome of a registration ends in one RegistrationResult notification.
//
// Timers (its own TimerSet; next_deadline() / on_timeout(now)):
// T2-registration per attempt (MAX-REG-ATTEMPT attempts, a server hunt
// between them), T3-deregistration, T4-reregistration = min(10 min, life -
// 20 s) unless configured; T5, the hunt's sweep back-off and T7 through the
// hunt.
#include <optional>

#include "rserpool/asap/actions.hpp"
#include "rserpool/asap/registrar_hunt.hpp"
#include "rserpool/base/timer_set.hpp"
#include "rserpool/core/random.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool::asap {

struct PoolElementConfig {
  PoolHandle pool;
  PeIdentifier pe_id = 0;  // chosen by the owner (random, RFC 4086); kept for life
  TransportParameter user_transport;
  PolicyParameters policy;
  std::int32_t registration_life_ms = 30'000;  // kInfiniteLifetime allowed
  HuntConfig hunt;
  Duration t2_registration = std::chrono::seconds(30);
  Duration t3_deregistration = std::chrono::seconds(30);
  unsigned max_reg_attempt = 2;
  // T4 = min(reregistration_cap, life - reregistration_margin), or this
  // value when set.
  std::optional<Duration> reregistration_interval;
  Duration reregistration_cap = std::chrono::minutes(10);
  Duration reregistration_margin = std::chrono::seconds(20);
  // A registrar that makes itself home with the H bit on another
  // association (ENRP takeover, RFC 5353 3.9) gets a registration at once,
  // so it learns our current Home-ENRP-Id and owns us on that association;
  // otherwise the next T4 re-registration goes there.
  bool reregister_on_takeover = true;
  // Seed of the core's generator (the hunt's back-off jitter). 0: derived
  // from pe_id, which the owner draws at random, so PEs restarted together
  // still spread their reconnections.
  std::uint64_t seed = 0;
};

class PoolElement {
 public:
  enum class State : std::uint8_t { idle, registering, registered, deregistering };

  explicit PoolElement(PoolElementConfig config);

  State state() const noexcept { return state_; }
  PeIdentifier pe_id() const noexcept { return config_.pe_id; }
  const PolicyParameters& policy() const noexcept { return config_.policy; }
  const RegistrarHunt& hunt() const noexcept { return hunt_; }
  const TimerSet<Timer>& timers() const noexcept { return timers_; }
  // Unsolicited DEREGISTRATION_RESPONSEs from the home (our lifetime ran out
  // there), each answered by registering again.
  std::uint64_t dropped_by_registrar() const noexcept { return dropped_by_registrar_; }
  // The T4 interval this configuration yields.
  Duration reregistration_interval() const noexcept;

  // Service primitives.
  void register_pe(TimePoint now, Actions& out);
  void deregister(TimePoint now, Actions& out);
  // New policy values; re-registers at once when registered or registering.
  void update_policy(const PolicyParameters& policy, TimePoint now, Actions& out);

  // Registrar associations.
  void on_registrar_connected(AssocId assoc, TimePoint now, Actions& out);
  void on_registrar_connect_failed(AssocId assoc, TimePoint now, Actions& out);
  void on_registrar_lost(AssocId assoc, TimePoint now, Actions& out);
  // Returns false when the message was ignored because it is not what a
  // registrar sends a PE (is_registrar_to_pe). Associations a registrar
  // opened to us (AssocId >= kInboundAssocBase) may come from anyone: their
  // keep-alives are answered (and an H bit adopts the sender, RFC 5353
  // 3.9), but responses and ERRORs count only from the association the
  // request went to.
  bool on_registrar_message(AssocId assoc, const wire::asap::Message& m, TimePoint now, Actions& out);
  // Messages a registrar sends to a PE (RFC 5352 table: REGISTRATION_- and
  // DEREGISTRATION_RESPONSE, ENDPOINT_KEEP_ALIVE, ERROR).
  static bool is_registrar_to_pe(const wire::asap::Message& m) noexcept;

  // ASAP_SERVER_ANNOUNCE received (multicast, from `source`): learned
  // registrars join the hunt list for T7-ENRPoutdate.
  void on_server_announce(const wire::asap::ServerAnnounce& a, const IpAddress& source, TimePoint now,
                          Actions& out);

  // The substrate's timer convention: the earliest armed instant (own
  // timers and the hunt's), and what is due at `now`.
  std::optional<TimePoint> next_deadline() const;
  void on_timeout(TimePoint now, Actions& out);

 private:
  enum class Pending : std::uint8_t { none, registration, deregistration };

  wire::asap::Registration registration_message() const;
  void send_registration(TimePoint now, Actions& out);
  void send_deregistration(TimePoint now, Actions& out);
  void send_pending(TimePoint now, Actions& out);
  void on_registration_response(AssocId assoc, const wire::asap::RegistrationResponse& r, TimePoint now,
                                Actions& out);
  void on_deregistration_response(AssocId assoc, const wire::asap::DeregistrationResponse& r, TimePoint now,
                                  Actions& out);
  void on_keep_alive(AssocId assoc, const wire::asap::EndpointKeepAlive& k, TimePoint now, Actions& out);
  void finish_registration(RegistrationCode code, std::vector<OperationErrorCause> causes, TimePoint now,
                           Actions& out);
  void on_timer(const Timer& t, TimePoint now, Actions& out);

  PoolElementConfig config_;
  core::Random rng_;  // before hunt_, which holds a reference to it
  RegistrarHunt hunt_;
  TimerSet<Timer> timers_;  // T2, T3, T4
  State state_ = State::idle;
  Pending pending_ = Pending::none;  // waiting for a home to send this
  bool awaiting_response_ = false;   // T2 or T3 running
  AssocId request_assoc_ = 0;        // where the request in flight went
  bool renewal_ = false;             // current registration is a re-registration
  bool no_registrar_reported_ = false;
  unsigned attempts_ = 0;
  std::uint64_t dropped_by_registrar_ = 0;
};

std::string_view to_string(PoolElement::State s) noexcept;

}  // namespace rserpool::asap
