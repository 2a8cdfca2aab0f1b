#pragma once
// One MTP3-user message as the gateway routes it: the routing label and the
// user part's bytes, as carried in an M3UA DATA Protocol Data parameter.
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
  rserpool::Bytes data;
  friend bool operator==(const MtpMessage&, const MtpMessage&) = default;
};

}  // namespace sg
