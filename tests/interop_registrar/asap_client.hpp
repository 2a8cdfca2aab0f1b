#pragma once
// Minimal ASAP clients for registrar tests, on the project's transport and
// codec: a PE-side client that registers many PEs over one association and
// answers keep-alives, and handle resolution. Everything runs on the test's
// io_context (the test drives it with run_until), so no locking.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "rserpool/transport/endpoint.hpp"
#include "rserpool/wire/asap.hpp"

namespace regtest {

using namespace std::chrono_literals;
namespace tr = rserpool::transport;
namespace asap = rserpool::wire::asap;

// Runs the io_context until `done()` or the timeout; true when done.
bool run_until(boost::asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds timeout);

class AsapClient : public tr::AssociationHandler, public std::enable_shared_from_this<AsapClient> {
 public:
  static std::shared_ptr<AsapClient> connect(boost::asio::io_context& io, tr::TransportKind kind,
                                             const rserpool::TransportAddress& registrar);
  bool up() const noexcept { return up_; }
  bool down() const noexcept { return down_; }
  void close();

  // Sends one REGISTRATION per id for `pool` (user transport SCTP,
  // `address`:port). Responses land in registered()/rejected().
  void register_pes(const rserpool::PoolHandle& pool, const std::vector<rserpool::PeIdentifier>& ids,
                    const rserpool::IpAddress& address, std::uint16_t first_port);
  const std::set<rserpool::PeIdentifier>& registered() const noexcept { return registered_; }
  const std::set<rserpool::PeIdentifier>& rejected() const noexcept { return rejected_; }
  std::size_t keep_alives() const noexcept { return keep_alives_; }

  // Sends one HANDLE_RESOLUTION; the answer (ids, empty on a negative one)
  // arrives in last_resolution() (reset by this call).
  void resolve(const rserpool::PoolHandle& pool, std::uint32_t items);
  const std::optional<std::set<rserpool::PeIdentifier>>& last_resolution() const noexcept { return resolution_; }
  std::optional<rserpool::ServerIdentifier> home_of_last(rserpool::PeIdentifier id) const;

  void on_up(tr::Association&, const tr::AssociationInfo&) override { up_ = true; }
  void on_message(tr::Association&, tr::Message&& msg) override;
  void on_down(tr::Association&, tr::DownReason) override {
    up_ = false;
    down_ = true;
  }

 private:
  std::shared_ptr<tr::Association> assoc_;
  bool up_ = false;
  bool down_ = false;
  std::set<rserpool::PeIdentifier> registered_, rejected_;
  std::optional<std::set<rserpool::PeIdentifier>> resolution_;
  std::map<rserpool::PeIdentifier, rserpool::ServerIdentifier> homes_;
  std::size_t keep_alives_ = 0;
};

// Resolves `pool` at `registrar` on a fresh association; the PE ids, or
// nullopt when the registrar did not answer in time.
std::optional<std::set<rserpool::PeIdentifier>> resolve_once(boost::asio::io_context& io, tr::TransportKind kind,
                                                             const rserpool::TransportAddress& registrar,
                                                             const rserpool::PoolHandle& pool, std::uint32_t items,
                                                             std::chrono::milliseconds timeout = 3s);

}  // namespace regtest
