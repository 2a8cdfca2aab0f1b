#pragma once
// DATA_SEND by transport address (draft-ietf-rserpool-service 4.4: "When
// sending to a specific transport address, this primitive is considered a
// 'pass thru' to the underlying transport, and no failover services are
// performed"), sans-I/O.
//
// One channel per destination (protocol, port, set of addresses): the
// first send opens it (ConnectAddress), later sends reuse it. Messages sent
// while it connects wait here (bounded); once up they go straight out
// (SendDataToAddress). A channel that fails to connect or is lost later is
// forgotten: what it had not delivered is dropped and reported in one
// PassThroughFailed, never re-sent, and the next send opens a new channel.
// Nothing here touches the session's own association or its PE.
#include <cstddef>
#include <deque>
#include <optional>
#include <string_view>
#include <vector>

#include "rserpool/asap/actions.hpp"
#include "rserpool/base/result.hpp"

namespace rserpool::asap {

struct PassThroughConfig {
  std::size_t max_channels = 8;    // open channels per session
  std::size_t max_queued = 1024;   // per channel, while it connects
};

// Synchronous refusals of a pass-through send.
enum class PassThroughError : std::uint8_t {
  session_closed,
  bad_address,        // not SCTP/TCP, port 0, no or unspecified address
  too_many_channels,  // max_channels already open to other addresses
  queue_full,         // max_queued waiting for the connection
};
std::string_view to_string(PassThroughError e) noexcept;

// Why `address` cannot be a pass-through destination (nullopt: it can).
std::optional<PassThroughError> check_pass_through_address(const TransportParameter& address);

class PassThroughChannels {
 public:
  PassThroughChannels(SessionId session, PassThroughConfig config) : session_(session), config_(config) {}

  // Sends on the channel to `address`, opening it if needed.
  Result<ChannelId, PassThroughError> send(const TransportParameter& address, Bytes data, Actions& out);
  // Closes the channel to `address` (what is still waiting is dropped
  // silently: the caller asked for it). No-op when there is none.
  void close(const TransportParameter& address, Actions& out);
  void close_all(Actions& out);

  void on_connected(ChannelId channel, Actions& out);
  // The channel's association failed (before or after it came up);
  // `undelivered` messages were handed back by the transport.
  void on_failed(ChannelId channel, std::size_t undelivered, Actions& out);

  std::size_t open_channels() const noexcept { return channels_.size(); }
  std::optional<ChannelId> channel_for(const TransportParameter& address) const;
  // The destination of an open channel.
  const TransportParameter* address_of(ChannelId channel) const;

 private:
  struct Channel {
    ChannelId id = 0;
    TransportParameter address;  // as given by the first sender
    bool up = false;
    std::deque<Bytes> waiting;
  };
  std::vector<Channel>::iterator find(ChannelId id);

  SessionId session_;
  PassThroughConfig config_;
  std::vector<Channel> channels_;  // few: max_channels
  ChannelId next_id_ = 1;
};

}  // namespace rserpool::asap
