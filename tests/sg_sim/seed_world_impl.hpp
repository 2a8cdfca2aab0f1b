#pragma once
// The seeded world's parties and the World that runs them (private to
// the simulation; seed_world.hpp is its interface). One file per party:
//   seed_world.cpp        the run: scheduling, the trace, the cores' timers
//   seed_network.cpp      associations between parties (seed_net.hpp: one direction)
//   seed_ss7_side.cpp     the SS7 side: call generator, SLS load sharing
//   seed_gateway.cpp      each gateway: PoolDistributor, one gwc_link::Link per association
//   seed_gateway_sgp.cpp  each gateway's SS7 face: the M3UA SGP core
//   seed_controllers.cpp  the controllers: GwcCallModel, cookies
//   seed_faults.cpp       crashes, hangs, exits, gateway kills
//   seed_ss7_partition.cpp   the STP cut off from a gateway
//   seed_ctl_partition.cpp   a controller cut off from one gateway
//   seed_registrar.cpp    each gateway's co-located registrar (the real core),
//                         ENRP between a pair's registrars, ASAP associations
//   seed_asap_ends.cpp    the ASAP ends: each controller's PoolElement, each
//                         gateway's PoolUser (its pool view, as sgd's)
//   seed_invariants.cpp   the invariants and what the model says may fail
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <tuple>
#include <variant>
#include "mxua/codec.hpp"
#include "mxua/fsm/actions.hpp"
#include "mxua/fsm/asp_client.hpp"
#include "mxua/fsm/sgp_node.hpp"
#include "registrar/peer_directory.hpp"
#include "registrar/registrar.hpp"
#include "rserpool/asap/pool_element.hpp"
#include "rserpool/asap/pool_user.hpp"
#include "rserpool/wire/enrp.hpp"
#include "rserpool/wire/asap.hpp"
#include "seed_net.hpp"
#include "seed_world.hpp"
#include "sg/gwc_link/link.hpp"
#include "sg/gwc_link/profile.hpp"
#include "sg/routing/pool_distributor.hpp"
#include "sg/routing/pool_member_selector.hpp"
#include "sg/sim/gwc_call_model.hpp"
#include "sg/sim/sg_load_share.hpp"
#include "sg/sim/ss7_call_generator.hpp"
#include "sg/ss7/isup.hpp"
#include "sg/ss7/sccp.hpp"

