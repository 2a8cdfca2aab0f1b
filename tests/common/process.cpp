#include "process.hpp"

#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace sgtest {

std::optional<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv, const std::string& log_path,
                                                const std::vector<std::string>& extra_env) {
  if (argv.empty()) return std::nullopt;
  const pid_t pid = fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    // In the child: only async-signal-safe calls until exec.
    const int fd = open(log_path.empty() ? "/dev/null" : log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    setpgid(0, 0);  // its own group: a test's SIGINT does not reach it twice
    for (const auto& e : extra_env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_), status_(other.status_) {
  other.pid_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    this->~ChildProcess();
    pid_ = other.pid_;
    status_ = other.status_;
    other.pid_ = -1;
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    ::kill(pid_, SIGCONT);  // a stopped child must run to die
    int st = 0;
    waitpid(pid_, &st, 0);
  }
}

bool ChildProcess::signal(int sig) const { return pid_ > 0 && ::kill(pid_, sig) == 0; }

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    int st = 0;
    const pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  } while (std::chrono::steady_clock::now() < deadline);
  return std::nullopt;
}

bool ChildProcess::running() { return !wait(std::chrono::milliseconds(0)).has_value(); }

namespace {

bool table_has_port(const char* path, unsigned port, bool sctp) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    if (sctp) {
      // /proc/net/sctp/eps: ENDPT SOCK STY SST HBKT LPORT ...
      std::string endpt, sock, sty, sst, hbkt;
      unsigned lport = 0;
      if (fields >> endpt >> sock >> sty >> sst >> hbkt >> lport && lport == port) return true;
    } else {
      // /proc/net/{tcp,udp}[6]: sl local_address(hex ip:hex port) rem_address st ...
      std::string sl, local, remote, st;
      if (!(fields >> sl >> local >> remote >> st)) continue;
      const auto colon = local.rfind(':');
      if (colon == std::string::npos) continue;
      const unsigned p = static_cast<unsigned>(std::strtoul(local.c_str() + colon + 1, nullptr, 16));
      if (p == port && (path[10] == 'u' || st == "0A")) return true;  // 0A = LISTEN
    }
  }
  return false;
}

}  // namespace

bool wait_for_listener(Protocol proto, unsigned port, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    switch (proto) {
      case Protocol::tcp:
        if (table_has_port("/proc/net/tcp", port, false) || table_has_port("/proc/net/tcp6", port, false)) return true;
        break;
      case Protocol::udp:
        if (table_has_port("/proc/net/udp", port, false) || table_has_port("/proc/net/udp6", port, false)) return true;
        break;
      case Protocol::sctp:
        if (table_has_port("/proc/net/sctp/eps", port, true)) return true;
        break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace sgtest
