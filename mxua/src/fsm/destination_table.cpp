#include "mxua/fsm/destination_table.hpp"

#include <algorithm>

namespace mxua {
namespace {

bool covers(MaskedPointCode outer, MaskedPointCode inner) {
  return outer.mask > inner.mask && outer.contains(inner.pc);
}

}  // namespace

DestinationTable::Entry* DestinationTable::exact(MaskedPointCode range) {
  for (auto& e : entries_)
    if (e.range == range) return &e;
  if (entries_.size() >= kMaxEntries) {
    ++overflow_;
    return nullptr;
  }
  // A new specific entry starts from what the covering range says.
  Entry e{range, {}};
  if (auto s = lookup(range.pc)) e.status = *s;
  entries_.push_back(std::move(e));
  return &entries_.back();
}

void DestinationTable::set_availability(MaskedPointCode range, DestinationAvailability a) {
  std::erase_if(entries_, [&](const Entry& e) { return covers(range, e.range); });
  Entry* e = exact(range);
  if (!e) return;
  e->status.availability = a;
  if (a == DestinationAvailability::Available) e->status.unavailable_users.clear();
  if (a == DestinationAvailability::Unavailable) e->status.congestion_level = 0;
}

void DestinationTable::set_congestion(PointCode pc, std::uint8_t level) {
  if (Entry* e = exact(MaskedPointCode{0, pc})) e->status.congestion_level = level;
}

void DestinationTable::set_user_unavailable(PointCode pc, UserCause uc) {
  Entry* e = exact(MaskedPointCode{0, pc});
  if (!e) return;
  auto& users = e->status.unavailable_users;
  for (auto& u : users)
    if (u.user == uc.user) {
      u = uc;
      return;
    }
  users.push_back(uc);
}

std::optional<DestinationStatus> DestinationTable::lookup(PointCode pc) const {
  const Entry* best = nullptr;
  for (const auto& e : entries_)
    if (e.range.contains(pc) && (!best || e.range.mask < best->range.mask)) best = &e;
  if (!best) return std::nullopt;
  return best->status;
}

void DestinationTable::apply(const Message& m, AssocId from, Actions& out) {
  auto report = [&](MaskedPointCode r, std::optional<UserCause> uc = std::nullopt) {
    const auto s = lookup(r.pc).value_or(DestinationStatus{});
    out.push_back(DestinationStateChanged{from, r, s.availability, s.congestion_level, uc});
  };
  auto each = [&](const SsnmCommon& c, DestinationAvailability a) {
    for (const auto& r : c.affected_point_codes) {
      set_availability(r, a);
      report(r);
    }
  };
  if (const auto* duna = std::get_if<Duna>(&m)) {
    each(*duna, DestinationAvailability::Unavailable);
  } else if (const auto* dava = std::get_if<Dava>(&m)) {
    each(*dava, DestinationAvailability::Available);
  } else if (const auto* drst = std::get_if<Drst>(&m)) {
    each(*drst, DestinationAvailability::Restricted);
  } else if (const auto* scon = std::get_if<Scon>(&m)) {
    // Without Congestion Indications the level is undefined: count it as 1.
    const std::uint8_t level = scon->congestion_level.value_or(1);
    for (const auto& r : scon->affected_point_codes) {
      set_congestion(r.pc, level);
      report(MaskedPointCode{0, r.pc});
    }
  } else if (const auto* dupu = std::get_if<Dupu>(&m)) {
    for (const auto& r : dupu->affected_point_codes) {
      set_user_unavailable(r.pc, dupu->user_cause);
      report(r, dupu->user_cause);
    }
  }
}

}  // namespace mxua
