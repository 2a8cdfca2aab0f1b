#pragma once
// ENRP server hunt (RFC 5352 3.6, SH1-SH6) over a configured registrar list
// (plus registrars learned from ASAP_SERVER_ANNOUNCE), sans-I/O. Shared by
// PoolElement and PoolUser, which own it and fold its timers into theirs.
//
// SH1: at most three connection attempts run at once (MUST NOT exceed 3).
// SH2/SH5: T5 starts at its initial value, doubles on each expiry up to
// RETRAN-MAX, and each expiry aborts what is pending and starts a new round.
// SH3: the first registrar up becomes home (SH6), T5 is reset, the other
// attempts are aborted.
// SH4: a failed attempt is replaced by one to an address not yet tried in
// this sweep. When every address of a sweep has failed (a registrar that
// restarts refuses at once), the next sweep starts after a back-off instead
// of idling until T5: `retry_initial` (20 ms), doubled each sweep up to
// `retry_max` (200 ms; never beyond the running T5), each delay drawn from
// [0.9 d, d] with the owner's seeded generator so that endpoints that lost
// one registrar together do not come back in step. A registrar that
// returns after a silence of s is tried again within min(1.1 s, retry_max)
// + 20 ms. The back-off is reset only when a registrar comes up.
// Why a cap: doubling alone makes the wait after a return grow with the
// outage (a registrar co-located with a gateway that restarts in 1 s was
// found only 1.1-1.3 s after its return when its start fell just after a
// sweep). A sweep only starts when every attempt of the last one was
// refused at once (the host is up, the process is not), so the cap costs
// one INIT and its ABORT per address every retry_max; a silent host keeps
// its attempts pending and is governed by T5 alone.
#include <cstddef>
#include <optional>
#include <vector>

#include "rserpool/asap/actions.hpp"
#include "rserpool/base/ip_address.hpp"
#include "rserpool/base/timer_set.hpp"
#include "rserpool/core/random.hpp"

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
  // First back-off between sweeps whose attempts all failed (SH4); doubles
  // per sweep up to the running T5. Zero disables the sweeps (one sweep per
  // T5 round, the RFC's minimum).
  Duration retry_initial = std::chrono::milliseconds(20);
  // The longest back-off between refused sweeps (the running T5 caps it
  // too): a registrar that restarts is found within this of its return.
  Duration retry_max = std::chrono::milliseconds(200);
};

class RegistrarHunt {
 public:
  // `rng` is the owner's seeded generator (jitter of the back-off); it must
  // outlive the hunt.
  RegistrarHunt(HuntConfig config, core::Random& rng);

  std::optional<AssocId> home() const noexcept { return home_; }
  ServerIdentifier home_server_id() const noexcept { return home_server_id_; }
  bool hunting() const noexcept { return hunting_; }
  Duration current_t5() const noexcept { return t5_; }
  // The nominal back-off of the next sweep (before jitter).
  Duration current_retry() const noexcept { return retry_; }
  std::size_t pending_attempts() const noexcept { return connecting_.size(); }
  const TimerSet<Timer>& timers() const noexcept { return timers_; }

  std::optional<TimePoint> next_deadline() const { return timers_.next_deadline(); }
  // Handles the hunt timers due at `now` (T5, the sweep back-off, T7).
  // Returns true when a T5 round ended without any registrar up (the
  // caller may report "no registrar"); the hunt goes on.
  bool on_timeout(TimePoint now, Actions& out);

  // Starts a hunt unless there is a home or a hunt is running.
  void start(TimePoint now, Actions& out);

  // Each returns true when `assoc` just became the home registrar.
  bool on_connected(AssocId assoc, TimePoint now, Actions& out);
  void on_connect_failed(AssocId assoc, TimePoint now, Actions& out);
  // The association closed. Returns true if it was the home (a new hunt has
  // been started).
  bool on_lost(AssocId assoc, TimePoint now, Actions& out);

  // T1 expired (RFC 5352 3.3): keep using the home but look for another
  // registrar in parallel; the first one up replaces the home (the old home
  // association is closed). One round only: if T5 expires first, the
  // attempts are dropped and the home stays.
  void start_alternative(TimePoint now, Actions& out);

  // An announce heard from `source`: add its SCTP addresses to the list or
  // restart their T7; a running hunt tries the new ones at once.
  void on_server_announce(const wire::asap::ServerAnnounce& a, const IpAddress& source, TimePoint now,
                          Actions& out);
  std::size_t known_registrars() const noexcept;

  // The home did not answer (T2/T3 timeout): drop it and hunt again.
  void abandon_home(TimePoint now, Actions& out);
  // H bit: the registrar on `assoc` takes over as home. Returns true when
  // this changed the home.
  bool adopt(AssocId assoc, ServerIdentifier server_id, Actions& out);

 private:
  void fill_attempts(Actions& out);
  bool is_connecting(AssocId a) const noexcept;
  // SH4 with nothing left to try in this sweep: schedule the next one.
  void schedule_sweep(TimePoint now);
  void found();  // SH3: stop T5 and the back-off, reset both
  void on_t5_expiry(TimePoint now, Actions& out, bool& round_failed);
  void on_t7_expiry(AssocId assoc);
  void learn(const TransportAddress& address, TimePoint now, Actions& out);

  HuntConfig config_;
  core::Random& rng_;
  TimerSet<Timer> timers_;
  std::size_t configured_ = 0;           // registrars [0, configured_) never expire
  std::vector<bool> outdated_;           // per registrar: T7 expired
  std::optional<AssocId> home_;
  ServerIdentifier home_server_id_ = 0;
  bool hunting_ = false;
  Duration t5_;
  Duration retry_;
  std::vector<AssocId> connecting_;
  std::vector<AssocId> tried_this_sweep_;
  std::size_t cursor_ = 0;  // next registrar to try; rotates so rounds differ
};

}  // namespace rserpool::asap
