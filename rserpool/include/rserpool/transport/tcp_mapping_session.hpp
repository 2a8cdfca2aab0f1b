#pragma once
// The TCP mapping's per-association protocol, sans-I/O: INIT exchange,
// sequence numbers, cumulative acknowledgements, the retransmit queue of
// unacknowledged messages, heartbeats and the shutdown handshake. The
// Asio driver feeds it bytes and time and writes what it produces.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "rserpool/base/bytes.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/base/ring_queue.hpp"
#include "rserpool/transport/message.hpp"
#include "rserpool/transport/tcp_frame.hpp"

namespace rserpool::transport::tcpmap {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

struct SessionOptions {
  std::uint16_t out_streams = 16;
  std::uint16_t in_streams = 16;
  std::size_t max_message_size = 65536 + 1024;
  std::chrono::milliseconds heartbeat_interval{1000};
  std::chrono::milliseconds heartbeat_timeout{3000};
  std::size_t max_unacked = 1024;
  std::size_t send_queue_limit = 4096;          // messages, unwritten plus unacknowledged
  std::size_t send_queue_bytes = 1024 * 1024;   // their payload bytes (an empty queue takes any one message)
};

// Why the session gave up on the peer's input.
enum class SessionError : std::uint8_t {
  malformed_frame,   // FrameDecoder error other than oversized
  oversized_frame,
  data_before_init,
  duplicate_init,
  invalid_stream,    // DATA on a stream we did not accept
  bad_sequence,      // DATA out of sequence
  bad_ack,           // acknowledges something never sent
  data_after_shutdown,
};
std::string_view to_string(SessionError e) noexcept;

// Reusable: clear() keeps the vectors' storage, so a driver that keeps one
// per association allocates nothing per read in steady state.
struct SessionEvents {
  bool became_up = false;
  bool peer_shutdown = false;  // SHUTDOWN received: peer is done sending
  std::vector<Message> messages;
  // Messages queued before up on a stream the peer does not accept.
  std::vector<Message> refused;
  std::optional<SessionError> error;
  std::optional<FrameError> frame_error;  // detail when error is malformed/oversized
  void clear() noexcept {
    became_up = false;
    peer_shutdown = false;
    messages.clear();
    refused.clear();
    error.reset();
    frame_error.reset();
  }
};

enum class TimerVerdict : std::uint8_t { ok, heartbeat_due, timed_out };

class Session {
 public:
  Session(SessionOptions options, TimePoint now);

  // Queues a message (before or after up). Refusals are immediate and
  // leave `msg` with the caller, as it was.
  Result<void, SendError> submit(Message&& msg);
  Result<void, SendError> submit(const Message& msg) {
    Message copy = msg;
    return submit(std::move(copy));
  }

  // Consumes bytes from the peer. Stops at the first error (the session is
  // then failed and the association must close).
  void on_bytes(ByteView data, TimePoint now, SessionEvents& events);

  // Appends what should be written now: control frames first (INIT, acks,
  // heartbeat answers), then queued DATA within the unacknowledged window.
  // Messages written move to the retransmit queue until acknowledged.
  // Returns the number of bytes appended.
  static constexpr std::size_t kMaxOutput = 256 * 1024;
  std::size_t produce(Bytes& out, std::size_t max_bytes = kMaxOutput);
  // produce() for a driver that keeps a write buffer of its own (issue 16:
  // growing a vector zero-fills what is then overwritten at once): the
  // output is sized first, then `room(n)` returns where its n bytes are
  // written (not called when there is nothing to write). Returns n.
  template <typename Room>
  std::size_t produce_with(Room&& room, std::size_t max_bytes = kMaxOutput) {
    const OutputPlan plan = plan_output(max_bytes);
    if (plan.bytes == 0) return 0;
    return write_output(plan, room(plan.bytes));
  }
  // The number of bytes produce() would append now.
  std::size_t output_size(std::size_t max_bytes = kMaxOutput) const noexcept;
  bool has_output() const noexcept;

