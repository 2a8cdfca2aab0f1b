#pragma once
// Binds one transport association to one mxua::Endpoint: association
// up/down and received PPID-3 messages go into the endpoint, its actions go
// to an ActionRunner (shared by every association of an SgpNode, or owned by
// an ASP). Messages with another PPID are counted and dropped. On the TCP
// mapping the endpoint is told of at least 2 outbound streams, so DATA never
// has to use stream 0.
#include <functional>
#include <memory>
#include <string>

#include "mxua/driver/action_runner.hpp"
#include "mxua/fsm/endpoint.hpp"

namespace mxua::driver {

class AssociationDriver : public tr::AssociationHandler, public std::enable_shared_from_this<AssociationDriver> {
 public:
  AssociationDriver(std::shared_ptr<ActionRunner> runner, Endpoint endpoint);
  ~AssociationDriver() override;
  AssociationDriver(const AssociationDriver&) = delete;
  AssociationDriver& operator=(const AssociationDriver&) = delete;
  // An ASP (or IPSP) endpoint with a runner of its own whose timers feed
  // this endpoint. The endpoint gets a process-unique association id;
  // `name` (the peer's name, the PE identifier) prefixes its log lines.
  static std::shared_ptr<AssociationDriver> standalone(boost::asio::io_context& io, Endpoint endpoint,
                                                       Events& events, std::string name = {});

  void on_up(tr::Association& assoc, const tr::AssociationInfo& info) override;
  void on_message(tr::Association& assoc, tr::Message&& msg) override;
  void on_restart(tr::Association& assoc, const tr::AssociationInfo& info) override;
  void on_send_failed(tr::Association& assoc, std::vector<tr::Message>&& unsent) override;
  void on_down(tr::Association& assoc, tr::DownReason reason) override;

  // DATA from the local MTP3 user to the peer (ASP: only while active for
  // the RC; SGP: routed by the node's traffic mode).
  void send_data(const DataView& d);
  // The same, for a caller whose buffer `user_part` holds exactly d's user
  // data and may go with it: the DATA is built in that buffer (no second
  // buffer, no copy: ActionRunner::run(actions, user_part)), which is then
  // left empty; left as it was when the core did not send it (a Drop) or
  // sent it more than once.
  void send_data(const DataView& d, Bytes& user_part);
  // Runs any endpoint request (activate, register, ...) through the runner:
  // driver.request([&](Endpoint& e, TimePoint now) { return e.requesting()->shutdown(now); });
  void request(const std::function<Actions(Endpoint&, TimePoint)>& fn);

  // Messages with a PPID other than M3UA's go here instead of being dropped:
  // an RSerPool pool user and element multiplex the ASAP control channel
  // (PPID 11: cookies, business cards) on the same association.
  using OtherPpidHandler = std::function<void(tr::Message&&)>;
  void set_other_ppid_handler(OtherPpidHandler h) { other_ppid_ = std::move(h); }
  // How log lines name the peer (configured peer name, PE identifier);
  // the peer's address is added once the association is up.
  void set_name(std::string name) { name_ = std::move(name); }
  const std::string& name() const noexcept { return name_; }
  // "assoc 12 (stp-a 192.0.2.1:2905)"
  std::string label() const;
  Endpoint& endpoint() noexcept { return endpoint_; }
  AssocId id() const noexcept { return endpoint_.association(); }
  bool up() const noexcept { return up_; }
  std::shared_ptr<tr::Association> association() const { return assoc_.lock(); }
  ActionRunner& runner() noexcept { return *runner_; }
  const DriverCounters& counters() const noexcept { return runner_->counters(); }

 private:
  std::uint16_t streams_for(const tr::AssociationInfo& info) const;
  std::string peer_label() const;
  void refuse(tr::Association& assoc, const tr::AssociationInfo& info, AssociationRefused::Why why);
  void run(Actions& acts) { runner_->run(acts); }

  std::shared_ptr<ActionRunner> runner_;
  Endpoint endpoint_;
  OtherPpidHandler other_ppid_;
  std::weak_ptr<tr::Association> assoc_;
  std::string name_;
  std::string peer_address_;
  bool up_ = false;
  bool refused_ = false;
  bool owns_runner_timers_ = false;  // standalone(): the runner's timers call into this driver
  Actions scratch_;       // reused on the receive path
  Actions send_scratch_;  // reused by send_data
};

}  // namespace mxua::driver
