#include "rserpool/transport/tcp_mapping_session.hpp"

#include <algorithm>

#include "rserpool/base/buffer_pool.hpp"

namespace rserpool::transport::tcpmap {
namespace {
// A peer may probe faster than we answer; answering a handful is enough to
// prove liveness, and the bound keeps a hostile peer from growing memory.
constexpr std::size_t kMaxPendingHeartbeatAcks = 8;
}  // namespace

Session::Session(SessionOptions options, TimePoint now)
    : opt_(options),
      decoder_(options.max_message_size),
      last_heard_(now),
      last_probe_(now),
      last_timer_(now),
      grace_until_(now) {}

Result<void, SendError> Session::submit(Message&& msg) {
  if (failed_ || shutdown_requested_ || peer_shutdown_) return unexpected(SendError::not_connected);
  if (msg.payload.size() > opt_.max_message_size) return unexpected(SendError::message_too_large);
  const std::uint16_t streams = up_ ? negotiated_out_ : opt_.out_streams;
  if (msg.stream >= streams) return unexpected(SendError::invalid_stream);
  if (pending_.size() + unacked_.size() >= opt_.send_queue_limit) return unexpected(SendError::queue_full);
  if (queued_bytes_ != 0 && queued_bytes_ + msg.payload.size() > opt_.send_queue_bytes)
    return unexpected(SendError::queue_full);
  queued_bytes_ += msg.payload.size();
  pending_.emplace_back(std::move(msg));
  return {};
}

void Session::fail(SessionEvents& events, SessionError e) {
  failed_ = true;
  if (!events.error) events.error = e;
}

void Session::on_bytes(ByteView data, TimePoint now, SessionEvents& events) {
  if (failed_) return;
  if (!data.empty()) last_heard_ = now;
  std::size_t pos = 0;
  FrameView f;
  while (pos < data.size() && !failed_) {
    std::size_t consumed = 0;
    auto r = decoder_.next_view(data.subspan(pos), consumed, f);
    pos += consumed;
    if (!r) {
      events.frame_error = r.error();
      fail(events, r.error() == FrameError::oversized ? SessionError::oversized_frame : SessionError::malformed_frame);
      return;
    }
    if (!*r) break;
    handle(f, events);
  }
}

void Session::handle(FrameView& f, SessionEvents& events) {
  if (f.type == FrameType::init) {
    if (up_) return fail(events, SessionError::duplicate_init);
    negotiated_out_ = std::min(opt_.out_streams, f.in_streams);
    negotiated_in_ = std::min(opt_.in_streams, f.out_streams);
    expected_sequence_ = f.sequence;
    last_received_ = f.sequence - 1;  // cumulative ack before any DATA
    up_ = true;
    events.became_up = true;
    // Streams were checked against our configured count; the peer may accept fewer.
    const std::uint16_t granted = negotiated_out_;
    pending_.partition([granted](const Message& m) { return m.stream < granted; },
                       [&](Message& m) {
                         queued_bytes_ -= m.payload.size();
                         events.refused.push_back(std::move(m));
                       });
    return;
  }
  if (!up_) return fail(events, SessionError::data_before_init);
  switch (f.type) {
    case FrameType::data: {
      if (peer_shutdown_) return fail(events, SessionError::data_after_shutdown);
      if (f.sequence != expected_sequence_) return fail(events, SessionError::bad_sequence);
      if (f.stream >= negotiated_in_) return fail(events, SessionError::invalid_stream);
      last_received_ = f.sequence;
      ++expected_sequence_;
      ack_due_ = true;
      // The one copy of a received message: out of the read buffer into a
      // recycled one the receiver keeps (and gives back). A frame gathered
      // across reads is in the decoder's buffer already: taken over.
      Message& m = events.messages.emplace_back();
      m.ppid = f.ppid;
      m.stream = f.stream;
      m.unordered = f.unordered;
      if (f.buffered) {
        m.payload = std::move(*f.buffered);
      } else {
        m.payload = buffers::take(f.payload.size());
        m.payload.assign(f.payload.begin(), f.payload.end());
      }
      return;
    }
    case FrameType::data_ack: {
      // Serial arithmetic: how many of our sequence numbers lie after the ack.
      const std::uint32_t after = (next_sequence_ - 1) - f.sequence;
      if (after > unacked_.size()) return fail(events, SessionError::bad_ack);
      while (unacked_.size() > after) {
        queued_bytes_ -= unacked_.front().msg.payload.size();
        buffers::give(std::move(unacked_.front().msg.payload));  // delivered: the buffer is free again
        unacked_.pop_front();
      }
      return;
    }
    case FrameType::heartbeat:
      if (heartbeat_acks_due_.size() < kMaxPendingHeartbeatAcks) heartbeat_acks_due_.push_back(f.sequence);
      return;
    case FrameType::heartbeat_ack:
      return;  // liveness was recorded when the bytes arrived
    case FrameType::shutdown:
      peer_shutdown_ = true;
      events.peer_shutdown = true;
      return;
    case FrameType::init:
      return;  // handled above
  }
}

bool Session::has_output() const noexcept {
  if (failed_) return false;
  if (!init_sent_ || !heartbeat_acks_due_.empty() || ack_due_ || heartbeat_due_) return true;
  if (!up_) return false;
  if (!pending_.empty() && unacked_.size() < opt_.max_unacked) return true;
  return shutdown_requested_ && !shutdown_sent_ && pending_.empty() && unacked_.empty();
}

Session::OutputPlan Session::plan_output(std::size_t max_bytes) const noexcept {
  OutputPlan p;
  if (failed_) return p;
  p.control_frames = (init_sent_ ? 0 : 1) + heartbeat_acks_due_.size() + (ack_due_ ? 1 : 0) + (heartbeat_due_ ? 1 : 0);
  p.bytes = p.control_frames * kHeaderSize;
  if (!up_) return p;
  // The DATA frames that go now: within the window, while fewer than
  // max_bytes are written.
  std::size_t data = 0;
  while (p.data_frames < pending_.size() && unacked_.size() + p.data_frames < opt_.max_unacked &&
         p.bytes + data < max_bytes) {
    data += kHeaderSize + pending_[p.data_frames].payload.size();
    ++p.data_frames;
  }
  p.bytes += data;
  // SHUTDOWN once everything is written and acknowledged: nothing may be
  // pending or unacknowledged before this call.
  p.shutdown = shutdown_requested_ && !shutdown_sent_ && pending_.empty() && unacked_.empty();
  if (p.shutdown) p.bytes += kHeaderSize;
  return p;
}

std::size_t Session::output_size(std::size_t max_bytes) const noexcept { return plan_output(max_bytes).bytes; }

std::size_t Session::produce(Bytes& out, std::size_t max_bytes) {
  return produce_with(
      [&out](std::size_t n) {
        const std::size_t at = out.size();
        out.resize(at + n);
        return out.data() + at;
      },
      max_bytes);
}

std::size_t Session::write_output(const OutputPlan& plan, std::uint8_t* at) {
  std::uint8_t* p = at;
  if (!init_sent_) {
    p = FrameEncoder::write_init(opt_.out_streams, opt_.in_streams, next_sequence_, p);
    init_sent_ = true;
  }
  for (auto nonce : heartbeat_acks_due_) p = FrameEncoder::write_control(FrameType::heartbeat_ack, nonce, p);
  heartbeat_acks_due_.clear();
  if (ack_due_) {
    p = FrameEncoder::write_control(FrameType::data_ack, last_received_, p);
    ack_due_ = false;
  }
  if (heartbeat_due_) {
    p = FrameEncoder::write_control(FrameType::heartbeat, ++heartbeat_nonce_, p);
    heartbeat_due_ = false;
    ++heartbeats_sent_;
  }
  for (std::size_t i = 0; i < plan.data_frames; ++i) {
    Message& m = pending_.front();
    p = FrameEncoder::write_data(next_sequence_, m.ppid, m.stream, m.unordered, m.payload, p);
    unacked_.emplace_back(next_sequence_, std::move(m));
    ++next_sequence_;
    pending_.pop_front();
  }
  if (plan.shutdown) {
    p = FrameEncoder::write_control(FrameType::shutdown, 0, p);
    shutdown_sent_ = true;
  }
  return static_cast<std::size_t>(p - at);
}

TimerVerdict Session::on_timer(TimePoint now) {
  // Calls come at most one heartbeat interval apart while we run (see
  // next_deadline()); a longer gap is our own stall, not the peer's
  // silence: probe now and give the peer a whole timeout window again.
  // (The probe below is then due: the last one is older than that gap.)
  if (now - last_timer_ > 2 * opt_.heartbeat_interval && now - last_heard_ >= opt_.heartbeat_interval)
    grace_until_ = now + opt_.heartbeat_timeout;
  last_timer_ = now;
  if (now - last_heard_ >= opt_.heartbeat_timeout && now >= grace_until_) return TimerVerdict::timed_out;
  if (now - last_heard_ >= opt_.heartbeat_interval && now - last_probe_ >= opt_.heartbeat_interval) {
    heartbeat_due_ = true;
    last_probe_ = now;
    return TimerVerdict::heartbeat_due;
  }
  return TimerVerdict::ok;
}

TimePoint Session::next_deadline() const noexcept {
  const TimePoint probe = std::max(last_heard_, last_probe_) + opt_.heartbeat_interval;
  return std::min(probe, std::max(last_heard_ + opt_.heartbeat_timeout, grace_until_));
}

std::vector<Message> Session::take_undelivered() {
  std::vector<Message> out;
  out.reserve(unacked_.size() + pending_.size());
  for (std::size_t i = 0; i < unacked_.size(); ++i) out.push_back(std::move(unacked_[i].msg));
  for (std::size_t i = 0; i < pending_.size(); ++i) out.push_back(std::move(pending_[i]));
  unacked_.clear();
  pending_.clear();
  queued_bytes_ = 0;
  return out;
}

}  // namespace rserpool::transport::tcpmap
