#include "sctp_socket.hpp"

#include <fcntl.h>
#include <netinet/in.h>  // before netinet/sctp.h, which pulls in linux/in.h
#include <netinet/sctp.h>
#include <unistd.h>

#include <cerrno>

#include "association_base.hpp"
#include "socket_address.hpp"

namespace rserpool::transport::detail {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

int sctp_family_for(const std::vector<IpAddress>& a, const std::vector<IpAddress>& b) {
  for (const auto* v : {&a, &b})
    for (const auto& ip : *v)
      if (ip.is_v6()) return AF_INET6;
  return a.empty() && b.empty() ? AF_INET6 : AF_INET;
}

namespace {

std::error_code last_error() { return {errno, std::generic_category()}; }

template <class T>
bool set_opt(int fd, int level, int name, const T& value, const char* what) {
  if (::setsockopt(fd, level, name, &value, sizeof value) == 0) return true;
  logger()->warn("setsockopt({}) failed: {}", what, std::generic_category().message(errno));
  return false;
}

std::uint32_t ms(Millis m) { return static_cast<std::uint32_t>(m.count()); }

Result<void, std::error_code> apply_options(int fd, const EndpointConfig& cfg) {
  const SctpOptions& o = cfg.sctp;

  sctp_initmsg init{};
  init.sinit_num_ostreams = cfg.out_streams;
  init.sinit_max_instreams = cfg.in_streams;
  init.sinit_max_attempts = o.max_init_attempts;
  init.sinit_max_init_timeo = static_cast<std::uint16_t>(std::min<std::uint32_t>(ms(o.max_init_timeout), 0xffff));
  if (!set_opt(fd, IPPROTO_SCTP, SCTP_INITMSG, init, "SCTP_INITMSG")) return unexpected(last_error());

  const int nodelay = o.nodelay ? 1 : 0;
  set_opt(fd, IPPROTO_SCTP, SCTP_NODELAY, nodelay, "SCTP_NODELAY");

  sctp_rtoinfo rto{};
  rto.srto_assoc_id = 0;  // socket default, inherited by its associations
  rto.srto_initial = ms(o.rto_initial);
  rto.srto_min = ms(o.rto_min);
  rto.srto_max = ms(o.rto_max);
  if (!set_opt(fd, IPPROTO_SCTP, SCTP_RTOINFO, rto, "SCTP_RTOINFO")) return unexpected(last_error());

  sctp_assocparams ap{};
  ap.sasoc_assoc_id = 0;
  ap.sasoc_asocmaxrxt = o.association_max_retrans;
  if (!set_opt(fd, IPPROTO_SCTP, SCTP_ASSOCINFO, ap, "SCTP_ASSOCINFO")) return unexpected(last_error());

  sctp_paddrparams pp{};
  pp.spp_assoc_id = 0;
  pp.spp_hbinterval = ms(o.heartbeat_interval);
  pp.spp_pathmaxrxt = o.path_max_retrans;
  pp.spp_flags = o.heartbeat_enabled ? SPP_HB_ENABLE : SPP_HB_DISABLE;
  if (!set_opt(fd, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, pp, "SCTP_PEER_ADDR_PARAMS")) return unexpected(last_error());

  // Our delayed SACK (RFC 6458 8.1.19). A delay of 0 leaves the kernel's
  // delay alone; a frequency of 1 turns delaying off (SACK every packet).
  if (o.sack_delay || o.sack_frequency) {
    const std::uint32_t delay = o.sack_delay ? ms(*o.sack_delay) : 0;
    // RFC 9260 6.2: a SACK MUST NOT be delayed by more than 500 ms.
    if ((o.sack_delay && (delay == 0 || delay > 500)) || (o.sack_frequency && *o.sack_frequency == 0))
      return unexpected(std::make_error_code(std::errc::invalid_argument));
    sctp_sack_info si{};
    si.sack_assoc_id = 0;  // socket default, inherited by its associations
    si.sack_delay = delay;
    si.sack_freq = o.sack_frequency.value_or(0);
    if (!set_opt(fd, IPPROTO_SCTP, SCTP_DELAYED_SACK, si, "SCTP_DELAYED_SACK")) return unexpected(last_error());
  }

  // Before bind/connect/listen: the association's receive window is sized
  // from it when the association is set up.
  if (o.receive_buffer) {
    const int bytes = static_cast<int>(std::min<std::uint32_t>(*o.receive_buffer, 0x7fffffff));
    if (!set_opt(fd, SOL_SOCKET, SO_RCVBUF, bytes, "SO_RCVBUF")) return unexpected(last_error());
  }

  // RFC 6458 sctp_rcvinfo per message: ppid, stream, unordered flag.
  const int on = 1;
  if (!set_opt(fd, IPPROTO_SCTP, SCTP_RECVRCVINFO, on, "SCTP_RECVRCVINFO")) return unexpected(last_error());

  for (std::uint16_t type : {std::uint16_t{SCTP_ASSOC_CHANGE}, std::uint16_t{SCTP_PEER_ADDR_CHANGE},
                             std::uint16_t{SCTP_SEND_FAILED_EVENT}, std::uint16_t{SCTP_SHUTDOWN_EVENT},
                             std::uint16_t{SCTP_REMOTE_ERROR}}) {
    sctp_event ev{};
    ev.se_assoc_id = 0;
    ev.se_type = type;
    ev.se_on = 1;
    if (!set_opt(fd, IPPROTO_SCTP, SCTP_EVENT, ev, "SCTP_EVENT")) return unexpected(last_error());
  }
  return {};
}

std::vector<TransportAddress> collect(sockaddr* addrs, int n) {
  std::vector<TransportAddress> out;
  auto* p = reinterpret_cast<std::uint8_t*>(addrs);
  for (int i = 0; i < n; ++i) {
    sockaddr sa{};
    std::memcpy(&sa, p, sizeof sa);
    auto ta = from_sockaddr(reinterpret_cast<sockaddr*>(p));
    if (ta) out.push_back(*ta);
    p += sa.sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  }
  return out;
}

}  // namespace

Result<UniqueFd, std::error_code> open_sctp_socket(const EndpointConfig& cfg, int family) {
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_SCTP));
  if (fd.get() < 0) return unexpected(last_error());
  if (family == AF_INET6) {
    const int off = 0;  // dual-stack: v4 peers appear as v4-mapped
    set_opt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, off, "IPV6_V6ONLY");
  }
  const int on = 1;
  set_opt(fd.get(), SOL_SOCKET, SO_REUSEADDR, on, "SO_REUSEADDR");
  if (cfg.reuse_port) set_opt(fd.get(), SOL_SOCKET, SO_REUSEPORT, on, "SO_REUSEPORT");
  if (auto r = apply_options(fd.get(), cfg); !r) return unexpected(r.error());

  if (!cfg.local_addresses.empty()) {
    auto packed = pack_sockaddrs(cfg.local_addresses, cfg.local_port, family);
    if (::sctp_bindx(fd.get(), reinterpret_cast<sockaddr*>(packed.data()),
                     static_cast<int>(cfg.local_addresses.size()), SCTP_BINDX_ADD_ADDR) != 0)
      return unexpected(last_error());
  } else if (cfg.local_port != 0) {
    socklen_t len = 0;
    auto ss = to_sockaddr(family == AF_INET ? IpAddress{} : IpAddress::v6({}), cfg.local_port, family, len);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return unexpected(last_error());
  }
  return fd;
}

