// ASAP server side of the registrar, sans-I/O, on virtual time.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <type_traits>
#include <set>

#include "test_support.hpp"

using namespace regtest;
namespace asap = rserpool::wire::asap;

namespace {

struct AsapFixture : ::testing::Test {
  RegistrarConfig cfg = [] {
    auto c = RegistrarConfig::rfc_defaults(0x1000);
    c.keep_alive_interval = 4000ms;
    c.keep_alive_timeout = 1000ms;
    return c;
  }();
  std::unique_ptr<Registrar> reg;
  TimePoint now = at(1000ms);

  void SetUp() override { make(); }
  void make() {
    reg = std::make_unique<Registrar>(cfg);
    (void)reg->on_asap_association_up(1, {ip(1)}, 4001, now);
    (void)reg->on_asap_association_up(2, {ip(2)}, 4002, now);
    (void)reg->on_asap_association_up(9, {ip(9)}, 4009, now);  // a PU
  }
  std::vector<Action> send(AssociationId aid, const Bytes& b) { return reg->on_asap_message(aid, b, now); }
  std::vector<Action> send(AssociationId aid, const asap::Message& m) { return send(aid, asap::encode(m)); }
  asap::RegistrationResponse register_pe(AssociationId aid, const std::string& pool, const PoolElementParameter& pe) {
    auto acts = send(aid, registration(pool, pe));
    auto r = asap_of<asap::RegistrationResponse>(acts, aid);
    EXPECT_EQ(r.size(), 1u);
    return r.empty() ? asap::RegistrationResponse{} : r.front();
  }
};

TEST_F(AsapFixture, RegistrationMakesUsHomeAndFillsAsapTransport) {
  auto r = register_pe(1, "pool", make_pe(42, 1));
  EXPECT_FALSE(r.rejected);
  EXPECT_EQ(r.pe_id, 42u);
  const auto* e = reg->handlespace().find(PoolHandle{"pool"}, 42);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->owner(), 0x1000u);
  ASSERT_TRUE(e->element().asap_transport);
  EXPECT_EQ(e->element().asap_transport->port, 4001);
  EXPECT_EQ(e->element().asap_transport->addresses, std::vector<IpAddress>{ip(1)});
  EXPECT_EQ(reg->counters().registrations, 1u);
  // Re-registration is an update, not a new PE.
  r = register_pe(1, "pool", make_pe(42, 1));
  EXPECT_FALSE(r.rejected);
  EXPECT_EQ(reg->counters().reregistrations, 1u);
  EXPECT_EQ(reg->handlespace().element_count(), 1u);
}

TEST_F(AsapFixture, InconsistentPoolingPolicyIsRejectedWithPoolPolicy) {
  ASSERT_FALSE(register_pe(1, "pool", make_pe(1, 1)).rejected);
  auto r = register_pe(2, "pool", make_pe(2, 2, 30000, PolicyType::least_used));
  ASSERT_TRUE(r.rejected);
  ASSERT_EQ(r.error.size(), 1u);
  EXPECT_EQ(r.error[0].code, ErrorCause::inconsistent_pooling_policy);
  EXPECT_FALSE(r.error[0].info.empty());
  EXPECT_EQ(reg->counters().registrations_rejected, 1u);
}

TEST_F(AsapFixture, InconsistentTransportTypeAndDataControl) {
  ASSERT_FALSE(register_pe(1, "pool", make_pe(1, 1)).rejected);
  auto tcp = make_pe(2, 2);
  tcp.user_transport.protocol = TransportProtocol::tcp;
  auto r = register_pe(2, "pool", tcp);
  ASSERT_TRUE(r.rejected);
  EXPECT_EQ(r.error.at(0).code, ErrorCause::inconsistent_transport_type);
  auto ctl = make_pe(3, 2);
  ctl.user_transport.use = TransportUse::data_and_control;
  r = register_pe(2, "pool", ctl);
  ASSERT_TRUE(r.rejected);
  EXPECT_EQ(r.error.at(0).code, ErrorCause::inconsistent_data_control);
}

TEST_F(AsapFixture, UserTransportOutsideAssociationAddressesIsRejectedForSecurity) {
  auto r = register_pe(1, "pool", make_pe(7, 2));  // claims 10.0.0.2 over 10.0.0.1's association
  ASSERT_TRUE(r.rejected);
  EXPECT_EQ(r.error.at(0).code, ErrorCause::rejected_security);
  EXPECT_EQ(reg->handlespace().element_count(), 0u);
  cfg.address_check_cause = ErrorCause::invalid_values;
  make();
  EXPECT_EQ(register_pe(1, "pool", make_pe(7, 2)).error.at(0).code, ErrorCause::invalid_values);
  cfg.check_pe_addresses = false;
  make();
  EXPECT_FALSE(register_pe(1, "pool", make_pe(7, 2)).rejected);
}

TEST_F(AsapFixture, ForeignAddressesBesideOwnOnesAreDroppedNotRegistered) {
  auto pe = make_pe(7, 1);  // 10.0.0.1: the association's own address
  auto foreign = make_pe(8, 2);
  pe.user_transport.addresses.push_back(foreign.user_transport.addresses.at(0));
  auto r = register_pe(1, "pool", pe);
  ASSERT_FALSE(r.rejected);
  const auto* e = reg->handlespace().find(PoolHandle{"pool"}, 7);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->element().user_transport.addresses, make_pe(7, 1).user_transport.addresses);
  EXPECT_EQ(reg->counters().foreign_addresses_removed, 1u);
}

TEST_F(AsapFixture, UnknownPolicyAndZeroIdAreInvalidValues) {
  auto pe = make_pe(5, 1);
  pe.policy.type = static_cast<PolicyType>(0x7777);
  EXPECT_EQ(register_pe(1, "pool", pe).error.at(0).code, ErrorCause::invalid_values);
  EXPECT_EQ(register_pe(1, "pool", make_pe(0, 1)).error.at(0).code, ErrorCause::invalid_values);
}

