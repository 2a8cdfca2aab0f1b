#pragma once
// Helpers for the state-machine tests: pick actions by type, read what was
// sent (each message is encoded and decoded again, so what a core emits is
// also checked to be encodable), and virtual time: instants are
// TimePoint{} + an offset, and a core's timers run through its
// next_deadline() / on_timeout(now).
#include <gtest/gtest.h>

#include <map>

#include "mxua/codec.hpp"
#include "mxua/fsm/actions.hpp"

namespace mxua::test {

using namespace std::chrono_literals;

// An instant of virtual time: the epoch plus `d`.
constexpr TimePoint at(Duration d) noexcept { return TimePoint{} + d; }

// The bytes a driver would put on the wire for a Send / SendData.
inline Bytes wire_of(const Action& a) {
  Bytes b;
  if (const auto* s = std::get_if<Send>(&a)) encode(s->message, b);
  if (const auto* s = std::get_if<SendData>(&a)) encode_data(s->view(), b);
  return b;
}

inline std::uint16_t stream_of(const Action& a) {
  if (const auto* s = std::get_if<Send>(&a)) return s->stream;
  if (const auto* s = std::get_if<SendData>(&a)) return s->stream;
  return 0;
}

struct Sent {
  AssocId assoc;
  std::uint16_t stream;
  Message msg;
};

inline std::vector<Sent> sent(const Actions& as) {
  std::vector<Sent> out;
  for (const auto& a : as) {
    AssocId to = 0;
    std::uint16_t stream = 0;
    if (const auto* s = std::get_if<Send>(&a)) to = s->assoc, stream = s->stream;
    else if (const auto* d = std::get_if<SendData>(&a)) to = d->assoc, stream = d->stream;
    else continue;
    auto m = decode(wire_of(a));
    EXPECT_TRUE(m.ok()) << "we sent something we cannot decode: " << (m.ok() ? "" : m.error().detail);
    if (m.ok()) out.push_back(Sent{to, stream, std::move(*m)});
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
  for (std::size_t i = 0; i < as.size(); ++i) {
    if (const auto* s = std::get_if<Send>(&as[i]); s && (!to || s->assoc == *to) && std::holds_alternative<M>(s->message))
      return static_cast<int>(i);
    if constexpr (std::is_same_v<M, Data>)
      if (const auto* d = std::get_if<SendData>(&as[i]); d && (!to || d->assoc == *to)) return static_cast<int>(i);
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

// Runs a core's timers in deadline order up to `until` (each expiry at its
// own deadline) and returns what they did, with the instants they fired at.
struct Expiries {
  Actions actions;
  std::vector<TimePoint> fired;
};
template <class Core>
Expiries advance(Core& core, TimePoint until) {
  Expiries e;
  while (auto due = core.next_deadline()) {
    if (*due > until) break;
    auto acts = core.on_timeout(*due);
    e.fired.push_back(*due);
    e.actions.insert(e.actions.end(), std::make_move_iterator(acts.begin()), std::make_move_iterator(acts.end()));
  }
  return e;
}

}  // namespace mxua::test