namespace sg::sim::seeded {

Plan draw_plan(std::uint64_t seed, std::mt19937_64& rng);

namespace world {


using namespace std::chrono_literals;
using rserpool::PeIdentifier;
namespace asap = rserpool::wire::asap;

inline constexpr PeIdentifier kFirstPe = 0x1000;
// The controllers' pool, as they register it and the gateways watch it.
inline constexpr std::string_view kPool = "gwc-pool";
// Each gateway's co-located registrar: server id kFirstRegistrar + g.
inline constexpr rserpool::ServerIdentifier kFirstRegistrar = 0x52e90001;
inline constexpr std::uint16_t kAsapPort = 3863;
// The co-located registrar is in the gateway's process: its ASAP
// association with the gateway's pool user is a loopback one.
inline constexpr auto kLoopbackDelay = 20us;
// sgd: while a pool lists no PE, the co-located registrar's handlespace is
// looked at this often (Gateway::Impl::check_empty_pools).
inline constexpr auto kEmptyPoolPoll = 20ms;
// Registrars converge, and each gateway's pool view matches its
// registrar's, within this of the last change once the network is whole.
inline constexpr auto kConvergenceBound = 1000ms;
// Association set-up (INIT, COOKIE) and M3UA ASPUP/ASPAC, in round trips.
inline constexpr int kSetupRoundTrips = 2;
inline constexpr int kAspRoundTrips = 2;
// M3UA T(ack) towards a controller that does not answer ASPUP.
inline constexpr auto kAspTimeout = 2000ms;

// The SS7 side's M3UA association to each gateway: the STP is the ASP
// (mxua::AspClient), the gateway the SGP (mxua::SgpNode) with one
// Application Server, reachable by routing context, in loadshare mode.
inline constexpr std::uint32_t kRc = 1;
inline constexpr std::uint16_t kSs7Streams = 17;  // stream 0 and one per SLS
// The point code the SS7 side routes to the controllers' pool (the
// generator's DPC): what the gateway announces in DUNA / DAVA.
inline constexpr std::uint32_t kPoolDpc = 2;

// After a pool outage's controllers rejoin: their associations and ASPs
// come up within this (what the SS7 side started meanwhile may fail).
inline constexpr auto kOutageSettle = 300ms;
// DUNA / DAVA may lag the pool's state by the SS7 association's delay,
// the time a gateway takes to see a controller's association go (abort,
// shutdown: at most 50 ms in these plans) and this slack.
inline constexpr auto kAnnounceSlack = 100ms;
// (plus one retransmission of the SS7 association: the plan's ss7_rto)

// M3UA DATA <-> the gateway's MtpMessage (as sg/src/gateway/mtp_conversion.hpp).
inline MtpMessage to_mtp(mxua::ProtocolData&& p) {
  return MtpMessage{p.opc.value, p.dpc.value, p.si, p.ni, p.mp, p.sls, std::move(p.user_data)};
}
inline mxua::DataView to_data_view(const MtpMessage& m) {
  mxua::DataView d;
  d.routing_context = kRc;
  d.protocol_data = mxua::ProtocolDataView{mxua::PointCode{m.opc}, mxua::PointCode{m.dpc}, m.si, m.ni, m.mp, m.sls,
                                           rserpool::ByteView(m.data.data(), m.data.size())};
  return d;
}
// The DATA in an encoded M3UA message (nothing for any other message).
inline std::optional<MtpMessage> data_in(const rserpool::Bytes& wire) {
  auto m = mxua::decode(wire);
  if (!m) return std::nullopt;
  auto* d = std::get_if<mxua::Data>(&*m);
  if (!d) return std::nullopt;
  return to_mtp(std::move(d->protocol_data));
}

inline std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0x100000001b3ULL;
}

inline std::uint64_t fingerprint(const MtpMessage& m) {
  std::uint64_t h = mix(mix(m.opc, m.dpc), (std::uint64_t{m.si} << 16) | (std::uint64_t{m.ni} << 8) | m.sls);
  for (auto b : m.data) h = mix(h, b);
  return h;
}

struct Assoc {
  std::uint64_t id = 0;
  std::size_t g = 0;
  PeIdentifier pe = 0;
  std::unique_ptr<gwc_link::Link> link;
  rserpool::Duration delay{};
  bool established = false;  // both kernels: the association exists
  bool gw_down = false;      // the gateway's side saw it go (or the gateway died)
  bool gateway_died = false; // ... because the gateway was killed (not a fence)
  bool ctl_down = false;     // the controller's side saw it go
  bool ctl_active = false;   // the controller answered ASPAC: it sends on it
  Pipe to_ctl, to_gw;
  std::deque<Packet> unread;  // arrived while the controller did not run
  // Arrived at a kernel whose association is gone (ABORT answers them):
  // not acknowledged, so the sender's transport hands them back.
  std::vector<Packet> rejected_to_ctl, rejected_to_gw;
  // Oldest first: what was rejected and what is still on its way, merged
  // in send order (a retransmitted message is older than what overtook it).
  static std::vector<Packet> merged(std::vector<Packet>& rejected, Pipe& pipe) {
    std::vector<Packet> all = std::move(rejected);
    rejected.clear();
    for (auto& p : pipe.take_all()) all.push_back(std::move(p));
    std::stable_sort(all.begin(), all.end(), [](const Packet& x, const Packet& y) { return x.seq < y.seq; });
    return all;
  }
  std::vector<MtpMessage> take_unsent_to_ctl() {
    std::vector<MtpMessage> back;
    for (auto& p : merged(rejected_to_ctl, to_ctl))
      if (!p.control) back.push_back(std::move(p.data));
    return back;
  }
  std::vector<Packet> take_unsent_to_gw() { return merged(rejected_to_gw, to_gw); }
};

enum class Proc : std::uint8_t { running, hung, dead };

struct Controller {
  PeIdentifier id = 0;
  std::unique_ptr<GwcCallModel> model;
  Proc proc = Proc::running;
  std::uint16_t port = 0;
  std::uint32_t incarnation = 0;
  std::vector<std::uint64_t> assoc;  // per gateway: the association it uses (0: none)
  std::deque<MtpMessage> held;       // no association up: waits, in order
  std::size_t last_gw = SIZE_MAX;
  bool kernel_alive = true;          // exit_notice: the kernel acknowledges what the dead process never reads
  std::optional<TimePoint> fenced_until;  // a gateway fenced it; the audit bound has not passed
  std::vector<std::pair<std::uint64_t, bool>> unseen_aborts;  // cut while it was hung (and by a gateway's death)
  // ASAP (RFC 5352): its registration, the real PoolElement core, and its
  // associations to registrars by the core's AssocId (hunt entry k is the
  // registrar of gateway k; kInboundAssocBase and up: opened by a registrar).
  std::unique_ptr<rserpool::asap::PoolElement> pe;
  std::map<rserpool::asap::AssocId, std::uint64_t> asap_links;
  rserpool::asap::AssocId next_inbound = rserpool::asap::kInboundAssocBase;
  std::deque<std::pair<rserpool::asap::AssocId, rserpool::Bytes>> asap_unread;  // arrived while hung (empty: lost; 0x01: up; 0x02: connect failed)
  bool graceful = false;  // exit_notice: deregisters before it exits
  // Per gateway: cut off from it until then (seed_ctl_partition.cpp).
  std::vector<std::optional<TimePoint>> cut_until;
  std::vector<bool> relink_after_cut;  // per gateway: the cut failed its link; counted when it is ACTIVE again
};

// One ASAP association between a registrar and a controller's
// PoolElement or a gateway's PoolUser (one stream, in order, no loss while
// up; when either end goes the other hears of it one delay later).
struct AsapLink {
  std::uint64_t id = 0;          // the registrar's AssociationId
  std::size_t reg = 0;           // the registrar (its gateway's index)
  int reg_incarnation = 0;
  bool pool_user = false;        // a gateway's pool user (else a controller's PE)
  std::size_t owner = 0;         // gateway index or controller index
  std::uint32_t owner_incarnation = 0;
  rserpool::asap::AssocId local = 0;  // the owner core's AssocId for it
  rserpool::Duration delay{};
  bool up = false;               // established at both ends
  bool reg_gone = false;         // the registrar's end has been told it is down (or died)
  bool owner_gone = false;       // the owner's end has been told (or died)
  Pipe to_reg, to_owner;
};

// Each gateway's co-located registrar: the real registrar core (ASAP
// server, ENRP peering, takeover around the handlespace), as sgd runs it.
struct RegistrarNode {
  bool alive = false;
  int incarnation = 0;
  rserpool::ServerIdentifier id = 0;
  std::unique_ptr<rserpool::registrar::Registrar> core;
  TimePoint started_at{};
  // sgd's peer directory beside the core (the same object the daemon
  // runs): which ENRP association speaks for which server, connecting to
  // the configured peer (the mate's registrar) with its back-off, the
  // mentor choice at start.
  std::unique_ptr<rserpool::registrar::PeerDirectory> directory;
};

// One ENRP association between a pair's registrars, opened by `from`
// towards the other's ENRP address when its directory asks (ConnectPeer or
// a route that needs one). Both directories keep one to their configured
// peer, so a pair usually holds two (one each way), as two sgd do.
struct EnrpLink {
  std::uint64_t id = 0;          // the LinkId both directories know it by
  std::size_t from = 0;          // the registrar that connected
  int inc[2] = {0, 0};           // the registrars' incarnations it joins
  bool up = false;
  bool held[2] = {false, false}; // end r's directory holds it (not told down yet)
  Pipe to[2];                    // to[r]: towards registrar r
  std::vector<std::pair<std::size_t, rserpool::Bytes>> pending;  // sent before it came up
};

// The ENRP network between a pair's registrars.
struct EnrpNet {
  rserpool::Duration delay{};
  std::map<std::uint64_t, EnrpLink> links;
  std::uint64_t ids = 0;
  std::optional<TimePoint> cut_until;  // a partition: nothing crosses, no handshake completes
  bool whole = false;                  // enrp_whole() at the last step
  TimePoint whole_since{};             // whole since
};

struct Ledger {
  struct Entry {
    std::int64_t count = 0;
    MtpMessage sample;
  };
  std::map<std::uint64_t, Entry> entries;
  void in(const MtpMessage& m) {
    auto& e = entries[fingerprint(m)];
    if (e.count++ == 0) e.sample = m;
  }
  void out(const MtpMessage& m) { --entries[fingerprint(m)].count; }
};

struct Gateway {
  bool alive = false;
  int incarnation = 0;
  std::unique_ptr<PoolMemberSelector> selector;
  std::unique_ptr<PoolDistributor> dist;
  std::map<PeIdentifier, std::uint64_t> link_of;  // the distributor's current link per PE
  // Its SS7 face: the real M3UA SGP core, and the association from the
  // SS7 side's ASP (M3UA messages, encoded, in Packet::payload).
  std::unique_ptr<mxua::SgpNode> sgp;
  mxua::AssocId ss7_assoc = 0;
  // A partition between the STP and this gateway (seed_ss7_partition.cpp):
  // nothing crosses while now < ss7_cut_until.
  std::optional<TimePoint> ss7_cut_until;
  TimePoint ss7_healed_at{};
  bool ss7_gw_lost = false;               // its SCTP declared the association lost
  std::vector<Packet> rejected_from_stp;  // arrived after that: handed back to the STP with the ABORT
  std::deque<MtpMessage> queued_for_ss7;  // routed while the AS was PENDING (held for T(r))
  Pipe from_ss7, to_ss7;
  rserpool::Duration ss7_delay{};
  Ledger ledger;
  // The pool as this gateway last announced it (announce), and the
  // messages it accepted while it had announced it unavailable: the STP
  // sent them before the DUNA reached it (a retransmitted DUNA).
  bool announced_unavailable = false;
  std::set<std::uint64_t> crossed_duna;
  std::shared_ptr<gwc_link::LinkCounters> link_counters = std::make_shared<gwc_link::LinkCounters>();
  TimePoint started_at{};
  // Its pool view: the real ASAP PoolUser core, subscribed to the pool at
  // its co-located registrar, as sgd's PoolUserService (AssocId 0).
  std::unique_ptr<rserpool::asap::PoolUser> pool_user;
  std::map<rserpool::asap::AssocId, std::uint64_t> asap_links;
  std::optional<std::vector<rserpool::PoolElementParameter>> last_list;  // the watcher's last list
};

// The SS7 side's ASP towards one gateway (the real M3UA ASP core).
struct Ss7Asp {
  std::unique_ptr<mxua::AspClient> client;
  bool up = false;      // its association is up
  bool active = false;  // ASP-ACTIVE
  // SgLoadShare sends through this gateway: ACTIVE and the DPC not
  // announced unavailable (World::ss7_route, the STP's routing).
  bool routed = false;
  bool was_routed = false;  // it was routed before (a restart, a reconnection, a DAVA: changeback)
  // The pool's DPC as the gateway announced it (DUNA / DAVA); M3UA starts
  // from available (RFC 4666 4.5.1).
  bool dpc_available = true;
  TimePoint view_since{};
};

struct CallRecord {
  std::uint32_t serial = 0;
  std::uint8_t sls = 0;
  TimePoint started{};
  bool open = false;
  std::set<std::uint8_t> seen;  // ACM/ANM/RLC at the SS7 side
};

class World {
 public:
  World(std::uint64_t seed, const Options& o);
  Outcome run();

