#pragma once
// The ENRP registrar (RFC 5352 server side + RFC 5353), sans-I/O.
//
// One object per registrar, made of the RFC's entities around one
// handlespace: the ASAP server (asap_server.hpp), ENRP peering
// (enrp_peering.hpp) and takeover (takeover.hpp). This façade routes each
// event to them and returns the actions of the event; it follows the
// substrate's convention (docs/architecture.md): events in with `now`,
// typed actions out, next_deadline() and on_timeout(now). It never reads a
// clock, never touches a socket, and draws all randomness (keep-alive
// jitter, random policies) from its seeded generator, so a run is a pure
// function of its inputs.
//
// Before handling any event the core handles what is due at `now`, so a
// late timer cannot reorder protocol decisions.
#include <memory>
#include <optional>
#include <vector>

#include "registrar/actions.hpp"
#include "registrar/asap_server.hpp"
#include "registrar/config.hpp"
#include "registrar/core_shared.hpp"
#include "registrar/counters.hpp"
#include "registrar/enrp_peering.hpp"
#include "registrar/takeover.hpp"
#include "rserpool/core/handlespace.hpp"
#include "rserpool/wire/asap.hpp"
#include "rserpool/wire/enrp.hpp"

namespace rserpool::registrar {

using EnrpDecodeResult = Result<wire::Decoded<wire::enrp::Message>, wire::DecodeError>;

class Registrar {
 public:
  explicit Registrar(RegistrarConfig config);
  Registrar(Registrar&&) noexcept;
  Registrar& operator=(Registrar&&) noexcept;
  ~Registrar();

  // Announces ourselves to the configured peers (reply-required PRESENCE),
  // asks the mentor for the peer list and the whole handlespace.
  std::vector<Action> start(TimePoint now);

  // RFC 5353 3.3: learn the peer list (LIST_REQUEST) and the whole
  // handlespace (HANDLE_TABLE_REQUEST W=0, paged with the M bit) from
  // `mentor`. For a driver whose peers are configured by address: it calls
  // this once it knows which server id speaks for the mentor's address,
  // before delivering that server's first message. Until the last page, we
  // answer other servers' table requests with R=1. Ignored when a mentor
  // download already ran or runs. Equivalent to RegistrarConfig::mentor.
  std::vector<Action> start_mentor_download(ServerIdentifier mentor, TimePoint now);

  // An ASAP association was accepted (not up yet, addresses unknown): room
  // under the global cap, or an AbortAsap naming it (the driver refuses it
  // at once, freeing its descriptor) and, when an idle client makes room,
  // an AbortAsap naming that one.
  std::vector<Action> on_asap_association_accepted(AssociationId id, TimePoint now);
  // An ASAP association (PE or PU) is up. `peer_addresses` are the
  // association's peer addresses, `peer_port` its peer port: they become the
  // PE's ASAP transport and bound the addresses a PE may register.
  std::vector<Action> on_asap_association_up(AssociationId id, std::vector<IpAddress> peer_addresses,
                                             std::uint16_t peer_port, TimePoint now);
  std::vector<Action> on_asap_association_down(AssociationId id, TimePoint now);
  std::vector<Action> on_asap_message(AssociationId id, ByteView message, TimePoint now);
  // The most frequent request without an action list (issue 16): when
  // `message` is a HANDLE_RESOLUTION of the plain form without the S flag,
  // from a known association and within its rate, and nothing is due at
  // `now`, appends the answer to `answer` and returns true. That is
  // exactly what on_asap_message() would do, whose only action would be
  // this answer on `id`: the same bytes, counters and selection state, and
  // no deadline moves (the driver need not re-arm its timer). Otherwise
  // returns false having changed nothing, and the driver calls
  // on_asap_message().
  bool answer_resolution(AssociationId id, ByteView message, TimePoint now, Bytes& answer) {
    // Every other message is declined on its first byte, without a call.
    return !message.empty() &&
           message[0] == static_cast<std::uint8_t>(wire::asap::MessageType::handle_resolution) &&
           answer_plain_resolution(id, message, now, answer);
  }

  // One ENRP message, from the server `from` the driver knows is at the
  // other end of the association (0 if unknown; it addresses ENRP_ERRORs
  // for messages whose sender field cannot be read), in the role the peer
  // directory gave that association. A monitor's messages are answered
  // read-only (PRESENCE, HANDLE_TABLE_REQUEST, LIST_REQUEST) and never
  // make it a peer. The decoded form lets a driver that had to look at
  // the message (peer directory) decode once.
  std::vector<Action> on_enrp_message(ByteView message, TimePoint now, ServerIdentifier from = 0,
                                      EnrpRole role = EnrpRole::peer);
  std::vector<Action> on_enrp_message(EnrpDecodeResult&& decoded, TimePoint now, ServerIdentifier from = 0,
                                      EnrpRole role = EnrpRole::peer);

  // The substrate's timer convention: the earliest instant something is
  // due, and handling whatever is due at `now` (early or stale calls are
  // harmless).
  std::optional<TimePoint> next_deadline() const;
  std::vector<Action> on_timeout(TimePoint now);

  // Hands an executed action vector back (its contents are dropped), so
  // the next event's actions reuse its capacity instead of allocating
  // (issue 16). Optional; a driver that does it allocates nothing per event
  // for the actions.
  void recycle(std::vector<Action>&& spent) noexcept;

  // Our PRESENCE (with Server Information) for a fresh ENRP association
  // whose server is not known yet (receiver 0).
  wire::enrp::Presence presence(ServerIdentifier receiver, bool reply_required) const;

  ServerIdentifier id() const noexcept;
  const RegistrarConfig& config() const noexcept;
  const core::Handlespace& handlespace() const noexcept;
  const Counters& counters() const noexcept;
  std::vector<ServerIdentifier> active_peers() const;
  bool peer_active(ServerIdentifier peer) const;
  bool takeover_in_progress(ServerIdentifier target) const;
  const MentorDownload& mentor_download() const noexcept;
  const AsapServer& asap_server() const noexcept;
  // When the named timer is due (none: not armed), for tests and `show`.
  std::optional<TimePoint> deadline(const TimerKey& key) const;

 private:
  struct Parts;
  void begin_event(TimePoint now);
  bool answer_plain_resolution(AssociationId id, ByteView message, TimePoint now, Bytes& answer);
  // `deadlines_unchanged`: the event changed nothing any deadline depends
  // on (a handle resolution), so the earliest deadline computed at the end
  // of the previous event still holds unless begin_event() handled a timeout.
  std::vector<Action> finish(bool deadlines_unchanged = false);
  std::unique_ptr<Parts> p_;
};

}  // namespace rserpool::registrar
