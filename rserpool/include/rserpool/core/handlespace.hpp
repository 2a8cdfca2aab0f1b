#pragma once
// The handlespace: pools of pool elements as an ENRP server (registrar) or a
// pool user's cache keeps them. Sans-I/O: no sockets, no clock. Time is
// passed in as a steady_clock time point, so a test or a simulation can run
// it on virtual time. Not thread-safe: one owner (the registrar's event
// loop) drives it.
//
// Cost per operation, n = PEs in the pool, P = pools, k = PEs of one owner,
// N = items asked for, E = PEs in the whole handlespace:
//
//  register, new PE               O(log n + log E); pools are found by
//                                 hash, O(1) expected, creation O(log P);
//                                 the owner index O(1) (a list per owner)
//  re-register (update)           O(log n) lookup + the policy's re-key
//                                 (O(1) RR/RAND, O(log n) others); the expiry
//                                 is re-keyed in O(1) amortized when the new
//                                 expiry is the latest, else O(log E)
//  deregister                     O(log n) (ordered id map erase), the
//                                 owner and expiry indexes by stored position
//  lookup                         O(1) expected pool (hashed) + O(log n) PE
//                                 (the pool's ordered id map)
//  resolve (handle resolution)    O(1) pool lookup + the policy's select, see
//                                 policy.hpp: O(N), O(N + log n) or O(N log n)
//  pe_checksum(owner)             O(1): kept incrementally on every change
//  owned_by(owner)                O(k log k) (the owner's list, sorted)
//  next_expiry                    O(1); expire(t): O(log E) per removed PE
//  mark_owned_by / sweep_marked   O(k) / O(k log k + removed x log)
//  change_owner(from, to)         O(k log k)
//  handle_table_page(K)           O(log P + log n + K); for one owner's PEs
//                                 (W bit) O(log P + log n + the members
//                                 of the pools holding the owner's PEs
//                                 that the page passes): a whole download
//                                 reads each such pool once
//
// Pool consistency (RFC 5352 3.1, digest 2.2.2): a pool takes its policy
// type, user transport type and transport use from its first PE; a later PE
// (new or re-registering) must match them or is rejected with cause 0x5,
// 0x7 or 0x8. Exception: the only member of a pool may re-register with new
// characteristics; the pool then takes them over, as if it had been
// recreated (otherwise a restarted, reconfigured PE would be locked out until
// its old registration expired). An empty pool is removed.
//
// Pointers to entries stay valid until that entry is removed (deregistration,
// expiry, sweep, removal by owner, or a sole member re-registering with new
// pool characteristics). Updates, owner changes and resolutions keep them.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "rserpool/base/ip_address.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/core/node_arena.hpp"
#include "rserpool/core/pe_checksum.hpp"
#include "rserpool/core/policy.hpp"
#include "rserpool/core/random.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool::core {

using TimePoint = std::chrono::steady_clock::time_point;

class Pool;
class PoolElementEntry;

// What the handlespace's owner keeps with a PE beside its entry (the
// registrar: its record of a PE it is home for), so one lookup finds both.
// The owner's record type derives from it; the handlespace only carries the
// pointer, never creates, copies or frees a record, and tells its
// RemovalObserver before an entry that carries one goes. A base class
// instead of void*: only record types can be hung on an entry, and the
// owner's static_cast back to its type is checked by the compiler.
class HomeRecord {
 protected:
  HomeRecord() = default;
  ~HomeRecord() = default;  // never deleted through the base
  HomeRecord(const HomeRecord&) = default;
  HomeRecord& operator=(const HomeRecord&) = default;
};

namespace detail {
// Index keys are stored inline, so index comparisons never chase pointers.
// Equal times are ordered by when the expiry was set (a handlespace-wide
// sequence, a function of the inputs): the registrations of one turn share
// `now`, and a tie broken by (pool, PE id) sent each of them down the tree
// from the root; in setting order every new latest expiry goes in at the
// end hint (issue 16: about 110 instructions per registration).
struct ExpiryKey {
  std::chrono::steady_clock::time_point at;
  std::uint64_t sequence;
  friend auto operator<=>(const ExpiryKey&, const ExpiryKey&) = default;
};
// Nodes from the handlespace's arena (node_arena.hpp): no malloc per PE.
using ExpiryIndex = std::map<ExpiryKey, PoolElementEntry*, std::less<ExpiryKey>,
                             ArenaAllocator<std::pair<const ExpiryKey, PoolElementEntry*>>>;
}  // namespace detail

