#pragma once
// The check both fuzz targets run: decoding never crashes; whatever decodes
// re-encodes to bytes that decode to the same value and re-encode to the
// same bytes (canonical form); whatever fails yields an ERROR reply that
// encodes and decodes.
#include <cstdio>
#include <cstdlib>

#include "rserpool/base/bytes.hpp"

namespace fuzzwire {

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "round-trip oracle: %s\n", what);
  std::abort();
}

template <class Codec, class MakeReply>
void check(rserpool::ByteView input, MakeReply make_reply) {
  auto d = Codec::decode(input);
  if (!d.ok()) {
    if (auto reply = make_reply(d.error())) {
      const rserpool::Bytes wire = Codec::encode(*reply);
      auto back = Codec::decode(wire);
      if (!back.ok()) fail("error reply does not decode");
    }
    return;
  }
  const rserpool::Bytes once = Codec::encode(d->message);
  auto again = Codec::decode(once);
  if (!again.ok()) fail("re-encoded message does not decode");
  if (!(again->message == d->message)) fail("decode(encode(m)) != m");
  if (!again->unrecognized.empty()) fail("re-encoded message carries unknown parameters");
  if (Codec::encode(again->message) != once) fail("encoding is not canonical");
}

}  // namespace fuzzwire
