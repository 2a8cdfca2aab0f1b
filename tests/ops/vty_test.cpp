// libosmocore's VTY is process-global, so every scenario runs in a child
// process of its own; the child reports by exit status and stderr.
#include "rserpool/ops/vty.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <map>

#include "process.hpp"
#include "telnet_client.hpp"

namespace rserpool::ops {
namespace {

int in_child(const std::function<int()>& body) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

// A listening socket held by the test, so that its port is certainly taken.
struct HeldPort {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  std::uint16_t port = 0;
  HeldPort() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(fd, 1) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
  }
  ~HeldPort() { close(fd); }
};

// A small configuration language like the daemons': pools with a policy.
struct Model {
  std::map<std::string, std::string> pools;  // name -> policy
};

// Declares the model with "pool NAME" entering the pool node.
int declare_pool_language(Vty& vty, Model& model, std::string& current) {
  const int pool_node = vty.add_node("pool", "%s(config-pool)# ");
  vty.add_command(kConfigNode, "pool NAME", {"Configure a pool", "Pool handle"},
                  [&model, &current, pool_node](CommandContext& c) {
                    current = c.args.at(0);
                    model.pools.try_emplace(current, "round-robin");
                    c.enter_node = pool_node;
                  });
  vty.add_command(pool_node, "policy WORD", {"Selection policy", "Policy name"}, [&model, &current](CommandContext& c) {
    for (const char* k : {"round-robin", "least-used", "weighted-random"})
      if (c.args.at(0) == k) {
        model.pools[current] = k;
        return;
      }
    c.error = "unknown policy '" + c.args.at(0) + "'";
  });
  vty.add_show_command("show pools", {"Show running state", "Configured pools"}, [&model](CommandContext& c) {
    for (const auto& [name, policy] : model.pools) c.out += "pool " + name + " policy " + policy + "\n";
  });
  vty.set_config_writer([&model] {
    std::string s;
    for (const auto& [name, policy] : model.pools) s += "pool " + name + "\n policy " + policy + "\n";
    return s;
  });
  return pool_node;
}

TEST(Vty, ReadsAValidConfiguration) {
  EXPECT_EQ(in_child([] {
              Vty vty(VtyOptions{});
              Model model;
              std::string current;
              declare_pool_language(vty, model, current);
              auto r = vty.start({}, "pool gwc\n policy least-used\npool sccp\n", "test.cfg");
              if (!r) {
                std::fprintf(stderr, "%s\n", r.error().to_string().c_str());
                return 1;
              }
              vty.stop();
              return model.pools == std::map<std::string, std::string>{{"gwc", "least-used"}, {"sccp", "round-robin"}}
                         ? 0
                         : 2;
            }),
            0);
}

TEST(Vty, UnknownCommandNamesFileLineAndText) {
  const std::string path = ::testing::TempDir() + "vty_bad_" + std::to_string(getpid()) + ".cfg";
  std::ofstream(path) << "pool gwc\n policy least-used\nbogus command here\npool other\n";
  const std::string expect = path + ":3: invalid command 'bogus command here'";
  EXPECT_EQ(in_child([&] {
              Vty vty(VtyOptions{});
              Model model;
              std::string current;
              declare_pool_language(vty, model, current);
              auto r = vty.start(path);
              if (r) return 1;
              std::fprintf(stderr, "got: %s\n", r.error().to_string().c_str());
              return r.error().to_string() == expect ? 0 : 2;
            }),
            0);
}

TEST(Vty, RejectedValueNamesFileLineAndReason) {
  const std::string path = ::testing::TempDir() + "vty_bad_value_" + std::to_string(getpid()) + ".cfg";
  std::ofstream(path) << "pool gwc\n policy least-used\npool sccp\n policy fastest\n";
  EXPECT_EQ(in_child([&] {
              Vty vty(VtyOptions{});
              Model model;
              std::string current;
              declare_pool_language(vty, model, current);
              auto r = vty.start(path);
              if (r) return 1;
              std::fprintf(stderr, "got: %s\n", r.error().to_string().c_str());
              return r.error().to_string() == path + ":4: unknown policy 'fastest'" ? 0 : 2;
            }),
            0);
}

TEST(Vty, MissingFileIsAnError) {
  EXPECT_EQ(in_child([] {
              Vty vty(VtyOptions{});
              auto r = vty.start("/nonexistent/sgd.cfg");
              return !r && r.error().reason.find("cannot open") != std::string::npos ? 0 : 1;
            }),
            0);
}

TEST(Vty, TelnetShowConfigureAndWriteFile) {
  const std::string saved = ::testing::TempDir() + "vty_written_" + std::to_string(getpid()) + ".cfg";
  std::ofstream(saved) << "pool gwc\n";
  EXPECT_EQ(in_child([&] {
              VtyOptions o;
              o.telnet_any_port = true;
              Vty vty(o);
              Model model;
              std::string current;
              declare_pool_language(vty, model, current);
              auto r = vty.start(saved);
              if (!r) return 1;
              const auto port = vty_bound_port();
              if (!port) return 9;
              auto t = sgtest::TelnetClient::connect("127.0.0.1", *port);
              if (!t || !t->read_until_prompt()) return 2;
              auto shown = t->run("show pools");
              if (!shown || shown->find("pool gwc policy round-robin") == std::string::npos) return 3;
              if (!t->run("enable") || !t->run("configure terminal") || !t->run("pool sccp")) return 4;
              auto bad = t->run("policy nonsense");
              if (!bad || bad->find("% unknown policy 'nonsense'") == std::string::npos) return 5;
              if (!t->run("policy least-used") || !t->run("end")) return 6;
              auto written = t->run("write file");
              if (!written) return 7;
              vty.stop();
              const std::string text = sgtest::read_file(saved);
              std::fprintf(stderr, "written:\n%s\n", text.c_str());
              return text.find("pool sccp\n policy least-used\n") != std::string::npos ? 0 : 8;
            }),
            0);
}

// Port 0: the kernel's choice is read back from the listening socket, and
// both vty_bound_port() and telnet_port() say it; nothing after stop().
TEST(Vty, TelnetOnPortZeroReportsTheBoundPort) {
  EXPECT_EQ(in_child([] {
              if (vty_bound_port()) return 1;
              VtyOptions o;
              o.telnet_any_port = true;
              Vty vty(o);
              if (!vty.start({}, "!\n", "empty.cfg")) return 2;
              const auto port = vty_bound_port();
              if (!port || *port == 0) return 3;
              std::fprintf(stderr, "bound %u\n", unsigned{*port});
              if (vty.telnet_port() != *port) return 4;
              if (!sgtest::wait_for_listener(sgtest::Protocol::tcp, *port, std::chrono::seconds(1))) return 5;
              auto t = sgtest::TelnetClient::connect("127.0.0.1", *port);
              if (!t || !t->read_until_prompt()) return 6;
              vty.stop();
              return vty_bound_port() ? 7 : 0;
            }),
            0);
}

// The configuration's `line vty` / `bind ADDRESS 0` wins over the option's
// default port, and is what is reported.
TEST(Vty, ConfiguredBindPortZeroWinsAndIsReported) {
  HeldPort held;  // the option's default port, taken: it must not be tried
  ASSERT_NE(held.port, 0);
  EXPECT_EQ(in_child([&] {
              VtyOptions o;
              o.telnet_port = held.port;
              Vty vty(o);
              auto r = vty.start({}, "line vty\n bind 127.0.0.1 0\n", "bind.cfg");
              if (!r) {
                std::fprintf(stderr, "%s\n", r.error().to_string().c_str());
                return 1;
              }
              const auto port = vty_bound_port();
              if (!port || *port == held.port || *port == 0) return 2;
              return vty.telnet_port() == *port ? 0 : 3;
            }),
            0);
  EXPECT_EQ(in_child([] {
              Vty vty(VtyOptions{});  // no telnet
              if (!vty.start({}, "!\n", "none.cfg")) return 1;
              return vty_bound_port() ? 2 : 0;
            }),
            0);
}

// A taken port: the error names the address and port actually tried (the
// configuration's, not the option's default).
TEST(Vty, TelnetPortInUseNamesTheAddressAndPortTried) {
  HeldPort held;
  ASSERT_NE(held.port, 0);
  EXPECT_EQ(in_child([&] {
              VtyOptions o;
              o.telnet_port = 4261;
              Vty vty(o);
              auto r = vty.start({}, "line vty\n bind 127.0.0.1 " + std::to_string(held.port) + "\n", "taken.cfg");
              if (r) return 1;
              const auto text = r.error().to_string();
              std::fprintf(stderr, "got: %s\n", text.c_str());
              return text == "telnet: cannot listen on 127.0.0.1 port " + std::to_string(held.port) ? 0 : 2;
            }),
            0);
}

}  // namespace
}  // namespace rserpool::ops