// Byte-wise pool handle order. Same order as PoolHandle's operator<=>, but
// written with memcmp because g++ 12 at -O2 raises a false
// -Wstringop-overread on std::vector<uint8_t>'s <=> (an error with -Werror).
struct PoolHandleLess {
  bool operator()(const PoolHandle& a, const PoolHandle& b) const noexcept;
};

// One PE and the bookkeeping the registrar keeps about it.
class PoolElementEntry {
 public:
  PoolElementEntry() = default;
  // A pool builds its member in place around the registered parameter.
  explicit PoolElementEntry(PoolElementParameter&& pe) noexcept : pe_(std::move(pe)) {}
  // The PE parameter as registered; home_registrar always equals owner().
  const PoolElementParameter& element() const noexcept { return pe_; }
  PeIdentifier id() const noexcept { return pe_.id; }
  ServerIdentifier owner() const noexcept { return pe_.home_registrar; }
  const PoolHandle& pool_handle() const noexcept;
  TimePoint registered_at() const noexcept { return registered_at_; }  // first registration
  TimePoint updated_at() const noexcept { return updated_at_; }        // last (re-)registration
  std::optional<TimePoint> expires_at() const noexcept { return expires_at_; }  // none = infinite life
  // Where the REGISTRATION (or ENRP update) came from, if the caller said.
  const std::optional<TransportAddress>& source() const noexcept { return source_; }
  bool marked() const noexcept { return marked_; }  // ENRP resync mark
  std::uint32_t unreachable_reports() const noexcept { return unreachable_reports_; }
  // LUD degradation counter (0 for other policies).
  std::uint32_t degradation_count() const;
  // Opaque bytes the caller may keep with the PE, typically its encoded PE
  // parameter TLV so that resolutions do not re-encode it. Cleared whenever
  // the PE parameter changes (re-registration, new home registrar).
  const Bytes& cached_encoding() const noexcept { return cached_encoding_; }
  // The pool's creation number: with id(), an order of entries that
  // depends on the inputs only (the registrar's keep-alive agenda and
  // association close order by it).
  std::uint64_t pool_rank() const noexcept;
  // The owner's record of the PE (see HomeRecord). Null unless set.
  HomeRecord* home_record() const noexcept { return home_record_; }

 private:
  friend class Handlespace;
  friend class Pool;
  PoolElementParameter pe_;
  Pool* pool_ = nullptr;
  Slot slot_ = 0;
  TimePoint registered_at_{};
  TimePoint updated_at_{};
  std::optional<TimePoint> expires_at_;
  std::optional<TransportAddress> source_;
  bool marked_ = false;
  std::uint32_t unreachable_reports_ = 0;
  Bytes cached_encoding_;
  HomeRecord* home_record_ = nullptr;
  // The owner index: a list per owner through its entries, linked and
  // unlinked in O(1) without a node. An ordered index here cost about 350
  // instructions per registration with its removal (issue 16: the tree's
  // search, insert and erase rebalancing); what needs the owner's PEs in
  // order (owned_by, takeover, the W-bit download) sorts or walks pools.
  PoolElementEntry* owner_prev_ = nullptr;
  PoolElementEntry* owner_next_ = nullptr;
  // Its position in the expiry index: removal and re-keying need no
  // search (std::map iterators stay valid until their own node is erased).
  detail::ExpiryIndex::iterator expiry_pos_{};
};

struct RegistrationContext {
  ServerIdentifier owner = 0;  // becomes the PE's home registrar
  TimePoint now{};
  std::optional<TransportAddress> source;
  // ASAP registrations: reject (0x4) a PE identifier that is already taken
  // by a PE whose user transport shares no address with the new one. ENRP
  // updates from peers leave it off: the peer has decided already.
  bool check_unique_id = false;
  // A policy type this implementation does not know: ASAP registrations
  // reject it (invalid values); a registrar may accept it from ENRP peers,
  // keeping the parameters verbatim and answering resolutions for such a
  // pool in round-robin order (the PU applies its own rule anyway).
  bool accept_unknown_policy = false;
};

