#include "process.hpp"

#include <signal.h>
#include <unistd.h>
#include <gtest/gtest.h>

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
  std::string port;
  for (int i = 0; i < 200 && port.empty(); ++i) {
    port = sgtest::read_file(port_file);
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_FALSE(port.empty());
  EXPECT_TRUE(sgtest::wait_for_listener(sgtest::Protocol::tcp, static_cast<unsigned>(std::stoul(port)), 2s));
  EXPECT_FALSE(sgtest::wait_for_listener(sgtest::Protocol::tcp, 1, 100ms));
  std::remove(port_file.c_str());
}

}  // namespace
