#pragma once
// SS7 destination states learnt from (or announced by) SSNM: availability,
// restriction, congestion level and unavailable MTP3 users per point code or
// masked range. The most specific entry (smallest mask) wins, so a DUNA for a
// whole cluster followed by a DAVA for one member leaves the rest unavailable.
#include <optional>
#include <vector>

#include "mxua/fsm/actions.hpp"

namespace mxua {

struct DestinationStatus {
  DestinationAvailability availability = DestinationAvailability::Available;
  std::uint8_t congestion_level = 0;
  std::vector<UserCause> unavailable_users;  // from DUPU
  friend bool operator==(const DestinationStatus&, const DestinationStatus&) = default;
};

class DestinationTable {
 public:
  // A peer's SSNM decides what is stored: at most this many entries; new
  // ones beyond are not kept (counted in overflow()).
  static constexpr std::size_t kMaxEntries = 16384;

  // Replaces the status of `range`; entries strictly inside the range are
  // removed because the new information covers them.
  void set_availability(MaskedPointCode range, DestinationAvailability a);
  void set_congestion(PointCode pc, std::uint8_t level);
  void set_user_unavailable(PointCode pc, UserCause uc);

  std::optional<DestinationStatus> lookup(PointCode pc) const;
  std::size_t size() const noexcept { return entries_.size(); }
  std::uint64_t overflow() const noexcept { return overflow_; }
  // Every entry, in the order it was created.
  template <class F>
  void for_each(F&& f) const {
    for (const auto& e : entries_) f(e.range, e.status);
  }

  // Applies a received SSNM message (DUNA, DAVA, SCON, DUPU, DRST) and
  // appends one DestinationStateChanged per affected entry. Other messages
  // are ignored.
  void apply(const Message& m, AssocId from, Actions& out);

 private:
  struct Entry {
    MaskedPointCode range;
    DestinationStatus status;
  };
  Entry* exact(MaskedPointCode range);
  std::vector<Entry> entries_;
  std::uint64_t overflow_ = 0;
};

}  // namespace mxua
