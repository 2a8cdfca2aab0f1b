// Backend selection, the client entry point and both listeners.
#include "rserpool/transport/endpoint.hpp"

#include <netinet/in.h>  // before netinet/sctp.h, which pulls in linux/in.h
#include <netinet/sctp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cerrno>

#include "association_base.hpp"
#include "rserpool/base/log.hpp"
#include "sctp_association.hpp"
#include "sctp_socket.hpp"
#include "socket_address.hpp"
#include "tcp_association.hpp"

namespace rserpool::transport {

namespace asio = boost::asio;
using boost::system::error_code;
using detail::logger;

bool kernel_sctp_available() {
  static const bool available = [] {
    const int fd = ::socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    if (fd < 0) return false;
    ::close(fd);
    return true;
  }();
  return available;
}

TransportKind resolve_kind(TransportKind requested) {
  if (requested != TransportKind::automatic) return requested;
  if (kernel_sctp_available()) return TransportKind::sctp;
  static bool warned = false;
  if (!warned) {
    warned = true;
    logger()->warn("kernel SCTP not available (socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP) failed): "
                   "falling back to the TCP mapping");
  }
  return TransportKind::tcp;
}

namespace {

std::error_code errc(std::errc e) { return std::make_error_code(e); }

std::shared_ptr<TransportCounters> counters_of(EndpointConfig& cfg) {
  if (!cfg.counters) cfg.counters = std::make_shared<TransportCounters>();
  return cfg.counters;
}

Result<std::shared_ptr<Association>, std::error_code> connect_tcp(asio::io_context& io, EndpointConfig& cfg,
                                                                  std::shared_ptr<AssociationHandler> handler) {
  std::vector<asio::ip::tcp::endpoint> remotes;
  for (const auto& ip : cfg.remote_addresses) remotes.emplace_back(detail::to_asio(ip), cfg.remote_port);
  std::optional<asio::ip::tcp::endpoint> local;
  if (!cfg.local_addresses.empty())
    local = asio::ip::tcp::endpoint(detail::to_asio(cfg.local_addresses.front()), cfg.local_port);
  else if (cfg.local_port != 0)
    local = asio::ip::tcp::endpoint(remotes.front().protocol(), cfg.local_port);
  auto assoc = std::make_shared<detail::TcpAssociation>(io, cfg, counters_of(cfg), std::move(handler));
  assoc->start_connect(std::move(remotes), local);
  return std::shared_ptr<Association>(assoc);
}

Result<std::shared_ptr<Association>, std::error_code> connect_sctp(asio::io_context& io, EndpointConfig& cfg,
                                                                   std::shared_ptr<AssociationHandler> handler) {
  const int family = detail::sctp_family_for(cfg.local_addresses, cfg.remote_addresses);
  auto fd = detail::open_sctp_socket(cfg, family);
  if (!fd) return unexpected(fd.error());
  auto assoc = std::make_shared<detail::SctpAssociation>(io, cfg, counters_of(cfg), std::move(handler));
  assoc->start_connect(std::move(*fd), cfg.remote_addresses, cfg.remote_port, family);
  return std::shared_ptr<Association>(assoc);
}

// Accept errors such as EMFILE repeat at once (the connection stays in the
// backlog): pause accepting instead of spinning, count it, warn (limited).
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

void accept_failed(TransportCounters& counters, const std::string& name, const std::string& why) {
  ++counters.accept_errors;
  rserpool::log::warn_limited(logger(), "accept failed", "{}: accept: {}; pausing accepts for {} ms", name, why,
                              kAcceptRetry.count());
}

// The owner's accept filter (EndpointConfig::accept_filter): false refuses.
bool admitted(const EndpointConfig& cfg, TransportCounters& counters, const AssociationInfo& info,
              const std::string& name) {
  if (!cfg.accept_filter || cfg.accept_filter(info)) return true;
  ++counters.associations_refused;
  rserpool::log::info_limited(logger(), "association refused by filter", "{}: association from {} refused", name,
                              detail::describe(info.remote));
  return false;
}

// What a listener knows about an accepted SCTP association before it
// exists as an object: every address of both ends and the stream counts.
AssociationInfo sctp_accepted_info(int fd) {
  AssociationInfo info;
  info.kind = TransportKind::sctp;
  info.local = detail::sctp_local_addresses(fd);
  info.remote = detail::sctp_peer_addresses(fd);
  sctp_status st{};
  socklen_t len = sizeof st;
  if (::getsockopt(fd, IPPROTO_SCTP, SCTP_STATUS, &st, &len) == 0) {
    info.inbound_streams = st.sstat_instrms;
    info.outbound_streams = st.sstat_outstrms;
  }
  return info;
}

class TcpListener final : public Listener, public std::enable_shared_from_this<TcpListener> {
 public:
  TcpListener(asio::io_context& io, EndpointConfig cfg, AcceptHandler on_accept)
      : io_(io), cfg_(std::move(cfg)), on_accept_(std::move(on_accept)), retry_(io) {
    counters_ = counters_of(cfg_);
  }

