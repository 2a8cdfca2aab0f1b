#pragma once
// In-process pieces around a Gateway for the sgd tests: gateway
// controllers (pool-element side of the gwc_link profile, registered through
// PoolElementService), an SS7 peer (ASP towards the gateway's SGP), ISUP
// builders and bounded event-loop helpers. Same source over the TCP
// mapping (host) and kernel SCTP (UML): SG_TEST_TRANSPORT=sctp.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "event_loop.hpp"
#include "mxua/driver/asp_connection.hpp"
#include "mxua/driver/association_driver.hpp"
#include "rserpool/asap/service/endpoint_mapping.hpp"
#include "rserpool/asap/service/pool_element_service.hpp"
#include "rserpool/transport/endpoint.hpp"
#include "rserpool/wire/asap.hpp"
#include "sg/config/sg_config.hpp"
#include "sg/gateway/gateway.hpp"
#include "sg/gwc_link/profile.hpp"
#include "sg/routing/flow.hpp"
#include "sg/ss7/isup.hpp"

namespace sgdtest {

namespace tr = rserpool::transport;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using sgtest::backend;
using sgtest::run_for;
using sgtest::run_until;
using sgtest::sctp_backend;
inline rserpool::IpAddress ip(const char* text) { return *rserpool::IpAddress::parse(text); }
inline rserpool::IpAddress loopback() { return ip("127.0.0.1"); }

inline constexpr std::uint32_t kGatewayPc = 0x0B9;  // 0.23.1 (ITU 3-8-3)
inline constexpr std::uint32_t kSs7PeerPc = 0x0A1;  // 0.20.1
inline constexpr std::uint32_t kPeerRc = 100;


// Everything on loopback, ephemeral ports, co-located registrar, aggressive
// timers, one pool "gwc" for ISUP and SCCP to 0.23.1.
inline sg::SgConfig test_config(std::chrono::milliseconds pool_wait = 2000ms) {
  sg::SgConfig c;
  c.point_code = mxua::PointCode{kGatewayPc};
  c.transport = sctp_backend() ? sg::TransportChoice::sctp : sg::TransportChoice::tcp;
  c.timers = sg::TimerProfile::aggressive;
  c.ss7.listen_ips = {loopback()};
  c.ss7.listen_port = 0;
  c.ss7.peers.push_back(sg::Ss7Peer{"ss7-gen", {loopback()}, kPeerRc});
  sg::ColocatedRegistrar co;
  co.asap_ips = {loopback()};
  co.asap_port = 0;
  co.enrp_ips = {loopback()};
  co.enrp_port = 0;
  co.server_id = 0x5347;
  c.registrar.colocated = co;
  auto& pool = c.pool("gwc");
  pool.distributor.pool_wait = pool_wait;
  pool.distributor.drain_deadline = 30s;
  for (const auto& [name, si] : {std::pair{"isup", 5}, std::pair{"sccp", 3}}) {
    auto& r = c.route(name);
    r.key.dpc = sg::PointCodeMatch{kGatewayPc, 0};
    r.key.service_indicators.set(static_cast<std::size_t>(si));
    r.has_dpc = true;
    r.pool = "gwc";
  }
  return c;
}

inline std::optional<std::uint16_t> cic_of(const sg::MtpMessage& m) { return sg::classify(m).cic; }

// ISUP from the SS7 peer to the gateway's point code.
inline mxua::Data isup(rserpool::Bytes payload, std::uint16_t cic, std::optional<std::uint32_t> rc = kPeerRc) {
  mxua::Data d;
  d.routing_context = rc;
  auto& p = d.protocol_data;
  p.opc = mxua::PointCode{kSs7PeerPc};
  p.dpc = mxua::PointCode{kGatewayPc};
  p.si = sg::kSiIsup;
  p.ni = 2;
  p.sls = static_cast<std::uint8_t>(cic & 0x0F);
  p.user_data = std::move(payload);
  return d;
}

inline mxua::DataView view_of(const mxua::Data& d) {
  const auto& p = d.protocol_data;
  mxua::DataView v;
  v.routing_context = d.routing_context;
  v.protocol_data = mxua::ProtocolDataView{p.opc, p.dpc, p.si, p.ni, p.mp, p.sls,
                                           rserpool::ByteView(p.user_data.data(), p.user_data.size())};
  return v;
}

// What a test gateway controller saw, in arrival order.
struct PeEvent {
  std::uint16_t stream = 0;        // the SCTP stream (a label on the TCP mapping)
  bool cookie_echo = false;
  rserpool::Bytes cookie;          // cookie_echo
  std::optional<std::uint16_t> cic;  // data
  sg::MtpMessage message;          // data
};

// A gateway controller: accepts the gateway's association on a listener
// (M3UA IPSP responder + ASAP control channel), registered in pool "gwc".
class TestPe : public mxua::driver::Events {
  // Sits between the association and the M3UA driver to note the stream of
  // each message before the driver (or the control handler) sees it.
  struct StreamTap : tr::AssociationHandler {
    StreamTap(TestPe& o, std::shared_ptr<mxua::driver::AssociationDriver> d) : owner(o), driver(std::move(d)) {}
    void on_up(tr::Association& a, const tr::AssociationInfo& i) override { driver->on_up(a, i); }
    void on_message(tr::Association& a, tr::Message&& m) override {
      owner.stream_ = m.stream;
      driver->on_message(a, std::move(m));
    }
    void on_restart(tr::Association& a, const tr::AssociationInfo& i) override { driver->on_restart(a, i); }
    void on_send_failed(tr::Association& a, std::vector<tr::Message>&& u) override {
      driver->on_send_failed(a, std::move(u));
    }
    void on_down(tr::Association& a, tr::DownReason r) override { driver->on_down(a, r); }
    TestPe& owner;
    std::shared_ptr<mxua::driver::AssociationDriver> driver;
  };

