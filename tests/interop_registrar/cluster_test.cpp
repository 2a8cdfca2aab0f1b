// Three of our registrars peered over ENRP (TCP mapping on loopback, on the
// build host), driven in-process through RegistrarServer so the test can read
// each handlespace directly: every PE resolvable everywhere, a stopped
// registrar's PEs taken over by exactly one survivor, a restarted registrar
// resynchronised, and a divergence (an update lost while an ENRP link was
// cut) repaired by the PRESENCE checksum audit.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

#include "asap_client.hpp"
#include "link_cutter.hpp"
#include "registrar/server.hpp"

namespace {

using namespace regtest;
using namespace rserpool;
using rserpool::registrar::RegistrarServer;
using rserpool::registrar::ServerConfig;

constexpr ServerIdentifier kIdA = 0x0000000a, kIdB = 0x0000000b, kIdC = 0x0000000c;
constexpr std::size_t kPesPerRegistrar = 20;
const PoolHandle kPool{"ClusterPool"};
const IpAddress kLoopback = IpAddress::v4_loopback();

std::vector<PeIdentifier> ids_for(ServerIdentifier home, std::size_t n) {
  std::vector<PeIdentifier> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back((home << 16) | static_cast<PeIdentifier>(i + 1));
  return v;
}

struct ClusterTest : ::testing::Test {
  boost::asio::io_context io;
  std::unique_ptr<RegistrarServer> a, b, c;
  std::vector<std::shared_ptr<AsapClient>> clients;
  std::unique_ptr<LinkCutter> cutter;  // on the B -> A ENRP link when used

  static ServerConfig config(ServerIdentifier id, std::vector<TransportAddress> peers) {
    ServerConfig cfg;
    cfg.core = registrar::RegistrarConfig::aggressive(id);
    // Fast, but with room for a loaded build machine: a peer is dead after
    // 2 s of silence; PEs are audited rarely so PEs whose association went
    // with their registrar stay in the handlespace for the whole test.
    cfg.core.peer_heartbeat_cycle = std::chrono::milliseconds(300);
    cfg.core.max_time_last_heard = std::chrono::milliseconds(2000);
    cfg.core.max_time_no_response = std::chrono::milliseconds(600);
    cfg.core.takeover_expire = std::chrono::milliseconds(1000);
    cfg.core.keep_alive_interval = std::chrono::milliseconds(60000);
    cfg.core.keep_alive_timeout = std::chrono::milliseconds(60000);
    cfg.core.registration_rate = {};
    cfg.core.resolution_rate = {};
    cfg.kind = transport::TransportKind::tcp;
    cfg.asap_addresses = {kLoopback};
    cfg.asap_port = 0;
    cfg.enrp_addresses = {kLoopback};
    cfg.enrp_port = 0;
    cfg.enrp_peers = std::move(peers);
    cfg.enrp_allowed = {kLoopback};
    cfg.aggressive_transport = true;
    cfg.peer_reconnect_interval = std::chrono::milliseconds(200);
    cfg.name = "registrar-" + std::to_string(id);
    return cfg;
  }

  std::unique_ptr<RegistrarServer> start(ServerConfig cfg) {
    auto r = RegistrarServer::start(io, std::move(cfg));
    if (!r) {
      ADD_FAILURE() << "registrar did not start: " << r.error();
      return nullptr;
    }
    return std::move(r.value());
  }

  static TransportAddress enrp_of(const RegistrarServer& s) { return {kLoopback, s.enrp_port()}; }
  static TransportAddress asap_of(const RegistrarServer& s) { return {kLoopback, s.asap_port()}; }

