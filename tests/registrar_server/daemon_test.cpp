// The rserpool-registrar process: config file, telnet CLI, counters that
// match the traffic, Prometheus, bad configurations, SIGTERM. Every
// listener is configured with port 0 and the daemon reports what it bound
// (--ports-file); everything on 127.0.0.1 over the TCP mapping (or kernel
// SCTP inside UML).
#include "daemon_fixture.hpp"

namespace {

using namespace regdaemon;

TEST_F(DaemonTest, ShowCommandsAndCountersMatchTheTrafficSigtermExitsZero) {
  auto daemon = start_daemon(write_file("registrar-ok.cfg", config_text()));
  ASSERT_TRUE(daemon);

  // Traffic: two PEs register, a PU resolves three times, one PE deregisters
  // another's id (refused).
  auto pe1 = connect_asap();
  auto pe2 = connect_asap();
  auto pu = connect_asap();
  ASSERT_TRUE(pe1->up && pe2->up && pu->up);
  for (auto [c, a, id] : {std::tuple{pe1, associations[0], 0x1111u}, std::tuple{pe2, associations[1], 0x2222u}}) {
    auto r = request(*c, *a, asap::Registration{PoolHandle("gwc"), pe(id)});
    ASSERT_TRUE(r && std::holds_alternative<asap::RegistrationResponse>(*r));
    EXPECT_FALSE(std::get<asap::RegistrationResponse>(*r).rejected);
  }
  for (int i = 0; i < 3; ++i) {
    asap::HandleResolution hr;
    hr.pool_handle = PoolHandle("gwc");
    auto r = request(*pu, *associations[2], hr);
    ASSERT_TRUE(r && std::holds_alternative<asap::HandleResolutionResponse>(*r));
    EXPECT_EQ(std::get<asap::HandleResolutionResponse>(*r).pool_elements.size(), 2u);
  }
  auto refused = request(*pu, *associations[2], asap::Deregistration{PoolHandle("gwc"), 0x1111});
  ASSERT_TRUE(refused && std::holds_alternative<asap::DeregistrationResponse>(*refused));

  auto vty = sgtest::TelnetClient::connect("127.0.0.1", vty_port);
  ASSERT_TRUE(vty);
  ASSERT_TRUE(vty->read_until_prompt());
  auto counters = vty->run("show counters");
  ASSERT_TRUE(counters);
  EXPECT_NE(counters->find("registrar_registrations_total 2"), std::string::npos) << *counters;
  EXPECT_NE(counters->find("registrar_resolutions_total 3"), std::string::npos) << *counters;
  EXPECT_NE(counters->find("registrar_deregistrations_rejected_total 1"), std::string::npos) << *counters;
  EXPECT_NE(counters->find("registrar_asap_associations_accepted_total 3"), std::string::npos) << *counters;
  EXPECT_NE(counters->find("registrar_pool_elements 2"), std::string::npos) << *counters;

  auto reg = vty->run("show registrar");
  ASSERT_TRUE(reg);
  EXPECT_NE(reg->find("Registrar 0x00c0ffee"), std::string::npos) << *reg;
  EXPECT_NE(reg->find("port " + std::to_string(asap_port)), std::string::npos) << *reg;
  EXPECT_NE(reg->find("pool elements 2"), std::string::npos) << *reg;

  auto pools = vty->run("show pools");
  ASSERT_TRUE(pools);
  EXPECT_NE(pools->find("gwc"), std::string::npos) << *pools;
  EXPECT_NE(pools->find("Weighted Round Robin"), std::string::npos) << *pools;

  auto pool = vty->run("show pool gwc");
  ASSERT_TRUE(pool);
  EXPECT_NE(pool->find("PE 0x00001111 home 0x00c0ffee"), std::string::npos) << *pool;
  EXPECT_NE(pool->find("PE 0x00002222"), std::string::npos) << *pool;
  EXPECT_NE(pool->find("user transport sctp 127.0.0.1 port 7000"), std::string::npos) << *pool;
  EXPECT_NE(pool->find("weight 5"), std::string::npos) << *pool;

  auto one = vty->run("show pe 0x2222");
  ASSERT_TRUE(one);
  EXPECT_NE(one->find("PE 0x00002222"), std::string::npos) << *one;
  EXPECT_EQ(one->find("0x00001111"), std::string::npos) << *one;
  auto none = vty->run("show pe 42");
  ASSERT_TRUE(none);
  EXPECT_NE(none->find("no PE"), std::string::npos) << *none;
  auto peers = vty->run("show peers");
  ASSERT_TRUE(peers);
  EXPECT_NE(peers->find("Server"), std::string::npos) << *peers;

  // Run-time log level, and the same counters over Prometheus.
  ASSERT_TRUE(vty->run("enable"));
  auto lvl = vty->run("log-level registrar debug");
  ASSERT_TRUE(lvl);
  EXPECT_EQ(lvl->find("%"), std::string::npos) << *lvl;
  const auto metrics = http_get(metrics_port, "/metrics");
  EXPECT_NE(metrics.find("registrar_registrations_total 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("# TYPE registrar_pool_elements gauge"), std::string::npos) << metrics;

  // A PE's association ends: its PE goes, as with rspregistrar.
  associations[1]->close();
  ASSERT_TRUE(run_until([&] { return pe2->down; }));
  std::optional<std::string> counters2;
  for (int i = 0; i < 100; ++i) {
    counters2 = vty->run("show counters");
    if (!counters2 || counters2->find("registrar_pool_elements 1\n") != std::string::npos) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(counters2);
  EXPECT_NE(counters2->find("registrar_pool_elements 1\n"), std::string::npos) << *counters2;
  EXPECT_NE(counters2->find("registrar_asap_associations_closed_total 1"), std::string::npos) << *counters2;

  ASSERT_TRUE(daemon->signal(SIGTERM));
  const auto t0 = Clock::now();
  auto status = daemon->wait(5s);
  ASSERT_TRUE(status.has_value()) << "no exit after SIGTERM";
  EXPECT_EQ(*status, 0) << sgtest::read_file(log_path);
  EXPECT_LT(Clock::now() - t0, 3s);
  // The PEs saw their associations closed.
  EXPECT_TRUE(run_until([&] { return pe1->down && pu->down; }));
}

TEST_F(DaemonTest, BadConfigNamesFileAndLineAndRefusesToStart) {
  const auto path = write_file("registrar-bad.cfg", "registrar\n server-id 7\n asap-port 99999\n");
  const auto log = ::testing::TempDir() + "/registrar-bad.log";
  auto child = sgtest::ChildProcess::spawn({kBinary, "-c", path}, log);
  ASSERT_TRUE(child);
  auto status = child->wait(5s);
  ASSERT_TRUE(status);
  EXPECT_NE(*status, 0);
  EXPECT_NE(sgtest::read_file(log).find("registrar-bad.cfg:3:"), std::string::npos) << sgtest::read_file(log);

  const auto path0 = write_file("registrar-zero.cfg", "registrar\n server-id 0\n");
  auto zero = sgtest::ChildProcess::spawn({kBinary, "-t", "-c", path0}, log);
  ASSERT_TRUE(zero);
  status = zero->wait(5s);
  ASSERT_TRUE(status);
  EXPECT_NE(*status, 0);
  EXPECT_NE(sgtest::read_file(log).find("registrar-zero.cfg:2: server-id must be"), std::string::npos)
      << sgtest::read_file(log);

  // Whole-file checks: a heartbeat slower than the dead-peer limit.
  const auto path2 =
      write_file("registrar-timers.cfg", "registrar\n timer peer-heartbeat-cycle 9000\n timer max-time-last-heard 5000\n");
  auto timers = sgtest::ChildProcess::spawn({kBinary, "-t", "-c", path2}, log);
  ASSERT_TRUE(timers);
  status = timers->wait(5s);
  ASSERT_TRUE(status);
  EXPECT_NE(*status, 0);
  EXPECT_NE(sgtest::read_file(log).find("max-time-last-heard"), std::string::npos) << sgtest::read_file(log);
}

TEST_F(DaemonTest, CheckOnlyAcceptsTheShippedExampleAndAGoodFile) {
  const auto log = ::testing::TempDir() + "/registrar-check.log";
  auto shipped = sgtest::ChildProcess::spawn({kBinary, "-t", "-c", SG_REGISTRAR_EXAMPLE_CFG}, log);
  ASSERT_TRUE(shipped);
  auto status = shipped->wait(5s);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0) << sgtest::read_file(log);
  auto good = sgtest::ChildProcess::spawn({kBinary, "-t", "-c", write_file("registrar-t.cfg", config_text())}, log);
  ASSERT_TRUE(good);
  status = good->wait(5s);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0) << sgtest::read_file(log);
  EXPECT_NE(sgtest::read_file(log).find("configuration OK"), std::string::npos);
  // -t opened nothing: no ports to report.
  const auto ports = ::testing::TempDir() + "/registrar-t.ports";
  std::remove(ports.c_str());
  auto checked = sgtest::ChildProcess::spawn(
      {kBinary, "-t", "-c", write_file("registrar-t2.cfg", config_text()), "--ports-file", ports}, log);
  ASSERT_TRUE(checked);
  status = checked->wait(5s);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0) << sgtest::read_file(log);
  EXPECT_FALSE(regtest::parse_ports_file(ports).has_value());
}

TEST_F(DaemonTest, PortInUseRefusesToStartNamingWhatItTried) {
  // Occupy a port of our own (bound to 0, read back) and give it to the daemon.
  const int fd = socket(AF_INET, SOCK_STREAM, use_sctp() ? IPPROTO_SCTP : 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::uint16_t taken = ntohs(a.sin_port);
  const auto log = ::testing::TempDir() + "/registrar-inuse.log";
  auto child =
      sgtest::ChildProcess::spawn({kBinary, "-c", write_file("registrar-inuse.cfg", config_text(taken))}, log);
  ASSERT_TRUE(child);
  auto status = child->wait(5s);
  ASSERT_TRUE(status);
  EXPECT_NE(*status, 0);
  EXPECT_NE(sgtest::read_file(log).find("cannot listen for ASAP on 127.0.0.1 port " + std::to_string(taken)),
            std::string::npos)
      << sgtest::read_file(log);
  close(fd);
  // The telnet CLI on a port in use: the message names the port tried, not
  // the built-in default (it named 4261 whatever `bind` said).
  const int tcp = socket(AF_INET, SOCK_STREAM, 0);
  a.sin_port = 0;
  ASSERT_EQ(bind(tcp, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(tcp, 1), 0);
  len = sizeof a;
  ASSERT_EQ(getsockname(tcp, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::uint16_t vty_taken = ntohs(a.sin_port);
  const std::string text = config_text();
  const auto vty_cfg = write_file("registrar-vty-inuse.cfg", "line vty\n bind 127.0.0.1 " + std::to_string(vty_taken) +
                                                                  "\n" + text.substr(text.find("registrar\n")));
  const auto log2 = ::testing::TempDir() + "/registrar-vty-inuse.log";
  auto second = sgtest::ChildProcess::spawn({kBinary, "-c", vty_cfg}, log2);
  ASSERT_TRUE(second);
  status = second->wait(5s);
  close(tcp);
  ASSERT_TRUE(status);
  EXPECT_NE(*status, 0);
  EXPECT_NE(sgtest::read_file(log2).find("cannot listen on 127.0.0.1 port " + std::to_string(vty_taken)),
            std::string::npos)
      << sgtest::read_file(log2);
}

}  // namespace

namespace {

// Runs `rserpool-registrar -t -c FILE` and returns (exit status, output).
std::pair<int, std::string> check_config(const std::string& name, const std::string& text) {
  const auto path = write_file(name, text);
  const auto log = ::testing::TempDir() + "/" + name + ".log";
  auto child = sgtest::ChildProcess::spawn({kBinary, "-t", "-c", path}, log);
  if (!child) return {-1, "spawn failed"};
  auto status = child->wait(5s);
  return {status.value_or(-1), sgtest::read_file(log)};
}

}  // namespace

TEST_F(DaemonTest, ResolutionCapAddressCheckAndMentorOptionsParse) {
  auto [ok, out] = check_config("registrar-opts.cfg",
                                "registrar\n max-resolution-items 2\n check-pe-addresses off\n"
                                " mentor 127.0.0.1 9999\n mentor-wait 1500\n");
  EXPECT_EQ(ok, 0) << out;
  std::tie(ok, out) = check_config("registrar-opts2.cfg", "registrar\n check-pe-addresses on\n mentor first-peer\n no mentor\n");
  EXPECT_EQ(ok, 0) << out;
  // Each bad line is named by file and line.
  const std::pair<const char*, const char*> bad[] = {
      {"registrar\n server-id 9\n max-resolution-items 0\n", "registrar-bad1.cfg:3:"},
      {"registrar\n max-resolution-items 1025\n", "registrar-bad2.cfg:2:"},
      {"registrar\n asap-port 4000\n check-pe-addresses maybe\n", "registrar-bad3.cfg:3:"},
      {"registrar\n mentor 127.0.0.1 0\n", "registrar-bad4.cfg:2:"},
      {"registrar\n mentor 300.1.1.1 9901\n", "registrar-bad5.cfg:2:"},
      {"registrar\n mentor-wait 50\n", "registrar-bad6.cfg:2:"},
  };
  int n = 0;
  for (const auto& [text, where] : bad) {
    std::tie(ok, out) = check_config("registrar-bad" + std::to_string(++n) + ".cfg", text);
    EXPECT_NE(ok, 0) << text;
    EXPECT_NE(out.find(where), std::string::npos) << text << "->\n" << out;
  }
  // Whole-file check: a mentor that is ourselves.
  std::tie(ok, out) = check_config("registrar-self.cfg",
                                   "registrar\n enrp local-ip 127.0.0.1\n enrp-port 9911\n mentor 127.0.0.1 9911\n");
  EXPECT_NE(ok, 0);
  EXPECT_NE(out.find("registrar-self.cfg: mentor 127.0.0.1:9911 is this registrar's own ENRP endpoint"),
            std::string::npos)
      << out;
}

// Over the wire: with `max-resolution-items 2` a PU asking for 5 gets 2;
// with `check-pe-addresses off` a PE may register an address its
// association does not carry (the default rejects it with 0xa).
TEST_F(DaemonTest, ResolutionCapAndAddressCheckApplyOverTheWire) {
  auto daemon = start_daemon(write_file(
      "registrar-cap.cfg", config_text() + " max-resolution-items 2\n check-pe-addresses off\n no mentor\n"));
  ASSERT_TRUE(daemon);
  auto pe_c = connect_asap();
  ASSERT_TRUE(pe_c->up);
  for (PeIdentifier id : {0x31u, 0x32u, 0x33u, 0x34u}) {
    auto p = pe(id);
    if (id == 0x34) p.user_transport.addresses = {IpAddress::v4({192, 0, 2, 77}), *IpAddress::parse("2001:db8::77")};
    auto r = request(*pe_c, *associations[0], asap::Registration{PoolHandle("capped"), p});
    ASSERT_TRUE(r && std::holds_alternative<asap::RegistrationResponse>(*r));
    EXPECT_FALSE(std::get<asap::RegistrationResponse>(*r).rejected) << std::hex << id;
  }
  auto pu = connect_asap();
  asap::HandleResolution hr;
  hr.pool_handle = PoolHandle("capped");
  hr.items = 5;
  auto r = request(*pu, *associations[1], hr);
  ASSERT_TRUE(r && std::holds_alternative<asap::HandleResolutionResponse>(*r));
  EXPECT_EQ(std::get<asap::HandleResolutionResponse>(*r).pool_elements.size(), 2u);
  auto vty = sgtest::TelnetClient::connect("127.0.0.1", vty_port);
  ASSERT_TRUE(vty && vty->read_until_prompt());
  auto shown = vty->run("show pe 0x34");
  ASSERT_TRUE(shown);
  EXPECT_NE(shown->find("192.0.2.77 2001:db8::77"), std::string::npos) << *shown;
  ASSERT_TRUE(vty->run("enable"));
  auto running = vty->run("show running-config");
  ASSERT_TRUE(running);
  EXPECT_NE(running->find(" max-resolution-items 2\n"), std::string::npos) << *running;
  EXPECT_NE(running->find(" check-pe-addresses off\n"), std::string::npos) << *running;
  EXPECT_NE(running->find(" no mentor\n"), std::string::npos) << *running;
  auto reg = vty->run("show registrar");
  ASSERT_TRUE(reg);
  EXPECT_NE(reg->find("synchronised: no mentor"), std::string::npos) << *reg;
  ASSERT_TRUE(daemon->signal(SIGTERM));
  EXPECT_TRUE(daemon->wait(5s).has_value());

  // The same PE against the default: refused with "rejected due to security".
  auto strict = start_daemon(write_file("registrar-strict.cfg", config_text()));
  ASSERT_TRUE(strict);
  associations.clear();
  auto pe_s = connect_asap();
  auto p = pe(0x34);
  p.user_transport.addresses = {IpAddress::v4({192, 0, 2, 77})};
  auto refused = request(*pe_s, *associations[0], asap::Registration{PoolHandle("capped"), p});
  ASSERT_TRUE(refused && std::holds_alternative<asap::RegistrationResponse>(*refused));
  const auto& rr = std::get<asap::RegistrationResponse>(*refused);
  EXPECT_TRUE(rr.rejected);
  ASSERT_FALSE(rr.error.empty());
  EXPECT_EQ(rr.error.front().code, ErrorCause::rejected_security);
}

// Issue 17: each SCTP parameter of the registrar's associations is a
// configuration command (transport-profile first, then these); the daemon
// serves with them and writes them back. Over kernel SCTP (UML) the same
// options reach the sockets through the transport (tests/transport,
// SctpTuning.EveryOptionReachesTheKernel).
TEST_F(DaemonTest, SctpParametersAreSetOneByOne) {
  auto daemon = start_daemon(write_file(
      "registrar-sctp.cfg", config_text() + " transport-profile aggressive\n sctp rto-initial 400\n sctp rto-min 250\n"
                                            " sctp rto-max 800\n sctp sack-delay 40\n sctp heartbeat-interval 500\n"
                                            " sctp association-max-retransmissions 4\n sctp receive-buffer 32768\n"));
  ASSERT_TRUE(daemon);
  auto pe_c = connect_asap();
  ASSERT_TRUE(pe_c->up);
  auto r = request(*pe_c, *associations[0], asap::Registration{PoolHandle("tuned"), pe(0x51)});
  ASSERT_TRUE(r && std::holds_alternative<asap::RegistrationResponse>(*r));
  EXPECT_FALSE(std::get<asap::RegistrationResponse>(*r).rejected);
  auto vty = sgtest::TelnetClient::connect("127.0.0.1", vty_port);
  ASSERT_TRUE(vty && vty->read_until_prompt());
  ASSERT_TRUE(vty->run("enable"));
  auto running = vty->run("show running-config");
  ASSERT_TRUE(running);
  for (const char* line : {" sctp rto-initial 400\n", " sctp rto-min 250\n", " sctp rto-max 800\n",
                           " sctp heartbeat-interval 500\n", " sctp association-max-retransmissions 4\n",
                           " sctp sack-delay 40\n", " sctp receive-buffer 32768\n"})
    EXPECT_NE(running->find(line), std::string::npos) << line << *running;
  ASSERT_TRUE(daemon->signal(SIGTERM));
  EXPECT_TRUE(daemon->wait(5s).has_value());
}
