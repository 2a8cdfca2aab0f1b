#include "sg/sim/changeover_hold.hpp"

#include <algorithm>

#include "sg/routing/flow.hpp"

namespace sg::sim {

std::optional<ChangeoverHold::CallKey> ChangeoverHold::call_of(const MtpMessage& m) {
  // The gateway's own classifier (the user part, wherever it lies in its
  // buffer); 14 bits: enough for either variant's CIC, the spare bits ignored.
  const auto c = classify(m, ss7::IsupVariant::ansi);
  if (!c.cic) return std::nullopt;
  return (static_cast<CallKey>(m.opc & 0xFFFFFF) << 40) | (static_cast<CallKey>(m.dpc & 0xFFFFFF) << 16) | *c.cic;
}

void ChangeoverHold::prune(rserpool::TimePoint now) {
  // Once per `recent`: what is older cannot make a call wait.
  if (now - pruned_ < cfg_.recent) return;
  pruned_ = now;
  std::erase_if(last_, [&](const auto& e) { return now - e.second.at > cfg_.recent; });
}

void ChangeoverHold::sent(LinkId link, const MtpMessage& m, rserpool::TimePoint now) {
  if (cfg_.hold.count() == 0) return;
  if (auto k = call_of(m)) last_[*k] = Last{link, now};
  prune(now);
}

void ChangeoverHold::failed(LinkId link, rserpool::TimePoint now) {
  if (cfg_.hold.count() == 0) return;
  for (auto it = last_.begin(); it != last_.end();) {
    if (it->second.link == link && now - it->second.at <= cfg_.recent) {
      // The first failure seen counts: a hand-back and the end of the same
      // association do not extend the hold.
      if (held_.try_emplace(it->first, Held{now + cfg_.hold, {}}).second) ++calls_held_;
      it = last_.erase(it);
    } else {
      ++it;
    }
  }
}

bool ChangeoverHold::hold(const MtpMessage& m, rserpool::TimePoint now) {
  if (held_.empty()) return false;
  auto k = call_of(m);
  if (!k) return false;
  auto it = held_.find(*k);
  if (it == held_.end()) return false;
  if (now >= it->second.until && it->second.messages.empty()) {
    held_.erase(it);
    return false;
  }
  it->second.messages.push_back(m);
  ++messages_held_;
  return true;
}

std::vector<MtpMessage> ChangeoverHold::release(rserpool::TimePoint now) {
  std::vector<MtpMessage> out;
  // Calls whose hold ended together leave in the order their holds began.
  std::vector<std::map<CallKey, Held>::iterator> due;
  for (auto it = held_.begin(); it != held_.end(); ++it)
    if (now >= it->second.until) due.push_back(it);
  std::stable_sort(due.begin(), due.end(), [](auto a, auto b) { return a->second.until < b->second.until; });
  for (auto it : due) {
    for (auto& m : it->second.messages) out.push_back(std::move(m));
    held_.erase(it);
  }
  return out;
}

std::optional<rserpool::TimePoint> ChangeoverHold::next_deadline() const {
  std::optional<rserpool::TimePoint> t;
  for (const auto& [k, h] : held_)
    if (!t || h.until < *t) t = h.until;
  return t;
}

std::size_t ChangeoverHold::waiting() const noexcept {
  std::size_t n = 0;
  for (const auto& [k, h] : held_) n += h.messages.size();
  return n;
}

}  // namespace sg::sim
