#pragma once
// Private state of RegistrarServer, shared by the files of the driver:
// registrar_server.cpp (life, the two cores' actions and timers),
// asap_side.cpp (PE and PU associations), enrp_side.cpp (peer
// associations). The driver decides nothing: every protocol decision is the
// Registrar core's or the PeerDirectory's; this executes their actions.
// Association handlers hold a weak pointer to it, so a notification
// arriving after the server is gone is simply ignored.
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "registrar/server.hpp"
#include "rserpool/base/log.hpp"
#include "rserpool/transport/association.hpp"
#include "rserpool/transport/deadline_timer.hpp"
#include "rserpool/transport/endpoint.hpp"
#include "rserpool/transport/udp_endpoint.hpp"

namespace rserpool::registrar {

inline constexpr std::uint32_t kAsapPpid = 11;
inline constexpr std::uint32_t kEnrpPpid = 12;
// Memory an association costs in the transport beyond what it queues (its
// read buffer, about 64 KiB): counts towards giving memory back after a flood.
inline constexpr std::size_t kAssociationFootprint = 64 * 1024;

namespace detail {

struct ServerState : std::enable_shared_from_this<ServerState> {
  ServerState(boost::asio::io_context& io_context, ServerConfig config);

  // --- life and the cores (registrar_server.cpp) ---
  Result<void, std::string> open();
  void stop();
  TimePoint now() const { return clock->now(); }
  void execute(std::vector<Action>&& actions);           // the Registrar core's
  void execute(std::vector<DirectoryAction>&& actions);  // the PeerDirectory's
  // One OS timer per core (transport::DeadlineTimer): moved only earlier,
  // so events that push the cores' deadlines out (a KEEP_ALIVE_ACK, a
  // re-registration) cost no timer call and no clock reading; an expiry
  // runs inside a TurnTime, one clock reading for the core's on_timeout and
  // everything it causes (issue 16).
  void arm_timers();
  void core_expired();
  void directory_expired();
  void notify(const Notify& n);
  void report(const DirectoryEvent& e);
  template <class... Args>
  void limited(spdlog::level::level_enum level, std::string_view cause, spdlog::format_string_t<Args...> format,
               Args&&... args);
  transport::EndpointConfig endpoint(const std::vector<IpAddress>& local, std::uint16_t port, std::string name) const;

  // --- ASAP (asap_side.cpp) ---
  struct AsapLink {
    std::shared_ptr<transport::Association> association;
    std::optional<TransportAddress> element_target;  // our connection to a taken-over PE
    bool up = false;
  };
  std::shared_ptr<transport::AssociationHandler> accept_asap(const std::shared_ptr<transport::Association>& a);
  void asap_up(transport::Association& a, const transport::AssociationInfo& info);
  void asap_message(transport::Association& a, transport::Message&& m);
  void asap_send_failed(transport::Association& a, std::size_t count);
  void asap_down(transport::Association& a, transport::DownReason why);
  void send_asap(AssociationId id, const AsapOut& message);
  // Where Registrar::answer_resolution() writes; handed to the transport
  // when it answered, replaced by a recycled buffer.
  Bytes answer_buffer;
  void send_asap_bytes(AssociationId id, Bytes&& message);
  void send_asap_bytes(std::map<AssociationId, AsapLink>::iterator link, Bytes&& message);
  void send_asap_to_element(SendAsapToElement&& s);
  void abort_asap(AssociationId id);

  // --- ENRP (enrp_side.cpp) ---
  std::shared_ptr<transport::AssociationHandler> accept_enrp(const std::shared_ptr<transport::Association>& a);
  void connect_peer(const ConnectPeer& request);
  std::optional<LinkId> open_enrp(const ConnectPeer& request);
  void enrp_up(transport::Association& a, const transport::AssociationInfo& info);
  void enrp_message(transport::Association& a, transport::Message&& m);
  void enrp_send_failed(transport::Association& a, std::size_t count);
  void enrp_down(transport::Association& a, transport::DownReason why);
  void send_enrp(ServerIdentifier peer, const wire::enrp::Message& message);
  void send_enrp_on(LinkId link, const wire::enrp::Message& message);
  void abort_enrp(LinkId link);