 private:
  enum class Why : std::uint8_t { kernel, gateway, controller_sent, membership, ringing, gave_up, outage, partition };

  // seed_world.cpp: the run: scheduling, the trace, the cores' timers
  void schedule(rserpool::Duration at, std::function<void()> f) { schedule_at(TimePoint{} + at, std::move(f)); }
  void schedule_at(TimePoint at, std::function<void()> f) { events_.emplace(std::make_pair(at, seq_++), std::move(f)); }
  std::optional<TimePoint> next_time() const;
  void step();
  void ev(const char* what, std::uint64_t a = 0, std::uint64_t b = 0, std::uint64_t c = 0);
  static std::uint64_t tag(const MtpMessage& m);
  Assoc* assoc(std::uint64_t id);
  void timers();

  // seed_network.cpp: the network: packets on associations, retransmission draws, kernels
  rserpool::Duration draw_delay(long lo_us, long hi_us);
  rserpool::Duration draw_extra();
  rserpool::Duration draw_ss7_extra();
  void lost_in_kernel(const Assoc& a, const Packet& p);
  void deliver_assoc(Assoc& a);

  // seed_ss7_side.cpp: the SS7 side: call generator, SLS load sharing, what reaches it
  void ss7_out(std::vector<SgLoadShare::Send> sends);
  void from_generator(std::vector<MtpMessage> ms);
  void deliver_ss7_side();
  void at_ss7(MtpMessage m);
  void run_asp(std::size_t g, mxua::Actions actions);
  void ss7_association_up(std::size_t g, int incarnation);
  void ss7_sees_abort(std::size_t g, std::vector<MtpMessage> handed_back);