  // A: no configured peers (learns B and C when they speak). B: A, through
  // the cutter when `cut_ab`. C: A and B.
  void start_cluster(bool cut_ab = false) {
    // With the cutter, neither end of the cut link advertises its ENRP
    // address (a wildcard bind advertises nothing): B would otherwise learn
    // A's real address from A's PRESENCE (relayed before the cut) or from
    // C's peer list, and, its link through the cutter gone, reconnect to A
    // around the cut (seen once on a loaded machine: B learnt the PE
    // injected at A while the link was cut).
    auto cfg_a = config(kIdA, {});
    if (cut_ab) cfg_a.enrp_addresses.clear();
    a = start(std::move(cfg_a));
    ASSERT_TRUE(a);
    TransportAddress a_enrp = enrp_of(*a);
    if (cut_ab) {
      cutter = std::make_unique<LinkCutter>(io, a->enrp_port());
      a_enrp.port = cutter->port();
    }
    auto cfg_b = config(kIdB, {a_enrp});
    // Nor B: A would learn B's address from B's PRESENCE and open a second,
    // uncut link; A answers over the cut link only.
    if (cut_ab) cfg_b.enrp_addresses.clear();
    b = start(std::move(cfg_b));
    ASSERT_TRUE(b);
    c = start(config(kIdC, {enrp_of(*a), enrp_of(*b)}));
    ASSERT_TRUE(c);
    ASSERT_TRUE(run_until(io, [&] { return fully_meshed(); }, 10s)) << "registrars did not peer";
  }

  bool fully_meshed() const {
    for (auto* s : {a.get(), b.get(), c.get()})
      if (!s || s->core().active_peers().size() != 2) return false;
    return true;
  }

  std::shared_ptr<AsapClient> register_at(RegistrarServer& s, const std::vector<PeIdentifier>& ids,
                                          std::uint16_t first_port) {
    auto cl = AsapClient::connect(io, transport::TransportKind::tcp, asap_of(s));
    EXPECT_TRUE(cl);
    if (!cl) return nullptr;
    clients.push_back(cl);
    EXPECT_TRUE(run_until(io, [&] { return cl->up(); }, 5s));
    cl->register_pes(kPool, ids, kLoopback, first_port);
    EXPECT_TRUE(run_until(io, [&] { return cl->registered().size() + cl->rejected().size() == ids.size(); }, 5s));
    EXPECT_TRUE(cl->rejected().empty());
    return cl;
  }

  void register_everywhere() {
    register_at(*a, ids_for(kIdA, kPesPerRegistrar), 20000);
    register_at(*b, ids_for(kIdB, kPesPerRegistrar), 21000);
    register_at(*c, ids_for(kIdC, kPesPerRegistrar), 22000);
  }

  static std::size_t pool_size(const RegistrarServer* s) { return s ? s->core().handlespace().pool_size(kPool) : 0; }
  static ServerIdentifier home(const RegistrarServer& s, PeIdentifier id) {
    const auto* e = s.core().handlespace().find(kPool, id);
    return e ? e->owner() : 0;
  }