  Result<void, std::error_code> open() {
    std::vector<asio::ip::tcp::endpoint> eps;
    for (const auto& ip : cfg_.local_addresses) eps.emplace_back(detail::to_asio(ip), cfg_.local_port);
    const bool wildcard = eps.empty();
    if (wildcard) eps.emplace_back(asio::ip::tcp::v6(), cfg_.local_port);
    std::uint16_t port = cfg_.local_port;
    for (auto ep : eps) {
      ep.port(port);
      asio::ip::tcp::acceptor acc(io_);
      error_code ec;
      acc.open(ep.protocol(), ec);
      if (ec && wildcard) {  // no IPv6 on this host: IPv4 wildcard
        ep = asio::ip::tcp::endpoint(asio::ip::tcp::v4(), port);
        acc.open(ep.protocol(), ec);
      }
      if (ec) return unexpected(std::error_code(ec.value(), std::generic_category()));
      acc.set_option(asio::socket_base::reuse_address(true), ec);
      if (cfg_.reuse_port) acc.set_option(detail::ReusePort(true), ec);
      if (ep.protocol() == asio::ip::tcp::v6()) acc.set_option(asio::ip::v6_only(!wildcard), ec);
      acc.bind(ep, ec);
      if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
      if (ec) return unexpected(std::error_code(ec.value(), std::generic_category()));
      port = acc.local_endpoint().port();  // the ephemeral port, shared by every local address
      auto le = acc.local_endpoint();
      bound_.push_back(TransportAddress{detail::from_asio(le.address()), le.port()});
      acceptors_.push_back(std::move(acc));
    }
    port_ = port;
    for (std::size_t i = 0; i < acceptors_.size(); ++i) accept_next(i);
    logger()->info("{}: TCP mapping listening on {}", name(), detail::describe(bound_));
    return {};
  }

  TransportKind kind() const noexcept override { return TransportKind::tcp; }
  std::uint16_t port() const noexcept override { return port_; }
  std::vector<TransportAddress> local_addresses() const override { return bound_; }
  TransportCounters& counters() noexcept override { return *counters_; }
  void close() override {
    error_code ec;
    closed_ = true;
    retry_.cancel();
    for (auto& a : acceptors_) a.close(ec);
  }

 private:
  std::string name() const { return cfg_.name.empty() ? "tcp" : cfg_.name; }

  void accept_next(std::size_t i) {
    acceptors_[i].async_accept([self = shared_from_this(), i](error_code ec, asio::ip::tcp::socket s) {
      if (self->closed_ || ec == asio::error::operation_aborted) return;
      if (ec) {
        accept_failed(*self->counters_, self->name(), ec.message());
        self->retry_.expires_after(kAcceptRetry);
        self->retry_.async_wait([self, i](error_code e) {
          if (!e && !self->closed_) self->accept_next(i);
        });
        return;
      }
      self->accepted(std::move(s));
      self->accept_next(i);
    });
  }

  void accepted(asio::ip::tcp::socket s) {
    ++counters_->associations_accepted;
    AssociationInfo info;
    info.kind = TransportKind::tcp;
    error_code ec;
    if (auto le = s.local_endpoint(ec); !ec) info.local = {TransportAddress{detail::from_asio(le.address()), le.port()}};
    if (auto re = s.remote_endpoint(ec); !ec) info.remote = {TransportAddress{detail::from_asio(re.address()), re.port()}};
    auto refuse = [&s] {
      error_code e;
      s.set_option(asio::socket_base::linger(true, 0), e);  // RST
      s.close(e);
    };
    if (!admitted(cfg_, *counters_, info, name())) return refuse();
    auto assoc = std::make_shared<detail::TcpAssociation>(io_, cfg_, counters_, nullptr);
    assoc->preset_info(std::move(info));
    auto handler = on_accept_ ? on_accept_(assoc) : nullptr;
    if (!handler) return refuse();
    assoc->set_handler(std::move(handler));
    assoc->start_accepted(std::move(s));
  }

  asio::io_context& io_;
  EndpointConfig cfg_;
  AcceptHandler on_accept_;
  std::shared_ptr<TransportCounters> counters_;
  std::vector<asio::ip::tcp::acceptor> acceptors_;
  std::vector<TransportAddress> bound_;
  asio::steady_timer retry_;
  std::uint16_t port_ = 0;
  bool closed_ = false;
};

class SctpListener final : public Listener, public std::enable_shared_from_this<SctpListener> {
 public:
  SctpListener(asio::io_context& io, EndpointConfig cfg, AcceptHandler on_accept)
      : io_(io), cfg_(std::move(cfg)), on_accept_(std::move(on_accept)), sd_(io), retry_(io) {
    counters_ = counters_of(cfg_);
  }

