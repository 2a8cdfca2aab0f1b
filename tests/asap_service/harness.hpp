#pragma once
// In-process fixtures for the ASAP service tests: registrar servers, echo
// pool elements (PoolElementService + PeSessionServer) and a bounded
// io_context loop. SG_TEST_TRANSPORT=tcp (host) or sctp (UML) picks the
// transport of every association.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <optional>
#include <thread>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "event_loop.hpp"
#include "registrar/server.hpp"
#include "rserpool/asap/service/endpoint_mapping.hpp"
#include "rserpool/asap/service/pe_session_server.hpp"
#include "rserpool/asap/service/pool_element_service.hpp"
#include "rserpool/asap/service/pool_user_service.hpp"

namespace asaptest {

using namespace std::chrono_literals;
using rserpool::Bytes;
using rserpool::IpAddress;
using rserpool::PeIdentifier;
using rserpool::PoolHandle;
using rserpool::TransportAddress;

using sgtest::run_for;
using sgtest::run_until;
// The transport this binary was registered for.
inline rserpool::transport::TransportKind test_kind() { return sgtest::backend(); }

inline Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }
inline std::string text(const Bytes& b) { return std::string(b.begin(), b.end()); }

inline std::unique_ptr<rserpool::registrar::RegistrarServer> start_registrar(
    boost::asio::io_context& io, rserpool::ServerIdentifier id, std::vector<TransportAddress> peers = {},
    const std::function<void(rserpool::registrar::ServerConfig&)>& tweak = {}) {
  rserpool::registrar::ServerConfig cfg;
  cfg.core = rserpool::registrar::RegistrarConfig::aggressive(id);
  cfg.kind = test_kind();
  cfg.asap_addresses = {IpAddress::v4_loopback()};
  cfg.asap_port = 0;
  cfg.enrp_addresses = {IpAddress::v4_loopback()};
  cfg.enrp_port = 0;
  cfg.enrp_peers = std::move(peers);
  cfg.enrp_allowed = {IpAddress::v4_loopback()};
  cfg.peer_reconnect_interval = 200ms;
  cfg.name = "registrar-" + std::to_string(id);
  if (tweak) tweak(cfg);
  auto r = rserpool::registrar::RegistrarServer::start(io, cfg);
  if (!r) {
    ADD_FAILURE() << "registrar start: " << r.error();
    return nullptr;
  }
  return std::move(*r);
}

inline TransportAddress asap_address(const rserpool::registrar::RegistrarServer& r) {
  return {IpAddress::v4_loopback(), r.asap_port()};
}

inline rserpool::asap::RegistrarAccess access_to(std::vector<TransportAddress> registrars, bool aggressive = true) {
  rserpool::asap::RegistrarAccess a;
  a.registrars = std::move(registrars);
  a.kind = test_kind();
  a.aggressive = aggressive;
  return a;
}

// A port that refuses associations for as long as this object lives: a
// socket of the test's transport bound to loopback port 0 (the kernel's
// choice, read back) that never listens, so TCP answers SYN with RST and
// SCTP answers INIT with ABORT. Nobody else can take the port meanwhile,
// unlike a port "freed" by closing a listener.
struct RefusingPort {
  RefusingPort() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
                  test_kind() == rserpool::transport::TransportKind::sctp ? IPPROTO_SCTP : IPPROTO_TCP);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      ADD_FAILURE() << "cannot bind 127.0.0.1:0: " << std::strerror(errno);
      return;
    }
    socklen_t len = sizeof sa;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    port = ntohs(sa.sin_port);
  }
  ~RefusingPort() {
    if (fd >= 0) ::close(fd);
  }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  TransportAddress address() const { return {IpAddress::v4_loopback(), port}; }
  int fd = -1;
  std::uint16_t port = 0;
};