TEST_F(AsapFixture, DeregistrationOnlyByThePeItself) {
  ASSERT_FALSE(register_pe(1, "pool", make_pe(42, 1)).rejected);
  auto acts = send(9, asap::Deregistration{PoolHandle{"pool"}, 42});
  auto resp = asap_of<asap::DeregistrationResponse>(acts, 9);
  ASSERT_EQ(resp.size(), 1u);
  ASSERT_EQ(resp[0].error.size(), 1u);
  EXPECT_EQ(resp[0].error[0].code, ErrorCause::rejected_security);
  EXPECT_EQ(reg->counters().deregistrations_rejected, 1u);
  EXPECT_NE(reg->handlespace().find(PoolHandle{"pool"}, 42), nullptr);

  acts = send(1, asap::Deregistration{PoolHandle{"pool"}, 42});
  resp = asap_of<asap::DeregistrationResponse>(acts, 1);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_TRUE(resp[0].error.empty());
  EXPECT_EQ(reg->handlespace().element_count(), 0u);
  EXPECT_TRUE(has_event(acts, Event::pe_deregistered));
  // Unknown PE: success anyway.
  acts = send(1, asap::Deregistration{PoolHandle{"pool"}, 42});
  resp = asap_of<asap::DeregistrationResponse>(acts, 1);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_TRUE(resp[0].error.empty());
}

TEST_F(AsapFixture, LifetimeExpirySendsUnsolicitedDeregistrationResponse) {
  cfg.keep_alive_audit = false;
  make();
  ASSERT_FALSE(register_pe(1, "pool", make_pe(42, 1, 3000)).rejected);
  EXPECT_EQ(reg->deadline(TimerKey{TimerKind::lifetime_expiry, 0}), now + 3000ms);
  EXPECT_EQ(reg->next_deadline(), now + 3000ms);
  auto acts = reg->on_timeout(now + 2999ms);
  EXPECT_EQ(reg->handlespace().element_count(), 1u);
  acts = reg->on_timeout(now + 3000ms);
  EXPECT_EQ(reg->handlespace().element_count(), 0u);
  EXPECT_EQ(asap_of<asap::DeregistrationResponse>(acts, 1).size(), 1u);
  EXPECT_TRUE(has_event(acts, Event::pe_expired));
  EXPECT_FALSE(reg->deadline(TimerKey{TimerKind::lifetime_expiry, 0}).has_value());
  EXPECT_FALSE(reg->next_deadline().has_value());
}

// A resolution keeps the earliest deadline of the event before it (it
// changes none), except when its event first handled what was due: then
// the deadline is the next one, not the one just handled.
TEST_F(AsapFixture, ResolutionKeepsTheDeadlineUnlessItsEventHandledOne) {
  cfg.keep_alive_audit = false;
  make();
  const TimePoint t0 = now;
  ASSERT_FALSE(register_pe(1, "pool", make_pe(41, 1, 3000)).rejected);
  ASSERT_FALSE(register_pe(1, "pool", make_pe(42, 1, 5000)).rejected);
  const Bytes request = asap::encode(asap::HandleResolution{false, PoolHandle{"pool"}, 3});
  EXPECT_EQ(reg->next_deadline(), t0 + 3000ms);
  auto acts = reg->on_asap_message(9, request, t0 + 1000ms);
  EXPECT_EQ(asap_of<asap::HandleResolutionResponse>(acts, 9).size(), 1u);
  EXPECT_EQ(reg->next_deadline(), t0 + 3000ms);
  // PE 41's life ends before this resolution is handled.
  acts = reg->on_asap_message(9, request, t0 + 3500ms);
  EXPECT_TRUE(has_event(acts, Event::pe_expired));
  const auto answers = asap_of<asap::HandleResolutionResponse>(acts, 9);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].pool_elements.size(), 1u);
  EXPECT_EQ(reg->next_deadline(), t0 + 5000ms);
  acts = reg->on_asap_message(9, request, t0 + 5000ms);
  EXPECT_TRUE(has_event(acts, Event::pe_expired));
  EXPECT_FALSE(reg->next_deadline().has_value());
}

