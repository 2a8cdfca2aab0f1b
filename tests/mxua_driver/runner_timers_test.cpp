// The action runner's one OS timer against its core's timers: it asks the
// core's next_deadline() only when the core's timers changed (issue 16: the
// relay path moves none, and asked after every message), and still sets
// the timer again after an expiry that found nothing due. A DATA sent on a
// core's verdict (send_data_now()) asks the core nothing, unless the
// transport refused it and the user's events ran for its hand-back.
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <vector>

#include "mxua/codec.hpp"
#include "mxua/driver/action_runner.hpp"
#include "rserpool/transport/association.hpp"

namespace {

using mxua::Actions;
using mxua::TimePoint;
using mxua::driver::ActionRunner;
using namespace std::chrono_literals;

// A core with one deadline and a change count, as a TimerSet would keep.
struct FakeCore {
  std::optional<TimePoint> deadline;
  std::uint64_t changes = 0;
  int timeouts = 0;

  void move_to(std::optional<TimePoint> t) {
    deadline = t;
    ++changes;
  }
  ActionRunner::CoreTimers timers() {
    return ActionRunner::CoreTimers{[this] { return deadline; }, [this](TimePoint, Actions&) { ++timeouts; },
                                    [this] { return changes; }};
  }
};

struct RunnerTimers : ::testing::Test {
  boost::asio::io_context io;
  mxua::driver::Events events;
  std::shared_ptr<ActionRunner> runner = ActionRunner::create(io, events);
  FakeCore core;
  Actions none;

  TimePoint now() const { return std::chrono::steady_clock::now(); }
  void SetUp() override { runner->set_core_timers(core.timers()); }
  void TearDown() override {
    runner->cancel_timer();
    runner->set_core_timers({});
  }
};

TEST_F(RunnerTimers, AsksTheCoreOnlyWhenItsTimersChanged) {
  const TimePoint later = now() + 1h;
  core.move_to(later);
  runner->run(none);
  EXPECT_EQ(runner->deadline_queries(), 1U);
  EXPECT_EQ(runner->armed_at(), later);
  for (int i = 0; i < 10; ++i) runner->run(none);  // batches that moved no timer (relayed DATA)
  EXPECT_EQ(runner->deadline_queries(), 1U);
  EXPECT_EQ(runner->armed_at(), later);

  const TimePoint sooner = later - 30min;
  core.move_to(sooner);
  runner->run(none);
  EXPECT_EQ(runner->deadline_queries(), 2U);
  EXPECT_EQ(runner->armed_at(), sooner);

  core.move_to(std::nullopt);
  runner->run(none);
  EXPECT_EQ(runner->deadline_queries(), 3U);
  EXPECT_FALSE(runner->armed_at());
}

// The OS timer stays at an earlier deadline when the core's moved later
// (rearm()); its expiry finds nothing due and changes nothing in the core,
// and must still set the timer at the later deadline.
TEST_F(RunnerTimers, AnExpiryThatFindsNothingDueSetsTheTimerAtTheLaterDeadline) {
  core.move_to(now() - 1ms);  // due at once
  runner->run(none);
  const auto first = runner->armed_at();
  ASSERT_TRUE(first);
  const TimePoint later = now() + 1h;
  core.move_to(later);
  runner->run(none);
  EXPECT_EQ(runner->armed_at(), first);  // kept where it was
  for (int i = 0; i < 100 && core.timeouts == 0; ++i) io.run_for(10ms);
  ASSERT_EQ(core.timeouts, 1);
  EXPECT_EQ(runner->armed_at(), later);
}

TEST_F(RunnerTimers, ACancelledTimerIsSetAgainAtTheNextBatch) {
  const TimePoint later = now() + 1h;
  core.move_to(later);
  runner->run(none);
  runner->cancel_timer();
  EXPECT_FALSE(runner->armed_at());
  runner->run(none);
  EXPECT_EQ(runner->armed_at(), later);
}

// Without a change count the runner asks after every batch, as before.
TEST_F(RunnerTimers, WithoutAChangeCountItAsksEveryTime) {
  auto t = core.timers();
  t.changes = nullptr;
  runner->set_core_timers(t);
  core.move_to(now() + 1h);
  for (int i = 0; i < 3; ++i) runner->run(none);
  EXPECT_EQ(runner->deadline_queries(), 3U);
}

// An association that takes every message, or refuses every one.
struct FakeAssociation : rserpool::transport::Association {
  FakeAssociation() : Association(nullptr, nullptr) { info_.outbound_streams = 2; }
  rserpool::Result<void, rserpool::transport::SendError> send(rserpool::transport::Message&& m) override {
    if (refuse) return rserpool::unexpected(rserpool::transport::SendError::queue_full);
    sent.push_back(std::move(m));
    return {};
  }
  void close() override {}
  void abort() override {}
  bool is_up() const noexcept override { return true; }
  const rserpool::transport::AssociationInfo& info() const noexcept override { return info_; }
  std::size_t queued() const noexcept override { return 0; }