 public:
  TestPe(boost::asio::io_context& io, rserpool::TransportAddress registrar, rserpool::PeIdentifier id,
         rserpool::PolicyParameters policy = {})
      : io_(io), registrars_{registrar}, id_(id), policy_(policy) {}
  // Registered with the first registrar of the list that answers (the hunt
  // order), like a controller of a mated pair that knows both registrars.
  TestPe(boost::asio::io_context& io, std::vector<rserpool::TransportAddress> registrars, rserpool::PeIdentifier id,
         rserpool::PolicyParameters policy = {})
      : io_(io), registrars_(std::move(registrars)), id_(id), policy_(policy) {}
  ~TestPe() override { detach(); }

  void start() {
    tr::EndpointConfig ec;
    ec.local_addresses = {loopback()};
    ec.local_port = 0;
    ec.kind = backend();
    ec.tcp = tr::TcpMappingOptions::aggressive();
    ec.sctp = tr::SctpOptions::aggressive();
    ec.name = "test-pe";
    auto l = tr::Listener::open(io_, ec, [this](const std::shared_ptr<tr::Association>&) {
      auto d = mxua::driver::AssociationDriver::standalone(
          io_, mxua::Endpoint::ipsp(sg::gwc_link::pool_element_side()), *this);
      d->set_other_ppid_handler([this](tr::Message&& m) { on_control(std::move(m)); });
      driver_ = d;
      drivers_.push_back(d);  // a PE of a pair is associated with each gateway
      ++accepts;
      return std::static_pointer_cast<tr::AssociationHandler>(std::make_shared<StreamTap>(*this, d));
    });
    if (!l) throw std::runtime_error("listener: " + l.error().message());
    listener_ = *l;
    rserpool::asap::PoolElementConfig pc;
    pc.pool = rserpool::PoolHandle("gwc");
    pc.pe_id = id_;
    pc.user_transport = rserpool::asap::user_transport_for(backend(), {loopback()}, listener_->port());
    pc.policy = policy_;
    pc.registration_life_ms = registration_life_ms;
    rserpool::asap::RegistrarAccess access;
    access.registrars = registrars_;
    access.kind = backend();
    access.aggressive = true;
    service_ = std::make_unique<rserpool::asap::PoolElementService>(io_, pc, access);
    service_->on_registration([this](const rserpool::asap::RegistrationResult& r) {
      if (r.code == rserpool::asap::RegistrationCode::granted) registered = true;
    });
    service_->register_pe();
  }

