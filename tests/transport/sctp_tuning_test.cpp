// Kernel SCTP tuned for real peers (issue 17), inside UML: every SctpOptions
// field reaches the kernel (read back per association), and the aggressive
// profile does not retransmit what a peer with the common 200 ms delayed
// SACK already has. The spurious retransmissions are counted by tshark on a
// dumpcap capture of the loopback, for the profile as it was (RTO floor
// 50 ms, no SACK setting) and as it is.
//
//   tests/uml/run-in-uml.sh -- build/tests/transport/transport_sctp_tuning_test
//
// SG_SACK_TEST_SECONDS sets the length of each traffic run (default 15).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "process.hpp"
#include "rserpool/transport/endpoint.hpp"

using namespace rserpool;
using namespace rserpool::transport;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Sink : AssociationHandler {
  bool up = false;
  std::size_t received = 0;
  std::optional<DownReason> down;
  void on_up(Association&, const AssociationInfo&) override { up = true; }
  void on_message(Association&, Message&&) override { ++received; }
  void on_down(Association&, DownReason r) override { down = r; }
};

struct Fixture : ::testing::Test {
  boost::asio::io_context io;
  std::vector<std::shared_ptr<Sink>> served;
  std::vector<std::shared_ptr<Association>> served_assocs;

  void SetUp() override {
    if (!kernel_sctp_available()) GTEST_SKIP() << "needs kernel SCTP (tests/uml/run-in-uml.sh)";
  }
  // Runs the loop at least once before it looks at the deadline.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    const auto deadline = Clock::now() + limit;
    while (!done()) {
      io.run_for(2ms);
      io.restart();
      if (done()) return true;
      if (Clock::now() > deadline) return false;
    }
    return true;
  }
  std::shared_ptr<Listener> listen(SctpOptions o) {
    EndpointConfig c;
    c.kind = TransportKind::sctp;
    c.local_addresses = {IpAddress::v4_loopback()};
    c.sctp = o;
    auto l = Listener::open(io, c, [this](const std::shared_ptr<Association>& a) {
      auto s = std::make_shared<Sink>();
      served.push_back(s);
      served_assocs.push_back(a);
      return s;
    });
    EXPECT_TRUE(l.ok()) << (l.ok() ? "" : l.error().message());
    return l.ok() ? *l : nullptr;
  }
  std::shared_ptr<Association> connect(SctpOptions o, std::uint16_t port, std::shared_ptr<Sink> s) {
    EndpointConfig c;
    c.kind = TransportKind::sctp;
    c.local_addresses = {IpAddress::v4_loopback()};
    c.remote_addresses = {IpAddress::v4_loopback()};
    c.remote_port = port;
    c.sctp = o;
    auto a = transport::connect(io, c, std::move(s));
    EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message());
    return a.ok() ? *a : nullptr;
  }
};

// The aggressive profile as it was before issue 17.
SctpOptions legacy_aggressive() {
  SctpOptions o;
  o.heartbeat_interval = 100ms;
  o.rto_initial = 100ms;
  o.rto_min = 50ms;
  o.rto_max = 200ms;
  o.path_max_retrans = 2;
  o.association_max_retrans = 3;
  o.max_init_attempts = 3;
  o.max_init_timeout = 500ms;
  return o;
}

}  // namespace

class SctpTuning : public Fixture {};

