// Pool element side of ASAP with virtual time: registration, T2 retries,
// T4 re-registration, policy updates, keep-alives, home changes,
// deregistration.
#include "rserpool/asap/pool_element.hpp"

#include "asap_test_support.hpp"

namespace rserpool::asap::test {
namespace {

constexpr PeIdentifier kPe = 0x1a2b3c4d;

PoolElementConfig pe_config(int registrars = 2) {
  PoolElementConfig c;
  c.pool = PoolHandle("gw-pool");
  c.pe_id = kPe;
  c.user_transport.protocol = TransportProtocol::sctp;
  c.user_transport.port = 2905;
  c.user_transport.use = TransportUse::data_and_control;
  c.user_transport.addresses.push_back(*IpAddress::parse("192.0.2.10"));
  c.policy.type = PolicyType::least_used;
  c.policy.load = 100;
  c.registration_life_ms = 30'000;
  c.hunt = hunt_config(registrars);
  return c;
}

wire::asap::RegistrationResponse granted() { return {false, PoolHandle("gw-pool"), kPe, {}}; }

// Registers and brings registrar 0 up as home; returns the actions of the
// connect event (which carry the REGISTRATION).
Actions start_registration(PoolElement& p, TimePoint now = at(0ms)) {
  Actions a;
  p.register_pe(now, a);
  Actions c;
  p.on_registrar_connected(0, now, c);
  return c;
}

void register_ok(PoolElement& p) {
  start_registration(p);
  Actions r;
  p.on_registrar_message(0, granted(), at(1ms), r);
  ASSERT_EQ(p.state(), PoolElement::State::registered);
}

TEST(PoolElement, RegisterHuntsThenSendsRegistrationAndStartsT2) {
  PoolElement p(pe_config());
  Actions a;
  p.register_pe(at(0ms), a);
  EXPECT_EQ(connects(a), (std::vector<AssocId>{0, 1}));
  EXPECT_TRUE(sent<wire::asap::Registration>(a).empty());
  Actions c;
  p.on_registrar_connected(0, at(5ms), c);
  auto regs = sent<wire::asap::Registration>(c);
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0].first, 0u);
  const auto& r = regs[0].second;
  EXPECT_EQ(r.pool_handle, PoolHandle("gw-pool"));
  EXPECT_EQ(r.pool_element.id, kPe);
  EXPECT_EQ(r.pool_element.registration_life_ms, 30'000);
  EXPECT_EQ(r.pool_element.policy.type, PolicyType::least_used);
  EXPECT_EQ(r.pool_element.policy.load, 100u);
  EXPECT_EQ(r.pool_element.user_transport.use, TransportUse::data_and_control);
  EXPECT_FALSE(r.pool_element.asap_transport);  // the registrar fills it in
  EXPECT_TRUE(armed_at(p, TimerKind::t2_registration, at(5ms + 30s)));
  EXPECT_EQ(count<DisconnectRegistrar>(c), 1u);  // the other hunt attempt
  EXPECT_FALSE(armed(p, TimerKind::t5_server_hunt));  // SH3
}

TEST(PoolElement, GrantStopsT2StartsT4AndReports) {
  PoolElement p(pe_config());
  start_registration(p);
  Actions r;
  p.on_registrar_message(0, granted(), at(10ms), r);
  EXPECT_FALSE(armed(p, TimerKind::t2_registration));
  // life 30 s: T4 = min(10 min, 30 s - 20 s) = 10 s.
  EXPECT_TRUE(armed_at(p, TimerKind::t4_reregistration, at(10ms + 10s)));
  EXPECT_EQ(p.next_deadline(), at(10ms + 10s));
  auto res = only<RegistrationResult>(r);
  EXPECT_EQ(res.code, RegistrationCode::granted);
  EXPECT_EQ(res.pe_id, kPe);
  EXPECT_FALSE(res.renewal);
}

TEST(PoolElement, ReregistrationIntervalFollowsLifetime) {
  auto c = pe_config();
  c.registration_life_ms = 3'600'000;  // one hour: capped at 10 min
  EXPECT_EQ(PoolElement(c).reregistration_interval(), Duration(10min));
  c.registration_life_ms = kInfiniteLifetime;
  EXPECT_EQ(PoolElement(c).reregistration_interval(), Duration(10min));
  c.registration_life_ms = 120'000;
  EXPECT_EQ(PoolElement(c).reregistration_interval(), Duration(100s));
  c.registration_life_ms = 10'000;  // shorter than the 20 s margin: half life
  EXPECT_EQ(PoolElement(c).reregistration_interval(), Duration(5s));
  c.reregistration_interval = 2500ms;
  EXPECT_EQ(PoolElement(c).reregistration_interval(), Duration(2500ms));
}

TEST(PoolElement, T4ExpiryReregistersWithSamePeIdentifier) {
  PoolElement p(pe_config());
  register_ok(p);
  // Granted at 1 ms: T4 is due at 10.001 s, not before.
  EXPECT_TRUE(fire(p, at(10'000ms)).empty());
  Actions t = fire(p, at(10'001ms));
  auto regs = sent<wire::asap::Registration>(t);
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0].second.pool_element.id, kPe);
  EXPECT_TRUE(armed_at(p, TimerKind::t2_registration, at(10'001ms + 30s)));
  Actions r;
  p.on_registrar_message(0, granted(), at(10'010ms), r);
  auto res = only<RegistrationResult>(r);
  EXPECT_EQ(res.code, RegistrationCode::granted);
  EXPECT_TRUE(res.renewal);
  EXPECT_TRUE(armed_at(p, TimerKind::t4_reregistration, at(10'010ms + 10s)));
}

TEST(PoolElement, T2RetriesUpToMaxRegAttemptThenTimesOut) {
  PoolElement p(pe_config(1));
  start_registration(p);
  // First T2 expiry: the home is abandoned, a hunt runs, then attempt 2.
  Actions t1 = fire(p, at(30s));
  EXPECT_EQ(only<DisconnectRegistrar>(t1).assoc, 0u);
  EXPECT_EQ(connects(t1), (std::vector<AssocId>{0}));
  EXPECT_EQ(count<RegistrationResult>(t1), 0u);
  Actions c;
  p.on_registrar_connected(0, at(31s), c);
  EXPECT_EQ(sent<wire::asap::Registration>(c).size(), 1u);
  EXPECT_TRUE(armed_at(p, TimerKind::t2_registration, at(31s + 30s)));
  // Second expiry: MAX-REG-ATTEMPT (2) reached.
  Actions t2 = fire(p, at(61s));
  EXPECT_EQ(only<RegistrationResult>(t2).code, RegistrationCode::timeout);
  EXPECT_TRUE(sent<wire::asap::Registration>(t2).empty());
  EXPECT_EQ(p.state(), PoolElement::State::idle);
  // A late answer changes nothing.
  Actions late;
  p.on_registrar_message(0, granted(), at(62s), late);
  EXPECT_TRUE(late.empty());
}

TEST(PoolElement, RejectionReportsTheCause) {
  PoolElement p(pe_config());
  start_registration(p);
  wire::asap::RegistrationResponse rej{true, PoolHandle("gw-pool"), kPe,
                                       {OperationErrorCause{ErrorCause::inconsistent_pooling_policy, {}}}};
  Actions r;
  p.on_registrar_message(0, rej, at(5ms), r);
  auto res = only<RegistrationResult>(r);
  EXPECT_EQ(res.code, RegistrationCode::rejected);
  ASSERT_EQ(res.causes.size(), 1u);
  EXPECT_EQ(res.causes[0].code, ErrorCause::inconsistent_pooling_policy);
  EXPECT_EQ(p.state(), PoolElement::State::idle);
  EXPECT_FALSE(armed(p, TimerKind::t4_reregistration));
}

TEST(PoolElement, ResponseForAnotherPeIsIgnored) {
  PoolElement p(pe_config());
  start_registration(p);
  Actions r;
  p.on_registrar_message(0, wire::asap::RegistrationResponse{false, PoolHandle("gw-pool"), kPe + 1, {}}, at(5ms), r);
  p.on_registrar_message(0, wire::asap::RegistrationResponse{false, PoolHandle("other"), kPe, {}}, at(5ms), r);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(p.state(), PoolElement::State::registering);
}

TEST(PoolElement, HuntRoundWithoutRegistrarReportsNoRegistrarOnce) {
  PoolElement p(pe_config());
  Actions a;
  p.register_pe(at(0ms), a);
  // Both registrars refuse, at every sweep: the attempts fail at once.
  auto refuse = [&p](const Actions& acts, TimePoint now) {
    for (AssocId id : connects(acts)) {
      Actions f;
      p.on_registrar_connect_failed(id, now, f);
    }
  };
  refuse(a, at(1ms));
  Actions t;
  while (p.next_deadline() && *p.next_deadline() <= at(10s)) {
    const TimePoint when = *p.next_deadline();
    Actions x = fire(p, when);
    refuse(x, when);
    t.insert(t.end(), x.begin(), x.end());
  }
  EXPECT_EQ(only<RegistrationResult>(t).code, RegistrationCode::no_registrar);
  EXPECT_TRUE(armed_at(p, TimerKind::t5_server_hunt, at(10s + 20s)));
  Actions t2;
  while (p.next_deadline() && *p.next_deadline() <= at(30s)) {
    const TimePoint when = *p.next_deadline();
    Actions x = fire(p, when);
    refuse(x, when);
    t2.insert(t2.end(), x.begin(), x.end());
  }
  EXPECT_EQ(count<RegistrationResult>(t2), 0u);
  EXPECT_TRUE(armed_at(p, TimerKind::t5_server_hunt, at(30s + 40s)));
  // The hunt goes on (sweeps every few seconds now), and a registrar that
  // comes up still gets the registration.
  Actions s;
  TimePoint when{};
  while (connects(s).empty()) {
    when = *p.next_deadline();
    s = fire(p, when);
  }
  EXPECT_LT(when, at(30s + 40s));  // a sweep, before the next T5
  Actions c;
  p.on_registrar_connected(connects(s).front(), when + 1ms, c);
  EXPECT_EQ(sent<wire::asap::Registration>(c).size(), 1u);
}

TEST(PoolElement, PolicyUpdateReregistersWithNewLoad) {
  PoolElement p(pe_config());
  register_ok(p);
  PolicyParameters pol;
  pol.type = PolicyType::least_used;
  pol.load = 0x80000000u;
  Actions u;
  p.update_policy(pol, at(3s), u);
  EXPECT_FALSE(armed(p, TimerKind::t4_reregistration));
  auto regs = sent<wire::asap::Registration>(u);
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0].first, 0u);
  EXPECT_EQ(regs[0].second.pool_element.id, kPe);
  EXPECT_EQ(regs[0].second.pool_element.policy.load, 0x80000000u);
  Actions r;
  p.on_registrar_message(0, granted(), at(3100ms), r);
  EXPECT_TRUE(only<RegistrationResult>(r).renewal);
}

TEST(PoolElement, PolicyUpdateWhileIdleOnlyStoresIt) {
  PoolElement p(pe_config());
  PolicyParameters pol;
  pol.type = PolicyType::least_used;
  pol.load = 7;
  Actions u;
  p.update_policy(pol, at(0ms), u);
  EXPECT_TRUE(u.empty());
  auto c = start_registration(p);
  EXPECT_EQ(sent<wire::asap::Registration>(c).at(0).second.pool_element.policy.load, 7u);
}

TEST(PoolElement, KeepAliveForOtherPoolIsDropped) {
  PoolElement p(pe_config());
  register_ok(p);
  Actions k;
  p.on_registrar_message(0, wire::asap::EndpointKeepAlive{false, 0x77, PoolHandle("not-ours"), std::nullopt}, at(5s),
                         k);
  EXPECT_TRUE(k.empty());
}

TEST(PoolElement, KeepAliveIsAnsweredOnTheSendersAssociation) {
  PoolElement p(pe_config());
  register_ok(p);
  Actions k;
  p.on_registrar_message(1, wire::asap::EndpointKeepAlive{false, 0x77, PoolHandle("gw-pool"), kPe}, at(5s), k);
  auto acks = sent<wire::asap::EndpointKeepAliveAck>(k);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].first, 1u);
  EXPECT_EQ(acks[0].second.pe_id, kPe);
  EXPECT_EQ(acks[0].second.pool_handle, PoolHandle("gw-pool"));
  EXPECT_EQ(count<HomeRegistrarChanged>(k), 0u);  // H = 0: home unchanged
  EXPECT_EQ(p.hunt().home(), AssocId{0});
}

TEST(PoolElement, HomeBitAdoptsTheSenderAsHome) {
  PoolElement p(pe_config());
  register_ok(p);
  const AssocId inbound = kInboundAssocBase + 4;
  Actions k;
  p.on_registrar_message(inbound, wire::asap::EndpointKeepAlive{true, 0xabcd, PoolHandle("gw-pool"), kPe}, at(5s), k);
  ASSERT_EQ(sent<wire::asap::EndpointKeepAliveAck>(k).size(), 1u);
  EXPECT_EQ(sent<wire::asap::EndpointKeepAliveAck>(k)[0].first, inbound);
  auto h = only<HomeRegistrarChanged>(k);
  EXPECT_EQ(h.assoc, inbound);
  EXPECT_EQ(h.server_id, 0xabcdu);
  // The new home gets a registration at once, naming it, on its association.
  auto regs = sent<wire::asap::Registration>(k);
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0].first, inbound);
  EXPECT_EQ(regs[0].second.pool_element.home_registrar, 0xabcdu);
  EXPECT_FALSE(armed(p, TimerKind::t4_reregistration));
  EXPECT_TRUE(armed_at(p, TimerKind::t2_registration, at(5s + 30s)));
  Actions g;
  p.on_registrar_message(inbound, granted(), at(5100ms), g);
  auto res = only<RegistrationResult>(g);
  EXPECT_EQ(res.code, RegistrationCode::granted);
  EXPECT_TRUE(res.renewal);
  // The same H-bit keep-alive again: answered, no new adoption.
  Actions k2;
  p.on_registrar_message(inbound, wire::asap::EndpointKeepAlive{true, 0xabcd, PoolHandle("gw-pool"), kPe}, at(11s),
                         k2);
  EXPECT_EQ(count<HomeRegistrarChanged>(k2), 0u);
  EXPECT_EQ(sent<wire::asap::EndpointKeepAliveAck>(k2).size(), 1u);
}

TEST(PoolElement, WithoutReregisterOnTakeoverTheNextT4GoesToTheNewHome) {
  auto cfg = pe_config();
  cfg.reregister_on_takeover = false;
  PoolElement p(cfg);
  register_ok(p);
  const AssocId inbound = kInboundAssocBase + 1;
  Actions k;
  p.on_registrar_message(inbound, wire::asap::EndpointKeepAlive{true, 0xabcd, PoolHandle("gw-pool"), kPe}, at(5s), k);
  EXPECT_EQ(only<HomeRegistrarChanged>(k).assoc, inbound);
  EXPECT_TRUE(sent<wire::asap::Registration>(k).empty());
  Actions t = fire(p, at(1ms + 10s));
  auto regs = sent<wire::asap::Registration>(t);
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0].first, inbound);
  EXPECT_EQ(regs[0].second.pool_element.home_registrar, 0xabcdu);
}

// RFC 5353 takeover: the home died, the PE hunts (here its only configured
// registrar, which is gone), and the registrar that took over opens an
// association to the PE's ASAP transport with an H-bit keep-alive. That
// ends the hunt and the registration goes there.
TEST(PoolElement, TakeoverKeepAliveEndsTheHuntAndGetsTheRegistration) {
  PoolElement p(pe_config(1));
  register_ok(p);
  Actions l;
  p.on_registrar_lost(0, at(4s), l);
  EXPECT_TRUE(p.hunt().hunting());
  EXPECT_EQ(connects(l), std::vector<AssocId>{0});
  const AssocId inbound = kInboundAssocBase;
  Actions k;
  p.on_registrar_message(inbound, wire::asap::EndpointKeepAlive{true, 0x5eed, PoolHandle("gw-pool"), kPe}, at(6s), k);
  // ACK first, on the registrar's own association.
  ASSERT_FALSE(k.empty());
  const auto* ack = std::get_if<SendToRegistrar>(&k.front());
  ASSERT_NE(ack, nullptr);
  EXPECT_EQ(ack->assoc, inbound);
  EXPECT_TRUE(std::holds_alternative<wire::asap::EndpointKeepAliveAck>(ack->message));
  EXPECT_FALSE(p.hunt().hunting());
  EXPECT_FALSE(armed(p, TimerKind::t5_server_hunt));
  ASSERT_EQ(all<DisconnectRegistrar>(k).size(), 1u);  // the pending attempt to the dead home
  EXPECT_EQ(all<DisconnectRegistrar>(k)[0].assoc, 0u);
  EXPECT_EQ(only<HomeRegistrarChanged>(k).server_id, 0x5eedu);
  auto regs = sent<wire::asap::Registration>(k);
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0].first, inbound);
  EXPECT_EQ(regs[0].second.pool_element.home_registrar, 0x5eedu);
  EXPECT_EQ(regs[0].second.pool_element.id, kPe);
  Actions g;
  p.on_registrar_message(inbound, granted(), at(6100ms), g);
  EXPECT_EQ(only<RegistrationResult>(g).code, RegistrationCode::granted);
  EXPECT_EQ(p.state(), PoolElement::State::registered);
  EXPECT_EQ(p.hunt().home(), inbound);
  // The taken-over home is lost later: hunting the configured list again.
  Actions l2;
  p.on_registrar_lost(inbound, at(9s), l2);
  EXPECT_TRUE(p.hunt().hunting());
  EXPECT_EQ(p.state(), PoolElement::State::registering);
}

TEST(PoolElement, RegistrationInFlightAtTheOldHomeIsResentToTheTakeoverHome) {
  PoolElement p(pe_config());
  register_ok(p);
  Actions t = fire(p, at(1ms + 10s));
  ASSERT_EQ(sent<wire::asap::Registration>(t).size(), 1u);
  const AssocId inbound = kInboundAssocBase + 2;
  Actions k;
  p.on_registrar_message(inbound, wire::asap::EndpointKeepAlive{true, 0x77, PoolHandle("gw-pool"), kPe}, at(11s), k);
  // T2 now runs for the registration sent to the new home.
  EXPECT_TRUE(armed_at(p, TimerKind::t2_registration, at(11s + 30s)));
  auto regs = sent<wire::asap::Registration>(k);
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0].first, inbound);
  // The old home's T2 expiry (stale) must not abandon the new home.
  Actions g;
  p.on_registrar_message(inbound, granted(), at(11100ms), g);
  EXPECT_EQ(only<RegistrationResult>(g).code, RegistrationCode::granted);
  EXPECT_EQ(p.hunt().home(), inbound);
}

