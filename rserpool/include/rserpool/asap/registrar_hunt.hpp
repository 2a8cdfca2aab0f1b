#pragma once
// ENRP server hunt (RFC 5352 3.6, SH1-SH6) over a configured registrar list
// (no multicast announces in this build). At most three connection attempts
// run at once (SH1: MUST NOT exceed 3); T5 starts at its initial value,
// doubles on each expiry up to RETRAN-MAX, and is reset when a registrar
// comes up. The first registrar up becomes home (SH6); the other pending
// attempts are aborted. Shared by PoolElement and PoolUser.
#include <cstddef>
#include <optional>
#include <vector>

#include "rserpool/asap/actions.hpp"
#include "rserpool/base/ip_address.hpp"

namespace rserpool::asap {

struct HuntConfig {
  std::vector<TransportAddress> registrars;  // entry k is AssocId k
  // ASAP_SERVER_ANNOUNCE (RFC 5352 3.6): learned addresses get the next
  // AssocIds after the configured ones and live for T7 after each announce.
  Duration t7_enrp_outdate = std::chrono::seconds(5);
  std::uint16_t asap_port = 3863;  // announce without transport parameters
  std::size_t max_parallel = 3;               // clamped to 3
  Duration t5_initial = std::chrono::seconds(10);
  Duration retran_max = std::chrono::seconds(60);
};

class RegistrarHunt {
 public:
  explicit RegistrarHunt(HuntConfig config);

  std::optional<AssocId> home() const noexcept { return home_; }
  ServerIdentifier home_server_id() const noexcept { return home_server_id_; }
  bool hunting() const noexcept { return hunting_; }
  Duration current_t5() const noexcept { return t5_; }
  std::size_t pending_attempts() const noexcept { return connecting_.size(); }

  // Starts a hunt unless there is a home or a hunt is running.
  void start(Actions& out);

  // Each returns true when `assoc` just became the home registrar.
  bool on_connected(AssocId assoc, Actions& out);
  void on_connect_failed(AssocId assoc, Actions& out);
  // Returns true when T5 expired in a round that had no registrar up (the
  // caller may report "no registrar"); a new round has been started.
  bool on_t5_expiry(Actions& out);
  // The association closed. Returns true if it was the home (a new hunt has
  // been started).
  bool on_lost(AssocId assoc, Actions& out);

  // T1 expired (RFC 5352 3.3): keep using the home but look for another
  // registrar in parallel; the first one up replaces the home (the old home
  // association is closed). One round only: if T5 expires first, the
  // attempts are dropped and the home stays.
  void start_alternative(Actions& out);

  // An announce heard from `source`: add its SCTP addresses to the list or
  // restart their T7; a running hunt tries the new ones at once.
  void on_server_announce(const wire::asap::ServerAnnounce& a, const IpAddress& source, Actions& out);
  // T7 expired for a learned registrar: it is no longer tried.
  void on_t7_expiry(AssocId assoc);
  std::size_t known_registrars() const noexcept;

  // The home did not answer (T2/T3 timeout): drop it and hunt again.
  void abandon_home(Actions& out);
  // H bit: the registrar on `assoc` takes over as home. Returns true when
  // this changed the home.
  bool adopt(AssocId assoc, ServerIdentifier server_id, Actions& out);

 private:
  void fill_attempts(Actions& out);
  bool is_connecting(AssocId a) const noexcept;

  void learn(const TransportAddress& address, Actions& out);

  HuntConfig config_;
  std::size_t configured_ = 0;           // registrars [0, configured_) never expire
  std::vector<bool> outdated_;           // per registrar: T7 expired
  std::optional<AssocId> home_;
  ServerIdentifier home_server_id_ = 0;
  bool hunting_ = false;
  Duration t5_;
  std::vector<AssocId> connecting_;
  std::vector<AssocId> tried_this_round_;
  std::size_t cursor_ = 0;  // next registrar to try; rotates so rounds differ
};

}  // namespace rserpool::asap
