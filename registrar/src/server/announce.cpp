// ASAP_SERVER_ANNOUNCE (RFC 5352 3.6): lets PEs and PUs find the registrar
// without configuration. Sent over UDP to a multicast group (or a unicast
// address) every announce_interval; off unless configured.
#include "rserpool/wire/asap.hpp"
#include "server_impl.hpp"

namespace rserpool::registrar::detail {

Result<void, std::string> ServerState::open_announces() {
  if (!cfg.announce_to) return {};
  const auto& to = *cfg.announce_to;
  transport::UdpConfig u;
  u.local_address = to.ip.is_v4() ? IpAddress{} : IpAddress::v6({});
  u.local_port = 0;
  u.name = cfg.name + "/announce";
  auto ep = transport::UdpEndpoint::open(io, u, [](const TransportAddress&, ByteView) {});
  if (!ep) return unexpected("cannot open the announce socket: " + ep.error().message());
  announcer = *ep;
  if (cfg.announce_interface) {
    if (auto r = announcer->set_multicast_interface(*cfg.announce_interface); !r) {
      return unexpected("announce interface " + cfg.announce_interface->to_string() + ": " + r.error().message());
    }
  }
  // What PEs and PUs should connect to: our ASAP endpoint. Without bound
  // addresses the receiver takes the datagram's source address (RFC 5352
  // 2.2.10), which only names the port if it is the well-known one.
  wire::asap::ServerAnnounce a;
  a.server_id = core.id();
  if (!cfg.asap_addresses.empty() || asap_port != 3863) {
    TransportParameter t;
    t.protocol = kind == transport::TransportKind::tcp ? TransportProtocol::tcp : TransportProtocol::sctp;
    t.port = asap_port;
    t.use = TransportUse::data_only;
    t.addresses = cfg.asap_addresses;
    if (t.addresses.empty()) {
      log->warn("{}: announcing ASAP port {} without addresses (wildcard bind): receivers use the source address",
                cfg.name, asap_port);
    } else {
      a.transports.push_back(std::move(t));
    }
  }
  announce_message = wire::asap::encode(a);
  announce_timer = std::make_unique<boost::asio::steady_timer>(io);
  log->info("{}: ASAP_SERVER_ANNOUNCE to {} every {} ms", cfg.name, to.to_string(), cfg.announce_interval.count());
  announce();
  return {};
}

void ServerState::announce() {
  if (stopped || !announcer) return;
  if (auto r = announcer->send_to(*cfg.announce_to, announce_message); r) {
    ++counters.announces_sent;
  } else {
    // Counted; the first failure is a warning, the rest debug lines. The
    // next cycle tries again (an interface may come up).
    const auto level = counters.announce_failures++ == 0 ? spdlog::level::warn : spdlog::level::debug;
    log->log(level, "{}: announce to {} failed: {}", cfg.name, cfg.announce_to->to_string(), r.error().message());
  }
  announce_timer->expires_after(cfg.announce_interval);
  announce_timer->async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto s = weak.lock()) s->announce();
  });
}

}  // namespace rserpool::registrar::detail
