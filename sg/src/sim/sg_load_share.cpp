#include "sg/sim/sg_load_share.hpp"

#include <algorithm>

namespace sg::sim {

SgLoadShare::SgLoadShare(SgLoadShareConfig config) : config_(config), sgs_(std::max<std::size_t>(config.sgs, 1)) {
  counters_.sent.assign(sgs_.size(), 0);
}

bool SgLoadShare::any_active() const {
  return std::any_of(sgs_.begin(), sgs_.end(), [](const Sg& s) { return s.active; });
}

std::optional<std::size_t> SgLoadShare::pick(std::uint8_t sls) const {
  const std::size_t n = sgs_.size();
  const std::size_t home = sls % n;
  for (std::size_t i = 0; i < n; ++i)
    if (sgs_[(home + i) % n].active) return (home + i) % n;
  return std::nullopt;
}

std::optional<std::size_t> SgLoadShare::route_of(std::uint8_t sls) const { return pick(sls); }

void SgLoadShare::hold(MtpMessage m, rserpool::TimePoint since) {
  if (config_.max_wait.count() <= 0 || config_.max_held == 0) {
    ++counters_.dropped;
    return;
  }
  if (held_.size() >= config_.max_held) {
    held_.pop_front();
    ++counters_.dropped;
  }
  held_.push_back(Held{std::move(m), since});
  ++counters_.held;
}

void SgLoadShare::route(MtpMessage m, rserpool::TimePoint now, std::vector<Send>& out) {
  const auto sg = pick(m.sls);
  if (!sg) {
    hold(std::move(m), now);
    return;
  }
  Sg& s = sgs_[*sg];
  // Its own SLS, back from a diversion: behind the changeback (and behind
  // what waits there already, in order).
  if (s.changeback_until && *sg == m.sls % sgs_.size()) {
    s.changeback_held.push_back(std::move(m));
    ++counters_.held;
    return;
  }
  const std::size_t home = m.sls % sgs_.size();
  if (*sg != home) sgs_[home].diverted = true;
  ++counters_.sent[*sg];
  out.push_back(Send{*sg, std::move(m)});
}

void SgLoadShare::flush(rserpool::TimePoint now, std::vector<Send>& out) {
  std::deque<Held> waiting = std::move(held_);
  held_.clear();
  for (auto& h : waiting) route(std::move(h.message), now, out);
}

std::vector<SgLoadShare::Send> SgLoadShare::send(MtpMessage m, rserpool::TimePoint now) {
  std::vector<Send> out;
  // Behind anything that waits for an SG: order.
  if (!held_.empty()) {
    hold(std::move(m), now);
    return out;
  }
  route(std::move(m), now, out);
  return out;
}

std::vector<SgLoadShare::Send> SgLoadShare::sg_active(std::size_t sg, rserpool::TimePoint now) {
  std::vector<Send> out;
  Sg& s = sgs_.at(sg);
  if (s.active) return out;
  // If its SLSs were diverted to another SG meanwhile, they come back
  // after the changeback, so that what that SG still carries of them
  // arrives first.
  const bool diverted = s.diverted;
  s.diverted = false;
  s.active = true;
  if (diverted && config_.changeback.count() > 0) {
    s.changeback_until = now + config_.changeback;
    ++counters_.changebacks;
  }
  flush(now, out);
  return out;
}

std::vector<SgLoadShare::Send> SgLoadShare::sg_lost(std::size_t sg, std::vector<MtpMessage> handed_back,
                                                    rserpool::TimePoint now) {
  std::vector<Send> out;
  Sg& s = sgs_.at(sg);
  const bool was_active = s.active;
  s.active = false;
  // Lost again within its changeback: what the other SGs carry of its
  // SLSs is still on its way, so the next changeback must wait for it too
  // (an ASP that activates and at once hears DUNA, seeded simulation seed
  // 3599).
  if (s.changeback_until) s.diverted = true;
  s.changeback_until.reset();
  if (was_active) ++counters_.failovers;
  // Oldest first: what the transport gave back, what waited for the
  // changeback, then (through route) anything newer.
  std::deque<MtpMessage> again(std::make_move_iterator(handed_back.begin()),
                               std::make_move_iterator(handed_back.end()));
  counters_.resent += again.size();
  for (auto& m : s.changeback_held) again.push_back(std::move(m));
  s.changeback_held.clear();
  // (What waits already is older still and stays first: with nothing
  // active, route() queues `again` behind it.)
  for (auto& m : again) {
    if (held_.empty()) route(std::move(m), now, out);
    else hold(std::move(m), now);
  }
  return out;
}

std::optional<rserpool::TimePoint> SgLoadShare::next_deadline() const {
  std::optional<rserpool::TimePoint> next;
  for (const auto& s : sgs_)
    if (s.changeback_until && (!next || *s.changeback_until < *next)) next = s.changeback_until;
  if (!held_.empty()) {
    const auto expiry = held_.front().since + config_.max_wait;
    if (!next || expiry < *next) next = expiry;
  }
  return next;
}

std::vector<SgLoadShare::Send> SgLoadShare::on_timeout(rserpool::TimePoint now) {
  std::vector<Send> out;
  while (!held_.empty() && held_.front().since + config_.max_wait <= now) {
    held_.pop_front();
    ++counters_.dropped;
  }
  for (std::size_t i = 0; i < sgs_.size(); ++i) {
    Sg& s = sgs_[i];
    if (!s.changeback_until || *s.changeback_until > now) continue;
    s.changeback_until.reset();
    for (auto& m : s.changeback_held) {
      ++counters_.sent[i];
      out.push_back(Send{i, std::move(m)});
    }
    s.changeback_held.clear();
  }
  return out;
}

}  // namespace sg::sim
