#include "rserpool/asap/service/control_channel.hpp"

#include "rserpool/asap/service/registrar_access.hpp"
#include "rserpool/base/log.hpp"

namespace rserpool::asap {

transport::Message control_message(const wire::asap::Message& m) {
  transport::Message msg;
  msg.ppid = kAsapPpid;
  msg.payload = wire::asap::encode(m);
  return msg;
}

ControlDecode decode_control(ByteView payload) {
  ControlDecode out;
  auto d = wire::asap::decode(payload);
  if (!d) {
    // What a peer sends never decides how much is written.
    log::warn_limited(log::get("asap"), "undecodable ASAP message", "undecodable ASAP message ({} bytes): {} ({})",
                      payload.size(),
                      wire::to_string(d.error().failure), d.error().detail);
    if (auto e = wire::asap::error_reply(d.error())) out.reply = control_message(*e);
    return out;
  }
  if (auto e = wire::asap::error_reply(*d)) out.reply = control_message(*e);
  out.message = std::move(d->message);
  return out;
}

}  // namespace rserpool::asap