// Every field is applied, on the connecting socket and (through the
// listening socket) on accepted associations; unset SACK fields keep the
// kernel's.
TEST_F(SctpTuning, EveryOptionReachesTheKernel) {
  SctpOptions server;
  server.sack_delay = 30ms;
  server.sack_frequency = 3;
  server.heartbeat_interval = 700ms;
  server.rto_min = 400ms;
  server.rto_max = 900ms;
  server.rto_initial = 500ms;
  server.path_max_retrans = 4;
  server.association_max_retrans = 6;
  auto l = listen(server);
  ASSERT_TRUE(l);
  auto client_sink = std::make_shared<Sink>();
  const SctpOptions client = SctpOptions::aggressive();
  auto a = connect(client, l->port(), client_sink);
  ASSERT_TRUE(a);
  ASSERT_TRUE(run_until([&] { return client_sink->up && !served.empty() && served[0]->up; }));

  const auto c = a->sctp_parameters();
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->sack_delay, 50ms);
  EXPECT_EQ(c->sack_frequency, 2u);
  EXPECT_EQ(c->rto_min, 250ms);
  EXPECT_EQ(c->rto_max, 300ms);
  EXPECT_EQ(c->rto_initial, 300ms);
  EXPECT_EQ(c->heartbeat_interval, 50ms);
  EXPECT_TRUE(c->heartbeat_enabled);
  EXPECT_EQ(c->path_max_retrans, 2u);
  EXPECT_EQ(c->association_max_retrans, 3u);
  EXPECT_TRUE(c->nodelay);

  const auto s = served_assocs[0]->sctp_parameters();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->sack_delay, 30ms);
  EXPECT_EQ(s->sack_frequency, 3u);
  EXPECT_EQ(s->rto_min, 400ms);
  EXPECT_EQ(s->rto_max, 900ms);
  EXPECT_EQ(s->heartbeat_interval, 700ms);
  EXPECT_EQ(s->path_max_retrans, 4u);
  EXPECT_EQ(s->association_max_retrans, 6u);

  // Unset: the kernel's own delayed SACK (Linux: 200 ms, every second packet).
  auto d_sink = std::make_shared<Sink>();
  auto d = connect(SctpOptions{}, l->port(), d_sink);
  ASSERT_TRUE(run_until([&] { return d_sink->up; }));
  const auto dp = d->sctp_parameters();
  ASSERT_TRUE(dp.has_value());
  EXPECT_EQ(dp->sack_delay, 200ms);
  EXPECT_EQ(dp->sack_frequency, 2u);

  // Frequency 1: no delaying at all (the kernel reports delay 0).
  SctpOptions every;
  every.sack_frequency = 1;
  auto e_sink = std::make_shared<Sink>();
  auto e = connect(every, l->port(), e_sink);
  ASSERT_TRUE(run_until([&] { return e_sink->up; }));
  const auto ep = e->sctp_parameters();
  ASSERT_TRUE(ep.has_value());
  EXPECT_EQ(ep->sack_frequency, 1u);
  EXPECT_EQ(ep->sack_delay, 0ms);
  e->close();

  // Out of RFC 9260's range: refused before any socket exists.
  SctpOptions bad;
  bad.sack_delay = 501ms;
  EndpointConfig bc;
  bc.kind = TransportKind::sctp;
  bc.remote_addresses = {IpAddress::v4_loopback()};
  bc.remote_port = l->port();
  bc.sctp = bad;
  auto refused = transport::connect(io, bc, std::make_shared<Sink>());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error(), std::make_error_code(std::errc::invalid_argument));

  a->close();
  d->close();
  run_until([&] { return client_sink->down && d_sink->down; });
}

