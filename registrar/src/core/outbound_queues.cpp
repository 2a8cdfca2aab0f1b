// Bounds on what the registrar keeps queued per association and in all.
#include "registrar/outbound_queues.hpp"

#include <algorithm>
#include <limits>

namespace rserpool::registrar {

std::optional<OutboundQueues::Abort> OutboundQueues::on_sent(QueueLink link, LinkClass cls, std::size_t bytes,
                                                             std::size_t unacknowledged) {
  // The hit is tested here, not in a call (about 20 instructions a send).
  Queue& q = last_ != nullptr && last_link_ == link ? *last_ : find_or_add(link, cls);
  const auto size = static_cast<std::uint32_t>(std::min<std::size_t>(bytes, std::numeric_limits<std::uint32_t>::max()));
  q.sizes.push_back(size);
  q.bytes += size;
  total_bytes_ += size;
  // The oldest messages beyond what the transport still holds have left.
  while (q.sizes.size() > unacknowledged) {
    q.bytes -= q.sizes.front();
    total_bytes_ -= q.sizes.front();
    q.sizes.pop_front();
  }
  const QueueLimits& limit = q.cls == LinkClass::asap ? config_.asap : config_.enrp;
  if (limit.max_messages != 0 && q.sizes.size() > limit.max_messages) return take(queues_.find(link), Reason::messages);
  if (limit.max_bytes != 0 && q.bytes > limit.max_bytes) return take(queues_.find(link), Reason::bytes);
  if (config_.max_total_bytes != 0 && total_bytes_ > config_.max_total_bytes) {
    auto largest = std::max_element(queues_.begin(), queues_.end(),
                                    [](const auto& a, const auto& b) { return a.second.bytes < b.second.bytes; });
    return take(largest, Reason::total);
  }
  // The node stays until the association ends: a peer that reads costs no
  // allocation per message (the ring reuses its slots).
  return std::nullopt;
}

OutboundQueues::Queue& OutboundQueues::find_or_add(QueueLink link, LinkClass cls) {
  auto [it, inserted] = queues_.try_emplace(link);
  if (inserted) it->second.cls = cls;
  last_link_ = link;
  last_ = &it->second;
  return *last_;
}

OutboundQueues::Abort OutboundQueues::take(std::map<QueueLink, Queue>::iterator it, Reason why) {
  Abort a{it->first, why, it->second.sizes.size(), it->second.bytes};
  switch (why) {
    case Reason::messages: ++counters_.aborted_messages; break;
    case Reason::bytes: ++counters_.aborted_bytes; break;
    case Reason::total: ++counters_.aborted_total; break;
  }
  total_bytes_ -= it->second.bytes;
  if (last_ == &it->second) last_ = nullptr;
  queues_.erase(it);
  return a;
}

void OutboundQueues::forget(QueueLink link) {
  auto it = queues_.find(link);
  if (it == queues_.end()) return;
  total_bytes_ -= it->second.bytes;
  if (last_ == &it->second) last_ = nullptr;
  queues_.erase(it);
}

std::size_t OutboundQueues::held_bytes(QueueLink link) const {
  auto it = queues_.find(link);
  return it == queues_.end() ? 0 : it->second.bytes;
}

}  // namespace rserpool::registrar
