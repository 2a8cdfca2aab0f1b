#include "mxua/driver/asp_connection.hpp"

#include <algorithm>

#include <boost/asio/ip/udp.hpp>

#include "rserpool/base/log.hpp"

namespace mxua::driver {
namespace {

const std::shared_ptr<spdlog::logger>& asp_connection_log() {
  static const auto l = rserpool::log::get("m3ua");
  return l;
}

// The source address the kernel would use towards `remote` (a UDP socket's
// connect() chooses it and sends nothing).
std::optional<rserpool::IpAddress> routed_source(boost::asio::io_context& io, const rserpool::IpAddress& remote) {
  boost::system::error_code ec;
  const auto to = boost::asio::ip::make_address(remote.to_string(), ec);
  if (ec) return std::nullopt;
  boost::asio::ip::udp::socket s(io);
  s.open(to.is_v4() ? boost::asio::ip::udp::v4() : boost::asio::ip::udp::v6(), ec);
  if (ec) return std::nullopt;
  s.connect(boost::asio::ip::udp::endpoint(to, 9), ec);
  if (ec) return std::nullopt;
  const auto local = s.local_endpoint(ec);
  if (ec) return std::nullopt;
  return rserpool::IpAddress::parse(local.address().to_string());
}

}  // namespace

AspConnection::AspConnection(Key, boost::asio::io_context& io, AspConnectionConfig cfg, Events& user)
    : io_(io), cfg_(std::move(cfg)), user_(user), retry_(io), backoff_(cfg_.reconnect_initial) {}

std::shared_ptr<AspConnection> AspConnection::create(boost::asio::io_context& io, AspConnectionConfig cfg,
                                                     Events& user) {
  cfg.transport.out_streams = std::max<std::uint16_t>(cfg.transport.out_streams, 2);
  cfg.transport.in_streams = std::max<std::uint16_t>(cfg.transport.in_streams, 2);
  if (cfg.transport.name.empty()) cfg.transport.name = "m3ua-asp";
  // With RKM the ASPACs wait for the RCs the SGP assigns.
  if (!cfg.registrations.empty()) cfg.asp.auto_activate = false;
  cfg.asp.outbound_streams = std::max<std::uint16_t>(cfg.asp.outbound_streams, 2);
  auto c = std::make_shared<AspConnection>(Key{}, io, std::move(cfg), user);
  c->driver_ = AssociationDriver::standalone(io, Endpoint::asp(c->cfg_.asp), *c, c->cfg_.transport.name);
  return c;
}

AspConnection::~AspConnection() {
  running_ = false;
  retry_.cancel();
  if (auto a = driver_ ? driver_->association() : nullptr) {
    a->set_handler(nullptr);
    a->abort();
  }
}

std::string AspConnection::remote_text() const {
  std::string t;
  for (const auto& a : cfg_.transport.remote_addresses)
    t += (t.empty() ? "" : ",") + rserpool::TransportAddress{a, cfg_.transport.remote_port}.to_string();
  return t.empty() ? std::string("?") : t;
}

void AspConnection::start() {
  if (running_) return;
  running_ = true;
  connect();
}

void AspConnection::stop() {
  running_ = false;
  retry_.cancel();
  if (auto a = driver_->association()) a->abort();
}

void AspConnection::connect() {
  ++connects_;
  tr::EndpointConfig transport = cfg_.transport;
  if (transport.local_addresses.empty() && cfg_.bind_routed_source && !transport.remote_addresses.empty())
    if (auto src = routed_source(io_, transport.remote_addresses.front())) transport.local_addresses = {*src};
  auto a = tr::connect(io_, std::move(transport), driver_);
  if (!a) {
    rserpool::log::warn_limited(asp_connection_log(), "M3UA connect failed", "ASP {} ({}): connect: {}", cfg_.transport.name,
                                remote_text(), a.error().message());
    schedule_reconnect();
  }
}

void AspConnection::schedule_reconnect() {
  if (!running_ || !cfg_.reconnect) return;
  retry_.expires_after(backoff_);
  asp_connection_log()->info("ASP {} ({}): reconnecting in {} ms", cfg_.transport.name, remote_text(), rserpool::to_millis(backoff_));
  backoff_ = std::min(backoff_ * 2, cfg_.reconnect_max);
  retry_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || !self->running_) return;
    self->connect();
  });
}

bool AspConnection::send_data(const DataView& d) {
  Bytes none;
  return send_data(d, none);
}

bool AspConnection::send_data(const DataView& d, Bytes& user_part) {
  AspClient& c = client();
  const bool ok = c.active_for(d.routing_context);
  Actions acts = std::move(scratch_);
  acts.clear();
  c.send_data(d, acts);
  driver_->runner().run(acts, user_part);
  scratch_ = std::move(acts);
  return ok;
}

void AspConnection::request(const std::function<Actions(AspClient&, TimePoint)>& fn) {
  driver_->request([&](Endpoint& e, TimePoint now) { return fn(*e.requesting(), now); });
}

AspState AspConnection::state() const { return driver_->endpoint().requesting()->state(); }

bool AspConnection::active_for(std::optional<std::uint32_t> rc) const {
  return driver_->endpoint().requesting()->active_for(rc);
}

void AspConnection::on_association_up(AssocId a, const tr::AssociationInfo& i) {
  registered_.clear();
  user_.on_association_up(a, i);
}

void AspConnection::on_association_down(AssocId a, tr::DownReason r) {
  registered_.clear();
  user_.on_association_down(a, r);
  schedule_reconnect();
}

void AspConnection::on_asp_state(const AspStateChanged& c) {
  if (!c.routing_context && c.to == AspState::Inactive && c.from == AspState::Down && !cfg_.registrations.empty()) {
    driver_->request([&](Endpoint& e, TimePoint now) { return e.requesting()->register_keys(cfg_.registrations, now); });
  }
  if (c.to == AspState::Active) backoff_ = cfg_.reconnect_initial;
  user_.on_asp_state(c);
}

void AspConnection::on_registration(const RegistrationIndication& r) {
  user_.on_registration(r);
  if (r.result.status != RegistrationStatus::Success) {
    rserpool::log::warn_limited(asp_connection_log(), "M3UA registration refused",
                                "ASP {} ({}): registration of local key {} refused: {} ({})", cfg_.transport.name,
                                remote_text(), r.result.local_rk_id, to_string(r.result.status),
                                static_cast<std::uint32_t>(r.result.status));
    return;
  }
  const std::uint32_t rc = r.result.routing_context;
  registered_.push_back(rc);
  std::optional<TrafficMode> mode = TrafficMode::Loadshare;
  for (const auto& k : cfg_.registrations)
    if (k.local_rk_id == r.result.local_rk_id && k.traffic_mode) mode = k.traffic_mode;
  driver_->request([&](Endpoint& e, TimePoint now) { return e.requesting()->activate(AspActivation{{rc}, mode}, now); });
}

}  // namespace mxua::driver