  // seed_gateway_sgp.cpp: each gateway's SS7 face, the real M3UA SGP core
  static mxua::SgpConfig sgp_config();
  void run_sgp(std::size_t g, mxua::Actions actions);
  void gw_to_ss7(std::size_t g, const MtpMessage& m);
  void announce(std::size_t g, bool available);

  // seed_gateway.cpp: the gateways: distributor, registrar view, one gwc_link::Link per association
  void start_gateway(std::size_t g);
  void accumulate(const Gateway& w);
  void publish(std::size_t g, const std::vector<rserpool::PoolElementParameter>& list);
  void apply(std::size_t g, std::vector<Action> actions);
  void retire(std::size_t g, PeIdentifier pe, bool fence);
  void connect(std::size_t g, PeIdentifier pe);
  void established(std::uint64_t id);
  void asp_start(std::uint64_t id);
  void asp_active(Assoc& a, Controller& c);
  void run_link(Assoc& a, gwc_link::Actions& actions, bool kept);
  void gateway_aborts(Assoc& a);
  void gw_association_down(Assoc& a, rserpool::transport::DownReason why);

  // seed_controllers.cpp: the controllers: call model, cookies, what they read and send
  Controller* controller(PeIdentifier id);
  void controller_sees_abort(Assoc& a);
  void lose_association(Controller& c, std::uint64_t aid, bool gateway_died);
  std::vector<std::uint16_t> calls_in_echo(const Packet& p);
  std::vector<std::uint16_t> calls_in_cookie(const Packet& p);
  void controller_reads(Controller& c, Assoc& a, Packet p);
  void table_changed(Controller& c);
  void controller_send(Controller& c, std::size_t via, MtpMessage m);
  bool send_on(Controller& c, std::size_t g, const MtpMessage& m);
  void flush_held(Controller& c);

