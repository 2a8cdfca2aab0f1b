// The gateway's configuration grammar. libosmocore's VTY is process-global,
// so each parse runs in a child process that reports through a pipe.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "sg/config/sg_config_commands.hpp"
#include "sg/sgd_default_config.hpp"

namespace sg {
namespace {

struct Outcome {
  bool ok = false;
  std::string text;  // rendered configuration, or the error
  std::vector<std::string> problems;
};

// Parses `text` in a child process; returns render() or the error.
Outcome parse(const std::string& text) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    rserpool::ops::Vty vty(rserpool::ops::VtyOptions{});
    SgConfig config;
    declare_config_commands(vty, config);
    auto r = vty.start({}, text, "test.cfg");
    std::string out;
    if (r) {
      out = "OK\n" + render(config);
      for (const auto& p : validate(config)) out += "PROBLEM " + p + "\n";
    } else {
      out = "ERR\n" + r.error().to_string();
    }
    if (write(fds[1], out.data(), out.size()) < 0) _exit(2);
    _exit(0);
  }
  close(fds[1]);
  std::string all;
  char buf[4096];
  ssize_t n = 0;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) all.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  Outcome o;
  o.ok = all.rfind("OK\n", 0) == 0;
  const std::size_t prefix = o.ok ? 3 : 4;  // "OK\n" or "ERR\n"
  std::string body = all.size() > prefix ? all.substr(prefix) : "";
  if (o.ok) {
    std::string rendered;
    std::size_t pos = 0;
    while (pos < body.size()) {
      const auto nl = body.find('\n', pos);
      const std::string line = body.substr(pos, nl - pos);
      if (line.rfind("PROBLEM ", 0) == 0) o.problems.push_back(line.substr(8));
      else rendered += line + "\n";
      pos = nl == std::string::npos ? body.size() : nl + 1;
    }
    o.text = rendered;
  } else {
    o.text = body;
  }
  return o;
}

TEST(SgConfig, EmbeddedDefaultIsValidAndRoundTrips) {
  const auto first = parse(kSgdDefaultConfig);
  ASSERT_TRUE(first.ok) << first.text;
  EXPECT_TRUE(first.problems.empty()) << first.problems.front();
  EXPECT_NE(first.text.find("route isup-to-gwc\n dpc 0.23.1\n si isup\n pool gwc\n"), std::string::npos) << first.text;
  const auto second = parse(first.text);
  ASSERT_TRUE(second.ok) << second.text;
  EXPECT_EQ(second.text, first.text);  // render is a fixed point
}

TEST(SgConfig, EveryCommandRoundTrips) {
  const std::string text =
      "sg\n point-code-format ansi\n point-code 10.20.30\n network-indicator international\n transport tcp\n"
      " timer-profile standard\n log-level m3ua debug\n pe-sctp rto-initial 500\n pe-sctp rto-min 250\n"
      " pe-sctp rto-max 2000\n pe-sctp path-max-retransmissions 3\n pe-sctp association-max-retransmissions 6\n"
      " pe-sctp heartbeat-interval 1000\n pe-sctp heartbeat off\n pe-sctp sack-frequency 1\n pe-sctp bundle on\n"
      "ss7-side\n local-ip 198.18.0.1\n local-ip 2001:2::1\n local-port 2906\n accept-peers any\n"
      " sctp rto-min 300\n sctp sack-delay 40\n sctp receive-buffer 65536\n"
      " peer stp-a\n  remote-ip 198.18.0.9\n  remote-ip 2001:2::9\n  routing-context 7\n"
      "  traffic-mode override\n  traffic-mode-negotiation follow\n  allowed-opc 1.2.3\n  allowed-opc 1.2.0 mask 8\n"
      " connect stp-b\n  remote-ip 2001:2::10\n  remote-port 2907\n  local-ip 2001:2::1\n  role ipsp\n  routing-context 8\n"
      "  traffic-mode broadcast\n  traffic-mode-negotiation follow\n"
      "registrar\n colocated\n  asap-ip ::1\n  asap-port 13863\n  enrp-ip ::1\n  enrp-port 19901\n"
      "  enrp-peer 198.18.0.5 9901\n  server-id 42\n  keep-alive-interval 1500\n  keep-alive-timeout 1000\n"
      "  sctp rto-min 200\n  sctp sack-delay 30\n"
      " remote 198.18.0.6 3863\n"
      "pool gwc\n pool-wait 500\n drain-deadline 1000\n max-queue 100\n congestion onset 80 abatement 20\n"
      "route r1\n dpc 10.20.0 mask 8\n opc 1.2.3\n si isup\n si sccp\n ni international\n cic-range 1 31\n pool gwc\n";
  const auto first = parse(text);
  ASSERT_TRUE(first.ok) << first.text;
  EXPECT_TRUE(first.problems.empty()) << first.problems.front();
  for (const char* expected : {" point-code 10.20.30\n", "  remote-ip 2001:2::9\n", "  role ipsp\n",
                               "  enrp-peer 198.18.0.5 9901\n", " congestion onset 80 abatement 20\n",
                               " dpc 10.20.0 mask 8\n", " si sccp\n si isup\n", " cic-range 1 31\n",
                               " log-level m3ua debug\n", " pe-sctp rto-min 250\n", " pe-sctp heartbeat off\n",
                               " pe-sctp sack-frequency 1\n", " sctp rto-min 300\n", " sctp sack-delay 40\n",
                               " sctp receive-buffer 65536\n", " pe-sctp bundle on\n",
                               "  traffic-mode override\n  traffic-mode-negotiation follow\n  allowed-opc 1.2.3\n"
                               "  allowed-opc 1.2.0 mask 8\n",
                               "  traffic-mode broadcast\n  traffic-mode-negotiation follow\n",
                               "  keep-alive-interval 1500\n  keep-alive-timeout 1000\n",
                               "  sctp rto-min 200\n  sctp sack-delay 30\n"})
    EXPECT_NE(first.text.find(expected), std::string::npos) << expected << "\n" << first.text;
  const auto second = parse(first.text);
  ASSERT_TRUE(second.ok) << second.text;
  EXPECT_EQ(second.text, first.text);
}