  Result<void, std::error_code> open() {
    const int family = detail::sctp_family_for(cfg_.local_addresses, {});
    auto fd = detail::open_sctp_socket(cfg_, family);
    if (!fd) return unexpected(fd.error());
    if (::listen(fd->get(), SOMAXCONN) != 0) return unexpected(std::error_code(errno, std::generic_category()));
    bound_ = detail::sctp_local_addresses(fd->get());
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd->get(), reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      if (auto ta = detail::from_sockaddr(reinterpret_cast<sockaddr*>(&ss))) port_ = ta->port;
    }
    sd_.assign(fd->release());
    wait_accept();
    logger()->info("{}: SCTP listening on {} port {}", name(), detail::describe(bound_), port_);
    return {};
  }

  TransportKind kind() const noexcept override { return TransportKind::sctp; }
  std::uint16_t port() const noexcept override { return port_; }
  std::vector<TransportAddress> local_addresses() const override { return bound_; }
  TransportCounters& counters() noexcept override { return *counters_; }
  void close() override {
    error_code ec;
    closed_ = true;
    retry_.cancel();
    sd_.close(ec);
  }

 private:
  std::string name() const { return cfg_.name.empty() ? "sctp" : cfg_.name; }

  void wait_accept() {
    sd_.async_wait(asio::posix::descriptor_base::wait_read, [self = shared_from_this()](error_code ec) {
      if (ec || self->closed_) return;
      self->accept_ready();
    });
  }

  void accept_ready() {
    for (;;) {
      const int fd = ::accept4(sd_.native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        accept_failed(*counters_, name(), std::generic_category().message(errno));
        retry_.expires_after(kAcceptRetry);
        retry_.async_wait([self = shared_from_this()](error_code e) {
          if (!e && !self->closed_) self->wait_accept();
        });
        return;
      }
      detail::UniqueFd owned(fd);
      ++counters_->associations_accepted;
      AssociationInfo info = sctp_accepted_info(owned.get());
      auto refuse = [&owned] {
        ::linger lg{1, 0};
        ::setsockopt(owned.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      };  // then owned closes: ABORT
      if (!admitted(cfg_, *counters_, info, name())) {
        refuse();
        continue;
      }
      auto assoc = std::make_shared<detail::SctpAssociation>(io_, cfg_, counters_, nullptr);
      assoc->preset_info(std::move(info));
      auto handler = on_accept_ ? on_accept_(assoc) : nullptr;
      if (!handler) {
        refuse();
        continue;
      }
      assoc->set_handler(std::move(handler));
      assoc->start_accepted(std::move(owned));
    }
    wait_accept();
  }

  asio::io_context& io_;
  EndpointConfig cfg_;
  AcceptHandler on_accept_;
  std::shared_ptr<TransportCounters> counters_;
  asio::posix::stream_descriptor sd_;
  asio::steady_timer retry_;
  std::vector<TransportAddress> bound_;
  std::uint16_t port_ = 0;
  bool closed_ = false;
};

}  // namespace

Result<std::shared_ptr<Association>, std::error_code> connect(asio::io_context& io, EndpointConfig config,
                                                               std::shared_ptr<AssociationHandler> handler) {
  if (config.remote_addresses.empty() || config.remote_port == 0) return unexpected(errc(std::errc::invalid_argument));
  const TransportKind kind = resolve_kind(config.kind);
  if (kind == TransportKind::sctp) {
    if (!kernel_sctp_available()) return unexpected(errc(std::errc::protocol_not_supported));
    return connect_sctp(io, config, std::move(handler));
  }
  return connect_tcp(io, config, std::move(handler));
}

Result<std::shared_ptr<Listener>, std::error_code> Listener::open(asio::io_context& io, EndpointConfig config,
                                                                  AcceptHandler on_accept) {
  const TransportKind kind = resolve_kind(config.kind);
  if (kind == TransportKind::sctp) {
    if (!kernel_sctp_available()) return unexpected(errc(std::errc::protocol_not_supported));
    auto l = std::make_shared<SctpListener>(io, std::move(config), std::move(on_accept));
    if (auto r = l->open(); !r) return unexpected(r.error());
    return std::shared_ptr<Listener>(l);
  }
  auto l = std::make_shared<TcpListener>(io, std::move(config), std::move(on_accept));
  if (auto r = l->open(); !r) return unexpected(r.error());
  return std::shared_ptr<Listener>(l);
}

}  // namespace rserpool::transport
