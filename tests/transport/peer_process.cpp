#include "peer_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <thread>

PeerProcess::PeerProcess(std::vector<std::string> args) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    std::vector<char*> argv;
    std::string path = TRANSPORT_PEER_PATH;
    argv.push_back(path.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  out_fd_ = fds[0];
  ::fcntl(out_fd_, F_SETFL, O_NONBLOCK);
}

PeerProcess::~PeerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

std::vector<std::string> PeerProcess::poll_lines() {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) break;
    partial_.append(buf, static_cast<std::size_t>(n));
  }
  std::vector<std::string> fresh;
  for (auto nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n')) {
    std::string line = partial_.substr(0, nl);
    partial_.erase(0, nl + 1);
    std::istringstream in(line);
    std::string word;
    in >> word;
    if (word == "PORT") {
      in >> port_;
    } else if (word == "MSG") {
      unsigned idx = 0;
      in >> idx;
      received_.push_back(idx);
    }
    fresh.push_back(line);
    lines_.push_back(std::move(line));
  }
  return fresh;
}

unsigned short PeerProcess::wait_port(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (port_ == 0 && std::chrono::steady_clock::now() < deadline) {
    poll_lines();
    if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return port_;
}

void PeerProcess::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void PeerProcess::freeze() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void PeerProcess::thaw() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}
