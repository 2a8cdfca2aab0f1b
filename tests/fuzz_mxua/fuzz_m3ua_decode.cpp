// libFuzzer target for the M3UA codec and the state machines behind it.
// Oracles: a message that decodes re-encodes to bytes that decode to the same
// value; the DATA fast path agrees with the full decoder; feeding the bytes to
// an SGP and an ASP never crashes and never answers an ERR with an ERR.
#include <cstdint>
#include <cstdlib>

#include "mxua/codec.hpp"
#include "mxua/fsm/asp_client.hpp"
#include "mxua/fsm/sgp_node.hpp"

namespace {

using namespace mxua;
using namespace std::chrono_literals;

void check(bool ok) {
  if (!ok) std::abort();
}

bool is_err(ByteView b) { return b.size() >= 4 && b[2] == 0 && b[3] == type::kErr; }

void never_err_for_err(ByteView input, const Actions& out) {
  for (const auto& a : out)
    if (const auto* s = std::get_if<Send>(&a)) {
      // What a core sends must encode and decode back to itself.
      const Bytes b = encode(s->message);
      auto again = decode(b);
      check(again.ok() && *again == s->message);
      if (is_err(input)) check(!std::holds_alternative<Err>(s->message));
    }
}

TimePoint at(Duration d) { return TimePoint{} + d; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView in(data, size);
  auto m = decode(in);
  if (m.ok()) {
    const Bytes again = encode(*m);
    auto m2 = decode(again);
    check(m2.ok());
    check(*m2 == *m);
    check(encode(*m2) == again);
    if (const auto* d = std::get_if<Data>(&*m)) {
      auto v = decode_data(in);
      check(v.ok());
      check(to_owned(*v) == *d);
      Bytes buf;
      encode_data(*v, buf);
      check(buf == again);
    }
  } else {
    auto reply = make_error_reply(m.error());
    if (is_err(in)) check(!reply.has_value());
  }

  // The serving side: one ASP up and active, then the input on stream 0 and 1.
  SgpConfig sc;
  AsConfig as;
  as.routing_context = 100;
  as.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{2}}, {}, {}}};
  sc.application_servers = {as};
  sc.rkm = RkmPermission::DynamicPermitted;
  SgpNode sgp(sc);
  (void)sgp.association_up(1, 4, at(0ms));
  (void)sgp.receive(1, 0, encode(Message{AspUp{1, {}}}), at(0ms));
  (void)sgp.receive(1, 0, encode(Message{AspAc{{}, {100}, {}}}), at(0ms));
  for (int stream = 0; stream < 2; ++stream)
    never_err_for_err(in, sgp.receive(1, static_cast<std::uint16_t>(stream), in, at(1ms)));
  (void)sgp.on_timeout(at(3s));
  (void)sgp.association_down(1, at(4s));

  // The requesting side, active for RC 100.
  AspClientConfig ac;
  ac.assoc = 1;
  ac.activations = {AspActivation{{100}, TrafficMode::Loadshare}};
  AspClient asp(ac);
  (void)asp.association_up(at(0ms));
  (void)asp.receive(0, encode(Message{AspUpAck{}}), at(0ms));
  (void)asp.receive(0, encode(Message{AspAcAck{{}, {100}, {}}}), at(0ms));
  for (int stream = 0; stream < 2; ++stream)
    never_err_for_err(in, asp.receive(static_cast<std::uint16_t>(stream), in, at(1ms)));
  (void)asp.on_timeout(at(3s));
  return 0;
}
