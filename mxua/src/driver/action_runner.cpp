#include "mxua/driver/action_runner.hpp"

#include <atomic>
#include <type_traits>

#include "mxua/codec.hpp"
#include "mxua/frame_loan.hpp"
#include "mxua/rehead.hpp"
#include "rserpool/base/buffer_pool.hpp"
#include "rserpool/base/log.hpp"

namespace mxua::driver {
namespace {

const std::shared_ptr<spdlog::logger>& logger() {
  static const auto l = rserpool::log::get("m3ua");
  return l;
}

std::string rc_text(const std::vector<std::uint32_t>& rcs) {
  if (rcs.empty()) return {};
  std::string t = " (RC";
  for (auto rc : rcs) t += " " + std::to_string(rc);
  return t + ")";
}

// Whether `part` lies in `frame` (a DATA's user data in the caller's buffer).
bool lies_in(ByteView part, const Bytes& frame) noexcept {
  return !part.empty() && !frame.empty() && part.data() >= frame.data() &&
         part.data() + part.size() <= frame.data() + frame.size();
}

}  // namespace

AssocId next_association_id() noexcept {
  static std::atomic<AssocId> next{1};
  AssocId id = next.fetch_add(1, std::memory_order_relaxed);
  if (id == 0) id = next.fetch_add(1, std::memory_order_relaxed);  // after 2^32 associations
  return id;
}

std::shared_ptr<ActionRunner> ActionRunner::create(boost::asio::io_context& io, Events& events,
                                                   const rserpool::Clock& clock) {
  return std::make_shared<ActionRunner>(Key{}, io, events, clock);
}

ActionRunner::ActionRunner(Key, boost::asio::io_context& io, Events& events, const rserpool::Clock& clock)
    : io_(io), events_(events), clock_(clock), timer_(io) {}

ActionRunner::~ActionRunner() { cancel_timer(); }

void ActionRunner::attach(AssocId assoc, std::shared_ptr<tr::Association> a, const tr::AssociationInfo& info,
                          std::string label) {
  last_bound_ = nullptr;
  assocs_[assoc] = Bound{std::move(a), info.outbound_streams, info.kind == tr::TransportKind::tcp, std::move(label)};
}

void ActionRunner::detach(AssocId assoc) {
  last_bound_ = nullptr;
  assocs_.erase(assoc);
}

std::shared_ptr<tr::Association> ActionRunner::association(AssocId assoc) const {
  auto it = assocs_.find(assoc);
  return it == assocs_.end() ? nullptr : it->second.assoc;
}

std::string ActionRunner::label(AssocId assoc) const {
  auto it = assocs_.find(assoc);
  std::string t = "assoc " + std::to_string(assoc);
  if (it != assocs_.end() && !it->second.label.empty()) t += " (" + it->second.label + ")";
  return t;
}

void ActionRunner::run(Actions& actions) {
  ++depth_;
  for (auto& action : actions) {
    std::visit(
        [&](auto& a) {
          using T = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<T, Send>) {
            if (const auto* e = std::get_if<Err>(&a.message)) log_err_sent(a.assoc, *e);
            Bytes bytes = rserpool::buffers::take();
            encode(a.message, bytes);
            send(a.assoc, a.stream, nullptr, bytes);
          } else if constexpr (std::is_same_v<T, SendData>) {
            execute(a);
          } else if constexpr (std::is_same_v<T, PeerUnavailable>) {
            peer_unavailable(a.assoc);
          } else if constexpr (std::is_same_v<T, AssociationRefused>) {
            if (a.why == AssociationRefused::Why::evicted)
              rserpool::log::warn_limited(logger(), "M3UA association evicted",
                                          "{}: closed: an idle association (ASP DOWN) of a peer at its cap, to make "
                                          "room for a newcomer",
                                          label(a.assoc));
            else if (a.why == AssociationRefused::Why::data_before_asp_up)
              rserpool::log::warn_limited(logger(), "M3UA stale ASP state",
                                          "{}: DATA on an association whose ASP never sent ASP Up: the peer holds an "
                                          "ASP state this association never had; aborted so it starts over with ASP Up",
                                          label(a.assoc));
            refused(a.assoc);
          } else if constexpr (std::is_same_v<T, AspStateChanged>) {
            events_.on_asp_state(a);
          } else if constexpr (std::is_same_v<T, AsStateChanged>) {
            events_.on_as_state(a);
          } else if constexpr (std::is_same_v<T, DataIndication>) {
            events_.on_data(std::move(a));
          } else if constexpr (std::is_same_v<T, NtfyIndication>) {
            events_.on_ntfy(a);
          } else if constexpr (std::is_same_v<T, ErrIndication>) {
            // The peer refused something of ours: say what, by the code's name.
            rserpool::log::warn_limited(logger(), "M3UA ERR received", "{}: peer sent ERR {} (0x{:02x}){}",
                                        label(a.assoc), to_string(a.err.code),
                                        static_cast<std::uint32_t>(a.err.code), rc_text(a.err.routing_contexts));
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
            if (a.reason == DropReason::OpcScreened)
              rserpool::log::warn_limited(logger(), "M3UA OPC screened",
                                          "{}: DATA with an originating point code the peer may not use: dropped",
                                          label(a.assoc));
            events_.on_drop(a);
          }
        },
        action);
  }
  actions.clear();
  if (--depth_ == 0) rearm();
}

