#include "mxua/driver/action_runner.hpp"

#include <type_traits>

#include "mxua/codec.hpp"
#include "rserpool/base/log.hpp"

namespace mxua::driver {
namespace {

const std::shared_ptr<spdlog::logger>& logger() {
  static const auto l = rserpool::log::get("m3ua");
  return l;
}

}  // namespace

std::shared_ptr<ActionRunner> ActionRunner::create(boost::asio::io_context& io, Events& events) {
  return std::make_shared<ActionRunner>(Key{}, io, events);
}

ActionRunner::~ActionRunner() { cancel_timers(); }

void ActionRunner::attach(AssocId assoc, std::shared_ptr<tr::Association> a, const tr::AssociationInfo& info) {
  assocs_[assoc] = Bound{std::move(a), info.outbound_streams, info.kind == tr::TransportKind::tcp};
}

void ActionRunner::detach(AssocId assoc) { assocs_.erase(assoc); }

std::shared_ptr<tr::Association> ActionRunner::association(AssocId assoc) const {
  auto it = assocs_.find(assoc);
  return it == assocs_.end() ? nullptr : it->second.assoc;
}

void ActionRunner::run(Actions& actions) {
  for (auto& action : actions) {
    std::visit(
        [&](auto& a) {
          using T = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<T, Send>) {
            send(a);
          } else if constexpr (std::is_same_v<T, StartTimer>) {
            start_timer(a);
          } else if constexpr (std::is_same_v<T, StopTimer>) {
            stop_timer(a);
          } else if constexpr (std::is_same_v<T, PeerUnavailable>) {
            peer_unavailable(a.assoc);
          } else if constexpr (std::is_same_v<T, AspStateChanged>) {
            events_.on_asp_state(a);
          } else if constexpr (std::is_same_v<T, AsStateChanged>) {
            events_.on_as_state(a);
          } else if constexpr (std::is_same_v<T, DataIndication>) {
            events_.on_data(std::move(a));
          } else if constexpr (std::is_same_v<T, NtfyIndication>) {
            events_.on_ntfy(a);
          } else if constexpr (std::is_same_v<T, ErrIndication>) {
            events_.on_err(a);
          } else if constexpr (std::is_same_v<T, DestinationStateChanged>) {
            events_.on_destination_state(a);
          } else if constexpr (std::is_same_v<T, RegistrationIndication>) {
            events_.on_registration(a);
          } else if constexpr (std::is_same_v<T, DeregistrationIndication>) {
            events_.on_deregistration(a);
          } else if constexpr (std::is_same_v<T, RequestFailed>) {
            events_.on_request_failed(a);
          } else if constexpr (std::is_same_v<T, Drop>) {
            events_.on_drop(a);
          }
        },
        action);
  }
  actions.clear();
}

void ActionRunner::send(Send& s) {
  auto it = assocs_.find(s.assoc);
  if (it == assocs_.end()) {
    // The core still believes in an association the transport has lost
    // (its down notification is on the way): nothing to deliver to.
    ++counters_.no_association;
    std::vector<tr::Message> lost;
    lost.push_back(tr::Message{kM3uaPpid, s.stream, false, std::move(s.bytes)});
    hand_back(s.assoc, std::move(lost));
    return;
  }
  Bound& b = it->second;
  std::uint16_t stream = s.stream;
  // The TCP mapping's streams are labels only (one byte stream, no head-of-
  // line relief): fold a stream the peer did not grant onto the last one so
  // a short grant never blocks DATA. Stream 0 stays stream 0.
  if (b.tcp && b.outbound_streams > 1 && stream >= b.outbound_streams)
    stream = static_cast<std::uint16_t>(b.outbound_streams - 1U);
  const bool is_data = s.bytes.size() > 2 && s.bytes[2] == static_cast<std::uint8_t>(MessageClass::Transfer);
  // send() takes the message by value, so a refused DATA would be gone:
  // keep a copy in a reused buffer (no allocation in the steady state) to
  // hand it back for failover.
  if (is_data) spare_.assign(s.bytes.begin(), s.bytes.end());
  auto r = b.assoc->send(tr::Message{kM3uaPpid, stream, false, std::move(s.bytes)});
  if (r) {
    ++counters_.messages_out;
    return;
  }
  ++counters_.send_refused;
  logger()->warn("assoc {}: send refused ({}): {}", s.assoc, is_data ? "DATA" : "management",
                 tr::to_string(r.error()));
  if (!is_data) {
    ++counters_.mgmt_lost;
    return;
  }
  std::vector<tr::Message> refused;
  refused.push_back(tr::Message{kM3uaPpid, stream, false, std::move(spare_)});
  spare_ = Bytes{};
  hand_back(s.assoc, std::move(refused));
}

void ActionRunner::start_timer(const StartTimer& t) {
  auto& slot = timers_[t.id];
  if (!slot.timer) slot.timer = std::make_unique<boost::asio::steady_timer>(io_);
  slot.generation = next_generation_++;
  slot.timer->expires_at(clock_.to_steady(now() + t.duration));
  slot.timer->async_wait([weak = weak_from_this(), id = t.id, gen = slot.generation](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->fire(id, gen);
  });
}

void ActionRunner::stop_timer(const StopTimer& t) {
  auto it = timers_.find(t.id);
  if (it == timers_.end()) return;
  it->second.timer->cancel();
  timers_.erase(it);
}

void ActionRunner::fire(TimerId id, std::uint64_t generation) {
  auto it = timers_.find(id);
  // A restart or stop after the expiry was queued: this firing is stale.
  if (it == timers_.end() || it->second.generation != generation) return;
  timers_.erase(it);
  ++counters_.timers_fired;
  logger()->debug("{} expired (assoc {}, rc {})", timer_name(id.kind), id.assoc, id.rc);
  if (!sink_) return;
  auto actions = sink_(id, now());
  run(actions);
}

void ActionRunner::peer_unavailable(AssocId assoc) {
  ++counters_.peer_unavailable;
  auto a = association(assoc);
  logger()->warn("assoc {}: no answer to BEAT within 2 x T(beat): aborting", assoc);
  if (a) a->abort();  // on_down follows from the transport
}

void ActionRunner::hand_back(AssocId assoc, std::vector<tr::Message>&& unsent) {
  std::vector<Data> data;
  for (auto& m : unsent) {
    if (m.ppid != kM3uaPpid) continue;
    auto hdr = decode_header(m.payload);
    if (hdr && hdr->msg_class != static_cast<std::uint8_t>(MessageClass::Transfer)) {
      ++counters_.mgmt_lost;
      continue;
    }
    auto d = decode_data(m.payload);
    if (!d) {
      ++counters_.undecodable_handed_back;
      continue;
    }
    data.push_back(to_owned(*d));
  }
  if (data.empty()) return;
  counters_.data_handed_back += data.size();
  logger()->info("assoc {}: {} DATA message(s) not delivered, handed back", assoc, data.size());
  events_.on_send_failed(assoc, std::move(data));
}

void ActionRunner::cancel_timers() {
  for (auto& [id, t] : timers_) t.timer->cancel();
  timers_.clear();
}

}  // namespace mxua::driver
