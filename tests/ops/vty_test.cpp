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

std::uint16_t free_tcp_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

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
  const std::uint16_t port = free_tcp_port();
  const std::string saved = ::testing::TempDir() + "vty_written_" + std::to_string(getpid()) + ".cfg";
  std::ofstream(saved) << "pool gwc\n";
  EXPECT_EQ(in_child([&] {
              VtyOptions o;
              o.telnet_port = port;
              Vty vty(o);
              Model model;
              std::string current;
              declare_pool_language(vty, model, current);
              auto r = vty.start(saved);
              if (!r) return 1;
              auto t = sgtest::TelnetClient::connect("127.0.0.1", port);
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

}  // namespace
}  // namespace rserpool::ops