// Registrar::answer_resolution() (the daemon's path for plain
// resolutions) against on_asap_message(): two registrars fed the same
// events, one as the daemon feeds it (the direct answer first, the action
// path when it declines), the other through actions only. Every answer,
// every counter and every deadline must be the same; the direct path must
// be taken for the plain requests and declined for subscriptions, unknown
// associations, requests over the rate and events that find something
// due.
TEST(AnswerResolution, AnswersAsTheActionPathWouldAndDeclinesWhatItMustNot) {
  auto cfg = RegistrarConfig::rfc_defaults(0x1000);
  cfg.keep_alive_interval = 700ms;
  cfg.keep_alive_timeout = 300ms;
  cfg.resolution_rate = {40, 10};
  Registrar direct{cfg}, actions{cfg};
  TimePoint now = at(1000ms);
  std::size_t answered_directly = 0, declined = 0;
  // Everything the association was sent in one event, as bytes.
  const auto sent_to = [](const std::vector<Action>& acts, AssociationId aid) {
    std::vector<Bytes> out;
    for (const auto& a : acts) {
      if (const auto* s = std::get_if<SendAsap>(&a); s != nullptr && s->association == aid) out.push_back(encode(s->message));
    }
    return out;
  };
  const auto both = [&](auto&& event) {
    const auto a = event(direct);
    const auto b = event(actions);
    EXPECT_EQ(sent_to(a, 1), sent_to(b, 1));
    EXPECT_EQ(sent_to(a, 9), sent_to(b, 9));
  };
  for (auto* r : {&direct, &actions}) {
    (void)r->on_asap_association_up(1, {ip(1)}, 4001, now);
    (void)r->on_asap_association_up(9, {ip(9)}, 4009, now);
  }
  for (PeIdentifier id = 1; id <= 6; ++id) {
    both([&](Registrar& r) { return r.on_asap_message(1, registration("rr", make_pe(id, 1)), now); });
  }
  for (PeIdentifier id = 10; id <= 12; ++id) {
    both([&](Registrar& r) {
      // Lives shorter than the first audit's timeout: they expire.
      return r.on_asap_message(
          1, registration("lu", make_pe(id, 1, 200 + 100 * static_cast<std::int32_t>(id - 10), PolicyType::least_used)),
          now);
    });
  }
  const std::string pools[] = {"rr", "lu", "none"};
  for (int step = 0; step < 400; ++step) {
    now += std::chrono::milliseconds(7 + step % 13);
    asap::HandleResolution req;
    req.pool_handle = PoolHandle{pools[step % 3]};
    if (step % 4 != 0) req.items = static_cast<std::uint32_t>(step % 5);
    req.subscribe = step % 17 == 0;
    const Bytes request = asap::encode(req);
    const AssociationId from = step % 23 == 0 ? 77 : 9;
    Bytes answer{0xee};  // what the driver's buffer may hold: appended to
    const bool taken = direct.answer_resolution(from, request, now, answer);
    const auto slow = actions.on_asap_message(from, request, now);
    if (taken) {
      ++answered_directly;
      EXPECT_EQ(slow.size(), 1u) << "the direct answer stood for an event with other actions, step " << step;
      const auto expected = sent_to(slow, from);
      ASSERT_EQ(expected.size(), 1u);
      EXPECT_EQ(Bytes(answer.begin() + 1, answer.end()), expected.front()) << "step " << step;
    } else {
      ++declined;
      EXPECT_EQ(answer, Bytes{0xee}) << "declined, yet wrote";
      const auto fast_path = direct.on_asap_message(from, request, now);
      EXPECT_EQ(sent_to(fast_path, from), sent_to(slow, from)) << "step " << step;
    }
    EXPECT_EQ(direct.next_deadline(), actions.next_deadline()) << "step " << step;
    // The PEs answer their audits, now and then.
    if (step % 9 == 0) {
      for (PeIdentifier id : {PeIdentifier{1}, PeIdentifier{2}}) {
        both([&](Registrar& r) {
          return r.on_asap_message(1, asap::encode(asap::EndpointKeepAliveAck{PoolHandle{"rr"}, id}), now);
        });
      }
    }
    if (const auto due = direct.next_deadline(); due && *due <= now) {
      both([&](Registrar& r) { return r.on_timeout(now); });
    }
  }
  static_assert(std::is_trivially_copyable_v<Counters>);
  EXPECT_EQ(std::memcmp(&direct.counters(), &actions.counters(), sizeof(Counters)), 0);
  EXPECT_EQ(direct.counters().resolutions, actions.counters().resolutions);
  EXPECT_EQ(direct.counters().resolutions_rate_limited, actions.counters().resolutions_rate_limited);
  EXPECT_GT(direct.counters().resolutions_rate_limited, 0u);
  EXPECT_GT(direct.counters().expirations, 0u);
  EXPECT_GT(answered_directly, 100u);
  EXPECT_GT(declined, 40u);
}

TEST_F(AsapFixture, HandleResolutionItemsDefaultOptionAndCap) {
  cfg.check_pe_addresses = false;
  cfg.max_resolution_items = 5;
  make();
  for (PeIdentifier i = 1; i <= 8; ++i) ASSERT_FALSE(register_pe(1, "pool", make_pe(i, 1)).rejected);
  auto resolve = [&](std::optional<std::uint32_t> items) {
    auto r = asap_of<asap::HandleResolutionResponse>(send(9, asap::HandleResolution{false, PoolHandle{"pool"}, items}), 9);
    EXPECT_EQ(r.size(), 1u);
    return r.empty() ? std::size_t{0} : r[0].pool_elements.size();
  };
  EXPECT_EQ(resolve(std::nullopt), 3u);
  EXPECT_EQ(resolve(2u), 2u);
  EXPECT_EQ(resolve(100u), 5u);
  EXPECT_EQ(resolve(0u), 1u);
  auto r = asap_of<asap::HandleResolutionResponse>(send(9, asap::HandleResolution{false, PoolHandle{"none"}, {}}), 9);
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].error.size(), 1u);
  EXPECT_EQ(r[0].error[0].code, ErrorCause::unknown_pool_handle);
  EXPECT_EQ(reg->counters().resolutions_unknown_pool, 1u);
}

TEST_F(AsapFixture, SubscriptionIsAcceptedPushedAndDroppedWithAssociation) {
  ASSERT_FALSE(register_pe(1, "pool", make_pe(1, 1)).rejected);
  auto r = asap_of<asap::HandleResolutionResponse>(send(9, asap::HandleResolution{true, PoolHandle{"pool"}, {}}), 9);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].accepted);
  EXPECT_EQ(r[0].pool_elements.size(), 1u);
  // A new PE: the subscriber gets the new pool contents unasked.
  auto acts = send(2, registration("pool", make_pe(2, 2)));
  auto pushed = asap_of<asap::HandleResolutionResponse>(acts, 9);
  ASSERT_EQ(pushed.size(), 1u);
  EXPECT_TRUE(pushed[0].accepted);
  EXPECT_EQ(pushed[0].pool_elements.size(), 2u);
  // Removal is pushed too.
  acts = send(2, asap::Deregistration{PoolHandle{"pool"}, 2});
  EXPECT_EQ(asap_of<asap::HandleResolutionResponse>(acts, 9).size(), 1u);
  (void)reg->on_asap_association_down(9, now);
  (void)reg->on_asap_association_up(9, {ip(9)}, 4009, now);
  acts = send(2, registration("pool", make_pe(3, 2)));
  EXPECT_TRUE(asap_of<asap::HandleResolutionResponse>(acts, 9).empty());
}

