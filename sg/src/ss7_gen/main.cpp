// ss7-gen: the SS7 side of the gateway under load. It connects to the SG's
// SGP (or to an STP) as an M3UA ASP and either originates ISUP calls and
// SCCP queries at a steady rate (Ss7CallGenerator) or runs a closed loop of
// SCCP queries for throughput (--max-rate). With --mate it is the SS7 side
// of a mated pair of SGs: one ASP connection to each, SLS load sharing,
// failover when one is lost and changeback when it returns (SgLoadShare).
// Machine-readable lines on stdout: "stats ..." every --stats-interval,
// "event ..." for DUNA/DAVA, SGs lost and active, and failed calls, one
// "summary ..." at the end. Exit status: 0 when it ran (the numbers say how
// well), 1 when no ASP ever became active, 2 on a usage error.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <memory>

#include "call_ledger.hpp"
#include "mxua/driver/asp_connection.hpp"
#include "mxua/point_code.hpp"
#include "options.hpp"
#include "rserpool/base/log.hpp"
#include "sg/sim/sg_load_share.hpp"
#include "sg/sim/ss7_call_generator.hpp"
#include "sg/ss7/isup.hpp"
#include "udt_window.hpp"

namespace sg::ss7gen {
namespace {

namespace tr = rserpool::transport;
namespace drv = mxua::driver;
using namespace std::chrono_literals;

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
long long us(std::chrono::nanoseconds d) { return static_cast<long long>(d.count() / 1000); }

// M3UA DATA's protocol data and the gateway's MTP message are the same
// routing label and payload.
MtpMessage to_mtp(const mxua::Data& d) {
  const auto& p = d.protocol_data;
  return MtpMessage{p.opc.value, p.dpc.value, p.si, p.ni, p.mp, p.sls, p.user_data};
}

class Generator;

// The M3UA indications of one SG's connection, tagged with its index.
class SgEvents : public drv::Events {
 public:
  SgEvents(Generator& g, std::size_t sg) : g_(g), sg_(sg) {}
  void on_asp_state(const mxua::AspStateChanged& c) override;
  void on_data(mxua::DataIndication&& d) override;
  void on_destination_state(const mxua::DestinationStateChanged& d) override;
  void on_association_up(mxua::AssocId, const tr::AssociationInfo& i) override;
  void on_association_down(mxua::AssocId, tr::DownReason r) override;
  void on_send_failed(mxua::AssocId, std::vector<mxua::Data>&& unsent) override;

 private:
  Generator& g_;
  std::size_t sg_;
};

class Generator {
 public:
  Generator(boost::asio::io_context& io, Options o)
      : io_(io), o_(std::move(o)), tick_(io), stats_timer_(io), phase_timer_(io), ledger_(o_.answer_timeout),
        log_(rserpool::log::get("ss7-gen")), share_(share_config(o_)) {}

