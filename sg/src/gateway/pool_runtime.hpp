#pragma once
// One configured pool at run time: its PoolDistributor (sans-I/O) driven on
// the io_context, the links to its pool elements, membership from ASAP.
//
// Membership: every watch() list from the pool user service is diffed
// against the previous one into member_added (new PE, or new policy values)
// and member_removed (the PE left the handlespace: drain). A PE whose link
// failed while the registrar still lists it is retried with a backoff, so a
// controller that restarts under the same identifier comes back; a PE the
// operator drained is ignored until the registrar forgets it.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pe_link.hpp"
#include "rserpool/ops/metrics.hpp"
#include "rserpool/transport/config.hpp"
#include "sg/gateway/counters.hpp"
#include "sg/routing/policy_member_selector.hpp"
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
  std::chrono::milliseconds retry_initial{1000};
  std::chrono::milliseconds retry_max{10000};
};

struct PoolHooks {
  std::function<void(rserpool::PeIdentifier)> report_unreachable;
  std::function<void(MtpMessage&&)> to_ss7;     // DATA a PE sent
  std::function<void(bool available)> availability;  // DAVA / DUNA
  std::function<void(bool onset)> congestion;        // SCON
};

class PoolRuntime {
 public:
  PoolRuntime(boost::asio::io_context& io, std::string name, DistributorConfig config, LinkProfile profile,
              PoolHooks hooks, GatewayCounters& counters, std::uint64_t seed);
  ~PoolRuntime();  // aborts the links
  PoolRuntime(const PoolRuntime&) = delete;
  PoolRuntime& operator=(const PoolRuntime&) = delete;

  // The whole current PE list (pool user service watch()).
  void members(const std::vector<rserpool::PoolElementParameter>& list);
  void message(MtpMessage&& m);
  // New settings typed at run time (pool-wait, drain-deadline, queues).
  void configure(const DistributorConfig& config);
  // Operator drain; deadline nullopt: the pool's drain-deadline.
  rserpool::Result<void, std::string> drain(rserpool::PeIdentifier pe, std::optional<Duration> deadline);
  // Graceful: ASPDN and close on every link. Returns how many were open.
  std::size_t close_links();
  std::size_t open_links() const;

  const std::string& name() const noexcept { return name_; }
  const PoolDistributor& distributor() const noexcept { return distributor_; }
  const PolicyMemberSelector& selector() const noexcept { return selector_; }
  std::uint64_t drops(DropReason r) const noexcept;

  // For the CLI (text) and the metrics collector.
  std::string show(bool with_header = true) const;
  std::string show_flows() const;
  void collect(std::vector<rserpool::ops::Sample>& out) const;

 private:
  struct Retry {
    std::unique_ptr<boost::asio::steady_timer> timer;
    std::chrono::milliseconds backoff{0};
  };

  void run(std::vector<Action>&& actions);
  void connect(rserpool::PeIdentifier pe);
  void send(rserpool::PeIdentifier pe, MtpMessage&& m);
  void schedule_retry(rserpool::PeIdentifier pe);
  void arm_timer();
  void link_up(rserpool::PeIdentifier pe);
  void link_failed(rserpool::PeIdentifier pe, std::vector<MtpMessage>&& back, bool first);
  std::shared_ptr<PeLinkCounters> counters_of(rserpool::PeIdentifier pe);
  static TimePoint now() { return Clock::now(); }

  boost::asio::io_context& io_;
  std::string name_;
  LinkProfile profile_;
  PoolHooks hooks_;
  GatewayCounters& gateway_counters_;
  PolicyMemberSelector selector_;
  PoolDistributor distributor_;
  std::map<rserpool::PeIdentifier, rserpool::PoolElementParameter> known_;  // the registrar's view
  std::map<rserpool::PeIdentifier, std::shared_ptr<PeLink>> links_;
  std::vector<std::weak_ptr<PeLink>> closing_;
  std::map<rserpool::PeIdentifier, std::shared_ptr<PeLinkCounters>> link_counters_;
  std::map<rserpool::PeIdentifier, Retry> retries_;
  std::set<rserpool::PeIdentifier> drained_;  // by the operator: ignored while listed
  boost::asio::steady_timer timer_;
  std::optional<TimePoint> armed_for_;
  std::uint64_t unreachable_reported_ = 0;
  TimePoint drop_log_window_{};
  std::uint64_t drops_suppressed_ = 0;
};

}  // namespace sg::gateway
