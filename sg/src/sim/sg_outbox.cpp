#include "sg/sim/sg_outbox.hpp"

namespace sg::sim {

bool SgOutbox::active(LinkId id) const {
  auto it = links_.find(id);
  return it != links_.end() && it->second.active && !it->second.dying_since;
}

std::optional<SgOutbox::LinkId> SgOutbox::pick(LinkId preferred) const {
  if (preferred != 0 && active(preferred)) return preferred;
  for (const auto& [id, l] : links_)
    if (l.active && !l.dying_since) return id;
  return std::nullopt;
}

bool SgOutbox::dying() const {
  for (const auto& [id, l] : links_)
    if (l.dying_since) return true;
  return false;
}

void SgOutbox::bury(std::map<LinkId, Link>::iterator it, rserpool::TimePoint now) {
  // Older than anything that waits: the kernel's hand-back, then what was
  // refused, then what came after (held_).
  auto& l = it->second;
  changeover_.failed(it->first, now);
  for (auto r = l.refused.rbegin(); r != l.refused.rend(); ++r) held_.push_front(Held{std::move(*r), now});
  for (auto r = l.returned.rbegin(); r != l.returned.rend(); ++r) held_.push_front(Held{std::move(*r), now});
  links_.erase(it);
}

void SgOutbox::give_up_dying(rserpool::TimePoint now) {
  for (auto it = links_.begin(); it != links_.end();) {
    auto next = std::next(it);
    if (it->second.dying_since && now - *it->second.dying_since > cfg_.dying_bound) bury(it, now);
    it = next;
  }
}

void SgOutbox::hold(MtpMessage m, rserpool::TimePoint now, Steps& out) {
  while (!held_.empty() && (held_.size() >= cfg_.max_held || now - held_.front().since > cfg_.max_age)) {
    out.push_back(Step{Step::Kind::expired, 0, std::move(held_.front().message)});
    held_.pop_front();
    ++counters_.expired;
  }
  out.push_back(Step{Step::Kind::held, 0, m});
  held_.push_back(Held{std::move(m), now});
  ++counters_.held;
}

void SgOutbox::flush(rserpool::TimePoint now, Steps& out) {
  if (held_.empty() || dying()) return;
  const auto link = pick(0);
  if (!link) return;
  while (!held_.empty()) {
    auto& h = held_.front();
    if (now - h.since > cfg_.max_age) {
      out.push_back(Step{Step::Kind::expired, 0, std::move(h.message)});
      ++counters_.expired;
    } else {
      emit(*link, std::move(h.message), now, out);
    }
    held_.pop_front();
  }
}

void SgOutbox::link_active(LinkId id, rserpool::TimePoint now, Steps& out) {
  links_[id].active = true;
  give_up_dying(now);
  flush(now, out);
}

void SgOutbox::send(LinkId preferred, MtpMessage m, rserpool::TimePoint now, Steps& out) {
  give_up_dying(now);
  flush(now, out);
  const auto link = held_.empty() && !dying() ? pick(preferred) : std::nullopt;
  if (link)
    emit(*link, std::move(m), now, out);
  else
    hold(std::move(m), now, out);
}

void SgOutbox::refused(LinkId id, std::vector<MtpMessage> messages, rserpool::TimePoint now) {
  auto& l = links_[id];
  l.active = false;
  if (!l.dying_since) l.dying_since = now;
  counters_.refused += messages.size();
  for (auto& m : messages) l.refused.push_back(std::move(m));
}

void SgOutbox::handed_back(LinkId id, std::vector<MtpMessage> messages, rserpool::TimePoint now, Steps& out) {
  counters_.handed_back += messages.size();
  auto& l = links_[id];
  l.active = false;
  if (l.dying_since) {
    // Its end is near: these go first then, before what it refused.
    for (auto& m : messages) l.returned.push_back(std::move(m));
    return;
  }
  // Nothing of this association's was refused, so nothing newer left
  // through another: they go out again, behind what waits, once their
  // calls' changeover hold has let what the dead SG still sends go first.
  changeover_.failed(id, now);
  for (auto& m : messages) send(0, std::move(m), now, out);
}

void SgOutbox::emit(LinkId link, MtpMessage m, rserpool::TimePoint now, Steps& out) {
  if (changeover_.hold(m, now)) {
    out.push_back(Step{Step::Kind::changeover, link, std::move(m)});
    return;
  }
  changeover_.sent(link, m, now);
  out.push_back(Step{Step::Kind::send, link, std::move(m)});
}

void SgOutbox::on_timeout(rserpool::TimePoint now, Steps& out) {
  give_up_dying(now);
  flush(now, out);
  // Behind what waits for an SG, if anything does: it is older.
  for (auto& m : changeover_.release(now)) {
    const auto link = held_.empty() && !dying() ? pick(0) : std::nullopt;
    if (link)
      emit(*link, std::move(m), now, out);
    else
      hold(std::move(m), now, out);
  }
}

void SgOutbox::link_down(LinkId id, rserpool::TimePoint now, Steps& out) {
  if (auto it = links_.find(id); it != links_.end()) bury(it, now);
  give_up_dying(now);
  flush(now, out);
}

}  // namespace sg::sim
