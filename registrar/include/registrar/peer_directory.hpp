#pragma once
// The ENRP peer directory: which associations may carry ENRP and as whom.
// Sans-I/O, beside the Registrar core (which names peers by server id
// only). It decides:
//
// * trust: an inbound ENRP association is accepted as a peer only when
//   every one of its peer addresses belongs to one configured peer or is
//   allowed (RFC 5353 6.1: the server group is closed to strangers; with
//   SCTP multi-homing one address in an INIT list proves nothing), or with
//   `accept_any`; as a monitor when every address is a monitor's;
// * monitors (handlespace dumps, rsplib's hsdump) may ask for the handle
//   table and the server list and get PRESENCE answered, and are never
//   peers: no takeover, no connect-back, no peer-dead warning;
// * binding: an association speaks for the server id in the sender field of
//   the first message it carries; a second id on it is refused (one
//   association cannot speak for two servers);
// * routing: which association a message to a server id goes on, and when
//   to connect to a configured peer or to a trusted server learnt from its
//   Server Information (at most once per reconnect interval);
// * configured peers are addresses: we keep an association to each,
//   reconnecting with a backoff (x2 per failure, up to x8), and send a
//   reply-required PRESENCE when it comes up (the answer binds the id);
// * mentor choice (RFC 5353 3.3): the configured `mentor` address, or the
//   first configured peer that answers, within `mentor_wait`;
// * LIST_RESPONSE: servers outside the trust rules are removed before the
//   core sees the message (it would make each a peer, find it unreachable,
//   and take over its PEs).
//
// Links are the driver's association ids. Events in with `now`, actions
// out, next_deadline() / on_timeout(now), as every core.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <variant>
#include <vector>

#include "registrar/actions.hpp"
#include "rserpool/base/bytes.hpp"
#include "rserpool/base/ip_address.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/base/time.hpp"
#include "rserpool/base/timer_set.hpp"
#include "rserpool/wire/enrp.hpp"

namespace rserpool::registrar {

using LinkId = std::uint64_t;

struct DirectoryConfig {
  ServerIdentifier self = 0;
  // Configured peers: their ENRP endpoints (we connect there).
  std::vector<TransportAddress> peers;
  std::vector<IpAddress> allowed;  // further addresses that may open ENRP associations
  bool accept_any = false;         // trust nobody by default
  std::vector<IpAddress> monitors;  // read-only clients (handle table, server list), never peers
  // Inbound ENRP associations held at once (all roles), and monitors among
  // them; beyond either the newcomer is refused (room for the peers).
  std::size_t max_links = 64;
  std::size_t max_monitor_links = 8;
  // Initial synchronisation: the registrar at this address (made a
  // configured peer if it is not one); without it and with
  // `mentor_from_peers`, the first configured peer that answers.
  std::optional<TransportAddress> mentor;
  bool mentor_from_peers = true;
  Duration mentor_wait = std::chrono::seconds(5);
  Duration reconnect_interval = std::chrono::seconds(1);
  // A connected configured peer that never answered is asked again this often.
  Duration presence_retry = std::chrono::seconds(30);
};

// Actions of the directory.
// Open an association to `to` (for `slot`, a configured peer, or for the
// server `expected` learnt from its Server Information). The driver calls
// on_connecting() with the link it created, or on_connect_failed().
struct ConnectPeer {
  std::optional<std::size_t> slot;
  TransportAddress to;
  ServerIdentifier expected = 0;
};
// Our reply-required PRESENCE on a fresh association whose server id is
// not known yet (the core builds it: Registrar::presence(0, true)).
struct SendPresenceOn {
  LinkId link = 0;
};
struct AbortLink {
  LinkId link = 0;
};
// The mentor's server id is known: the driver calls the core's
// start_mentor_download() before delivering that server's message.
struct StartMentorDownload {
  ServerIdentifier mentor = 0;
};
// Something the operator should read about (logged by the driver).
struct DirectoryEvent {
  enum class Kind : std::uint8_t {
    refused_untrusted,   // inbound association from addresses outside the trust rules
    refused_full,        // inbound association over max_links / max_monitor_links
    bound,               // an association speaks for `server`
    sender_changed,      // an association bound to `server` carried another id: dropped
    listed_refused,      // LIST_RESPONSE servers outside the trust rules (`count`)
    mentor_chosen,       // the mentor at `address` is `server`
    mentor_timed_out,    // nobody answered within mentor_wait
  };
  Kind kind = Kind::bound;
  LinkId link = 0;
  ServerIdentifier server = 0;
  std::optional<TransportAddress> address;
  std::size_t count = 0;
};
std::string_view to_string(DirectoryEvent::Kind k) noexcept;

using DirectoryAction = std::variant<ConnectPeer, SendPresenceOn, AbortLink, StartMentorDownload, DirectoryEvent>;


struct DirectoryCounters {
  std::uint64_t associations_accepted = 0, associations_refused = 0;
  std::uint64_t monitors_accepted = 0, associations_refused_full = 0;
  std::uint64_t sender_changed = 0;         // an association spoke for a second server id: dropped
  std::uint64_t listed_servers_refused = 0;  // LIST_RESPONSE entries outside the trust rules
  std::uint64_t unroutable = 0;              // a message to a server with no association and no address
  std::uint64_t connects = 0;
};

// Where the initial synchronisation's mentor choice stands.
enum class MentorWait : std::uint8_t { none, waiting, chosen, timed_out };

// One peer as the directory sees it (for `show peers`).
struct DirectoryPeer {
  ServerIdentifier id = 0;  // 0: configured, not heard from yet
  std::optional<TransportAddress> address;
  bool configured = false;
  bool association_up = false;
  std::optional<TimePoint> last_heard;
  std::optional<std::uint16_t> last_checksum;  // from its last PRESENCE
};

class PeerDirectory {
 public:
  explicit PeerDirectory(DirectoryConfig config);

