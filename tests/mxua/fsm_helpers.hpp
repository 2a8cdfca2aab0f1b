#pragma once
// Helpers for the state-machine tests: pick actions by type, decode what was
// sent, and a virtual timer wheel that follows StartTimer / StopTimer.
#include <gtest/gtest.h>

#include <map>

#include "mxua/codec.hpp"
#include "mxua/fsm/actions.hpp"

namespace mxua::test {

using namespace std::chrono_literals;

struct Sent {
  AssocId assoc;
  std::uint16_t stream;
  Message msg;
};

inline std::vector<Sent> sent(const Actions& as) {
  std::vector<Sent> out;
  for (const auto& a : as)
    if (const auto* s = std::get_if<Send>(&a)) {
      auto m = decode(s->bytes);
      EXPECT_TRUE(m.ok()) << "we sent something we cannot decode: " << (m.ok() ? "" : m.error().detail);
      if (m.ok()) out.push_back(Sent{s->assoc, s->stream, std::move(*m)});
    }
  return out;
}

template <class T>
std::vector<T> all_of(const Actions& as) {
  std::vector<T> out;
  for (const auto& a : as)
    if (const auto* x = std::get_if<T>(&a)) out.push_back(*x);
  return out;
}

template <class M>
std::vector<M> sent_of(const Actions& as, std::optional<AssocId> to = std::nullopt) {
  std::vector<M> out;
  for (auto& s : sent(as))
    if ((!to || s.assoc == *to) && std::holds_alternative<M>(s.msg)) out.push_back(std::get<M>(s.msg));
  return out;
}

inline std::vector<ErrorCode> errs(const Actions& as, std::optional<AssocId> to = std::nullopt) {
  std::vector<ErrorCode> out;
  for (const auto& e : sent_of<Err>(as, to)) out.push_back(e.code);
  return out;
}

// Index of the first Send of message type M (to `to`), or -1.
template <class M>
int index_of(const Actions& as, std::optional<AssocId> to = std::nullopt) {
  for (std::size_t i = 0; i < as.size(); ++i)
    if (const auto* s = std::get_if<Send>(&as[i]); s && (!to || s->assoc == *to)) {
      auto m = decode(s->bytes);
      if (m.ok() && std::holds_alternative<M>(*m)) return static_cast<int>(i);
    }
  return -1;
}

inline int count_drops(const Actions& as, DropReason r) {
  int n = 0;
  for (const auto& d : all_of<Drop>(as))
    if (d.reason == r) n += static_cast<int>(d.count);
  return n;
}

inline std::vector<Ntfy> ntfys(const Actions& as, AssocId to) { return sent_of<Ntfy>(as, to); }

inline bool has_ntfy(const Actions& as, AssocId to, StatusType t, std::uint16_t info) {
  for (const auto& n : ntfys(as, to))
    if (n.status.type == t && n.status.info == info) return true;
  return false;
}

// Virtual timers: the test advances time and fires what expired.
class Timers {
 public:
  void apply(const Actions& as, TimePoint now) {
    for (const auto& a : as) {
      if (const auto* s = std::get_if<StartTimer>(&a)) running_[s->id] = now + s->duration;
      if (const auto* s = std::get_if<StopTimer>(&a)) running_.erase(s->id);
    }
  }
  bool running(TimerId id) const { return running_.count(id) != 0; }
  std::optional<TimePoint> deadline(TimerId id) const {
    auto it = running_.find(id);
    if (it == running_.end()) return std::nullopt;
    return it->second;
  }
  // The earliest timer due at or before `until`, removed from the wheel.
  std::optional<std::pair<TimerId, TimePoint>> pop_due(TimePoint until) {
    auto best = running_.end();
    for (auto it = running_.begin(); it != running_.end(); ++it)
      if (it->second <= until && (best == running_.end() || it->second < best->second)) best = it;
    if (best == running_.end()) return std::nullopt;
    auto r = *best;
    running_.erase(best);
    return r;
  }

 private:
  std::map<TimerId, TimePoint> running_;
};

}  // namespace mxua::test
