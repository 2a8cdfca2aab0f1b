#pragma once
// The ASAP server entity of a registrar (RFC 5352 section 3, server side):
// REGISTRATION, DEREGISTRATION, HANDLE_RESOLUTION with subscriptions, the
// ENDPOINT_KEEP_ALIVE audit of the PEs we are home for, ENDPOINT_UNREACHABLE
// reports and registration life expiry. Part of the Registrar core; it
// shares the handlespace with ENRP peering (enrp_peering.hpp) and takeover
// (takeover.hpp) and tells peering about every local change.
//
// Timers: the lifetime index of the handlespace and the keep-alive agenda
// (one entry per PE we are home for, a binary heap with lazy deletion, so
// arming, re-arming and cancelling an audit cost no allocation and no
// tree work at 100,000 PEs) are this entity's deadlines.
#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "registrar/core_shared.hpp"
#include "registrar/token_bucket.hpp"
#include "rserpool/core/node_arena.hpp"
#include "rserpool/base/ip_address.hpp"
#include "rserpool/wire/asap.hpp"
#include "rserpool/wire/enrp.hpp"

namespace rserpool::registrar {

// Where the ASAP server reports the changes of PEs it is home for: ENRP
// peering turns them into HANDLE_UPDATEs (RFC 5353 3.8).
class HandleUpdateSink {
 public:
  virtual ~HandleUpdateSink() = default;
  virtual void element_changed(wire::enrp::UpdateAction action, const PoolHandle& pool,
                               const PoolElementParameter& pe) = 0;
  virtual bool has_peers() const = 0;
};

class AsapServer final : private core::RemovalObserver {
 public:
  AsapServer(CoreShared& shared, HandleUpdateSink& peers);
  ~AsapServer();
  AsapServer(const AsapServer&) = delete;
  AsapServer& operator=(const AsapServer&) = delete;

  // --- events (the Registrar façade routes them here) ---
  // A new association was accepted; its addresses are not known yet. Its
  // descriptor counts already, so the global cap applies here (an idle
  // client may be evicted to make room); false: refuse it at once.
  bool on_association_accepted(AssociationId id, TimePoint now);
  // Admission (AssociationCaps): a refused association, or an idle client
  // evicted to make room, is named in an AbortAsap action.
  void on_association_up(AssociationId id, std::vector<IpAddress> peer_addresses, std::uint16_t peer_port,
                         TimePoint now);
  void on_association_down(AssociationId id, TimePoint now);
  bool has_association(AssociationId id) const { return associations_.count(id) != 0; }
  // False: the association is unknown (not announced, or refused): dropped.
  bool on_message(AssociationId id, wire::asap::Message&& m, TimePoint now);
  // A HANDLE_RESOLUTION decoded into views (the registrar's fast path):
  // the same handling as through on_message(). False: unknown association.
  bool on_handle_resolution(AssociationId id, const wire::asap::HandleResolutionView& r, TimePoint now);
  // The same resolution answered straight into bytes (Registrar::
  // answer_resolution()): appends the answer on_handle_resolution() would
  // queue as its only action, with the same counters and selection, and
  // returns true. False, having changed nothing: unknown association, a
  // subscription, or over the association's rate (on_handle_resolution()
  // decides what to do then).
  bool answer_resolution(AssociationId id, const wire::asap::HandleResolutionView& r, TimePoint now, Bytes& out);
  // A REGISTRATION decoded into a view (the registrar's fast path): the
  // same handling as through on_message(). False: unknown association.
  bool on_registration(AssociationId id, wire::asap::RegistrationView&& r, TimePoint now);
  // Where the registrar decodes the next REGISTRATION into
  // (wire::asap::decode_registration_view(data, into)), kept so that the
  // PE parameter's storage is not built per message. Pass it to
  // on_registration() once decoded.
  wire::asap::RegistrationView& registration_scratch();
  std::optional<TimePoint> next_deadline() const;
  void on_timeout(TimePoint now);
  // End of every event: one push per changed pool to its subscribers.
  void flush_subscriptions();
  // End of every event (and of every timeout round): stale keep-alive
  // items leave the top of the agenda, so that its deadline is a live
  // one; compaction when stale items outnumber live ones. Once per event,
  // not per change: an association's close that cancels thousands of
  // audits drops their items in one pass instead of one pop each. Only
  // after an item went stale (an event that re-armed or cancelled nothing,
  // a resolution, pays a test).
  void settle_agenda() {
    if (agenda_dirty_) settle_agenda_now();
  }

