#pragma once
// What the M3UA driver tells its user (the SG, a test, a load program): the
// indications of the sans-I/O cores plus the transport's view (association
// up/down, DATA handed back). Every callback runs on the io_context thread
// and may call back into the driver (send_data, route, ...).
#include <cstdint>
#include <vector>

#include "mxua/fsm/actions.hpp"
#include "rserpool/transport/association.hpp"

namespace mxua::driver {

namespace tr = rserpool::transport;

class Events {
 public:
  virtual ~Events() = default;
  virtual void on_association_up(AssocId /*assoc*/, const tr::AssociationInfo& /*info*/) {}
  virtual void on_association_down(AssocId /*assoc*/, tr::DownReason /*reason*/) {}
  // Allow-list refusals (SgpServer): the association is aborted right after.
  virtual void on_association_refused(AssocId /*assoc*/, const tr::AssociationInfo& /*info*/) {}

  virtual void on_data(DataIndication&& /*d*/) {}
  // True: on_data() (and on_send_failed()) get each DATA in the frame it
  // was received (or built) in, the user data where it lay
  // (ProtocolData::user_at, user_part()), for a relay that sends it on
  // re-headed in the same bytes (issue 16). False (the default): the user
  // data starts at user_data's front. Asked once per received message.
  virtual bool keeps_frames() const { return false; }
  virtual void on_asp_state(const AspStateChanged& /*c*/) {}
  virtual void on_as_state(const AsStateChanged& /*c*/) {}
  virtual void on_ntfy(const NtfyIndication& /*n*/) {}
  virtual void on_err(const ErrIndication& /*e*/) {}
  virtual void on_destination_state(const DestinationStateChanged& /*d*/) {}
  virtual void on_registration(const RegistrationIndication& /*r*/) {}
  virtual void on_deregistration(const DeregistrationIndication& /*r*/) {}
  virtual void on_request_failed(const RequestFailed& /*r*/) {}
  virtual void on_drop(const Drop& /*d*/) {}
  // DATA that was handed to the transport and not delivered (association
  // failure, or the transport refused it), oldest first, decoded so the SG
  // can re-route it (failover). Never called for management messages.
  virtual void on_send_failed(AssocId /*assoc*/, std::vector<Data>&& /*unsent*/) {}
};

// Counters of the driver layer (the cores keep their own DropCounters, the
// transport its TransportCounters). One io_context thread: no atomics.
struct DriverCounters {
  std::uint64_t messages_in = 0;         // PPID 3 messages fed to the cores
  std::uint64_t messages_out = 0;        // Send actions accepted by the transport
  std::uint64_t foreign_ppid = 0;        // received with a PPID other than 3: dropped
  std::uint64_t send_refused = 0;        // transport send() refused (not connected, queue full, ...)
  std::uint64_t data_handed_back = 0;    // DATA given to Events::on_send_failed
  std::uint64_t mgmt_lost = 0;           // non-DATA messages refused or handed back: dropped
  std::uint64_t undecodable_handed_back = 0;  // handed back but not decodable (should not happen)
  std::uint64_t no_association = 0;      // Send for an association that is gone
  std::uint64_t peer_unavailable = 0;    // BEAT timeouts: association aborted
  std::uint64_t timers_fired = 0;
  std::uint64_t refused_peers = 0;       // SgpServer allow-list refusals
  std::uint64_t associations_up = 0;
  std::uint64_t associations_down = 0;
};

}  // namespace mxua::driver
