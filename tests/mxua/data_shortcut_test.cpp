// The DATA receive shortcuts (issue 16): SgpNode::receive_data_now() and
// AspClient::receive_data_now() give a DataIndication without an action
// list exactly when receive() would give that one indication and nothing
// else, and leave the core untouched otherwise (the driver then calls
// receive()). Two cores are driven alike through every state; each input
// goes to one through the shortcut (then receive() when it says no), to the
// other through receive() alone; both must end alike.
#include <functional>
#include <string>
#include <vector>

#include "fsm_helpers.hpp"
#include "mxua/fsm/asp_client.hpp"
#include "mxua/fsm/sgp_node.hpp"

namespace mxua {
namespace {

using namespace test;

struct Input {
  std::string name;
  std::uint16_t stream;
  Bytes bytes;
};

Bytes shortcut_wire(const Message& m) { return encode(m); }

Bytes data_wire(std::optional<std::uint32_t> rc, std::uint32_t opc = 0x101c,
                std::optional<std::uint32_t> na = std::nullopt) {
  Data d;
  d.routing_context = rc;
  d.network_appearance = na;
  d.protocol_data = ProtocolData{PointCode{opc}, PointCode{0x0813}, si::kIsup, 2, 0, 3, Bytes{1, 0, 0x10, 0}};
  return shortcut_wire(d);
}

std::vector<Input> inputs() {
  Bytes truncated = data_wire(100);
  truncated.resize(truncated.size() - 6);
  truncated[7] = static_cast<std::uint8_t>(truncated.size());  // a consistent length, a cut parameter
  return {
      {"DATA RC 100", 1, data_wire(100)},
      {"DATA RC 100 on stream 0", 0, data_wire(100)},
      {"DATA RC 200", 2, data_wire(200)},
      {"DATA RC 555 (unknown)", 1, data_wire(555)},
      {"DATA without RC", 1, data_wire(std::nullopt)},
      {"DATA RC 100 NA 7", 1, data_wire(100, 0x101c, 7)},
      {"DATA RC 100 NA 8", 1, data_wire(100, 0x101c, 8)},
      {"DATA RC 100 from a screened OPC", 1, data_wire(100, 0x0999)},
      {"truncated DATA", 1, truncated},
      {"BEAT", 0, shortcut_wire(Beat{Bytes{1, 2}})},
      {"ERR", 0, shortcut_wire(Err{ErrorCode::UnexpectedMessage, {}, {}, {}, {}})},
  };
}

bool same_kinds(const Actions& a, const Actions& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].index() != b[i].index()) return false;
  return true;
}

bool sole_indication_equals(const Actions& full, const DataIndication& ind) {
  if (full.size() != 1) return false;
  const auto* d = std::get_if<DataIndication>(&full[0]);
  return d && d->assoc == ind.assoc && d->routing_context == ind.routing_context && d->data == ind.data;
}

// One core under test: a fresh one, reachable states, and the few calls
// and observations the agreement check needs (SgpUnderTest, ClientUnderTest).
template <typename Core>
using States = std::vector<std::pair<std::string, std::function<void(Core&)>>>;