  // seed_faults.cpp: faults: crashes, hangs, exits, gateway kills
  void fault(const Fault& f);
  void kill_controller(Controller& c, rserpool::Duration rejoin);
  void rejoin_controller(PeIdentifier id);
  void hang_controller(Controller& c, rserpool::Duration resume_after);
  void resume_controller(PeIdentifier id);
  void exit_controller(Controller& c, rserpool::Duration notice, rserpool::Duration link, bool graceful);
  void kill_gateway(std::size_t g, rserpool::Duration restart);
  void pool_outage(rserpool::Duration rejoin);

  // seed_ss7_partition.cpp: the STP cut off from a gateway, then healed
  void ss7_partition(const Fault& f);
  bool ss7_cut(std::size_t g) const;
  bool in_ss7_cut_window(std::size_t g, TimePoint t) const;
  void stp_side_lost(std::size_t g);
  void gateway_side_lost(std::size_t g);
  void ss7_heal(std::size_t g, int incarnation);

  // seed_ctl_partition.cpp: one controller cut off from one gateway, then healed
  void ctl_partition(const Fault& f);
  bool ctl_cut(const Assoc& a) const;
  bool ctl_cut(std::size_t g, const Controller& c) const;
  void ctl_cut_in_flight(const Assoc& a);
  void ctl_gateway_gives_up(std::size_t g, PeIdentifier pe, std::uint32_t incarnation);
  void ctl_controller_gives_up(std::size_t g, PeIdentifier pe, std::uint32_t incarnation);
  void ctl_heal(std::size_t g, PeIdentifier pe, std::uint32_t incarnation);

