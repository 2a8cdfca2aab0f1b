// asap-echo-pu: a pool user that opens an enhanced-mode session to an echo
// pool, sends N numbered messages at a fixed interval, and prints what comes
// back and every failover. It exits when every message has been echoed or
// the deadline passed.
//
// Output (stdout):
//   established pe=0x<id>
//   reply <seq> pe=0x<id>
//   failover from=0x<old> to=0x<new> at=<unix ms>
//   first-reply-after-failover seq=<n> pe=0x<id> at=<unix ms> gap_ms=<last old reply -> first new reply>
//   summary sent=<n> received=<n> distinct=<n> duplicates=<n> failovers=<n> missing=<n>
// Exit status 0 when every message was echoed at least once.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <set>
#include <string>

#include "example_args.hpp"
#include "rserpool/asap/service/pool_user_service.hpp"
#include "rserpool/base/log.hpp"

namespace {

void usage() {
  std::cerr << "usage: asap-echo-pu [--pool NAME] [--registrar ADDR[:PORT]]... [--transport sctp|tcp|auto]\n"
               "                    [--count N] [--interval MS] [--timeout MS] [--ppid N] [--aggressive]\n"
               "                    [--silence-timeout MS] [--subscribe] [--log-level LEVEL]\n"
               "  --aggressive: aggressive transport profile and, unless given, --silence-timeout 250\n";
}

long long unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace rserpool;
  std::string pool = "EchoPool";
  asap::RegistrarAccess access;
  asap::PoolUserConfig pu_cfg;
  asap::SessionOptions options;
  unsigned count = 10;
  long interval_ms = 100;
  long timeout_ms = 30'000;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    auto bad = [&](std::string_view what) {
      std::cerr << "asap-echo-pu: bad " << what << "\n";
      std::exit(2);
    };
    if (a == "--pool") {
      pool = value();
    } else if (a == "--registrar") {
      auto e = asap_example::parse_endpoint(value(), asap::kAsapPort);
      if (!e) bad("--registrar");
      access.registrars.push_back(*e);
    } else if (a == "--transport") {
      auto k = transport::parse_transport_kind(value());
      if (!k) bad("--transport");
      access.kind = *k;
    } else if (a == "--count") {
      auto v = asap_example::parse_number<unsigned>(value());
      if (!v) bad("--count");
      count = *v;
    } else if (a == "--interval") {
      auto v = asap_example::parse_number<long>(value());
      if (!v || *v < 0) bad("--interval");
      interval_ms = *v;
    } else if (a == "--timeout") {
      auto v = asap_example::parse_number<long>(value());
      if (!v || *v <= 0) bad("--timeout");
      timeout_ms = *v;
    } else if (a == "--ppid") {
      auto v = asap_example::parse_number<std::uint32_t>(value());
      if (!v) bad("--ppid");
      options.data_ppid = *v;
    } else if (a == "--aggressive") {
      access.aggressive = true;
      options.aggressive = true;
      // Every message is answered: a PE silent for 250 ms is hung.
      if (options.silence_timeout.count() == 0) options.silence_timeout = std::chrono::milliseconds(250);
    } else if (a == "--silence-timeout") {
      auto v = asap_example::parse_number<long>(value());
      if (!v || *v < 0) bad("--silence-timeout");
      options.silence_timeout = std::chrono::milliseconds(*v);
    } else if (a == "--subscribe") {
      pu_cfg.subscribe = true;
    } else if (a == "--log-level") {
      log::set_level("all", value());
    } else {
      usage();
      return 2;
    }
  }
  if (access.registrars.empty()) access.registrars.push_back({IpAddress::v4_loopback(), asap::kAsapPort});
  pu_cfg.seed = static_cast<std::uint64_t>(unix_ms());

  boost::asio::io_context io;
  asap::PoolUserService pu(io, pu_cfg, access);
  auto session = pu.open_session(PoolHandle(pool), options);

  unsigned sent = 0, received = 0, duplicates = 0, failovers = 0;
  std::set<unsigned> seen;
  PeIdentifier last_pe = 0;
  auto last_reply = std::chrono::steady_clock::now();
  bool after_failover = false;
  auto print_summary = [&] {
    std::printf("summary sent=%u received=%u distinct=%zu duplicates=%u failovers=%u missing=%zu\n", sent, received,
                seen.size(), duplicates, failovers, static_cast<std::size_t>(sent) - seen.size());
    std::fflush(stdout);
  };

  session->on_established([](const PoolElementParameter& pe) {
    std::printf("established pe=0x%08x\n", pe.id);
    std::fflush(stdout);
  });
  session->on_failover([&](const asap::FailoverCallback& f) {
    ++failovers;
    after_failover = true;
    std::printf("failover from=0x%08x to=0x%08x at=%lld\n", f.failed_pe, f.new_pe.id, unix_ms());
    std::fflush(stdout);
  });
  session->on_stalled([] {
    std::printf("stalled\n");
    std::fflush(stdout);
  });
  session->on_data([&](PeIdentifier from, transport::Message&& m) {
    const std::string text(m.payload.begin(), m.payload.end());
    const auto now = std::chrono::steady_clock::now();
    unsigned seq = 0;
    if (std::sscanf(text.c_str(), "echo %u", &seq) != 1) return;
    ++received;
    if (!seen.insert(seq).second) ++duplicates;
    if (after_failover && from != last_pe) {
      after_failover = false;
      std::printf("first-reply-after-failover seq=%u pe=0x%08x at=%lld gap_ms=%lld\n", seq, from, unix_ms(),
                  static_cast<long long>(
                      std::chrono::duration_cast<std::chrono::milliseconds>(now - last_reply).count()));
    }
    std::printf("reply %u pe=0x%08x\n", seq, from);
    std::fflush(stdout);
    last_pe = from;
    last_reply = now;
    if (sent == count && seen.size() == count) io.stop();
  });

  boost::asio::steady_timer tick(io), deadline(io);
  std::function<void()> send_next = [&] {
    if (sent >= count) return;
    const std::string text = "echo " + std::to_string(sent + 1);
    if (session->send(Bytes(text.begin(), text.end()))) ++sent;
    tick.expires_after(std::chrono::milliseconds(interval_ms));
    tick.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) send_next();
    });
  };
  send_next();
  deadline.expires_after(std::chrono::milliseconds(timeout_ms));
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) io.stop();
  });
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) io.stop();
  });
  io.run();
  print_summary();
  return sent == count && seen.size() == count ? 0 : 1;
}
