#pragma once
// Pool user side of ASAP (RFC 5352 3.3, 3.5, 3.6, 7.2), sans-I/O.
//
// GET_PRIMARY_SERVER(pool): a PE picked by the pool's overall policy
// (core::PoolUserSelector) from the cache. A fresh entry answers at once; a
// stale one answers at once *and* sends a new HANDLE_RESOLUTION (C3); a miss
// sends the request and returns nullopt: PoolResolved or ResolutionFailed
// follows, and the caller asks again.
//
// GET_NEXT_SERVER(pool): reports the server the previous call returned as
// failed (ENDPOINT_UNREACHABLE, at most once per failure event) and returns
// the next one, skipping failed PEs. A failed PE is skipped until
// stale_cache has passed since its failure (or it leaves the list); after
// that a new failure is a new event and is reported again.
//
// Subscriptions (S bit, optional): an accepted subscription keeps the entry
// fresh while the home association lives; pushed lists replace the entry
// (PoolUpdated). After a home change the subscriptions are renewed at the
// new home.
//
// T1-ENRPrequest runs per outstanding request; each expiry re-sends to the
// home and starts a server hunt in parallel (the first other registrar up
// becomes home and gets the requests); after MAX-REQUEST-RETRANSMIT resends
// the request is dropped with ResolutionFailed{timeout}.
//
// watch(pool): keeps a pool resolved for an application that follows its
// membership: re-resolved a little before the entry goes stale (unless a
// subscription keeps it fresh).
//
// Timers (own TimerSet plus the hunt's): next_deadline() / on_timeout(now).
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "rserpool/asap/actions.hpp"
#include "rserpool/asap/registrar_hunt.hpp"
#include "rserpool/base/timer_set.hpp"
#include "rserpool/core/pool_user_selection.hpp"
#include "rserpool/core/random.hpp"

namespace rserpool::asap {

struct PoolUserConfig {
  HuntConfig hunt;
  // stale_cache_value (RFC 5352 7.2 gives no default).
  Duration stale_cache = std::chrono::seconds(5);
  Duration t1_enrp_request = std::chrono::seconds(15);
  unsigned max_request_retransmit = 2;
  bool subscribe = false;
  std::optional<std::uint32_t> items;  // Handle Resolution Option
  std::uint64_t seed = 1;              // the random policies and the hunt's back-off jitter
};

class PoolUser {
 public:
  explicit PoolUser(PoolUserConfig config);

  const RegistrarHunt& hunt() const noexcept { return hunt_; }
  const TimerSet<Timer>& timers() const noexcept { return timers_; }
  Duration stale_cache() const noexcept { return config_.stale_cache; }

  // Service primitives.
  std::optional<PoolElementParameter> get_primary_server(const PoolHandle& pool, TimePoint now, Actions& out);
  std::optional<PoolElementParameter> get_next_server(const PoolHandle& pool, TimePoint now, Actions& out);

  // Building blocks for sessions. select() picks by policy, skipping failed
  // PEs and `also_excluded`, and remembers the pick as "current"; it never
  // sends a request (returns nullopt on a miss).
  std::optional<PoolElementParameter> select(const PoolHandle& pool, std::span<const PeIdentifier> also_excluded,
                                             TimePoint now);
  // Marks the PE failed and sends ENDPOINT_UNREACHABLE unless this failure
  // event was already reported.
  void report_failure(const PoolHandle& pool, PeIdentifier pe, TimePoint now, Actions& out);
  // Sends a HANDLE_RESOLUTION unless one is outstanding for the pool.
  void resolve(const PoolHandle& pool, TimePoint now, Actions& out);
  // Keeps `pool` resolved: resolves it now unless fresh, then again every
  // refresh_period() unless subscribed. unwatch() stops that (the cache
  // entry stays).
  void watch(const PoolHandle& pool, TimePoint now, Actions& out);
  void unwatch(const PoolHandle& pool);
  bool is_watched(const PoolHandle& pool) const { return watches_.contains(pool); }
  // 0.9 stale_cache (at least 100 ms): a watched pool never answers from a
  // stale entry.
  Duration refresh_period() const noexcept;
  // The cached entry for `pe`, if the pool is cached and lists it.
  std::optional<PoolElementParameter> cached_pe(const PoolHandle& pool, PeIdentifier pe) const;
  // The cached list for `pool` as the registrar sent it (empty when not cached).
  std::vector<PoolElementParameter> cached_list(const PoolHandle& pool) const;
  bool is_cached(const PoolHandle& pool) const;
  bool is_fresh(const PoolHandle& pool, TimePoint now) const;
  bool is_subscribed(const PoolHandle& pool) const;

  // Registrar associations.
  void on_registrar_connected(AssocId assoc, TimePoint now, Actions& out);
  void on_registrar_connect_failed(AssocId assoc, TimePoint now, Actions& out);
  void on_registrar_lost(AssocId assoc, TimePoint now, Actions& out);
  void on_registrar_message(AssocId assoc, const wire::asap::Message& m, TimePoint now, Actions& out);
  // ASAP_SERVER_ANNOUNCE received (multicast, from `source`): learned
  // registrars join the hunt list for T7-ENRPoutdate.
  void on_server_announce(const wire::asap::ServerAnnounce& a, const IpAddress& source, TimePoint now,
                          Actions& out);

  std::optional<TimePoint> next_deadline() const;
  void on_timeout(TimePoint now, Actions& out);

 private:
  struct Failure {
    PeIdentifier pe = 0;
    TimePoint at{};
  };
  struct Entry {
    std::vector<PoolElementParameter> list;
    core::PoolUserSelector selector;
    TimePoint fetched{};
    bool subscribed = false;
    std::optional<PeIdentifier> current;  // last server handed out
    std::vector<Failure> failures;        // reported, skipped until expiry
  };
  struct Request {
    std::uint32_t key = 0;
    unsigned retransmits = 0;
    bool subscribe = false;
    bool sent = false;  // false: waiting for a home registrar
  };

  void send_request(const PoolHandle& pool, Request& r, TimePoint now, Actions& out);
  void on_resolution_response(const wire::asap::HandleResolutionResponse& r, TimePoint now, Actions& out);
  void expire_failures(Entry& e, TimePoint now) const;
  void flush_reports(Actions& out);
  void on_timer(const Timer& t, TimePoint now, Actions& out);

  PoolUserConfig config_;
  core::Random rng_;  // before hunt_, which holds a reference to it
  RegistrarHunt hunt_;
  TimerSet<Timer> timers_;  // T1 per request, cache refresh per watch
  std::map<PoolHandle, std::uint32_t> watches_;  // pool -> cache_refresh key
  std::map<PoolHandle, Entry> cache_;
  std::map<PoolHandle, Request> requests_;
  std::vector<wire::asap::EndpointUnreachable> unsent_reports_;  // waiting for a home
  std::uint32_t next_key_ = 1;
  std::vector<PeIdentifier> scratch_;
};

}  // namespace rserpool::asap
