// rserpool-loadgen as a process against an in-process RegistrarServer over
// the TCP mapping on loopback: its counts must match what the registrar
// saw, errors must be reported by cause, and bad options refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "asap_client.hpp"
#include "process.hpp"
#include "registrar/server.hpp"

namespace {

using namespace regtest;
using namespace rserpool;
using rserpool::registrar::RegistrarServer;
using rserpool::registrar::ServerConfig;

std::map<std::string, std::string> parse_result(const std::string& log) {
  std::map<std::string, std::string> kv;
  std::istringstream lines(log);
  std::string line, last;
  while (std::getline(lines, line))
    if (line.rfind("result=", 0) == 0) last = line;
  std::istringstream words(last);
  std::string w;
  while (words >> w) {
    auto eq = w.find('=');
    if (eq != std::string::npos) kv[w.substr(0, eq)] = w.substr(eq + 1);
  }
  return kv;
}

struct LoadgenTest : ::testing::Test {
  boost::asio::io_context io;
  std::unique_ptr<RegistrarServer> server;
  std::filesystem::path log = std::filesystem::temp_directory_path() /
                              ("sg-loadgen-test-" + std::to_string(::getpid()) + ".log");

  void start(registrar::RateLimit registration_rate = {}) {
    ServerConfig cfg;
    cfg.core = registrar::RegistrarConfig::rfc_defaults(0x10ad);
    cfg.core.registration_rate = registration_rate;
    cfg.core.resolution_rate = {};
    cfg.kind = transport::TransportKind::tcp;
    cfg.asap_addresses = {IpAddress::v4_loopback()};
    cfg.asap_port = 0;
    cfg.enrp_addresses = {IpAddress::v4_loopback()};
    cfg.enrp_port = 0;
    auto r = RegistrarServer::start(io, cfg);
    ASSERT_TRUE(r) << r.error();
    server = std::move(r.value());
  }

  // Runs the load generator while serving the registrar; its exit status.
  std::optional<int> run(std::vector<std::string> args) {
    args.insert(args.begin(), SG_LOADGEN_BIN);
    auto child = sgtest::ChildProcess::spawn(args, log.string());
    if (!child) return std::nullopt;
    if (!run_until(io, [&] { return !child->running(); }, std::chrono::seconds(60))) return std::nullopt;
    return child->wait(std::chrono::seconds(1));
  }
  std::string registrar_arg() const { return "127.0.0.1:" + std::to_string(server->asap_port()); }

  void TearDown() override {
    if (HasFailure()) std::cerr << "----- loadgen output -----\n" << sgtest::read_file(log.string());
    if (server) server->stop();
    run_until(io, [] { return false; }, std::chrono::milliseconds(100));
    std::error_code ec;
    std::filesystem::remove(log, ec);
  }
};

TEST_F(LoadgenTest, RegistersResolvesDeregistersAndReportsCounts) {
  start();
  const auto status = run({"--registrar", registrar_arg(), "--transport", "tcp", "--pes", "200", "--pools", "2",
                           "--associations", "2", "--resolutions", "500", "--items", "3", "--window", "8"});
  ASSERT_TRUE(status.has_value()) << "loadgen did not finish";
  EXPECT_EQ(*status, 0);
  auto kv = parse_result(sgtest::read_file(log.string()));
  EXPECT_EQ(kv["result"], "ok");
  EXPECT_EQ(kv["registered"], "200");
  EXPECT_EQ(kv["resolutions"], "500");
  EXPECT_EQ(kv["resolution_items_avg"], "3.0");
  EXPECT_EQ(kv["deregistered"], "200");
  EXPECT_EQ(kv["errors"], "0");
  EXPECT_GT(std::stod(kv["registrations_per_s"]), 0.0);
  EXPECT_GT(std::stod(kv["resolution_p99_us"]), 0.0);
  const auto& c = server->core().counters();
  EXPECT_EQ(c.registrations, 200u);
  EXPECT_EQ(c.resolutions, 500u);
  EXPECT_EQ(c.deregistrations, 200u);
  EXPECT_EQ(server->core().handlespace().element_count(), 0u);
}

TEST_F(LoadgenTest, ConvergeCountsEveryVisiblePe) {
  start();
  const auto status = run({"--registrar", registrar_arg(), "--transport", "tcp", "--pes", "300", "--pools", "3",
                           "--converge", "300", "--json"});
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);
  const auto out = sgtest::read_file(log.string());
  EXPECT_NE(out.find("\"converge_visible\": 300"), std::string::npos) << out;
  EXPECT_EQ(out.find("\"converge_ms\": -1"), std::string::npos) << out;
}

TEST_F(LoadgenTest, RejectionsReportedByCause) {
  start(registrar::RateLimit{5, 5});  // the registrar rejects beyond 5 registrations
  const auto status =
      run({"--registrar", registrar_arg(), "--transport", "tcp", "--pes", "40", "--window", "40", "--timeout", "10"});
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 1);
  auto kv = parse_result(sgtest::read_file(log.string()));
  EXPECT_EQ(kv["result"], "failed");
  const auto failures = std::stoul(kv["registration_failures"]);
  EXPECT_GT(failures, 0u);
  EXPECT_EQ(std::stoul(kv["registered"]) + failures, 40u);
  EXPECT_EQ(kv["error.registration_rejected:lack_of_resources"], std::to_string(failures));
}

TEST_F(LoadgenTest, BadOptionsExitTwo) {
  const std::vector<std::vector<std::string>> cases = {{"--pes", "10"},
                                                       {"--registrar", "nonsense"},
                                                       {"--registrar", "127.0.0.1:1", "--items", "0"},
                                                       {"--registrar", "[::1]:3863", "--frobnicate", "1"}};
  for (const auto& args : cases) {
    std::vector<std::string> argv{SG_LOADGEN_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    auto child = sgtest::ChildProcess::spawn(argv, log.string());
    ASSERT_TRUE(child.has_value());
    EXPECT_EQ(child->wait(std::chrono::seconds(10)), 2) << args.front() << " " << args.back();
  }
}

}  // namespace
