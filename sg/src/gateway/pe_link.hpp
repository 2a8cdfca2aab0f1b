#pragma once
// The gateway's association to one pool element (gateway controller): M3UA
// IPSP single exchange with the gateway as initiator (gwc_link profile), and
// the ASAP control channel (PPID 11) on the same association for cookies.
//
// The link is "up" for the distributor only once the IPSP is ACTIVE for the
// link's routing context: before that DATA would be refused by M3UA. It is
// "failed" once, at the first of: association down, M3UA leaving ACTIVE,
// BEAT timeout (the driver aborts the association and reports it down).
// DATA the transport handed back before the failure is collected and given
// to the failure hook, so the distributor re-sends it first.
//
// Lifetime: the transport association holds the driver, which refers to
// this object; the link therefore keeps itself alive until the association
// is down, and detach() silences the hooks when its owner goes away first.
#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mxua/driver/association_driver.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/transport/config.hpp"
#include "rserpool/wire/types.hpp"
#include "sg/gateway/counters.hpp"
#include "sg/gwc_link/echo_before_data.hpp"
#include "sg/routing/mtp_message.hpp"

namespace sg::gateway {

struct PeLinkHooks {
  std::function<void(rserpool::PeIdentifier)> up;
  // `handed_back`: DATA accepted by the transport and not delivered, oldest
  // first. Called once per failure; later hand-backs arrive with an empty
  // failure flag (first == false).
  std::function<void(rserpool::PeIdentifier, std::vector<MtpMessage>&& handed_back, bool first)> failed;
  std::function<void(rserpool::PeIdentifier, MtpMessage&&)> data;
  std::function<void(rserpool::PeIdentifier, rserpool::Bytes&&)> cookie;
};

enum class LinkState : std::uint8_t { connecting, m3ua_starting, active, closing, failed };
std::string_view to_string(LinkState s) noexcept;

class PeLink : public mxua::driver::Events, public std::enable_shared_from_this<PeLink> {
  struct Key {};

 public:
  // Starts the association at once; the outcome arrives through the hooks.
  static rserpool::Result<std::shared_ptr<PeLink>, std::string> open(boost::asio::io_context& io,
                                                                    rserpool::PeIdentifier pe,
                                                                    rserpool::transport::EndpointConfig endpoint,
                                                                    std::optional<std::chrono::milliseconds> t_beat,
                                                                    PeLinkHooks hooks, std::shared_ptr<PeLinkCounters> counters);
  PeLink(Key, rserpool::PeIdentifier pe, PeLinkHooks hooks, std::shared_ptr<PeLinkCounters> counters);
  ~PeLink() override;

  // DATA to the PE with the link's routing context; false when refused.
  bool send(const MtpMessage& m);
  // ASAP_COOKIE_ECHO on the same association (PPID 11), before any later
  // DATA on every stream that DATA uses (gwc_link::EchoBeforeData).
  bool send_cookie_echo(const rserpool::Bytes& cookie);
  // Graceful: ASPDN, then SCTP SHUTDOWN / TCP close once it is answered (or
  // after a short grace period). No failure is reported afterwards.
  void close();
  // Immediate, for teardown: no hooks afterwards.
  void abort();
  // The owner is gone: no more hooks (the association may still finish).
  void detach() { hooks_ = {}; }

  LinkState state() const noexcept { return state_; }
  rserpool::PeIdentifier pe() const noexcept { return pe_; }
  std::string remote() const;

  // mxua::driver::Events
  void on_association_up(mxua::AssocId a, const rserpool::transport::AssociationInfo& i) override;
  void on_association_down(mxua::AssocId a, rserpool::transport::DownReason r) override;
  void on_data(mxua::DataIndication&& d) override;
  void on_asp_state(const mxua::AspStateChanged& c) override;
  void on_send_failed(mxua::AssocId a, std::vector<mxua::Data>&& unsent) override;
  void on_request_failed(const mxua::RequestFailed& r) override;
  void on_drop(const mxua::Drop& d) override;

 private:
  void fail(const char* why);
  void on_control(rserpool::transport::Message&& m);
  std::uint16_t outbound_streams();
  void send_control(std::vector<gwc_link::StreamMessage>& messages);

  rserpool::PeIdentifier pe_;
  PeLinkHooks hooks_;
  std::shared_ptr<PeLinkCounters> counters_;
  std::shared_ptr<mxua::driver::AssociationDriver> driver_;
  std::shared_ptr<rserpool::transport::Association> assoc_;
  std::shared_ptr<PeLink> self_;  // alive while the association is
  std::vector<MtpMessage> handed_back_;
  gwc_link::EchoBeforeData echo_;
  std::vector<gwc_link::StreamMessage> control_out_;  // scratch
  std::optional<boost::asio::steady_timer> grace_;
  LinkState state_ = LinkState::connecting;
  bool failure_reported_ = false;
};

}  // namespace sg::gateway
