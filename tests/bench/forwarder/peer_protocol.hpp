#pragma once
// The least M3UA a forwarder needs to stand between an SS7 ASP and a set of
// gateway controllers, as a sans-I/O object per association. It is the
// measuring stick for sgd (issue 16: "a minimal forwarder, receive, send,
// nothing else"), so it keeps no protocol state beyond "this peer is ACTIVE"
// and "which routing context goes into DATA towards it":
//
// - DATA (RFC 4666 3.3.1) is not decoded: the common header is checked and
//   the parameters are walked to find the Routing Context value, which the
//   executor overwrites in place (same length) with the receiving peer's;
//   the message then travels on in the buffer it arrived in.
// - ASP management (RFC 4666 3.5, 3.7) is answered as an SGP would, without
//   an AS state machine: ASPUP -> ASPUP ACK, ASPAC -> ASPAC ACK echoing the
//   requested routing contexts plus NTFY AS-ACTIVE (4.3.4.3), ASPIA -> ASPIA
//   ACK, ASPDN -> ASPDN ACK, BEAT -> BEAT ACK with the same data (3.5.5).
// - Towards a gateway controller (gwc-sim: the responding side of an IPSP
//   single exchange, RFC 4666 4.3.3) the forwarder initiates: ASPUP, then
//   ASPAC for the configured routing context once ASPUP is acknowledged;
//   the peer carries DATA once ASPAC is acknowledged.
// Anything else (SSNM, RKM, NTFY, ERR) is ignored and counted by the caller.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "rserpool/base/bytes.hpp"

namespace sg::bench {

enum class PeerRole : std::uint8_t {
  sgp,             // the peer is an ASP (ss7-gen, m3ua_load --echo-asp): we answer its requests
  ipsp_initiator,  // the peer is an IPSP responder (gwc-sim): we bring it up
};

// What a received M3UA message was.
enum class Inbound : std::uint8_t {
  data,         // DATA: forward it (DataLayout says where its routing context is)
  management,   // answered or acted upon (replies appended)
  activated,    // the peer became ACTIVE (replies may have been appended)
  deactivated,  // the peer left ACTIVE (ASPIA, ASPDN)
  ignored,      // valid M3UA the forwarder has no use for
  malformed,    // not a well-formed M3UA message
};

struct DataLayout {
  // Offset of the Routing Context's 4-byte value in the message, when the
  // DATA carries one (it then names one routing context: RFC 4666 3.3.1).
  std::optional<std::size_t> routing_context_offset;
};

// Common header (version 1, length = message size) and parameter walk of a
// DATA message; nullopt when malformed or without Protocol Data. Allocates
// nothing.
std::optional<DataLayout> locate_data(rserpool::ByteView message) noexcept;

// Overwrites the routing context value at `offset` (from locate_data).
void write_routing_context(rserpool::Bytes& message, std::size_t offset, std::uint32_t rc) noexcept;

// The stream a DATA goes out on: the one it came in on when the receiving
// association has it, else one of the data streams 1..outbound-1 (DATA
// never travels on stream 0, RFC 4666 1.4.7); 0 when there is none.
std::uint16_t data_stream(std::uint16_t received_on, std::uint16_t outbound_streams) noexcept;

class PeerProtocol {
 public:
  // `routing_context`: written into DATA sent to this peer. For an SGP-role
  // peer without one, the first routing context of its ASPAC is used.
  PeerProtocol(PeerRole role, std::optional<std::uint32_t> routing_context);

  // The association came up: an initiator's ASPUP goes into `replies`.
  void association_up(std::vector<rserpool::Bytes>& replies);
  // One message as received (PPID 3). Replies go out on stream 0, in order.
  // DATA allocates nothing and appends nothing.
  Inbound receive(rserpool::ByteView message, DataLayout& data, std::vector<rserpool::Bytes>& replies);

  bool active() const noexcept { return active_; }
  std::optional<std::uint32_t> routing_context() const noexcept { return rc_; }
  PeerRole role() const noexcept { return role_; }

 private:
  Inbound management(rserpool::ByteView message, std::vector<rserpool::Bytes>& replies);

  PeerRole role_;
  std::optional<std::uint32_t> rc_;
  bool rc_configured_;
  bool active_ = false;
};

}  // namespace sg::bench