TEST(PoolElement, RegistrarToPeMessagesAreClassified) {
  EXPECT_TRUE(PoolElement::is_registrar_to_pe(wire::asap::EndpointKeepAlive{true, 1, PoolHandle("p"), 2}));
  EXPECT_TRUE(PoolElement::is_registrar_to_pe(granted()));
  EXPECT_TRUE(PoolElement::is_registrar_to_pe(wire::asap::DeregistrationResponse{PoolHandle("p"), 2, {}}));
  EXPECT_TRUE(PoolElement::is_registrar_to_pe(wire::asap::Error{}));
  EXPECT_FALSE(PoolElement::is_registrar_to_pe(wire::asap::HandleResolution{}));
  EXPECT_FALSE(PoolElement::is_registrar_to_pe(wire::asap::Registration{}));
  EXPECT_FALSE(PoolElement::is_registrar_to_pe(wire::asap::Cookie{}));
  EXPECT_FALSE(PoolElement::is_registrar_to_pe(wire::asap::EndpointKeepAliveAck{}));
}

TEST(PoolElement, HomeLossReregistersAtTheNewHome) {
  PoolElement p(pe_config());
  register_ok(p);
  Actions l;
  p.on_registrar_lost(0, at(4s), l);
  EXPECT_FALSE(armed(p, TimerKind::t4_reregistration));
  EXPECT_EQ(count<ConnectRegistrar>(l), 2u);
  EXPECT_EQ(p.state(), PoolElement::State::registering);
  Actions c;
  p.on_registrar_connected(1, at(4100ms), c);
  auto regs = sent<wire::asap::Registration>(c);
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0].first, 1u);
  EXPECT_EQ(regs[0].second.pool_element.id, kPe);
  Actions r;
  p.on_registrar_message(1, granted(), at(4200ms), r);
  EXPECT_EQ(only<RegistrationResult>(r).code, RegistrationCode::granted);
}

