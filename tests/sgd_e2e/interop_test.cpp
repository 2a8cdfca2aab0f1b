// sgd with real third-party peers, inside UML (kernel SCTP): osmo-stp as the
// SS7-side STP feeding sgd (ss7-gen -> osmo-stp -> sgd -> gwc-sim pool and
// back), and rsplib's rspregistrar as the registrar of sgd (pool user) and
// of the gwc-sim pool elements.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "harness.hpp"

namespace e2e {
namespace {

bool have(const std::string& prog) {
  return std::system(("command -v " + prog + " >/dev/null 2>&1").c_str()) == 0;
}

class SgdInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (transport() != "sctp") GTEST_SKIP() << "needs kernel SCTP (UML)";
    work_.emplace(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override {
    if (HasFailure() && work_) {
      std::fprintf(stderr, "logs kept in %s\n", work_->dir().c_str());
      for (const auto* p : all_) {
        const auto out = p->output();
        std::fprintf(stderr, "---- %s (tail)\n%s\n", p->log().c_str(),
                     out.substr(out.size() > 2500 ? out.size() - 2500 : 0).c_str());
      }
    }
  }
  Process& keep(Process p) {
    procs_.push_back(std::make_unique<Process>(std::move(p)));
    all_.push_back(procs_.back().get());
    return *procs_.back();
  }
  std::vector<Process*> pes() {
    std::vector<Process*> v;
    for (auto& p : procs_)
      if (p->log().find("/pe") != std::string::npos) v.push_back(p.get());
    return v;
  }
  Fields finish(Process& gen, std::chrono::milliseconds timeout) {
    auto rc = gen.child().wait(timeout);
    EXPECT_TRUE(rc.has_value()) << "ss7-gen did not finish";
    auto s = gen.last("summary");
    EXPECT_TRUE(s.has_value()) << "no summary from ss7-gen";
    return s.value_or(Fields{});
  }

  std::optional<WorkDir> work_;
  std::vector<std::unique_ptr<Process>> procs_;
  std::vector<const Process*> all_;
};

// ss7-gen registers its point code at osmo-stp (RKM); osmo-stp is an ASP of
// sgd's SGP (static AS, RC 100) and routes 0.23.1 there.
TEST_F(SgdInterop, OsmoStpFeedsTrafficThroughSgd) {
  if (!have("osmo-stp")) GTEST_SKIP() << "osmo-stp not installed";
  SgdSpec spec;
  spec.ss7_peer_ip = "198.18.0.2";  // osmo-stp's client ASP binds this one
  auto& sgd = keep(start_sgd(*work_, spec));
  ASSERT_TRUE(sgd.started()) << sgd.failure();
  const std::string reg = "198.18.0.1:" + std::to_string(sgd.port("asap"));
  for (auto n : {"pe1", "pe2", "pe3"}) {
    auto& pe = keep(start_gwc(*work_, GwcSpec{n, {reg}, {}, true, true}));
    ASSERT_TRUE(pe.started()) << pe.failure();
  }

  // osmo-stp's M3UA server on port 0; the port it bound is read back from
  // the kernel (its client ASP toward sgd does not listen).
  const auto cfg = work_->path("osmo-stp.cfg");
  std::ofstream(cfg) << "log stderr\n logging level set-all notice\n"
                        "cs7 instance 0\n point-code 0.0.1\n"
                        " xua rkm routing-key-allocation dynamic-permitted\n"
                        " listen m3ua 0\n  local-ip 198.18.0.1\n  accept-asp-connections dynamic-permitted\n"
                        " asp to-sgd "
                     << sgd.port("m3ua")
                     << " 0 m3ua\n  remote-ip 198.18.0.1\n  local-ip 198.18.0.2\n  role asp\n  sctp-role client\n"
                        " as as-sgd m3ua\n  asp to-sgd\n  traffic-mode loadshare\n  routing-key 100 0.0.1\n"
                        " route-table system\n  update route 0.23.1 7.255.7 linkset as-sgd\n";
  auto stp = sgtest::ChildProcess::spawn({"osmo-stp", "-c", cfg}, work_->path("osmo-stp.log"));
  ASSERT_TRUE(stp.has_value());
  auto& stp_proc = keep(Process(std::move(*stp), work_->path("osmo-stp.log")));
  const auto stp_listen = sgtest::wait_for_listening_port(stp_proc.child(), sgtest::Protocol::sctp, 20s);
  ASSERT_TRUE(stp_listen) << "osmo-stp does not listen for M3UA on 198.18.0.1\n" << stp_proc.output();
  const std::uint16_t stp_port = *stp_listen;
  std::this_thread::sleep_for(1500ms);  // osmo-stp's ASP to sgd comes up

  auto& gen = keep(Process(*sgtest::ChildProcess::spawn(
                               {Bin::ss7_gen(), "--name", "ss7-gen", "--transport", "sctp", "--connect",
                                "198.18.0.1:" + std::to_string(stp_port), "--register", "--cps", "30", "--hold",
                                "200", "--sccp-rate", "10", "--duration", "4", "--stats-interval", "500"},
                               work_->path("ss7-gen.log")),
                           work_->path("ss7-gen.log")));
  auto s = finish(gen, 30s);
  std::printf("[osmo-stp] attempted=%s completed=%s failed=%s answer_p50_us=%s\n", s["calls_attempted"].c_str(),
              s["calls_completed"].c_str(), s["calls_failed"].c_str(), s["answer_p50_us"].c_str());
  EXPECT_GT(num(s, "calls_attempted"), 60);
  EXPECT_EQ(num(s, "calls_completed"), num(s, "calls_attempted"));
  EXPECT_EQ(num(s, "sccp_lost"), 0);
  std::this_thread::sleep_for(1200ms);
  for (auto* p : pes()) EXPECT_GT(num(*p->last("stats"), "calls_offered"), 0) << p->log();
}

// rspregistrar is the registrar of everyone: the PEs register there, sgd
// resolves the pool there.
TEST_F(SgdInterop, RspregistrarServesSgdAndThePool) {
  if (!have("rspregistrar")) GTEST_SKIP() << "rsplib not installed";
  // rspregistrar on port 0, ASAP and ENRP on two addresses so that the
  // kernel's socket table tells which listener is which.
  auto r = sgtest::ChildProcess::spawn({"rspregistrar", "-asap=198.18.0.1:0", "-enrp=198.18.0.2:0",
                                        "-asapannounce=off", "-enrpannounce=off", "-mentordiscoverytimeout=300",
                                        "-loglevel=2"},
                                       work_->path("rspregistrar.log"));
  ASSERT_TRUE(r.has_value());
  auto& reg_proc = keep(Process(std::move(*r), work_->path("rspregistrar.log")));
  const auto asap_listen =
      sgtest::wait_for_listening_port(reg_proc.child(), sgtest::Protocol::sctp, 20s, "198.18.0.1");
  ASSERT_TRUE(asap_listen) << "rspregistrar does not listen for ASAP on 198.18.0.1\n" << reg_proc.output();
  const std::uint16_t asap = *asap_listen;
  std::this_thread::sleep_for(700ms);  // past its mentor discovery

  SgdSpec spec;
  spec.colocated = false;
  spec.remote_registrars = {"198.18.0.1 " + std::to_string(asap)};
  auto& sgd = keep(start_sgd(*work_, spec));
  ASSERT_TRUE(sgd.started()) << sgd.failure();
  const std::string reg = "198.18.0.1:" + std::to_string(asap);
  for (auto n : {"pe1", "pe2", "pe3"}) {
    auto& pe = keep(start_gwc(*work_, GwcSpec{n, {reg}, {}, true, true}));
    ASSERT_TRUE(pe.started()) << pe.failure();
  }
  std::this_thread::sleep_for(2s);  // sgd resolves the pool and connects

  auto& gen = keep(start_ss7gen(*work_, sgd.port("m3ua"), {"--cps", "30", "--hold", "200", "--duration", "4"}));
  auto s = finish(gen, 30s);
  std::printf("[rspregistrar] attempted=%s completed=%s failed=%s\n", s["calls_attempted"].c_str(),
              s["calls_completed"].c_str(), s["calls_failed"].c_str());
  EXPECT_GT(num(s, "calls_attempted"), 60);
  EXPECT_EQ(num(s, "calls_completed"), num(s, "calls_attempted"));
  std::this_thread::sleep_for(1200ms);
  for (auto* p : pes()) EXPECT_GT(num(*p->last("stats"), "calls_offered"), 0) << p->log();
}

}  // namespace
}  // namespace e2e
