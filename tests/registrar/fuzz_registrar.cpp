// Stateful libFuzzer target for the registrar core: the input is a script of
// events (ASAP messages on a few associations, ENRP messages, association
// up/down, time steps). Oracle: no crash, no sanitizer report, and the
// handlespace's own bookkeeping stays consistent (every PE we are home for is
// in the handlespace).
#include <cstddef>
#include <cstdint>

#include "registrar/registrar.hpp"

using namespace rserpool;
using namespace rserpool::registrar;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto cfg = RegistrarConfig::aggressive(0x1000);
  cfg.peers = {0x2000, 0x3000};
  cfg.check_pe_addresses = (size % 2) == 0;
  Registrar reg(cfg);
  TimePoint now{};
  (void)reg.start(now);
  for (std::uint64_t a = 1; a <= 3; ++a) {
    (void)reg.on_asap_association_up(a, {IpAddress::v4({10, 0, 0, static_cast<std::uint8_t>(a)})},
                                     static_cast<std::uint16_t>(4000 + a), now);
  }
  std::size_t i = 0;
  while (i + 3 <= size) {
    const std::uint8_t op = data[i];
    const std::size_t len = (static_cast<std::size_t>(data[i + 1]) << 8 | data[i + 2]) % 2048;
    i += 3;
    const std::size_t n = len <= size - i ? len : size - i;
    const ByteView payload(data + i, n);
    i += n;
    const AssociationId assoc = 1 + (op >> 4) % 3;
    switch (op & 0x0f) {
      case 0: case 1: case 2: case 3: case 4: case 5:
        (void)reg.on_asap_message(assoc, payload, now);
        break;
      case 6: case 7: case 8:
        (void)reg.on_enrp_message(payload, now, 0x2000);
        break;
      case 9:
        (void)reg.on_asap_association_down(assoc, now);
        (void)reg.on_asap_association_up(assoc, {IpAddress::v4({10, 0, 0, static_cast<std::uint8_t>(assoc)})},
                                         4000, now);
        break;
      default:
        now += std::chrono::milliseconds{static_cast<std::int64_t>(n) * 50 + 1};
        (void)reg.on_timeout(now);
        break;
    }
  }
  return 0;
}