  // --- from ENRP peering and takeover ---
  // A PE we were home for now has another home (re-registered there, or
  // taken over): stop auditing it.
  void disown(const PoolHandle& pool, PeIdentifier id);
  // We took the PE over (RFC 5353 3.9): audit it from now on, starting
  // with "adopt me as your home" (ENDPOINT_KEEP_ALIVE H=1).
  void adopt_taken_over(const PoolHandle& pool, PeIdentifier id, TimePoint now);
  // The handlespace changed for a reason of ENRP's (peer update, resync
  // sweep, takeover): subscribers of the pool get a push at the event's end.
  void pool_changed(const PoolHandle& pool) {
    if (!subscribers_.empty() && subscribers_.count(pool) != 0) changed_pools_.insert(pool);
  }
  void pool_changed(ByteView pool) {
    if (!subscribers_.empty()) pool_changed(PoolHandle(pool));
  }

  // --- inspection ---
  std::size_t association_count() const noexcept { return associations_.size(); }
  // Associations carrying no PE (pool users, PEs not registered yet).
  std::size_t client_count() const;
  std::size_t home_count() const noexcept { return home_count_; }
  bool is_home_for(const PoolHandle& pool, PeIdentifier id) const;
  // Distinct associations that reported the PE unreachable in the current
  // interval (0 once it answered).
  std::size_t unreachable_reporters(const PoolHandle& pool, PeIdentifier id) const;
  // The association the PE registered over (none: not ours, or taken over
  // and not heard from yet).
  std::optional<AssociationId> association_of(const PoolHandle& pool, PeIdentifier id) const;
  std::optional<TimePoint> keep_alive_deadline() const {
    if (agenda_.empty()) return std::nullopt;
    return agenda_.front().key.at;  // the top is always a live item (settle_agenda)
  }

 private:
  // What we keep about a PE we are home for, beside its handlespace entry
  // and reached through it (PoolElementEntry::home_record()): one lookup
  // finds both, and the handlespace's removal hook (before_removal) drops
  // the record whatever removes the entry, so the agenda and the
  // association's list never hold a removed PE. Records are arena nodes
  // (rserpool/core/node_arena.hpp): no malloc per PE in steady state.
  struct Association;
  struct OwnedPe;
  // The keep-alive agenda: (when, which PE), one live item per PE we
  // audit, earliest first; ties by (pool creation number, PE id), so
  // iteration stays a function of the inputs. A binary heap with lazy deletion: re-arming pushes a new
  // item and cancelling bumps the record's stamp, which makes its old
  // item stale; stale items are dropped when they reach the top
  // (settle_agenda) or all at once when they outnumber the live ones
  // (compact_agenda). A tree here cost about 280 instructions per
  // registration with its removal (issue 16: a search with a random key,
  // insert and erase rebalancing); a push with a random key moves an item
  // up about one level on average.
  struct AgendaKey {
    TimePoint at{};
    std::uint64_t pool_rank = 0;
    PeIdentifier id = 0;
    friend auto operator<=>(const AgendaKey&, const AgendaKey&) = default;
  };
  struct AgendaItem {
    AgendaKey key;
    OwnedPe* pe = nullptr;
    std::uint32_t stamp = 0;  // live while it equals pe->agenda_stamp
  };
  struct OwnedPe final : core::HomeRecord {
    const core::PoolElementEntry* entry = nullptr;  // its handlespace entry
    std::optional<AssociationId> association;      // none: taken over, not yet heard from
    // Its place in the list of PEs registered over `association` (see
    // Association::first): linked and unlinked in O(1), no node.
    Association* listed_in = nullptr;
    OwnedPe* prev_on_association = nullptr;
    OwnedPe* next_on_association = nullptr;
    std::optional<TimePoint> ack_deadline;     // keep-alive outstanding
    TimePoint next_audit{};
    bool in_agenda = false;  // it has a live item in agenda_
    // Disowned, kept (no longer on any entry or list) only until the last
    // agenda item that points here is dropped.
    bool retired = false;
    std::uint32_t agenda_stamp = 0;  // bumped on every re-arm and cancel
    std::uint32_t agenda_items = 0;  // items in agenda_ that point here, live or stale
    // Distinct associations that reported the PE unreachable since
    // `reports_since` (RFC 5352 3.5); cleared by its answer.
    std::vector<AssociationId> reporters;
    TimePoint reports_since{};
  };
  struct Subscription {
    std::uint32_t items = 0;
  };
  struct Association {
    AddressList addresses;  // the peer's, as the transport reported them
    std::uint16_t port = 0;
    TimePoint last_active{};  // last message received (idle clients make room first)
    std::map<PoolHandle, Subscription, core::PoolHandleLess> subscriptions;
    // PEs registered over it, an intrusive list through their OwnedPe
    // (records do not move); unlinked by disown(). Order: most recently
    // linked first; removal at close reads it backwards (oldest first).
    OwnedPe* first = nullptr;
    std::size_t element_count = 0;
    TokenBucket resolutions, unreachables, registrations;
  };

