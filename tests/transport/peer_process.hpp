#pragma once
// A transport_peer child process: fork+exec, its stdout on a non-blocking
// pipe, and the signals the tests need (SIGKILL, SIGSTOP).
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

class PeerProcess {
 public:
  // args are passed after the program path.
  explicit PeerProcess(std::vector<std::string> args);
  ~PeerProcess();
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;

  bool started() const noexcept { return pid_ > 0; }
  // Reads what the peer printed so far; returns complete lines.
  std::vector<std::string> poll_lines();
  // Blocks (bounded) for the "PORT n" line; 0 on failure.
  unsigned short wait_port(std::chrono::milliseconds limit);
  // Message indices reported so far ("MSG idx len" lines).
  const std::vector<unsigned>& received() {
    poll_lines();
    return received_;
  }
  void kill_hard();
  void freeze();
  void thaw();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string partial_;
  std::vector<std::string> lines_;
  std::vector<unsigned> received_;
  unsigned short port_ = 0;
};
