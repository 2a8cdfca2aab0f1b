#include "sg/sim/circuit_history.hpp"

#include <algorithm>
#include <cstdio>

#include "sg/ss7/isup.hpp"

namespace sg::sim {

void CircuitHistory::record(const MtpMessage& m, bool in, std::int64_t unix_ms, std::uint64_t via) {
  if (m.si != kSiIsup) return;
  auto h = ss7::parse_isup_header(m.data, variant_);
  if (!h) return;
  Ring& r = circuits_[h->cic];
  const Event e{unix_ms, via, h->message_type, in};
  if (r.events.size() < depth_) {
    r.events.push_back(e);
    return;
  }
  r.events[r.next] = e;
  r.next = (r.next + 1) % depth_;
}

std::string CircuitHistory::describe(std::uint16_t cic) const {
  auto it = circuits_.find(cic);
  if (it == circuits_.end() || it->second.events.empty()) return "none";
  const Ring& r = it->second;
  std::string out;
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    const Event& e = r.events[(r.next + i) % r.events.size()];
    const std::int64_t day_ms = e.unix_ms % 86'400'000;
    char line[96];
    std::snprintf(line, sizeof line, "%s%c%s a%llu %02lld:%02lld:%02lld.%03lld", out.empty() ? "" : " ",
                  e.in ? '<' : '>', std::string(ss7::to_string(static_cast<ss7::IsupMessageType>(e.type))).c_str(),
                  static_cast<unsigned long long>(e.via), static_cast<long long>(day_ms / 3'600'000),
                  static_cast<long long>(day_ms / 60'000 % 60), static_cast<long long>(day_ms / 1000 % 60),
                  static_cast<long long>(day_ms % 1000));
    out += line;
  }
  return out;
}

std::vector<std::uint16_t> CircuitHistory::circuits() const {
  std::vector<std::uint16_t> out;
  out.reserve(circuits_.size());
  for (const auto& [cic, ring] : circuits_) out.push_back(cic);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sg::sim
