// The simulators' own logic, in-process: command lines (defaults matching
// conf/sgd-default.cfg, clear refusals), ss7-gen's throughput loop and its
// failed-call ledger.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gwc_sim/options.hpp"
#include "sg/ss7/isup.hpp"
#include "sg/ss7/sccp.hpp"
#include "ss7_gen/call_ledger.hpp"
#include "ss7_gen/options.hpp"
#include "ss7_gen/udt_window.hpp"

namespace {

using namespace std::chrono_literals;

struct Argv {
  explicit Argv(std::vector<std::string> a) : args(std::move(a)) {
    args.insert(args.begin(), "prog");
    for (auto& s : args) ptrs.push_back(s.data());
  }
  int argc() const { return static_cast<int>(ptrs.size()); }
  char** argv() { return ptrs.data(); }
  std::vector<std::string> args;
  std::vector<char*> ptrs;
};

TEST(Ss7GenOptions, DefaultsMatchTheShippedConfiguration) {
  Argv a({});
  std::string msg;
  int code = -1;
  auto o = sg::ss7gen::parse_options(a.argc(), a.argv(), msg, code);
  ASSERT_TRUE(o.has_value()) << msg;
  EXPECT_EQ(code, 0);
  ASSERT_EQ(o->connect.size(), 1U);
  EXPECT_EQ(o->connect[0].to_string(), "127.0.0.1:2905");
  EXPECT_EQ(o->routing_context, 100U);
  EXPECT_EQ(o->dpc, (0U << 11) | (23U << 3) | 1U);  // 0.23.1
}

TEST(Ss7GenOptions, ParsesRangesAndIpv6AndRefusesNonsense) {
  {
    Argv a({"--connect", "[2001:2::1]:2905", "--cics", "10-19", "--cps", "12.5", "--no-rc"});
    std::string msg;
    int code = -1;
    auto o = sg::ss7gen::parse_options(a.argc(), a.argv(), msg, code);
    ASSERT_TRUE(o.has_value()) << msg;
    EXPECT_EQ(o->first_cic, 10);
    EXPECT_EQ(o->cic_count, 10);
    EXPECT_DOUBLE_EQ(o->cps, 12.5);
    EXPECT_FALSE(o->routing_context.has_value());
    EXPECT_EQ(o->connect[0].port, 2905);
  }
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"--cics", "20-10"}, {"--cics", "1-5000"}, {"--dpc", "9.999.9"}, {"--bogus"}, {"--connect", "nowhere"},
           {"--cps", "0", "--sccp-rate", "0"}, {"--window", "0"}}) {
    Argv a(bad);
    std::string msg;
    int code = -1;
    EXPECT_FALSE(sg::ss7gen::parse_options(a.argc(), a.argv(), msg, code).has_value()) << bad[0];
    EXPECT_EQ(code, 2);
    EXPECT_NE(msg.find("usage"), std::string::npos);
  }
}

// The SS7 side of a mated pair: the mate's SGP (multi-homed: one port),
// how long messages wait with no SG active, the changeback.
TEST(Ss7GenOptions, MatedPairOptions) {
  Argv a({"--connect", "127.0.0.1:2905", "--mate", "[::1]:2906", "--mate", "127.0.0.2:2906", "--hold-while-down",
          "2000", "--changeback", "80"});
  std::string msg;
  int code = -1;
  auto o = sg::ss7gen::parse_options(a.argc(), a.argv(), msg, code);
  ASSERT_TRUE(o.has_value()) << msg;
  ASSERT_EQ(o->mate.size(), 2U);
  EXPECT_EQ(o->mate[0].port, 2906);
  EXPECT_EQ(o->hold_while_down, 2000ms);
  EXPECT_EQ(o->changeback, 80ms);
  Argv defaults({});
  auto d = sg::ss7gen::parse_options(defaults.argc(), defaults.argv(), msg, code);
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->mate.empty());
  EXPECT_EQ(d->hold_while_down, 0ms) << "an unavailable route discards by default";
  Argv ports({"--mate", "127.0.0.1:2906", "--mate", "127.0.0.2:2907"});
  EXPECT_FALSE(sg::ss7gen::parse_options(ports.argc(), ports.argv(), msg, code).has_value());
  EXPECT_NE(msg.find("--mate"), std::string::npos);
}

