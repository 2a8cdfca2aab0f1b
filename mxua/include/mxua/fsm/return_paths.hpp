#pragma once
// Return paths of an SG's SS7 side: DATA that arrives from the SS7 side
// with OPC X teaches where DATA for DPC X goes back (the peer and routing
// context it came through), so an answer follows the path of the request.
// A sans-I/O table with three rules, each a defence:
//
//   Bounded.  At most `capacity` point codes; the least recently used entry
//             is forgotten first (a flood of invented OPCs costs its sender
//             the oldest entries, not the process memory, and never the
//             whole table at once).
//   Owned.    An entry belongs to the peer (owner) that first taught it
//             while that peer has a link up; another owner's DATA with the
//             same OPC does not move it (counted as refused). A point code
//             an owner is configured to originate (its OPC screen) is that
//             owner's alone: nobody else can teach it, and DATA for it goes
//             only to that owner's paths.
//   Released. When an owner's last link goes down its entries go, so its
//             destinations fall back to the default paths at once.
//
// Owners are numbers the SS7 side gives its peers (configured SGP peers,
// STP connections, associations of unconfigured peers).
#include <algorithm>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "mxua/point_code.hpp"

namespace mxua {

using PathOwner = std::uint32_t;

struct ReturnPath {
  PathOwner owner = 0;
  std::optional<std::uint32_t> routing_context;
  friend bool operator==(const ReturnPath&, const ReturnPath&) = default;
};

struct ReturnPathCounters {
  std::uint64_t learned = 0;   // new entries
  std::uint64_t refused = 0;   // DATA that tried to move another owner's entry
  std::uint64_t evicted = 0;   // least recently used entries forgotten at capacity
  std::uint64_t released = 0;  // entries forgotten because their owner went down
};

class ReturnPaths {
 public:
  explicit ReturnPaths(std::size_t capacity = 65536) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Point codes `owner` is configured to originate: its own, whoever sends them.
  void set_owned(PathOwner owner, std::vector<MaskedPointCode> pcs);
  // A path for destinations nothing was learnt for, in the order added.
  void add_default(ReturnPath p) { defaults_.push_back(p); }

  void link_up(PathOwner owner) { ++links_[owner]; }
  // The owner's last link gone: its learnt entries are released.
  void link_down(PathOwner owner);

  enum class Learn : std::uint8_t { New, Refreshed, Refused };
  // DATA from the SS7 side with this OPC arrived over `via`.
  Learn learn(PointCode opc, const ReturnPath& via);

  // Offers the paths for DATA to `dpc`, best first, to `try_path` until it
  // returns true (the path was usable and the DATA sent): the learnt path,
  // then the default paths; for a destination an owner is configured to
  // originate, only that owner's paths. Returns whether one took it.
  template <class F>
  bool route(PointCode dpc, F&& try_path) {
    auto allowed = [&](const ReturnPath& p) {
      const Ownership o = ownership(dpc, p.owner);
      return !o.any || o.mine;
    };
    std::optional<ReturnPath> first;
    if (!lru_.empty() && lru_.front().pc == dpc.value) {
      first = lru_.front().path;  // the most recently used already: no lookup, no move (issue 16)
      if (allowed(*first) && try_path(*first)) return true;
    } else if (auto it = index_.find(dpc.value); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);  // recently used
      first = it->second->path;
      if (allowed(*first) && try_path(*first)) return true;
    }
    for (const auto& p : defaults_)
      if (allowed(p) && p != first && try_path(p)) return true;
    return false;
  }

  std::optional<ReturnPath> lookup(PointCode dpc) const;
  std::size_t size() const noexcept { return index_.size(); }
  std::size_t capacity() const noexcept { return capacity_; }
  const ReturnPathCounters& counters() const noexcept { return counters_; }
  std::size_t links(PathOwner owner) const;

 private:
  struct Entry {
    std::uint32_t pc = 0;
    ReturnPath path;
  };
  // Whether `pc` is any owner's configured point code, and whether it is
  // `owner`'s (no list of owners built per DATA: issue 16).
  struct Ownership {
    bool any = false;
    bool mine = false;
  };
  Ownership ownership(PointCode pc, PathOwner owner) const {
    // No owner has configured point codes (no OPC screens): nothing to
    // look through, and no call per DATA (issue 16).
    if (owned_.empty()) return {};
    return configured_ownership(pc, owner);
  }
  Ownership configured_ownership(PointCode pc, PathOwner owner) const;

  std::size_t capacity_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::uint32_t, std::list<Entry>::iterator> index_;
  std::map<PathOwner, std::vector<MaskedPointCode>> owned_;
  std::map<PathOwner, std::size_t> links_;
  std::vector<ReturnPath> defaults_;
  ReturnPathCounters counters_;
};

}  // namespace mxua
