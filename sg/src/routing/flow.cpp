#include "sg/routing/flow.hpp"

namespace sg {

ClassifiedMessage classify(const MtpMessage& m, ss7::IsupVariant variant) {
  ClassifiedMessage c;
  c.flow.opc = m.opc;
  c.flow.dpc = m.dpc;
  c.flow.si = m.si;
  if (m.si == kSiIsup) {
    if (auto h = ss7::parse_isup_header(m.user_part(), variant)) {
      // A circuit is shared by both directions: key it by the unordered
      // point-code pair so the answer and the release stay on one PE.
      c.flow.circuit = true;
      c.flow.selector = h->cic;
      c.cic = h->cic;
      using T = ss7::IsupMessageType;
      switch (static_cast<T>(h->message_type)) {
        case T::iam: c.event = CallEvent::setup; break;
        case T::rel: c.event = CallEvent::release; break;
        case T::rlc: c.event = CallEvent::release_complete; break;
        default: break;
      }
      if (c.flow.opc > c.flow.dpc) std::swap(c.flow.opc, c.flow.dpc);
      return c;
    }
  }
  c.flow.selector = m.sls;
  return c;
}

}  // namespace sg