SctpParameters sctp_parameters_of(int fd) {
  SctpParameters p;
  auto get = [fd](int name, auto& value) {
    socklen_t len = sizeof value;
    return ::getsockopt(fd, IPPROTO_SCTP, name, &value, &len) == 0;
  };
  sctp_rtoinfo rto{};
  if (get(SCTP_RTOINFO, rto)) {
    p.rto_initial = Millis{rto.srto_initial};
    p.rto_min = Millis{rto.srto_min};
    p.rto_max = Millis{rto.srto_max};
  }
  sctp_assocparams ap{};
  if (get(SCTP_ASSOCINFO, ap)) p.association_max_retrans = ap.sasoc_asocmaxrxt;
  sctp_paddrparams pp{};
  if (get(SCTP_PEER_ADDR_PARAMS, pp)) {
    p.heartbeat_interval = Millis{pp.spp_hbinterval};
    p.heartbeat_enabled = (pp.spp_flags & SPP_HB_ENABLE) != 0;
    p.path_max_retrans = pp.spp_pathmaxrxt;
  }
  sctp_sack_info si{};
  if (get(SCTP_DELAYED_SACK, si)) {
    p.sack_delay = Millis{si.sack_delay};
    p.sack_frequency = si.sack_freq;
  }
  int nodelay = 0;
  if (get(SCTP_NODELAY, nodelay)) p.nodelay = nodelay != 0;
  sctp_status st{};
  if (get(SCTP_STATUS, st)) {
    p.rto = Millis{st.sstat_primary.spinfo_rto};
    p.srtt = Millis{st.sstat_primary.spinfo_srtt};
    p.peer_receive_window = st.sstat_rwnd;
  }
  sctp_assoc_stats as{};
  if (get(SCTP_GET_ASSOC_STATS, as)) {
    p.packets_out = as.sas_opackets;
    p.packets_in = as.sas_ipackets;
    p.data_chunks_out = as.sas_oodchunks + as.sas_ouodchunks;
    p.data_chunks_in = as.sas_iodchunks + as.sas_iuodchunks;
    p.sacks_out = as.sas_osacks;
    p.sacks_in = as.sas_isacks;
    p.retransmitted_chunks = as.sas_rtxchunks;
  }
  int rcvbuf = 0;
  socklen_t len = sizeof rcvbuf;
  if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) == 0) p.receive_buffer = static_cast<std::uint32_t>(rcvbuf);
  return p;
}

std::vector<TransportAddress> sctp_local_addresses(int fd) {
  sockaddr* addrs = nullptr;
  int n = ::sctp_getladdrs(fd, 0, &addrs);
  if (n <= 0) return {};
  auto out = collect(addrs, n);
  ::sctp_freeladdrs(addrs);
  return out;
}

std::vector<TransportAddress> sctp_peer_addresses(int fd) {
  sockaddr* addrs = nullptr;
  int n = ::sctp_getpaddrs(fd, 0, &addrs);
  if (n <= 0) return {};
  auto out = collect(addrs, n);
  ::sctp_freepaddrs(addrs);
  return out;
}

}  // namespace rserpool::transport::detail