// The receive buffer bounds the window the peer is given (a_rwnd, RFC 9260
// 6.2.1): what the kernel acknowledges before the process reads, so what a
// killed gateway takes with it. Set on the listener, inherited by an
// accepted association; the connecting side sees the small window. Unset:
// the kernel's default, several times larger.
TEST_F(SctpTuning, ReceiveBufferBoundsTheWindowThePeerIsGiven) {
  SctpOptions small;
  small.receive_buffer = 16384;
  auto bounded = listen(small);
  auto unbounded = listen(SctpOptions{});
  ASSERT_TRUE(bounded && unbounded);
  auto b_sink = std::make_shared<Sink>();
  auto u_sink = std::make_shared<Sink>();
  auto b = connect(SctpOptions{}, bounded->port(), b_sink);
  auto u = connect(SctpOptions{}, unbounded->port(), u_sink);
  ASSERT_TRUE(b && u);
  ASSERT_TRUE(run_until([&] { return b_sink->up && u_sink->up && served.size() == 2 && served[0]->up && served[1]->up; }));

  const auto accepted = std::find_if(served_assocs.begin(), served_assocs.end(), [&](const auto& a) {
    return !a->info().local.empty() && a->info().local.front().port == bounded->port();
  });
  ASSERT_NE(accepted, served_assocs.end());
  const auto s = (*accepted)->sctp_parameters();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->receive_buffer, 2 * 16384U);  // Linux books twice what is asked
  const auto bp = b->sctp_parameters();
  const auto up = u->sctp_parameters();
  ASSERT_TRUE(bp && up);
  std::printf("window given with receive-buffer 16384: %u bytes; with the kernel's default (%u bytes booked): %u bytes\n",
              bp->peer_receive_window, up->receive_buffer, up->peer_receive_window);
  EXPECT_GT(bp->peer_receive_window, 0U);
  EXPECT_LE(bp->peer_receive_window, 16384U) << "the accepted association did not take the listener's buffer";
  EXPECT_GT(up->peer_receive_window, 2 * 16384U) << "the kernel's default window is not larger than the bound";

  b->close();
  u->close();
  run_until([&] { return b_sink->down && u_sink->down; });
}

namespace {

struct Recorder : AssociationHandler {
  bool up = false;
  std::vector<Bytes> received;
  std::optional<DownReason> down;
  void on_up(Association&, const AssociationInfo&) override { up = true; }
  void on_message(Association&, Message&& m) override { received.push_back(std::move(m.payload)); }
  void on_down(Association&, DownReason r) override { down = r; }
};

struct BatchOutcome {
  std::uint64_t packets = 0;      // packets the sending association sent for the batch
  std::uint64_t data_chunks = 0;  // DATA chunks among them
  bool in_order = false;          // every message arrived, intact and in order
};

// Sixteen small messages written before the loop runs again, so the
// transport hands them to the kernel in one batch (one try_send).
BatchOutcome send_one_batch(Fixture& f, bool bundle) {
  BatchOutcome out;
  auto rec = std::make_shared<Recorder>();
  EndpointConfig lc;
  lc.kind = TransportKind::sctp;
  lc.local_addresses = {IpAddress::v4_loopback()};
  auto l = Listener::open(f.io, lc, [rec](const std::shared_ptr<Association>&) { return rec; });
  EXPECT_TRUE(l.ok());
  if (!l.ok()) return out;
  SctpOptions o;
  o.bundle = bundle;
  auto sender = std::make_shared<Sink>();
  auto a = f.connect(o, (*l)->port(), sender);
  EXPECT_TRUE(a);
  if (!a) return out;
  EXPECT_TRUE(f.run_until([&] { return sender->up && rec->up; }));
  const auto before = a->sctp_parameters();
  EXPECT_TRUE(before.has_value());
  if (!before) return out;
  EXPECT_EQ(before->bundle, bundle);
  constexpr std::size_t kCount = 16;
  for (std::size_t i = 0; i < kCount; ++i)
    EXPECT_TRUE(a->send(Message{3, 0, false, Bytes(100, static_cast<std::uint8_t>(i))}).ok());
  EXPECT_TRUE(f.run_until([&] { return rec->received.size() >= kCount; }));
  // The kernel counts the packet when it leaves; the receiver having all
  // sixteen means they all left.
  const auto after = a->sctp_parameters();
  EXPECT_TRUE(after.has_value());
  if (!after) return out;
  out.packets = after->packets_out - before->packets_out;
  out.data_chunks = after->data_chunks_out - before->data_chunks_out;
  out.in_order = rec->received.size() == kCount;
  for (std::size_t i = 0; out.in_order && i < kCount; ++i)
    out.in_order = rec->received[i] == Bytes(100, static_cast<std::uint8_t>(i));
  a->close();
  f.run_until([&] { return sender->down.has_value(); });
  return out;
}

}  // namespace

