#pragma once
// The attacker of the sgd attack tests: associations opened from the test
// process with our own transport (the TCP mapping on the host, kernel SCTP
// in UML, as SG_TEST_TRANSPORT says), bound to a chosen local address so
// that sgd sees a configured peer's address or a stranger's. Each
// association keeps what it received, decoded as M3UA or ASAP; the test
// drives the io_context between its steps (run_for / run_until), so no
// thread of the attacker races the assertions.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mxua/messages.hpp"
#include "rserpool/transport/endpoint.hpp"

namespace attack {

using namespace std::chrono_literals;
namespace tr = rserpool::transport;

inline constexpr std::uint32_t kPpidM3ua = 3;
inline constexpr std::uint32_t kPpidAsap = 11;

// One association and what came back on it.
struct Link : tr::AssociationHandler {
  bool up = false;
  bool down = false;
  std::vector<tr::Message> received;
  void on_up(tr::Association&, const tr::AssociationInfo&) override { up = true; }
  void on_message(tr::Association&, tr::Message&& m) override { received.push_back(std::move(m)); }
  void on_down(tr::Association&, tr::DownReason) override { down = true; }

  std::shared_ptr<tr::Association> association;
  bool send(std::uint32_t ppid, std::uint16_t stream, rserpool::Bytes payload);
  // M3UA messages received so far that decode (undecodable ones skipped).
  std::vector<mxua::Message> m3ua() const;
  // M3UA ERR received so far with this code.
  std::size_t m3ua_errors(mxua::ErrorCode code) const;
  std::size_t m3ua_errors() const;
  // ASAP_ERROR messages received so far (type 0x0b of RFC 5352).
  std::size_t asap_errors() const;
};

class Attacker {
 public:
  // `local_ip`: the source address sgd sees.
  explicit Attacker(std::string local_ip);
  ~Attacker();
  Attacker(const Attacker&) = delete;
  Attacker& operator=(const Attacker&) = delete;

  // Starts an association to remote_ip:port; nullptr when the socket could
  // not even be created (bind failure). Its outcome arrives while the loop runs.
  std::shared_ptr<Link> connect(const std::string& remote_ip, std::uint16_t port, bool wait_up = true);
  // Runs the loop for `d` or until `pred` holds.
  void run_for(std::chrono::milliseconds d);
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout);
  void close_all();
  std::vector<std::shared_ptr<Link>>& links() { return links_; }
  std::size_t up_count() const;
  std::size_t link_count() const noexcept { return links_.size(); }

 private:
  std::string local_ip_;
  boost::asio::io_context io_;
  std::vector<std::shared_ptr<Link>> links_;
};

// M3UA helpers.
rserpool::Bytes m3ua(const mxua::Message& m);
rserpool::Bytes m3ua_data(std::uint32_t rc, std::uint32_t opc, std::uint32_t dpc, std::uint8_t si, std::uint8_t sls,
                          rserpool::Bytes user_data);
// The n-th of a rotation of malformed M3UA messages, each of which has an
// ERR prescribed by RFC 4666 (3.8.1): wrong version, unknown class, unknown
// type in a known class, a parameter that overruns the message.
rserpool::Bytes bad_m3ua(std::size_t n);
// An ASAP message a registrar cannot decode: an unknown type with the
// "report" bits (RFC 5352 3.1: answered with ASAP_ERROR), or a parameter
// that overruns the message.
rserpool::Bytes bad_asap(std::size_t n);

// Resources of a process from /proc: resident memory (KiB), open descriptors.
long rss_kib(int pid);
long open_fds(int pid);
std::size_t line_count(const std::string& path);

}  // namespace attack
