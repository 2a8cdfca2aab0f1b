#pragma once
// The rserpool-registrar process under test: a config written by the test,
// every listener on port 0 read back from --ports-file, ASAP clients over
// the transport of SG_TEST_TRANSPORT (the TCP mapping on the host, kernel
// SCTP inside UML), the telnet CLI, Prometheus. Shared by the daemon tests
// and the adversarial ones.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <tuple>

#include "daemon_ports.hpp"
#include "process.hpp"
#include "rserpool/transport/endpoint.hpp"
#include "rserpool/wire/asap.hpp"
#include "telnet_client.hpp"

namespace regdaemon {

using namespace std::chrono_literals;
using namespace rserpool;
namespace asap = wire::asap;
using Clock = std::chrono::steady_clock;

inline const std::string kBinary = SG_REGISTRAR_BIN;

// SG_TEST_TRANSPORT=sctp (inside UML) runs the same scenarios over kernel SCTP.
inline bool use_sctp() {
  const char* k = std::getenv("SG_TEST_TRANSPORT");
  return k && std::string(k) == "sctp";
}

inline std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// Minimal HTTP GET on loopback.
inline std::string http_get(std::uint16_t port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return {};
  }
  timeval tv{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string req = "GET " + path + " HTTP/1.0\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  close(fd);
  return out;
}

struct Client : transport::AssociationHandler {
  bool up = false, down = false;
  std::deque<transport::Message> inbox;
  void on_up(transport::Association&, const transport::AssociationInfo&) override { up = true; }
  void on_message(transport::Association&, transport::Message&& m) override { inbox.push_back(std::move(m)); }
  void on_down(transport::Association&, transport::DownReason) override { down = true; }
};

class DaemonTest : public ::testing::Test {
 protected:
  // Port 0 everywhere: the daemon reports what it bound.
  static std::string config_text(std::uint16_t asap = 0) {
    return "line vty\n bind 127.0.0.1 0\n"
           "registrar\n"
           " server-id 0x00c0ffee\n"
           " transport " + std::string(use_sctp() ? "sctp" : "tcp") + "\n"
           " asap local-ip 127.0.0.1\n"
           " asap-port " + std::to_string(asap) + "\n"
           " enrp local-ip 127.0.0.1\n"
           " enrp-port 0\n"
           " timer-profile aggressive\n"
           " timer keep-alive-interval 60000\n"
           " metrics-port 0\n";
  }

  std::optional<sgtest::ChildProcess> start_daemon(const std::string& cfg_path) {
    const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(++started_);
    log_path = ::testing::TempDir() + "/rserpool-registrar-" + tag + ".log";
    const std::string ports_path = ::testing::TempDir() + "/rserpool-registrar-" + tag + ".ports";
    std::remove(ports_path.c_str());
    auto child = sgtest::ChildProcess::spawn({kBinary, "-c", cfg_path, "--ports-file", ports_path}, log_path);
    if (!child) return child;
    auto ports = regtest::wait_for_ports(*child, ports_path);
    if (!ports) {
      ADD_FAILURE() << "daemon did not start:\n" << sgtest::read_file(log_path);
      return std::nullopt;
    }
    asap_port = ports->asap();
    enrp_port = ports->enrp();
    vty_port = ports->vty();
    metrics_port = ports->metrics();
    EXPECT_NE(asap_port, 0);
    EXPECT_NE(enrp_port, 0);
    EXPECT_NE(vty_port, 0);
    EXPECT_NE(metrics_port, 0);
    return child;
  }

  bool run_until(const std::function<bool()>& pred, Clock::duration timeout = 3s) {
    const auto deadline = Clock::now() + timeout;
    while (!pred()) {
      if (Clock::now() > deadline) return false;
      io.restart();
      io.run_for(2ms);
    }
    return true;
  }

  std::shared_ptr<Client> connect_asap() {
    auto c = std::make_shared<Client>();
    transport::EndpointConfig e;
    e.kind = use_sctp() ? transport::TransportKind::sctp : transport::TransportKind::tcp;
    e.local_addresses = {IpAddress::v4_loopback()};
    e.remote_addresses = {IpAddress::v4_loopback()};
    e.remote_port = asap_port;
    e.tcp.heartbeat_timeout = client_heartbeat_timeout;
    auto a = transport::connect(io, e, c);
    EXPECT_TRUE(a.ok());
    if (a.ok()) associations.push_back(*a);
    EXPECT_TRUE(run_until([&] { return c->up || c->down; }));
    return c;
  }

  std::optional<asap::Message> request(Client& c, transport::Association& a, const asap::Message& m) {
    EXPECT_TRUE(a.send(transport::Message{11, 0, false, asap::encode(m)}).ok());
    if (!run_until([&] { return !c.inbox.empty(); })) return std::nullopt;
    auto d = asap::decode(c.inbox.front().payload);
    c.inbox.pop_front();
    if (!d.ok()) return std::nullopt;
    return std::move(d.value().message);
  }

  static PoolElementParameter pe(PeIdentifier id) {
    PoolElementParameter p;
    p.id = id;
    p.registration_life_ms = 60000;
    p.user_transport.protocol = TransportProtocol::sctp;
    p.user_transport.port = 7000;
    p.user_transport.addresses = {IpAddress::v4_loopback()};
    p.policy.type = PolicyType::weighted_round_robin;
    p.policy.weight = 5;
    return p;
  }

  std::uint16_t asap_port = 0, enrp_port = 0, vty_port = 0, metrics_port = 0;
  int started_ = 0;
  std::string log_path;
  // The TCP mapping's heartbeat timeout of the test's own ASAP clients.
  transport::Millis client_heartbeat_timeout{3000};
  boost::asio::io_context io;
  std::vector<std::shared_ptr<transport::Association>> associations;
};

}  // namespace regdaemon
