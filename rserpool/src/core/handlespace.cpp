#include "rserpool/core/handlespace.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "pool.hpp"

namespace rserpool::core {

bool PoolHandleLess::operator()(const PoolHandle& a, const PoolHandle& b) const noexcept {
  const std::size_t n = std::min(a.bytes().size(), b.bytes().size());
  const int c = n == 0 ? 0 : std::memcmp(a.bytes().data(), b.bytes().data(), n);
  return c != 0 ? c < 0 : a.bytes().size() < b.bytes().size();
}

namespace {

// Two user transports that share no address cannot be the same PE.
bool disjoint(const TransportParameter& a, const TransportParameter& b) {
  if (a.addresses.empty() || b.addresses.empty()) return false;
  for (const auto& x : a.addresses)
    if (std::find(b.addresses.begin(), b.addresses.end(), x) != b.addresses.end()) return false;
  return true;
}

std::optional<TimePoint> expiry_of(const PoolElementParameter& pe, TimePoint now) {
  if (pe.registration_life_ms == kInfiniteLifetime) return std::nullopt;
  return now + std::chrono::milliseconds(pe.registration_life_ms);
}

RegistrationRejection reject(ErrorCause c) { return RegistrationRejection{c, std::nullopt, std::nullopt}; }

}  // namespace

// ---- PoolElementEntry -------------------------------------------------------

const PoolHandle& PoolElementEntry::pool_handle() const noexcept { return pool_->handle(); }

std::uint64_t PoolElementEntry::pool_rank() const noexcept { return pool_->rank(); }

std::uint32_t PoolElementEntry::degradation_count() const { return pool_->selection().degradation_count(slot_); }

// ---- Handlespace ------------------------------------------------------------

Handlespace::Handlespace(HandlespaceConfig config)
    : arena_(std::make_shared<NodeArena>()),
      expiry_(detail::ExpiryIndex::allocator_type(arena_)),
      max_increment_(config.max_increment),
      rng_(config.seed) {}
Handlespace::~Handlespace() = default;
Handlespace::Handlespace(Handlespace&&) noexcept = default;
Handlespace& Handlespace::operator=(Handlespace&&) noexcept = default;

Pool* Handlespace::find_pool(ByteView b) const {
  auto it = pool_lookup_.find(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  return it == pool_lookup_.end() ? nullptr : it->second;
}

namespace {
std::string_view view_of(const PoolHandle& h) {
  return {reinterpret_cast<const char*>(h.bytes().data()), h.bytes().size()};
}
}  // namespace

void Handlespace::owner_add(PoolElementEntry& e) {
  OwnerRecord& o = owners_[e.owner()];
  e.owner_prev_ = nullptr;
  e.owner_next_ = o.first;
  if (o.first != nullptr) o.first->owner_prev_ = &e;
  o.first = &e;
  ++o.count;
  o.checksum.add(pe_block_word_sum(e.pool_->handle_sum(), e.id()));
  e.pool_->count_owner(e.owner());
}

void Handlespace::owner_remove(PoolElementEntry& e) {
  auto it = owners_.find(e.owner());
  OwnerRecord& o = it->second;
  if (e.owner_prev_ != nullptr) {
    e.owner_prev_->owner_next_ = e.owner_next_;
  } else {
    o.first = e.owner_next_;
  }
  if (e.owner_next_ != nullptr) e.owner_next_->owner_prev_ = e.owner_prev_;
  e.owner_prev_ = e.owner_next_ = nullptr;
  o.checksum.remove(pe_block_word_sum(e.pool_->handle_sum(), e.id()));
  e.pool_->uncount_owner(e.owner());
  if (--o.count == 0) owners_.erase(it);
}

void Handlespace::owned_in_order(ServerIdentifier owner, std::vector<PoolElementEntry*>& out) const {
  out.clear();
  auto it = owners_.find(owner);
  if (it == owners_.end()) return;
  out.reserve(it->second.count);
  for (PoolElementEntry* e = it->second.first; e != nullptr; e = e->owner_next_) out.push_back(e);
  std::sort(out.begin(), out.end(), [](const PoolElementEntry* a, const PoolElementEntry* b) {
    const auto ra = a->pool_->rank();
    const auto rb = b->pool_->rank();
    return ra != rb ? ra < rb : a->id() < b->id();
  });
}

void Handlespace::index_add(PoolElementEntry& e) {
  owner_add(e);
  // Expiries mostly arrive in time order: hint at the end.
  if (e.expires_at_)
    e.expiry_pos_ = expiry_.emplace_hint(expiry_.end(), ExpiryKey{*e.expires_at_, next_expiry_sequence_++}, &e);
}

void Handlespace::index_remove(PoolElementEntry& e) {
  if (e.expires_at_) expiry_.erase(e.expiry_pos_);
  owner_remove(e);
}

Result<RegistrationOutcome, RegistrationRejection> Handlespace::register_element(const PoolHandle& handle,
                                                                                 const PoolElementParameter& pe,
                                                                                 const RegistrationContext& ctx) {
  return register_element(handle, PoolElementParameter(pe), ctx);
}

Result<RegistrationOutcome, RegistrationRejection> Handlespace::register_element(const PoolHandle& handle,
                                                                                 PoolElementParameter&& pe,
                                                                                 const RegistrationContext& ctx) {
  return register_element(handle.bytes(), std::move(pe), ctx);
}

Handlespace::Found Handlespace::lookup(ByteView handle, PeIdentifier id) const {
  Found f;
  f.pool = find_pool(handle);
  if (f.pool != nullptr) f.entry = f.pool->find(id);
  return f;
}

Result<RegistrationOutcome, RegistrationRejection> Handlespace::register_element(ByteView handle,
                                                                                 PoolElementParameter&& pe,
                                                                                 const RegistrationContext& ctx) {
  return register_element(handle, std::move(pe), ctx, lookup(handle, pe.id));
}

Result<RegistrationOutcome, RegistrationRejection> Handlespace::register_element(ByteView handle,
                                                                                 PoolElementParameter&& pe,
                                                                                 const RegistrationContext& ctx,
                                                                                 const Found& found) {
  if (handle.empty() || handle.size() > kMaxPoolHandleSize ||
      (find_policy(pe.policy.type) == nullptr && !ctx.accept_unknown_policy) ||
      pe.registration_life_ms < kInfiniteLifetime)
    return unexpected(reject(ErrorCause::invalid_values));

  RegistrationOutcome outcome;
  TimePoint registered_at = ctx.now;
  Pool* pool = found.pool;
  if (pool != nullptr) {
    // The handlespace owns every entry it hands out; only the view was const.
    PoolElementEntry* existing = const_cast<PoolElementEntry*>(found.entry);
    if (existing != nullptr && ctx.check_unique_id && disjoint(existing->pe_.user_transport, pe.user_transport))
      return unexpected(reject(ErrorCause::non_unique_pe_identifier));

    const bool same_policy = pe.policy.type == pool->policy_type();
    const bool same_protocol = pe.user_transport.protocol == pool->transport_template().protocol;
    const bool same_use = pe.user_transport.use == pool->transport_template().use;
    const bool sole_member = existing != nullptr && pool->size() == 1;
    if (!sole_member) {
      if (!same_policy) {
        PolicyParameters pool_policy;
        pool_policy.type = pool->policy_type();
        return unexpected(RegistrationRejection{ErrorCause::inconsistent_pooling_policy, pool_policy, std::nullopt});
      }
      if (!same_protocol)
        return unexpected(
            RegistrationRejection{ErrorCause::inconsistent_transport_type, std::nullopt, pool->transport_template()});
      if (!same_use) return unexpected(reject(ErrorCause::inconsistent_data_control));
    }

    if (existing != nullptr && same_policy && same_protocol && same_use) {
      // Re-registration: replace the attributes, keep the PE's slot. The
      // indexes are touched only where their key changes (the owner rarely
      // does; the expiry nearly always), and re-keyed in place.
      PoolElementEntry& e = *existing;
      outcome.previous_owner = e.owner();
      const bool owner_changes = e.owner() != ctx.owner;
      if (owner_changes) owner_remove(e);
      const std::optional<TimePoint> expires = expiry_of(pe, ctx.now);
      if (expires != e.expires_at_) {
        const ExpiryKey key{expires.value_or(TimePoint{}), next_expiry_sequence_++};
        if (e.expires_at_) {
          auto node = expiry_.extract(e.expiry_pos_);
          if (expires) {
            node.key() = key;
            e.expiry_pos_ = expiry_.insert(expiry_.end(), std::move(node));
          }
        } else if (expires) {
          e.expiry_pos_ = expiry_.emplace_hint(expiry_.end(), key, &e);
        }
      }
      // Swapped, not assigned: the caller gets the old parameter's address
      // lists back in `pe` and may reuse their storage (the registrar does).
      std::swap(e.pe_, pe);
      e.pe_.home_registrar = ctx.owner;
      e.updated_at_ = ctx.now;
      e.expires_at_ = expires;
      e.source_ = ctx.source;
      e.marked_ = false;
      e.unreachable_reports_ = 0;
      e.cached_encoding_.clear();
      pool->change_policy_values(e, e.pe_.policy);
      if (owner_changes) owner_add(e);
      outcome.entry = &e;
      return outcome;
    }
    if (existing != nullptr) {
      // The sole member changed the pool's characteristics: recreate it.
      outcome.previous_owner = existing->owner();
      registered_at = existing->registered_at_;
      // `handle` may view the pool's own copy, which goes with the pool.
      const PoolHandle kept(handle);
      (void)remove_entry(*pool, pe.id);
      pool = nullptr;
      return create_and_insert(kept.bytes(), std::move(pe), ctx, registered_at, outcome);
    } else {
      outcome.new_element = true;
    }
  } else {
    outcome.new_element = true;
  }

  if (pool != nullptr) {
    outcome.entry = &insert(*pool, std::move(pe), ctx, registered_at);
    return outcome;
  }
  return create_and_insert(handle, std::move(pe), ctx, registered_at, outcome);
}

RegistrationOutcome Handlespace::create_and_insert(ByteView handle, PoolElementParameter&& pe,
                                                  const RegistrationContext& ctx, TimePoint registered_at,
                                                  RegistrationOutcome outcome) {
  auto created = std::make_unique<Pool>(PoolHandle(handle), pe, next_pool_rank_++, arena_);
  Pool* pool = created.get();
  pool_lookup_.emplace(view_of(pool->handle()), pool);
  pools_by_rank_.emplace(pool->rank(), pool);
  pools_.emplace(pool->handle(), std::move(created));
  outcome.new_pool = true;
  outcome.entry = &insert(*pool, std::move(pe), ctx, registered_at);
  return outcome;
}

PoolElementEntry& Handlespace::insert(Pool& pool, PoolElementParameter&& pe, const RegistrationContext& ctx,
                                      TimePoint registered_at) {
  PoolElementEntry& e = pool.insert(std::move(pe));  // `pe` is not used below
  e.pe_.home_registrar = ctx.owner;
  e.registered_at_ = registered_at;
  e.updated_at_ = ctx.now;
  e.expires_at_ = expiry_of(e.pe_, ctx.now);
  e.source_ = ctx.source;
  index_add(e);
  ++element_count_;
  return e;
}

void Handlespace::unindex(PoolElementEntry& e) {
  if (e.home_record_ != nullptr && observer_ != nullptr) observer_->before_removal(e, *e.home_record_);
  e.home_record_ = nullptr;
  index_remove(e);
}

void Handlespace::drop_pool(Pool& pool) {
  pool_lookup_.erase(view_of(pool.handle()));
  pools_by_rank_.erase(pool.rank());
  pools_.erase(pools_.find(pool.handle()));  // destroys `pool`
}

RemovedElement Handlespace::remove_entry(Pool& pool, PoolElementEntry& e) {
  unindex(e);
  auto node = pool.extract(e);  // `e` lives in the node until it goes
  --element_count_;
  RemovedElement removed{pool.handle(), std::move(node.mapped().pe_), pool.size() == 0};
  if (removed.pool_removed) drop_pool(pool);
  return removed;
}

RemovedElement Handlespace::remove_entry(Pool& pool, PeIdentifier id) { return remove_entry(pool, *pool.find(id)); }

std::optional<RemovedElement> Handlespace::deregister_element(const PoolHandle& handle, PeIdentifier id) {
  return deregister_element(ByteView(handle.bytes()), id);
}

// One pool lookup and one PE lookup; the removal works on the entry found.
std::optional<RemovedElement> Handlespace::deregister_element(ByteView handle, PeIdentifier id) {
  Pool* pool = find_pool(handle);
  PoolElementEntry* e = pool == nullptr ? nullptr : pool->find(id);
  if (e == nullptr) return std::nullopt;
  return remove_entry(*pool, *e);
}

const PoolElementEntry* Handlespace::find(const PoolHandle& handle, PeIdentifier id) const {
  return find(handle.bytes(), id);
}

const PoolElementEntry* Handlespace::find(ByteView handle, PeIdentifier id) const {
  Pool* pool = find_pool(handle);
  return pool == nullptr ? nullptr : pool->find(id);
}

std::optional<PolicyType> Handlespace::pool_policy(const PoolHandle& handle) const {
  Pool* pool = find_pool(handle);
  if (pool == nullptr) return std::nullopt;
  return pool->policy_type();
}

std::size_t Handlespace::pool_size(const PoolHandle& handle) const {
  Pool* pool = find_pool(handle);
  return pool == nullptr ? 0 : pool->size();
}

std::vector<PoolHandle> Handlespace::pool_handles() const {
  std::vector<PoolHandle> out;
  out.reserve(pools_.size());
  for (const auto& [h, p] : pools_) out.push_back(h);
  return out;
}

std::vector<const PoolElementEntry*> Handlespace::elements_of(const PoolHandle& handle) const {
  std::vector<const PoolElementEntry*> out;
  if (Pool* pool = find_pool(handle)) {
    out.reserve(pool->size());
    for (const auto& [id, e] : pool->elements()) out.push_back(&e);
  }
  return out;
}

Result<PolicyType, ErrorCause> Handlespace::resolve(const PoolHandle& handle, std::size_t max_items,
                                                    std::vector<const PoolElementEntry*>& out,
                                                    std::optional<std::size_t> max_increment) {
  return resolve(ByteView(handle.bytes()), max_items, out, max_increment);
}

Result<PolicyType, ErrorCause> Handlespace::resolve(ByteView handle, std::size_t max_items,
                                                    std::vector<const PoolElementEntry*>& out,
                                                    std::optional<std::size_t> max_increment) {
  out.clear();
  Pool* pool = find_pool(handle);
  if (pool == nullptr) return unexpected(ErrorCause::unknown_pool_handle);
  pool->select(max_items, max_increment.value_or(max_increment_), rng_, scratch_, out);
  return pool->policy_type();
}

std::vector<const PoolElementEntry*> Handlespace::owned_by(ServerIdentifier owner) const {
  std::vector<PoolElementEntry*> entries;
  owned_in_order(owner, entries);
  return {entries.begin(), entries.end()};
}

std::size_t Handlespace::owned_count(ServerIdentifier owner) const {
  auto it = owners_.find(owner);
  return it == owners_.end() ? 0 : it->second.count;
}

std::uint16_t Handlespace::pe_checksum(ServerIdentifier owner) const {
  auto it = owners_.find(owner);
  return it == owners_.end() ? PeChecksum{}.value() : it->second.checksum.value();
}

std::uint16_t Handlespace::pe_checksum_rsplib(ServerIdentifier owner) const {
  auto it = owners_.find(owner);
  return it == owners_.end() ? PeChecksum{}.value_rsplib() : it->second.checksum.value_rsplib();
}

std::vector<ServerIdentifier> Handlespace::owners() const {
  std::vector<ServerIdentifier> out;
  out.reserve(owners_.size());
  for (const auto& [id, rec] : owners_) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<TimePoint> Handlespace::next_expiry() const {
  if (expiry_.empty()) return std::nullopt;
  return expiry_.begin()->first.at;
}

std::vector<RemovedElement> Handlespace::expire(TimePoint now) {
  std::vector<RemovedElement> out;
  while (!expiry_.empty() && expiry_.begin()->first.at <= now) {
    PoolElementEntry* e = expiry_.begin()->second;
    out.push_back(remove_entry(*e->pool_, *e));
  }
  return out;
}

std::size_t Handlespace::mark_owned_by(ServerIdentifier owner) {
  auto it = owners_.find(owner);
  if (it == owners_.end()) return 0;
  for (PoolElementEntry* e = it->second.first; e != nullptr; e = e->owner_next_) e->marked_ = true;
  return it->second.count;
}

// Removals in (pool rank, PE id) order: the order of what the caller
// reports is a function of the inputs.
std::vector<RemovedElement> Handlespace::sweep_marked(ServerIdentifier owner) {
  std::vector<PoolElementEntry*> entries;
  owned_in_order(owner, entries);
  std::vector<std::pair<PoolHandle, PeIdentifier>> doomed;
  for (const PoolElementEntry* e : entries)
    if (e->marked()) doomed.emplace_back(e->pool_handle(), e->id());
  std::vector<RemovedElement> out;
  out.reserve(doomed.size());
  for (const auto& [h, id] : doomed) out.push_back(remove_entry(*find_pool(h), id));
  return out;
}

std::vector<RemovedElement> Handlespace::remove_owned_by(ServerIdentifier owner) {
  std::vector<PoolElementEntry*> entries;
  owned_in_order(owner, entries);
  std::vector<std::pair<PoolHandle, PeIdentifier>> doomed;
  doomed.reserve(entries.size());
  for (const PoolElementEntry* e : entries) doomed.emplace_back(e->pool_handle(), e->id());
  std::vector<RemovedElement> out;
  out.reserve(doomed.size());
  for (const auto& [h, id] : doomed) out.push_back(remove_entry(*find_pool(h), id));
  return out;
}

void Handlespace::set_owner(PoolElementEntry& e, ServerIdentifier to) {
  if (e.owner() == to) return;
  owner_remove(e);
  e.pe_.home_registrar = to;
  e.cached_encoding_.clear();  // the home registrar is part of the PE parameter
  e.marked_ = false;           // the mark belonged to the resync of the old owner
  owner_add(e);
}

std::vector<const PoolElementEntry*> Handlespace::change_owner(ServerIdentifier from, ServerIdentifier to) {
  std::vector<const PoolElementEntry*> moved;
  std::vector<PoolElementEntry*> entries;
  owned_in_order(from, entries);
  if (entries.empty()) return moved;
  for (PoolElementEntry* e : entries) set_owner(*e, to);
  moved.assign(entries.begin(), entries.end());
  return moved;
}

bool Handlespace::set_owner(const PoolHandle& handle, PeIdentifier id, ServerIdentifier to) {
  Pool* pool = find_pool(handle);
  PoolElementEntry* e = pool == nullptr ? nullptr : pool->find(id);
  if (e == nullptr) return false;
  set_owner(*e, to);
  return true;
}

std::uint32_t Handlespace::report_unreachable(const PoolHandle& handle, PeIdentifier id) {
  Pool* pool = find_pool(handle);
  PoolElementEntry* e = pool == nullptr ? nullptr : pool->find(id);
  if (e == nullptr) return 0;
  if (e->unreachable_reports_ != UINT32_MAX) ++e->unreachable_reports_;
  return e->unreachable_reports_;
}

void Handlespace::set_home_record(const PoolElementEntry& entry, HomeRecord* record) noexcept {
  const_cast<PoolElementEntry&>(entry).home_record_ = record;
}

RemovedElement Handlespace::remove(const PoolElementEntry& entry) {
  auto& e = const_cast<PoolElementEntry&>(entry);
  return remove_entry(*e.pool_, e);
}

void Handlespace::erase(const PoolElementEntry& entry) {
  auto& e = const_cast<PoolElementEntry&>(entry);
  Pool& pool = *e.pool_;
  unindex(e);
  (void)pool.extract(e);  // the node, and `e` with it, goes here
  --element_count_;
  if (pool.size() == 0) drop_pool(pool);
}

const PoolElementEntry* Handlespace::first_expired(TimePoint now) const {
  if (expiry_.empty() || expiry_.begin()->first.at > now) return nullptr;
  return expiry_.begin()->second;
}

void Handlespace::set_cached_encoding(const PoolElementEntry& entry, Bytes encoding) {
  // The handlespace owns every entry it hands out; only the view was const.
  const_cast<PoolElementEntry&>(entry).cached_encoding_ = std::move(encoding);
}

HandleTablePage Handlespace::handle_table_page(const HandleTableCursor& from, std::size_t max_elements,
                                               std::optional<ServerIdentifier> owned_by) const {
  HandleTablePage page;
  page.next = from;
  const std::size_t limit = std::max<std::size_t>(max_elements, 1);

  if (owned_by) {
    // The owner's entries strictly after (last pool rank, last PE id):
    // pools in creation order, those without the owner's PEs skipped,
    // each pool's members in id order, filtered by owner.
    const ServerIdentifier owner = *owned_by;
    if (owners_.find(owner) == owners_.end()) return page;
    auto pit = from.last ? pools_by_rank_.lower_bound(from.last_pool_rank) : pools_by_rank_.begin();
    for (; pit != pools_by_rank_.end() && !page.more; ++pit) {
      const Pool& pool = *pit->second;
      if (pool.owned_count(owner) == 0) continue;
      const auto& elements = pool.elements();
      const bool resume_inside = from.last && pit->first == from.last_pool_rank;
      auto eit = resume_inside ? elements.upper_bound(from.last->second) : elements.begin();
      for (; eit != elements.end(); ++eit) {
        if (eit->second.owner() != owner) continue;
        if (page.entries.size() == limit) {
          page.more = true;
          break;
        }
        page.entries.push_back(&eit->second);
      }
    }
  } else {
    auto pit = from.last ? pools_.lower_bound(from.last->first) : pools_.begin();
    bool resume_inside = from.last && pit != pools_.end() && !PoolHandleLess{}(from.last->first, pit->first);
    for (; pit != pools_.end(); ++pit, resume_inside = false) {
      const auto& elements = pit->second->elements();
      auto eit = resume_inside ? elements.upper_bound(from.last->second) : elements.begin();
      for (; eit != elements.end(); ++eit) {
        if (page.entries.size() == limit) {
          page.more = true;
          break;
        }
        page.entries.push_back(&eit->second);
      }
      if (page.more) break;
    }
  }
  if (!page.entries.empty()) {
    const PoolElementEntry* e = page.entries.back();
    page.next.last = std::make_pair(e->pool_handle(), e->id());
    page.next.last_pool_rank = e->pool_->rank();
  }
  return page;
}

}  // namespace rserpool::core
