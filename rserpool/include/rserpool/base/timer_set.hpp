#pragma once
// The keyed timer set every sans-I/O core keeps its timers in.
//
// Convention (docs/architecture.md, "The substrate"): a core arms and
// cancels its own timers here; it exposes next_deadline() (the earliest
// armed instant) and on_timeout(now), which pops what is due with
// take_due(). The driver holds one OS timer per core, armed at
// next_deadline() after every event, and calls on_timeout(now) when it
// fires. Re-arming a key replaces its deadline, so a stale expiry cannot
// exist: what is not in the set is not due.
//
// Ties are broken by key order, so a run is a pure function of its inputs.
//
// changes() counts every change to the set: a driver that remembers it
// after asking next_deadline() need not ask again while it stands still
// (issue 16: the M3UA runners asked after every relayed message, when no
// timer had moved).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "rserpool/base/time.hpp"

namespace rserpool {

template <class Key, class Less = std::less<Key>>
class TimerSet {
 public:
  // Arms `key` at `at`, replacing an earlier deadline of the same key.
  void arm(const Key& key, TimePoint at) {
    auto [it, inserted] = by_key_.try_emplace(key, at);
    if (!inserted) {
      if (it->second == at) return;
      by_time_.erase(Entry{it->second, &it->first});
      it->second = at;
    }
    by_time_.insert(Entry{at, &it->first});
    ++changes_;
  }
  // Arms `key` unless it is armed already (earliest wins otherwise).
  void arm_at_most(const Key& key, TimePoint at) {
    auto it = by_key_.find(key);
    if (it == by_key_.end() || at < it->second) arm(key, at);
  }
  // True when the key was armed.
  bool cancel(const Key& key) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return false;
    by_time_.erase(Entry{it->second, &it->first});
    by_key_.erase(it);
    ++changes_;
    return true;
  }
  bool armed(const Key& key) const { return by_key_.count(key) != 0; }
  std::optional<TimePoint> deadline(const Key& key) const {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<TimePoint> next_deadline() const {
    if (by_time_.empty()) return std::nullopt;
    return by_time_.begin()->at;
  }
  // Removes and returns the earliest key due at `now`, if any. Call it in a
  // loop: handling one expiry may arm (or cancel) others.
  std::optional<Key> take_due(TimePoint now) {
    if (by_time_.empty() || by_time_.begin()->at > now) return std::nullopt;
    const Key* k = by_time_.begin()->key;
    by_time_.erase(by_time_.begin());
    auto node = by_key_.extract(*k);
    ++changes_;
    return std::move(node.key());
  }
  std::size_t size() const noexcept { return by_key_.size(); }
  bool empty() const noexcept { return by_key_.empty(); }
  void clear() {
    if (!by_key_.empty()) ++changes_;
    by_time_.clear();
    by_key_.clear();
  }
  // Grows with every arm that moved a deadline, every cancel of an armed
  // key, every take_due that took one and every clear of a non-empty set:
  // while it stands still, next_deadline() has not changed.
  std::uint64_t changes() const noexcept { return changes_; }
  // Every armed key with its deadline, in key order (for inspection).
  const std::map<Key, TimePoint, Less>& entries() const noexcept { return by_key_; }

 private:
  struct Entry {
    TimePoint at;
    const Key* key;  // points into by_key_ (map nodes never move)
  };
  struct EntryLess {
    bool operator()(const Entry& a, const Entry& b) const {
      if (a.at != b.at) return a.at < b.at;
      return Less{}(*a.key, *b.key);
    }
  };
  std::map<Key, TimePoint, Less> by_key_;
  std::set<Entry, EntryLess> by_time_;
  std::uint64_t changes_ = 0;
};

}  // namespace rserpool
