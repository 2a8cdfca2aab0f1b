#pragma once
// Interned pool handles (issue 16): one copy of each pool handle, named by
// a small integer id, reference-counted by whoever keys things by it. A
// registrar keys the PEs it is home for by (handle id, PE identifier): its
// indexes compare two integers instead of two byte strings, and a new PE of
// a known pool copies no handle.
//
// Ids are slot numbers, reused after release in LIFO order: the same
// sequence of acquire/release calls gives the same ids (a core's run stays
// a pure function of its inputs). Lookup by the handle's bytes is one hash.
// Not thread-safe (one owner).
#include <cassert>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rserpool/base/bytes.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool::core {

class PoolHandleTable {
 public:
  using Id = std::uint32_t;

  // The id of a handle in the table (nullopt: nobody holds it).
  std::optional<Id> find(ByteView handle) const {
    auto it = index_.find(view(handle));
    if (it == index_.end()) return std::nullopt;
    return it->second;
  }
  // One more reference to `handle`, interning it if it is new.
  Id acquire(ByteView handle) {
    if (auto id = find(handle)) {
      ++slots_[*id].refs;
      return *id;
    }
    Id id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
      slots_[id].handle = PoolHandle(handle);
    } else {
      id = static_cast<Id>(slots_.size());
      slots_.push_back(Slot{PoolHandle(handle), 0});
    }
    slots_[id].refs = 1;
    // The key views the slot's own bytes: slots live in a deque, which
    // never moves an element when it grows (a short PoolHandle holds its
    // bytes inline, so moving the slot would move them).
    index_.emplace(view(slots_[id].handle.bytes()), id);
    return id;
  }
  // One more reference to a handle already held (its id from find() or
  // acquire()): no hashing.
  void add_ref(Id id) {
    assert(id < slots_.size() && slots_[id].refs > 0);
    ++slots_[id].refs;
  }
  void release(Id id) {
    assert(id < slots_.size() && slots_[id].refs > 0);
    if (--slots_[id].refs != 0) return;
    index_.erase(view(slots_[id].handle.bytes()));
    slots_[id].handle = PoolHandle{};
    free_.push_back(id);
  }
  const PoolHandle& handle(Id id) const { return slots_[id].handle; }
  std::size_t size() const noexcept { return index_.size(); }

 private:
  struct Slot {
    PoolHandle handle;
    std::uint32_t refs = 0;
  };
  static std::string_view view(ByteView b) noexcept {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }
  std::deque<Slot> slots_;
  std::vector<Id> free_;
  std::unordered_map<std::string_view, Id> index_;
};

}  // namespace rserpool::core
