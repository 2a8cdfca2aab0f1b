#pragma once
// The minimal M3UA forwarder's executor (issue 16's "physical limit"): one
// listener for the SS7 side, N downstream associations (connected to
// gateway controllers, or accepted from echoing ASPs), DATA from the SS7
// side to the next ACTIVE downstream peer in turn (round robin), DATA from a
// downstream peer back to the SS7 peer that sent last. Nothing else: no
// routing table, no ASAP, no flow state, no copy. A received message is
// moved, with its routing context overwritten in place, into the other
// association's send(): the forwarder costs what the transport costs
// (rserpool/transport, the same options and batching as sgd's).
//
// The M3UA it needs (answers to ASP management, bringing a controller's
// IPSP up) is PeerProtocol's; this class performs I/O and counts.
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "peer_protocol.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/transport/endpoint.hpp"

namespace sg::bench {

struct ForwarderConfig {
  rserpool::transport::EndpointConfig ss7;  // listener for the SS7 side's ASPs
  // Gateway controllers to connect to (IPSP initiator), with the routing
  // context written into DATA towards them (gwc-sim's: 1).
  std::vector<rserpool::transport::EndpointConfig> controllers;
  std::uint32_t controller_rc = 1;
  // Optionally a second listener for downstream ASPs (m3ua_load --echo-asp):
  // each accepted association is a downstream peer once it is ACTIVE.
  std::optional<rserpool::transport::EndpointConfig> downstream_listen;
};

struct ForwarderCounters {
  std::uint64_t from_ss7 = 0;         // DATA received from the SS7 side
  std::uint64_t to_downstream = 0;    // ... accepted by a downstream association's send()
  std::uint64_t from_downstream = 0;  // DATA received from downstream peers
  std::uint64_t to_ss7 = 0;           // ... accepted by the SS7 association's send()
  std::uint64_t no_peer = 0;          // DATA dropped: no ACTIVE peer to send it to
  std::uint64_t refused = 0;          // DATA dropped: send() refused it (queue full, stream, size)
  std::uint64_t unsent = 0;           // DATA handed back by a failed association (dropped, counted)
  std::uint64_t management = 0;       // ASP management answered
  std::uint64_t ignored = 0;          // valid M3UA of no use here, or another PPID
  std::uint64_t malformed = 0;
};

class Forwarder {
 public:
  Forwarder(boost::asio::io_context& io, ForwarderConfig config);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Opens the listeners and starts the controller associations; an error
  // names the address and port tried.
  rserpool::Result<void, std::string> start();
  void close();

  std::uint16_t ss7_port() const;
  std::optional<std::uint16_t> downstream_port() const;
  // Downstream peers that carry DATA now.
  std::size_t active_downstream() const;
  const ForwarderCounters& counters() const noexcept { return counters_; }
  // Called when a downstream peer becomes ACTIVE or leaves it.
  void on_downstream_change(std::function<void(std::size_t active)> cb) { changed_ = std::move(cb); }

 private:
  class PeerHandler;
  friend class PeerHandler;
  struct Peer {
    std::shared_ptr<rserpool::transport::Association> assoc;
    std::shared_ptr<PeerHandler> handler;
    PeerProtocol protocol;
    bool downstream = false;
    std::uint16_t outbound_streams = 0;
  };

  Peer* add_peer(bool downstream, PeerRole role, std::optional<std::uint32_t> rc);
  void up(Peer& p, const rserpool::transport::AssociationInfo& info);
  void received(Peer& p, rserpool::transport::Message&& m);
  void down(Peer& p);
  // The routing context in place, a data stream the receiver has, send().
  void forward(Peer& to, rserpool::transport::Message&& m, const DataLayout& layout);
  Peer* next_downstream();
  void send_replies(Peer& p);

  boost::asio::io_context& io_;
  ForwarderConfig config_;
  std::shared_ptr<rserpool::transport::Listener> ss7_listener_;
  std::shared_ptr<rserpool::transport::Listener> downstream_listener_;
  std::vector<std::unique_ptr<Peer>> peers_;  // stable addresses; erased when down
  std::vector<Peer*> downstream_;            // ACTIVE downstream peers, in round-robin order
  std::size_t next_ = 0;
  Peer* ss7_ = nullptr;                      // the SS7 peer that sent last
  std::vector<rserpool::Bytes> replies_;     // reused
  ForwarderCounters counters_;
  std::function<void(std::size_t)> changed_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sg::bench
