#pragma once
// Drives a registrar over the wire with raw ASAP: many PEs registered over
// few associations, handle resolutions with a window or a rate, and the
// time until a registrar sees a whole handlespace. No sans-I/O PE per PE:
// one table of PE identifiers keeps the generator far cheaper than the
// registrar it measures. Answers ENDPOINT_KEEP_ALIVE for every PE, since
// registrars drop PEs that stay silent.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "latency.hpp"
#include "options.hpp"
#include "rserpool/transport/association.hpp"
#include "rserpool/wire/asap.hpp"

namespace rserpool::loadgen {

using Clock = std::chrono::steady_clock;

struct Report {
  std::size_t registered = 0;
  std::size_t registration_failures = 0;
  double registration_s = 0;
  LatencySamples registration_latency;
  std::size_t resolutions = 0;         // positive answers
  std::size_t resolution_failures = 0;  // negative answers and lost requests
  std::size_t resolved_pes = 0;         // PE entries in all answers
  double resolution_s = 0;
  LatencySamples resolution_latency;
  std::size_t keep_alives_answered = 0;
  std::size_t deregistered = 0;
  std::optional<double> converge_ms;   // set when --converge was reached
  std::size_t converge_visible = 0;    // PEs visible at the last sweep
  std::map<std::string, std::size_t> errors;  // by cause
  bool ok = true;
};

class LoadGenerator {
 public:
  LoadGenerator(boost::asio::io_context& io, Options options);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Runs every phase to the end (io.run() inside); the report stays valid.
  Report& run();

  // Called by the association handlers.
  void on_link_up(std::size_t link, const transport::AssociationInfo& info);
  void on_link_message(std::size_t link, transport::Message&& msg);
  void on_link_down(std::size_t link, transport::DownReason reason);

 private:
  enum class Phase { connecting, registering, resolving, converging, holding, deregistering, closing, done };
  enum class PeState : std::uint8_t { idle, pending, registered, rejected, deregistering, deregistered };
  struct Pe {
    PeIdentifier id = 0;
    std::uint32_t pool = 0;
    std::uint32_t link = 0;
    PeState state = PeState::idle;
    Clock::time_point sent{};
  };
  struct PendingResolution {
    std::uint32_t pool = 0;
    Clock::time_point sent{};
  };
  struct Link;
  struct LinkState {
    TransportAddress target;
    std::shared_ptr<Link> handler;
    std::shared_ptr<transport::Association> assoc;
    bool up = false;
    std::optional<IpAddress> bound;  // first local address, default PE address
    std::deque<PendingResolution> resolutions;
  };

  void connect(std::size_t link);
  void enter(Phase p);
  void pump();
  void arm_pacer();
  void phase_timeout();
  bool send(std::size_t link, const wire::asap::Message& m);
  void send_registration(Pe& pe);
  void send_resolution(std::uint32_t pool, std::uint32_t items);
  void start_sweep();
  void finish();
  void error(const std::string& cause);
  void on_registration_response(const wire::asap::RegistrationResponse& r);
  void on_deregistration_response(const wire::asap::DeregistrationResponse& r);
  void on_resolution_response(std::size_t link, const wire::asap::HandleResolutionResponse& r);
  void on_keep_alive(std::size_t link, const wire::asap::EndpointKeepAlive& k);
  std::size_t resolver_link() const noexcept { return links_.size() - 1; }
  bool wants_resolver() const noexcept;
  void print_phase(const char* what);

  boost::asio::io_context& io_;
  Options o_;
  Report report_;
  std::vector<LinkState> links_;
  std::vector<PoolHandle> pool_handles_;
  std::vector<Pe> pes_;
  std::unordered_map<PeIdentifier, std::size_t> pe_index_;
  Phase phase_ = Phase::connecting;
  Clock::time_point phase_start_{};
  Clock::time_point run_start_{};
  std::size_t next_ = 0;          // next PE (or resolution) to send in this phase
  std::size_t sent_in_phase_ = 0;
  std::size_t outstanding_ = 0;
  std::size_t answered_ = 0;
  std::uint32_t resolve_pool_ = 0;
  // converge sweeps
  std::vector<std::size_t> visible_;
  std::size_t sweep_answers_ = 0;
  boost::asio::steady_timer pacer_;
  boost::asio::steady_timer deadline_;
  boost::asio::steady_timer retry_;
  boost::asio::signal_set signals_;
  bool pacer_armed_ = false;
};

}  // namespace rserpool::loadgen
