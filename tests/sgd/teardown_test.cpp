// A gateway destroyed while the io_context keeps running (a daemon's
// restart in-process, the pair tests' "a dies"): no handler of it may run
// on freed memory afterwards. The dangerous case is a timer that has
// already expired when the gateway goes: Asio has moved its wait into the
// ready queue, cancel() cannot take it back, and it completes with success.
// Here the gateway is destroyed by a handler that runs first in the same
// batch of expired timers as the gateway's own (it expires at the epoch),
// so the gateway's waits are exactly in that state. Built with
// -DSG_SANITIZE=ON, a handler touching the freed gateway is a
// heap-use-after-free; without the sanitizer, a re-armed wait on the freed
// gateway keeps the io_context from ever running out of work.
#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>

#include <thread>

#include "harness.hpp"

namespace sgdtest {
namespace {

// Destroys `gw` from inside the io_context, ahead of every timer of the
// gateway that expired meanwhile.
void destroy_behind_expired_timers(boost::asio::io_context& io, std::unique_ptr<sg::Gateway>& gw,
                                   std::chrono::milliseconds wait) {
  boost::asio::steady_timer kill(io);
  kill.expires_at(boost::asio::steady_timer::time_point{});  // the earliest of all
  bool destroyed = false;
  kill.async_wait([&](const boost::system::error_code& ec) {
    if (ec) return;
    gw.reset();
    destroyed = true;
  });
  // Every gateway timer due within `wait` expires while nothing runs.
  std::this_thread::sleep_for(wait);
  io.restart();
  io.poll();
  ASSERT_TRUE(destroyed);
}

TEST(GatewayTeardown, TimersThatExpiredBeforeTheGatewayWasDestroyedDoNotTouchIt) {
  boost::asio::io_context io;
  // An empty pool: the membership check re-arms every 20 ms, and pool-wait
  // (50 ms) is due within the wait below.
  auto g = sg::Gateway::start(io, test_config(50ms), sg::GatewayOptions{42});
  ASSERT_TRUE(g) << g.error();
  auto gw = std::move(*g);
  run_for(io, 30ms);
  destroy_behind_expired_timers(io, gw, 300ms);
  // Nothing of the gateway is left to wait for: the loop runs out of work.
  io.restart();
  io.run_for(2s);
  EXPECT_TRUE(io.stopped()) << "a handler of the destroyed gateway re-armed itself";
}

TEST(GatewayTeardown, AGatewayWithActiveLinksDestroyedBehindExpiredTimersLeavesItsControllersCleanly) {
  boost::asio::io_context io;
  auto g = sg::Gateway::start(io, test_config(), sg::GatewayOptions{42});
  ASSERT_TRUE(g) << g.error();
  auto gw = std::move(*g);
  std::vector<std::unique_ptr<TestPe>> pes;
  for (rserpool::PeIdentifier id : {0x11111111u, 0x22222222u}) {
    pes.push_back(std::make_unique<TestPe>(io, rserpool::TransportAddress{loopback(), *gw->registrar_asap_port()}, id));
    pes.back()->start();
  }
  const auto active = [&] {
    std::size_t n = 0;
    for (auto id : gw->distributor("gwc")->members())
      if (gw->distributor("gwc")->state_of(id) == sg::MemberState::active) ++n;
    return n;
  };
  ASSERT_TRUE(run_until(io, [&] { return active() == 2; }, 8s)) << gw->show_pools();
  auto peer = std::make_unique<Ss7Peer>(io, *gw->ss7_port());
  ASSERT_TRUE(run_until(io, [&] { return peer->active(); }, 5s)) << gw->show_ss7();
  for (std::uint16_t cic = 1; cic <= 8; ++cic) ASSERT_TRUE(peer->send(isup(sg::ss7::encode_iam(cic, "4930"), cic)));
  run_for(io, 20ms);

  // The links' beat timers, the pool's and the registrar's are all due.
  destroy_behind_expired_timers(io, gw, 1500ms);
  // The controllers see their links go (the gateway aborted them) and
  // nothing else happens on the gateway's freed memory meanwhile.
  EXPECT_TRUE(run_until(io, [&] { return !peer->active(); }, 5s));
  run_for(io, 500ms);
  peer.reset();
  pes.clear();
  run_for(io, 20ms);
}

}  // namespace
}  // namespace sgdtest
