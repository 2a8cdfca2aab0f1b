#include "ports_file.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace sgtest {

std::optional<PortMap> parse_ports(const std::string& text) {
  PortMap out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::string name;
    long port = -1;
    std::string rest;
    if (!(fields >> name >> port) || (fields >> rest) || port < 0 || port > 65535) return std::nullopt;
    out[name] = static_cast<std::uint16_t>(port);
  }
  return out;
}

std::optional<PortMap> wait_for_ports_file(const std::string& path, ChildProcess& child,
                                           std::chrono::milliseconds timeout, std::string* why) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (::access(path.c_str(), R_OK) == 0) {
      auto ports = parse_ports(read_file(path));
      if (!ports && why) *why = path + ": malformed";
      return ports;
    }
    if (!child.running()) {
      if (why) *why = "the process exited before writing " + path;
      return std::nullopt;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      if (why) *why = "no " + path + " after " + std::to_string(timeout.count()) + " ms";
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

namespace {

// Socket inodes held by `pid` ("socket:[12345]" links under /proc/PID/fd).
std::set<unsigned long> socket_inodes(pid_t pid) {
  std::set<unsigned long> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    char target[PATH_MAX];
    const std::string link = dir + "/" + e->d_name;
    const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    unsigned long inode = 0;
    if (std::sscanf(target, "socket:[%lu]", &inode) == 1) out.insert(inode);
  }
  ::closedir(d);
  return out;
}

// The kernel's hex form of a local address in /proc/net/{tcp,udp}[6]
// (words in host byte order) as text.
std::string address_of(const std::string& hex) {
  unsigned char bytes[16] = {};
  const std::size_t words = hex.size() / 8;
  if ((words != 1 && words != 4) || hex.size() % 8 != 0) return {};
  for (std::size_t w = 0; w < words; ++w) {
    const auto word = static_cast<std::uint32_t>(std::strtoul(hex.substr(w * 8, 8).c_str(), nullptr, 16));
    std::memcpy(bytes + w * 4, &word, 4);
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(words == 1 ? AF_INET : AF_INET6, bytes, text, sizeof text) == nullptr) return {};
  return text;
}

// The same address in canonical text (so "::1" matches "0:0::1").
std::string canonical(const std::string& text) {
  unsigned char bytes[16] = {};
  char out[INET6_ADDRSTRLEN] = {};
  const int family = text.find(':') == std::string::npos ? AF_INET : AF_INET6;
  if (::inet_pton(family, text.c_str(), bytes) != 1) return text;
  return ::inet_ntop(family, bytes, out, sizeof out) ? out : text;
}

// Listening ports in one of the kernel's tables whose inode is in `inodes`.
void collect(const char* path, Protocol proto, const std::set<unsigned long>& inodes, const std::string& on_address,
             std::vector<std::uint16_t>& out) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    if (proto == Protocol::sctp) {
      // /proc/net/sctp/eps: ENDPT SOCK STY SST HBKT LPORT UID INODE LADDRS
      std::string endpt, sock, sty;
      unsigned sst = 0, hbkt = 0, lport = 0, uid = 0;
      unsigned long inode = 0;
      if (!(f >> endpt >> sock >> sty >> sst >> hbkt >> lport >> uid >> inode)) continue;
      if (sst != 10 || !inodes.count(inode)) continue;  // 10: LISTEN
      bool on = on_address.empty();
      for (std::string a; !on && f >> a;) on = canonical(a) == on_address;
      if (on) out.push_back(static_cast<std::uint16_t>(lport));
    } else {
      // /proc/net/{tcp,udp}[6]: sl local rem st txq:rxq tr:when retrnsmt uid timeout inode
      std::string sl, local, remote, st, queues, timer, retr, uid, tmo;
      unsigned long inode = 0;
      if (!(f >> sl >> local >> remote >> st >> queues >> timer >> retr >> uid >> tmo >> inode)) continue;
      const auto colon = local.rfind(':');
      if (colon == std::string::npos || !inodes.count(inode)) continue;
      if (proto == Protocol::tcp && st != "0A") continue;  // 0A: LISTEN
      if (!on_address.empty() && address_of(local.substr(0, colon)) != on_address) continue;
      out.push_back(static_cast<std::uint16_t>(std::strtoul(local.c_str() + colon + 1, nullptr, 16)));
    }
  }
}

}  // namespace

std::vector<std::uint16_t> listening_ports(pid_t pid, Protocol proto, const std::string& on_address) {
  const auto inodes = socket_inodes(pid);
  const std::string address = on_address.empty() ? std::string() : canonical(on_address);
  std::vector<std::uint16_t> out;
  switch (proto) {
    case Protocol::tcp:
      collect("/proc/net/tcp", proto, inodes, address, out);
      collect("/proc/net/tcp6", proto, inodes, address, out);
      break;
    case Protocol::udp:
      collect("/proc/net/udp", proto, inodes, address, out);
      collect("/proc/net/udp6", proto, inodes, address, out);
      break;
    case Protocol::sctp:
      collect("/proc/net/sctp/eps", proto, inodes, address, out);
      break;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<std::uint16_t> wait_for_listening_port(ChildProcess& child, Protocol proto,
                                                     std::chrono::milliseconds timeout,
                                                     const std::string& on_address) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    const auto ports = listening_ports(child.pid(), proto, on_address);
    if (ports.size() == 1) return ports.front();
    if (!child.running()) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (std::chrono::steady_clock::now() < deadline);
  return std::nullopt;
}

}  // namespace sgtest
