// asap_failover_bench: time from a fault of the serving pool element to the
// first echo delivered by the next one, with the example programs as
// separate processes (asap-echo-pe x2, asap-echo-pu) and an in-process
// registrar.
//
//   asap_failover_bench --transport tcp|sctp --profile default|aggressive
//                       --fault kill|stop [--runs N] [--give-up MS]
//
// kill = SIGKILL (the kernel aborts the associations: detection is
// immediate), stop = SIGSTOP (a hung PE: only heartbeats detect it, so the
// transport profile decides). The PU sends one message every 2 ms; the
// figure is kill time -> arrival of the first echo from the other PE, both
// taken from the wall clock. Prints one line per run and the median.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include <unistd.h>

#include "harness.hpp"
#include "process.hpp"
#include "rserpool/base/log.hpp"

namespace {

using namespace asaptest;

bool wait_for_text(const std::string& path, const std::string& what, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (sgtest::read_file(path).find(what) != std::string::npos) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

long long unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string transport = "tcp", profile = "default", fault = "kill";
  int runs = 5;
  long give_up_ms = 60'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--transport") transport = v;
    else if (a == "--profile") profile = v;
    else if (a == "--fault") fault = v;
    else if (a == "--runs") runs = std::atoi(v.c_str());
    else if (a == "--give-up") give_up_ms = std::atol(v.c_str());
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if ((transport != "tcp" && transport != "sctp") || (profile != "default" && profile != "aggressive") ||
      (fault != "kill" && fault != "stop") || runs <= 0) {
    std::fprintf(stderr, "usage: asap_failover_bench --transport tcp|sctp --profile default|aggressive "
                         "--fault kill|stop [--runs N] [--give-up MS]\n");
    return 2;
  }
  ::setenv("SG_TEST_TRANSPORT", transport.c_str(), 1);
  rserpool::log::set_level("all", "warning");
  RegistrarThread reg(0x4001);
  const std::string registrar = "127.0.0.1:" + std::to_string(reg.port());
  const std::string dir = std::filesystem::temp_directory_path().string() + "/asap-failover-bench-" +
                          std::to_string(::getpid());
  std::vector<long long> results;
  int failures = 0;
  for (int run = 0; run < runs; ++run) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::vector<std::string> common = {"--registrar", registrar, "--transport", transport, "--pool",
                                       "Bench" + std::to_string(run)};
    if (profile == "aggressive") common.push_back("--aggressive");
    std::map<std::string, sgtest::ChildProcess> pes;
    for (const std::string id : {"b1", "b2"}) {
      std::vector<std::string> args = {ASAP_ECHO_PE_PATH, "--local", "127.0.0.1", "--pe-id", id};
      args.insert(args.end(), common.begin(), common.end());
      auto c = sgtest::ChildProcess::spawn(args, dir + "/pe-" + id + ".log");
      if (!c) {
        std::fprintf(stderr, "cannot start %s\n", ASAP_ECHO_PE_PATH);
        return 1;
      }
      pes.emplace(id, std::move(*c));
    }
    bool ok = wait_for_text(dir + "/pe-b1.log", "registered", 10s) && wait_for_text(dir + "/pe-b2.log", "registered", 10s);
    std::vector<std::string> pu_args = {ASAP_ECHO_PU_PATH, "--count", "1000000", "--interval", "2", "--timeout",
                                        std::to_string(give_up_ms + 20'000)};
    pu_args.insert(pu_args.end(), common.begin(), common.end());
    const std::string pu_log = dir + "/pu.log";
    auto pu = sgtest::ChildProcess::spawn(pu_args, pu_log);
    ok = ok && pu && wait_for_text(pu_log, "reply 100 ", 10s);
    std::smatch m;
    std::string log = sgtest::read_file(pu_log);
    ok = ok && std::regex_search(log, m, std::regex("established pe=0x000000(b[12])"));
    if (!ok) {
      std::printf("run %d: setup failed\n", run + 1);
      ++failures;
      continue;
    }
    const std::string serving = m[1];
    const long long fault_at = unix_ms();
    pes.at(serving).signal(fault == "kill" ? SIGKILL : SIGSTOP);
    if (!wait_for_text(pu_log, "first-reply-after-failover", std::chrono::milliseconds(give_up_ms))) {
      std::printf("run %d: no failover within %ld ms\n", run + 1, give_up_ms);
      ++failures;
      continue;
    }
    log = sgtest::read_file(pu_log);
    if (!std::regex_search(log, m, std::regex("first-reply-after-failover seq=\\d+ pe=0x[0-9a-f]+ at=(\\d+)"))) {
      ++failures;
      continue;
    }
    const long long ms = std::stoll(m[1]) - fault_at;
    results.push_back(ms);
    std::printf("run %d: %s %s %s: fault -> first echo from the next PE: %lld ms\n", run + 1, transport.c_str(),
                profile.c_str(), fault.c_str(), ms);
    std::fflush(stdout);
  }
  std::filesystem::remove_all(dir);
  if (results.empty()) {
    std::printf("result %s %s %s: no successful run (%d failed)\n", transport.c_str(), profile.c_str(),
                fault.c_str(), failures);
    return 1;
  }
  std::sort(results.begin(), results.end());
  std::printf("result %s %s %s: median %lld ms, min %lld, max %lld over %zu runs (%d failed)\n", transport.c_str(),
              profile.c_str(), fault.c_str(), results[results.size() / 2], results.front(), results.back(),
              results.size(), failures);
  return failures == 0 ? 0 : 1;
}