struct RegistrationOutcome {
  bool new_element = false;            // false: re-registration (update)
  bool new_pool = false;
  ServerIdentifier previous_owner = 0;  // for an update; 0 for a new PE
  const PoolElementEntry* entry = nullptr;  // the registered PE (valid as find()'s pointers are)
};

// A rejected registration with what the Operation Error needs.
struct RegistrationRejection {
  ErrorCause cause = ErrorCause::unspecified;
  std::optional<PolicyParameters> pool_policy;       // 0x5: the pool's policy (type set)
  std::optional<TransportParameter> pool_transport;  // 0x7: a transport of the pool's type
  friend bool operator==(const RegistrationRejection&, const RegistrationRejection&) = default;
};

struct RemovedElement {
  PoolHandle pool;
  PoolElementParameter element;  // element.home_registrar = its owner
  bool pool_removed = false;     // it was the last member
};

// Keyset cursor for ENRP_HANDLE_TABLE_RESPONSE paging. A full download
// walks the entries in (pool handle, PE id) order; an own-children-only
// download (W bit) walks the owner's entries in (pool creation order, PE id)
// order, straight off the owner index. A page holds the entries strictly
// after the cursor as the handlespace is when the page is built. So,
// whatever changes between pages: an entry that exists for the whole session
// is sent exactly once, with its attributes as of its page; an entry added
// (removed) mid-session is sent iff its key is still ahead of the cursor when
// it is added (removed: iff it was already sent); no entry is sent twice,
// except, in W mode only, the PEs of a pool that was emptied and recreated
// mid-session (its new creation rank is ahead). Receivers merge a repeated
// entry by replacing it (RFC 5353), so that is harmless.
struct HandleTableCursor {
  std::optional<std::pair<PoolHandle, PeIdentifier>> last;  // nullopt: start
  std::uint64_t last_pool_rank = 0;                         // W mode
  friend bool operator==(const HandleTableCursor&, const HandleTableCursor&) = default;
};

struct HandleTablePage {
  std::vector<const PoolElementEntry*> entries;  // a pool's entries are adjacent
  HandleTableCursor next;                        // pass back for the next page
  bool more = false;                             // the M bit
};

// Told before an entry that carries a home record leaves the handlespace,
// whatever removes it (deregistration, expiry, a peer's update, a sweep, a
// sole member recreating its pool): the record's owner drops its record, so
// nothing outside the handlespace keeps a removed entry.
class RemovalObserver {
 public:
  // `record` is entry.home_record(); the entry is still listed.
  virtual void before_removal(const PoolElementEntry& entry, HomeRecord& record) = 0;

 protected:
  ~RemovalObserver() = default;
};

struct HandlespaceConfig {
  std::uint64_t seed = 1;         // for the random policies
  std::size_t max_increment = 1;  // see policy.hpp
};

class Handlespace {
 public:
  explicit Handlespace(HandlespaceConfig config = {});
  ~Handlespace();
  Handlespace(const Handlespace&) = delete;
  Handlespace& operator=(const Handlespace&) = delete;
  Handlespace(Handlespace&&) noexcept;
  Handlespace& operator=(Handlespace&&) noexcept;

