// The real rserpool-registrar under attack by one unauthenticated peer on
// the same network (issue 14 items 1, 2, 3, 5, 7, 8): over the TCP mapping
// on the host (label host), over kernel SCTP inside UML (label
// kernel-sctp). Each test states the attack, what must hold, and prints
// the figures it measured (docs/security.md quotes them).
#include "daemon_fixture.hpp"
// After <netinet/in.h> (daemon_fixture.hpp): lksctp's header needs it first.
#include <netinet/sctp.h>

#include <algorithm>
#include <atomic>
#include <regex>
#include <sstream>
#include <thread>

#include "rserpool/transport/tcp_frame.hpp"
#include "rserpool/wire/enrp.hpp"

namespace {

using namespace regdaemon;
namespace tcpmap = rserpool::transport::tcpmap;

// A client that sends and never reads: the attacker of issue 14 item 2.
// Raw sockets, because our transport reads whenever its loop runs: over the
// TCP mapping it speaks the framing (INIT, then DATA) and never acknowledges;
// over SCTP the kernel's receive window closes and the daemon's queue grows.
class SilentClient {
 public:
  static std::optional<SilentClient> connect(std::uint16_t port) {
    const int fd = socket(AF_INET, SOCK_STREAM, use_sctp() ? IPPROTO_SCTP : 0);
    if (fd < 0) return std::nullopt;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    // A connect the daemon's full accept backlog leaves unanswered would
    // block for the whole INIT retransmission schedule (a minute over
    // kernel SCTP): give up after 2 s, it then counts as not opened.
    const timeval limit{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      close(fd);
      return std::nullopt;
    }
    SilentClient c(fd);
    if (use_sctp()) {
      sctp_sndrcvinfo info{};
      info.sinfo_ppid = htonl(11);
      setsockopt(fd, IPPROTO_SCTP, SCTP_DEFAULT_SEND_PARAM, &info, sizeof info);
    } else {
      Bytes init;
      tcpmap::FrameEncoder::encode(tcpmap::Frame::init(16, 16, 1), init);
      if (!c.write_all(init)) return std::nullopt;
    }
    return c;
  }
  SilentClient(SilentClient&& o) noexcept : fd_(std::exchange(o.fd_, -1)), seq_(o.seq_) {}
  ~SilentClient() {
    if (fd_ >= 0) close(fd_);
  }
  bool send(const Bytes& asap_message) {
    if (use_sctp()) return ::send(fd_, asap_message.data(), asap_message.size(), MSG_NOSIGNAL) > 0;
    Bytes frame;
    tcpmap::FrameEncoder::encode_data(seq_++, 11, 0, false, asap_message, frame);
    return write_all(frame);
  }

