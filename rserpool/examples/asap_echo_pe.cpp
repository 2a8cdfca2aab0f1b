// asap-echo-pe: a pool element that registers with a registrar and echoes
// every user message back on the same association, PPID and stream, the
// way rsplib's "rspserver -echo" does (so rspterminal works against it).
// With --cookie it hands each new pool user an ASAP_COOKIE naming itself
// and reports cookie echoes from users that failed over to it.
//
// Output (stdout, one line per event, for scripts and tests):
//   listening <kind> port <port>
//   asap-port <port>                      (where a taking-over registrar reaches us)
//   home <assoc> server-id 0x<id> [takeover]
//   registered pe=0x<id> [renewal]        | registration <code> pe=0x<id>
//   pu-up <n> / pu-down <n> / cookie-echo <n> <cookie text>
//   deregistered <code>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <cstdio>
#include <iostream>
#include <random>
#include <string>

#include "example_args.hpp"
#include "rserpool/asap/service/pe_session_server.hpp"
#include "rserpool/asap/service/pool_element_service.hpp"
#include "rserpool/base/log.hpp"

namespace {

void usage() {
  std::cerr << "usage: asap-echo-pe [--pool NAME] [--registrar ADDR[:PORT]]... [--transport sctp|tcp|auto]\n"
               "                    [--local ADDR]... [--port N] [--pe-id HEX] [--policy rr|random|wrr:W|lu:PCT|prio:P]\n"
               "                    [--life MS] [--reregister MS] [--cookie] [--aggressive] [--log-level LEVEL]\n"
               "                    [--asap-port N] [--no-takeover]\n"
               "  --local: listen addresses, also registered as the PE's user transport (default: wildcard;\n"
               "           then --advertise ADDR... says what to register)\n"
               "  --asap-port: port for registrar takeovers (ENRP), also the source port of the registrar\n"
               "           associations (default: ephemeral); --no-takeover: do not listen\n"
               "  SIGTERM / SIGINT: deregister, then exit\n";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace rserpool;
  std::string pool = "EchoPool";
  asap::RegistrarAccess access;
  std::vector<IpAddress> local, advertise;
  std::uint16_t port = 0;
  std::optional<PeIdentifier> pe_id;
  PolicyParameters policy;
  std::int32_t life = 30'000;
  std::optional<long> reregister;
  bool cookie = false;
  asap::TakeoverListen takeover;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    auto bad = [&](std::string_view what) {
      std::cerr << "asap-echo-pe: bad " << what << "\n";
      std::exit(2);
    };
    if (a == "--pool") {
      pool = value();
    } else if (a == "--registrar") {
      auto e = asap_example::parse_endpoint(value(), asap::kAsapPort);
      if (!e) bad("--registrar");
      access.registrars.push_back(*e);
    } else if (a == "--transport") {
      auto k = transport::parse_transport_kind(value());
      if (!k) bad("--transport");
      access.kind = *k;
    } else if (a == "--local" || a == "--advertise") {
      auto ip = IpAddress::parse(value());
      if (!ip) bad(a);
      (a == "--local" ? local : advertise).push_back(*ip);
    } else if (a == "--port") {
      auto p = asap_example::parse_number<std::uint16_t>(value());
      if (!p) bad("--port");
      port = *p;
    } else if (a == "--pe-id") {
      auto p = asap_example::parse_number<std::uint32_t>(value(), 16);
      if (!p || *p == 0) bad("--pe-id");
      pe_id = *p;
    } else if (a == "--policy") {
      auto p = asap_example::parse_policy(value());
      if (!p) bad("--policy");
      policy = *p;
    } else if (a == "--life") {
      auto p = asap_example::parse_number<std::int32_t>(value());
      if (!p) bad("--life");
      life = *p;
    } else if (a == "--reregister") {
      auto p = asap_example::parse_number<long>(value());
      if (!p || *p <= 0) bad("--reregister");
      reregister = *p;
    } else if (a == "--asap-port") {
      auto p = asap_example::parse_number<std::uint16_t>(value());
      if (!p) bad("--asap-port");
      takeover.port = *p;
    } else if (a == "--no-takeover") {
      takeover.enabled = false;
    } else if (a == "--cookie") {
      cookie = true;
    } else if (a == "--aggressive") {
      access.aggressive = true;
    } else if (a == "--log-level") {
      log::set_level("all", value());
    } else {
      usage();
      return 2;
    }
  }
  if (access.registrars.empty()) access.registrars.push_back({IpAddress::v4_loopback(), asap::kAsapPort});
  if (!pe_id) {
    std::random_device rd;
    do pe_id = rd(); while (*pe_id == 0);
  }