TEST_F(AsapFixture, KeepAliveAuditIsJitteredAndAckKeepsThePe) {
  ASSERT_FALSE(register_pe(1, "pool", make_pe(42, 1, -1)).rejected);
  auto ka = *reg->deadline(TimerKey{TimerKind::keep_alive, 0});
  EXPECT_GE(ka, now + 2000ms);
  EXPECT_LE(ka, now + 6000ms);
  auto acts = reg->on_timeout(ka);
  auto kas = asap_of<asap::EndpointKeepAlive>(acts, 1);
  ASSERT_EQ(kas.size(), 1u);
  EXPECT_FALSE(kas[0].home);
  EXPECT_EQ(kas[0].server_id, 0x1000u);
  EXPECT_EQ(kas[0].pe_id, 42u);
  EXPECT_EQ(*reg->deadline(TimerKey{TimerKind::keep_alive, 0}), ka + 1000ms);
  (void)reg->on_asap_message(1, asap::encode(asap::EndpointKeepAliveAck{PoolHandle{"pool"}, 42}), ka + 10ms);
  EXPECT_EQ(reg->counters().keep_alive_acks, 1u);
  auto next = *reg->deadline(TimerKey{TimerKind::keep_alive, 0});
  EXPECT_GE(next, ka + 2010ms);
  // No ACK this time: removed, with the timeout counted.
  (void)reg->on_timeout(next);
  acts = reg->on_timeout(next + 1000ms);
  EXPECT_TRUE(has_event(acts, Event::pe_keep_alive_timeout));
  EXPECT_EQ(reg->handlespace().element_count(), 0u);
  EXPECT_EQ(reg->counters().keep_alive_timeouts, 1u);
}

// The keep-alive agenda (a heap with lazy deletion) through churn: 300
// PEs armed, a third re-armed by re-registering, a fifth cancelled by
// deregistering. Every deadline the registrar reports is one at which an
// audit goes out (a stale item never surfaces as a deadline), audits come
// in deadline order, each remaining PE is audited, a removed one never;
// and when nobody answers, every PE is removed at its ACK deadline.
TEST_F(AsapFixture, KeepAliveAgendaAuditsEveryPeInOrderThroughChurn) {
  constexpr PeIdentifier kPes = 300;
  cfg.registration_rate = {};  // 300 registrations at once
  cfg.max_pes_per_association = 1000;
  make();
  const TimePoint armed = now;
  for (PeIdentifier id = 1; id <= kPes; ++id) ASSERT_FALSE(register_pe(1, "pool", make_pe(id, 1, -1)).rejected);
  now += 500ms;
  const TimePoint rearmed = now;
  for (PeIdentifier id = 3; id <= kPes; id += 3) ASSERT_FALSE(register_pe(1, "pool", make_pe(id, 1, -1)).rejected);
  std::set<PeIdentifier> gone;
  for (PeIdentifier id = 5; id <= kPes; id += 5) {
    (void)send(1, asap::Deregistration{PoolHandle{"pool"}, id});
    gone.insert(id);
  }
  ASSERT_EQ(reg->asap_server().home_count(), kPes - gone.size());
  std::map<PeIdentifier, int> audited;
  std::map<PeIdentifier, TimePoint> first_audit;
  TimePoint last{};
  const TimePoint end = now + 6000ms;  // every first audit is due by 1.5 x interval after its arming
  while (auto d = reg->deadline(TimerKey{TimerKind::keep_alive, 0})) {
    if (*d > end) break;
    ASSERT_GE(*d, last) << "deadlines go forward";
    last = *d;
    now = *d;
    auto kas = asap_of<asap::EndpointKeepAlive>(reg->on_timeout(now), 1);
    ASSERT_FALSE(kas.empty()) << "a deadline with no audit behind it (a stale agenda item)";
    for (const auto& ka : kas) {
      ASSERT_TRUE(ka.pe_id.has_value());
      EXPECT_EQ(gone.count(*ka.pe_id), 0u) << "audit of a deregistered PE " << *ka.pe_id;
      ++audited[*ka.pe_id];
      first_audit.try_emplace(*ka.pe_id, now);
      (void)send(1, asap::EndpointKeepAliveAck{PoolHandle{"pool"}, *ka.pe_id});
    }
  }
  EXPECT_EQ(audited.size(), kPes - gone.size()) << "every remaining PE audited";
  // No audit earlier than half an interval after the PE's (re-)arming: a
  // re-armed PE's old item stays stale.
  for (const auto& [id, t] : first_audit)
    EXPECT_GE(t, (id % 3 == 0 ? rearmed : armed) + cfg.keep_alive_interval / 2) << "PE " << id;
  // Nobody answers from here: each PE goes at its ACK deadline.
  while (auto d = reg->deadline(TimerKey{TimerKind::keep_alive, 0})) {
    ASSERT_GE(*d, last);
    last = *d;
    now = *d;
    auto acts = reg->on_timeout(now);
    ASSERT_TRUE(!asap_of<asap::EndpointKeepAlive>(acts, 1).empty() || has_event(acts, Event::pe_keep_alive_timeout))
        << "a deadline with nothing due";
  }
  EXPECT_EQ(reg->handlespace().element_count(), 0u);
  EXPECT_EQ(reg->asap_server().home_count(), 0u);
  EXPECT_EQ(reg->counters().keep_alive_timeouts, kPes - gone.size());
}