 private:
  explicit SilentClient(int fd) : fd_(fd) {}
  bool write_all(const Bytes& b) {
    std::size_t done = 0;
    while (done < b.size()) {
      const ssize_t n = ::send(fd_, b.data() + done, b.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }
  int fd_ = -1;
  std::uint32_t seq_ = 1;
};

// Resident memory of a process, in KiB.
long rss_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// RssAnon / RssFile of a process, in KiB: heap and stacks against mapped
// code and data files.
std::pair<long, long> rss_split_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  long anon = -1, file = -1;
  while (std::getline(f, line)) {
    if (line.rfind("RssAnon:", 0) == 0) anon = std::stol(line.substr(8));
    if (line.rfind("RssFile:", 0) == 0) file = std::stol(line.substr(8));
  }
  return {anon, file};
}

// `name value` from `show counters`, -1 when absent.
long counter(const std::string& text, const std::string& name) {
  std::smatch m;
  if (std::regex_search(text, m, std::regex("(^|\\n)" + name + " (\\d+)"))) return std::stol(m[2]);
  return -1;
}

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

class Attack : public DaemonTest {
 protected:
  // One telnet session for the whole test: what the log shows is the
  // attack's doing, not the observer's (libosmocore logs each telnet accept).
  std::string show(const std::string& command) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!vty_ || vty_port_connected_ != vty_port) {
        auto c = sgtest::TelnetClient::connect("127.0.0.1", vty_port, 2s);
        if (!c || !c->read_until_prompt(2s)) return {};
        vty_ = std::make_unique<sgtest::TelnetClient>(std::move(*c));
        vty_port_connected_ = vty_port;
      }
      if (auto out = vty_->run(command, 3s)) return *out;
      vty_.reset();
    }
    return {};
  }
  std::unique_ptr<sgtest::TelnetClient> vty_;
  std::uint16_t vty_port_connected_ = 0;
  long count(const std::string& name) { return counter(show("show counters"), name); }
  bool wait_for(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (cond()) return true;
      run_until([] { return false; }, 20ms);
    }
    return cond();
  }
  // A registered PE that answers its keep-alives (or not).
  struct Pe {
    std::shared_ptr<Client> client;
    std::shared_ptr<transport::Association> association;
  };
  Pe register_pe(PeIdentifier id, const std::string& pool, std::uint16_t port = 7000) {
    Pe p;
    p.client = connect_asap();
    p.association = associations.back();
    auto e = pe(id);
    e.user_transport.port = port;
    auto r = request(*p.client, *p.association, asap::Registration{PoolHandle(pool), e});
    EXPECT_TRUE(r && std::holds_alternative<asap::RegistrationResponse>(*r) &&
                !std::get<asap::RegistrationResponse>(*r).rejected);
    return p;
  }
  // Answers every ENDPOINT_KEEP_ALIVE waiting in the PE's inbox.
  std::size_t answer_keep_alives(Pe& p, const std::string& pool, PeIdentifier id) {
    std::size_t n = 0;
    while (!p.client->inbox.empty()) {
      auto d = asap::decode(p.client->inbox.front().payload);
      p.client->inbox.pop_front();
      if (d && std::holds_alternative<asap::EndpointKeepAlive>(d.value().message)) {
        (void)p.association->send(transport::Message{11, 0, false,
                                                     asap::encode(asap::EndpointKeepAliveAck{PoolHandle(pool), id})});
        ++n;
      }
    }
    return n;
  }
  std::optional<asap::HandleResolutionResponse> resolve(const std::string& pool,
                                                        std::optional<std::uint32_t> items = std::nullopt) {
    auto pu = connect_asap();
    auto r = request(*pu, *associations.back(), asap::HandleResolution{false, PoolHandle(pool), items});
    associations.back()->close();
    if (!r || !std::holds_alternative<asap::HandleResolutionResponse>(*r)) return std::nullopt;
    return std::get<asap::HandleResolutionResponse>(*r);
  }
};

