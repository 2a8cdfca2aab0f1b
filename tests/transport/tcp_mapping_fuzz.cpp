// libFuzzer target: arbitrary bytes into a TCP mapping session, split at
// a fuzzer-chosen point. Must never crash, hang or grow without bound.
#include <cstddef>
#include <cstdint>

#include "rserpool/transport/tcp_mapping_session.hpp"

using namespace rserpool;
using namespace rserpool::transport;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  tcpmap::SessionOptions o;
  o.max_message_size = 4096;
  tcpmap::Session s(o, tcpmap::TimePoint{});
  (void)s.submit(Message{3, 0, false, Bytes(10, 1)});
  const std::size_t cut = data[0] % size;
  ByteView all(data, size);
  tcpmap::SessionEvents ev;
  s.on_bytes(all.subspan(1, cut > 0 ? cut - 1 : 0), tcpmap::TimePoint{}, ev);
  s.on_bytes(all.subspan(cut > 0 ? cut : 1), tcpmap::TimePoint{}, ev);
  Bytes out;
  s.produce(out);
  (void)s.take_undelivered();
  return 0;
}
