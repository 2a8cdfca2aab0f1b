#include "timer_table.hpp"

namespace rserpool::asap::service_detail {

void TimerTable::start(const Timer& t, Duration after) {
  auto& slot = timers_[key(t)];
  if (!slot) slot = std::make_unique<Slot>(io_);
  slot->generation = next_generation_++;
  slot->timer.expires_after(after);
  std::weak_ptr<std::map<std::uint64_t, std::unique_ptr<Slot>>> weak = timers_state_;
  slot->timer.async_wait([this, weak, t, gen = slot->generation](const boost::system::error_code& ec) {
    if (ec) return;
    auto table = weak.lock();
    if (!table) return;
    auto it = table->find(key(t));
    if (it == table->end() || it->second->generation != gen) return;  // stopped or re-armed meanwhile
    table->erase(it);
    fire_(t);
  });
}

void TimerTable::stop(const Timer& t) {
  auto it = timers_.find(key(t));
  if (it == timers_.end()) return;
  it->second->timer.cancel();
  timers_.erase(it);
}

void TimerTable::cancel_all() {
  for (auto& [k, slot] : timers_) slot->timer.cancel();
  timers_.clear();
}

bool TimerTable::running(const Timer& t) const { return timers_.contains(key(t)); }

}  // namespace rserpool::asap::service_detail