  // --- memory (registrar_server.cpp) ---
  // A message the transport accepted: the bound of what is held for the
  // association (OutboundQueues) may abort it.
  void account_sent(transport::Association& a, LinkClass cls, std::size_t bytes);
  void queue_full_abort(transport::Association& a, LinkClass cls);
  void released(std::size_t bytes);  // an association holding `bytes` ended
  void arm_trim();                    // a check a second from now, unless one is armed
  void trim();                        // the check: shrink the buffer pool, malloc_trim
  std::size_t released_since_trim = 0;
  bool trim_armed = false;
  std::unique_ptr<boost::asio::steady_timer> trim_timer;

  // --- announces (announce.cpp) ---
  Result<void, std::string> open_announces();
  void announce();
  std::shared_ptr<transport::UdpEndpoint> announcer;
  std::unique_ptr<boost::asio::steady_timer> announce_timer;
  Bytes announce_message;

  boost::asio::io_context& io;
  ServerConfig cfg;
  const Clock* clock;
  Registrar core;
  PeerDirectory directory;
  OutboundQueues outbound;
  transport::DeadlineTimer core_timer, directory_timer;
  ServerCounters counters;
  std::shared_ptr<spdlog::logger> log;
  transport::TransportKind kind = transport::TransportKind::tcp;
  std::shared_ptr<transport::Listener> asap_listener, enrp_listener;
  std::uint16_t asap_port = 0, enrp_port = 0;
  bool stopped = false;
  TimePoint started_at{};
  std::function<void(const Notify&)> on_event;

  std::map<AssociationId, AsapLink> asap;
  std::map<TransportAddress, AssociationId> element_links;
  std::map<LinkId, std::shared_ptr<transport::Association>> enrp;
};

// Every line a peer can cause goes through the process's rate limiter
// (rserpool::log::admit, per category and cause): a few per window, then
// one "N similar suppressed" note. What a peer sends never decides how much
// is written.
template <class... Args>
inline void ServerState::limited(spdlog::level::level_enum level, std::string_view cause,
                          spdlog::format_string_t<Args...> format, Args&&... args) {
  if (!log->should_log(level)) return;
  const auto a = rserpool::log::admit(log->name(), cause);
  if (!a.emit) return;
  if (a.suppressed != 0) log->log(level, "({} similar suppressed: {})", a.suppressed, cause);
  log->log(level, format, std::forward<Args>(args)...);
}

// Forwards an association's notifications to the server while it exists.
template <class Up, class Msg, class Failed, class Down>
class LinkHandler final : public transport::AssociationHandler {
 public:
  LinkHandler(std::weak_ptr<ServerState> server, Up up, Msg msg, Failed failed, Down down)
      : server_(std::move(server)), up_(up), msg_(msg), failed_(failed), down_(down) {}
  void on_up(transport::Association& a, const transport::AssociationInfo& info) override {
    if (auto s = server_.lock()) ((*s).*up_)(a, info);
  }
  void on_message(transport::Association& a, transport::Message&& m) override {
    if (auto s = server_.lock()) ((*s).*msg_)(a, std::move(m));
  }
  void on_send_failed(transport::Association& a, std::vector<transport::Message>&& unsent) override {
    if (auto s = server_.lock()) ((*s).*failed_)(a, unsent.size());
  }
  void on_down(transport::Association& a, transport::DownReason why) override {
    if (auto s = server_.lock()) ((*s).*down_)(a, why);
  }

 private:
  std::weak_ptr<ServerState> server_;
  Up up_;
  Msg msg_;
  Failed failed_;
  Down down_;
};

template <class Up, class Msg, class Failed, class Down>
std::shared_ptr<transport::AssociationHandler> make_link_handler(std::weak_ptr<ServerState> server, Up up,
                                                                 Msg msg, Failed failed, Down down) {
  return std::make_shared<LinkHandler<Up, Msg, Failed, Down>>(std::move(server), up, msg, failed, down);
}

std::vector<IpAddress> ips_of(const std::vector<TransportAddress>& addresses);

}  // namespace detail

}  // namespace rserpool::registrar