// Item 1: ENDPOINT_UNREACHABLE from 10 pool users, 3 s long, against a PE
// that answers its audits: it stays. Once it stops answering, one more
// report removes it within one keep-alive timeout.
TEST_F(Attack, UnreachableFloodNeverRemovesAnAnsweringPeADeadOneGoesWithinTheTimeout) {
  // The victim answers its audits from this test's loop, every 50 ms; a
  // guest that stops running us for longer than the keep-alive timeout
  // makes it a PE that did not answer in time, rightly removed. x52's UML
  // lane (four lanes and two benchmark boots beside it) removed it so with
  // a 1,000 ms timeout, as x43 saw this test's second half 589 ms late.
  // 3,000 ms keeps the test about the reports, not the guest's scheduling.
  constexpr long long kKeepAliveTimeoutMs = 3000;
  auto daemon = start_daemon(write_file("attack-unreachable.cfg", config_text() + " timer keep-alive-timeout " +
                                                                      std::to_string(kKeepAliveTimeoutMs) + "\n"));
  ASSERT_TRUE(daemon);
  auto victim = register_pe(0x1001, "calls");
  std::vector<std::shared_ptr<Client>> reporters;
  std::vector<std::shared_ptr<transport::Association>> reporter_assocs;
  for (int i = 0; i < 10; ++i) {
    reporters.push_back(connect_asap());
    reporter_assocs.push_back(associations.back());
  }
  const Bytes report = asap::encode(asap::EndpointUnreachable{PoolHandle("calls"), 0x1001});
  std::size_t answered = 0;
  const auto end = Clock::now() + 3s;
  while (Clock::now() < end) {
    for (auto& a : reporter_assocs) (void)a->send(transport::Message{11, 0, false, report});
    run_until([] { return false; }, 50ms);
    answered += answer_keep_alives(victim, "calls", 0x1001);
  }
  run_until([] { return false; }, 200ms);
  answered += answer_keep_alives(victim, "calls", 0x1001);
  const auto r = resolve("calls");
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->pool_elements.size(), 1u) << "an answering PE was removed by reports";
  const auto counters = show("show counters");
  EXPECT_GT(counter(counters, "registrar_unreachable_reports_total"), 100);
  EXPECT_EQ(counter(counters, "registrar_unreachable_removals_total"), 0);
  EXPECT_GT(counter(counters, "registrar_unreachable_refuted_total"), 0);
  EXPECT_GT(answered, 0u);
  std::printf("[unreachable] %ld reports from 10 associations in 3 s, %zu audits answered: PE kept\n",
              counter(counters, "registrar_unreachable_reports_total"), answered);

  // The PE stops answering (hung): the next report removes it within the
  // keep-alive timeout (kKeepAliveTimeoutMs), measured from the report.
  const auto t0 = Clock::now();
  (void)reporter_assocs[0]->send(transport::Message{11, 0, false, report});
  ASSERT_TRUE(wait_for(
      [&] {
        auto x = resolve("calls");
        return x && !x->error.empty();  // unknown pool: the PE is gone
      },
      std::chrono::milliseconds(kKeepAliveTimeoutMs + 5000)));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  // The exact timing is the core's, tested in virtual time
  // (AsapFixture.ADeadPeIsRemovedOneKeepAliveTimeoutAfterTheFirstReport);
  // here the wiring: not before the keep-alive timeout, and within it plus
  // what a loaded guest adds (1,589 ms seen in a UML lane beside three
  // others, against a 1,400 ms bound that then failed the suite).
  EXPECT_GE(ms, kKeepAliveTimeoutMs) << "removed before its keep-alive timeout";
  EXPECT_LE(ms, kKeepAliveTimeoutMs + 3000) << "the keep-alive timeout plus a loaded guest's delay";
  EXPECT_EQ(count("registrar_unreachable_removals_total"), 1);
  std::printf("[unreachable] hung PE removed %lld ms after the first report (keep-alive timeout %lld ms)\n",
              static_cast<long long>(ms), kKeepAliveTimeoutMs);
}

// Item 5: from the same host (same address, another port) an attacker tries
// to re-register the PE's identifier with its own port, to deregister it,
// and closes its association: the PE stays, untouched.
TEST_F(Attack, APeIdentifierCannotBeTakenFromTheSameHost) {
  auto daemon = start_daemon(write_file("attack-hijack.cfg", config_text()));
  ASSERT_TRUE(daemon);
  auto owner = register_pe(0x2002, "calls", 7000);
  auto attacker = connect_asap();
  auto& aa = *associations.back();
  auto hijack = pe(0x2002);
  hijack.user_transport.port = 6666;
  auto r = request(*attacker, aa, asap::Registration{PoolHandle("calls"), hijack});
  ASSERT_TRUE(r && std::holds_alternative<asap::RegistrationResponse>(*r));
  const auto& rr = std::get<asap::RegistrationResponse>(*r);
  EXPECT_TRUE(rr.rejected);
  ASSERT_FALSE(rr.error.empty());
  EXPECT_EQ(rr.error.front().code, ErrorCause::non_unique_pe_identifier);
  // The audit of the owner the refusal triggered: it answers.
  run_until([&] { return !owner.client->inbox.empty(); }, 2s);
  answer_keep_alives(owner, "calls", 0x2002);
  auto d = request(*attacker, aa, asap::Deregistration{PoolHandle("calls"), 0x2002});
  ASSERT_TRUE(d && std::holds_alternative<asap::DeregistrationResponse>(*d));
  EXPECT_FALSE(std::get<asap::DeregistrationResponse>(*d).error.empty());
  aa.close();
  ASSERT_TRUE(run_until([&] { return attacker->down; }));
  run_until([] { return false; }, 200ms);
  answer_keep_alives(owner, "calls", 0x2002);
  const auto res = resolve("calls");
  ASSERT_TRUE(res.has_value());
  ASSERT_EQ(res->pool_elements.size(), 1u);
  EXPECT_EQ(res->pool_elements[0].user_transport.port, 7000);
  EXPECT_EQ(count("registrar_registrations_refused_owned_total"), 1);
}