TEST(SgConfig, BadValuesNameTheLine) {
  auto bad_pc = parse("sg\n point-code 9.999.9\n");
  ASSERT_FALSE(bad_pc.ok);
  EXPECT_EQ(bad_pc.text.rfind("test.cfg:2: invalid point code '9.999.9'", 0), 0U) << bad_pc.text;
  auto bad_ip = parse("ss7-side\n peer x\n  remote-ip 300.1.1.1\n");
  ASSERT_FALSE(bad_ip.ok);
  EXPECT_EQ(bad_ip.text, "test.cfg:3: invalid IP address '300.1.1.1'") << bad_ip.text;
  auto bad_cic = parse("route r\n cic-range 10 5\n");
  ASSERT_FALSE(bad_cic.ok);
  EXPECT_EQ(bad_cic.text, "test.cfg:2: first CIC above last CIC");
  auto unknown = parse("pool gwc\n policy fastest\n");
  ASSERT_FALSE(unknown.ok);
  EXPECT_EQ(unknown.text, "test.cfg:2: invalid command 'policy fastest'");
}

TEST(SgConfig, DefaultsAreLoadshareStrictAndRenderedExplicitly) {
  const auto o = parse(
      "ss7-side\n peer p\n  remote-ip 127.0.0.1\n connect c\n  remote-ip 127.0.0.2\n");
  ASSERT_TRUE(o.ok) << o.text;
  EXPECT_NE(o.text.find(" peer p\n  remote-ip 127.0.0.1\n  traffic-mode loadshare\n  traffic-mode-negotiation strict\n"),
            std::string::npos)
      << o.text;
  EXPECT_EQ(o.text.find("sctp"), std::string::npos) << o.text;  // no override unless set
}

TEST(SgConfig, InconsistentSctpTimersNameTheLine) {
  auto o = parse("ss7-side\n sctp rto-max 400\n sctp rto-min 500\n");
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.text, "test.cfg:3: rto-min 500: rto-min 500 ms is above rto-max 400 ms") << o.text;
  o = parse("sg\n pe-sctp rto-min 300\n pe-sctp rto-initial 200\n");
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.text.rfind("test.cfg:3: rto-initial 200: rto-initial 200 ms is outside rto-min..rto-max", 0), 0U)
      << o.text;
  o = parse("registrar\n colocated\n  sctp rto-max 400\n  sctp rto-min 500\n");
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.text, "test.cfg:4: rto-min 500: rto-min 500 ms is above rto-max 400 ms") << o.text;
  o = parse("ss7-side\n sctp sack-delay 900\n");
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.text.rfind("test.cfg:2:", 0), 0U) << o.text;
  o = parse("ss7-side\n sctp receive-buffer 1024\n");  // below a few messages' worth
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.text.rfind("test.cfg:2:", 0), 0U) << o.text;
  o = parse("ss7-side\n peer p\n  allowed-opc 9.999.9\n");
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.text.rfind("test.cfg:3: invalid point code '9.999.9'", 0), 0U) << o.text;
}