// Drives two cores alike into every state, gives each input to one through
// the shortcut (then receive() when it says no) and to the other through
// receive() alone, and checks they end alike. Returns {shortcuts, cases}.
template <typename UnderTest>
std::pair<int, int> receive_agreement(const States<typename UnderTest::Core>& states) {
  int shortcuts = 0, cases = 0;
  for (const auto& [state, reach] : states) {
    for (const auto& in : inputs()) {
      SCOPED_TRACE(state + ", " + in.name);
      UnderTest fast, full;
      reach(fast.core);
      reach(full.core);
      const TimePoint now = at(10ms);
      Actions expected;
      full.receive(in.stream, in.bytes, now, expected);
      DataIndication ind;
      const std::uint64_t changes = fast.core.timer_changes();
      const bool taken = fast.receive_data_now(in.stream, in.bytes, now, ind);
      EXPECT_EQ(taken, sole_indication_equals(expected, ind));
      // The driver does not re-arm after a DATA the shortcut took (issue
      // 16): it must move no timer.
      if (taken) {
        EXPECT_EQ(fast.core.timer_changes(), changes);
      }
      if (!taken) {
        Actions got;
        fast.receive(in.stream, in.bytes, now, got);  // what the driver does next
        EXPECT_TRUE(same_kinds(got, expected));
      }
      // The same core afterwards: counters, states, timers.
      EXPECT_EQ(fast.core.drops().by_reason, full.core.drops().by_reason);
      EXPECT_EQ(fast.core.errors().sent, full.core.errors().sent);
      EXPECT_EQ(fast.core.errors().received, full.core.errors().received);
      UnderTest::expect_same_state(fast.core, full.core);
      EXPECT_EQ(fast.core.next_deadline(), full.core.next_deadline());
      // BEAT is answered and time passes alike: T(beat) saw the same peer.
      Actions fa, fu;
      fast.core.on_timeout(at(60s), fa);
      full.core.on_timeout(at(60s), fu);
      EXPECT_TRUE(same_kinds(fa, fu));
      shortcuts += taken ? 1 : 0;
      ++cases;
    }
  }
  return {shortcuts, cases};
}

// ------------------------------------------------------------------ SGP

constexpr AssocId kShortcutAssoc = 1;
const rserpool::IpAddress kPeerIp = *rserpool::IpAddress::parse("192.0.2.1");

SgpConfig sgp_config() {
  SgpConfig c;
  AsConfig isup;
  isup.name = "isup";
  isup.routing_context = 100;
  isup.network_appearance = 7;
  isup.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{0x101c}}, {si::kIsup}, {}}};
  AsConfig sccp = isup;
  sccp.name = "sccp";
  sccp.routing_context = 200;
  sccp.network_appearance.reset();
  sccp.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{0x101d}}, {si::kSccp}, {}}};
  c.application_servers = {isup, sccp};
  c.peers = {SgpPeerConfig{"stp", {kPeerIp}, {MaskedPointCode{0, PointCode{0x101c}}}}};
  return c;
}

// The states an SGP's ASP goes through, each reached from a fresh node.
const States<SgpNode>& sgp_states() {
  static const States<SgpNode> s = {
      {"no association", [](SgpNode&) {}},
      {"ASP down", [](SgpNode& n) { (void)n.association_up(kShortcutAssoc, {kPeerIp}, 5, at(0ms)); }},
      {"ASP inactive",
       [](SgpNode& n) {
         (void)n.association_up(kShortcutAssoc, {kPeerIp}, 5, at(0ms));
         (void)n.receive(kShortcutAssoc, 0, shortcut_wire(AspUp{}), at(1ms));
       }},
      {"ASP active in RC 100",
       [](SgpNode& n) {
         (void)n.association_up(kShortcutAssoc, {kPeerIp}, 5, at(0ms));
         (void)n.receive(kShortcutAssoc, 0, shortcut_wire(AspUp{}), at(1ms));
         (void)n.receive(kShortcutAssoc, 0, shortcut_wire(AspAc{std::nullopt, {100}, {}}), at(2ms));
       }},
      {"ASP active in RC 100 and 200",
       [](SgpNode& n) {
         (void)n.association_up(kShortcutAssoc, {kPeerIp}, 5, at(0ms));
         (void)n.receive(kShortcutAssoc, 0, shortcut_wire(AspUp{}), at(1ms));
         (void)n.receive(kShortcutAssoc, 0, shortcut_wire(AspAc{std::nullopt, {100, 200}, {}}), at(2ms));
       }},
      {"ASP inactive again",
       [](SgpNode& n) {
         (void)n.association_up(kShortcutAssoc, {kPeerIp}, 5, at(0ms));
         (void)n.receive(kShortcutAssoc, 0, shortcut_wire(AspUp{}), at(1ms));
         (void)n.receive(kShortcutAssoc, 0, shortcut_wire(AspAc{std::nullopt, {100}, {}}), at(2ms));
         (void)n.receive(kShortcutAssoc, 0, shortcut_wire(AspIa{{100}, {}}), at(3ms));
       }},
  };
  return s;
}