// What the transport writes together leaves bundled (SctpOptions::bundle,
// MSG_MORE on all but the last message of a sendmmsg): sixteen 100-byte
// messages fit one loopback packet. With SCTP_NODELAY and no bundling each
// message is a packet of its own, which the peer SACKs on its own: in UML
// that per-packet work set the relay's rate (docs/performance.md, "Stop 30").
TEST_F(SctpTuning, WhatIsWrittenTogetherLeavesBundled) {
  const auto bundled = send_one_batch(*this, true);
  const auto single = send_one_batch(*this, false);
  std::printf("16 messages in one batch: bundled %llu packets (%llu DATA chunks), unbundled %llu packets (%llu)\n",
              static_cast<unsigned long long>(bundled.packets), static_cast<unsigned long long>(bundled.data_chunks),
              static_cast<unsigned long long>(single.packets), static_cast<unsigned long long>(single.data_chunks));
  EXPECT_TRUE(bundled.in_order);
  EXPECT_TRUE(single.in_order);
  EXPECT_EQ(bundled.data_chunks, 16U);
  EXPECT_EQ(single.data_chunks, 16U);
  EXPECT_LE(bundled.packets, 2U);  // one DATA packet, perhaps one SACK of our own
  EXPECT_GE(single.packets, 16U);
}

namespace {

struct Retransmissions {
  std::size_t data_chunks = 0;       // DATA sent by the profiled side
  std::size_t retransmitted = 0;     // of those, retransmissions
  std::vector<double> delay_ms;      // time after the original
  double seconds = 0;
  double per_minute() const { return seconds > 0 ? static_cast<double>(retransmitted) * 60.0 / seconds : 0; }
  double median_delay() const {
    if (delay_ms.empty()) return 0;
    auto v = delay_ms;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
  }
};

std::string run_text(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

bool in_path(const std::string& tool) { return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0; }

}  // namespace

// An idle-ish association, the shape of a signalling link between calls:
// the profiled side sends one message every 300 ms to a peer that keeps the
// kernel's defaults (200 ms delayed SACK, as osmo-stp and rsplib do) and
// does not answer with data. Every DATA the peer already has but whose
// SACK our RTO did not wait for is retransmitted: tshark's TSN analysis
// counts those.
class SpuriousRetransmissions : public Fixture {
 protected:
  Retransmissions measure(const SctpOptions& ours, const std::string& name) {
    Retransmissions r;
    if (!in_path("dumpcap") || !in_path("tshark")) {
      ADD_FAILURE() << "dumpcap and tshark are needed (conf/install-deps.sh test installs them)";
      return r;
    }
    const int seconds = std::getenv("SG_SACK_TEST_SECONDS") ? std::atoi(std::getenv("SG_SACK_TEST_SECONDS")) : 15;
    auto l = listen(SctpOptions{});  // the other side: kernel defaults
    if (!l) return r;
    const auto dir = std::filesystem::path(::testing::TempDir()) / ("sctp-tuning-" + name);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const auto pcap = (dir / "lo.pcap").string();
    auto cap = sgtest::ChildProcess::spawn({"dumpcap", "-q", "-P", "-i", "lo", "-s", "512", "-f",
                                            "sctp port " + std::to_string(l->port()), "-w", pcap},
                                           (dir / "dumpcap.log").string());
    if (!cap) {
      ADD_FAILURE() << "cannot start dumpcap";
      return r;
    }
    const auto deadline = Clock::now() + 30s;
    while (Clock::now() < deadline && !std::filesystem::exists(pcap)) std::this_thread::sleep_for(50ms);
    if (!std::filesystem::exists(pcap)) {
      ADD_FAILURE() << "dumpcap did not start: " << sgtest::read_file((dir / "dumpcap.log").string());
      return r;
    }
    std::this_thread::sleep_for(500ms);  // dumpcap has the filter installed

    auto sink = std::make_shared<Sink>();
    auto a = connect(ours, l->port(), sink);
    if (!a || !run_until([&] { return sink->up; })) {
      ADD_FAILURE() << "association did not come up";
      return r;
    }
    const auto t0 = Clock::now();
    const auto end = t0 + std::chrono::seconds(seconds);
    std::uint32_t sent = 0;
    auto next = t0;
    while (Clock::now() < end) {
      if (Clock::now() >= next) {
        Bytes payload(100, static_cast<std::uint8_t>(sent));
        EXPECT_TRUE(a->send(Message{3, 0, false, std::move(payload)}).ok());
        ++sent;
        next += 300ms;
      }
      io.run_for(5ms);
      io.restart();
    }
    EXPECT_TRUE(run_until([&] { return !served.empty() && served.back()->received == sent; }, 5s));
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    a->close();
    run_until([&] { return sink->down.has_value(); }, 3s);
    std::this_thread::sleep_for(500ms);
    cap->signal(SIGINT);
    cap->wait(10s);

    // DATA chunks our side sent (destination port = the listener's), and
    // those tshark's TSN analysis marks as retransmissions, with their
    // delay after the original.
    const std::string port = std::to_string(l->port());
    // One tshark pass (its start-up alone takes 10-15 s inside UML): a
    // line per frame with DATA from our side, and in its second field the
    // retransmission delays tshark's TSN analysis gives, one per
    // retransmitted chunk, comma-separated; empty for an original.
    const auto frames = run_text("tshark -n -r '" + pcap + "' -o sctp.tsn_analysis:TRUE -Y 'sctp.dstport == " + port +
                                 " && sctp.data_tsn' -T fields -E separator=/t -e frame.number"
                                 " -e sctp.retransmission_time");
    std::istringstream in(frames);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      ++r.data_chunks;
      const auto tab = line.find('\t');
      if (tab == std::string::npos || tab + 1 == line.size()) continue;
      ++r.retransmitted;
      std::istringstream fields(line.substr(tab + 1));
      std::string f;
      while (std::getline(fields, f, ','))
        if (!f.empty()) r.delay_ms.push_back(std::atof(f.c_str()) * 1000.0);
    }
    std::printf("%s: %u messages in %.1f s, %zu DATA chunks on the wire, %zu retransmitted (%.1f per minute), "
                "median %.0f ms after the original\n",
                name.c_str(), sent, r.seconds, r.data_chunks, r.retransmitted, r.per_minute(), r.median_delay());
    std::fflush(stdout);
    EXPECT_GE(r.data_chunks, sent) << "tshark saw the traffic";
    return r;
  }
};

