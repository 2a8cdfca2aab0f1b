#pragma once
// Child processes for integration and interop tests: real peers (rsplib,
// osmo-stp, our daemons) started by a test, signalled by it (SIGKILL,
// SIGSTOP) and always reaped, whatever the test's outcome.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sgtest {

class ChildProcess {
 public:
  // Starts argv[0] (searched in PATH) with argv; stdout and stderr go to
  // `log_path` (or /dev/null when empty). extra_env entries are "NAME=value".
  static std::optional<ChildProcess> spawn(const std::vector<std::string>& argv, const std::string& log_path = {},
                                           const std::vector<std::string>& extra_env = {});
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Kills (SIGKILL) and reaps a child still running.
  ~ChildProcess();

  pid_t pid() const noexcept { return pid_; }
  bool signal(int sig) const;
  // Waits for the child to exit; its exit status (or 128 + signal), or
  // nullopt when it is still running at the deadline.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  std::optional<int> status_;
};

enum class Protocol { tcp, sctp, udp };

// Polls the kernel's socket tables until something listens on `port`.
bool wait_for_listener(Protocol proto, unsigned port, std::chrono::milliseconds timeout);

// Reads a whole file (logs of a child), empty when missing.
std::string read_file(const std::string& path);

}  // namespace sgtest