// Item 2: ten clients ask for 128-item resolutions and never read the
// answers. Each is aborted at its send-queue bound; RSS stays bounded under
// the attack and returns to within 10% of its baseline after it.
TEST_F(Attack, ClientsThatNeverReadAreAbortedAndMemoryReturns) {
  // Keep-alives every 10 min: the owner's client cannot answer audits
  // while this thread floods, and on a loaded machine the test outlasts
  // the fixture's 60 s interval (its PEs then expire one by one and the
  // last resolution finds fewer than 128).
  auto daemon = start_daemon(write_file(
      "attack-unread.cfg", config_text() + " check-pe-addresses off\n rate-limit registration 0 0\n"
                                          " rate-limit resolution 0 0\n max-resolution-items 128\n"
                                          " timer keep-alive-interval 600000\n"));
  ASSERT_TRUE(daemon);
  // The owner is this test's client, in a process the flood thread shares:
  // with the machine loaded (load 13 on 2 cores), the daemon's turn through
  // ten flooding clients took up to 3 s before it answered the owner's
  // HEARTBEAT, and this client then gave up (the daemon saw an ABORT and
  // removed the 128 PEs; the last resolution found none). What is tested
  // here is memory; the daemon keeps its own 3 s timeout.
  client_heartbeat_timeout = transport::Millis{30000};
  // A pool of 128 PEs with 8 addresses each: a full answer is about 15 KB.
  auto owner = connect_asap();
  client_heartbeat_timeout = transport::Millis{3000};
  for (PeIdentifier id = 1; id <= 128; ++id) {
    auto e = pe(0x3000 + id);
    for (std::uint8_t k = 1; k < 8; ++k) e.user_transport.addresses.push_back(IpAddress::v4({10, 9, k, static_cast<std::uint8_t>(id)}));
    auto r = request(*owner, *associations.back(), asap::Registration{PoolHandle("big"), e});
    ASSERT_TRUE(r && !std::get<asap::RegistrationResponse>(*r).rejected);
  }
  auto first = resolve("big", 128u);
  ASSERT_TRUE(first && first->pool_elements.size() == 128u);
  run_until([] { return false; }, 500ms);
  const long baseline = rss_kib(daemon->pid());
  const auto split0 = rss_split_kib(daemon->pid());
  const auto c0 = show("show counters");
  long peak = baseline;
  const Bytes ask = asap::encode(asap::HandleResolution{false, PoolHandle("big"), 128u});
  for (int round = 0; round < 3; ++round) {
    std::vector<SilentClient> attackers;
    for (int i = 0; i < 10; ++i) {
      auto c = SilentClient::connect(asap_port);
      ASSERT_TRUE(c.has_value());
      attackers.push_back(std::move(*c));
    }
    // Each asks until the daemon cuts it off (its writes then fail). The
    // flood runs on its own thread while this one keeps the owner's
    // association answering the transport's heartbeats: on a loaded
    // machine the flood outlasts the TCP mapping's 3 s heartbeat timeout,
    // and the daemon would rightly abort a silent owner and remove its PEs.
    std::atomic<bool> flooded{false};
    std::atomic<long> flood_peak{peak};
    std::thread flood([&] {
      for (int k = 0; k < 3000; ++k) {
        for (auto& a : attackers) (void)a.send(ask);
        if (k % 100 == 0) flood_peak = std::max(flood_peak.load(), rss_kib(daemon->pid()));
      }
      flooded = true;
    });
    run_until([&] { return flooded.load(); }, 120s);
    flood.join();
    peak = std::max(peak, flood_peak.load());
    ASSERT_TRUE(wait_for([&] { return count("registrar_asap_aborted_send_queue_total") >= 10 * (round + 1); }, 10s))
        << show("show counters");
    peak = std::max(peak, rss_kib(daemon->pid()));
  }
  // The attackers are gone; the daemon gives memory back and still serves.
  // It trims a second after the last of them is aborted; on a loaded
  // machine (CI's host lane beside two UML lanes and a fuzzing build) that
  // abort itself can come seconds late: x31 of stop 24 was still 35 % over
  // the baseline after a 5 s wait. The bound is on memory coming back, not
  // on how fast a starved daemon gets to it.
  long after = 0;
  const bool returned = wait_for(
      [&] {
        after = rss_kib(daemon->pid());
        return after <= baseline + baseline / 10;
      },
      20s);
  std::printf("[unread] RSS baseline %ld KiB, peak under 3 rounds of 10 non-reading clients %ld KiB, after %ld KiB\n",
              baseline, peak, after);
  {
    const auto split1 = rss_split_kib(daemon->pid());
    const auto c1 = show("show counters");
    std::printf("[unread] anon/file KiB before %ld/%ld after %ld/%ld; heap in use %ld -> %ld, free %ld -> %ld, "
                "pooled %ld -> %ld, queued %ld -> %ld, trims %ld\n",
                split0.first, split0.second, split1.first, split1.second, counter(c0, "registrar_heap_in_use_bytes"),
                counter(c1, "registrar_heap_in_use_bytes"), counter(c0, "registrar_heap_free_bytes"),
                counter(c1, "registrar_heap_free_bytes"), counter(c0, "registrar_buffers_pooled"),
                counter(c1, "registrar_buffers_pooled"), counter(c0, "registrar_send_queued_bytes"),
                counter(c1, "registrar_send_queued_bytes"), counter(c1, "registrar_memory_trims_total"));
  }
  std::string trims;
  {
    std::istringstream log(sgtest::read_file(log_path));
    for (std::string line; std::getline(log, line);)
      if (line.find("given back") != std::string::npos || line.find("does not read") != std::string::npos)
        trims += line + "\n";
  }
  EXPECT_TRUE(returned) << "RSS " << after << " KiB after the attack, baseline " << baseline << " KiB\n"
                        << show("show counters") << trims;
  EXPECT_LT(peak - baseline, 64 * 1024) << "more than 64 MiB held for 10 clients that never read";
  auto again = resolve("big", 128u);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->pool_elements.size(), 128u);
}