struct SgpUnderTest {
  using Core = SgpNode;
  SgpNode core{sgp_config()};
  void receive(std::uint16_t stream, ByteView b, TimePoint now, Actions& out) { core.receive(kShortcutAssoc, stream, b, now, out); }
  bool receive_data_now(std::uint16_t stream, ByteView b, TimePoint now, DataIndication& ind) {
    return core.receive_data_now(kShortcutAssoc, stream, b, now, ind);
  }
  static void expect_same_state(const SgpNode& fast, const SgpNode& full) {
    EXPECT_EQ(fast.stale_asp_resets(), full.stale_asp_resets());
    EXPECT_EQ(fast.asp_state(kShortcutAssoc), full.asp_state(kShortcutAssoc));
  }
};

TEST(DataShortcut, SgpReceiveDataNowAgreesWithReceiveInEveryState) {
  const auto [shortcuts, cases] = receive_agreement<SgpUnderTest>(sgp_states());
  // Active in RC 100: RC 100, no RC, NA 7; active in both: RC 100, RC 200, NA 7.
  EXPECT_EQ(shortcuts, 6);
  EXPECT_EQ(cases, 66);
}

// ---------------------------------------------------------------- client

AspClientConfig client_config() {
  AspClientConfig c;
  c.assoc = 7;
  c.asp_id = 11;
  c.activations = {AspActivation{{100}, TrafficMode::Loadshare}};
  c.outbound_streams = 5;
  c.originating_point_codes = {MaskedPointCode{0, PointCode{0x101c}}};
  return c;
}

const States<AspClient>& client_states() {
  static const States<AspClient> s = {
      {"new", [](AspClient&) {}},
      {"ASP Up sent", [](AspClient& c) { (void)c.association_up(at(0ms)); }},
      {"ASP Active sent (DATA may overtake its ACK)",
       [](AspClient& c) {
         (void)c.association_up(at(0ms));
         (void)c.receive(0, shortcut_wire(AspUpAck{}), at(1ms));
       }},
      {"active for RC 100",
       [](AspClient& c) {
         (void)c.association_up(at(0ms));
         (void)c.receive(0, shortcut_wire(AspUpAck{}), at(1ms));
         (void)c.receive(0, shortcut_wire(AspAcAck{TrafficMode::Loadshare, {100}, {}}), at(2ms));
       }},
      {"inactive again",
       [](AspClient& c) {
         (void)c.association_up(at(0ms));
         (void)c.receive(0, shortcut_wire(AspUpAck{}), at(1ms));
         (void)c.receive(0, shortcut_wire(AspAcAck{TrafficMode::Loadshare, {100}, {}}), at(2ms));
         (void)c.inactivate({100}, at(3ms));
         (void)c.receive(0, shortcut_wire(AspIaAck{{100}, {}}), at(4ms));
       }},
      {"down again",
       [](AspClient& c) {
         (void)c.association_up(at(0ms));
         (void)c.receive(0, shortcut_wire(AspUpAck{}), at(1ms));
         (void)c.receive(0, shortcut_wire(AspAcAck{TrafficMode::Loadshare, {100}, {}}), at(2ms));
         (void)c.association_down(at(3ms));
       }},
  };
  return s;
}

struct ClientUnderTest {
  using Core = AspClient;
  AspClient core{client_config()};
  void receive(std::uint16_t stream, ByteView b, TimePoint now, Actions& out) { core.receive(stream, b, now, out); }
  bool receive_data_now(std::uint16_t stream, ByteView b, TimePoint now, DataIndication& ind) {
    return core.receive_data_now(stream, b, now, ind);
  }
  static void expect_same_state(const AspClient& fast, const AspClient& full) { EXPECT_EQ(fast.state(), full.state()); }
};

