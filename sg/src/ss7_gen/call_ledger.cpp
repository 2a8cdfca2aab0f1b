#include "call_ledger.hpp"

#include <string_view>

#include "sg/ss7/isup.hpp"

namespace sg::ss7gen {

using T = ss7::IsupMessageType;

void CallLedger::sent(const MtpMessage& m, sim::TimePoint now) {
  if (m.si != kSiIsup) return;
  auto h = ss7::parse_isup_header(m.data);
  if (!h) return;
  switch (static_cast<T>(h->message_type)) {
    case T::iam: {
      const auto wall = std::chrono::system_clock::now();
      calls_[h->cic] = Entry{now + timeout_, now, wall, false, wall, "iam"};
      break;
    }
    case T::rel:
      // A repeated REL (T1) keeps the first one's deadline and time: the
      // generator's bound runs from the first, and the first is the one
      // that was lost.
      if (auto it = calls_.find(h->cic); it != calls_.end() && std::string_view(it->second.last_type) != "rel") {
        it->second.deadline = now + timeout_;
        it->second.last_sent = std::chrono::system_clock::now();
        it->second.last_type = "rel";
      }
      break;
    case T::rlc:
      calls_.erase(h->cic);  // we completed a release of the far end
      break;
    default:
      break;
  }
}

std::optional<FailedCall> CallLedger::received(const MtpMessage& m, sim::TimePoint now) {
  if (m.si != kSiIsup) return std::nullopt;
  auto h = ss7::parse_isup_header(m.data);
  if (!h) return std::nullopt;
  auto it = calls_.find(h->cic);
  if (it == calls_.end()) return std::nullopt;
  switch (static_cast<T>(h->message_type)) {
    case T::acm:
      it->second.acm = true;
      break;
    case T::anm:
      // Hold and release are the generator's; only the release timer remains.
      if (!it->second.answered) answer_latency_ = now - it->second.iam_sent;
      it->second.answered = true;
      it->second.deadline = sim::TimePoint::max();
      break;
    case T::rlc:
      calls_.erase(it);
      break;
    case T::rel: {
      FailedCall f{h->cic, it->second.started, it->second.last_sent, it->second.last_type, it->second.acm};
      calls_.erase(it);
      return f;
    }
    default:
      break;
  }
  return std::nullopt;
}

std::vector<FailedCall> CallLedger::expired(sim::TimePoint now) {
  std::vector<FailedCall> out;
  for (auto it = calls_.begin(); it != calls_.end();) {
    if (it->second.deadline <= now) {
      out.push_back({it->first, it->second.started, it->second.last_sent, it->second.last_type, it->second.acm});
      it = calls_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

}  // namespace sg::ss7gen