// Item 3: a flood of idle associations. The cap stays below the process's
// open-file limit (here 256), one address holds at most its share, and a
// PE still registers while the flood holds everything it may.
TEST_F(Attack, IdleAssociationFloodLeavesRoomForPes) {
  const auto cfg = write_file("attack-flood.cfg", config_text() + " max-associations-per-address 60\n client-idle 500\n");
  const std::string tag = std::to_string(::getpid()) + "-flood";
  log_path = ::testing::TempDir() + "/rserpool-registrar-" + tag + ".log";
  const std::string ports_path = ::testing::TempDir() + "/rserpool-registrar-" + tag + ".ports";
  std::remove(ports_path.c_str());
  auto daemon = sgtest::ChildProcess::spawn(
      {"sh", "-c", "ulimit -n 256 && exec \"$0\" -c \"$1\" --ports-file \"$2\"", kBinary, cfg, ports_path}, log_path);
  ASSERT_TRUE(daemon);
  auto ports = regtest::wait_for_ports(*daemon, ports_path);
  ASSERT_TRUE(ports) << sgtest::read_file(log_path);
  asap_port = ports->asap();
  vty_port = ports->vty();
  // 256 descriptors: 64 kept for the process, 64 + 2 for ENRP: 126 for ASAP.
  const auto reg = show("show registrar");
  EXPECT_NE(reg.find("(at most 126, 60 per address"), std::string::npos) << reg;
  EXPECT_NE(sgtest::read_file(log_path).find("lowered to 126"), std::string::npos) << sgtest::read_file(log_path);

  // 300 idle associations from 127.0.0.1.
  std::vector<SilentClient> flood;
  for (int i = 0; i < 300; ++i) {
    if (auto c = SilentClient::connect(asap_port)) flood.push_back(std::move(*c));
  }
  // Held: at most 60 from 127.0.0.1. The rest is refused, at accept when
  // the whole cap is taken (descriptors included), or once up by address.
  // Every client that got through connect() beyond the 60 is refused, or
  // evicted once idle past client-idle (500 ms: on a loaded machine the
  // 300 connects take longer than that, and an evicted one makes room for
  // a later one).
  const auto turned_away = [&] {
    const auto c = show("show counters");
    return counter(c, "registrar_associations_refused_per_address_total") +
           counter(c, "registrar_associations_refused_full_total") +
           counter(c, "registrar_associations_evicted_total");
  };
  const long connected = static_cast<long>(flood.size());
  ASSERT_GE(connected, 60) << "the flood did not get going";
  ASSERT_TRUE(wait_for([&] { return turned_away() >= connected - 60; }, 10s))
      << connected << " connected\n" << show("show counters");
  // Past client-idle a PE from another address gets in and registers.
  run_until([] { return false; }, 600ms);
  auto c = std::make_shared<Client>();
  transport::EndpointConfig e;
  e.kind = use_sctp() ? transport::TransportKind::sctp : transport::TransportKind::tcp;
  e.local_addresses = {*IpAddress::parse("127.0.0.2")};
  e.remote_addresses = {IpAddress::v4_loopback()};
  e.remote_port = asap_port;
  auto a = transport::connect(io, e, c);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(run_until([&] { return c->up || c->down; }));
  ASSERT_TRUE(c->up);
  auto p = pe(0x4004);
  p.user_transport.addresses = {*IpAddress::parse("127.0.0.2")};
  auto r = request(*c, **a, asap::Registration{PoolHandle("calls"), p});
  ASSERT_TRUE(r && std::holds_alternative<asap::RegistrationResponse>(*r));
  EXPECT_FALSE(std::get<asap::RegistrationResponse>(*r).rejected);
  const auto counters = show("show counters");
  EXPECT_LE(counter(counters, "registrar_asap_associations"), 126);
  std::printf("[flood] 300 idle associations under ulimit -n 256: %ld held, %ld refused per address, %ld refused "
              "full, %ld evicted; a PE registered\n",
              counter(counters, "registrar_asap_associations"),
              counter(counters, "registrar_associations_refused_per_address_total"),
              counter(counters, "registrar_associations_refused_full_total"),
              counter(counters, "registrar_associations_evicted_total"));
  EXPECT_EQ(sgtest::read_file(log_path).find("Too many open files"), std::string::npos);
}