TEST(DataShortcut, ClientReceiveDataNowAgreesWithReceiveInEveryState) {
  const auto [shortcuts, cases] = receive_agreement<ClientUnderTest>(client_states());
  // ASPAC outstanding: every DATA off stream 0 from a permitted OPC (6);
  // active for RC 100: RC 100 with or without NA (3).
  EXPECT_EQ(shortcuts, 9);
  EXPECT_EQ(cases, 66);
}

// The send side: AspClient::send_data_now() gives the SendData exactly when
// send_data() would give it alone, and counts nothing (a drop is counted
// by send_data(), which the driver calls when the shortcut says no).
TEST(DataShortcut, ClientSendDataNowAgreesWithSendDataInEveryState) {
  int shortcuts = 0;
  for (const std::uint16_t streams : {std::uint16_t{5}, std::uint16_t{1}}) {
    for (const auto& [state, reach] : client_states()) {
      for (const auto na : {std::optional<std::uint32_t>{}, std::optional<std::uint32_t>{9}}) {
        for (const auto rc : {std::optional<std::uint32_t>{100}, std::optional<std::uint32_t>{555},
                              std::optional<std::uint32_t>{}}) {
          SCOPED_TRACE(state + ", " + std::to_string(streams) + " streams, NA " + std::to_string(na.value_or(0)) +
                       ", RC " + std::to_string(rc.value_or(0)));
          auto cfg = client_config();
          cfg.outbound_streams = streams;
          cfg.network_appearance = na;
          AspClient c(cfg);
          reach(c);
          Data d;
          d.routing_context = rc;
          d.protocol_data = ProtocolData{PointCode{1}, PointCode{2}, 5, 2, 0, 6, Bytes{1, 2, 3}};
          const DataView v = to_view(d);
          const auto drops_before = c.drops().by_reason;
          SendData s;
          const bool taken = c.send_data_now(v, s);
          EXPECT_EQ(c.drops().by_reason, drops_before);
          Actions full;
          c.send_data(v, full);
          const auto* f = full.size() == 1 ? std::get_if<SendData>(&full[0]) : nullptr;
          EXPECT_EQ(taken, f != nullptr);
          if (taken && f) {
            EXPECT_EQ(s.assoc, f->assoc);
            EXPECT_EQ(s.stream, f->stream);
            EXPECT_FALSE(s.owned);
            EXPECT_EQ(to_owned(s.data), to_owned(f->data));
          }
          shortcuts += taken ? 1 : 0;
        }
      }
    }
  }
  // ASPAC outstanding counts as not active on the send side: active for RC
  // 100 only, with a DATA stream, with and without NA (2).
  EXPECT_EQ(shortcuts, 2);
}

