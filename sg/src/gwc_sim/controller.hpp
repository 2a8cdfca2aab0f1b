#pragma once
// The gateway controller's M3UA side on Boost.Asio: a listener on the user
// transport it registers, one responding IPSP (gwc_link::pool_element_side)
// per SG association, the call model answering what arrives, and the ASAP
// control channel beside M3UA on the same association: ASAP_COOKIE (the
// call table) after every change when cookies are on, ASAP_COOKIE_ECHO from
// the SG after a failover (the calls of the failed peer are adopted).
//
// Fencing, the controller's half: when the SG cuts an association off
// because this controller was stopped longer than its failure detection,
// the calls that association carried have an heir at the SG: they are given
// up unanswered, so that a controller that resumes cannot answer them a
// second time. An abnormal loss is taken as such a fence only right after a
// stall of our own (GwcCallModel::association_lost); otherwise the SG died
// or restarts, and its calls stay here: its mate, or its next run, routes
// them to us by the same placement. A graceful close keeps them too.
//
// What the controller sends towards the SS7 side while no SG association is
// active (between an SG's death and its restart, or its mate's takeover)
// waits, in order, bounded in number and age, and leaves on the first
// association that becomes active; nothing overtakes what a dying SG
// association may still give back (sim::SgOutbox).
#include <boost/asio/io_context.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>

#include "mxua/driver/association_driver.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/base/time.hpp"
#include "rserpool/transport/deadline_timer.hpp"
#include "rserpool/transport/endpoint.hpp"
#include "sg/sim/gwc_call_model.hpp"
#include "sg/sim/sg_outbox.hpp"

namespace sg::gwcsim {

struct ControllerConfig {
  rserpool::transport::EndpointConfig listen;
  sim::GwcConfig calls;
  bool cookies = false;
  // Options::self_fence: false: an abnormal loss keeps the calls whatever
  // our own stalls (the model is told it was not abnormal).
  bool self_fence = true;
  const rserpool::Clock* clock = nullptr;  // default: the process's steady clock
  // Every ISUP/SCCP message's fate here: "in" (from association `link`),
  // "out" (sent on `link`), "held" (no active SG association: waits),
  // "handed-back" (a lost association did not deliver it: sent again),
  // "refused" (a dying association refused it at once: sent at its end),
  // "unknown" (an "in" that found no call here),
  // "expired" (waited too long or too many waited: dropped).
  // "changeover" (its call's last message went through an SG association
  // that then failed: it waits `outbox.changeover.hold`, sim::ChangeoverHold).
  std::function<void(std::string_view what, std::uint64_t link, const MtpMessage& m)> trace;
  sim::OutboxConfig outbox{};
};

struct ControllerCounters {
  std::uint64_t messages_in = 0;   // DATA from the SG
  std::uint64_t messages_out = 0;  // DATA to the SG
  std::uint64_t send_failed = 0;   // no association to answer on, or refused
  std::uint64_t cookies_sent = 0;
  std::uint64_t cookie_echoes = 0;
  std::uint64_t cookies_rejected = 0;
  std::uint64_t control_errors = 0;  // undecodable or unexpected ASAP on the data association
  std::uint64_t associations = 0;    // accepted in total
  std::uint64_t calls_given_up = 0;  // carried by an association the SG cut off
  std::uint64_t calls_kept = 0;      // carried by an association whose SG died: kept for its mate or next run
  std::uint64_t held_for_sg = 0;     // sent while no SG association was active: waited for one
  std::uint64_t held_expired = 0;    // ... and expired (or overflowed) before one came
  std::uint64_t handed_back = 0;     // not delivered by a lost SG association: re-sent through another
  std::uint64_t changeover_held = 0;  // waited for the changeover hold (their call's SG association failed)
};

class GatewayController {
 public:
  static rserpool::Result<std::unique_ptr<GatewayController>, std::error_code> open(boost::asio::io_context& io,
                                                                                    ControllerConfig cfg);
  GatewayController(boost::asio::io_context& io, ControllerConfig cfg);
  ~GatewayController();
  GatewayController(const GatewayController&) = delete;
  GatewayController& operator=(const GatewayController&) = delete;

  std::uint16_t port() const noexcept { return listener_->port(); }
  rserpool::transport::TransportKind kind() const noexcept { return listener_->kind(); }
  const sim::GwcCallModel& calls() const noexcept { return model_; }
  const ControllerCounters& counters() const noexcept { return counters_; }
  std::size_t associations_up() const;

  // Called after the call table changed (load reporting).
  void on_calls_changed(std::function<void()> cb) { changed_ = std::move(cb); }
  // Stops accepting and closes every association gracefully.
  void close();

 private:
  class Link;
  friend class Link;
  using LinkId = std::uint64_t;

  void accepted(LinkId id);
  void data(LinkId id, const mxua::Data& d);
  void control(LinkId id, rserpool::transport::Message&& m);
  void link_down(LinkId id, rserpool::transport::DownReason reason);
  void send(LinkId id, const MtpMessage& m);
  // Executes the outbox's steps (sends, and the trace of what waits).
  void run(sim::SgOutbox::Steps& steps);
  void send_now(LinkId id, const MtpMessage& m);
  // An SG association became active: what waited goes first, in order.
  void link_active(LinkId id);
  // The transport of a lost association gave back what it did not deliver.
  void handed_back(LinkId id, std::vector<mxua::Data>&& unsent);
  LinkId reply_link() const;
  void schedule_answers();
  void answers_due();
  // Arms the changeover timer for the outbox's next deadline.
  void schedule_outbox();
  void outbox_due();
  void table_changed();
  void send_cookie();

  boost::asio::io_context& io_;
  ControllerConfig cfg_;
  std::shared_ptr<rserpool::transport::Listener> listener_;
  std::map<LinkId, std::unique_ptr<Link>> links_;
  LinkId next_link_ = 1;
  LinkId last_link_ = 0;  // the association the SG used last: answers go back on it
  sim::GwcCallModel model_;
  const rserpool::Clock& clock_;
  rserpool::transport::DeadlineTimer answer_timer_;  // the call model's next_deadline()
  std::function<void()> changed_;
  ControllerCounters counters_;
  sim::SgOutbox outbox_;  // towards the SS7 side: which association, or wait
  rserpool::transport::DeadlineTimer outbox_timer_;  // the outbox's next_deadline()
  LinkId sending_on_ = 0;  // send_now() is in the driver's send on it
  bool refused_now_ = false;  // ... which refused the message at once
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sg::gwcsim
