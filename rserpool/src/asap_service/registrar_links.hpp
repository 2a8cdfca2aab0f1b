#pragma once
// The registrar associations of one ASAP endpoint, by AssocId: opens them
// (PPID 11), decodes what arrives (answering undecodable messages with the
// ASAP_ERROR the codec prescribes), and reports up / connect failure /
// loss / messages to its owner. Notifications from an association the owner
// has already disconnected (or replaced) are dropped.
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rserpool/asap/actions.hpp"
#include "rserpool/asap/service/registrar_access.hpp"
#include "rserpool/transport/association.hpp"
#include "rserpool/wire/asap.hpp"

namespace rserpool::asap::service_detail {

class RegistrarLinks {
 public:
  struct Events {
    std::function<void(AssocId)> connected;
    std::function<void(AssocId)> connect_failed;
    std::function<void(AssocId)> lost;
    std::function<void(AssocId, const wire::asap::Message&)> message;
    std::function<void()> decode_error;
    // An association a registrar opened to us (accept()) came up.
    std::function<void(AssocId)> accepted_up;
  };

  RegistrarLinks(boost::asio::io_context& io, RegistrarAccess access, std::string name, Events events);
  ~RegistrarLinks();
  RegistrarLinks(const RegistrarLinks&) = delete;
  RegistrarLinks& operator=(const RegistrarLinks&) = delete;

  // A connect that fails at once (bad address, no SCTP) is reported as a
  // connect failure from the io_context, never from inside this call.
  void connect(AssocId id, const TransportAddress& address);
  void disconnect(AssocId id);
  // Opens every later registrar association from this local port (and
  // addresses; empty: wildcard) with SO_REUSEPORT, so a listener of ours on
  // the same port is the ASAP transport address registrars record for us.
  void set_local_endpoint(std::vector<IpAddress> addresses, std::uint16_t port);
  // Takes over an association a registrar opened to us (ENRP takeover) as
  // `id`; returns the handler to give the listener. Its loss is reported
  // through `lost` once it was up; it never counts as a connect failure.
  std::shared_ptr<transport::AssociationHandler> accept(AssocId id, std::shared_ptr<transport::Association> assoc);
  std::size_t accepted_count() const noexcept;
  // false when the association is unknown or refused the message.
  bool send(AssocId id, const wire::asap::Message& m);
  void close_all();

  const RegistrarAccess& access() const noexcept { return access_; }

  class Handler;  // per association, in the .cpp

 private:
  struct Link {
    std::shared_ptr<transport::Association> assoc;
    std::uint64_t generation = 0;
    bool up = false;
    bool accepted = false;  // opened by the registrar
    std::optional<TransportAddress> from_port_to;  // opened from local_port_ to this registrar
  };
  void on_up(AssocId id, std::uint64_t gen);
  void on_message(AssocId id, std::uint64_t gen, transport::Message&& m);
  void on_down(AssocId id, std::uint64_t gen);

  boost::asio::io_context& io_;
  RegistrarAccess access_;
  std::string name_;
  Events events_;
  std::map<AssocId, Link> links_;
  std::vector<IpAddress> local_addresses_;
  std::uint16_t local_port_ = 0;
  // TCP mapping: registrars whose last association from local_port_ failed
  // (it may be refused while the previous one's 4-tuple is in TIME_WAIT);
  // the next attempt uses an ephemeral port.
  std::vector<TransportAddress> avoid_port_to_;
  std::uint64_t next_generation_ = 1;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace rserpool::asap::service_detail
