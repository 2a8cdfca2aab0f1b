#pragma once
// Private state of RegistrarServer, shared by the files of the driver:
// registrar_server.cpp (life, actions, timers), asap_side.cpp (PEs and PUs),
// enrp_side.cpp (peers). Association handlers hold a weak pointer to it, so
// a notification arriving after the server is gone is simply ignored.
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "registrar/server.hpp"
#include "rserpool/base/log.hpp"
#include "rserpool/transport/association.hpp"
#include "rserpool/transport/endpoint.hpp"
#include "rserpool/transport/udp_endpoint.hpp"

namespace rserpool::registrar {

inline constexpr std::uint32_t kAsapPpid = 11;
inline constexpr std::uint32_t kEnrpPpid = 12;

using Clock = std::chrono::steady_clock;

namespace detail {

struct ServerState : std::enable_shared_from_this<ServerState> {
  ServerState(boost::asio::io_context& io_context, ServerConfig config);

  // --- life (registrar_server.cpp) ---
  Result<void, std::string> open();
  void stop();
  void execute(std::vector<Action>&& actions);
  void start_timer(const TimerKey& key, TimePoint at);
  void stop_timer(const TimerKey& key);
  void notify(const Notify& n);
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
  void send_asap(AssociationId id, Bytes&& message);
  void send_asap_to_element(SendAsapToElement&& s);

  // --- ENRP (enrp_side.cpp) ---
  struct EnrpLink {
    std::shared_ptr<transport::Association> association;
    bool outbound = false;
    std::optional<std::size_t> slot;  // configured peer it serves
    ServerIdentifier peer = 0;        // bound at the first message (or by the slot)
    bool up = false;
    std::optional<TransportAddress> remote;
  };
  // A configured peer: we keep an association to it.
  struct Slot {
    TransportAddress address;
    std::optional<std::uint64_t> link;
    ServerIdentifier last_id = 0;
    std::unique_ptr<boost::asio::steady_timer> retry;
    Clock::time_point last_presence{};
    unsigned failures = 0;  // consecutive failed connects: back off up to 16x
  };
  struct PeerState {
    std::optional<std::uint64_t> link;  // where we send (the last association it spoke on)
    std::optional<Clock::time_point> last_heard;
    std::optional<std::uint16_t> checksum;
    std::optional<TransportAddress> learned;  // from its Server Information
    Clock::time_point last_connect{};
    std::optional<TransportAddress> remote;  // remote address of the last association
  };
  std::shared_ptr<transport::AssociationHandler> accept_enrp(const std::shared_ptr<transport::Association>& a);
  void connect_slot(std::size_t slot);
  void arm_slot(std::size_t slot);
  void on_slot_timer(std::size_t slot);
  std::optional<std::uint64_t> connect_enrp(const std::vector<IpAddress>& addresses, std::uint16_t port,
                                            std::optional<std::size_t> slot, ServerIdentifier peer);
  void enrp_up(transport::Association& a, const transport::AssociationInfo& info);
  void enrp_message(transport::Association& a, transport::Message&& m);
  void enrp_send_failed(transport::Association& a, std::size_t count);
  void enrp_down(transport::Association& a, transport::DownReason why);
  void send_enrp(ServerIdentifier peer, Bytes&& message);
  void send_presence_on(EnrpLink& link);
  void add_server_information(Bytes& message) const;
  bool allowed_peer(const std::vector<TransportAddress>& remote) const;
  std::optional<std::uint64_t> usable_link(ServerIdentifier peer);
  void filter_list_response(Bytes& message);

  // --- initial synchronisation (enrp_side.cpp) ---
  enum class MentorWait : std::uint8_t { none, waiting, chosen, timed_out };
  void start_mentor_wait();
  void consider_mentor(const EnrpLink& l, ServerIdentifier sender, const std::optional<ServerInformation>& info);
  MentorWait mentor_wait = MentorWait::none;
  std::optional<std::size_t> mentor_slot;  // the configured `mentor`
  std::unique_ptr<boost::asio::steady_timer> mentor_timer;

  // --- announces (announce.cpp) ---
  Result<void, std::string> open_announces();
  void announce();
  std::shared_ptr<transport::UdpEndpoint> announcer;
  std::unique_ptr<boost::asio::steady_timer> announce_timer;
  Bytes announce_message;

  boost::asio::io_context& io;
  ServerConfig cfg;
  Registrar core;
  ServerCounters counters;
  std::shared_ptr<spdlog::logger> log;
  transport::TransportKind kind = transport::TransportKind::tcp;
  std::shared_ptr<transport::Listener> asap_listener, enrp_listener;
  std::uint16_t asap_port = 0, enrp_port = 0;
  bool stopped = false;
  Clock::time_point started_at{};
  std::function<void(const Notify&)> on_event;

  std::map<std::uint64_t, AsapLink> asap;
  std::map<TransportAddress, std::uint64_t> element_links;
  std::map<std::uint64_t, EnrpLink> enrp;
  std::vector<Slot> slots;
  std::map<ServerIdentifier, PeerState> peer_state;
  std::set<IpAddress> trusted;  // configured peer addresses + allow-list
  std::map<TimerKey, std::unique_ptr<boost::asio::steady_timer>> timers;
};

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