  // seed_registrar.cpp: the registrars, ENRP between them, ASAP associations
  void start_registrar(std::size_t g);
  void kill_registrar(std::size_t g);
  void run_registrar(std::size_t g, std::vector<rserpool::registrar::Action> actions);
  std::uint64_t open_asap(std::size_t reg, bool pool_user, std::size_t owner, rserpool::asap::AssocId local,
                          rserpool::Duration delay);
  void asap_established(std::uint64_t id);
  void asap_owner_closes(std::uint64_t id, bool abort);
  void asap_registrar_closes(std::uint64_t id);
  void deliver_asap();
  void registrar_reads(AsapLink& l, rserpool::Bytes bytes);
  void send_to_element(std::size_t g, rserpool::registrar::SendAsapToElement&& s);
  void run_directory(std::size_t g, std::vector<rserpool::registrar::DirectoryAction> actions);
  std::uint64_t enrp_open(std::size_t g, const rserpool::registrar::ConnectPeer& request);
  void enrp_establish(std::uint64_t id);
  void enrp_abort(std::size_t g, std::uint64_t id);
  void enrp_lose(std::uint64_t id);
  void enrp_lose_all();
  void enrp_send(std::size_t from, rserpool::ServerIdentifier peer, const rserpool::wire::enrp::Message& m);
  void enrp_send_on(std::size_t from, std::uint64_t id, const rserpool::wire::enrp::Message& m);
  void deliver_enrp();
  void track_enrp_whole();
  void enrp_cut(const Fault& f);
  void enrp_heal();
  bool enrp_whole() const;
  void registrar_changed();
  void check_convergence();
  static std::string describe_pool(const rserpool::core::Handlespace& hs, bool with_owner, bool with_port);

  // seed_asap_ends.cpp: the controllers' PoolElement, the gateways' PoolUser
  rserpool::asap::PoolElementConfig pe_config(const Controller& c) const;
  void start_pe(Controller& c);
  void run_pe(Controller& c, rserpool::asap::Actions& actions);
  void pe_reads(Controller& c, rserpool::asap::AssocId local, const rserpool::Bytes& bytes);
  void start_pool_user(std::size_t g);
  void run_pool_user(std::size_t g, rserpool::asap::Actions& actions);
  void pool_user_reads(std::size_t g, rserpool::asap::AssocId local, const rserpool::Bytes& bytes);
  void notify_watcher(std::size_t g);
  void check_empty_pool(std::size_t g, int incarnation);
  void registrar_event(std::size_t g, const rserpool::registrar::Notify& n);
  bool listed(const Controller& c) const;

  // seed_invariants.cpp: invariants, and what the model says may fail
  void violation(const std::string& what);
  void expose(const MtpMessage& m, Why why);
  void expose_call(std::uint16_t cic, Why why);
  bool exempt(std::uint16_t cic) const;
  static std::vector<std::uint16_t> calls_in(const rserpool::Bytes& cookie, bool ringing_only = false);
  void expose_ringing(Controller& c);
  void gateway_event();
  void pool_changed();
  void check_sls_order(const Controller& c, const MtpMessage& m);
  void order_exempt(const MtpMessage& m);
  void check_failures();
  void note_heir(std::size_t g, PeIdentifier heir, const rserpool::Bytes& cookie);
  static std::uint64_t fingerprint_bytes(const rserpool::Bytes& b);
  static bool empty_table(const rserpool::Bytes& b) { return b.size() < 5 || rserpool::load_u32(&b[1]) == 0; }
  void dpc_announced(std::size_t g, bool available);
  void ss7_route(std::size_t g);
  bool usable(std::size_t g) const;
  void check_destination_state();
  bool in_outage(TimePoint t) const;
  void finish();