void ActionRunner::execute(const SendData& a) {
  const DataView view = a.view();
  if (Bytes* loan = send_loan_; loan != nullptr && !a.owned && lies_in(view.protocol_data.user_data, *loan) &&
                                loan->capacity() >= encoded_data_size(view)) {
    // Built in the caller's buffer, which held this DATA's user data
    // (run(actions, user_part)); the view is gone with it. Only where it
    // fits: growing it would allocate, where a recycled buffer does not.
    send_loan_ = nullptr;
    Bytes bytes = std::move(*loan);
    if (encode_data_in_place(view, bytes)) {
      send(a.assoc, a.stream, nullptr, bytes, /*data_frame*/ true);
      return;
    }
    *loan = std::move(bytes);  // it did not hold all of it: left as it was
  }
  // Encoded once, into a recycled buffer the transport gives back to the
  // pool when the peer has it (issue 16).
  Bytes bytes = rserpool::buffers::take();
  encode_data(view, bytes);
  send(a.assoc, a.stream, &view, bytes);
}

void ActionRunner::send_data_now(const SendData& s, Bytes& user_part) {
  ++depth_;
  const DataView& view = s.data;
  if (!s.owned && lies_in(view.protocol_data.user_data, user_part) &&
      user_part.capacity() >= encoded_data_size(view)) {
    // The relay's case, as execute() below takes it with the buffer lent
    // (built in the caller's buffer, the user data where it lies), without
    // the loan's bookkeeping and a copy of the view (issue 16).
    Bytes bytes = std::move(user_part);
    if (encode_data_in_place(view, bytes)) {
      Bytes* const outer = send_loan_;
      send_loan_ = nullptr;  // as execute() leaves it while the transport has the DATA
      const std::uint64_t handed_back = counters_.send_refused + counters_.no_association;
      send(s.assoc, s.stream, nullptr, bytes, /*data_frame*/ true);
      send_loan_ = outer;
      // Sent: nothing but the transport ran, the core's timers stand
      // where the last batch left them (issue 16: no re-arm check per DATA).
      if (--depth_ == 0 && counters_.send_refused + counters_.no_association != handed_back) rearm();
      return;
    }
    user_part = std::move(bytes);  // not reached: lies_in() is encode_data_in_place()'s own test
  }
  --depth_;
  // The sole action: its user part is lent as run(actions, user_part) lends it.
  Bytes* const outer = send_loan_;
  send_loan_ = !s.owned && lies_in(s.data.protocol_data.user_data, user_part) ? &user_part : nullptr;
  ++depth_;
  execute(s);
  send_loan_ = outer;
  if (--depth_ == 0) rearm();
}

void ActionRunner::run(Actions& actions, Bytes& user_part) {
  // Lent only to a sole borrower: a second SendData of the same bytes (an
  // SGP's broadcast) would read them after the first had rebuilt them.
  std::size_t borrowers = 0;
  if (!user_part.empty())
    for (const auto& action : actions)
      if (const auto* s = std::get_if<SendData>(&action); s && !s->owned && lies_in(s->data.protocol_data.user_data, user_part))
        ++borrowers;
  Bytes* const outer = send_loan_;
  send_loan_ = borrowers == 1 ? &user_part : nullptr;
  run(actions);
  send_loan_ = outer;
}

void ActionRunner::log_err_sent(AssocId assoc, const Err& e) {
  rserpool::log::warn_limited(logger(), "M3UA ERR sent", "{}: sent ERR {} (0x{:02x}){}", label(assoc),
                              to_string(e.code), static_cast<std::uint32_t>(e.code), rc_text(e.routing_contexts));
}

ActionRunner::Bound* ActionRunner::bound(AssocId assoc) {
  // The relay sends to the same association message after message: the
  // last one found is remembered (forgotten whenever the map changes).
  if (last_bound_ != nullptr && last_assoc_ == assoc) return last_bound_;
  auto it = assocs_.find(assoc);
  if (it == assocs_.end()) return nullptr;
  last_assoc_ = assoc;
  last_bound_ = &it->second;
  return last_bound_;
}

