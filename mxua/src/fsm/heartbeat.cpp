#include "mxua/fsm/heartbeat.hpp"

#include "rserpool/base/bytes.hpp"

namespace mxua {

void Heartbeat::start(TimePoint now) {
  if (!period_) return;
  received_at_beat_ = received_;
  silent_intervals_ = 0;
  due_ = now + *period_;
}

void Heartbeat::expired(TimePoint now, Actions& out) {
  if (!period_ || !due_) return;
  silent_intervals_ = received_ == received_at_beat_ ? silent_intervals_ + 1 : 0;
  if (silent_intervals_ >= 2) {
    due_.reset();
    out.push_back(PeerUnavailable{assoc_});
    return;
  }
  received_at_beat_ = received_;
  ++seq_;
  // Our own opaque data: a sequence number and the send time, so a BEAT ACK
  // can be told apart from a stale one when debugging.
  Bytes hb;
  rserpool::ByteWriter w(hb);
  w.u32(seq_);
  w.u32(static_cast<std::uint32_t>(rserpool::to_millis(now.time_since_epoch())));
  out.push_back(Send{assoc_, 0, Message{Beat{std::move(hb)}}});
  due_ = now + *period_;
}

BeatAck beat_ack_for(const Beat& b) { return BeatAck{b.heartbeat_data}; }

}  // namespace mxua