// A PE hung past keep-alive-timeout is removed; when it resumes it answers
// the audit late, believing itself registered. The late ACK is answered
// with an unsolicited DEREGISTRATION_RESPONSE (as for an expired
// lifetime), which makes the PE register again; without it the PE stayed
// listed nowhere until its next re-registration (simulation seed 8079).
TEST_F(AsapFixture, ALateKeepAliveAckOfARemovedPeIsToldItIsNotRegistered) {
  ASSERT_FALSE(register_pe(1, "pool", make_pe(42, 1, -1)).rejected);
  auto ka = *reg->deadline(TimerKey{TimerKind::keep_alive, 0});
  ASSERT_EQ(asap_of<asap::EndpointKeepAlive>(reg->on_timeout(ka), 1).size(), 1u);
  auto acts = reg->on_timeout(ka + cfg.keep_alive_timeout);
  ASSERT_TRUE(has_event(acts, Event::pe_keep_alive_timeout));
  ASSERT_EQ(reg->handlespace().element_count(), 0u);
  // The PE resumes and answers on its association.
  acts = reg->on_asap_message(1, asap::encode(asap::EndpointKeepAliveAck{PoolHandle{"pool"}, 42}),
                              ka + cfg.keep_alive_timeout + 500ms);
  auto told = asap_of<asap::DeregistrationResponse>(acts, 1);
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].pool_handle, PoolHandle{"pool"});
  EXPECT_EQ(told[0].pe_id, 42u);
  EXPECT_TRUE(told[0].error.empty());
  EXPECT_EQ(reg->counters().keep_alive_acks_unregistered, 1u);
  // It registers again over the same association.
  EXPECT_FALSE(register_pe(1, "pool", make_pe(42, 1, -1)).rejected);
  EXPECT_NE(reg->handlespace().find(PoolHandle{"pool"}, 42), nullptr);
}

// The answer goes only to the association the ACK came over and keeps no
// state: a stranger learns nothing but "not registered" and cannot make
// the registrar tell anyone else anything.
TEST_F(AsapFixture, AnAckForAnUnknownPeIsAnsweredOnlyOnItsOwnAssociation) {
  ASSERT_FALSE(register_pe(1, "pool", make_pe(42, 1, -1)).rejected);
  (void)reg->on_asap_association_down(1, now);  // the PE's registrar association closes: removed
  ASSERT_EQ(reg->handlespace().element_count(), 0u);
  // Unknown to the handlespace: a stranger's ACK gets "not registered" only
  // on its own association, and nothing else changes.
  auto acts = send(9, asap::EndpointKeepAliveAck{PoolHandle{"pool"}, 77});
  EXPECT_EQ(asap_of<asap::DeregistrationResponse>(acts, 9).size(), 1u);
  EXPECT_TRUE(asap_of<asap::DeregistrationResponse>(acts, 1).empty());
  EXPECT_EQ(reg->handlespace().element_count(), 0u);
}

TEST_F(AsapFixture, KeepAliveSpreadCoversTheJitterRange) {
  cfg.check_pe_addresses = false;
  make();
  for (PeIdentifier i = 1; i <= 200; ++i) ASSERT_FALSE(register_pe(1, "pool", make_pe(i, 1, -1)).rejected);
  // Walk the agenda: every KEEP_ALIVE goes out in [2 s, 6 s] after registration,
  // and they are spread, not in one burst.
  std::set<std::int64_t> seconds;
  auto t = now;
  std::size_t sent = 0;
  while (sent < 200) {
    auto due = *reg->deadline(TimerKey{TimerKind::keep_alive, 0});
    ASSERT_LE(due, now + 6000ms);
    ASSERT_GE(due, now + 2000ms);
    auto acts = reg->on_timeout(due);
    auto kas = asap_of<asap::EndpointKeepAlive>(acts, 1);
    sent += kas.size();
    for (auto& k : kas) (void)reg->on_asap_message(1, asap::encode(asap::EndpointKeepAliveAck{k.pool_handle, *k.pe_id}), due);
    seconds.insert(std::chrono::duration_cast<std::chrono::seconds>(due - now).count());
    t = due;
  }
  EXPECT_GE(seconds.size(), 4u);
}

// Issue 14 item 1: ENDPOINT_UNREACHABLE makes the home audit the PE; only
// a failed audit removes it. Three reports used to remove a PE at once,
// whether or not it answered.
TEST_F(AsapFixture, UnreachableReportsAuditThePeAndNeverRemoveOneThatAnswers) {
  cfg.unreachable_rate = {};  // the rule, not the rate limit, is under test
  make();
  ASSERT_FALSE(register_pe(1, "pool", make_pe(42, 1, -1)).rejected);
  // Reporters: the PU, the other PE and 20 more pool users.
  std::vector<AssociationId> reporters{9, 2};
  for (AssociationId a = 100; a < 120; ++a) {
    (void)reg->on_asap_association_up(a, {ip(static_cast<std::uint8_t>(a))}, 5000, now);
    reporters.push_back(a);
  }
  std::size_t audits = 0, refuted_events = 0;
  for (int round = 0; round < 50; ++round) {
    for (AssociationId a : reporters) {
      auto acts = send(a, asap::EndpointUnreachable{PoolHandle{"pool"}, 42});
      EXPECT_FALSE(has_event(acts, Event::pe_unreachable_removed));
      for (const auto& ka : asap_of<asap::EndpointKeepAlive>(acts, 1)) {
        ++audits;
        EXPECT_EQ(ka.pe_id, 42u);
      }
    }
    // The PE answers its audit a little later.
    now += 300ms;
    auto acts = reg->on_asap_message(1, asap::encode(asap::EndpointKeepAliveAck{PoolHandle{"pool"}, 42}), now);
    if (has_event(acts, Event::pe_reported_but_answering)) ++refuted_events;
    EXPECT_EQ(reg->asap_server().unreachable_reporters(PoolHandle{"pool"}, 42), 0u) << "an answer clears the count";
    now += 700ms;
    (void)reg->on_timeout(now);
    ASSERT_NE(reg->handlespace().find(PoolHandle{"pool"}, 42), nullptr) << "removed in round " << round;
  }
  EXPECT_EQ(reg->counters().unreachable_reports, 50u * reporters.size());
  EXPECT_EQ(reg->counters().unreachable_removals, 0u);
  EXPECT_EQ(reg->counters().keep_alive_timeouts, 0u);
  EXPECT_EQ(audits, 50u);  // one audit per round: never a second while one is out
  EXPECT_EQ(reg->counters().unreachable_audits, 50u);
  EXPECT_EQ(refuted_events, 50u);  // 22 distinct reporters >= MAX-BAD-PE-REPORT each round
  EXPECT_EQ(reg->counters().unreachable_refuted, 50u);
}