// SS7 -> ASP: SgpNode::route_now() gives the SendData exactly when route()
// would give it alone, and leaves the node as it was otherwise.
TEST(DataShortcut, SgpRouteNowAgreesWithRouteInEveryStateAndMode) {
  int shortcuts = 0, cases = 0;
  static const Bytes payload{0x01, 0x00, 0x10, 0x00};
  for (const auto mode : {TrafficMode::Loadshare, TrafficMode::Override, TrafficMode::Broadcast}) {
    // Each reaches a state from a fresh node: ASP 1 (5 streams), ASP 2 (1
    // stream: no DATA stream), ASP 3 (5 streams).
    const std::vector<std::pair<std::string, std::function<void(SgpNode&)>>> states = {
        {"no ASP", [](SgpNode&) {}},
        {"ASP up, AS inactive",
         [](SgpNode& n) {
           (void)n.association_up(1, 5, at(0ms));
           (void)n.receive(1, 0, shortcut_wire(AspUp{}), at(0ms));
         }},
        {"one ASP active",
         [mode](SgpNode& n) {
           (void)n.association_up(1, 5, at(0ms));
           (void)n.receive(1, 0, shortcut_wire(AspUp{}), at(0ms));
           (void)n.receive(1, 0, shortcut_wire(AspAc{mode, {100}, {}}), at(0ms));
         }},
        {"one ASP active without a DATA stream",
         [mode](SgpNode& n) {
           (void)n.association_up(2, 1, at(0ms));
           (void)n.receive(2, 0, shortcut_wire(AspUp{}), at(0ms));
           (void)n.receive(2, 0, shortcut_wire(AspAc{mode, {100}, {}}), at(0ms));
         }},
        {"two ASPs active",
         [mode](SgpNode& n) {
           for (AssocId a : {AssocId{1}, AssocId{3}}) {
             (void)n.association_up(a, 5, at(0ms));
             (void)n.receive(a, 0, shortcut_wire(AspUp{}), at(0ms));
             (void)n.receive(a, 0, shortcut_wire(AspAc{mode, {100}, {}}), at(0ms));
           }
         }},
        {"AS pending (its ASP failed)",
         [mode](SgpNode& n) {
           (void)n.association_up(1, 5, at(0ms));
           (void)n.receive(1, 0, shortcut_wire(AspUp{}), at(0ms));
           (void)n.receive(1, 0, shortcut_wire(AspAc{mode, {100}, {}}), at(0ms));
           (void)n.association_down(1, at(1ms));
         }},
    };
    for (const auto& [state, reach] : states) {
      for (const std::uint32_t dpc : {std::uint32_t{0x101c}, std::uint32_t{0x9999}}) {
        for (std::uint8_t sls = 0; sls < 4; ++sls) {
          SCOPED_TRACE(state + ", mode " + std::to_string(static_cast<int>(mode)) + ", DPC " + std::to_string(dpc) +
                       ", SLS " + std::to_string(sls));
          SgpConfig cfg;
          AsConfig as;
          as.name = "isup";
          as.routing_context = 100;
          as.mode = mode;
          as.network_appearance = 7;
          as.destinations = {RoutingKeyDestination{MaskedPointCode{0, PointCode{0x101c}}, {si::kIsup}, {}}};
          cfg.application_servers = {as};
          cfg.accept_unknown_peers = true;
          SgpNode fast(cfg), full(cfg);
          reach(fast);
          reach(full);
          DataView d;
          d.protocol_data = ProtocolDataView{PointCode{0x0813}, PointCode{dpc}, si::kIsup, 2, 0, sls, ByteView(payload)};
          Actions expected;
          full.route(d, at(5ms), expected);
          SendData s;
          const bool taken = fast.route_now(d, s);
          const auto* e = expected.size() == 1 ? std::get_if<SendData>(&expected[0]) : nullptr;
          // Broadcast always takes the full path (it may tag the DATA with a
          // Correlation Id, and sends copies); every other mode agrees.
          if (mode == TrafficMode::Broadcast)
            EXPECT_FALSE(taken);
          else
            EXPECT_EQ(taken, e != nullptr);
          if (taken && e) {
            EXPECT_EQ(s.assoc, e->assoc);
            EXPECT_EQ(s.stream, e->stream);
            EXPECT_FALSE(s.owned);
            EXPECT_FALSE(e->owned);
            EXPECT_EQ(to_owned(s.data), to_owned(e->data));
          }
          if (!taken) {
            Actions got;
            fast.route(d, at(5ms), got);
            EXPECT_TRUE(same_kinds(got, expected));
          }
          EXPECT_EQ(fast.drops().by_reason, full.drops().by_reason);
          EXPECT_EQ(fast.as_state(100), full.as_state(100));
          EXPECT_EQ(fast.queued(100), full.queued(100));
          shortcuts += taken ? 1 : 0;
          ++cases;
        }
      }
    }
  }
  // Loadshare and override, one ASP or two active, DPC of the key: 4 SLS
  // each (16); broadcast never.
  EXPECT_EQ(shortcuts, 16);
  EXPECT_EQ(cases, 144);
}

}  // namespace
}  // namespace mxua
