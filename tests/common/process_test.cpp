#include "process.hpp"

#include <signal.h>
#include <unistd.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>

namespace {

using namespace std::chrono_literals;

TEST(ChildProcess, RunsLogsAndReportsExitStatus) {
  const std::string log = ::testing::TempDir() + "child.log";
  auto child = sgtest::ChildProcess::spawn({"sh", "-c", "echo hello $SG_PROBE; exit 3"}, log, {"SG_PROBE=world"});
  ASSERT_TRUE(child);
  EXPECT_EQ(child->wait(5s), 3);
  EXPECT_EQ(sgtest::read_file(log), "hello world\n");
}

TEST(ChildProcess, SignalsAndReapsOnDestruction) {
  auto child = sgtest::ChildProcess::spawn({"sleep", "30"});
  ASSERT_TRUE(child);
  EXPECT_TRUE(child->running());
  EXPECT_TRUE(child->signal(SIGSTOP));
  EXPECT_FALSE(child->wait(50ms));  // stopped, not exited
  const pid_t pid = child->pid();
  { auto gone = std::move(*child); }  // destructor kills the stopped child and reaps it
  EXPECT_NE(::kill(pid, 0), 0);
}

TEST(ChildProcess, MissingProgramExits127) {
  auto child = sgtest::ChildProcess::spawn({"/nonexistent/program"});
  ASSERT_TRUE(child);
  EXPECT_EQ(child->wait(5s), 127);
}

TEST(WaitForListener, SeesATcpListener) {
  const std::string port_file = ::testing::TempDir() + "port." + std::to_string(::getpid());
  auto child = sgtest::ChildProcess::spawn(
      {"python3", "-c", "import socket,time; s=socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
                        "open('" + port_file + "','w').write(str(s.getsockname()[1])); time.sleep(30)"});
  ASSERT_TRUE(child);
  // The interpreter's start-up is the only wait here; on a loaded machine it
  // has taken over 2 s, so wait for the port file (or the child's exit), not
  // for a fixed number of polls.
  std::string port;
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (port.empty() && child->running() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(10ms);
    port = sgtest::read_file(port_file);
  }
  ASSERT_FALSE(port.empty()) << "the listener never wrote its port to " << port_file;
  EXPECT_TRUE(sgtest::wait_for_listener(sgtest::Protocol::tcp, static_cast<unsigned>(std::stoul(port)), 2s));
  EXPECT_FALSE(sgtest::wait_for_listener(sgtest::Protocol::tcp, 1, 100ms));
  std::remove(port_file.c_str());
}

}  // namespace