TEST_F(AsapFixture, ADeadPeIsRemovedOneKeepAliveTimeoutAfterTheFirstReport) {
  cfg.keep_alive_audit = false;  // no periodic audit: the report alone must find it
  make();
  ASSERT_FALSE(register_pe(1, "pool", make_pe(42, 1, -1)).rejected);
  const TimePoint first = now + 10s;
  now = first;
  auto acts = send(9, asap::EndpointUnreachable{PoolHandle{"pool"}, 42});
  ASSERT_EQ(asap_of<asap::EndpointKeepAlive>(acts, 1).size(), 1u);
  EXPECT_EQ(reg->next_deadline(), first + cfg.keep_alive_timeout);
  // More reports meanwhile change nothing about the deadline.
  now += 400ms;
  (void)send(2, asap::EndpointUnreachable{PoolHandle{"pool"}, 42});
  (void)reg->on_timeout(first + cfg.keep_alive_timeout - 1ms);
  ASSERT_NE(reg->handlespace().find(PoolHandle{"pool"}, 42), nullptr);
  acts = reg->on_timeout(first + cfg.keep_alive_timeout);
  EXPECT_TRUE(has_event(acts, Event::pe_unreachable_removed));
  EXPECT_EQ(reg->handlespace().find(PoolHandle{"pool"}, 42), nullptr);
  EXPECT_EQ(reg->counters().unreachable_removals, 1u);
  std::printf("[unreachable] dead PE removed %lld ms after the first report (keep-alive timeout %lld ms)\n",
              static_cast<long long>(rserpool::to_millis(first + cfg.keep_alive_timeout - first)),
              static_cast<long long>(rserpool::to_millis(cfg.keep_alive_timeout)));
}

TEST_F(AsapFixture, ReportsCountOncePerAssociationPerInterval) {
  cfg.unreachable_rate = {};
  cfg.keep_alive_timeout = 60s;  // the audit stays outstanding: only counting is looked at
  make();
  ASSERT_FALSE(register_pe(1, "pool", make_pe(42, 1, -1)).rejected);
  for (int i = 0; i < 100; ++i) (void)send(9, asap::EndpointUnreachable{PoolHandle{"pool"}, 42});
  EXPECT_EQ(reg->asap_server().unreachable_reporters(PoolHandle{"pool"}, 42), 1u);
  (void)send(2, asap::EndpointUnreachable{PoolHandle{"pool"}, 42});
  EXPECT_EQ(reg->asap_server().unreachable_reporters(PoolHandle{"pool"}, 42), 2u);
  // A new interval starts the count again.
  now += cfg.unreachable_report_interval;
  (void)send(9, asap::EndpointUnreachable{PoolHandle{"pool"}, 42});
  EXPECT_EQ(reg->asap_server().unreachable_reporters(PoolHandle{"pool"}, 42), 1u);
  EXPECT_NE(reg->handlespace().find(PoolHandle{"pool"}, 42), nullptr);
}

// Issue 14 item 5: a PE identifier belongs to the association that
// registered it. From the same host (same address, another port) an
// attacker used to re-register it, re-point it, and remove it by closing.
TEST_F(AsapFixture, APeIdentifierBelongsToTheAssociationThatRegisteredIt) {
  ASSERT_FALSE(register_pe(1, "pool", make_pe(42, 1, -1)).rejected);
  (void)reg->on_asap_association_up(3, {ip(1)}, 6666, now);  // same host, another process
  auto hijack = make_pe(42, 1, -1);
  hijack.user_transport.port = 6667;  // would point pool users at the attacker
  auto r = register_pe(3, "pool", hijack);
  ASSERT_TRUE(r.rejected);
  ASSERT_EQ(r.error.size(), 1u);
  EXPECT_EQ(r.error[0].code, ErrorCause::non_unique_pe_identifier);
  EXPECT_EQ(reg->counters().registrations_refused_owned, 1u);
  // Nor deregister it, nor answer its keep-alives.
  auto d = asap_of<asap::DeregistrationResponse>(send(3, asap::Deregistration{PoolHandle{"pool"}, 42}), 3);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].error.at(0).code, ErrorCause::rejected_security);
  (void)send(3, asap::EndpointKeepAliveAck{PoolHandle{"pool"}, 42});
  EXPECT_EQ(reg->counters().keep_alive_acks_foreign, 1u);
  // Closing its association removes nothing of the owner's.
  (void)reg->on_asap_association_down(3, now);
  const auto* e = reg->handlespace().find(PoolHandle{"pool"}, 42);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->element().user_transport.port, 7000);
  EXPECT_EQ(reg->asap_server().association_of(PoolHandle{"pool"}, 42), std::optional<AssociationId>{1});
  // The owner itself may re-register (and change its transport).
  auto moved = make_pe(42, 1, -1);
  moved.user_transport.port = 7100;
  EXPECT_FALSE(register_pe(1, "pool", moved).rejected);
  EXPECT_EQ(reg->handlespace().find(PoolHandle{"pool"}, 42)->element().user_transport.port, 7100);
}

TEST_F(AsapFixture, ARefusedNewcomerGetsTheIdentifierOnceTheSilentOwnerIsAudited) {
  ASSERT_FALSE(register_pe(1, "pool", make_pe(42, 1, -1)).rejected);
  (void)reg->on_asap_association_up(3, {ip(1)}, 6666, now);  // the PE restarted on a new association
  auto acts = send(3, registration("pool", make_pe(42, 1, -1)));
  ASSERT_TRUE(asap_of<asap::RegistrationResponse>(acts, 3).at(0).rejected);
  // The incumbent is audited at once; it does not answer (its old
  // association is a leftover): gone one keep-alive timeout later.
  EXPECT_EQ(asap_of<asap::EndpointKeepAlive>(acts, 1).size(), 1u);
  (void)reg->on_timeout(now + cfg.keep_alive_timeout);
  EXPECT_EQ(reg->handlespace().find(PoolHandle{"pool"}, 42), nullptr);
  now += cfg.keep_alive_timeout + 1ms;
  EXPECT_FALSE(register_pe(3, "pool", make_pe(42, 1, -1)).rejected);
  EXPECT_EQ(reg->asap_server().association_of(PoolHandle{"pool"}, 42), std::optional<AssociationId>{3});
}

