#pragma once
// COOKIE_ECHO before data, on a multi-stream association.
//
// SCTP orders messages only within a stream. M3UA DATA goes on the stream of
// its SLS (never stream 0), so a COOKIE_ECHO sent on stream 0 can be
// overtaken by DATA on another stream when a chunk is lost and
// retransmitted, and the heir would see a moved call's message before the
// state that explains it. Instead the cookie is sent on each data stream,
// lazily: right before the first DATA that uses that stream after the echo
// was requested, so once per stream per failover event, and never on a
// stream no DATA uses. The controller receiving it must treat repeats of
// one cookie as one (gwc-sim does).
//
// Sans-I/O: the link says which cookie to echo and asks, before each DATA,
// what must go out first on that DATA's stream.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "rserpool/base/bytes.hpp"

namespace sg::gwc_link {

// One control message to send now: `payload` (an encoded ASAP message) on `stream`.
struct StreamMessage {
  std::uint16_t stream = 0;
  rserpool::Bytes payload;
};

class EchoBeforeData {
 public:
  // Bound on cookies waiting for streams that carry no DATA: beyond it the
  // oldest is sent on all of its remaining streams at once, which keeps the
  // ordering promise and bounds the memory.
  explicit EchoBeforeData(std::size_t max_pending = 16) : max_pending_(max_pending) {}

  // `payload` (an encoded COOKIE_ECHO) must precede every later DATA on an
  // association with `outbound_streams` streams. Appends what must be sent
  // at once: on an association without data streams, stream 0; when the
  // bound is exceeded, the oldest cookie on its remaining streams.
  void echo(rserpool::Bytes payload, std::uint16_t outbound_streams, std::vector<StreamMessage>& now);
  // DATA is about to go on `stream`: appends the cookies to send on that
  // stream first, oldest first.
  void before_data(std::uint16_t stream, std::vector<StreamMessage>& out);
  // The association is gone or restarted: nothing is owed any more.
  void clear() noexcept { pending_.clear(); }

  std::size_t pending() const noexcept { return pending_.size(); }

 private:
  struct Pending {
    rserpool::Bytes payload;
    std::vector<bool> sent;  // per data stream 1..N
    std::size_t remaining = 0;
  };

  std::size_t max_pending_;
  std::deque<Pending> pending_;
};

}  // namespace sg::gwc_link