  // Connects every configured peer, starts waiting for the mentor.
  std::vector<DirectoryAction> start(TimePoint now);

  // --- associations ---
  // Inbound, not up yet: false when max_links (plus our own connections to
  // configured peers) are held already; the driver refuses it at once.
  bool on_accepted(LinkId link);
  void on_connecting(const ConnectPeer& request, LinkId link, TimePoint now);
  void on_connect_failed(const ConnectPeer& request, TimePoint now);
  // Up: for an inbound association the trust decision (AbortLink when
  // refused); for our own to a configured peer, its first PRESENCE.
  std::vector<DirectoryAction> on_up(LinkId link, const std::vector<TransportAddress>& remote, TimePoint now);
  // One received message (`decoded` may be edited: LIST_RESPONSE filter).
  // Returns whether the core gets it, and as coming from which server.
  struct Delivery {
    bool deliver = false;
    ServerIdentifier from = 0;
    EnrpRole role = EnrpRole::peer;
  };
  Delivery on_message(LinkId link, ByteView raw,
                      Result<wire::Decoded<wire::enrp::Message>, wire::DecodeError>& decoded, TimePoint now,
                      std::vector<DirectoryAction>& out);
  void on_down(LinkId link, bool never_up, TimePoint now);

  // Where a message to `peer` goes. With `connect` set, the driver connects
  // first (on_connecting) and sends on the new link; neither: unroutable.
  struct Route {
    std::optional<LinkId> link;
    std::optional<ConnectPeer> connect;
  };
  Route route(ServerIdentifier peer, TimePoint now);

  std::optional<TimePoint> next_deadline() const { return timers_.next_deadline(); }
  std::vector<DirectoryAction> on_timeout(TimePoint now);

  // --- inspection ---
  const DirectoryConfig& config() const noexcept { return config_; }
  const DirectoryCounters& counters() const noexcept { return counters_; }
  MentorWait mentor_wait() const noexcept { return mentor_wait_; }
  std::vector<DirectoryPeer> peers() const;
  bool link_known(LinkId link) const { return links_.count(link) != 0; }
  std::size_t link_count() const noexcept { return links_.size(); }

 private:
  struct Link {
    bool outbound = false;
    EnrpRole role = EnrpRole::peer;
    std::optional<std::size_t> slot;  // configured peer it serves
    ServerIdentifier peer = 0;        // bound at the first message (or by the slot)
    bool up = false;
    std::optional<TransportAddress> remote;
  };
  // A configured peer: we keep an association to it.
  struct Slot {
    TransportAddress address;
    std::optional<LinkId> link;
    ServerIdentifier last_id = 0;
    TimePoint last_presence{};
    unsigned failures = 0;  // consecutive failed connects: back off up to 8x
  };
  struct PeerState {
    std::optional<LinkId> link;  // where we send (the last association it spoke on)
    std::optional<TimePoint> last_heard;
    std::optional<std::uint16_t> checksum;
    std::optional<TransportAddress> learned;  // from its Server Information
    std::optional<TimePoint> last_connect;
    std::optional<TransportAddress> remote;  // remote address of the last association
  };
  struct TimerKey {
    enum class Kind : std::uint8_t { slot, mentor_wait } kind = Kind::slot;
    std::size_t slot = 0;
    friend auto operator<=>(const TimerKey&, const TimerKey&) = default;
  };

  std::optional<EnrpRole> classify(const std::vector<TransportAddress>& remote) const;
  bool trusted_peer(const std::vector<TransportAddress>& remote) const;
  std::optional<LinkId> usable_link(ServerIdentifier peer) const;
  void arm_slot(std::size_t slot, TimePoint now);
  void slot_timer(std::size_t slot, TimePoint now, std::vector<DirectoryAction>& out);
  std::optional<ConnectPeer> connect_slot(std::size_t slot, TimePoint now);
  void filter_list_response(wire::enrp::ListResponse& list, std::vector<DirectoryAction>& out);
  void consider_mentor(const Link& l, ServerIdentifier sender, const std::optional<ServerInformation>& info,
                       std::vector<DirectoryAction>& out);

  DirectoryConfig config_;
  DirectoryCounters counters_;
  std::map<LinkId, Link> links_;
  std::vector<Slot> slots_;
  std::map<ServerIdentifier, PeerState> peer_state_;
  std::set<IpAddress> allowed_, monitors_;
  std::optional<std::size_t> mentor_slot_;
  MentorWait mentor_wait_ = MentorWait::none;
  TimerSet<TimerKey> timers_;
};

}  // namespace rserpool::registrar