  void on_registration(AssociationId aid, Association& a, ByteView pool, PoolElementParameter&& pe, TimePoint now);
  void on_deregistration(AssociationId aid, Association& a, wire::asap::Deregistration& d);
  void on_handle_resolution(AssociationId aid, Association& a, bool subscribe, ByteView pool,
                            std::optional<std::uint32_t> items, TimePoint now);
  void on_keep_alive_ack(AssociationId aid, const wire::asap::EndpointKeepAliveAck& k, TimePoint now);
  void on_endpoint_unreachable(AssociationId aid, Association& a, const wire::asap::EndpointUnreachable& u,
                               TimePoint now);
  bool may_speak_for(const Association& a, const core::PoolElementEntry& e) const;
  void send_resolution(AssociationId aid, ByteView pool, std::uint32_t items, bool accepted);
  // The PEs a resolution of `pool` answers with (the policy's selection,
  // which advances its rotation), as views of their cached encodings,
  // into `answer`. False: no such pool.
  bool fill_answer(ByteView pool, std::uint32_t items, ResolutionAnswer& answer);
  // The answer for a pool that does not exist (counted).
  wire::asap::HandleResolutionResponse unknown_pool_answer(ByteView pool, bool accepted);
  std::uint32_t resolution_items(std::optional<std::uint32_t> requested) const;
  void send_keep_alive(OwnedPe& st, bool home, TimePoint now);
  void process_keep_alive_agenda(TimePoint now);
  void process_expiry(TimePoint now);
  // The record of a PE we are home for (nullptr: not ours, or unknown).
  // Every record on our handlespace's entries is an OwnedPe: we are the
  // only one who hangs records there.
  static OwnedPe* record_of(const core::PoolElementEntry* e) {
    return e == nullptr ? nullptr : static_cast<OwnedPe*>(e->home_record());
  }
  OwnedPe* record_of(ByteView pool, PeIdentifier id) const { return record_of(s_.handlespace.find(pool, id)); }
  // Makes us home for `e` (a record is created unless it has one): bound to
  // `assoc` (nullptr: none), audit re-armed.
  OwnedPe& adopt(const core::PoolElementEntry& e, std::optional<AssociationId> aid, Association* assoc, TimePoint now);
  // Forgets the record (agenda, association list, the entry's pointer).
  void disown(OwnedPe& st);
  void before_removal(const core::PoolElementEntry& entry, core::HomeRecord& record) override;
  void reschedule(OwnedPe& st);
  static bool live(const AgendaItem& item) noexcept {
    return !item.pe->retired && item.pe->in_agenda && item.stamp == item.pe->agenda_stamp;
  }
  void settle_agenda_now();
  void compact_agenda();
  // One agenda item that pointed at `pe` is gone: a retired record whose
  // last item it was is freed.
  void drop_agenda_item(OwnedPe* pe) noexcept;
  void free_record(OwnedPe* st) noexcept;
  // Removes the PE from the handlespace and tells the peers, the
  // subscribers and the log.
  void remove_owned(OwnedPe& st, Event why);
  TimePoint jittered_audit(TimePoint now);
  // Admission: room for one more association from `source`, evicting the
  // longest idle client if need be. False: refuse (the event is notified).
  bool make_room(AssociationId newcomer, const IpAddress& source, TimePoint now);
  bool evict_idle_client(TimePoint now);
  void release(AssociationId id, Association& a);

  static void link(Association& a, OwnedPe& st);
  static void unlink(OwnedPe& st);

  CoreShared& s_;
  HandleUpdateSink& peers_;
  std::shared_ptr<core::NodeArena> arena_ = std::make_shared<core::NodeArena>();
  std::size_t home_count_ = 0;  // records
  std::map<AssociationId, Association> associations_;
  std::map<IpAddress, std::size_t> per_source_;  // admitted associations by first peer address
  std::set<AssociationId> accepted_;               // accepted, not up yet (their descriptors count)
  std::vector<AgendaItem> agenda_;  // a min-heap by key (earliest key on top)
  std::size_t agenda_live_ = 0;     // records with in_agenda
  bool agenda_dirty_ = false;       // an item went stale since the last settle
  std::map<PoolHandle, std::set<AssociationId>, core::PoolHandleLess> subscribers_;
  std::set<PoolHandle, core::PoolHandleLess> changed_pools_;
  std::vector<const core::PoolElementEntry*> chosen_;  // reused by every resolution
  wire::asap::RegistrationView registration_scratch_;
  std::vector<OwnedPe*> closing_;  // on_association_down's PEs, latest joined first, reused
};

}  // namespace rserpool::registrar
