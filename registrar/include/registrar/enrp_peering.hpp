#pragma once
// The ENRP peering entity of a registrar (RFC 5353 sections 3.1-3.8): the
// peer table, PRESENCE and the heartbeat cycle, failure detection
// (MAX-TIME-LAST-HEARD, MAX-TIME-NO-RESPONSE), HANDLE_UPDATE out and in,
// the checksum audit with its resynchronisation (HANDLE_TABLE W=1), the
// mentor download at start (3.3), serving our handle table in pages, and
// LIST_REQUEST / LIST_RESPONSE. Takeover arbitration (3.9) is its own
// entity (takeover.hpp); peering tells it when a peer speaks or dies.
//
// Peers are server ids: which association speaks for which id, and who may
// peer at all, is the peer directory's business (peer_directory.hpp).
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "registrar/asap_server.hpp"
#include "registrar/core_shared.hpp"
#include "rserpool/base/timer_set.hpp"
#include "rserpool/wire/enrp.hpp"

namespace rserpool::registrar {

// Where the initial handlespace download from a mentor (RFC 5353 3.3) stands.
struct MentorDownload {
  enum class State : std::uint8_t {
    none,         // no mentor chosen
    queued,       // the mentor is busy with our audit download; ours follows it
    downloading,  // HANDLE_TABLE_REQUEST W=0 pages in flight
    done,         // last page (M=0) received
    rejected,     // the mentor answered R=1 (itself still starting): the audit fills in
    stalled,      // the mentor stopped answering or died: the audit fills in
  };
  ServerIdentifier mentor = 0;
  State state = State::none;
  std::uint64_t pages = 0, elements = 0;
  TimePoint started{}, finished{};
};
std::string_view to_string(MentorDownload::State s) noexcept;

// What peering tells the takeover entity (implemented by Takeover).
class TakeoverHooks {
 public:
  virtual ~TakeoverHooks() = default;
  // Any message from a server proves it alive: a takeover of it aborts
  // (RFC 5353 3.9.1 names PRESENCE; any message proves the same).
  virtual void peer_spoke(ServerIdentifier peer) = 0;
  // MAX-TIME-NO-RESPONSE passed without an answer: the peer is dead.
  virtual void peer_dead(ServerIdentifier peer, TimePoint now) = 0;
};

class EnrpPeering final : public HandleUpdateSink {
 public:
  EnrpPeering(CoreShared& shared, AsapServer& asap) : s_(shared), asap_(asap) {}
  EnrpPeering(const EnrpPeering&) = delete;
  EnrpPeering& operator=(const EnrpPeering&) = delete;
  void set_takeover(TakeoverHooks& t) { takeover_ = &t; }

  // Reply-required PRESENCE to every configured peer, the mentor download
  // if one is configured, the heartbeat cycle.
  void start(TimePoint now);
  void start_mentor_download(ServerIdentifier mentor, TimePoint now);
  // First step for every received ENRP message: drops misaddressed ones,
  // counts errors, marks the sender heard. False: nothing more to do.
  bool admit(const wire::enrp::Message& m, TimePoint now);
  // Every message type except the takeover ones (takeover.hpp).
  void on_message(wire::enrp::Message&& m, TimePoint now);
  // From a monitor (a handlespace dump): PRESENCE answered, handle table
  // served in pages, server list answered; nothing else, and the sender
  // never becomes a peer.
  void on_monitor_message(const wire::enrp::Message& m, TimePoint now);
  std::optional<TimePoint> next_deadline() const { return timers_.next_deadline(); }
  void on_timeout(TimePoint now);

  // HandleUpdateSink: a local change goes to every active peer.
  void element_changed(wire::enrp::UpdateAction action, const PoolHandle& pool,
                       const PoolElementParameter& pe) override;
  bool has_peers() const override { return !peers_.empty(); }

  // --- for takeover ---
  std::vector<ServerIdentifier> active_peer_ids() const;
  bool peer_active(ServerIdentifier peer) const;
  bool knows(ServerIdentifier peer) const { return peers_.count(peer) != 0; }
  // We acknowledged someone's INIT_TAKEOVER of `peer`: stop monitoring it.
  void stop_monitoring(ServerIdentifier peer, TimePoint now);
  // The peer was taken over (by us or another): a configured one stays
  // known (inactive) so it is found again when it returns.
  void retire(ServerIdentifier peer, TimePoint now);
  void send_presence(ServerIdentifier peer, bool reply_required);
  TimePoint inactive_since(ServerIdentifier peer) const;
  // Ends the mentor download from `peer` (done, rejected, stalled); a
  // queued one starts when the audit it waited for is done.
  void mentor_download_ended(ServerIdentifier peer, MentorDownload::State how, TimePoint now);

  // Our PRESENCE to `receiver` (0: not yet known), with our Server
  // Information: for the directory's first message on a fresh association.
  wire::enrp::Presence presence(ServerIdentifier receiver, bool reply_required) const;

  // --- inspection ---
  const MentorDownload& mentor_download() const noexcept { return mentor_; }
  std::optional<TimePoint> deadline(const TimerKey& key) const { return timers_.deadline(key); }

 private:
  // A handle table download in progress (a peer's or a monitor's).
  struct TableSession {
    bool serving = false;
    bool own_only = false;
    core::HandleTableCursor cursor;
    TimePoint last{};
  };
  struct Peer {
    bool configured = false;
    bool active = true;
    TimePoint last_heard{};
    std::optional<TimePoint> reply_deadline;  // reply-required PRESENCE out
    std::optional<ServerInformation> info;
    TimePoint inactive_since{};  // when we stopped monitoring it
    // Our download from this peer (resync W=1, or mentor W=0).
    bool downloading = false;
    bool download_own_only = false;
    // The peer's download from us.
    TableSession serving;
  };

  void serve_table(ServerIdentifier to, TableSession& session, bool own_only, TimePoint now);
  Peer& touch_peer(ServerIdentifier id, TimePoint now);
  void watch(ServerIdentifier id, Peer& p);  // arms the monitor timer for an active peer
  void on_presence(const wire::enrp::Presence& p, TimePoint now);
  void on_table_request(const wire::enrp::HandleTableRequest& r, TimePoint now);
  void on_table_response(const wire::enrp::HandleTableResponse& r, TimePoint now);
  void on_handle_update(const wire::enrp::HandleUpdate& u, TimePoint now);
  void on_list_request(ServerIdentifier sender);
  void on_list_response(const wire::enrp::ListResponse& r, TimePoint now);
  void apply_peer_element(ServerIdentifier sender, const PoolHandle& pool, const PoolElementParameter& pe,
                          TimePoint now);
  void start_download(ServerIdentifier peer, bool own_only, TimePoint now);
  void download_ended(ServerIdentifier peer, Peer& p);
  void begin_mentor_download(ServerIdentifier mentor, TimePoint now);
  bool initial_download_pending() const;
  void monitor(ServerIdentifier id, TimePoint now);
  void heartbeat(TimePoint now);
  void declare_dead(ServerIdentifier id, TimePoint now);

  CoreShared& s_;
  AsapServer& asap_;
  TakeoverHooks* takeover_ = nullptr;
  std::map<ServerIdentifier, Peer> peers_;
  std::map<ServerIdentifier, TableSession> monitor_sessions_;  // bounded: max_monitor_sessions
  TimerSet<TimerKey> timers_;  // peer_heartbeat, peer_monitor(id), table_request(id)
  bool started_ = false;
  MentorDownload mentor_;
};

}  // namespace rserpool::registrar