  void TearDown() override {
    for (auto& cl : clients) cl->close();
    for (auto* s : {a.get(), b.get(), c.get()})
      if (s) s->stop();
    run_until(io, [] { return false; }, 300ms);  // let the closes go out
    cutter.reset();
    a.reset();
    b.reset();
    c.reset();
    clients.clear();
  }
};

TEST_F(ClusterTest, EveryPeResolvableAtEveryRegistrar) {
  start_cluster();
  register_everywhere();
  const std::size_t total = 3 * kPesPerRegistrar;
  ASSERT_TRUE(run_until(io, [&] { return pool_size(a.get()) == total && pool_size(b.get()) == total &&
                                         pool_size(c.get()) == total; }, 5s))
      << "handlespace sizes " << pool_size(a.get()) << "/" << pool_size(b.get()) << "/" << pool_size(c.get());
  std::set<PeIdentifier> all;
  for (auto h : {kIdA, kIdB, kIdC})
    for (auto id : ids_for(h, kPesPerRegistrar)) all.insert(id);
  for (auto* s : {a.get(), b.get(), c.get()}) {
    auto got = resolve_once(io, transport::TransportKind::tcp, asap_of(*s), kPool, 128);
    ASSERT_TRUE(got.has_value()) << "no answer from registrar " << s->id();
    EXPECT_EQ(*got, all) << "registrar " << s->id() << " resolves a different pool";
    for (auto h : {kIdA, kIdB, kIdC})
      for (auto id : ids_for(h, kPesPerRegistrar)) EXPECT_EQ(home(*s, id), h) << "PE " << id;
    // Same view of every owner's PEs: the PRESENCE checksums agree.
    for (auto h : {kIdA, kIdB, kIdC})
      EXPECT_EQ(s->core().handlespace().pe_checksum(h), a->core().handlespace().pe_checksum(h));
  }
}

TEST_F(ClusterTest, StoppedRegistrarTakenOverByOneSurvivorThenResynchronisedOnRestart) {
  start_cluster();
  register_everywhere();
  const std::size_t total = 3 * kPesPerRegistrar;
  ASSERT_TRUE(run_until(io, [&] { return pool_size(a.get()) == total && pool_size(b.get()) == total &&
                                         pool_size(c.get()) == total; }, 5s));
  const auto won_before = a->core().counters().takeovers_won + b->core().counters().takeovers_won;
  const auto c_ids = ids_for(kIdC, kPesPerRegistrar);

  const auto t0 = std::chrono::steady_clock::now();
  c->stop();
  auto taken_over = [&] {
    for (auto id : c_ids) {
      const auto ha = home(*a, id), hb = home(*b, id);
      if (ha != hb || (ha != kIdA && ha != kIdB)) return false;
    }
    return true;
  };
  ASSERT_TRUE(run_until(io, taken_over, 15s)) << "C's PEs were not taken over by one survivor";
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::cerr << "takeover of C's PEs complete after " << took.count() << " ms\n";
  const ServerIdentifier heir = home(*a, c_ids.front());
  for (auto id : c_ids) EXPECT_EQ(home(*a, id), heir) << "C's PEs split between survivors";
  EXPECT_EQ(a->core().counters().takeovers_won + b->core().counters().takeovers_won, won_before + 1)
      << "exactly one survivor must win the takeover";
  // Still resolvable at both survivors.
  for (auto* s : {a.get(), b.get()}) {
    auto got = resolve_once(io, transport::TransportKind::tcp, asap_of(*s), kPool, 128);
    ASSERT_TRUE(got.has_value());
    for (auto id : c_ids) EXPECT_TRUE(got->count(id)) << "PE " << id << " lost at " << s->id();
  }

  // Restart C with the same identity: it must come back with the survivors'
  // handlespace (same size, same checksum for every owner).
  c.reset();
  c = start(config(kIdC, {enrp_of(*a), enrp_of(*b)}));
  ASSERT_TRUE(c);
  auto same_view = [&] {
    const auto& ha = a->core().handlespace();
    const auto& hc = c->core().handlespace();
    if (hc.element_count() != ha.element_count()) return false;
    for (auto owner : ha.owners())
      if (hc.pe_checksum(owner) != ha.pe_checksum(owner)) return false;
    return true;
  };
  ASSERT_TRUE(run_until(io, same_view, 10s))
      << "restarted C has " << c->core().handlespace().element_count() << " PEs, A has "
      << a->core().handlespace().element_count();
  for (auto id : c_ids) EXPECT_EQ(home(*c, id), heir);
}

TEST_F(ClusterTest, DivergenceRepairedByChecksumAudit) {
  start_cluster(/*cut_ab=*/true);
  ASSERT_GT(cutter->relayed(), 0u) << "B's link to A does not go through the cutter";
  register_everywhere();
  const std::size_t total = 3 * kPesPerRegistrar;
  ASSERT_TRUE(run_until(io, [&] { return pool_size(a.get()) == total && pool_size(b.get()) == total &&
                                         pool_size(c.get()) == total; }, 5s));

  const auto mismatches_before = b->core().counters().checksum_mismatches;
  const auto resyncs_before = b->core().counters().resyncs;
  cutter->cut();
  // A's HANDLE_UPDATE for this PE reaches C but cannot reach B.
  const PeIdentifier injected = 0x0a0a0a0a;
  register_at(*a, {injected}, 23000);
  ASSERT_TRUE(run_until(io, [&] { return pool_size(c.get()) == total + 1; }, 3s)) << "C did not learn the new PE";
  run_until(io, [] { return false; }, 300ms);
  ASSERT_EQ(pool_size(b.get()), total) << "B learnt the PE through the cut link: no divergence to repair";
  cutter->restore();

  ASSERT_TRUE(run_until(io, [&] { return home(*b, injected) == kIdA; }, 10s))
      << "B never learnt the PE injected at A while their link was cut";
  EXPECT_EQ(b->core().handlespace().pe_checksum(kIdA), a->core().handlespace().pe_checksum(kIdA));
  EXPECT_GT(b->core().counters().checksum_mismatches + b->core().counters().resyncs,
            mismatches_before + resyncs_before)
      << "B converged without the checksum audit noticing";
}

}  // namespace
