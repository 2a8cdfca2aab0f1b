#include "sg/gwc_link/echo_before_data.hpp"

#include <algorithm>

namespace sg::gwc_link {

void EchoBeforeData::echo(rserpool::Bytes payload, std::uint16_t outbound_streams, std::vector<StreamMessage>& now) {
  const std::size_t data_streams = outbound_streams >= 2 ? outbound_streams - 1U : 0U;
  if (data_streams == 0) {
    // No DATA can follow on this association: the cookie's place is moot.
    now.push_back(StreamMessage{0, std::move(payload)});
    return;
  }
  pending_.push_back(Pending{std::move(payload), std::vector<bool>(data_streams, false), data_streams});
  while (pending_.size() > max_pending_) {
    Pending& oldest = pending_.front();
    for (std::size_t i = 0; i < oldest.sent.size(); ++i)
      if (!oldest.sent[i]) now.push_back(StreamMessage{static_cast<std::uint16_t>(i + 1), oldest.payload});
    pending_.pop_front();
  }
}

void EchoBeforeData::before_data(std::uint16_t stream, std::vector<StreamMessage>& out) {
  if (pending_.empty() || stream == 0) return;
  const std::size_t index = stream - 1U;
  bool finished = false;
  for (auto& p : pending_) {
    if (index >= p.sent.size() || p.sent[index]) continue;
    p.sent[index] = true;
    out.push_back(StreamMessage{stream, p.payload});
    if (--p.remaining == 0) finished = true;
  }
  if (finished)
    pending_.erase(std::remove_if(pending_.begin(), pending_.end(), [](const Pending& p) { return p.remaining == 0; }),
                   pending_.end());
}

}  // namespace sg::gwc_link