TEST(PoolElement, LossOfANonHomeAssociationChangesNothing) {
  PoolElement p(pe_config());
  register_ok(p);
  Actions l;
  p.on_registrar_lost(kInboundAssocBase + 1, at(4s), l);
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(p.state(), PoolElement::State::registered);
}

TEST(PoolElement, DeregistrationSendsT3AndReports) {
  PoolElement p(pe_config());
  register_ok(p);
  Actions d;
  p.deregister(at(5s), d);
  EXPECT_FALSE(armed(p, TimerKind::t4_reregistration));
  auto ds = sent<wire::asap::Deregistration>(d);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].second.pe_id, kPe);
  EXPECT_TRUE(armed_at(p, TimerKind::t3_deregistration, at(5s + 30s)));
  Actions r;
  p.on_registrar_message(0, wire::asap::DeregistrationResponse{PoolHandle("gw-pool"), kPe, {}}, at(5100ms), r);
  EXPECT_FALSE(armed(p, TimerKind::t3_deregistration));
  EXPECT_FALSE(p.next_deadline().has_value());
  EXPECT_EQ(only<DeregistrationResult>(r).code, DeregistrationCode::done);
  EXPECT_EQ(p.state(), PoolElement::State::idle);
}

TEST(PoolElement, DeregistrationTimesOutAfterMaxAttempts) {
  PoolElement p(pe_config(1));
  register_ok(p);
  Actions d;
  p.deregister(at(5s), d);
  Actions t = fire(p, at(35s));
  EXPECT_EQ(count<DeregistrationResult>(t), 0u);
  Actions c;
  p.on_registrar_connected(0, at(36s), c);
  EXPECT_EQ(sent<wire::asap::Deregistration>(c).size(), 1u);
  Actions t2 = fire(p, at(66s));
  EXPECT_EQ(only<DeregistrationResult>(t2).code, DeregistrationCode::timeout);
}