TEST_F(AsapFixture, ResolutionRateLimitAnswersLackOfResources) {
  cfg.resolution_rate = RateLimit{1, 3};
  make();
  ASSERT_FALSE(register_pe(1, "pool", make_pe(1, 1)).rejected);
  std::size_t refused = 0;
  for (int i = 0; i < 10; ++i) {
    auto r = asap_of<asap::HandleResolutionResponse>(send(9, asap::HandleResolution{false, PoolHandle{"pool"}, {}}), 9);
    ASSERT_EQ(r.size(), 1u);
    if (!r[0].error.empty() && r[0].error[0].code == ErrorCause::lack_of_resources) ++refused;
  }
  EXPECT_EQ(refused, 7u);
  EXPECT_EQ(reg->counters().resolutions_rate_limited, 7u);
  now += 2000ms;  // refilled 2 tokens
  auto r = asap_of<asap::HandleResolutionResponse>(send(9, asap::HandleResolution{false, PoolHandle{"pool"}, {}}), 9);
  EXPECT_TRUE(r.at(0).error.empty());
  // Dropping instead of answering.
  cfg.answer_rate_limited = false;
  cfg.resolution_rate = RateLimit{1, 1};
  make();
  (void)send(9, asap::HandleResolution{false, PoolHandle{"pool"}, {}});
  EXPECT_TRUE(asap_sent(send(9, asap::HandleResolution{false, PoolHandle{"pool"}, {}}), 9).empty());
}

TEST_F(AsapFixture, UnreachableReportRateLimitDrops) {
  cfg.unreachable_rate = RateLimit{1, 2};
  cfg.max_bad_pe_reports = 100;
  make();
  ASSERT_FALSE(register_pe(1, "pool", make_pe(42, 1, -1)).rejected);
  for (int i = 0; i < 6; ++i) (void)send(9, asap::EndpointUnreachable{PoolHandle{"pool"}, 42});
  EXPECT_EQ(reg->counters().unreachable_reports, 2u);
  EXPECT_EQ(reg->counters().unreachable_rate_limited, 4u);
}

TEST_F(AsapFixture, RegistrationFloodIsRefusedWithLackOfResources) {
  cfg.registration_rate = RateLimit{10, 20};
  cfg.check_pe_addresses = false;
  make();
  std::size_t ok = 0, refused = 0;
  for (PeIdentifier i = 1; i <= 100; ++i) {
    auto r = register_pe(1, "flood", make_pe(i, 1));
    (r.rejected ? refused : ok)++;
    if (r.rejected) {
      EXPECT_EQ(r.error.at(0).code, ErrorCause::lack_of_resources);
    }
  }
  EXPECT_EQ(ok, 20u);
  EXPECT_EQ(refused, 80u);
  EXPECT_EQ(reg->counters().registrations_rate_limited, 80u);
  // A cap on PEs per association as well.
  cfg.registration_rate = {};
  cfg.max_pes_per_association = 5;
  make();
  for (PeIdentifier i = 1; i <= 5; ++i) EXPECT_FALSE(register_pe(1, "p", make_pe(i, 1)).rejected);
  EXPECT_TRUE(register_pe(1, "p", make_pe(6, 1)).rejected);
  EXPECT_FALSE(register_pe(1, "p", make_pe(5, 1)).rejected);  // re-registration still fine
}

TEST_F(AsapFixture, AssociationDownRemovesItsPesUnlessConfiguredOtherwise) {
  ASSERT_FALSE(register_pe(1, "pool", make_pe(1, 1)).rejected);
  ASSERT_FALSE(register_pe(2, "pool", make_pe(2, 2)).rejected);
  auto acts = reg->on_asap_association_down(1, now);
  EXPECT_TRUE(has_event(acts, Event::pe_association_lost));
  EXPECT_EQ(reg->handlespace().find(PoolHandle{"pool"}, 1), nullptr);
  EXPECT_NE(reg->handlespace().find(PoolHandle{"pool"}, 2), nullptr);
  cfg.remove_pes_on_association_down = false;
  make();
  ASSERT_FALSE(register_pe(1, "pool", make_pe(1, 1)).rejected);
  (void)reg->on_asap_association_down(1, now);
  EXPECT_NE(reg->handlespace().find(PoolHandle{"pool"}, 1), nullptr);
}

TEST_F(AsapFixture, MalformedInputIsAnsweredOrDroppedAndCounted) {
  // Garbage shorter than a header: dropped silently.
  EXPECT_TRUE(asap_sent(send(9, Bytes{0x01}), 9).empty());
  // Unknown message type with top bits 01: Unrecognized Message.
  auto acts = send(9, Bytes{0x45, 0x00, 0x00, 0x04});
  auto errs = asap_of<asap::Error>(acts, 9);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].causes.at(0).code, ErrorCause::unrecognized_message);
  // Unknown message type with top bits 00: dropped silently.
  EXPECT_TRUE(asap_sent(send(9, Bytes{0x15, 0x00, 0x00, 0x04}), 9).empty());
  // A REGISTRATION truncated inside its PE TLV.
  auto good = registration("pool", make_pe(1, 9));
  for (std::size_t cut = 4; cut < good.size(); cut += 3) {
    Bytes bad(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    bad[2] = static_cast<std::uint8_t>(cut >> 8);
    bad[3] = static_cast<std::uint8_t>(cut & 0xff);
    (void)send(9, bad);
  }
  EXPECT_EQ(reg->handlespace().element_count(), 0u);
  // A parameter of unknown type with top bits 01 inside: Unrecognized Parameter.
  Bytes with_unknown = wire::asap::encode(asap::HandleResolution{false, PoolHandle{"pool"}, {}});
  const Bytes tlv{0x40, 0x77, 0x00, 0x04};
  with_unknown.insert(with_unknown.end(), tlv.begin(), tlv.end());
  with_unknown[3] = static_cast<std::uint8_t>(with_unknown.size());
  errs = asap_of<asap::Error>(send(9, with_unknown), 9);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].causes.at(0).code, ErrorCause::unrecognized_parameter);
  std::uint64_t counted = 0;
  for (auto c : reg->counters().asap_decode_errors) counted += c;
  EXPECT_GE(counted, 4u);
  // An ASAP_ERROR is never answered with an error, and server-side messages are ignored.
  EXPECT_TRUE(asap_sent(send(9, asap::Error{{OperationErrorCause{ErrorCause::unspecified, {}}}}), 9).empty());
  EXPECT_TRUE(asap_sent(send(9, asap::RegistrationResponse{false, PoolHandle{"x"}, 1, {}}), 9).empty());
  EXPECT_EQ(reg->counters().asap_unexpected, 1u);
}

