#pragma once
// A client ASP on the network: connects to an SGP, sends ASPUP, then either
// the configured ASPACs (routing contexts and traffic mode) or, with
// `registrations`, one REG REQ and an ASPAC for every RC the SGP assigns
// (RKM, RFC 4666 4.4.1). When the association fails it reconnects with
// exponential backoff (reset once the ASP is ACTIVE again) and starts over.
// A refused ASPUP/ASPAC is retried by the ASP core itself (asp_client.hpp).
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <vector>

#include "mxua/driver/association_driver.hpp"
#include "rserpool/transport/endpoint.hpp"

namespace mxua::driver {

struct AspConnectionConfig {
  tr::EndpointConfig transport;  // remote addresses / port / kind / SCTP options
  AspClientConfig asp;           // ASP Id, activations (RC + traffic mode), T(ack), T(beat)
  std::vector<RoutingKey> registrations;  // non-empty: REG REQ first, then ASPAC per assigned RC
  Millis reconnect_initial{100};
  Millis reconnect_max{5000};
  bool reconnect = true;
  // Without transport.local_addresses, bind the source address the routing
  // table picks towards the first remote address, so the INIT lists that
  // one address rather than every address of the host (an SGP that trusts
  // a peer only when all the association's addresses are the peer's, as
  // ours does, then recognizes it). Configure local addresses for
  // multi-homing.
  bool bind_routed_source = true;
};

class AspConnection : public Events, public std::enable_shared_from_this<AspConnection> {
  struct Key {};  // construction only through create()

 public:
  static std::shared_ptr<AspConnection> create(boost::asio::io_context& io, AspConnectionConfig cfg,
                                               Events& user);
  AspConnection(Key, boost::asio::io_context& io, AspConnectionConfig cfg, Events& user);
  ~AspConnection() override;

  // Connects now; reconnects by itself afterwards until stop().
  void start();
  // Stops reconnecting and aborts the association.
  void stop();

  // DATA towards the SGP on the SLS's stream; false (and a Drop) when the
  // ASP is not ACTIVE for the DATA's RC.
  bool send_data(const DataView& d);
  // The same, built in the caller's buffer that holds exactly d's user data
  // (AssociationDriver::send_data(d, user_part)): left empty when taken.
  bool send_data(const DataView& d, Bytes& user_part);
  // Any other request (ASPIA, ASPDN, DAUD, ...) through the driver.
  void request(const std::function<Actions(AspClient&, TimePoint)>& fn);

  AspState state() const;
  bool active_for(std::optional<std::uint32_t> rc) const;
  // RCs the SGP assigned through RKM on the current association.
  const std::vector<std::uint32_t>& registered_contexts() const noexcept { return registered_; }
  AspClient& client() { return *driver_->endpoint().requesting(); }
  const DriverCounters& counters() const noexcept { return driver_->counters(); }
  std::uint64_t connects() const noexcept { return connects_; }
  std::shared_ptr<tr::Association> association() const { return driver_->association(); }
  AssocId id() const noexcept { return driver_->id(); }

  // Events from the driver: state handled here, then forwarded to the user.
  void on_association_up(AssocId a, const tr::AssociationInfo& i) override;
  void on_association_down(AssocId a, tr::DownReason r) override;
  void on_data(DataIndication&& d) override { user_.on_data(std::move(d)); }
  bool keeps_frames() const override { return user_.keeps_frames(); }
  void on_asp_state(const AspStateChanged& c) override;
  void on_as_state(const AsStateChanged& c) override { user_.on_as_state(c); }
  void on_ntfy(const NtfyIndication& n) override { user_.on_ntfy(n); }
  void on_err(const ErrIndication& e) override { user_.on_err(e); }
  void on_destination_state(const DestinationStateChanged& d) override { user_.on_destination_state(d); }
  void on_registration(const RegistrationIndication& r) override;
  void on_deregistration(const DeregistrationIndication& r) override { user_.on_deregistration(r); }
  void on_request_failed(const RequestFailed& r) override { user_.on_request_failed(r); }
  void on_drop(const Drop& d) override { user_.on_drop(d); }
  void on_send_failed(AssocId a, std::vector<Data>&& unsent) override { user_.on_send_failed(a, std::move(unsent)); }

 private:
  void connect();
  void schedule_reconnect();
  std::string remote_text() const;

  boost::asio::io_context& io_;
  AspConnectionConfig cfg_;
  Events& user_;
  std::shared_ptr<AssociationDriver> driver_;
  boost::asio::steady_timer retry_;
  Millis backoff_;
  bool running_ = false;
  std::uint64_t connects_ = 0;
  std::vector<std::uint32_t> registered_;
  Actions scratch_;
};

}  // namespace mxua::driver