TEST(GwcSimOptions, PolicyLoadAndIdentifier) {
  Argv a({"--policy", "least-used", "--load", "25", "--pe-id", "0x2a", "--registrar", "[::1]:3863",
          "--registrar", "127.0.0.1:3863"});
  std::string msg;
  int code = -1;
  auto o = sg::gwcsim::parse_options(a.argc(), a.argv(), msg, code);
  ASSERT_TRUE(o.has_value()) << msg;
  EXPECT_EQ(o->policy.type, rserpool::PolicyType::least_used);
  EXPECT_TRUE(sg::gwcsim::least_used_family(o->policy.type));
  EXPECT_DOUBLE_EQ(o->fixed_load_percent.value_or(-1), 25.0);
  EXPECT_EQ(o->pe_id, 42U);
  EXPECT_EQ(o->registrars.size(), 2U);
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"--load", "101"}, {"--policy", "fastest"}, {"--pe-id", "0"}, {"--listen", "1.2.3.4"}}) {
    Argv b(bad);
    EXPECT_FALSE(sg::gwcsim::parse_options(b.argc(), b.argv(), msg, code).has_value()) << bad[0];
  }
}

// The e2e tests' switches: a per-message trace file, and a controller that
// never takes the loss of an SG association for a fence.
TEST(GwcSimOptions, TraceAndSelfFence) {
  std::string msg;
  int code = -1;
  Argv defaults({});
  auto d = sg::gwcsim::parse_options(defaults.argc(), defaults.argv(), msg, code);
  ASSERT_TRUE(d.has_value()) << msg;
  EXPECT_TRUE(d->self_fence);
  EXPECT_TRUE(d->trace_path.empty());
  Argv a({"--no-self-fence", "--trace", "/tmp/pe1.trace"});
  auto o = sg::gwcsim::parse_options(a.argc(), a.argv(), msg, code);
  ASSERT_TRUE(o.has_value()) << msg;
  EXPECT_FALSE(o->self_fence);
  EXPECT_EQ(o->trace_path, "/tmp/pe1.trace");
  Argv bad({"--trace"});
  EXPECT_FALSE(sg::gwcsim::parse_options(bad.argc(), bad.argv(), msg, code).has_value());
  Argv g({"--trace", "/tmp/gen.trace"});
  auto go = sg::ss7gen::parse_options(g.argc(), g.argv(), msg, code);
  ASSERT_TRUE(go.has_value()) << msg;
  EXPECT_EQ(go->trace_path, "/tmp/gen.trace");
  Argv gbad({"--trace", ""});
  EXPECT_FALSE(sg::ss7gen::parse_options(gbad.argc(), gbad.argv(), msg, code).has_value());
}

sg::MtpMessage echo(const sg::MtpMessage& q) {
  auto u = sg::ss7::decode_udt(q.data);
  EXPECT_TRUE(u.ok());
  std::swap(u->called, u->calling);
  sg::MtpMessage r = q;
  std::swap(r.opc, r.dpc);
  r.data = sg::ss7::encode_udt(*u);
  return r;
}

TEST(UdtWindow, KeepsTheWindowFullAndMeasures) {
  sg::ss7gen::UdtWindow w({185, 186, 2, 4, 24});
  const auto t0 = sg::sim::Clock::now();
  auto first = w.start(t0);
  ASSERT_EQ(first.size(), 4U);
  EXPECT_EQ(w.in_flight(), 4U);
  auto next = w.on_message(echo(first[2]), t0 + 3ms);
  ASSERT_EQ(next.size(), 1U);
  EXPECT_EQ(w.in_flight(), 4U);
  EXPECT_EQ(w.stats().answered, 1U);
  EXPECT_EQ(w.stats().latency.percentile(50), 3ms);
  // The same answer again belongs to no query.
  EXPECT_TRUE(w.on_message(echo(first[2]), t0 + 4ms).empty());
  EXPECT_EQ(w.stats().unexpected, 1U);
  w.stop();
  EXPECT_TRUE(w.on_message(echo(first[0]), t0 + 5ms).empty());
  EXPECT_EQ(w.in_flight(), 3U);
}

