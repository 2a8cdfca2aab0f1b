// The forwarder's M3UA, sans-I/O: where the routing context sits in DATA,
// the in-place rewrite, the SGP answers and the IPSP bring-up.
#include <gtest/gtest.h>

#include "mxua/codec.hpp"
#include "peer_protocol.hpp"

namespace sg::bench {
namespace {

mxua::Data data(std::optional<std::uint32_t> rc, std::optional<std::uint32_t> na = std::nullopt) {
  mxua::Data d;
  d.network_appearance = na;
  d.routing_context = rc;
  d.protocol_data.opc = mxua::PointCode{0x0B9};
  d.protocol_data.dpc = mxua::PointCode{0x0B8};
  d.protocol_data.si = 3;
  d.protocol_data.ni = 2;
  d.protocol_data.sls = 5;
  d.protocol_data.user_data = {1, 2, 3, 4, 5};
  return d;
}

template <class T>
T decoded_as(const rserpool::Bytes& wire) {
  auto m = mxua::decode(wire);
  EXPECT_TRUE(static_cast<bool>(m));
  EXPECT_TRUE(std::holds_alternative<T>(*m));
  return std::get<T>(*m);
}

TEST(ForwarderPeerProtocol, RewritesTheRoutingContextInPlaceAndKeepsTheRest) {
  for (auto na : {std::optional<std::uint32_t>{}, std::optional<std::uint32_t>{7}}) {
    auto wire = mxua::encode(mxua::Message{data(100, na)});
    PeerProtocol p(PeerRole::sgp, std::nullopt);
    DataLayout layout;
    std::vector<rserpool::Bytes> replies;
    ASSERT_EQ(p.receive(wire, layout, replies), Inbound::data);
    EXPECT_TRUE(replies.empty());
    ASSERT_TRUE(layout.routing_context_offset);
    write_routing_context(wire, *layout.routing_context_offset, 1);
    auto d = decoded_as<mxua::Data>(wire);
    EXPECT_EQ(d.routing_context, 1U);
    EXPECT_EQ(d.network_appearance, na);
    EXPECT_EQ(d.protocol_data, data(1).protocol_data);
  }
}

TEST(ForwarderPeerProtocol, DataWithoutRoutingContextHasNoOffset) {
  auto wire = mxua::encode(mxua::Message{data(std::nullopt)});
  auto l = locate_data(wire);
  ASSERT_TRUE(l);
  EXPECT_FALSE(l->routing_context_offset);
}

TEST(ForwarderPeerProtocol, MalformedDataIsRefused) {
  auto wire = mxua::encode(mxua::Message{data(100)});
  auto truncated = wire;
  truncated.resize(truncated.size() - 8);  // header length no longer matches
  EXPECT_FALSE(locate_data(truncated));
  auto bad_param = wire;
  bad_param[8 + 2] = 0;  // first parameter's length below its own header
  bad_param[8 + 3] = 2;
  EXPECT_FALSE(locate_data(bad_param));
  auto bad_version = wire;
  bad_version[0] = 2;
  EXPECT_FALSE(locate_data(bad_version));
  PeerProtocol p(PeerRole::sgp, std::nullopt);
  DataLayout layout;
  std::vector<rserpool::Bytes> replies;
  EXPECT_EQ(p.receive(truncated, layout, replies), Inbound::malformed);
  EXPECT_TRUE(replies.empty());
}

TEST(ForwarderPeerProtocol, AnswersAnAspAsAnSgpAndLearnsItsRoutingContext) {
  PeerProtocol p(PeerRole::sgp, std::nullopt);
  std::vector<rserpool::Bytes> replies;
  DataLayout layout;
  p.association_up(replies);
  EXPECT_TRUE(replies.empty());  // the ASP speaks first
  EXPECT_EQ(p.receive(mxua::encode(mxua::Message{mxua::AspUp{}}), layout, replies), Inbound::management);
  ASSERT_EQ(replies.size(), 1U);
  decoded_as<mxua::AspUpAck>(replies[0]);
  replies.clear();
  mxua::AspAc ac;
  ac.traffic_mode = mxua::TrafficMode::Loadshare;
  ac.routing_contexts = {100};
  EXPECT_EQ(p.receive(mxua::encode(mxua::Message{ac}), layout, replies), Inbound::activated);
  ASSERT_EQ(replies.size(), 2U);
  auto ack = decoded_as<mxua::AspAcAck>(replies[0]);
  EXPECT_EQ(ack.routing_contexts, std::vector<std::uint32_t>{100});
  auto ntfy = decoded_as<mxua::Ntfy>(replies[1]);
  EXPECT_EQ(ntfy.status.info, mxua::status_info::kAsActive);
  EXPECT_TRUE(p.active());
  EXPECT_EQ(p.routing_context(), 100U);
  replies.clear();
  mxua::Beat beat;
  beat.heartbeat_data = rserpool::Bytes{9, 8, 7};
  EXPECT_EQ(p.receive(mxua::encode(mxua::Message{beat}), layout, replies), Inbound::management);
  ASSERT_EQ(replies.size(), 1U);
  EXPECT_EQ(decoded_as<mxua::BeatAck>(replies[0]).heartbeat_data, beat.heartbeat_data);
  replies.clear();
  EXPECT_EQ(p.receive(mxua::encode(mxua::Message{mxua::AspIa{{100}, std::nullopt}}), layout, replies),
            Inbound::deactivated);
  EXPECT_FALSE(p.active());
}

TEST(ForwarderPeerProtocol, BringsAControllerIpspUp) {
  PeerProtocol p(PeerRole::ipsp_initiator, 1U);
  std::vector<rserpool::Bytes> replies;
  DataLayout layout;
  p.association_up(replies);
  ASSERT_EQ(replies.size(), 1U);
  decoded_as<mxua::AspUp>(replies[0]);
  replies.clear();
  EXPECT_EQ(p.receive(mxua::encode(mxua::Message{mxua::AspUpAck{}}), layout, replies), Inbound::management);
  ASSERT_EQ(replies.size(), 1U);
  auto ac = decoded_as<mxua::AspAc>(replies[0]);
  EXPECT_EQ(ac.routing_contexts, std::vector<std::uint32_t>{1});
  EXPECT_FALSE(p.active());
  replies.clear();
  mxua::AspAcAck ack;
  ack.routing_contexts = {1};
  EXPECT_EQ(p.receive(mxua::encode(mxua::Message{ack}), layout, replies), Inbound::activated);
  EXPECT_TRUE(p.active());
  EXPECT_TRUE(replies.empty());
  // A repeated ACK changes nothing.
  EXPECT_EQ(p.receive(mxua::encode(mxua::Message{ack}), layout, replies), Inbound::ignored);
}

TEST(ForwarderPeerProtocol, DataNeverGoesOutOnStreamZero) {
  EXPECT_EQ(data_stream(3, 16), 3);
  EXPECT_EQ(data_stream(0, 16), 1);
  EXPECT_EQ(data_stream(20, 16), 1 + 20 % 15);
  EXPECT_EQ(data_stream(1, 2), 1);
  EXPECT_EQ(data_stream(5, 2), 1);
  EXPECT_EQ(data_stream(5, 1), 0);
}

}  // namespace
}  // namespace sg::bench
