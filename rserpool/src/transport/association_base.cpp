#include "association_base.hpp"

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

void AssociationBase::notify_up() {
  auto self = shared_from_this();
  if (auto h = handler_) h->on_up(*this, info_);
}

void AssociationBase::notify_restart() {
  auto self = shared_from_this();
  if (auto h = handler_) h->on_restart(*this, info_);
}

void AssociationBase::notify_message(Message&& m) {
  auto self = shared_from_this();
  if (auto h = handler_) h->on_message(*this, std::move(m));
}

void AssociationBase::notify_down(DownReason reason, std::vector<Message>&& undelivered) {
  if (finished_) return;
  finished_ = true;
  up_ = false;
  auto self = shared_from_this();
  auto h = std::move(handler_);
  counters_->count_close(reason);
  logger()->info("{}: association #{} {} -> {} down: {}{}", label(), id(), describe(info_.local),
                 describe(info_.remote), to_string(reason),
                 undelivered.empty() ? std::string{} : fmt::format(", {} message(s) handed back", undelivered.size()));
  if (!undelivered.empty()) {
    counters_->send_failed_messages += undelivered.size();
    if (h) h->on_send_failed(*this, std::move(undelivered));
  }
  if (h) h->on_down(*this, reason);
}

}  // namespace detail
}  // namespace rserpool::transport
