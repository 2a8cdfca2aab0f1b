#pragma once
// Enhanced-mode pool-element side on Boost.Asio: accepts pool-user
// associations on the PE's user transport, delivers user data, and speaks
// the ASAP control channel (PPID 11) on the same association: sends
// ASAP_COOKIE (SET_COOKIE) and ASAP_BUSINESS_CARD, turns ASAP_COOKIE_ECHO
// into a cookie indication. Undecodable control messages get the ASAP_ERROR
// reply the codec prescribes and are counted.
//
// Threading: as PoolElementService.
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <system_error>
#include <vector>

#include "rserpool/base/result.hpp"
#include "rserpool/transport/config.hpp"
#include "rserpool/transport/message.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool::asap {

using PuId = std::uint32_t;  // one accepted pool-user association

struct PeSessionServerCounters {
  std::uint64_t associations = 0;
  std::uint64_t data_received = 0;
  std::uint64_t data_sent = 0;
  std::uint64_t cookie_echoes = 0;
  std::uint64_t decode_errors = 0;
};

class PeSessionServer {
 public:
  // Listens with `listen` (local addresses, port 0 = ephemeral, kind).
  static Result<std::unique_ptr<PeSessionServer>, std::error_code> open(boost::asio::io_context& io,
                                                                        transport::EndpointConfig listen,
                                                                        PoolHandle pool);
  // Closes the listener and every PU association (graceful).
  ~PeSessionServer();
  PeSessionServer(const PeSessionServer&) = delete;
  PeSessionServer& operator=(const PeSessionServer&) = delete;

  void on_pu_up(std::function<void(PuId)> h);
  void on_pu_down(std::function<void(PuId)> h);
  // User data (any PPID but 11).
  void on_data(std::function<void(PuId, transport::Message&&)> h);
  // ASAP_COOKIE_ECHO: the PU failed over to us with this cookie.
  void on_cookie_echo(std::function<void(PuId, const Bytes&)> h);

  bool send(PuId pu, transport::Message msg);
  bool set_cookie(PuId pu, Bytes cookie);
  bool send_business_card(PuId pu, std::vector<PoolElementParameter> order);
  void close_pu(PuId pu);

  // Ends everything now: closes the listener; abort (SCTP ABORT / TCP
  // reset) or graceful close of each PU association.
  void shutdown(bool abort);

  // The transport to register: kind, bound port and the listener's
  // addresses (`advertised` replaces wildcard / loopback choices).
  TransportParameter user_transport(std::vector<IpAddress> advertised = {}) const;
  std::uint16_t port() const;
  transport::TransportKind kind() const;
  const PeSessionServerCounters& counters() const;

  struct Impl;
  explicit PeSessionServer(std::shared_ptr<Impl> impl);

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace rserpool::asap
