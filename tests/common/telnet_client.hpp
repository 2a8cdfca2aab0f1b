#pragma once
// A minimal telnet client for driving our daemons' VTY in tests: connects,
// strips telnet negotiation, runs one command at a time and returns what was
// printed before the next prompt.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace sgtest {

class TelnetClient {
 public:
  static std::optional<TelnetClient> connect(const std::string& host, std::uint16_t port,
                                             std::chrono::milliseconds timeout = std::chrono::seconds(5));
  TelnetClient(TelnetClient&& o) noexcept : fd_(o.fd_), buffer_(std::move(o.buffer_)) { o.fd_ = -1; }
  TelnetClient& operator=(TelnetClient&&) = delete;
  ~TelnetClient();

  // Reads until a line ends with "> " or "# " (a VTY prompt); returns the
  // text before the prompt, or nullopt on timeout or disconnect.
  std::optional<std::string> read_until_prompt(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Sends `command` and returns its output (without the echo and the prompt).
  std::optional<std::string> run(const std::string& command,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  explicit TelnetClient(int fd) : fd_(fd) {}
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace sgtest
