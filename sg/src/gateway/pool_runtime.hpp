#pragma once
// The executor of one configured pool: its PoolDistributor (sans-I/O: every
// decision about membership, failover, fencing, suspicion and retries is
// there) driven on the io_context, the links to its pool elements, and one
// OS timer armed at the distributor's next_deadline(). It turns the pool
// user service's PE lists and the links' events into distributor events,
// and the distributor's actions into link operations, hook calls and log
// lines. Rendering (CLI text, metric samples) is in pool_text.cpp and
// pool_metrics.cpp.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pe_link.hpp"
#include "rserpool/base/time.hpp"
#include "rserpool/transport/config.hpp"
#include "rserpool/transport/deadline_timer.hpp"
#include "sg/gateway/counters.hpp"
#include "sg/routing/pool_member_selector.hpp"
#include "sg/routing/pool_distributor.hpp"

namespace sg::gateway {

// How links to PEs are set up.
struct LinkProfile {
  rserpool::transport::SctpOptions sctp;
  rserpool::transport::TcpMappingOptions tcp;
  std::optional<std::chrono::milliseconds> t_beat;  // M3UA BEAT on PE links
  // Local addresses to bind (empty: any; loopback towards a PE on loopback,
  // so that SCTP does not advertise addresses the PE cannot answer from).
  std::vector<rserpool::IpAddress> local_addresses;
};

struct PoolHooks {
  std::function<void(rserpool::PeIdentifier)> report_unreachable;
  std::function<void(MtpMessage&&)> to_ss7;     // DATA a PE sent
  std::function<void(bool available)> availability;  // DAVA / DUNA
  std::function<void(bool onset)> congestion;        // SCON
  std::function<void()> settled;                     // the start-up settle ended
};

class PoolRuntime {
 public:
  PoolRuntime(boost::asio::io_context& io, const rserpool::Clock& clock, std::string name, DistributorConfig config,
              DistributorProfile profile, LinkProfile links, PoolHooks hooks, GatewayCounters& counters,
              std::uint64_t seed);
  ~PoolRuntime();  // aborts the links
  PoolRuntime(const PoolRuntime&) = delete;
  PoolRuntime& operator=(const PoolRuntime&) = delete;

  // The whole current PE list (pool user service watch()).
  void handlespace(const std::vector<rserpool::PoolElementParameter>& list);
  // The list is the whole pool (PoolDistributor::list_complete): the
  // start-up settle ends now.
  void list_complete();
  void hold_new_calls_until_settled() { distributor_.hold_new_calls_until_settled(); }
  void message(MtpMessage&& m);
  // The relay path: classified once by the caller (same ISUP variant as
  // the distributor's profile), one reused action vector.
  void message(MtpMessage&& m, const ClassifiedMessage& c);
  // New settings typed at run time (pool-wait, drain-deadline, queues).
  void configure(const DistributorConfig& config);
  // Operator drain; deadline nullopt: the pool's drain-deadline.
  rserpool::Result<void, std::string> drain(rserpool::PeIdentifier pe, std::optional<Duration> deadline);
  // Graceful: ASPDN and close on every link. Returns how many were open.
  std::size_t close_links();
  std::size_t open_links() const;

  // --- Inspection (pool_text.cpp, pool_metrics.cpp) ---------------------------
  const std::string& name() const noexcept { return name_; }
  const PoolDistributor& distributor() const noexcept { return distributor_; }
  const PoolMemberSelector& selector() const noexcept { return selector_; }
  std::optional<LinkState> link_state(rserpool::PeIdentifier pe) const;
  // Per PE, across its successive links.
  const std::map<rserpool::PeIdentifier, std::shared_ptr<gwc_link::LinkCounters>>& link_counters() const noexcept {
    return link_counters_;
  }
  std::uint64_t unreachable_reported() const noexcept { return unreachable_reported_; }
  // DATA from links already cut off, dropped there (the distributor counts
  // what reached it from a fenced PE).
  std::uint64_t dropped_after_fence() const noexcept;

 private:
  void run(std::vector<Action>&& actions);
  void connect(rserpool::PeIdentifier pe, const rserpool::TransportParameter& transport);
  void send(rserpool::PeIdentifier pe, MtpMessage&& m);
  void retire(std::shared_ptr<PeLink> link);
  void arm_timer();
  // Logs the start-up settle's end once (where it can end: a new list, a
  // timer, list_complete()), for the start-up phases of a restart.
  void note_settled();
  std::shared_ptr<gwc_link::LinkCounters> counters_of(rserpool::PeIdentifier pe);
  std::string label(rserpool::PeIdentifier pe) const;
  TimePoint now() const { return clock_.now(); }

  boost::asio::io_context& io_;
  const rserpool::Clock& clock_;
  std::string name_;
  LinkProfile profile_;
  PoolHooks hooks_;
  GatewayCounters& gateway_counters_;
  PoolMemberSelector selector_;
  PoolDistributor distributor_;
  std::map<rserpool::PeIdentifier, std::shared_ptr<PeLink>> links_;
  std::vector<std::weak_ptr<PeLink>> retired_;  // closing or fenced, until their association is down
  std::vector<Action> message_scratch_;          // reused by message() (issue 16)
  std::map<rserpool::PeIdentifier, std::shared_ptr<gwc_link::LinkCounters>> link_counters_;
  std::map<rserpool::PeIdentifier, std::string> addresses_;  // where each PE was last connected, for logs
  // Armed at the distributor's next deadline; moves only earlier (issue 16).
  rserpool::transport::DeadlineTimer timer_;
  std::uint64_t unreachable_reported_ = 0;
  bool stopping_ = false;  // close_links(): the gateway is shutting down
  bool settle_noted_ = false;
};

}  // namespace sg::gateway
