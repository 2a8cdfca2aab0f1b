#include "mxua/fsm/heartbeat.hpp"

#include "mxua/codec.hpp"

namespace mxua {

void Heartbeat::start(TimePoint /*now*/, Actions& out) {
  if (!period_) return;
  received_at_beat_ = received_;
  silent_intervals_ = 0;
  running_ = true;
  out.push_back(StartTimer{timer(), *period_});
}

void Heartbeat::stop(Actions& out) {
  if (!running_) return;
  running_ = false;
  out.push_back(StopTimer{timer()});
}

void Heartbeat::expired(TimePoint now, Actions& out) {
  if (!period_ || !running_) return;
  silent_intervals_ = received_ == received_at_beat_ ? silent_intervals_ + 1 : 0;
  if (silent_intervals_ >= 2) {
    running_ = false;
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
  w.u32(static_cast<std::uint32_t>(now.count()));
  out.push_back(Send{assoc_, 0, encode(Message{Beat{std::move(hb)}})});
  out.push_back(StartTimer{timer(), *period_});
}

BeatAck beat_ack_for(const Beat& b) { return BeatAck{b.heartbeat_data}; }

}  // namespace mxua
