#pragma once
// The received bytes of one M3UA message, lent by the driver to the core
// that decodes them, so that a DATA indication takes them over instead of
// copying its user part out (issue 16: no copy, no second buffer per
// relayed DATA on the receive side).
//
// The driver opens a FrameLoan around the core's receive call only (not
// around the execution of the actions): nothing may borrow from the frame
// once a core has taken it. A core takes it with take_owned(d), as the
// last use of d and of the received bytes in that event.
#include "mxua/messages.hpp"

namespace mxua {

class FrameLoan {
 public:
  // keep: the taker keeps the frame as it lies, its user data not moved to
  // the front (ProtocolData::user_at), for a receiver that relays it.
  explicit FrameLoan(Bytes& frame, bool keep = false) noexcept : outer_(slot()) { slot() = Lent{&frame, keep}; }
  ~FrameLoan() { slot() = outer_; }
  FrameLoan(const FrameLoan&) = delete;
  FrameLoan& operator=(const FrameLoan&) = delete;

  // The lent frame when `part` lies inside it (it then ends the loan: one
  // taker); nullptr otherwise. `keep` tells whether the taker keeps the
  // frame as it lies.
  static Bytes* claim(ByteView part, bool& keep) noexcept {
    const Lent l = slot();
    Bytes* f = l.frame;
    if (f == nullptr || f->empty() || part.data() == nullptr) return nullptr;
    if (part.data() < f->data() || part.data() + part.size() > f->data() + f->size()) return nullptr;
    slot() = Lent{};
    keep = l.keep;
    return f;
  }

 private:
  struct Lent {
    Bytes* frame = nullptr;
    bool keep = false;
  };
  static Lent& slot() noexcept {
    thread_local Lent s;
    return s;
  }
  Lent outer_;
};

// to_owned(d), except that when d's user data lies in the frame lent on this
// thread, the frame itself becomes the user part (moved to its front, the
// rest cut off; or, lent to keep, left where it lies, user_at saying where,
// and cut after it) instead of a copy in a fresh buffer. d must not be used
// afterwards (its bytes have moved).
Data take_owned(const DataView& d);
// The same into `out` (a DATA indication's own Data: no temporary moved
// in; issue 16, once per relayed DATA). d's bytes must not lie in out.
void take_owned(const DataView& d, Data& out);

}  // namespace mxua
