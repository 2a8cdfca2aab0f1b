#pragma once
// Enhanced-mode session, pool-user side (draft-ietf-rserpool-service;
// RFC 5352 3.8-3.9) on Boost.Asio. Created by PoolUserService::open_session.
//
// One association to the serving PE carries user data (options.data_ppid)
// and the ASAP control channel (PPID 11: ASAP_COOKIE, ASAP_COOKIE_ECHO,
// ASAP_BUSINESS_CARD). On a failure (association lost, connect failed) the
// session reports the PE unreachable once, picks the next PE (business card
// order first, else the pool policy), connects and then, in this order:
//   1. COOKIE_ECHO with the newest cookie,
//   2. the failover handler (synchronously: what it sends goes out first),
//   3. every message the transport handed back as unsent, then what was
//      queued meanwhile, oldest first,
//   4. the failover-done handler (FAILOVER_INDICATION).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "rserpool/asap/actions.hpp"
#include "rserpool/asap/pass_through.hpp"
#include "rserpool/base/result.hpp"
#include "rserpool/transport/config.hpp"
#include "rserpool/transport/message.hpp"

namespace rserpool::asap {

struct SessionOptions {
  std::uint32_t data_ppid = 0;     // user PPID (rsplib's echo uses 0)
  std::uint16_t data_stream = 0;
  std::size_t max_queued = 4096;   // held while no PE is connected
  bool aggressive = false;         // aggressive failure detection towards the PE
  // Applied to every PE association after endpoint_for() (timers, names).
  std::function<void(transport::EndpointConfig&)> tune;
  // For request/response services: a PE that answers nothing for this long
  // after data was sent to it is treated as failed (association aborted,
  // failover). Kernel SCTP cannot see a hung PE whose kernel still answers
  // heartbeats; this can. 0 = off.
  std::chrono::milliseconds silence_timeout{0};
  // DATA_SEND by transport address: channels per session, messages held
  // per channel while it connects.
  std::size_t max_pass_through_channels = 8;
  std::size_t max_pass_through_queued = 1024;
};

struct PoolSessionCounters {
  std::uint64_t sent = 0;        // data messages handed to a PE association
  std::uint64_t received = 0;    // data messages from PEs
  std::uint64_t resent = 0;      // handed back by a transport and sent again
  std::uint64_t failovers = 0;   // completed failovers
  std::uint64_t refused = 0;     // send*() returned false
  std::uint64_t silent_pe = 0;   // failures declared by silence_timeout
  // DATA_SEND by transport address (send_to_address) and send_pass_through.
  std::uint64_t pass_through_sent = 0;      // handed to an association
  std::uint64_t pass_through_received = 0;  // data from pass-through channels
  std::uint64_t pass_through_refused = 0;   // send_to_address() errors
  std::uint64_t pass_through_failures = 0;  // channels that failed (PassThroughFailed)
  std::uint64_t pass_through_dropped = 0;   // accepted, not delivered, not re-sent
  std::uint64_t pass_through_ignored = 0;   // ASAP control messages on a pass-through channel
  // How often the session's OS timer was (re-)armed. It moves only earlier
  // (transport::DeadlineTimer): a request/answer exchange, which arms the
  // silence timer and then stops it, leaves this flat (issue 16).
  std::uint64_t timer_rearms = 0;
};

class PoolSession {
 public:
  struct Impl;
  explicit PoolSession(std::shared_ptr<Impl> impl);
  // Closes the association to the PE (graceful).
  ~PoolSession();
  PoolSession(const PoolSession&) = delete;
  PoolSession& operator=(const PoolSession&) = delete;

  // Handlers (set them right after open_session; nothing is delivered
  // before the io_context runs).
  void on_data(std::function<void(PeIdentifier from, transport::Message&& msg)> h);
  void on_failover(std::function<void(const FailoverCallback&)> h);       // step 2 above
  void on_failover_done(std::function<void(const FailoverIndication&)> h);  // step 4 above
  void on_stalled(std::function<void()> h);  // nobody to fail over to; data stays queued
  void on_business_card(std::function<void(const BusinessCardReceived&)> h);
  void on_established(std::function<void(const PoolElementParameter& pe)> h);  // each new PE association up

  // DATA_SEND to the pool (queued while connecting, failover-managed).
  // false: not accepted (queue full, closed).
  bool send(Bytes data);
  // To one PE of the pool (moves the session there, no failover semantics).
  bool send_to(PeIdentifier pe, Bytes data);
  // On the current association only; never queued or re-sent (if the
  // association fails, it is dropped and counted in pass_through_dropped).
  bool send_pass_through(Bytes data);
  // DATA_SEND by transport address (draft-ietf-rserpool-service 4.4,
  // "pass thru"): opens, or reuses, a channel of this session to `address`
  // (SCTP or TCP-mapping transport parameter, like a registered user
  // transport; any host, not only PEs of the pool) and sends user data
  // (options.data_ppid) on it. No failover, no re-send, no effect on the
  // session's PE. Refusals are returned at once; a failure later (refused
  // connection, lost association) calls on_pass_through_failed with what
  // was dropped, and the next send opens a new channel.
  Result<ChannelId, PassThroughError> send_to_address(const TransportParameter& address, Bytes data);
  void close_address(const TransportParameter& address);
  void on_pass_through_data(std::function<void(const TransportParameter& from, transport::Message&& msg)> h);
  void on_pass_through_failed(std::function<void(const PassThroughFailed&)> h);
  void close();

  std::optional<PeIdentifier> current_pe() const;
  bool established() const;
  std::size_t queued() const;
  const PoolSessionCounters& counters() const;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace rserpool::asap
