// The sgd daemon as operators run it: configuration check (-t) with errors
// naming file and line, start-up on a test configuration, the telnet CLI
// (show commands, drain of a registered gateway controller), SIGTERM ->
// graceful exit 0.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <fstream>
#include <future>
#include <thread>

#include "harness.hpp"
#include "process.hpp"
#include "telnet_client.hpp"

namespace sgdtest {
namespace {

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

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "sgd_daemon_" + std::to_string(getpid()) + "_" + name;
}

std::string write_file(const std::string& name, const std::string& text) {
  const auto path = temp_path(name);
  std::ofstream(path) << text;
  return path;
}

// GET /metrics from the Prometheus endpoint; the body, empty on failure.
std::string http_get_metrics(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n";
    if (write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    }
  }
  close(fd);
  return out;
}

struct Ports {
  std::uint16_t metrics = free_tcp_port();
  std::uint16_t ss7 = free_tcp_port();
  std::uint16_t asap = free_tcp_port();
  std::uint16_t enrp = free_tcp_port();
  std::uint16_t vty = free_tcp_port();
};

std::string config_text(const Ports& p) {
  return "sg\n"
         " point-code 0.23.1\n"
         " transport tcp\n"
         " timer-profile aggressive\n"
         " metrics-endpoint 127.0.0.1 " + std::to_string(p.metrics) + "\n"
         "ss7-side\n"
         " local-ip 127.0.0.1\n"
         " local-port " + std::to_string(p.ss7) + "\n"
         " accept-peers configured\n"
         " peer gen\n"
         "  remote-ip 127.0.0.1\n"
         "  routing-context 100\n"
         "registrar\n"
         " colocated\n"
         "  asap-ip 127.0.0.1\n"
         "  asap-port " + std::to_string(p.asap) + "\n"
         "  enrp-ip 127.0.0.1\n"
         "  enrp-port " + std::to_string(p.enrp) + "\n"
         "pool gwc\n"
         " pool-wait 500\n"
         "route isup\n"
         " dpc 0.23.1\n"
         " si isup\n"
         " pool gwc\n";
}

struct Run {
  int status = -1;
  std::string output;
};

Run run_sgd(const std::vector<std::string>& args, const std::string& log_name) {
  std::vector<std::string> argv{SGD_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto log = temp_path(log_name);
  auto child = sgtest::ChildProcess::spawn(argv, log);
  Run r;
  if (!child) return r;
  r.status = child->wait(10s).value_or(-2);
  r.output = sgtest::read_file(log);
  return r;
}

TEST(SgdDaemon, ChecksTheEmbeddedDefaultConfiguration) {
  auto r = run_sgd({"-t"}, "default.log");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("configuration OK"), std::string::npos) << r.output;
}

TEST(SgdDaemon, ChecksAValidFile) {
  const auto path = write_file("valid.cfg", config_text(Ports{}));
  auto r = run_sgd({"-t", "-c", path}, "valid.log");
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST(SgdDaemon, ShippedExamplesAreValid) {
  for (const char* name : {"sgd-default.cfg", "sgd-example-remote-sctp.cfg", "sgd-example-colocated-ipv6.cfg"}) {
    auto r = run_sgd({"-t", "-c", std::string(SG_CONF_DIR) + "/" + name}, std::string(name) + ".log");
    EXPECT_EQ(r.status, 0) << name << ": " << r.output;
  }
}

TEST(SgdDaemon, RefusesAnInvalidLineNamingFileAndLine) {
  const auto path = write_file("bad.cfg", "sg\n point-code 0.23.1\n point-code 9.999.9\n");
  auto r = run_sgd({"-t", "-c", path}, "bad.log");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(path + ":3:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("9.999.9"), std::string::npos) << r.output;

  const auto cmd = write_file("badcmd.cfg", "sg\n point-code 0.23.1\npool gwc\n policy fastest\n");
  r = run_sgd({"-t", "-c", cmd}, "badcmd.log");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(cmd + ":4:"), std::string::npos) << r.output;
}

TEST(SgdDaemon, RefusesAnIncompleteConfiguration) {
  auto text = config_text(Ports{});
  text.replace(text.find(" pool gwc\n"), 10, " pool elsewhere\n");
  const auto path = write_file("incomplete.cfg", text);
  auto r = run_sgd({"-c", path}, "incomplete.log");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("pool elsewhere is not configured"), std::string::npos) << r.output;
  r = run_sgd({"--no-such-option"}, "usage.log");
  EXPECT_EQ(r.status, 2) << r.output;
}

// A gateway controller on a thread of its own, registered with the daemon's
// co-located registrar.
struct PeThread {
  boost::asio::io_context io;
  std::unique_ptr<TestPe> pe;
  std::thread thread;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};

  PeThread(std::uint16_t asap_port, rserpool::PeIdentifier id) {
    pe = std::make_unique<TestPe>(io, rserpool::TransportAddress{loopback(), asap_port}, id);
    boost::asio::post(io, [this] { pe->start(); });
    thread = std::thread([this] { io.run(); });
  }
  ~PeThread() {
    std::promise<void> done;
    boost::asio::post(io, [&] {
      pe.reset();
      done.set_value();
    });
    done.get_future().wait_for(2s);
    guard.reset();
    io.stop();
    thread.join();
  }
};

