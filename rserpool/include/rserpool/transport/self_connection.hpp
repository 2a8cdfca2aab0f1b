#pragma once
// A client association connecting on the same host to a port nobody listens
// on can connect to itself: Linux may pick the destination port as the
// ephemeral source port, and TCP's simultaneous open (or SCTP's INIT
// collision) then completes with the socket as its own peer. Such an
// association carries nothing and holds the very port a restarting daemon
// needs, so the connect paths abort it at once and report a connect
// failure (the owner retries with its back-off).
#include <algorithm>
#include <vector>

#include "rserpool/base/ip_address.hpp"

namespace rserpool::transport {

// True when the association's remote transport addresses are exactly its
// local ones: a socket connected to itself sees its own address list as the
// peer's. Sharing only some (one host's several addresses: a multi-homed
// endpoint bound to all of them, talking to another endpoint on one of
// them with the same port number) is a different endpoint, not itself.
inline bool is_self_connection(std::vector<TransportAddress> local, std::vector<TransportAddress> remote) {
  if (local.empty() || remote.empty()) return false;
  std::sort(local.begin(), local.end());
  std::sort(remote.begin(), remote.end());
  local.erase(std::unique(local.begin(), local.end()), local.end());
  remote.erase(std::unique(remote.begin(), remote.end()), remote.end());
  return local == remote;
}

}  // namespace rserpool::transport
