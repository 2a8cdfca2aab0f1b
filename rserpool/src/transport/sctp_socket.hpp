#pragma once
// Kernel SCTP socket set-up shared by the client and the listener:
// one-to-one (SOCK_STREAM) sockets, options from SctpOptions, event
// subscriptions, multi-homed bind.
#include <system_error>
#include <vector>

#include "rserpool/base/result.hpp"
#include "rserpool/transport/association.hpp"
#include "rserpool/transport/config.hpp"

namespace rserpool::transport::detail {

// Owns a file descriptor until released.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  ~UniqueFd();
  int get() const noexcept { return fd_; }
  int release() noexcept {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_ = -1;
};

// AF_INET6 when any address is v6 (v4 ones then go in as v4 through bindx),
// otherwise AF_INET.
int sctp_family_for(const std::vector<IpAddress>& a, const std::vector<IpAddress>& b);
// Creates a non-blocking SCTP socket with every option and subscription
// applied, bound to the configured local addresses and port.
Result<UniqueFd, std::error_code> open_sctp_socket(const EndpointConfig& cfg, int family);
// Reads the local and peer address lists of the association on fd.
std::vector<TransportAddress> sctp_local_addresses(int fd);
// The kernel's effective parameters of the association on fd.
SctpParameters sctp_parameters_of(int fd);
std::vector<TransportAddress> sctp_peer_addresses(int fd);

}  // namespace rserpool::transport::detail