  // ASAP_REGISTRATION grant or ENRP ADD_PE. The registration life comes from
  // pe.registration_life_ms (kInfiniteLifetime: never expires).
  Result<RegistrationOutcome, RegistrationRejection> register_element(const PoolHandle& pool,
                                                                      const PoolElementParameter& pe,
                                                                      const RegistrationContext& ctx);
  // The same, taking the PE's parameter over (its address lists move into
  // the handlespace instead of being copied). `pe` is left unspecified,
  // except that a re-registration leaves the replaced parameter in it
  // (so the caller may reuse its lists' storage).
  Result<RegistrationOutcome, RegistrationRejection> register_element(const PoolHandle& pool, PoolElementParameter&& pe,
                                                                      const RegistrationContext& ctx);
  // The same, the pool named by its handle's bytes (a view into a received
  // REGISTRATION: a PoolHandle is built only when the pool is new).
  Result<RegistrationOutcome, RegistrationRejection> register_element(ByteView pool, PoolElementParameter&& pe,
                                                                      const RegistrationContext& ctx);
  // A lookup of (pool, PE id) made before a registration, so that the
  // registration does not hash the handle and search the pool again. Valid
  // until the handlespace next changes.
  struct Found {
    Pool* pool = nullptr;               // nullptr: no such pool
    const PoolElementEntry* entry = nullptr;  // nullptr: no such PE
  };
  Found lookup(ByteView pool, PeIdentifier id) const;
  // register_element(pool, pe, ctx) with `found` = lookup(pool, pe.id),
  // nothing changed in between.
  Result<RegistrationOutcome, RegistrationRejection> register_element(ByteView pool, PoolElementParameter&& pe,
                                                                      const RegistrationContext& ctx,
                                                                      const Found& found);
  // nullopt when unknown (ASAP still answers success, RFC 5352 3.2).
  std::optional<RemovedElement> deregister_element(const PoolHandle& pool, PeIdentifier id);
  std::optional<RemovedElement> deregister_element(ByteView pool, PeIdentifier id);

  const PoolElementEntry* find(const PoolHandle& pool, PeIdentifier id) const;
  const PoolElementEntry* find(ByteView pool, PeIdentifier id) const;
  std::optional<PolicyType> pool_policy(const PoolHandle& pool) const;
  std::size_t pool_size(const PoolHandle& pool) const;
  std::size_t pool_count() const noexcept { return pools_.size(); }
  std::size_t element_count() const noexcept { return element_count_; }
  std::vector<PoolHandle> pool_handles() const;
  std::vector<const PoolElementEntry*> elements_of(const PoolHandle& pool) const;  // by PE id

  // Handle resolution: fills `out` (cleared first) with up to max_items PEs
  // chosen by the pool's policy and returns the pool's policy type (for the
  // overall policy parameter), or unknown_pool_handle.
  Result<PolicyType, ErrorCause> resolve(const PoolHandle& pool, std::size_t max_items,
                                         std::vector<const PoolElementEntry*>& out,
                                         std::optional<std::size_t> max_increment = {});
  // The same, the pool named by its handle's bytes (a view into a received
  // message: no PoolHandle is built).
  Result<PolicyType, ErrorCause> resolve(ByteView pool, std::size_t max_items,
                                         std::vector<const PoolElementEntry*>& out,
                                         std::optional<std::size_t> max_increment = {});

  // Owner (home registrar) index and the per-owner PE checksum.
  std::vector<const PoolElementEntry*> owned_by(ServerIdentifier owner) const;  // (pool rank, id) order
  std::size_t owned_count(ServerIdentifier owner) const;
  std::uint16_t pe_checksum(ServerIdentifier owner) const;
  std::uint16_t pe_checksum_rsplib(ServerIdentifier owner) const;  // see PeChecksum::value_rsplib
  std::vector<ServerIdentifier> owners() const;  // ascending

  // Registration lifetime expiry.
  std::optional<TimePoint> next_expiry() const;
  std::vector<RemovedElement> expire(TimePoint now);  // every PE with expiry <= now

  // ENRP resync: mark the peer's PEs, let the download re-register them
  // (which clears the mark), then sweep what is still marked.
  std::size_t mark_owned_by(ServerIdentifier owner);
  std::vector<RemovedElement> sweep_marked(ServerIdentifier owner);
  std::vector<RemovedElement> remove_owned_by(ServerIdentifier owner);

  // Takeover: every PE of `from` now has `to` as home. Returns the moved
  // entries (the new home sends each an ENDPOINT_KEEP_ALIVE with H=1).
  std::vector<const PoolElementEntry*> change_owner(ServerIdentifier from, ServerIdentifier to);
  bool set_owner(const PoolHandle& pool, PeIdentifier id, ServerIdentifier to);