// Before (the RTO floor of 50 ms): the peer's SACK comes after ~200 ms, so
// most messages go out twice. This documents the problem the profile had.
TEST_F(SpuriousRetransmissions, LegacyAggressiveProfileRetransmitsForNothing) {
  const auto r = measure(legacy_aggressive(), "legacy-aggressive");
  EXPECT_GT(r.per_minute(), 20.0);
  // Retransmitted before the peer's 200 ms delayed SACK could come: by the
  // RTO floor, not for a lost packet. 58 ms measured (docs/performance.md); UML's
  // timers under the whole suite's load stretched it to 160 ms once.
  if (!r.delay_ms.empty()) {
    EXPECT_LT(r.median_delay(), 200.0) << "retransmitted by the RTO floor, not by a lost packet";
  }
}

// After: RTO floor 250 ms, above the peer's 200 ms delayed SACK. None is
// expected; on a loaded build host UML's timers can still make one SACK
// later than the floor, so the test allows two in fifty, and checks that
// whatever is retransmitted waited for the floor (no RTO-floor artefact).
TEST_F(SpuriousRetransmissions, AggressiveProfileDoesNotRetransmitWhatThePeerHas) {
  const auto r = measure(SctpOptions::aggressive(), "aggressive");
  EXPECT_LE(r.retransmitted * 25, r.data_chunks) << "at most 4 % of the DATA chunks";
  for (double d : r.delay_ms) EXPECT_GE(d, 245.0) << "retransmitted before the RTO floor";
}
