#pragma once
// The ASAP control channel on a data association (PPID 11 next to the
// user's PPID): for programs that own the association themselves (e.g. an
// M3UA link with the ASAP control channel, mxua AssociationDriver's
// other-PPID handler).
#include <optional>

#include "rserpool/base/result.hpp"
#include "rserpool/transport/message.hpp"
#include "rserpool/wire/asap.hpp"

namespace rserpool::asap {

// PPID 11, stream 0, ordered.
transport::Message control_message(const wire::asap::Message& m);

struct ControlDecode {
  std::optional<wire::asap::Message> message;  // accepted message
  std::optional<transport::Message> reply;     // ASAP_ERROR to send back, if any
};
// Decodes a PPID 11 payload; on error `message` is empty and `reply` holds
// the ASAP_ERROR the codec prescribes (if not silent).
ControlDecode decode_control(ByteView payload);

}  // namespace rserpool::asap
