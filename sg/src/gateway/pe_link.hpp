#pragma once
// The executor of one gwc_link::Link (sg/gwc_link/link.hpp): the transport
// association to a gateway controller, the M3UA IPSP driver on it (mxua),
// the ASAP control channel beside it, and one OS timer for the link's
// timers. Every decision (when the link is up, when it failed, what is
// handed back, what a fenced link may still deliver, cookie before data)
// is the core's; this class feeds it events, performs its actions and
// writes the log lines, each naming the PE and its address.
//
// Lifetime: the transport association holds the M3UA driver, which refers
// to this object; the link therefore keeps itself alive until the
// association is down, and detach() silences the hooks when its owner goes
// away first.
#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mxua/driver/association_driver.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/base/time.hpp"
#include "rserpool/transport/config.hpp"
#include "rserpool/transport/deadline_timer.hpp"
#include "rserpool/wire/types.hpp"
#include "sg/gwc_link/link.hpp"
#include "sg/routing/mtp_message.hpp"

namespace sg::gateway {

struct PeLinkHooks {
  std::function<void(rserpool::PeIdentifier)> up;
  // Once per association: it failed; `handed_back` is what to re-send.
  std::function<void(rserpool::PeIdentifier, std::vector<MtpMessage>&& handed_back)> failed;
  // A link we closed or fenced is down; what it did not deliver.
  std::function<void(rserpool::PeIdentifier, std::vector<MtpMessage>&& handed_back)> closed;
  std::function<void(rserpool::PeIdentifier, MtpMessage&&)> data;
  std::function<void(rserpool::PeIdentifier, rserpool::Bytes&&)> cookie;
};

using gwc_link::LinkState;

class PeLink : public mxua::driver::Events, public std::enable_shared_from_this<PeLink> {
  struct Key {};

 public:
  // Starts the association at once; the outcome arrives through the hooks.
  // `label` names the link in every log line ("pool gwc PE 1a2b3c4d at
  // 192.0.2.1:4000/sctp").
  static rserpool::Result<std::shared_ptr<PeLink>, std::string> open(
      boost::asio::io_context& io, const rserpool::Clock& clock, rserpool::PeIdentifier pe, std::string label,
      rserpool::transport::EndpointConfig endpoint, std::optional<std::chrono::milliseconds> t_beat,
      PeLinkHooks hooks, std::shared_ptr<gwc_link::LinkCounters> counters);
  PeLink(Key, boost::asio::io_context& io, const rserpool::Clock& clock, rserpool::PeIdentifier pe,
         std::string label, PeLinkHooks hooks, std::shared_ptr<gwc_link::LinkCounters> counters);
  ~PeLink() override;

  // DATA to the PE (never refused: a link that cannot carry it hands it
  // back through the failure hook).
  void send(MtpMessage&& m);
  // ASAP_COOKIE_ECHO on the same association (PPID 11), before any later
  // DATA on every stream that DATA uses. False when the link is not active.
  bool send_cookie_echo(const rserpool::Bytes& cookie);
  // Graceful: ASPDN, then SCTP SHUTDOWN / TCP close.
  void close();
  // Fencing: abort at once; what it still delivers is dropped.
  void fence();
  // Teardown of the gateway: abort, no hooks afterwards.
  void abort();
  // The owner is gone: no more hooks (the association may still finish).
  void detach() { hooks_ = {}; }

  LinkState state() const noexcept { return core_.state(); }
  bool open_association() const noexcept { return core_.live(); }
  rserpool::PeIdentifier pe() const noexcept { return pe_; }
  const std::string& label() const noexcept { return label_; }

  // mxua::driver::Events
  void on_association_up(mxua::AssocId a, const rserpool::transport::AssociationInfo& i) override;
  void on_association_down(mxua::AssocId a, rserpool::transport::DownReason r) override;
  void on_data(mxua::DataIndication&& d) override;
  // DATA stays in the frame it came in (MtpMessage::at): sent on re-headed
  // in the same bytes (issue 16).
  bool keeps_frames() const override { return true; }
  void on_asp_state(const mxua::AspStateChanged& c) override;
  void on_send_failed(mxua::AssocId a, std::vector<mxua::Data>&& unsent) override;
  void on_request_failed(const mxua::RequestFailed& r) override;
  void on_drop(const mxua::Drop& d) override;

 private:
  void execute(gwc_link::Actions& actions);
  // A SendData: to M3UA, built in m's buffer; a refusal goes to the core.
  void send_data(MtpMessage& m);
  void arm_timer() {
    timer_.arm(core_.next_deadline());
    armed_for_ = timer_.armed();
  }
  void on_timer();
  std::uint16_t outbound_streams();

  boost::asio::io_context& io_;
  const rserpool::Clock& clock_;
  rserpool::PeIdentifier pe_;
  std::string label_;
  PeLinkHooks hooks_;
  gwc_link::Link core_;
  std::shared_ptr<mxua::driver::AssociationDriver> driver_;
  std::shared_ptr<rserpool::transport::Association> assoc_;
  std::shared_ptr<PeLink> self_;  // alive while the association is
  // Armed at the link core's next deadline; moves only earlier (issue 16).
  rserpool::transport::DeadlineTimer timer_;
  // The instant the timer was last armed for: one that fires far past it
  // tells of a process (or host) that did not run, which the controller may
  // have taken for a dead gateway (issue 13); said before the failures it
  // causes.
  std::optional<rserpool::TimePoint> armed_for_;
  // Set while our DATA is inside the M3UA driver: a drop it reports then is
  // a refusal of that DATA.
  bool sending_ = false;
  std::optional<mxua::DropReason> refused_;
  gwc_link::Actions scratch_;  // reused on the data paths
};

}  // namespace sg::gateway