TEST(PoolElement, UnsolicitedDeregistrationResponseTriggersReregistration) {
  PoolElement p(pe_config());
  register_ok(p);
  Actions r;
  p.on_registrar_message(0, wire::asap::DeregistrationResponse{PoolHandle("gw-pool"), kPe, {}}, at(7s), r);
  EXPECT_EQ(sent<wire::asap::Registration>(r).size(), 1u);
  EXPECT_EQ(p.state(), PoolElement::State::registering);
  EXPECT_EQ(p.dropped_by_registrar(), 1u);
}

TEST(PoolElement, OutdatedAnnouncedRegistrarIsNotHunted) {
  auto cfg = pe_config(0);
  PoolElement p(cfg);
  Actions ann;
  p.on_server_announce(wire::asap::ServerAnnounce{0x51, {}}, *IpAddress::parse("10.1.2.3"), at(0ms), ann);
  EXPECT_TRUE(armed_at(p, TimerKind::t7_enrp_outdate, at(5s), 0));
  Actions t7 = fire(p, at(5s));
  Actions r;
  p.register_pe(at(6s), r);
  EXPECT_EQ(count<ConnectRegistrar>(r), 0u);
  // Announced again: tried by the running hunt.
  Actions ann2;
  p.on_server_announce(wire::asap::ServerAnnounce{0x51, {}}, *IpAddress::parse("10.1.2.3"), at(7s), ann2);
  EXPECT_EQ(count<ConnectRegistrar>(ann2), 1u);
}

