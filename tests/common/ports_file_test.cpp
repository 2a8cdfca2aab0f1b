// Reading back the ports a child bound: the daemons' --ports-file, and the
// kernel's view of a third-party process's listening sockets.
#include "ports_file.hpp"

#include <unistd.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

namespace {

using namespace std::chrono_literals;

std::string temp(const std::string& name) { return ::testing::TempDir() + name + "." + std::to_string(::getpid()); }

TEST(PortsFile, ParsesNamePortLinesAndRejectsAnythingElse) {
  auto p = sgtest::parse_ports("m3ua 2905\nasap 0\nvty 65535\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->at("m3ua"), 2905);
  EXPECT_EQ(p->at("asap"), 0);
  EXPECT_EQ(p->at("vty"), 65535);
  EXPECT_FALSE(sgtest::parse_ports("m3ua\n"));
  EXPECT_FALSE(sgtest::parse_ports("m3ua 65536\n"));
  EXPECT_FALSE(sgtest::parse_ports("m3ua 1 2\n"));
  EXPECT_FALSE(sgtest::parse_ports("m3ua x\n"));
}

TEST(PortsFile, WaitsForTheFileTheChildRenamesIntoPlace) {
  const auto path = temp("ports");
  std::remove(path.c_str());
  auto child = sgtest::ChildProcess::spawn(
      {"sh", "-c", "sleep 0.2; printf 'm3ua 4000\\nvty 4001\\n' > \"$0.tmp\" && mv \"$0.tmp\" \"$0\"; sleep 30", path});
  ASSERT_TRUE(child);
  std::string why;
  auto ports = sgtest::wait_for_ports_file(path, *child, 5s, &why);
  ASSERT_TRUE(ports) << why;
  EXPECT_EQ(ports->at("m3ua"), 4000);
  EXPECT_EQ(ports->at("vty"), 4001);
  std::remove(path.c_str());
}

TEST(PortsFile, SaysWhenTheChildExitsWithoutWritingIt) {
  auto child = sgtest::ChildProcess::spawn({"sh", "-c", "exit 1"});
  ASSERT_TRUE(child);
  std::string why;
  EXPECT_FALSE(sgtest::wait_for_ports_file(temp("never"), *child, 5s, &why));
  EXPECT_NE(why.find("exited"), std::string::npos) << why;
}

TEST(ListeningPorts, FindsTheEphemeralPortAChildBound) {
  const std::string port_file = temp("py-port");
  auto child = sgtest::ChildProcess::spawn(
      {"python3", "-c",
       "import socket,time; s=socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
       "c=socket.socket(); c.bind(('127.0.0.1', 0)); "  // bound, not listening: not reported
       "open('" + port_file + ".tmp','w').write(str(s.getsockname()[1])); "
       "import os; os.rename('" + port_file + ".tmp', '" + port_file + "'); time.sleep(30)"});
  ASSERT_TRUE(child);
  // The limit only bounds a failure: python's start took over 5 s on a
  // loaded machine.
  const auto port = sgtest::wait_for_listening_port(*child, sgtest::Protocol::tcp, 30s);
  ASSERT_TRUE(port);
  std::string written;
  for (int i = 0; i < 500 && written.empty(); ++i) {
    written = sgtest::read_file(port_file);
    if (written.empty()) std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(std::to_string(*port), written);
  EXPECT_EQ(sgtest::listening_ports(child->pid(), sgtest::Protocol::tcp), std::vector<std::uint16_t>{*port});
  EXPECT_EQ(sgtest::listening_ports(child->pid(), sgtest::Protocol::tcp, "127.0.0.1"),
            std::vector<std::uint16_t>{*port});
  EXPECT_TRUE(sgtest::listening_ports(child->pid(), sgtest::Protocol::tcp, "127.0.0.2").empty());
  EXPECT_TRUE(sgtest::listening_ports(child->pid(), sgtest::Protocol::udp).empty());
  std::remove(port_file.c_str());
}

}  // namespace