// A pool element that echoes user data and records what it saw, per PU
// association, in arrival order ("cookie:<text>" / "data:<text>").
struct EchoPe {
  EchoPe(boost::asio::io_context& io, const PoolHandle& pool, PeIdentifier id, rserpool::asap::RegistrarAccess access,
         bool send_cookie = true, std::int32_t life_ms = 30'000,
         std::optional<std::chrono::milliseconds> reregister = {}) {
    rserpool::transport::EndpointConfig listen;
    listen.local_addresses = {IpAddress::v4_loopback()};
    listen.kind = test_kind();
    listen.tcp = rserpool::transport::TcpMappingOptions::aggressive();
    listen.sctp = rserpool::transport::SctpOptions::aggressive();
    auto s = rserpool::asap::PeSessionServer::open(io, listen, pool);
    if (!s) {
      ADD_FAILURE() << "PE listen: " << s.error().message();
      return;
    }
    server = std::move(*s);
    server->on_pu_up([this, send_cookie, id](rserpool::asap::PuId pu) {
      if (send_cookie) server->set_cookie(pu, text("cookie-of-" + std::to_string(id)));
      if (!card.empty()) server->send_business_card(pu, card);
    });
    server->on_cookie_echo([this](rserpool::asap::PuId pu, const Bytes& c) {
      seen[pu].push_back("cookie:" + text(c));
    });
    server->on_data([this](rserpool::asap::PuId pu, rserpool::transport::Message&& m) {
      seen[pu].push_back("data:" + text(m.payload));
      ++data_count;
      if (!mute) server->send(pu, std::move(m));
    });
    rserpool::asap::PoolElementConfig cfg;
    cfg.pool = pool;
    cfg.pe_id = id;
    cfg.user_transport = server->user_transport();
    cfg.registration_life_ms = life_ms;
    cfg.reregistration_interval = reregister;
    cfg.hunt.t5_initial = 500ms;
    cfg.hunt.retran_max = 2s;
    cfg.t2_registration = 2s;
    element = std::make_unique<rserpool::asap::PoolElementService>(io, cfg, std::move(access));
    element->on_registration([this](const rserpool::asap::RegistrationResult& r) { results.push_back(r); });
    element->register_pe();
  }
  // The PE dies: its user associations are aborted and its registrar
  // association goes away without DEREGISTRATION.
  void crash() {
    if (server) server->shutdown(true);
    element.reset();
  }
  std::size_t granted() const {
    std::size_t n = 0;
    for (const auto& r : results)
      if (r.code == rserpool::asap::RegistrationCode::granted) ++n;
    return n;
  }

  std::unique_ptr<rserpool::asap::PeSessionServer> server;
  std::unique_ptr<rserpool::asap::PoolElementService> element;
  std::vector<rserpool::asap::RegistrationResult> results;
  std::map<rserpool::asap::PuId, std::vector<std::string>> seen;
  std::size_t data_count = 0;
  bool mute = false;  // hung application: receives, never answers
  std::vector<rserpool::PoolElementParameter> card;  // business card for each new PU
  // This PE as a business-card entry.
  rserpool::PoolElementParameter as_card_entry(PeIdentifier id) const {
    rserpool::PoolElementParameter p;
    p.id = id;
    p.user_transport = server->user_transport();
    return p;
  }
};

// A registrar on its own thread; the caller only talks to child processes
// and asks the registrar through post().
class RegistrarThread {
 public:
  explicit RegistrarThread(rserpool::ServerIdentifier id = 0x3001) {
    reg_ = start_registrar(io_, id);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~RegistrarThread() {
    boost::asio::post(io_, [this] {
      reg_.reset();
      io_.stop();
    });
    thread_.join();
  }
  template <class F>
  auto ask(F f) {
    std::promise<decltype(f(*reg_))> p;
    auto fut = p.get_future();
    boost::asio::post(io_, [&] { p.set_value(f(*reg_)); });
    return fut.get();
  }
  std::uint16_t port() { return ask([](auto& r) { return r.asap_port(); }); }

 private:
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      boost::asio::make_work_guard(io_)};
  std::unique_ptr<rserpool::registrar::RegistrarServer> reg_;
  std::thread thread_;
};

}  // namespace asaptest
