#pragma once
// Internals shared by PoolUserService and PoolSession: the service owns the
// PoolUser core and executes every action, including those a Session core
// emits (they name the session by SessionId). One OS timer per core: the
// PoolUser's here, each Session's in its PoolSession::Impl; every step
// re-arms the PoolUser's and those of the sessions it touched.
#include <boost/asio/io_context.hpp>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "registrar_links.hpp"
#include "rserpool/asap/service/pool_user_service.hpp"
#include "rserpool/asap/session.hpp"
#include "rserpool/transport/association.hpp"
#include "rserpool/transport/deadline_timer.hpp"

namespace rserpool::asap {

struct PoolUserService::Impl : std::enable_shared_from_this<Impl> {
  Impl(boost::asio::io_context& io, PoolUserConfig pu, RegistrarAccess access, const Clock& clock);

  template <class F>
  void step(F&& f) {
    if (closed) return;
    auto self = shared_from_this();
    Actions out;
    f(out);
    run(out);
    rearm();
  }
  void run(Actions& out);
  // The PoolUser's timer and those of the sessions touched since the last
  // call, each at its core's next deadline.
  void rearm();
  void shutdown();

  // Notifications for a pool, fanned out to handlers, watchers, sessions.
  void pool_resolved(const PoolHandle& pool, bool pushed);
  void pool_failed(const ResolutionFailed& f);
  void notify_watcher(const PoolHandle& pool);
  // The session an action names (marked for re-arming), if it is alive.
  std::shared_ptr<PoolSession::Impl> session(SessionId id);

  template <class T>
  void execute(T& a);

  boost::asio::io_context& io;
  const Clock& clock;
  PoolUser core;
  std::string name = "pu";
  transport::DeadlineTimer timer;
  service_detail::RegistrarLinks links;
  PoolUserServiceCounters counters;
  std::vector<SessionId> touched;

  struct Watch {
    WatchHandler cb;
    std::optional<PeList> last;  // what cb saw last
  };
  std::map<PoolHandle, std::vector<ResolveHandler>> resolving;
  std::map<PoolHandle, std::vector<ServerHandler>> awaiting_server;
  std::map<PoolHandle, Watch> watches;
  // Pools whose last resolution failed, and why: a watched empty pool fails
  // every refresh, so only a change of state is worth an info line.
  // Keyed by the handle's text: rare, and GCC 12 warns (-Wstringop-overread)
  // on a second PoolHandle-keyed map inlined here.
  std::map<std::string, ResolutionFailure, std::less<>> failing;
  std::map<SessionId, std::weak_ptr<PoolSession::Impl>> sessions;
  SessionId next_session = 1;
  bool closed = false;
};

struct PoolSession::Impl : std::enable_shared_from_this<PoolSession::Impl> {
  Impl(std::shared_ptr<PoolUserService::Impl> svc, SessionConfig cfg, SessionOptions options);

  // Runs a Session core event through the service's executor (which
  // re-arms this session's timer afterwards).
  template <class F>
  bool step(F&& f) {
    auto svc = service.lock();
    if (!svc || svc->closed || closed) return false;
    auto self = shared_from_this();
    bool accepted = false;
    svc->touched.push_back(core.id());
    svc->step([&](Actions& out) { accepted = f(out); });
    return accepted;
  }
  void rearm() {
    if (!closed) timer.arm(core.next_deadline());
  }

  // Actions addressed to this session.
  void connect_pe(const PoolElementParameter& pe);
  void disconnect_pe();
  void abort_pe(const AbortPe& a);
  void send_control(const wire::asap::Message& m);
  void send_data(Bytes&& data, bool pass_through = false);
  // Pass-through channels (DATA_SEND by transport address).
  void connect_address(ChannelId channel, const TransportParameter& address);
  void send_to_address(ChannelId channel, Bytes&& data);
  void disconnect_address(ChannelId channel);
  void close_addresses();

  // Association events (the handler checks it is the current one).
  void on_up(std::uint64_t gen);
  void on_message(std::uint64_t gen, transport::Message&& m);
  void on_send_failed(std::uint64_t gen, std::vector<transport::Message>&& unsent);
  void on_down(std::uint64_t gen, transport::DownReason reason);
  void on_address_up(ChannelId channel, std::uint64_t gen);
  void on_address_message(ChannelId channel, std::uint64_t gen, transport::Message&& m);
  void on_address_send_failed(ChannelId channel, std::uint64_t gen, std::size_t count);
  void on_address_down(ChannelId channel, std::uint64_t gen, transport::DownReason reason);

  void shutdown();

  std::weak_ptr<PoolUserService::Impl> service;
  PoolHandle pool;
  Session core;
  transport::DeadlineTimer timer;
  SessionOptions options;
  PoolSessionCounters counters;
  std::shared_ptr<transport::Association> assoc;
  std::optional<PoolElementParameter> pe;  // the PE `assoc` goes to
  std::uint64_t generation = 0;
  bool up = false;
  std::vector<Bytes> handed_back;  // data the current association gave back
  // send_pass_through() data on the current association must not be
  // re-sent: the transport hands back a suffix of what was sent, so the
  // positions (in data messages sent on this association) identify it.
  std::uint64_t data_on_assoc = 0;
  std::deque<std::uint64_t> pass_through_positions;
  bool closed = false;

  struct AddressLink {
    std::shared_ptr<transport::Association> assoc;
    std::uint64_t generation = 0;
    bool up = false;
    std::size_t undelivered = 0;  // handed back by the transport
  };
  std::map<ChannelId, AddressLink> address_links;
  std::uint64_t next_address_generation = 1;

  std::function<void(PeIdentifier, transport::Message&&)> on_data;
  std::function<void(const FailoverCallback&)> on_failover;
  std::function<void(const FailoverIndication&)> on_failover_done;
  std::function<void()> on_stalled;
  std::function<void(const BusinessCardReceived&)> on_business_card;
  std::function<void(const PoolElementParameter&)> on_established;
  std::function<void(const TransportParameter&, transport::Message&&)> on_pass_through_data;
  std::function<void(const PassThroughFailed&)> on_pass_through_failed;
};

}  // namespace rserpool::asap