  // Kills the data association the way a crashed controller does.
  void abort_association() {
    if (auto a = driver_ ? driver_->association() : nullptr) a->abort();
  }
  // Hung but alive: the transport keeps answering its heartbeats, the
  // application reads nothing (M3UA BEAT goes unanswered).
  void hang() {
    if (auto a = driver_ ? driver_->association() : nullptr) a->set_handler(nullptr);
    if (listener_) listener_->close();  // nor does it accept new associations
  }
  // Stopped (SIGSTOP) with its registration alive: its kernel still
  // answers, the process reads nothing on the data association (M3UA BEAT
  // goes unanswered); unlike hang(), it keeps accepting, so the gateway
  // could reconnect to it.
  void freeze() {
    if (auto a = driver_ ? driver_->association() : nullptr) a->set_handler(nullptr);
  }
  // Crashed, but its registration lives on (the registrar still lists it):
  // the association is gone and reconnections are refused.
  void crash_keeping_registration() {
    if (listener_) listener_->close();
    listener_.reset();
    abort_association();
  }
  // Gone for good: no listener, no registration.
  void stop() {
    service_.reset();
    if (listener_) listener_->close();
    listener_.reset();
    abort_association();
  }
  // Before destruction: the driver refers to us, so the association must
  // not notify it any more.
  void detach() {
    for (auto& d : drivers_)
      if (auto a = d->association()) a->set_handler(nullptr);
    stop();
    driver_.reset();
    drivers_.clear();
  }
  bool send_cookie(const std::string& text) {
    auto a = driver_ ? driver_->association() : nullptr;
    if (!a) return false;
    rserpool::wire::asap::Cookie c{rserpool::Bytes(text.begin(), text.end())};
    return a->send(sg::gwc_link::control_message(c)).ok();
  }
  // DATA back towards the SS7 side.
  void send(const mxua::Data& d) {
    if (driver_) driver_->send_data(view_of(d));
  }
  bool active() const { return active_; }
  rserpool::PeIdentifier id() const { return id_; }

  std::vector<PeEvent> events;
  std::size_t data_count = 0;
  std::int32_t registration_life_ms = 10000;  // set before start()
  std::size_t accepts = 0;
  bool registered = false;

  void on_data(mxua::DataIndication&& d) override {
    PeEvent e;
    e.message = sg::MtpMessage{d.data.protocol_data.opc.value, d.data.protocol_data.dpc.value,
                               d.data.protocol_data.si,        d.data.protocol_data.ni,
                               d.data.protocol_data.mp,        d.data.protocol_data.sls,
                               std::move(d.data.protocol_data.user_data)};
    e.cic = cic_of(e.message);
    e.stream = stream_;
    events.push_back(std::move(e));
    ++data_count;
  }
  void on_as_state(const mxua::AsStateChanged& c) override { active_ = c.to == mxua::AsState::Active; }
  void on_association_down(mxua::AssocId, tr::DownReason) override { active_ = false; }

 private:
  void on_control(tr::Message&& m) {
    auto d = rserpool::wire::asap::decode(m.payload);
    if (!d) return;
    if (auto* e = std::get_if<rserpool::wire::asap::CookieEcho>(&d->message)) {
      PeEvent ev;
      ev.stream = m.stream;
      ev.cookie_echo = true;
      ev.cookie = e->cookie;
      events.push_back(std::move(ev));
    }
  }

  boost::asio::io_context& io_;
  std::vector<rserpool::TransportAddress> registrars_;
  rserpool::PeIdentifier id_;
  rserpool::PolicyParameters policy_;
  std::shared_ptr<tr::Listener> listener_;
  std::shared_ptr<mxua::driver::AssociationDriver> driver_;  // the latest association
  std::vector<std::shared_ptr<mxua::driver::AssociationDriver>> drivers_;
  std::unique_ptr<rserpool::asap::PoolElementService> service_;
  bool active_ = false;
  std::uint16_t stream_ = 0;  // of the message being delivered
};

// The SS7 side: an ASP connected to the gateway's SGP with RC 100.
struct Ss7Peer : mxua::driver::Events {
  Ss7Peer(boost::asio::io_context& io, std::uint16_t port) {
    mxua::driver::AspConnectionConfig c;
    c.transport.remote_addresses = {loopback()};
    c.transport.remote_port = port;
    c.transport.kind = backend();
    c.transport.tcp = tr::TcpMappingOptions::aggressive();
    c.transport.sctp = tr::SctpOptions::aggressive();
    c.transport.name = "ss7-peer";
    c.asp.activations = {mxua::AspActivation{{kPeerRc}, mxua::TrafficMode::Loadshare}};
    conn = mxua::driver::AspConnection::create(io, c, *this);
    conn->start();
  }
  ~Ss7Peer() override { conn->stop(); }
  bool active() const { return conn->active_for(kPeerRc); }
  bool send(const mxua::Data& d) { return conn->send_data(view_of(d)); }

  void on_data(mxua::DataIndication&& d) override { received.push_back(std::move(d.data)); }
  void on_destination_state(const mxua::DestinationStateChanged& d) override { destinations.push_back(d); }

  std::shared_ptr<mxua::driver::AspConnection> conn;
  std::vector<mxua::Data> received;
  std::vector<mxua::DestinationStateChanged> destinations;
};

}  // namespace sgdtest