  // Heartbeat and liveness: call at next_deadline(). heartbeat_due queues a
  // HEARTBEAT (written by the next produce()). The peer is declared dead
  // only after silence through a window in which we ourselves ran: a call
  // that comes more than two heartbeat intervals after the previous one
  // means this process was not scheduled (a loaded host, a stopped
  // process), and what the peer sent meanwhile may still be unread in the
  // socket; that call probes and opens a new heartbeat_timeout window
  // instead of ending the association.
  TimerVerdict on_timer(TimePoint now);
  TimePoint next_deadline() const noexcept;

  // Graceful close: no more submits; a SHUTDOWN frame goes out once every
  // queued message is written and acknowledged.
  void request_shutdown() noexcept { shutdown_requested_ = true; }
  bool shutdown_sent() const noexcept { return shutdown_sent_; }
  bool peer_shutdown() const noexcept { return peer_shutdown_; }

  // Everything not known to be delivered, in send order: first the
  // unacknowledged (written) messages, then the not-yet-written ones.
  // Leaves the session with nothing queued.
  std::vector<Message> take_undelivered();

  bool up() const noexcept { return up_; }
  bool failed() const noexcept { return failed_; }
  std::uint16_t outbound_streams() const noexcept { return negotiated_out_; }
  std::uint16_t inbound_streams() const noexcept { return negotiated_in_; }
  std::size_t unacked() const noexcept { return unacked_.size(); }
  std::size_t pending() const noexcept { return pending_.size(); }
  // Payload bytes of the unacknowledged and the unwritten messages.
  std::size_t queued_bytes() const noexcept { return queued_bytes_; }
  std::uint64_t heartbeats_sent() const noexcept { return heartbeats_sent_; }

 private:
  struct Sent {
    std::uint32_t sequence = 0;
    Message msg;
  };
  // What produce() writes now: control frames (INIT, heartbeat answers,
  // DATA_ACK, HEARTBEAT) and how many DATA frames of pending_, with their
  // total size; then SHUTDOWN when `shutdown` is set.
  struct OutputPlan {
    std::size_t control_frames = 0;
    std::size_t data_frames = 0;
    bool shutdown = false;
    std::size_t bytes = 0;
  };
  OutputPlan plan_output(std::size_t max_bytes) const noexcept;
  // Writes what `plan` (just made) says at `at` (room for plan.bytes);
  // returns plan.bytes.
  std::size_t write_output(const OutputPlan& plan, std::uint8_t* at);
  void fail(SessionEvents& events, SessionError e);
  void handle(FrameView& f, SessionEvents& events);

  SessionOptions opt_;
  FrameDecoder decoder_;
  bool up_ = false;
  bool failed_ = false;
  bool init_sent_ = false;
  bool shutdown_requested_ = false;
  bool shutdown_sent_ = false;
  bool peer_shutdown_ = false;
  std::uint16_t negotiated_out_ = 0;
  std::uint16_t negotiated_in_ = 0;

  // Outbound.
  // Ring queues keep their storage: no allocation per message (issue 16).
  RingQueue<Message> pending_;  // accepted, not yet written
  RingQueue<Sent> unacked_;     // written, not yet acknowledged
  std::size_t queued_bytes_ = 0;
  std::uint32_t next_sequence_ = 1;

  // Inbound.
  std::uint32_t expected_sequence_ = 0;  // set by the peer's INIT
  std::uint32_t last_received_ = 0;
  bool ack_due_ = false;
  std::vector<std::uint32_t> heartbeat_acks_due_;

  // Liveness.
  TimePoint last_heard_;
  TimePoint last_probe_;
  TimePoint last_timer_;   // the previous on_timer() call: our own schedule
  TimePoint grace_until_;  // after our own stall, not down before this
  bool heartbeat_due_ = false;
  std::uint32_t heartbeat_nonce_ = 0;
  std::uint64_t heartbeats_sent_ = 0;
};

}  // namespace rserpool::transport::tcpmap
