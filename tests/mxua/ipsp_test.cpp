// Two endpoints wired back to back through a lossless in-memory link, plus
// an ASP against an SGP: the full bring-up runs through the real codecs.
#include "mxua/fsm/endpoint.hpp"

#include "fsm_helpers.hpp"

namespace mxua {
namespace {

using namespace test;

constexpr std::uint32_t kIpspRc = 100;

AsConfig as100() {
  AsConfig a;
  a.routing_context = kIpspRc;
  a.mode = TrafficMode::Loadshare;
  return a;
}

// Delivers every Send of one side to the other until both are quiet; collects
// everything else that came out.
struct Link {
  Endpoint& a;
  Endpoint& b;
  Actions seen_a, seen_b;

  void run(Actions from_a, Actions from_b, TimePoint now) {
    for (int guard = 0; guard < 100 && (!from_a.empty() || !from_b.empty()); ++guard) {
      Actions next_a, next_b;
      for (auto& act : from_a) {
        if (std::holds_alternative<Send>(act) || std::holds_alternative<SendData>(act)) {
          auto r = b.receive(stream_of(act), wire_of(act), now);
          next_b.insert(next_b.end(), r.begin(), r.end());
        }
        seen_a.push_back(act);
      }
      for (auto& act : from_b) {
        if (std::holds_alternative<Send>(act) || std::holds_alternative<SendData>(act)) {
          auto r = a.receive(stream_of(act), wire_of(act), now);
          next_a.insert(next_a.end(), r.begin(), r.end());
        }
        seen_b.push_back(act);
      }
      from_a = std::move(next_a);
      from_b = std::move(next_b);
    }
    ASSERT_TRUE(from_a.empty() && from_b.empty()) << "link did not settle";
  }
};

Data ipsp_data(std::uint8_t sls) {
  Data d;
  d.routing_context = kIpspRc;
  d.protocol_data = ProtocolData{PointCode{1}, PointCode{2}, si::kIsup, 2, 0, sls, Bytes{1, 0, 0x10, 0}};
  return d;
}

TEST(Endpoint, AspAgainstSgpComesUpAndCarriesDataBothWays) {
  SgpConfig sc;
  sc.application_servers = {as100()};
  SgpNode node(sc);
  auto sgp = Endpoint::sgp(1, node);
  AspClientConfig ac;
  ac.assoc = 1;
  ac.asp_id = 5;
  ac.activations = {AspActivation{{kIpspRc}, TrafficMode::Loadshare}};
  auto asp = Endpoint::asp(ac);
  Link link{asp, sgp, {}, {}};
  link.run(asp.association_up(4, at(0ms)), sgp.association_up(4, at(0ms)), at(0ms));
  EXPECT_EQ(asp.requesting()->state(), AspState::Active);
  EXPECT_EQ(node.as_state(kIpspRc), AsState::Active);
  EXPECT_EQ(all_of<NtfyIndication>(link.seen_a).size(), 2U);  // AS-INACTIVE, then AS-ACTIVE
  // SS7 -> ASP and ASP -> SS7.
  auto d = ipsp_data(3);
  link.run({}, sgp.send_data(to_view(d), at(1ms)), at(1ms));
  auto at_asp = all_of<DataIndication>(link.seen_a);
  ASSERT_EQ(at_asp.size(), 1U);
  EXPECT_EQ(at_asp[0].data, d);
  link.run(asp.send_data(to_view(d), at(2ms)), {}, at(2ms));
  auto at_sgp = all_of<DataIndication>(link.seen_b);
  ASSERT_EQ(at_sgp.size(), 1U);
  EXPECT_EQ(at_sgp[0].data, d);
  EXPECT_TRUE(errs(link.seen_a).empty());
  EXPECT_TRUE(errs(link.seen_b).empty());
}

IpspConfig ipsp(IpspExchange x, bool initiator) {
  IpspConfig c;
  c.exchange = x;
  c.initiator = initiator;
  c.requesting.assoc = 1;
  c.requesting.asp_id = initiator ? 1 : 2;
  c.requesting.activations = {AspActivation{{kIpspRc}, TrafficMode::Loadshare}};
  c.serving.application_servers = {as100()};
  c.serving.asp_id = initiator ? 1 : 2;
  return c;
}

TEST(Endpoint, IpspSingleExchange) {
  auto a = Endpoint::ipsp(ipsp(IpspExchange::Single, true));
  auto b = Endpoint::ipsp(ipsp(IpspExchange::Single, false));
  ASSERT_NE(a.requesting(), nullptr);
  EXPECT_EQ(a.serving(), nullptr);
  EXPECT_EQ(b.requesting(), nullptr);
  Link link{a, b, {}, {}};
  link.run(a.association_up(4, at(0ms)), b.association_up(4, at(0ms)), at(0ms));
  // One exchange per step: ASPUP/ACK and ASPAC/ACK only, both sides ACTIVE.
  EXPECT_EQ(sent_of<AspUp>(link.seen_a).size(), 1U);
  EXPECT_TRUE(sent_of<AspUp>(link.seen_b).empty());
  EXPECT_EQ(sent_of<AspUpAck>(link.seen_b)[0].asp_id, 2U);  // the responder identifies itself
  EXPECT_EQ(a.requesting()->state(), AspState::Active);
  EXPECT_EQ(b.serving()->asp_state(1, kIpspRc), AspState::Active);
  auto d = ipsp_data(7);
  link.run(a.send_data(to_view(d), at(1ms)), b.send_data(to_view(d), at(1ms)), at(1ms));
  EXPECT_EQ(all_of<DataIndication>(link.seen_a).size(), 1U);
  EXPECT_EQ(all_of<DataIndication>(link.seen_b).size(), 1U);
  EXPECT_TRUE(errs(link.seen_a).empty());
  EXPECT_TRUE(errs(link.seen_b).empty());
}

TEST(Endpoint, IpspDoubleExchange) {
  auto a = Endpoint::ipsp(ipsp(IpspExchange::Double, true));
  auto b = Endpoint::ipsp(ipsp(IpspExchange::Double, false));
  Link link{a, b, {}, {}};
  link.run(a.association_up(4, at(0ms)), b.association_up(4, at(0ms)), at(0ms));
  // Requests in both directions: 4 messages per step.
  EXPECT_EQ(sent_of<AspUp>(link.seen_a).size(), 1U);
  EXPECT_EQ(sent_of<AspUp>(link.seen_b).size(), 1U);
  EXPECT_EQ(sent_of<AspAc>(link.seen_a).size(), 1U);
  EXPECT_EQ(sent_of<AspAc>(link.seen_b).size(), 1U);
  EXPECT_EQ(a.requesting()->state(), AspState::Active);
  EXPECT_EQ(b.requesting()->state(), AspState::Active);
  EXPECT_EQ(a.serving()->asp_state(1, kIpspRc), AspState::Active);
  EXPECT_EQ(b.serving()->asp_state(1, kIpspRc), AspState::Active);
  auto d = ipsp_data(9);
  link.run(a.send_data(to_view(d), at(1ms)), b.send_data(to_view(d), at(1ms)), at(1ms));
  EXPECT_EQ(all_of<DataIndication>(link.seen_a).size(), 1U);
  EXPECT_EQ(all_of<DataIndication>(link.seen_b).size(), 1U);
  EXPECT_TRUE(errs(link.seen_a).empty());
  EXPECT_TRUE(errs(link.seen_b).empty());
  // Each half keeps its timers; the endpoint reports the earlier deadline.
  EXPECT_EQ(a.next_deadline(), std::nullopt);  // no T(ack) outstanding, no T(beat), no AS pending
  EXPECT_TRUE(a.on_timeout(at(5ms)).empty());
}

}  // namespace
}  // namespace mxua
