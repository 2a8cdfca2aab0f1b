// gwc-sim: a gateway controller, i.e. an RSerPool pool element behind the
// SG. It registers its M3UA listener as its user transport in the pool,
// answers the ISUP calls and SCCP queries the SG forwards (GwcCallModel),
// sends its call table as ASAP cookie when asked to, and reports its load
// for the least-used policies. Machine-readable lines on stdout: "event
// ..." (listening, registered, ...) and "stats ..." every --stats-interval.
// SIGTERM: deregister, let calls finish (--shutdown-grace), close, exit 0.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <memory>
#include <random>

#include "controller.hpp"
#include "options.hpp"
#include "rserpool/asap/service/endpoint_mapping.hpp"
#include "rserpool/asap/service/pool_element_service.hpp"
#include "rserpool/base/log.hpp"
#include "sg/ss7/isup.hpp"

namespace sg::gwcsim {
namespace {

namespace tr = rserpool::transport;
namespace asap = rserpool::asap;
using namespace std::chrono_literals;

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

rserpool::PeIdentifier random_pe_id() {
  std::random_device rd;
  std::uniform_int_distribution<std::uint32_t> d(1, 0xFFFFFFFFU);
  return d(rd);
}

class Simulator {
 public:
  Simulator(boost::asio::io_context& io, Options o)
      : io_(io), o_(std::move(o)), stats_timer_(io), load_timer_(io), retry_timer_(io), exit_timer_(io),
        log_(rserpool::log::get("gwc-sim")), start_(std::chrono::steady_clock::now()) {}

  bool start() {
    ControllerConfig cc;
    cc.listen.local_addresses = {o_.listen.ip};
    cc.listen.local_port = o_.listen.port;
    cc.listen.kind = o_.transport;
    cc.listen.name = o_.name;
    if (o_.aggressive) {
      cc.listen.sctp = tr::SctpOptions::aggressive();
      cc.listen.tcp = tr::TcpMappingOptions::aggressive();
    }
    cc.listen.sctp.bundle = o_.bundle;
    cc.calls.answer_delay = o_.answer_delay;
    cc.outbox.changeover.hold = o_.changeover_hold;
    // A real fence needs the controller silent for at least the gateway's
    // fastest failure detection (2 x 500 ms M3UA BEAT); a loaded host stalls
    // a process for 250-700 ms without any fence (UML at load 8: calls
    // given up after an SG's death, then unknown calls). The model's own
    // default (250 ms) serves the simulations, whose hangs are longer.
    cc.calls.stall_bound = std::chrono::milliseconds(750);
    cc.cookies = o_.cookies;
    cc.self_fence = o_.self_fence;
    if (!o_.trace_path.empty()) {
      trace_.reset(std::fopen(o_.trace_path.c_str(), "w"));
      if (!trace_) {
        std::fprintf(stderr, "%s: cannot write the trace to %s\n", o_.name.c_str(), o_.trace_path.c_str());
        return false;
      }
      cc.trace = [this](std::string_view what, std::uint64_t link, const MtpMessage& m) { trace(what, link, m); };
    }
    auto c = GatewayController::open(io_, cc);
    if (!c) {
      std::fprintf(stderr, "%s: cannot listen on %s: %s\n", o_.name.c_str(), o_.listen.to_string().c_str(),
                   c.error().message().c_str());
      return false;
    }
    controller_ = std::move(*c);
    controller_->on_calls_changed([this] { load_changed(); });

    asap::PoolElementConfig pe;
    pe.pool = rserpool::PoolHandle(o_.pool);
    pe.pe_id = o_.pe_id.value_or(random_pe_id());
    pe.user_transport = asap::user_transport_for(controller_->kind(), {o_.listen.ip}, controller_->port());
    pe.policy = o_.policy;
    if (least_used_family(o_.policy.type)) pe.policy.load = load_value();
    reported_load_ = pe.policy.load;
    pe.registration_life_ms = o_.registration_life_ms;
    asap::RegistrarAccess access{o_.registrars, o_.transport, o_.aggressive};
    service_ = std::make_unique<asap::PoolElementService>(io_, pe, access);
    service_->on_registration([this](const asap::RegistrationResult& r) { registration(r); });
    service_->on_home_changed([this](const asap::HomeRegistrarChanged& h) {
      std::printf("event home-registrar assoc=%u server_id=0x%08x unix_ms=%" PRId64 "\n",
                  static_cast<unsigned>(h.assoc), h.server_id, unix_ms());
      std::fflush(stdout);
    });
    std::printf("event listening name=%s addr=%s port=%u transport=%s pe_id=0x%08x\n", o_.name.c_str(),
                o_.listen.ip.to_string().c_str(), controller_->port(),
                std::string(tr::to_string(controller_->kind())).c_str(), pe.pe_id);
    std::fflush(stdout);
    service_->register_pe();
    if (o_.stats_interval.count() > 0) schedule_stats();
    return true;
  }