// The gateway's relaying associations SACK every packet as it arrives,
// whatever the timer profile (docs/gateway.md, "Duplicates from the
// hand-back"); an override brings the delayed SACK back, with the profile's
// delay.
TEST(SgConfig, TheRelayingAssociationsSackEveryPacket) {
  for (auto t : {TimerProfile::aggressive, TimerProfile::standard}) {
    const auto relay = relay_sctp_profile(t);
    EXPECT_EQ(relay.sack_frequency, 1U) << to_string(t);
    EXPECT_EQ(relay.sack_delay, sctp_profile(t).sack_delay) << to_string(t);
    EXPECT_EQ(relay.rto_min, sctp_profile(t).rto_min) << to_string(t);
  }
  SctpOverrides o;
  o.sack_frequency = 2;
  const auto delayed = apply(o, relay_sctp_profile(TimerProfile::aggressive));
  EXPECT_EQ(delayed.sack_frequency, 2U);
  EXPECT_EQ(delayed.sack_delay, std::chrono::milliseconds(50));
}

// The profile applies first, the overrides then; a combination that only
// the two together make wrong is found by validation.
TEST(SgConfig, SctpOverridesApplyOnTopOfTheProfile) {
  SctpOverrides o;
  o.rto_min_ms = 300;
  o.sack_delay_ms = 40;
  o.heartbeat = false;
  o.receive_buffer = 32768;
  o.bundle = true;
  const auto aggressive = apply(o, sctp_profile(TimerProfile::aggressive));
  const auto base = rserpool::transport::SctpOptions::aggressive();
  EXPECT_EQ(aggressive.rto_min, std::chrono::milliseconds(300));
  EXPECT_EQ(aggressive.rto_initial, base.rto_initial);  // untouched: the profile's
  EXPECT_EQ(aggressive.heartbeat_interval, base.heartbeat_interval);
  EXPECT_EQ(aggressive.sack_delay, std::chrono::milliseconds(40));
  EXPECT_FALSE(aggressive.heartbeat_enabled);
  EXPECT_EQ(aggressive.receive_buffer, 32768U);
  EXPECT_FALSE(base.receive_buffer.has_value());  // the kernel's unless set
  EXPECT_TRUE(aggressive.bundle);
  EXPECT_FALSE(base.bundle);  // off unless set on
  EXPECT_EQ(apply(SctpOverrides{}, sctp_profile(TimerProfile::standard)).rto_min,
            rserpool::transport::SctpOptions{}.rto_min);
  auto v = parse("sg\n timer-profile standard\nss7-side\n sctp rto-max 500\n");
  ASSERT_TRUE(v.ok) << v.text;
  EXPECT_TRUE(std::any_of(v.problems.begin(), v.problems.end(), [](const std::string& p) {
    return p.rfind("ss7-side: SCTP RTO min 1000 ms, initial 3000 ms, max 500 ms (timer-profile standard", 0) == 0;
  }));
}

TEST(SgConfig, PeersCannotShareAnAddressOrDisagreeOnASharedAs) {
  auto o = parse(
      "ss7-side\n peer a\n  remote-ip 192.0.2.1\n  routing-context 5\n  traffic-mode override\n"
      " peer b\n  remote-ip 192.0.2.1\n  routing-context 5\n");
  ASSERT_TRUE(o.ok) << o.text;
  auto has = [&](const std::string& needle) {
    return std::any_of(o.problems.begin(), o.problems.end(),
                       [&](const std::string& p) { return p.find(needle) != std::string::npos; });
  };
  EXPECT_TRUE(has("ss7-side peers a and b share remote-ip 192.0.2.1"));
  EXPECT_TRUE(has("ss7-side peers a and b share routing-context 5 with different traffic-mode settings"));
}

TEST(SgConfig, ValidationFindsWhatNoSingleLineShows) {
  auto o = parse("sg\n point-code 0.23.1\nss7-side\n local-ip 127.0.0.1\nroute r\n dpc 0.23.1\n pool nowhere\n");
  ASSERT_TRUE(o.ok) << o.text;
  auto has = [&](const std::string& needle) {
    return std::any_of(o.problems.begin(), o.problems.end(),
                       [&](const std::string& p) { return p.find(needle) != std::string::npos; });
  };
  EXPECT_TRUE(has("route r: pool nowhere is not configured"));
  EXPECT_TRUE(has("registrar: neither colocated nor any remote registrar"));
  EXPECT_TRUE(has("accept-peers configured but no peer"));
}

}  // namespace
}  // namespace sg