void ActionRunner::send(AssocId assoc, std::uint16_t stream, const DataView* data, Bytes& bytes, bool data_frame) {
  const bool is_data = data != nullptr || data_frame;
  Bound* const found = bound(assoc);
  if (found == nullptr) {
    // The core still believes in an association the transport has lost
    // (its down notification is on the way): nothing to deliver to.
    ++counters_.no_association;
    std::vector<tr::Message> lost;
    lost.push_back(tr::Message{kM3uaPpid, stream, false, std::move(bytes)});
    hand_back(assoc, std::move(lost));
    return;
  }
  Bound& b = *found;
  // The TCP mapping's streams are labels only (one byte stream, no head-of-
  // line relief): fold a stream the peer did not grant onto the last one so
  // a short grant never blocks DATA. Stream 0 stays stream 0.
  if (b.tcp && b.outbound_streams > 1 && stream >= b.outbound_streams)
    stream = static_cast<std::uint16_t>(b.outbound_streams - 1U);
  tr::Message m{kM3uaPpid, stream, false, std::move(bytes)};
  auto r = b.assoc->send(std::move(m));
  if (r) {
    ++counters_.messages_out;
    return;
  }
  ++counters_.send_refused;
  rserpool::log::warn_limited(logger(), "M3UA send refused", "{}: send refused ({}): {}", label(assoc),
                              is_data ? "DATA" : "management", tr::to_string(r.error()));
  if (!is_data) {
    ++counters_.mgmt_lost;
    rserpool::buffers::give(std::move(m.payload));
    return;
  }
  if (data_frame) {
    // Built in place: the refused bytes, which send() left with us, are
    // the only copy of the DATA (issue 16: no spare one).
    hand_back_frame(assoc, m.payload);
    return;
  }
  // The DATA itself is still in the action being executed: handed back for
  // failover from there (no spare copy of every DATA, as before issue 16);
  // the refused encoding goes back to the pool.
  rserpool::buffers::give(std::move(m.payload));
  ++counters_.data_handed_back;
  std::vector<Data> back;
  back.push_back(to_owned(*data));
  logger()->info("{}: 1 DATA message not delivered, handed back", label(assoc));
  events_.on_send_failed(assoc, std::move(back));
}

void ActionRunner::hand_back_frame(AssocId assoc, Bytes& frame) {
  auto d = decode_data(frame);
  if (!d) {  // not reached: the bytes are our own encoding
    ++counters_.undecodable_handed_back;
    return;
  }
  ++counters_.data_handed_back;
  std::vector<Data> back;
  {
    const FrameLoan loan(frame, events_.keeps_frames());  // the DATA takes the bytes over (no copy)
    back.push_back(take_owned(*d));
  }
  logger()->info("{}: 1 DATA message not delivered, handed back", label(assoc));
  events_.on_send_failed(assoc, std::move(back));
}

void ActionRunner::rearm() {
  if (core_.changes) {
    // No timer of the core moved since the OS timer was last set from it:
    // nothing to do (the common case on the relay path).
    const std::uint64_t c = core_.changes();
    if (seen_changes_ == c) return;
    seen_changes_ = c;
  }
  ++deadline_queries_;
  const auto due = core_.next_deadline ? core_.next_deadline() : std::nullopt;
  if (due == armed_at_) return;
  // A deadline that moved later (a T(ack) answered, a timer re-armed further
  // out) keeps the OS timer where it is: when it fires, the core finds
  // nothing due and the timer is set again at the new deadline. Only an
  // earlier deadline re-arms now, so the relay path does not re-arm an OS
  // timer (and read the clock for it) per message (issue 16).
  if (due && armed_at_ && *due > *armed_at_) return;
  armed_at_ = due;
  const std::uint64_t gen = ++generation_;
  timer_.cancel();
  if (!due) return;
  timer_.expires_at(*due);
  timer_.async_wait([weak = weak_from_this(), gen](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->fire(gen);
  });
}

void ActionRunner::fire(std::uint64_t generation) {
  // Re-armed or cancelled after this expiry was queued: stale.
  if (generation != generation_) return;
  armed_at_.reset();
  seen_changes_.reset();  // re-armed below even if the core's timers did not change
  ++counters_.timers_fired;
  if (!core_.on_timeout) return;
  const rserpool::TurnTime turn;  // what the expiry causes shares one reading
  Actions acts;
  core_.on_timeout(now(), acts);
  run(acts);  // re-arms
}

void ActionRunner::cancel_timer() {
  ++generation_;
  armed_at_.reset();
  seen_changes_.reset();
  timer_.cancel();
}

void ActionRunner::peer_unavailable(AssocId assoc) {
  ++counters_.peer_unavailable;
  auto a = association(assoc);
  rserpool::log::warn_limited(logger(), "M3UA BEAT timeout", "{}: no answer to BEAT within 2 x T(beat): aborting",
                              label(assoc));
  if (a) a->abort();  // on_down follows from the transport
}

void ActionRunner::refused(AssocId assoc) {
  ++counters_.refused_peers;
  if (auto a = association(assoc)) a->abort();
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
  logger()->info("{}: {} DATA message(s) not delivered, handed back", label(assoc), data.size());
  events_.on_send_failed(assoc, std::move(data));
}

}  // namespace mxua::driver