  bool start() {
    if (!o_.trace_path.empty()) {
      trace_.reset(std::fopen(o_.trace_path.c_str(), "w"));
      if (!trace_) {
        std::fprintf(stderr, "%s: cannot write the trace to %s\n", o_.name.c_str(), o_.trace_path.c_str());
        return false;
      }
    }
    add_sg(o_.connect, o_.mate.empty() ? o_.name : o_.name + "/sg0");
    if (!o_.mate.empty()) add_sg(o_.mate, o_.name + "/sg1");
    for (auto& sg : sgs_) sg.conn->start();
    schedule_share();
    phase_timer_.expires_after(o_.connect_timeout);
    phase_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || started_) return;
      std::fprintf(stderr, "%s: not ASP-ACTIVE after %lld ms\n", o_.name.c_str(),
                   static_cast<long long>(o_.connect_timeout.count()));
      exit_code_ = 1;
      finish();
    });
    return true;
  }

  // ---- One SG's connection (SgEvents)
  // The first DATA an SG brings after it became ACTIVE: traffic flows
  // through it again ("time until calls flow" after its restart).
  void sg_data(std::size_t i) {
    Sg& sg = sgs_[i];
    if (!sg.awaiting_traffic) return;
    sg.awaiting_traffic = false;
    std::printf("event sg-traffic sg=%zu unix_ms=%" PRId64 "\n", i, unix_ms());
    std::fflush(stdout);
  }
  void sg_asp_state(std::size_t i, const mxua::AspStateChanged& c) {
    log_->info("SG {}: ASP {} -> {}", i, mxua::to_string(c.from), mxua::to_string(c.to));
    sg_check(i);
    if (!started_ && active()) begin();
  }
  // A reconnection to an SG that is down, on the same host, can connect to
  // itself: the kernel may pick the SG's port as the ephemeral source port,
  // and a connect from a port to itself succeeds (SCTP and TCP
  // simultaneous open). Such an association talks to itself (ASPUP against
  // ASPUP) and holds the port the restarted SG needs; cut it off at once
  // and try again.
  void sg_up(std::size_t i, const tr::AssociationInfo& info) {
    bool self = false;
    for (const auto& l : info.local)
      for (const auto& r : info.remote) self = self || l == r;
    if (!self) return;
    ++self_connections_;
    log_->warn("SG {}: the association connected to itself (source port = the SG's port), aborting it", i);
    if (auto a = sgs_[i].conn->association()) a->abort();
  }
  void sg_down(std::size_t i, tr::DownReason r) {
    log_->warn("association to SG {} down: {}", i, tr::to_string(r));
    sg_check(i);
  }
  // What the transport did not deliver: re-sent through another SG once
  // this one is taken as lost (or when it is back).
  void sg_handed_back(std::size_t i, std::vector<mxua::Data>&& unsent) {
    // (The association's down report follows: sg_check() then hands them to SgLoadShare.)
    for (auto& d : unsent) {
      sgs_[i].handed_back.push_back(to_mtp(d));
      trace("handed-back", static_cast<int>(i), sgs_[i].handed_back.back());
    }
  }

  // SIGINT/SIGTERM: stop originating, let calls finish, report.
  void interrupt() {
    if (!started_) {
      exit_code_ = 1;
      finish();
    } else {
      end_origination();
    }
  }

  int exit_code() const noexcept { return exit_code_; }

  // ---- M3UA indications (from every SG)
  void on_data(mxua::DataIndication&& d) {
    auto m = to_mtp(d.data);
    const auto now = sim::Clock::now();
    ++received_;
    trace("in", -1, m);
    if (window_) {
      send_all(window_->on_message(m, now), now);
      if (window_->exhausted()) end_origination();  // a counted run: wait for the last answers
      return;
    }
    if (!generator_) return;
    if (auto f = ledger_.received(m, now)) report_failed(*f, "released-by-far-end");
    // The interval's worst answer latency: how long a caller waited (after a
    // failover, the calls that were on the failed controller).
    if (auto l = ledger_.take_answer_latency()) interval_max_ = std::max(interval_max_, *l);
    const auto unexpected_before = generator_->stats().unexpected_messages;
    const auto reordered_before = generator_->stats().reordered_messages;
    send_all(generator_->on_message(m, now), now);
    if (generator_->stats().unexpected_messages != unexpected_before) report_unexpected("unexpected", m);
    if (generator_->stats().reordered_messages != reordered_before) report_unexpected("reordered", m);
  }
  void on_destination_state(const mxua::DestinationStateChanged& d) {
    const bool down = d.availability == mxua::DestinationAvailability::Unavailable;
    (down ? duna_ : dava_)++;
    std::printf("event %s pc=%s unix_ms=%" PRId64 "\n", down ? "duna" : "dava",
                mxua::format_point_code(d.destination.pc, mxua::PcFormat::Itu).c_str(), unix_ms());
    std::fflush(stdout);
  }

 private:
  struct Sg {
    std::unique_ptr<SgEvents> events;
    std::shared_ptr<drv::AspConnection> conn;
    bool active = false;  // as SgLoadShare knows it
    bool awaiting_traffic = false;
    std::vector<MtpMessage> handed_back;
  };

  static sim::SgLoadShareConfig share_config(const Options& o) {
    sim::SgLoadShareConfig c;
    c.sgs = o.mate.empty() ? 1 : 2;
    c.max_wait = o.hold_while_down;
    c.changeback = o.changeback;
    return c;
  }

  void add_sg(const std::vector<rserpool::TransportAddress>& where, const std::string& name) {
    drv::AspConnectionConfig c;
    c.transport.kind = o_.transport;
    for (const auto& a : where) c.transport.remote_addresses.push_back(a.ip);
    c.transport.remote_port = where.front().port;
    c.transport.name = name;
    if (o_.aggressive) {
      c.transport.sctp = tr::SctpOptions::aggressive();
      c.transport.tcp = tr::TcpMappingOptions::aggressive();
      // An SG that restarts is back within a second: look for it often.
      c.reconnect_initial = std::chrono::milliseconds{20};
      c.reconnect_max = std::chrono::milliseconds{250};
    }
    c.transport.sctp.bundle = o_.bundle;
    if (o_.register_key) {
      mxua::RoutingKey k;
      k.local_rk_id = 1;
      k.traffic_mode = mxua::TrafficMode::Override;
      k.destinations = {mxua::RoutingKeyDestination{mxua::MaskedPointCode{0, mxua::PointCode{o_.opc}}, {}, {}}};
      c.registrations = {k};
    } else {
      c.asp.activations = {mxua::AspActivation{{}, mxua::TrafficMode::Loadshare}};
      if (o_.routing_context) c.asp.activations.front().routing_contexts = {*o_.routing_context};
    }
    Sg sg;
    sg.events = std::make_unique<SgEvents>(*this, sgs_.size());
    sg.conn = drv::AspConnection::create(io_, c, *sg.events);
    sgs_.push_back(std::move(sg));
  }

  std::optional<std::uint32_t> rc_of(const Sg& sg) const {
    if (!o_.register_key) return o_.routing_context;
    const auto& rcs = sg.conn->registered_contexts();
    return rcs.empty() ? std::nullopt : std::optional<std::uint32_t>(rcs.front());
  }
  bool sg_is_active(const Sg& sg) const {
    if (o_.register_key) {
      const auto rc = rc_of(sg);
      return rc && sg.conn->active_for(rc);
    }
    return sg.conn->active_for(o_.routing_context);
  }
  bool active() const {
    return std::any_of(sgs_.begin(), sgs_.end(), [this](const Sg& sg) { return sg_is_active(sg); });
  }

  // Tells SgLoadShare what changed on SG `i`: ACTIVE now, or lost.
  void sg_check(std::size_t i) {
    Sg& sg = sgs_[i];
    const bool now_active = sg_is_active(sg);
    const auto now = sim::Clock::now();
    if (now_active && !sg.active) {
      sg.active = true;
      sg.awaiting_traffic = true;
      std::printf("event sg-active sg=%zu unix_ms=%" PRId64 "\n", i, unix_ms());
      std::fflush(stdout);
      route(share_.sg_active(i, now));
    } else if (!now_active && sg.active) {
      sg.active = false;
      std::printf("event sg-lost sg=%zu handed_back=%zu unix_ms=%" PRId64 "\n", i, sg.handed_back.size(), unix_ms());
      std::fflush(stdout);
      route(share_.sg_lost(i, std::move(sg.handed_back), now));
      sg.handed_back.clear();
    }
    schedule_share();
  }

  // The messages SgLoadShare sends now, each on its SG.
  void route(std::vector<sim::SgLoadShare::Send>&& sends) {
    for (auto& s : sends) {
      Sg& sg = sgs_[s.sg];
      const auto& m = s.message;
      mxua::DataView d;
      d.routing_context = rc_of(sg);
      d.protocol_data = mxua::ProtocolDataView{mxua::PointCode{m.opc}, mxua::PointCode{m.dpc}, m.si, m.ni, m.mp,
                                               m.sls, rserpool::ByteView(m.data)};
      if (sg.conn->send_data(d)) {
        ++sent_;
        trace("sent", static_cast<int>(s.sg), m);
      } else {
        ++send_refused_;
        trace("refused", static_cast<int>(s.sg), m);
      }
    }
  }

  // SgLoadShare's timers: changebacks, and expiry of what waits for an SG.
  void schedule_share() {
    const auto next = share_.next_deadline();
    if (!next) return;
    if (share_armed_ && *share_armed_ <= *next) return;
    share_armed_ = next;
    auto timer = std::make_shared<boost::asio::steady_timer>(io_);
    timer->expires_at(*next);
    timer->async_wait([this, timer](boost::system::error_code ec) {
      if (ec || finished_) return;
      share_armed_.reset();
      route(share_.on_timeout(sim::Clock::now()));
      schedule_share();
    });
  }

  void begin() {
    started_ = true;
    phase_timer_.cancel();
    const auto now = sim::Clock::now();
    start_ = now;
    last_stats_ = now;
    std::printf("event active unix_ms=%" PRId64 "\n", unix_ms());
    std::fflush(stdout);
    if (o_.max_rate) {
      window_.emplace(WindowConfig{o_.opc, o_.dpc, o_.ni, o_.window, o_.payload, o_.queries});
      send_all(window_->start(now), now);
    } else {
      sim::GeneratorConfig g;
      g.opc = o_.opc;
      g.dpc = o_.dpc;
      g.ni = o_.ni;
      g.first_cic = o_.first_cic;
      g.cic_count = o_.cic_count;
      g.calls_per_second = o_.cps;
      g.sccp_per_second = o_.sccp_rate;
      g.hold_time = o_.hold;
      g.answer_timeout = o_.answer_timeout;
      g.release_timeout = o_.answer_timeout;
      g.release_repeat = o_.t1;
      generator_.emplace(g, now);
      schedule_tick();
    }
    if (o_.stats_interval.count() > 0) schedule_stats();
    phase_timer_.expires_after(std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(o_.duration_s)));
    phase_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) end_origination();
    });
  }

  void end_origination() {
    if (originating_ended_) return;
    originating_ended_ = true;
    origination_end_ = sim::Clock::now();
    if (window_) window_->stop();
    if (generator_) generator_->stop_originating();
    phase_timer_.cancel();
    // Calls in progress (or queries in flight) get the drain timeout.
    drain_deadline_ = sim::Clock::now() + (window_ ? std::chrono::milliseconds(2000) : o_.drain_timeout);
    poll_drain();
  }

  void poll_drain() {
    const bool idle = window_ ? window_->in_flight() == 0 : generator_->idle();
    if (idle || sim::Clock::now() >= drain_deadline_) {
      finish();
      return;
    }
    phase_timer_.expires_after(10ms);
    phase_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) poll_drain();
    });
  }

  void schedule_tick() {
    const auto now = sim::Clock::now();
    auto next = now + 2ms;  // bounded: replies may bring deadlines forward
    if (auto d = generator_->next_deadline(); d && *d < next) next = *d;
    tick_.expires_at(next);
    tick_.async_wait([this](boost::system::error_code ec) {
      if (ec || finished_) return;
      const auto t = sim::Clock::now();
      const auto failed_before = generator_->stats().calls_failed;
      send_all(generator_->advance(t), t);
      if (generator_->stats().calls_failed != failed_before)
        for (const auto& f : ledger_.expired(t)) report_failed(f, "timeout");
      schedule_tick();
    });
  }

  void send_all(std::vector<MtpMessage>&& out, sim::TimePoint now) {
    for (auto& m : out) {
      trace("queued", -1, m);
      if (generator_) ledger_.sent(m, now);
      route(share_.send(std::move(m), now));
    }
    schedule_share();
  }

  // A message that fits no call state (duplicate answer, unknown circuit),
  // or ("reordered") an ACM that came after its call's ANM.
  void report_unexpected(const char* what, const MtpMessage& m) {
    int cic = -1;
    unsigned type = 0;
    if (m.si == kSiIsup) {
      if (auto h = ss7::parse_isup_header(m.data)) {
        cic = h->cic;
        type = h->message_type;
      }
    }
    std::printf("event %s si=%u cic=%d type=0x%02x opc=%u unix_ms=%" PRId64 "\n", what, m.si, cic, type, m.opc,
                unix_ms());
    std::fflush(stdout);
  }

  void report_failed(const FailedCall& f, const char* why) {
    std::printf("event failed-call cic=%u reason=%s started_unix_ms=%" PRId64 " last_sent=%s last_sent_unix_ms=%" PRId64
                " acm=%d unix_ms=%" PRId64 "\n",
                f.cic, why, unix_ms(f.started), f.last_type, unix_ms(f.last_sent), f.acm ? 1 : 0, unix_ms());
    std::fflush(stdout);
  }

  // Buffered: flushed before each stats line and at the summary.
  // "queued": handed to the SG load sharing (it may wait there for an SG),
  // "sent"/"refused": on SG `sg`'s connection, "in": from an SG.
  void trace(const char* what, int sg, const MtpMessage& m) {
    if (!trace_ || m.si != kSiIsup) return;
    const auto h = ss7::parse_isup_header(m.data);
    if (!h) return;
    const auto type = ss7::to_string(static_cast<ss7::IsupMessageType>(h->message_type));
    std::fprintf(trace_.get(), "trace unix_ms=%" PRId64 " what=%s sg=%d cic=%u type=%.*s sls=%u\n", unix_ms(), what,
                 sg, static_cast<unsigned>(h->cic), static_cast<int>(type.size()), type.data(),
                 static_cast<unsigned>(m.sls));
  }

  void schedule_stats() {
    stats_timer_.expires_after(o_.stats_interval);
    stats_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || finished_) return;
      print_stats();
      schedule_stats();
    });
  }

  void print_stats() {
    if (trace_) std::fflush(trace_.get());
    const auto now = sim::Clock::now();
    const auto t_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - start_).count();
    const auto& sc = share_.counters();
    std::printf("stats name=%s t_ms=%lld unix_ms=%" PRId64 " active=%d sent=%" PRIu64 " received=%" PRIu64
                " send_refused=%" PRIu64 " duna=%" PRIu64 " dava=%" PRIu64 " waiting=%zu discarded=%" PRIu64,
                o_.name.c_str(), static_cast<long long>(t_ms), unix_ms(), active() ? 1 : 0, sent_, received_,
                send_refused_, duna_, dava_, share_.waiting(), sc.dropped);
    for (std::size_t i = 0; i < sgs_.size() && sgs_.size() > 1; ++i)
      std::printf(" sg%zu_active=%d sg%zu_sent=%" PRIu64, i, sgs_[i].active ? 1 : 0, i, sc.sent[i]);
    if (generator_) {
      const auto& s = generator_->stats();
      std::printf(" calls_started=%" PRIu64 " calls_completed=%" PRIu64 " calls_failed=%" PRIu64
                  " calls_blocked=%" PRIu64 " in_progress=%zu unexpected=%" PRIu64 " sccp_sent=%" PRIu64
                  " sccp_answered=%" PRIu64 " interval_max_answer_us=%lld",
                  s.calls_started, s.calls_completed, s.calls_failed, s.calls_blocked,
                  generator_->calls_in_progress(), s.unexpected_messages, s.sccp_sent, s.sccp_answered,
                  us(interval_max_));
    } else if (window_) {
      const auto& s = window_->stats();
      std::printf(" queries_sent=%" PRIu64 " answered=%" PRIu64 " in_flight=%zu unexpected=%" PRIu64, s.sent,
                  s.answered, window_->in_flight(), s.unexpected);
    }
    std::printf("\n");
    std::fflush(stdout);
    interval_max_ = {};
    last_stats_ = now;
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    tick_.cancel();
    stats_timer_.cancel();
    phase_timer_.cancel();
    if (started_) print_summary();
    if (sgs_.empty()) {
      io_.stop();
      return;
    }
    // Leave as an ASP should (ASPDN), then close; bounded.
    for (auto& sg : sgs_)
      if (sg.conn->state() != mxua::AspState::Down)
        sg.conn->request([](mxua::AspClient& c, mxua::TimePoint now) { return c.shutdown(now); });
    phase_timer_.expires_after(100ms);
    phase_timer_.async_wait([this](boost::system::error_code) {
      for (auto& sg : sgs_)
        if (auto a = sg.conn->association()) a->close();  // graceful, before stop() would abort
      phase_timer_.expires_after(15ms);  // shorter than the reconnect backoff
      phase_timer_.async_wait([this](boost::system::error_code) {
        for (auto& sg : sgs_) sg.conn->stop();
        io_.stop();
      });
    });
  }

  void print_summary() {
    if (trace_) std::fflush(trace_.get());
    const auto end = originating_ended_ ? origination_end_ : sim::Clock::now();
    const double secs = std::chrono::duration<double>(end - start_).count();
    const auto& sc = share_.counters();
    std::printf("summary name=%s duration_s=%.3f messages_sent=%" PRIu64 " messages_received=%" PRIu64
                " send_refused=%" PRIu64 " duna=%" PRIu64 " dava=%" PRIu64 " waited=%" PRIu64 " discarded=%" PRIu64
                " resent=%" PRIu64 " sg_failovers=%" PRIu64 " sg_changebacks=%" PRIu64 " self_connections=%" PRIu64,
                o_.name.c_str(), secs, sent_, received_, send_refused_, duna_, dava_, sc.held, sc.dropped, sc.resent,
                sc.failovers, sc.changebacks, self_connections_);
    if (generator_) {
      const auto& s = generator_->stats();
      const std::uint64_t sccp_lost = s.sccp_sent - s.sccp_answered;
      std::printf(" calls_attempted=%" PRIu64 " calls_completed=%" PRIu64 " calls_failed=%" PRIu64
                  " calls_blocked=%" PRIu64 " calls_unfinished=%zu sccp_sent=%" PRIu64 " sccp_answered=%" PRIu64
                  " sccp_lost=%" PRIu64 " losses=%" PRIu64 " unexpected=%" PRIu64 " reordered=%" PRIu64
                  " answer_p50_us=%lld answer_p90_us=%lld answer_p99_us=%lld answer_max_us=%lld"
                  " sccp_p50_us=%lld sccp_p99_us=%lld releases_repeated=%" PRIu64 " repeated_rlc=%" PRIu64,
                  s.calls_started, s.calls_completed, s.calls_failed, s.calls_blocked, generator_->calls_in_progress(),
                  s.sccp_sent, s.sccp_answered, sccp_lost,
                  s.calls_failed + generator_->calls_in_progress() + sccp_lost, s.unexpected_messages,
                  s.reordered_messages, us(s.answer_latency.percentile(50)), us(s.answer_latency.percentile(90)),
                  us(s.answer_latency.percentile(99)), us(s.answer_latency.max()), us(s.sccp_latency.percentile(50)),
                  us(s.sccp_latency.percentile(99)), s.releases_repeated, s.repeated_rlc);
    } else if (window_) {
      const auto& s = window_->stats();
      // Each answered query is two messages through the gateway.
      std::printf(" mode=max-rate window=%u queries_sent=%" PRIu64 " answered=%" PRIu64 " lost=%zu unexpected=%" PRIu64
                  " queries_per_s=%.0f messages_per_s=%.0f rtt_p50_us=%lld rtt_p90_us=%lld rtt_p99_us=%lld"
                  " rtt_max_us=%lld losses=%zu",
                  o_.window, s.sent, s.answered, window_->in_flight(), s.unexpected,
                  static_cast<double>(s.answered) / secs, 2.0 * static_cast<double>(s.answered) / secs,
                  us(s.latency.percentile(50)), us(s.latency.percentile(90)), us(s.latency.percentile(99)),
                  us(s.latency.max()), window_->in_flight());
    }
    std::printf("\n");
    std::fflush(stdout);
  }

  boost::asio::io_context& io_;
  Options o_;
  boost::asio::steady_timer tick_;
  boost::asio::steady_timer stats_timer_;
  boost::asio::steady_timer phase_timer_;
  std::vector<Sg> sgs_;
  std::optional<sim::Ss7CallGenerator> generator_;
  std::optional<UdtWindow> window_;
  CallLedger ledger_;
  struct CloseFile {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, CloseFile> trace_;
  std::shared_ptr<spdlog::logger> log_;
  bool started_ = false;
  bool originating_ended_ = false;
  bool finished_ = false;
  int exit_code_ = 0;
  sim::TimePoint start_{};
  sim::TimePoint last_stats_{};
  sim::TimePoint origination_end_{};
  sim::TimePoint drain_deadline_{};
  std::chrono::nanoseconds interval_max_{};
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t send_refused_ = 0;
  std::uint64_t duna_ = 0;
  std::uint64_t self_connections_ = 0;  // associations that connected to themselves (aborted)
  std::uint64_t dava_ = 0;
  sim::SgLoadShare share_;
  std::optional<sim::TimePoint> share_armed_;
};

