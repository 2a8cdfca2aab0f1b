// libFuzzer target: ASAP decode with the round-trip oracle.
#include <cstddef>
#include <cstdint>

#include "rserpool/wire/asap.hpp"
#include "round_trip_oracle.hpp"

namespace {
struct Asap {
  static auto decode(rserpool::ByteView b) { return rserpool::wire::asap::decode(b); }
  template <class M>
  static rserpool::Bytes encode(const M& m) {
    return rserpool::wire::asap::encode(m);
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzzwire::check<Asap>(rserpool::ByteView(data, size),
                        [](const rserpool::wire::DecodeError& e) { return rserpool::wire::asap::error_reply(e); });
  return 0;
}