// Item 7: floods write a bounded number of log lines, whatever the number of
// messages: each cause logs at most 5 lines and one "N similar suppressed"
// per 10 s window (rserpool/base/log_limiter.hpp's defaults). The bound is
// per window because that is what the limiter promises: a loaded machine
// stretches a flood over more windows and may write more lines, never more
// per window. Two lines are allowed for what is not the flood (the VTY's
// connection notice). Without the limiter the 2,000 refusals and 10,000
// malformed messages would write thousands.
std::size_t line_bound(std::chrono::steady_clock::duration flood, std::size_t causes) {
  constexpr std::size_t per_window = 5 + 1;
  // A flood of length d touches at most d / window + 2 windows (the first and
  // last partly).
  const auto windows = static_cast<std::size_t>(flood / std::chrono::seconds(10)) + 2;
  return causes * per_window * windows + 2;
}

TEST_F(Attack, FloodsWriteAtMostTwentyLines) {
  auto daemon = start_daemon(write_file("attack-logs.cfg", config_text() + " log-level transport error\n"));
  ASSERT_TRUE(daemon);
  // 2,000 ENRP associations from an address that is no peer's, 100 at a
  // time (each comes up, is refused and aborted; over kernel SCTP a
  // client's connect may itself fail when the ABORT beats it).
  auto before = sgtest::read_file(log_path).size();
  auto flood_start = std::chrono::steady_clock::now();
  long opened = 0;
  // Waves until the registrar refused 2,000 (over kernel SCTP some connects
  // lose the race with the ABORT and count as nothing), 60 waves at most.
  for (int batch = 0; batch < 60 && count("registrar_enrp_associations_refused_total") < 2000; ++batch) {
    std::vector<SilentClient> wave;
    for (int i = 0; i < 100; ++i) {
      if (auto c = SilentClient::connect(enrp_port)) wave.push_back(std::move(*c));
    }
    opened += static_cast<long>(wave.size());
    ASSERT_TRUE(wait_for([&] { return count("registrar_enrp_associations_refused_total") >= opened; }, 10s))
        << opened << " opened\n" << show("show counters");
  }
  EXPECT_GE(count("registrar_enrp_associations_refused_total"), 2000);
  const auto refused_log = sgtest::read_file(log_path).substr(before);
  const auto refused_lines = count_lines(refused_log);
  std::printf("[logs] %ld refused ENRP associations wrote %zu line(s)\n", count("registrar_enrp_associations_refused_total"),
              refused_lines);
  // Two causes: refused for a full table, refused as a stranger.
  EXPECT_LE(refused_lines, line_bound(std::chrono::steady_clock::now() - flood_start, 2)) << refused_log;

  // 10,000 malformed ASAP messages on one association (each answered with
  // an ASAP_ERROR, which the client reads).
  before = sgtest::read_file(log_path).size();
  flood_start = std::chrono::steady_clock::now();
  auto c = connect_asap();
  auto& a = *associations.back();
  const Bytes bad{0x45, 0x00, 0x00, 0x04};  // unknown type, top bits 01: "report"
  // Every one of the 10,000 is sent: a send our own transport refuses (its
  // queue full while the machine is slow) is retried once it drained.
  for (int i = 0; i < 10000; ++i) {
    for (auto r = a.send(transport::Message{11, 0, false, bad}); !r; r = a.send(transport::Message{11, 0, false, bad})) {
      ASSERT_EQ(r.error(), transport::SendError::queue_full) << "sent " << i;
      ASSERT_TRUE(run_until([&] { return a.queued() < 50; }, 10s)) << "sent " << i << ", queued " << a.queued();
    }
    // Read the answers as they come: a client more than the registrar's
    // send-queue bound (1,024) behind is a peer that does not read, and is
    // aborted (item 2) - not what this part measures.
    if (i % 100 == 99) {
      const auto sent = static_cast<std::size_t>(i + 1);
      run_until([&] { return a.queued() < 50 && c->inbox.size() + 300 >= sent; }, 10s);
    }
  }
  // Waits while answers keep coming (a loaded machine runs UML slowly);
  // fails only when they stop short of 10,000.
  for (std::size_t seen = 0; c->inbox.size() < 10000 && (seen == 0 || c->inbox.size() > seen);) {
    seen = std::max<std::size_t>(c->inbox.size(), 1);
    run_until([&] { return c->inbox.size() >= 10000; }, 10s);
  }
  ASSERT_GE(c->inbox.size(), 10000u);
  run_until([] { return false; }, 200ms);
  const auto bad_log = sgtest::read_file(log_path).substr(before);
  const auto bad_lines = count_lines(bad_log);
  std::printf("[logs] 10000 malformed ASAP messages: %zu ASAP_ERROR answers read, %zu log line(s)\n", c->inbox.size(),
              bad_lines);
  EXPECT_LE(bad_lines, line_bound(std::chrono::steady_clock::now() - flood_start, 1)) << bad_log;
  EXPECT_FALSE(c->down);
}