  // SIGTERM / SIGINT: leave the pool gracefully.
  void shut_down() {
    if (stopping_) {
      finish();  // second signal: now
      return;
    }
    stopping_ = true;
    load_timer_.cancel();
    retry_timer_.cancel();
    log_->info("shutting down: deregistering");
    exit_timer_.expires_after(o_.shutdown_grace + 3s);  // bound on everything below
    exit_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) finish();
    });
    service_->deregister([this](const asap::DeregistrationResult& r) {
      registered_ = false;
      std::printf("event deregistered code=%s unix_ms=%" PRId64 "\n", std::string(asap::to_string(r.code)).c_str(),
                  unix_ms());
      std::fflush(stdout);
      grace_deadline_ = std::chrono::steady_clock::now() + o_.shutdown_grace;
      wait_calls();
    });
  }

 private:
  // The SG drains a deregistered PE: calls in progress end here.
  void wait_calls() {
    if (controller_->calls().active_calls() == 0 || std::chrono::steady_clock::now() >= grace_deadline_) {
      finish();
      return;
    }
    load_timer_.expires_after(20ms);
    load_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) wait_calls();
    });
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    print_stats();
    controller_->close();
    stats_timer_.cancel();
    load_timer_.cancel();
    retry_timer_.cancel();
    // Let the graceful closes go out, then stop.
    exit_timer_.expires_after(200ms);
    exit_timer_.async_wait([this](boost::system::error_code) { io_.stop(); });
  }

  void registration(const asap::RegistrationResult& r) {
    if (r.code == asap::RegistrationCode::granted) {
      if (!r.renewal || !registered_) {
        std::printf("event registered pe_id=0x%08x unix_ms=%" PRId64 "\n", r.pe_id, unix_ms());
        std::fflush(stdout);
      }
      registered_ = true;
      return;
    }
    registered_ = false;
    std::printf("event registration-failed code=%s unix_ms=%" PRId64 "\n",
                std::string(asap::to_string(r.code)).c_str(), unix_ms());
    std::fflush(stdout);
    log_->warn("registration failed ({}); trying again", asap::to_string(r.code));
    if (!stopping_) {
      retry_timer_.expires_after(1s);
      retry_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec && !stopping_) service_->register_pe();
      });
    }
  }

  // RFC 5356: the load is a fraction of 0xFFFFFFFF.
  std::uint32_t load_value() const {
    double share = 0;
    if (o_.fixed_load_percent) share = *o_.fixed_load_percent / 100.0;
    else if (controller_) share = static_cast<double>(controller_->calls().active_calls()) / o_.capacity;
    share = std::min(share, 1.0);
    return static_cast<std::uint32_t>(share * 4294967295.0);
  }

  void load_changed() {
    if (!least_used_family(o_.policy.type) || o_.fixed_load_percent || load_update_pending_ || stopping_) return;
    load_update_pending_ = true;
    const auto now = std::chrono::steady_clock::now();
    const auto due = std::max(now, last_load_update_ + o_.load_interval);
    boost::asio::steady_timer& t = load_timer_;
    t.expires_at(due);
    t.async_wait([this](boost::system::error_code ec) {
      load_update_pending_ = false;
      if (ec || stopping_) return;
      const auto v = load_value();
      if (v == reported_load_) return;
      auto p = o_.policy;
      p.load = v;
      reported_load_ = v;
      last_load_update_ = std::chrono::steady_clock::now();
      ++load_updates_;
      service_->update_policy(p);
    });
  }

  void schedule_stats() {
    stats_timer_.expires_after(o_.stats_interval);
    stats_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || finished_) return;
      print_stats();
      schedule_stats();
    });
  }

  // Buffered: flushed before each stats line, so a reader that saw a stats
  // line stamped after some time has the trace up to that time.
  void trace(std::string_view what, std::uint64_t link, const MtpMessage& m) {
    if (m.si == kSiIsup) {
      const auto h = ss7::parse_isup_header(m.data);
      if (!h) return;
      const auto type = ss7::to_string(static_cast<ss7::IsupMessageType>(h->message_type));
      std::fprintf(trace_.get(), "trace unix_ms=%" PRId64 " what=%.*s link=%" PRIu64 " cic=%u type=%.*s sls=%u\n",
                   unix_ms(), static_cast<int>(what.size()), what.data(), link, static_cast<unsigned>(h->cic),
                   static_cast<int>(type.size()), type.data(), static_cast<unsigned>(m.sls));
    }
  }

  void print_stats() {
    if (trace_) std::fflush(trace_.get());
    const auto& m = controller_->calls().counters();
    const auto& c = controller_->counters();
    const auto t_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_).count();
    std::printf("stats name=%s pe_id=0x%08x t_ms=%lld unix_ms=%" PRId64 " registered=%d associations=%zu in=%" PRIu64
                " out=%" PRIu64 " calls_active=%zu calls_offered=%" PRIu64 " calls_answered=%" PRIu64
                " calls_completed=%" PRIu64 " sccp_answered=%" PRIu64 " unknown_call=%" PRIu64
                " order_violations=%" PRIu64 " cookies_sent=%" PRIu64 " cookie_echoes=%" PRIu64
                " calls_adopted=%" PRIu64 " cookies_rejected=%" PRIu64 " send_failed=%" PRIu64
                " load_updates=%" PRIu64 " load=%u cookie_repeats=%" PRIu64 " calls_given_up=%" PRIu64
                " calls_kept=%" PRIu64 " held_for_sg=%" PRIu64 " held_expired=%" PRIu64 " handed_back=%" PRIu64
                " stalls=%" PRIu64 " repeated_releases=%" PRIu64 " changeover_held=%" PRIu64 "\n",
                o_.name.c_str(), service_->pe_id(), static_cast<long long>(t_ms), unix_ms(), registered_ ? 1 : 0,
                controller_->associations_up(), c.messages_in, c.messages_out, controller_->calls().active_calls(),
                m.calls_offered, m.calls_answered, m.calls_released, m.sccp_answered, m.unknown_call_messages,
                m.ordering_violations, c.cookies_sent, c.cookie_echoes, m.adopted_calls,
                m.cookies_rejected + c.cookies_rejected, c.send_failed, load_updates_, reported_load_,
                m.duplicate_cookies, c.calls_given_up, c.calls_kept, c.held_for_sg, c.held_expired, c.handed_back,
                m.stalls, m.repeated_releases, c.changeover_held);
    std::fflush(stdout);
  }

  boost::asio::io_context& io_;
  Options o_;
  boost::asio::steady_timer stats_timer_;
  boost::asio::steady_timer load_timer_;  // load updates, then the shutdown's wait for calls
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer exit_timer_;
  std::shared_ptr<spdlog::logger> log_;
  std::chrono::steady_clock::time_point start_;
  struct CloseFile {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, CloseFile> trace_;
  std::unique_ptr<GatewayController> controller_;
  std::unique_ptr<asap::PoolElementService> service_;
  bool registered_ = false;
  bool stopping_ = false;
  bool finished_ = false;
  bool load_update_pending_ = false;
  std::uint32_t reported_load_ = 0;
  std::uint64_t load_updates_ = 0;
  std::chrono::steady_clock::time_point last_load_update_{};
  std::chrono::steady_clock::time_point grace_deadline_{};
};

}  // namespace
}  // namespace sg::gwcsim

int main(int argc, char** argv) {
  std::string message;
  int code = 0;
  auto options = sg::gwcsim::parse_options(argc, argv, message, code);
  if (!options) {
    std::fputs(message.c_str(), code == 0 ? stdout : stderr);
    return code;
  }
  std::signal(SIGPIPE, SIG_IGN);
  boost::asio::io_context io;
  sg::gwcsim::Simulator sim(io, *options);
  if (!sim.start()) return 1;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  std::function<void()> wait_signal;
  wait_signal = [&] {
    signals.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      sim.shut_down();
      wait_signal();
    });
  };
  wait_signal();
  io.run();
  return 0;
}
