#include "mxua/driver/association_driver.hpp"

#include <algorithm>

#include "rserpool/base/log.hpp"

namespace mxua::driver {
namespace {

const std::shared_ptr<spdlog::logger>& logger() {
  static const auto l = rserpool::log::get("m3ua");
  return l;
}

std::string peer_text(const tr::AssociationInfo& info) {
  if (info.remote.empty()) return "?";
  return info.remote.front().to_string();
}

}  // namespace

AssociationDriver::AssociationDriver(std::shared_ptr<ActionRunner> runner, Endpoint endpoint, Admission admit)
    : runner_(std::move(runner)), endpoint_(std::move(endpoint)), admit_(std::move(admit)) {}

std::shared_ptr<AssociationDriver> AssociationDriver::standalone(boost::asio::io_context& io, Endpoint endpoint,
                                                                 Events& events) {
  auto runner = ActionRunner::create(io, events);
  auto d = std::make_shared<AssociationDriver>(runner, std::move(endpoint));
  runner->set_timer_sink([weak = std::weak_ptr<AssociationDriver>(d)](TimerId id, TimePoint now) {
    auto self = weak.lock();
    return self ? self->endpoint_.timer_expired(id, now) : Actions{};
  });
  return d;
}

std::uint16_t AssociationDriver::streams_for(const tr::AssociationInfo& info) const {
  // The TCP mapping keeps the streams as labels; M3UA needs stream 0 for
  // management and at least one more for DATA.
  if (info.kind == tr::TransportKind::tcp) return std::max<std::uint16_t>(info.outbound_streams, 2);
  return info.outbound_streams;
}

void AssociationDriver::on_up(tr::Association& assoc, const tr::AssociationInfo& info) {
  assoc_ = assoc.weak_from_this();
  if (admit_ && !admit_(info)) {
    refused_ = true;
    ++runner_->counters().refused_peers;
    logger()->warn("assoc {}: peer {} not on the allow-list: aborting", id(), peer_text(info));
    runner_->events().on_association_refused(id(), info);
    assoc.abort();
    return;
  }
  up_ = true;
  ++runner_->counters().associations_up;
  logger()->info("assoc {}: up over {} with {} ({} out / {} in streams)", id(), tr::to_string(info.kind),
                 peer_text(info), info.outbound_streams, info.inbound_streams);
  runner_->attach(id(), assoc.shared_from_this(), info);
  runner_->events().on_association_up(id(), info);
  auto acts = endpoint_.association_up(streams_for(info), runner_->now());
  run(acts);
}

void AssociationDriver::on_message(tr::Association& assoc, tr::Message&& msg) {
  if (!up_) return;
  if (msg.ppid != kM3uaPpid) {
    if (other_ppid_) {  // e.g. the ASAP control channel (PPID 11) beside M3UA
      other_ppid_(std::move(msg));
      return;
    }
    ++runner_->counters().foreign_ppid;
    logger()->debug("assoc {}: dropped a message with PPID {} (not M3UA)", id(), msg.ppid);
    return;
  }
  ++runner_->counters().messages_in;
  Actions acts = std::move(scratch_);
  acts.clear();
  const auto now = runner_->now();
  if (endpoint_.role() == Role::Sgp) {
    endpoint_.serving()->receive(id(), msg.stream, msg.payload, now, acts);  // hot path: no allocation
  } else if (endpoint_.role() == Role::Asp) {
    endpoint_.requesting()->receive(msg.stream, msg.payload, now, acts);
  } else {
    acts = endpoint_.receive(msg.stream, msg.payload, now);
  }
  run(acts);
  scratch_ = std::move(acts);
}

void AssociationDriver::on_restart(tr::Association& assoc, const tr::AssociationInfo& info) {
  // The peer's endpoint restarted: whatever M3UA state it had is gone.
  logger()->warn("assoc {}: SCTP restart: ASP state reset", id());
  auto down = endpoint_.association_down(runner_->now());
  run(down);
  runner_->attach(id(), assoc.shared_from_this(), info);
  auto acts = endpoint_.association_up(streams_for(info), runner_->now());
  run(acts);
}

void AssociationDriver::on_send_failed(tr::Association& assoc, std::vector<tr::Message>&& unsent) {
  runner_->hand_back(id(), std::move(unsent));
}

void AssociationDriver::on_down(tr::Association& assoc, tr::DownReason reason) {
  const bool was_up = up_;
  up_ = false;
  if (refused_) return;
  runner_->detach(id());
  if (was_up) ++runner_->counters().associations_down;
  logger()->info("assoc {}: down ({})", id(), tr::to_string(reason));
  if (was_up) {
    auto acts = endpoint_.association_down(runner_->now());
    run(acts);
  }
  runner_->events().on_association_down(id(), reason);
}

void AssociationDriver::send_data(const DataView& d) {
  Actions acts;
  const auto now = runner_->now();
  if (endpoint_.role() == Role::Asp) {
    endpoint_.requesting()->send_data(d, acts);
  } else {
    acts = endpoint_.send_data(d, now);
  }
  run(acts);
}

void AssociationDriver::request(const std::function<Actions(Endpoint&, TimePoint)>& fn) {
  auto acts = fn(endpoint_, runner_->now());
  run(acts);
}

}  // namespace mxua::driver