// Item 8 over the TCP mapping (one address per association): a stranger's
// ENRP association is refused; a monitor reads the handle table and its
// departure is no peer death, no takeover, no connect-back.
TEST_F(Attack, EnrpStrangersAreRefusedMonitorsReadOnly) {
  auto daemon = start_daemon(write_file("attack-monitor.cfg", config_text() + " monitor 127.0.0.4\n no mentor\n"));
  ASSERT_TRUE(daemon);
  auto p = register_pe(0x5005, "calls");
  const auto enrp_client = [&](const char* local) {
    auto c = std::make_shared<Client>();
    transport::EndpointConfig e;
    e.kind = use_sctp() ? transport::TransportKind::sctp : transport::TransportKind::tcp;
    e.local_addresses = {*IpAddress::parse(local)};
    e.remote_addresses = {IpAddress::v4_loopback()};
    e.remote_port = enrp_port;
    auto a = transport::connect(io, e, c);
    EXPECT_TRUE(a.ok());
    EXPECT_TRUE(run_until([&] { return c->up || c->down; }));
    return std::pair{c, a.ok() ? *a : nullptr};
  };
  // A stranger.
  auto [stranger, sa] = enrp_client("127.0.0.3");
  (void)sa->send(transport::Message{12, 0, false, wire::enrp::encode(wire::enrp::Presence{0x666, 0, true, 0xFFFF, {}})});
  EXPECT_TRUE(run_until([&] { return stranger->down; }));
  EXPECT_TRUE(stranger->inbox.empty());
  // A monitor: PRESENCE answered, the table in pages.
  auto [monitor, ma] = enrp_client("127.0.0.4");
  ASSERT_TRUE(monitor->up);
  (void)ma->send(transport::Message{12, 0, false, wire::enrp::encode(wire::enrp::Presence{0x4d4d, 0, true, 0xFFFF, {}})});
  (void)ma->send(transport::Message{12, 0, false, wire::enrp::encode(wire::enrp::HandleTableRequest{0x4d4d, 0, false})});
  ASSERT_TRUE(run_until([&] { return monitor->inbox.size() >= 2; }));
  bool table = false;
  for (const auto& m : monitor->inbox) {
    auto d = wire::enrp::decode(m.payload);
    ASSERT_TRUE(d);
    if (const auto* t = std::get_if<wire::enrp::HandleTableResponse>(&d.value().message)) {
      table = !t->pools.empty() && t->pools.front().pool_elements.front().id == 0x5005;
    }
  }
  EXPECT_TRUE(table);
  ma->close();
  ASSERT_TRUE(run_until([&] { return monitor->down; }));
  // Long enough for a peer to be declared dead (aggressive profile: 5 s + 2 s).
  run_until([] { return false; }, 8s);
  answer_keep_alives(p, "calls", 0x5005);
  const auto counters = show("show counters");
  EXPECT_EQ(counter(counters, "registrar_peers_dead_total"), 0);
  EXPECT_EQ(counter(counters, "registrar_takeovers_won_total"), 0);
  EXPECT_EQ(counter(counters, "registrar_enrp_connects_total"), 0);
  EXPECT_GE(counter(counters, "registrar_monitor_requests_total"), 1);
  EXPECT_EQ(counter(counters, "registrar_enrp_monitors_accepted_total"), 1);
  EXPECT_GE(counter(counters, "registrar_enrp_associations_refused_total"), 1);
  const auto log = sgtest::read_file(log_path);
  EXPECT_EQ(log.find("peer-dead"), std::string::npos) << log;
}

}  // namespace
