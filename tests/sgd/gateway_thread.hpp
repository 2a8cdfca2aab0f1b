#pragma once
// The gateway on a thread of its own (its own io_context), for the relay
// measurements (issue 16): what that thread does is the gateway's work
// alone, while the SS7 peer and the controllers run on the caller's thread.
// Everything that touches the gateway goes through on_gateway().
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "harness.hpp"

namespace sgdtest {

class GatewayThread {
 public:
  // `on_start` / `on_stop` run on the gateway's thread, first and last.
  explicit GatewayThread(std::function<void()> on_start = {}, std::function<void()> on_stop = {})
      : work_(io_.get_executor()) {
    thread_ = std::thread([this, on_start = std::move(on_start), on_stop = std::move(on_stop)] {
      if (on_start) on_start();
      io_.run();
      if (on_stop) on_stop();
    });
  }
  ~GatewayThread() {
    on_gateway([this] { gw_.reset(); });
    work_.reset();
    thread_.join();
  }
  GatewayThread(const GatewayThread&) = delete;
  GatewayThread& operator=(const GatewayThread&) = delete;

  template <typename F>
  auto on_gateway(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }
  // Starts the gateway on its thread; "" or the error.
  std::string start(const sg::SgConfig& config) {
    return on_gateway([&] {
      auto gw = sg::Gateway::start(io_, config, sg::GatewayOptions{7});
      if (!gw) return gw.error();
      gw_ = std::move(*gw);
      return std::string();
    });
  }
  std::size_t active_members(const std::string& pool) {
    return on_gateway([&] {
      const auto* d = gw_->distributor(pool);
      std::size_t n = 0;
      if (d)
        for (auto id : d->members()) n += d->state_of(id) == sg::MemberState::active;
      return n;
    });
  }
  std::unique_ptr<sg::Gateway>& gateway() { return gw_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<sg::Gateway> gw_;
  std::thread thread_;
};

// The SS7 peer sends ISUP ACMs on circuits 1..circuits until `count` more
// reached the controllers, at most `window` in flight; false on a stall
// (60 s). With `echo`, each controller answers every message (an ANM on
// the same circuit, back to the SS7 peer's point code) and a message
// counts once its answer is back: both directions of the relay.
inline bool relay(boost::asio::io_context& io, Ss7Peer& peer, std::vector<std::unique_ptr<TestPe>>& pes,
                  std::size_t& sent, std::size_t count, std::size_t window, std::size_t circuits = 1000,
                  bool echo = false) {
  std::size_t answered = 0;
  auto received = [&] {
    std::size_t n = 0;
    for (auto& p : pes) {
      n += p->data_count;
      if (echo) {
        for (const auto& e : p->events) {
          if (e.cookie_echo || !e.cic) continue;
          mxua::Data d = isup(sg::ss7::encode_anm(*e.cic), *e.cic, sg::gwc_link::kRoutingContext);
          std::swap(d.protocol_data.opc, d.protocol_data.dpc);
          p->send(d);
        }
      }
      p->events.clear();  // keep memory flat
    }
    if (!echo) return n;
    answered += peer.received.size();
    peer.received.clear();
    return answered;
  };
  const std::size_t start = sent;
  const std::size_t base = received();
  // Gives up when nothing got through for 20 s (a lost window), not after
  // a fixed total: on a loaded machine the run is slow but moves.
  auto last_progress = Clock::now();
  std::size_t got = 0;
  while (got < count) {
    while (sent - start < count && (sent - start) - got < window) {
      const auto cic = static_cast<std::uint16_t>(1 + sent % circuits);
      if (!peer.send(isup(sg::ss7::encode_acm(cic), cic))) break;
      ++sent;
    }
    io.run_for(std::chrono::milliseconds(1));
    io.restart();
    const auto now_got = received() - base;
    if (now_got != got) last_progress = Clock::now();
    got = now_got;
    if (Clock::now() - last_progress > 20s) return false;
  }
  return true;
}

}  // namespace sgdtest