void SgEvents::on_asp_state(const mxua::AspStateChanged& c) { g_.sg_asp_state(sg_, c); }
void SgEvents::on_data(mxua::DataIndication&& d) {
  g_.sg_data(sg_);
  g_.on_data(std::move(d));
}
void SgEvents::on_destination_state(const mxua::DestinationStateChanged& d) { g_.on_destination_state(d); }
void SgEvents::on_association_up(mxua::AssocId, const tr::AssociationInfo& i) { g_.sg_up(sg_, i); }
void SgEvents::on_association_down(mxua::AssocId, tr::DownReason r) { g_.sg_down(sg_, r); }
void SgEvents::on_send_failed(mxua::AssocId, std::vector<mxua::Data>&& unsent) {
  g_.sg_handed_back(sg_, std::move(unsent));
}

}  // namespace
}  // namespace sg::ss7gen

int main(int argc, char** argv) {
  std::string message;
  int code = 0;
  auto options = sg::ss7gen::parse_options(argc, argv, message, code);
  if (!options) {
    std::fputs(message.c_str(), code == 0 ? stdout : stderr);
    return code;
  }
  std::signal(SIGPIPE, SIG_IGN);
  boost::asio::io_context io;
  sg::ss7gen::Generator gen(io, *options);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  std::function<void()> wait_signal;
  wait_signal = [&] {
    signals.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      gen.interrupt();
      wait_signal();
    });
  };
  wait_signal();
  if (!gen.start()) return 1;
  io.run();
  return gen.exit_code();
}
