#include "association_base.hpp"

#include "write_batch.hpp"

#include <atomic>

#include "rserpool/base/log.hpp"

namespace rserpool::transport {

namespace {
std::atomic<std::uint64_t> next_association_id{1};
}

Association::Association(std::shared_ptr<TransportCounters> counters, std::shared_ptr<AssociationHandler> handler)
    : handler_(std::move(handler)),
      counters_(counters ? std::move(counters) : std::make_shared<TransportCounters>()),
      id_(next_association_id.fetch_add(1, std::memory_order_relaxed)) {}

namespace detail {

std::shared_ptr<spdlog::logger> logger() {
  static auto l = rserpool::log::get("transport");
  return l;
}

std::string describe(const std::vector<TransportAddress>& addrs) {
  std::string s;
  for (const auto& a : addrs) {
    if (!s.empty()) s += ',';
    s += a.to_string();
  }
  return s.empty() ? "-" : s;
}

AssociationBase::AssociationBase(const EndpointConfig& cfg, std::shared_ptr<TransportCounters> counters,
                                 std::shared_ptr<AssociationHandler> handler, std::string name)
    : Association(std::move(counters), std::move(handler)),
      name_(std::move(name)),
      queue_limit_(cfg.send_queue_limit),
      queue_bytes_(cfg.send_queue_bytes),
      peer_not_reading_(cfg.peer_not_reading) {}

bool AssociationBase::admit_to_queue_slow(std::size_t messages, std::size_t bytes, std::size_t size) {
  const bool fits = messages < queue_limit_ && (bytes == 0 || bytes + size <= queue_bytes_);
  if (fits) {
    // Hysteresis: a queue that hovers at its bound is one episode, not one
    // report per acknowledgement.
    if (queue_full_reported_ && messages <= queue_limit_ / 2 && bytes <= queue_bytes_ / 2)
      queue_full_reported_ = false;
    return true;
  }
  ++counters_->send_queue_refused;
  if (queue_full_reported_) return false;
  queue_full_reported_ = true;
  ++counters_->send_queue_full;
  const SendQueueStatus status{messages, bytes, queue_limit_, queue_bytes_};
  rserpool::log::warn_limited(logger(), "peer not reading",
                              "{}: association #{} to {}: send queue full ({} messages, {} bytes): peer not reading{}",
                              label(), id(), describe(info_.remote), messages, bytes,
                              peer_not_reading_ == PeerNotReading::abort ? ", aborting" : "");
  post([self = std::static_pointer_cast<AssociationBase>(shared_from_this()), status] {
    if (self->finished()) return;
    if (auto h = self->handler_) h->on_send_queue_full(*self, status);
    if (self->peer_not_reading_ == PeerNotReading::abort && !self->finished())
      self->abort_for(DownReason::peer_not_reading);
  });
  return false;
}

void AssociationBase::notify_up() {
  auto self = shared_from_this();
  if (auto h = handler_) h->on_up(*this, info_);
}

void AssociationBase::notify_restart() {
  auto self = shared_from_this();
  if (auto h = handler_) h->on_restart(*this, info_);
}

void AssociationBase::notify_messages(std::vector<Message>& ms) {
  if (ms.empty()) return;
  // No reference to the association taken here: every caller runs inside
  // its read wait's completion, which holds one (issue 16: a weak-to-strong
  // conversion and its release per read, atomically).
  std::shared_ptr<AssociationHandler> h = handler_;
  for (auto& m : ms) {
    if (finished_) return;
    if (aborting_) {
      discarded_aborting_ += static_cast<std::uint64_t>(ms.data() + ms.size() - &m);
      return;
    }
    ++counters_->messages_in;
    counters_->bytes_in += m.payload.size();
    if (h != handler_) h = handler_;
    if (h) h->on_message(*this, std::move(m));
  }
}

void AssociationBase::notify_down(DownReason reason, std::vector<Message>&& undelivered) {
  if (finished_) return;
  finished_ = true;
  up_ = false;
  auto self = shared_from_this();
  auto h = std::move(handler_);
  counters_->count_close(reason);
  // Rate-limited per reason: a flood of associations (one peer connecting
  // and failing in a loop) must not decide how much is written.
  rserpool::log::info_limited(logger(), to_string(reason), "{}: association #{} {} -> {} down: {}{}{}", label(), id(),
                              describe(info_.local), describe(info_.remote), to_string(reason),
                              undelivered.empty() ? std::string{}
                              : fmt::format(", {} message(s) handed back", undelivered.size()),
                              discarded_aborting_ == 0
                                  ? std::string{}
                                  : fmt::format(", {} received after the abort not delivered", discarded_aborting_));
  if (!undelivered.empty()) {
    counters_->send_failed_messages += undelivered.size();
    if (h) h->on_send_failed(*this, std::move(undelivered));
  }
  if (h) h->on_down(*this, reason);
}

WriteBatch::~WriteBatch() {
  if (outer_) return;
  // Flushing can enlist more (a failed write notifies a handler that sends
  // elsewhere): by index, until none is left.
  auto& s = state();
  for (std::size_t i = 0; i < s.enlisted.size(); ++i) {
    auto a = std::move(s.enlisted[i]);
    a->flush_deferred();
  }
  s.enlisted.clear();
  s.open = false;
}

}  // namespace detail
}  // namespace rserpool::transport
