#pragma once
// Kernel SCTP, seen from the test process's own file descriptors: which
// sockets exist (by their ports), the delayed-SACK setting the kernel uses
// for one, and how much of what was sent on one its peer has not yet
// acknowledged. The transports do not expose their descriptors; a test that
// runs gateways, controllers and SS7 peers in one process finds every end of
// every association here.
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/sctp.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <vector>

namespace sgdtest {

struct SctpSocket {
  int fd = -1;
  std::uint16_t local_port = 0;
  std::uint16_t peer_port = 0;  // 0: listening (or not connected)
  bool listening = false;
};

inline std::uint16_t port_of(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
  return 0;
}

inline std::vector<SctpSocket> sctp_sockets() {
  std::vector<SctpSocket> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::atoi(e.path().filename().c_str());
    int proto = 0;
    socklen_t len = sizeof proto;
    if (::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) != 0 || proto != IPPROTO_SCTP) continue;
    SctpSocket s;
    s.fd = fd;
    sockaddr_storage a{};
    socklen_t alen = sizeof a;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &alen) == 0) s.local_port = port_of(a);
    int accepting = 0;
    len = sizeof accepting;
    s.listening = ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0 && accepting != 0;
    sockaddr_storage p{};
    socklen_t plen = sizeof p;
    if (!s.listening && ::getpeername(fd, reinterpret_cast<sockaddr*>(&p), &plen) == 0) s.peer_port = port_of(p);
    out.push_back(s);
  }
  return out;
}

// SCTP_DELAYED_SACK as the kernel applies it to the socket's association:
// 1 when every packet is SACKed as it arrives.
inline std::optional<std::uint32_t> sack_frequency(int fd) {
  sctp_sack_info si{};
  socklen_t len = sizeof si;
  if (::getsockopt(fd, IPPROTO_SCTP, SCTP_DELAYED_SACK, &si, &len) != 0) return std::nullopt;
  return si.sack_freq;
}

// Bytes of DATA sent on the socket and still held for retransmission: Linux
// frees a chunk (and uncharges sk_wmem_queued) when a SACK covers it.
inline std::optional<std::uint32_t> unacknowledged_bytes(int fd) {
  std::uint32_t mem[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof mem;
  if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0) return std::nullopt;
  return mem[SK_MEMINFO_WMEM_QUEUED];
}

}  // namespace sgdtest