  bool refuse = false;
  std::vector<rserpool::transport::Message> sent;
  rserpool::transport::AssociationInfo info_;
};

// The user's events: a hand-back moves the core's deadline earlier and runs
// a batch from inside (nested: that run() itself re-arms nothing).
struct HandBackEvents : mxua::driver::Events {
  std::function<void()> on_back;
  int handed_back = 0;
  void on_send_failed(mxua::AssocId, std::vector<mxua::Data>&& unsent) override {
    handed_back += static_cast<int>(unsent.size());
    if (on_back) on_back();
  }
};

struct SendNow : ::testing::Test {
  boost::asio::io_context io;
  HandBackEvents events;
  std::shared_ptr<ActionRunner> runner = ActionRunner::create(io, events);
  std::shared_ptr<FakeAssociation> assoc = std::make_shared<FakeAssociation>();
  FakeCore core;
  Actions none;
  static constexpr mxua::AssocId kAssoc = 5;

  TimePoint now() const { return std::chrono::steady_clock::now(); }
  void SetUp() override {
    runner->set_core_timers(core.timers());
    runner->attach(kAssoc, assoc, assoc->info());
  }
  void TearDown() override {
    runner->cancel_timer();
    runner->set_core_timers({});
  }
  // A DATA as the relay holds it: the received frame, the view borrowing
  // its user data from there.
  void send_one() {
    mxua::Bytes frame;
    const mxua::Bytes user = {1, 2, 3, 4, 5};
    mxua::DataView d;
    d.routing_context = 1;
    d.protocol_data.user_data = user;
    mxua::encode_data(d, frame);
    auto view = mxua::decode_data(frame);
    ASSERT_TRUE(view.ok());
    const mxua::SendData s{kAssoc, 1, *view, std::nullopt};
    runner->send_data_now(s, frame);
    EXPECT_TRUE(frame.empty()) << "built in the frame it came in";
  }
};

TEST_F(SendNow, ADataTheTransportTakesAsksTheCoreNothing) {
  core.move_to(now() + 1h);
  runner->run(none);
  ASSERT_EQ(runner->deadline_queries(), 1U);
  for (int i = 0; i < 3; ++i) send_one();
  EXPECT_EQ(assoc->sent.size(), 3U);
  EXPECT_EQ(runner->deadline_queries(), 1U);
  EXPECT_EQ(runner->counters().messages_out, 3U);
}

// Checked to fail (armed_at() stays an hour out) with the re-arm after a
// refusal left out of send_data_now().
TEST_F(SendNow, ARefusedDataIsHandedBackAndWhatItsEventsMovedIsArmed) {
  const TimePoint later = now() + 1h;
  core.move_to(later);
  runner->run(none);
  ASSERT_EQ(runner->armed_at(), later);
  const TimePoint sooner = now() + 10min;
  events.on_back = [&] {
    core.move_to(sooner);
    runner->run(none);  // nested in the send: re-arms nothing itself
  };
  assoc->refuse = true;
  send_one();
  EXPECT_EQ(events.handed_back, 1);
  EXPECT_EQ(runner->counters().send_refused, 1U);
  EXPECT_EQ(runner->armed_at(), sooner);
}

}  // namespace
