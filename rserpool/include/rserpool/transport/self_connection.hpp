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

// True when one of the association's local transport addresses is also one
// of its remote ones: the association is connected to itself.
inline bool is_self_connection(const std::vector<TransportAddress>& local,
                               const std::vector<TransportAddress>& remote) {
  return std::any_of(local.begin(), local.end(), [&](const TransportAddress& l) {
    return std::find(remote.begin(), remote.end(), l) != remote.end();
  });
}

}  // namespace rserpool::transport
