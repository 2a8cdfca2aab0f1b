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

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <future>
#include <thread>

#include "harness.hpp"
#include "ports_file.hpp"
#include "process.hpp"
#include "telnet_client.hpp"

namespace sgdtest {
namespace {

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

// Every listener on port 0 unless a test says otherwise: sgd reports what it
// bound in its --ports-file.
struct Ports {
  std::uint16_t metrics = 0;
  std::uint16_t ss7 = 0;
  std::uint16_t asap = 0;
  std::uint16_t enrp = 0;
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

// sgd started on `config`, every port 0, with the ports it reported.
struct Daemon {
  std::optional<sgtest::ChildProcess> child;
  std::string log;
  sgtest::PortMap ports;
  std::string failure;
};

Daemon start_sgd(const std::string& name, const std::string& config) {
  Daemon d;
  const auto path = write_file(name + ".cfg", config);
  d.log = temp_path(name + ".log");
  const auto ports_file = temp_path(name + ".ports");
  std::remove(ports_file.c_str());
  d.child = sgtest::ChildProcess::spawn({SGD_BIN, "-c", path, "-p", "0", "--ports-file", ports_file}, d.log);
  if (!d.child) {
    d.failure = "cannot start " SGD_BIN;
    return d;
  }
  auto ports = sgtest::wait_for_ports_file(ports_file, *d.child, 10s, &d.failure);
  if (ports) d.ports = *ports;
  d.failure += "\n" + sgtest::read_file(d.log);
  return d;
}

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

// Port 0 everywhere: sgd writes every listener's port to its --ports-file
// (whole, by rename) once all are open, and each one is really there.
TEST(SgdDaemon, ReportsThePortsItBoundForPortZero) {
  auto d = start_sgd("ports", config_text(Ports{}));
  ASSERT_TRUE(d.child);
  ASSERT_EQ(d.ports.size(), 5u) << d.failure;
  for (const char* name : {"m3ua", "asap", "enrp", "vty", "metrics"}) {
    ASSERT_TRUE(d.ports.count(name)) << name;
    const auto port = d.ports.at(name);
    EXPECT_NE(port, 0) << name;
    EXPECT_TRUE(sgtest::wait_for_listener(sgtest::Protocol::tcp, port, 1s)) << name << " " << port;
    const auto mine = sgtest::listening_ports(d.child->pid(), sgtest::Protocol::tcp);
    EXPECT_NE(std::find(mine.begin(), mine.end(), port), mine.end()) << name << " " << port << " is not sgd's";
  }
  // The log names the CLI's real port, not the 0 it was given.
  EXPECT_NE(sgtest::read_file(d.log).find("telnet port " + std::to_string(d.ports.at("vty"))), std::string::npos)
      << sgtest::read_file(d.log);
  // A second sgd on port 0 beside the first: no conflict, other ports.
  auto second = start_sgd("ports2", config_text(Ports{}));
  ASSERT_EQ(second.ports.size(), 5u) << second.failure;
  EXPECT_NE(second.ports.at("m3ua"), d.ports.at("m3ua"));
  EXPECT_NE(second.ports.at("vty"), d.ports.at("vty"));
}

// A port that is taken: sgd refuses to start and says which address and
// port it tried (the port is held by this test, so nothing races for it).
TEST(SgdDaemon, RefusesAPortInUseNamingAddressAndPort) {
  const int holder = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(holder, 1), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(getsockname(holder, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const auto taken = ntohs(a.sin_port);

  Ports ports;
  ports.ss7 = taken;
  auto r = run_sgd({"-c", write_file("taken.cfg", config_text(ports)), "-p", "0"}, "taken.log");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("127.0.0.1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(std::to_string(taken)), std::string::npos) << r.output;

  // The CLI's port, from -p: the same.
  r = run_sgd({"-c", write_file("taken-vty.cfg", config_text(Ports{})), "-p", std::to_string(taken)}, "taken-vty.log");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("cannot listen on 127.0.0.1 port " + std::to_string(taken)), std::string::npos) << r.output;
  close(holder);
}

TEST(SgdDaemon, RunsAnswersTheCliDrainsAPeAndStopsGracefullyOnSigterm) {
  auto d = start_sgd("run", config_text(Ports{}));
  ASSERT_TRUE(d.child);
  ASSERT_EQ(d.ports.size(), 5u) << d.failure;
  auto& sgd = d.child;
  const auto& log = d.log;
  struct {
    std::uint16_t vty, asap, metrics;
  } ports{d.ports.at("vty"), d.ports.at("asap"), d.ports.at("metrics")};
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
  auto d = start_sgd("runtime-pool", config_text(Ports{}));
  ASSERT_TRUE(d.child);
  ASSERT_TRUE(d.ports.count("vty")) << d.failure;
  auto& sgd = d.child;
  const auto& log = d.log;
  auto cli = sgtest::TelnetClient::connect("127.0.0.1", d.ports.at("vty"));
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
