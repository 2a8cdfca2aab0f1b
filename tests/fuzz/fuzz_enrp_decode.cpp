// libFuzzer target: ENRP decode with the round-trip oracle.
#include <cstddef>
#include <cstdint>

#include "rserpool/wire/enrp.hpp"
#include "round_trip_oracle.hpp"

namespace {
struct Enrp {
  static auto decode(rserpool::ByteView b) { return rserpool::wire::enrp::decode(b); }
  template <class M>
  static rserpool::Bytes encode(const M& m) {
    return rserpool::wire::enrp::encode(m);
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzzwire::check<Enrp>(rserpool::ByteView(data, size), [](const rserpool::wire::DecodeError& e) {
    return rserpool::wire::enrp::error_reply(e, 0x01020304, 0x05060708);
  });
  return 0;
}