TEST_F(AsapFixture, UnknownParameterTopBitsSkipOrReport) {
  ASSERT_FALSE(register_pe(1, "pool", make_pe(1, 1)).rejected);
  auto with_tlv = [](std::uint8_t hi) {
    Bytes b = wire::asap::encode(asap::HandleResolution{false, PoolHandle{"pool"}, {}});
    const Bytes tlv{hi, 0x77, 0x00, 0x08, 1, 2, 3, 4};
    b.insert(b.end(), tlv.begin(), tlv.end());
    b[3] = static_cast<std::uint8_t>(b.size());
    return b;
  };
  // 10: skipped silently, the resolution is answered.
  auto acts = send(9, with_tlv(0x80));
  EXPECT_EQ(asap_of<asap::HandleResolutionResponse>(acts, 9).size(), 1u);
  EXPECT_TRUE(asap_of<asap::Error>(acts, 9).empty());
  // 11: skipped and reported, the resolution is still answered.
  acts = send(9, with_tlv(0xC0));
  EXPECT_EQ(asap_of<asap::HandleResolutionResponse>(acts, 9).size(), 1u);
  auto errs = asap_of<asap::Error>(acts, 9);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].causes.at(0).code, ErrorCause::unrecognized_parameter);
  // 00: the whole message is dropped silently.
  EXPECT_TRUE(asap_sent(send(9, with_tlv(0x00)), 9).empty());
}

TEST_F(AsapFixture, APeCannotDeregisterAnotherPe) {
  ASSERT_FALSE(register_pe(1, "pool", make_pe(1, 1)).rejected);
  ASSERT_FALSE(register_pe(2, "pool", make_pe(2, 2)).rejected);
  auto resp = asap_of<asap::DeregistrationResponse>(send(2, asap::Deregistration{PoolHandle{"pool"}, 1}), 2);
  ASSERT_EQ(resp.size(), 1u);
  ASSERT_EQ(resp[0].error.size(), 1u);
  EXPECT_EQ(resp[0].error[0].code, ErrorCause::rejected_security);
  EXPECT_EQ(reg->handlespace().element_count(), 2u);
  // Nor re-register it from its own association: the identifier is taken.
  auto r = register_pe(2, "pool", make_pe(1, 1));
  ASSERT_TRUE(r.rejected);
  EXPECT_EQ(r.error.at(0).code, ErrorCause::non_unique_pe_identifier);
}

// Random bytes on a pool user's association: every undecodable message gets
// exactly the answer the codec's error policy gives (an ASAP_ERROR with its
// cause, or nothing for a silent drop) and is counted by cause; afterwards
// the registrar still registers and resolves on the same association.
TEST_F(AsapFixture, RandomBytesGetTheCodecsAnswerAreCountedAndTheServerStillServes) {
  rserpool::core::Random rnd(7);
  std::uint64_t undecodable = 0, errors_expected = 0, errors_sent = 0;
  for (int i = 0; i < 5000; ++i) {
    Bytes b(rnd.uniform(64) + 1);
    for (auto& x : b) x = static_cast<std::uint8_t>(rnd.next());
    if (b.size() >= 4 && (i % 2) == 0) {
      b[0] = static_cast<std::uint8_t>(rnd.uniform(15));
      b[2] = 0;
      b[3] = static_cast<std::uint8_t>(b.size());
    }
    const auto decoded = asap::decode(b);
    const auto acts = send(9, b);
    if (decoded) continue;
    ++undecodable;
    const auto expected = asap::error_reply(decoded.error());
    const auto errs = asap_of<asap::Error>(acts, 9);
    ASSERT_EQ(errs.size(), expected ? 1u : 0u) << "input " << i;
    if (expected) {
      ++errors_expected;
      errors_sent += errs.size();
      EXPECT_EQ(errs[0], *expected) << "input " << i;
    }
    EXPECT_EQ(asap_sent(acts, 9).size(), errs.size()) << "nothing but the error for undecodable input " << i;
  }
  ASSERT_GT(undecodable, 1000u);
  ASSERT_GT(errors_expected, 100u);
  EXPECT_EQ(errors_sent, errors_expected);
  std::uint64_t counted = 0;
  for (auto c : reg->counters().asap_decode_errors) counted += c;
  EXPECT_EQ(counted, undecodable);
  // Still serving, on the very association that sent the garbage.
  cfg.check_pe_addresses = false;
  const auto r = register_pe(9, "after-storm", make_pe(4242, 9));
  EXPECT_FALSE(r.rejected);
  auto res = asap_of<asap::HandleResolutionResponse>(send(9, asap::HandleResolution{false, PoolHandle{"after-storm"}, {}}), 9);
  ASSERT_EQ(res.size(), 1u);
  ASSERT_EQ(res[0].pool_elements.size(), 1u);
  EXPECT_EQ(res[0].pool_elements[0].id, 4242u);
}

}  // namespace