  Plan plan_;
  std::mt19937_64 rng_;
  std::mt19937_64 ss7_loss_rng_;  // the SS7 association's losses (draw_ss7_extra)
  Options opt_;
  Outcome out_;
  TimePoint now_{};
  std::uint64_t seq_ = 0;
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
  std::map<std::pair<TimePoint, std::uint64_t>, std::function<void()>> events_;
  std::unique_ptr<Ss7CallGenerator> gen_;
  std::unique_ptr<SgLoadShare> ss7_;
  std::vector<Ss7Asp> ss7_asps_;  // per gateway
  mxua::AssocId m3ua_assoc_ids_ = 0;
  std::vector<Gateway> gws_;
  std::vector<Controller> ctls_;
  std::map<std::uint64_t, std::unique_ptr<Assoc>> assocs_;
  std::uint64_t assoc_ids_ = 0;
  std::set<std::uint64_t> pending_asp_;
  std::map<std::uint16_t, CallRecord> calls_;
  std::set<std::pair<std::uint16_t, std::uint32_t>> exempt_;
  std::set<std::uint32_t> exempt_queries_;
  std::set<std::uint32_t> order_exempt_queries_;
  std::uint64_t unknown_exempt_ = 0;
  TimePoint last_pool_change_{};
  std::optional<TimePoint> last_gateway_death_;
  std::map<std::uint64_t, PeIdentifier> cookie_origin_;
  std::map<std::uint64_t, std::uint32_t> cookie_incarnation_;
  std::map<std::tuple<PeIdentifier, std::uint32_t, std::uint8_t>, std::optional<std::uint32_t>> sls_seen_;
  // An SLS moved to the mate when its gateway died: what the dead one had
  // in flight to a controller may arrive after what the mate sends (two
  // paths; an STP's time-controlled changeover, Q.704 5.6, would hold the
  // diverted traffic; SgLoadShare does so only at changeback). Counted.
  TimePoint order_exempt_until_{};
  std::optional<TimePoint> hung_at_restart_;
  std::map<std::size_t, std::vector<MtpMessage>> kept_in_gateway_;  // lost in a kernel, copy kept by that gateway
  std::map<std::pair<PeIdentifier, std::uint32_t>, std::set<PeIdentifier>> heirs_;
  // DUNA / DAVA against the pool's state, per gateway (seed_invariants.cpp).
  struct PoolTruth {
    bool usable = false;
    TimePoint since{};         // usable has had this value since
    TimePoint last_usable{};   // the last instant a controller was usable
  };
  std::vector<PoolTruth> pool_truth_;
  std::vector<bool> dpc_reported_;  // one violation per gateway is enough
  // Pool outages: [from, to) in which calls started and queries sent may
  // fail (from: half a second before, for what was in flight).
  std::vector<std::pair<TimePoint, TimePoint>> outage_windows_;
  std::set<std::uint64_t> heir_exempt_cookies_;
  // Partitions of the SS7 association: gateway, [from, to) in which what
  // the STP starts through that gateway may fail.
  std::vector<std::tuple<std::size_t, TimePoint, TimePoint>> cut_windows_;  // cookies that existed when the pool went out
  // The registrars (one per gateway, co-located), ENRP between a pair's,
  // the ASAP associations to them.
  std::vector<RegistrarNode> regs_;
  EnrpNet enrp_;
  std::map<std::uint64_t, AsapLink> asap_links_;
  std::uint64_t asap_ids_ = 0;
  TimePoint last_registrar_change_{};  // a registrar's handlespace changed (a local event), or one started
  bool convergence_reported_ = false;
  std::vector<bool> view_reported_;
  TimePoint hs_checked_for_{TimePoint::max()};
  std::vector<TimePoint> view_checked_for_;
};

}  // namespace world
}  // namespace sg::sim::seeded
