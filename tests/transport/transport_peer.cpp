// Peer process for the association tests: listens with the transport
// library, reports its port and every message it receives on stdout (so
// the parent still knows what arrived after it SIGKILLs us), and echoes or
// sinks. Usage: transport_peer tcp|sctp echo|sink ADDRESS [aggressive]
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <cstring>
#include <string>

#include "rserpool/transport/endpoint.hpp"

namespace tr = rserpool::transport;

namespace {

void say(const std::string& line) {
  std::string s = line + "\n";
  const char* p = s.data();
  std::size_t left = s.size();
  while (left > 0) {
    const ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

struct Peer : tr::AssociationHandler {
  bool echo = false;
  void on_message(tr::Association& a, tr::Message&& m) override {
    // The first four bytes carry the test's message index.
    std::uint32_t idx = 0;
    if (m.payload.size() >= 4) idx = rserpool::load_u32(m.payload.data());
    say("MSG " + std::to_string(idx) + " " + std::to_string(m.payload.size()));
    if (echo) (void)a.send(std::move(m));
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s tcp|sctp echo|sink ADDRESS [aggressive]\n", argv[0]);
    return 2;
  }
  tr::EndpointConfig cfg;
  cfg.kind = std::strcmp(argv[1], "sctp") == 0 ? tr::TransportKind::sctp : tr::TransportKind::tcp;
  auto addr = rserpool::IpAddress::parse(argv[3]);
  if (!addr) return 2;
  cfg.local_addresses = {*addr};
  cfg.name = "peer";
  if (argc > 4 && std::strcmp(argv[4], "aggressive") == 0) {
    cfg.sctp = tr::SctpOptions::aggressive();
    cfg.tcp = tr::TcpMappingOptions::aggressive();
  }
  const bool echo = std::strcmp(argv[2], "echo") == 0;
  boost::asio::io_context io;
  auto listener = tr::Listener::open(io, cfg, [echo](const std::shared_ptr<tr::Association>&) {
    auto p = std::make_shared<Peer>();
    p->echo = echo;
    return p;
  });
  if (!listener) {
    std::fprintf(stderr, "listen: %s\n", listener.error().message().c_str());
    return 1;
  }
  say("PORT " + std::to_string((*listener)->port()));
  io.run();
  return 0;
}