TEST(SgdDaemon, RunsAnswersTheCliDrainsAPeAndStopsGracefullyOnSigterm) {
  const Ports ports;
  const auto path = write_file("run.cfg", config_text(ports));
  const auto log = temp_path("run.log");
  auto sgd = sgtest::ChildProcess::spawn({SGD_BIN, "-c", path, "-p", std::to_string(ports.vty)}, log);
  ASSERT_TRUE(sgd);
  ASSERT_TRUE(sgtest::wait_for_listener(sgtest::Protocol::tcp, ports.vty, 5s)) << sgtest::read_file(log);
  ASSERT_TRUE(sgtest::wait_for_listener(sgtest::Protocol::tcp, ports.asap, 5s)) << sgtest::read_file(log);
  auto cli = sgtest::TelnetClient::connect("127.0.0.1", ports.vty);
  ASSERT_TRUE(cli);
  ASSERT_TRUE(cli->read_until_prompt());

  PeThread pe(ports.asap, 0x1234abcd);
  std::string pools;
  const auto deadline = Clock::now() + 8s;
  while (Clock::now() < deadline) {
    pools = cli->run("show pools").value_or("");
    if (pools.find("1234abcd") != std::string::npos && pools.find(" active ") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_NE(pools.find("pool gwc"), std::string::npos) << pools;
  ASSERT_NE(pools.find(" active "), std::string::npos) << pools << sgtest::read_file(log);

  const auto counters = cli->run("show counters").value_or("");
  EXPECT_NE(counters.find("sg_ss7_messages_total{direction=\"in\"} 0"), std::string::npos) << counters;
  EXPECT_NE(counters.find("sg_pool_members{pool=\"gwc\",state=\"active\"} 1"), std::string::npos) << counters;
  EXPECT_NE(cli->run("show registrar").value_or("").find("co-located registrar"), std::string::npos);
  const auto scraped = http_get_metrics(ports.metrics);
  EXPECT_NE(scraped.find("# TYPE sg_ss7_messages_total counter"), std::string::npos) << scraped;
  EXPECT_NE(scraped.find("sg_pool_members{pool=\"gwc\",state=\"active\"} 1"), std::string::npos) << scraped;
  EXPECT_NE(cli->run("show m3ua").value_or("").find("SGP on 127.0.0.1"), std::string::npos);
  EXPECT_NE(cli->run("show routes").value_or("").find("route isup: dpc 0.23.1 si 5 -> pool gwc"), std::string::npos);

  ASSERT_TRUE(cli->run("enable"));
  EXPECT_NE(cli->run("drain pe 0xdeadbeef").value_or("").find("no pool has PE deadbeef"), std::string::npos);
  EXPECT_NE(cli->run("drain pe 1234abcd").value_or("").find("draining"), std::string::npos);
  pools = cli->run("show pool gwc").value_or("");
  EXPECT_NE(pools.find("drained"), std::string::npos) << pools;

  // Routes at run time, through the configuration grammar.
  ASSERT_TRUE(cli->run("configure terminal"));
  ASSERT_TRUE(cli->run("no route isup"));
  ASSERT_TRUE(cli->run("end"));
  EXPECT_NE(cli->run("show routes").value_or("").find("no routes"), std::string::npos);

  ASSERT_TRUE(sgd->signal(SIGTERM));
  const auto status = sgd->wait(5s);
  ASSERT_TRUE(status) << "sgd did not stop within 5 s";
  EXPECT_EQ(*status, 0) << sgtest::read_file(log);
  EXPECT_NE(sgtest::read_file(log).find("sgd stopped"), std::string::npos);
}

// A pool typed into the running daemon, and changes to a configured one:
// their settings reach the running pools without a restart.
TEST(SgdDaemon, PoolsConfiguredAtRunTimeTakeTheirSettingsAtOnce) {
  const Ports ports;
  const auto path = write_file("runtime-pool.cfg", config_text(ports));
  const auto log = temp_path("runtime-pool.log");
  auto sgd = sgtest::ChildProcess::spawn({SGD_BIN, "-c", path, "-p", std::to_string(ports.vty)}, log);
  ASSERT_TRUE(sgd);
  ASSERT_TRUE(sgtest::wait_for_listener(sgtest::Protocol::tcp, ports.vty, 5s)) << sgtest::read_file(log);
  auto cli = sgtest::TelnetClient::connect("127.0.0.1", ports.vty);
  ASSERT_TRUE(cli);
  ASSERT_TRUE(cli->read_until_prompt());
  EXPECT_NE(cli->run("show pool gwc").value_or("").find("pool-wait 500 ms"), std::string::npos);

  ASSERT_TRUE(cli->run("enable"));
  ASSERT_TRUE(cli->run("configure terminal"));
  for (const char* line : {"pool extra", "pool-wait 300", "drain-deadline 1234", "max-queue 77",
                           "congestion onset 50 abatement 5", "exit", "pool gwc", "pool-wait 700", "end"}) {
    auto out = cli->run(line);
    ASSERT_TRUE(out) << line;
    EXPECT_EQ(out->find("%"), std::string::npos) << line << ": " << *out;
  }
  const auto extra = cli->run("show pool extra").value_or("");
  EXPECT_NE(extra.find("pool extra:"), std::string::npos) << extra;
  EXPECT_NE(extra.find("pool-wait 300 ms, drain-deadline 1234 ms, max-queue 77, congestion onset 50 abatement 5"),
            std::string::npos)
      << extra;
  const auto gwc = cli->run("show pool gwc").value_or("");
  EXPECT_NE(gwc.find("pool-wait 700 ms"), std::string::npos) << gwc;

  ASSERT_TRUE(sgd->signal(SIGTERM));
  const auto status = sgd->wait(5s);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0) << sgtest::read_file(log);
}

}  // namespace
}  // namespace sgdtest
