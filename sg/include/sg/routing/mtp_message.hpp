#pragma once
// One MTP3-user message as the gateway routes it: the routing label and the
// user part's bytes, as carried in an M3UA DATA Protocol Data parameter.
#include <algorithm>
#include <cstdint>

#include "rserpool/base/bytes.hpp"

namespace sg {

// Service indicators (Q.704 / RFC 4666 3.4.5) the gateway treats specially.
inline constexpr std::uint8_t kSiSccp = 3;
inline constexpr std::uint8_t kSiIsup = 5;

struct MtpMessage {
  std::uint32_t opc = 0;
  std::uint32_t dpc = 0;
  std::uint8_t si = 0;
  std::uint8_t ni = 0;
  std::uint8_t mp = 0;
  std::uint8_t sls = 0;
  // The user part: data from `at` on. `at` is 0 except for a DATA relayed
  // from M3UA in the frame it was received in (mxua::ProtocolData::user_at):
  // the M3UA header in front of the user part stays there, so that the
  // DATA sent on is re-headed in the same bytes (issue 16). Read the user
  // part through user_part().
  rserpool::Bytes data;
  std::uint32_t at = 0;

  rserpool::ByteView user_part() const noexcept { return rserpool::ByteView(data).subspan(at); }
  std::size_t user_size() const noexcept { return data.size() - at; }
  // Equal label and user part (where in its buffer the user part lies
  // does not matter).
  friend bool operator==(const MtpMessage& a, const MtpMessage& b) {
    const auto x = a.user_part(), y = b.user_part();
    return a.opc == b.opc && a.dpc == b.dpc && a.si == b.si && a.ni == b.ni && a.mp == b.mp && a.sls == b.sls &&
           std::equal(x.begin(), x.end(), y.begin(), y.end());
  }
};

}  // namespace sg