  boost::asio::io_context io;
  transport::EndpointConfig listen;
  listen.local_addresses = local;
  listen.local_port = port;
  listen.kind = access.kind;
  if (access.aggressive) {
    listen.sctp = transport::SctpOptions::aggressive();
    listen.tcp = transport::TcpMappingOptions::aggressive();
  }
  listen.name = "echo-pe";
  auto server = asap::PeSessionServer::open(io, listen, PoolHandle(pool));
  if (!server) {
    std::cerr << "asap-echo-pe: cannot listen: " << server.error().message() << "\n";
    return 1;
  }
  auto& pe_server = **server;
  std::printf("listening %s port %u\n", std::string(transport::to_string(pe_server.kind())).c_str(),
              pe_server.port());
  std::fflush(stdout);

  asap::PoolElementConfig cfg;
  cfg.pool = PoolHandle(pool);
  cfg.pe_id = *pe_id;
  cfg.user_transport = pe_server.user_transport(!advertise.empty() ? advertise : local);
  if (cfg.user_transport.addresses.empty()) {
    std::cerr << "asap-echo-pe: listening on the wildcard address: say with --advertise what to register\n";
    return 2;
  }
  cfg.policy = policy;
  cfg.registration_life_ms = life;
  if (reregister) cfg.reregistration_interval = std::chrono::milliseconds(*reregister);
  asap::PoolElementService pe(io, cfg, access, takeover);
  std::printf("asap-port %u\n", pe.asap_port());
  std::fflush(stdout);

  pe_server.on_pu_up([&](asap::PuId pu) {
    std::printf("pu-up %u\n", pu);
    std::fflush(stdout);
    if (cookie) {
      const std::string c = "pe=" + std::to_string(*pe_id) + " pu=" + std::to_string(pu);
      pe_server.set_cookie(pu, Bytes(c.begin(), c.end()));
    }
  });
  pe_server.on_pu_down([](asap::PuId pu) {
    std::printf("pu-down %u\n", pu);
    std::fflush(stdout);
  });
  pe_server.on_cookie_echo([](asap::PuId pu, const Bytes& c) {
    std::printf("cookie-echo %u %s\n", pu, std::string(c.begin(), c.end()).c_str());
    std::fflush(stdout);
  });
  pe_server.on_data([&](asap::PuId pu, transport::Message&& m) { pe_server.send(pu, std::move(m)); });

  pe.on_registration([](const asap::RegistrationResult& r) {
    if (r.code == asap::RegistrationCode::granted)
      std::printf("registered pe=0x%08x%s\n", r.pe_id, r.renewal ? " renewal" : "");
    else
      std::printf("registration %s pe=0x%08x\n", std::string(asap::to_string(r.code)).c_str(), r.pe_id);
    std::fflush(stdout);
  });
  pe.on_home_changed([](const asap::HomeRegistrarChanged& h) {
    std::printf("home %u server-id 0x%08x%s\n", h.assoc, h.server_id,
                h.assoc >= asap::kInboundAssocBase ? " takeover" : "");
    std::fflush(stdout);
  });
  pe.register_pe();

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    pe.deregister([&](const asap::DeregistrationResult& r) {
      std::printf("deregistered %s\n", std::string(asap::to_string(r.code)).c_str());
      std::fflush(stdout);
      pe_server.shutdown(false);
      io.stop();
    });
  });
  io.run();
  return 0;
}