// A counted run (--queries): exactly `limit` queries, whatever the window.
TEST(UdtWindow, ACountedRunSendsExactlyItsQueries) {
  sg::ss7gen::UdtWindow w({185, 186, 2, 4, 24, 6});
  const auto t0 = sg::sim::Clock::now();
  auto sent = w.start(t0);
  ASSERT_EQ(sent.size(), 4U);
  std::size_t total = sent.size();
  for (std::size_t i = 0; i < sent.size(); ++i) {
    auto next = w.on_message(echo(sent[i]), t0 + 1ms);
    total += next.size();
    for (auto& n : next) sent.push_back(std::move(n));
  }
  EXPECT_EQ(total, 6U);
  EXPECT_TRUE(w.exhausted());
  EXPECT_EQ(w.stats().answered, 6U);
  EXPECT_EQ(w.in_flight(), 0U);
  // A limit below the window: only that many go out at the start.
  sg::ss7gen::UdtWindow small({185, 186, 2, 4, 24, 2});
  EXPECT_EQ(small.start(t0).size(), 2U);
  EXPECT_TRUE(small.exhausted());
}

TEST(CallLedger, NamesTheCallsThatFailed) {
  sg::ss7gen::CallLedger ledger(1000ms);
  const auto t0 = sg::sim::Clock::now();
  auto isup = [](rserpool::Bytes b) {
    sg::MtpMessage m;
    m.si = sg::kSiIsup;
    m.data = std::move(b);
    return m;
  };
  ledger.sent(isup(sg::ss7::encode_iam(1, "49301", "49401")), t0);
  ledger.sent(isup(sg::ss7::encode_iam(2, "49302", "49402")), t0);
  // Circuit 1 is answered after 20 ms; circuit 2 never.
  EXPECT_FALSE(ledger.received(isup(sg::ss7::encode_anm(1)), t0 + 20ms).has_value());
  EXPECT_EQ(ledger.take_answer_latency(), std::chrono::nanoseconds(20ms));
  EXPECT_FALSE(ledger.take_answer_latency().has_value());
  EXPECT_TRUE(ledger.expired(t0 + 999ms).empty());
  auto failed = ledger.expired(t0 + 1000ms);
  ASSERT_EQ(failed.size(), 1U);
  EXPECT_EQ(failed[0].cic, 2);
  // The far end releasing circuit 1 counts as a failure of that call.
  auto rel = ledger.received(isup(sg::ss7::encode_rel(1)), t0 + 1100ms);
  ASSERT_TRUE(rel.has_value());
  EXPECT_EQ(rel->cic, 1);
}

// A call answered, then released by this side, whose RLC never came: the
// REL is the message that was lost, and when it left is what tells a loss
// at a gateway's kill from a later one.
TEST(CallLedger, NamesTheLastMessageOfAFailedCall) {
  sg::ss7gen::CallLedger ledger(1000ms);
  const auto t0 = sg::sim::Clock::now();
  auto isup = [](rserpool::Bytes b) {
    sg::MtpMessage m;
    m.si = sg::kSiIsup;
    m.data = std::move(b);
    return m;
  };
  ledger.sent(isup(sg::ss7::encode_iam(3, "49303", "49403")), t0);
  ledger.sent(isup(sg::ss7::encode_iam(4, "49304", "49404")), t0);
  EXPECT_FALSE(ledger.received(isup(sg::ss7::encode_anm(3)), t0 + 20ms).has_value());
  ledger.sent(isup(sg::ss7::encode_rel(3)), t0 + 300ms);
  auto failed = ledger.expired(t0 + 1300ms);
  ASSERT_EQ(failed.size(), 2U);
  EXPECT_EQ(failed[0].cic, 3);
  EXPECT_STREQ(failed[0].last_type, "rel");
  EXPECT_GE(failed[0].last_sent, failed[0].started);
  EXPECT_EQ(failed[1].cic, 4);
  EXPECT_STREQ(failed[1].last_type, "iam");
  EXPECT_EQ(failed[1].last_sent, failed[1].started);
}

}  // namespace