TEST(PoolElement, NothingIsDueBeforeItsDeadline) {
  PoolElement p(pe_config());
  EXPECT_FALSE(p.next_deadline().has_value());  // idle: no timer at all
  EXPECT_TRUE(fire(p, at(1h)).empty());
  register_ok(p);
  const TimePoint t4 = *deadline(p, TimerKind::t4_reregistration);
  EXPECT_TRUE(fire(p, t4 - 1ns).empty());
  EXPECT_EQ(sent<wire::asap::Registration>(fire(p, t4)).size(), 1u);
}

// Responses count only from the registrar the request went to: anyone can
// open an association to our ASAP port (takeover) and send one.
TEST(PoolElement, ResponsesFromAnotherAssociationAreIgnored) {
  PoolElement p(pe_config());
  start_registration(p);
  const AssocId stranger = kInboundAssocBase + 7;
  wire::asap::RegistrationResponse rej{true, PoolHandle("gw-pool"), kPe, {}};
  Actions r;
  EXPECT_TRUE(p.on_registrar_message(stranger, rej, at(5ms), r));
  EXPECT_TRUE(p.on_registrar_message(stranger, wire::asap::Error{}, at(5ms), r));
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(p.state(), PoolElement::State::registering);
  Actions g;
  p.on_registrar_message(0, granted(), at(6ms), g);
  EXPECT_EQ(only<RegistrationResult>(g).code, RegistrationCode::granted);
  // Nor can a stranger's DEREGISTRATION_RESPONSE make us re-register.
  Actions d;
  p.on_registrar_message(stranger, wire::asap::DeregistrationResponse{PoolHandle("gw-pool"), kPe, {}}, at(7ms), d);
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(p.state(), PoolElement::State::registered);
  // A message a registrar never sends a PE is refused outright.
  Actions h;
  EXPECT_FALSE(p.on_registrar_message(stranger, wire::asap::HandleResolution{}, at(8ms), h));
  EXPECT_TRUE(h.empty());
}

}  // namespace
}  // namespace rserpool::asap::test
