// ss7-gen: the SS7 side of the gateway under load. It connects to the SG's
// SGP (or to an STP) as an M3UA ASP and either originates ISUP calls and
// SCCP queries at a steady rate (Ss7CallGenerator) or runs a closed loop of
// SCCP queries for throughput (--max-rate). Machine-readable lines on
// stdout: "stats ..." every --stats-interval, "event ..." for DUNA/DAVA and
// failed calls, one "summary ..." at the end. Exit status: 0 when it ran
// (the numbers say how well), 1 when the ASP never became active, 2 on a
// usage error.
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

class Generator : public drv::Events {
 public:
  Generator(boost::asio::io_context& io, Options o)
      : io_(io), o_(std::move(o)), tick_(io), stats_timer_(io), phase_timer_(io), ledger_(o_.answer_timeout),
        log_(rserpool::log::get("ss7-gen")) {}

  void start() {
    drv::AspConnectionConfig c;
    c.transport.kind = o_.transport;
    for (const auto& a : o_.connect) c.transport.remote_addresses.push_back(a.ip);
    c.transport.remote_port = o_.connect.front().port;
    c.transport.name = o_.name;
    if (o_.aggressive) {
      c.transport.sctp = tr::SctpOptions::aggressive();
      c.transport.tcp = tr::TcpMappingOptions::aggressive();
    }
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
    conn_ = drv::AspConnection::create(io_, c, *this);
    conn_->start();
    phase_timer_.expires_after(o_.connect_timeout);
    phase_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || started_) return;
      std::fprintf(stderr, "%s: not ASP-ACTIVE after %lld ms\n", o_.name.c_str(),
                   static_cast<long long>(o_.connect_timeout.count()));
      exit_code_ = 1;
      finish();
    });
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

  // ---- M3UA indications
  void on_asp_state(const mxua::AspStateChanged& c) override {
    log_->info("ASP {} -> {}", mxua::to_string(c.from), mxua::to_string(c.to));
    if (!started_ && active()) begin();
  }
  void on_data(mxua::DataIndication&& d) override {
    auto m = to_mtp(d.data);
    const auto now = sim::Clock::now();
    ++received_;
    if (window_) {
      send_all(window_->on_message(m, now), now);
      return;
    }
    if (!generator_) return;
    if (auto f = ledger_.received(m, now)) report_failed(*f, "released-by-far-end");
    // The interval's worst answer latency: how long a caller waited (after a
    // failover, the calls that were on the failed controller).
    if (auto l = ledger_.take_answer_latency()) interval_max_ = std::max(interval_max_, *l);
    const auto unexpected_before = generator_->stats().unexpected_messages;
    send_all(generator_->on_message(m, now), now);
    if (generator_->stats().unexpected_messages != unexpected_before) report_unexpected(m);
  }
  void on_destination_state(const mxua::DestinationStateChanged& d) override {
    const bool down = d.availability == mxua::DestinationAvailability::Unavailable;
    (down ? duna_ : dava_)++;
    std::printf("event %s pc=%s unix_ms=%" PRId64 "\n", down ? "duna" : "dava",
                mxua::format_point_code(d.destination.pc, mxua::PcFormat::Itu).c_str(), unix_ms());
    std::fflush(stdout);
  }
  void on_association_down(mxua::AssocId, tr::DownReason r) override {
    log_->warn("association to the SGP down: {}", tr::to_string(r));
  }

 private:
  bool active() const {
    if (o_.register_key) {
      const auto& rcs = conn_->registered_contexts();
      return !rcs.empty() && conn_->active_for(rcs.front());
    }
    return conn_->active_for(o_.routing_context);
  }

  void begin() {
    started_ = true;
    phase_timer_.cancel();
    const auto now = sim::Clock::now();
    start_ = now;
    last_stats_ = now;
    if (o_.register_key) rc_ = conn_->registered_contexts().front();
    else rc_ = o_.routing_context;
    std::printf("event active unix_ms=%" PRId64 "\n", unix_ms());
    std::fflush(stdout);
    if (o_.max_rate) {
      window_.emplace(WindowConfig{o_.opc, o_.dpc, o_.ni, o_.window, o_.payload});
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
      if (generator_) ledger_.sent(m, now);
      mxua::DataView d;
      d.routing_context = rc_;
      d.protocol_data = mxua::ProtocolDataView{mxua::PointCode{m.opc}, mxua::PointCode{m.dpc}, m.si, m.ni, m.mp,
                                               m.sls, rserpool::ByteView(m.data)};
      if (conn_->send_data(d)) ++sent_;
      else ++send_refused_;
    }
  }

  // A message that fits no call state (duplicate answer, unknown circuit).
  void report_unexpected(const MtpMessage& m) {
    int cic = -1;
    unsigned type = 0;
    if (m.si == kSiIsup) {
      if (auto h = ss7::parse_isup_header(m.data)) {
        cic = h->cic;
        type = h->message_type;
      }
    }
    std::printf("event unexpected si=%u cic=%d type=0x%02x opc=%u unix_ms=%" PRId64 "\n", m.si, cic, type, m.opc,
                unix_ms());
    std::fflush(stdout);
  }

  void report_failed(const FailedCall& f, const char* why) {
    std::printf("event failed-call cic=%u reason=%s started_unix_ms=%" PRId64 "\n", f.cic, why, unix_ms(f.started));
    std::fflush(stdout);
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
    const auto now = sim::Clock::now();
    const auto t_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - start_).count();
    std::printf("stats name=%s t_ms=%lld unix_ms=%" PRId64 " active=%d sent=%" PRIu64 " received=%" PRIu64
                " send_refused=%" PRIu64 " duna=%" PRIu64 " dava=%" PRIu64,
                o_.name.c_str(), static_cast<long long>(t_ms), unix_ms(), active() ? 1 : 0, sent_, received_,
                send_refused_, duna_, dava_);
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
    if (!conn_) {
      io_.stop();
      return;
    }
    // Leave as an ASP should (ASPDN), then close; bounded.
    if (conn_->state() != mxua::AspState::Down)
      conn_->request([](mxua::AspClient& c, mxua::TimePoint now) { return c.shutdown(now); });
    phase_timer_.expires_after(100ms);
    phase_timer_.async_wait([this](boost::system::error_code) {
      if (auto a = conn_->association()) a->close();  // graceful, before stop() would abort
      phase_timer_.expires_after(50ms);               // shorter than the reconnect backoff
      phase_timer_.async_wait([this](boost::system::error_code) {
        conn_->stop();
        io_.stop();
      });
    });
  }

  void print_summary() {
    const auto end = originating_ended_ ? origination_end_ : sim::Clock::now();
    const double secs = std::chrono::duration<double>(end - start_).count();
    std::printf("summary name=%s duration_s=%.3f messages_sent=%" PRIu64 " messages_received=%" PRIu64
                " send_refused=%" PRIu64 " duna=%" PRIu64 " dava=%" PRIu64,
                o_.name.c_str(), secs, sent_, received_, send_refused_, duna_, dava_);
    if (generator_) {
      const auto& s = generator_->stats();
      const std::uint64_t sccp_lost = s.sccp_sent - s.sccp_answered;
      std::printf(" calls_attempted=%" PRIu64 " calls_completed=%" PRIu64 " calls_failed=%" PRIu64
                  " calls_blocked=%" PRIu64 " calls_unfinished=%zu sccp_sent=%" PRIu64 " sccp_answered=%" PRIu64
                  " sccp_lost=%" PRIu64 " losses=%" PRIu64 " unexpected=%" PRIu64
                  " answer_p50_us=%lld answer_p90_us=%lld answer_p99_us=%lld answer_max_us=%lld"
                  " sccp_p50_us=%lld sccp_p99_us=%lld",
                  s.calls_started, s.calls_completed, s.calls_failed, s.calls_blocked, generator_->calls_in_progress(),
                  s.sccp_sent, s.sccp_answered, sccp_lost,
                  s.calls_failed + generator_->calls_in_progress() + sccp_lost, s.unexpected_messages,
                  us(s.answer_latency.percentile(50)), us(s.answer_latency.percentile(90)),
                  us(s.answer_latency.percentile(99)), us(s.answer_latency.max()), us(s.sccp_latency.percentile(50)),
                  us(s.sccp_latency.percentile(99)));
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
  std::shared_ptr<drv::AspConnection> conn_;
  std::optional<std::uint32_t> rc_;
  std::optional<sim::Ss7CallGenerator> generator_;
  std::optional<UdtWindow> window_;
  CallLedger ledger_;
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
  std::uint64_t dava_ = 0;
};

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
  gen.start();
  io.run();
  return gen.exit_code();
}
