#pragma once
// Shared plumbing of both backends: notification delivery with the
// ordering guarantees of AssociationHandler, counting, and logging.
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "rserpool/transport/association.hpp"
#include "rserpool/transport/counters.hpp"

namespace rserpool::transport::detail {

std::shared_ptr<spdlog::logger> logger();

class AssociationBase : public Association {
 public:
  bool is_up() const noexcept override { return up_; }
  const AssociationInfo& info() const noexcept override { return info_; }

 protected:
  AssociationBase(std::shared_ptr<TransportCounters> counters, std::shared_ptr<AssociationHandler> handler,
                  std::string name)
      : Association(std::move(counters), std::move(handler)), name_(std::move(name)) {}

  // Each keeps the association and the handler alive across the call, as
  // the handler may drop its last reference or replace itself.
  void notify_up();
  void notify_restart();
  void notify_message(Message&& m);
  // Hands back, counts, then reports down once; afterwards silent.
  void notify_down(DownReason reason, std::vector<Message>&& undelivered);
  bool finished() const noexcept { return finished_; }
  const std::string& label() const noexcept { return name_; }

  AssociationInfo info_;
  bool up_ = false;

 private:
  std::string name_;
  bool finished_ = false;
};

std::string describe(const std::vector<TransportAddress>& addrs);

}  // namespace rserpool::transport::detail