  // ENDPOINT_UNREACHABLE bookkeeping: returns the PE's new report count
  // (0 if unknown). The caller compares it with MAX-BAD-PE-REPORT.
  std::uint32_t report_unreachable(const PoolHandle& pool, PeIdentifier id);

  // Stores bytes in entry.cached_encoding(); `entry` must belong to this
  // handlespace (any pointer it handed out and has not invalidated).
  void set_cached_encoding(const PoolElementEntry& entry, Bytes encoding);
  // Stores (or clears, with nullptr) entry.home_record(); same rule for
  // `entry`. One observer; nullptr: none.
  void set_home_record(const PoolElementEntry& entry, HomeRecord* record) noexcept;
  void set_removal_observer(RemovalObserver* observer) noexcept { observer_ = observer; }
  // Removes `entry` (any pointer handed out and not invalidated) without
  // looking it up.
  RemovedElement remove(const PoolElementEntry& entry);
  // The same without handing the removed PE back (a caller that read what
  // it needs from the entry first).
  void erase(const PoolElementEntry& entry);
  // The entry with the earliest expiry if that is <= now, else nullptr:
  // lets a caller remove expired PEs one at a time, reading what it keeps
  // with each (its home record) before it goes.
  const PoolElementEntry* first_expired(TimePoint now) const;

  HandleTablePage handle_table_page(const HandleTableCursor& from, std::size_t max_elements,
                                    std::optional<ServerIdentifier> owned_by = {}) const;

  Random& random() noexcept { return rng_; }

  using ExpiryKey = detail::ExpiryKey;

 private:
  struct OwnerRecord {
    PoolElementEntry* first = nullptr;  // the owner's entries, most recently added first
    std::size_t count = 0;
    PeChecksum checksum;
  };

  Pool* find_pool(const PoolHandle& pool) const { return find_pool(ByteView(pool.bytes())); }
  Pool* find_pool(ByteView pool) const;
  void owner_add(PoolElementEntry& e);
  void owner_remove(PoolElementEntry& e);
  // The owner's entries in (pool rank, PE id) order, into `out` (cleared).
  void owned_in_order(ServerIdentifier owner, std::vector<PoolElementEntry*>& out) const;
  void index_add(PoolElementEntry& e);
  void index_remove(PoolElementEntry& e);
  RemovedElement remove_entry(Pool& pool, PoolElementEntry& e);
  // The steps of a removal: the observer told and the indexes left, then
  // (after the entry left its pool) an emptied pool removed.
  void unindex(PoolElementEntry& e);
  void drop_pool(Pool& pool);
  RemovedElement remove_entry(Pool& pool, PeIdentifier id);
  PoolElementEntry& insert(Pool& pool, PoolElementParameter&& pe, const RegistrationContext& ctx,
                           TimePoint registered_at);
  RegistrationOutcome create_and_insert(ByteView handle, PoolElementParameter&& pe, const RegistrationContext& ctx,
                                        TimePoint registered_at, RegistrationOutcome outcome);
  void set_owner(PoolElementEntry& e, ServerIdentifier to);

  // Nodes of every per-PE index (pools' members, owner, expiry): freed
  // nodes are reused, so registrations and removals in steady state do not
  // allocate. Declared first: the indexes share it.
  std::shared_ptr<NodeArena> arena_;
  // Ordered by handle for the handle-table walk; hashed for lookups.
  std::map<PoolHandle, std::unique_ptr<Pool>, PoolHandleLess> pools_;
  std::unordered_map<std::string_view, Pool*> pool_lookup_;  // views into Pool::handle()
  std::map<std::uint64_t, Pool*> pools_by_rank_;  // the W-bit download's walk
  std::unordered_map<ServerIdentifier, OwnerRecord> owners_;
  detail::ExpiryIndex expiry_;
  std::uint64_t next_pool_rank_ = 1;
  std::uint64_t next_expiry_sequence_ = 0;
  std::size_t element_count_ = 0;
  std::size_t max_increment_ = 1;
  Random rng_;
  std::vector<Slot> scratch_;
  RemovalObserver* observer_ = nullptr;
};

}  // namespace rserpool::core
