#include "telnet_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace sgtest {

std::optional<TelnetClient> TelnetClient::connect(const std::string& host, std::uint16_t port,
                                                  std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    const bool v6 = host.find(':') != std::string::npos;
    const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::nullopt;
    int rc = -1;
    if (v6) {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(port);
      inet_pton(AF_INET6, host.c_str(), &a.sin6_addr);
      rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    } else {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      inet_pton(AF_INET, host.c_str(), &a.sin_addr);
      rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    if (rc == 0) return TelnetClient(fd);
    ::close(fd);
    ::usleep(20000);
  } while (std::chrono::steady_clock::now() < deadline);
  return std::nullopt;
}

TelnetClient::~TelnetClient() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> TelnetClient::read_until_prompt(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // A prompt is the text after the last newline, ending in "> " or "# ".
    const auto nl = buffer_.rfind('\n');
    const std::string tail = nl == std::string::npos ? buffer_ : buffer_.substr(nl + 1);
    if (tail.size() >= 2 && (tail.ends_with("> ") || tail.ends_with("# "))) {
      std::string out = nl == std::string::npos ? "" : buffer_.substr(0, nl + 1);
      buffer_.clear();
      return out;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
    char buf[4096];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    // Drop telnet negotiation (IAC cmd opt, and IAC SB ... IAC SE) and CRs.
    for (ssize_t i = 0; i < n; ++i) {
      const auto c = static_cast<unsigned char>(buf[i]);
      if (c == 255 && i + 1 < n) {
        const auto cmd = static_cast<unsigned char>(buf[i + 1]);
        if (cmd == 250) {  // SB: skip to IAC SE
          i += 2;
          while (i + 1 < n && !(static_cast<unsigned char>(buf[i]) == 255 && static_cast<unsigned char>(buf[i + 1]) == 240)) ++i;
          ++i;
        } else {
          i += cmd >= 251 ? 2 : 1;
        }
        continue;
      }
      if (c != '\r' && c != 0) buffer_ += static_cast<char>(c);
    }
  }
}

std::optional<std::string> TelnetClient::run(const std::string& command, std::chrono::milliseconds timeout) {
  const std::string line = command + "\r\n";
  if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return std::nullopt;
  auto out = read_until_prompt(timeout);
  if (!out) return std::nullopt;
  // The VTY echoes the command on the first line.
  const auto nl = out->find('\n');
  return nl == std::string::npos ? std::string{} : out->substr(nl + 1);
}

}  // namespace sgtest
