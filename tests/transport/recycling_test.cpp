// The pieces that keep the message path free of per-message heap
// allocation (issue 16): the per-thread buffer pool, the ring queue of the
// send queues, and the turn clock.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>

#include "rserpool/base/buffer_pool.hpp"
#include "rserpool/base/ring_queue.hpp"
#include "rserpool/base/time.hpp"

namespace rserpool {
namespace {

TEST(BufferPool, AGivenBufferIsTakenAgainWithItsCapacity) {
  Bytes b = buffers::take(100);
  ASSERT_GE(b.capacity(), 100U);
  b.assign(60, 0xAB);
  const auto* storage = b.data();
  const auto before = buffers::stats();
  buffers::give(std::move(b));
  Bytes again = buffers::take(50);
  EXPECT_TRUE(again.empty());
  EXPECT_EQ(again.data(), storage);  // the same storage: no allocation
  const auto after = buffers::stats();
  EXPECT_EQ(after.recycled, before.recycled + 1);
  buffers::give(std::move(again));
}

TEST(BufferPool, IsBoundedInCountAndInBufferSize) {
  // Drain what earlier tests left, then overfill.
  std::vector<Bytes> held;
  while (buffers::stats().pooled > 0) held.push_back(buffers::take());
  held.clear();
  Bytes big = buffers::take(buffers::kMaxKeptCapacity + 1);
  buffers::give(std::move(big));
  EXPECT_EQ(buffers::stats().pooled, 0U) << "a buffer above kMaxKeptCapacity is freed, not kept";
  for (std::size_t i = 0; i < buffers::kMaxKept + 10; ++i) held.push_back(buffers::take(64));
  for (auto& b : held) buffers::give(std::move(b));
  EXPECT_EQ(buffers::stats().pooled, buffers::kMaxKept);
}

TEST(BufferPool, ShrinkFreesWhatABurstLeftBeyondTheKeep) {
  std::vector<Bytes> held;
  for (std::size_t i = 0; i < 100; ++i) held.push_back(buffers::take(64));
  for (auto& b : held) buffers::give(std::move(b));
  ASSERT_GE(buffers::stats().pooled, 100U);
  buffers::shrink(8);
  EXPECT_EQ(buffers::stats().pooled, 8U);
  buffers::shrink(20);  // never grows the pool
  EXPECT_EQ(buffers::stats().pooled, 8U);
  buffers::shrink(0);
  EXPECT_EQ(buffers::stats().pooled, 0U);
}

TEST(BufferPool, IsPerThread) {
  Bytes b = buffers::take(32);
  b.push_back(1);
  buffers::give(std::move(b));
  std::size_t other_pooled = 99;
  std::thread([&] { other_pooled = buffers::stats().pooled; }).join();
  EXPECT_EQ(other_pooled, 0U);
  EXPECT_GT(buffers::stats().pooled, 0U);
}

// The inline fast paths (issue 16) keep the pool's accounting: a buffer
// already taken over (no storage) is counted as given and not kept; one too
// small for what a take asks is not handed out as it is; a thread whose
// pool does not exist yet gets one on its first take or give.
TEST(BufferPool, FastPathsKeepTheAccounting) {
  std::vector<Bytes> held;
  while (buffers::stats().pooled > 0) held.push_back(buffers::take());
  held.clear();
  const auto before = buffers::stats();
  buffers::give(Bytes{});
  auto after = buffers::stats();
  EXPECT_EQ(after.given, before.given + 1);
  EXPECT_EQ(after.kept, before.kept);
  EXPECT_EQ(after.pooled, 0U);

  Bytes small = buffers::take(16);
  small.push_back(1);
  buffers::give(std::move(small));
  ASSERT_EQ(buffers::stats().pooled, 1U);
  Bytes big = buffers::take(1000);
  EXPECT_GE(big.capacity(), 1000U) << "a pooled buffer too small for the request grows before it is handed out";
  EXPECT_TRUE(big.empty());
  after = buffers::stats();
  EXPECT_EQ(after.taken, before.taken + 2);
  EXPECT_EQ(after.recycled, before.recycled + 1);
  buffers::give(std::move(big));

  buffers::Stats fresh_thread;
  std::thread([&] {
    Bytes b = buffers::take(8);
    b.push_back(2);
    buffers::give(std::move(b));
    buffers::give(buffers::take(8));
    fresh_thread = buffers::stats();
  }).join();
  EXPECT_EQ(fresh_thread.taken, 2U);
  EXPECT_EQ(fresh_thread.recycled, 1U);
  EXPECT_EQ(fresh_thread.given, 2U);
  EXPECT_EQ(fresh_thread.kept, 2U);
  EXPECT_EQ(fresh_thread.pooled, 1U);
}

TEST(RingQueue, IsFifoAcrossWrapAndGrowth) {
  RingQueue<std::string> q;
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < round % 7 + 1; ++i) q.push_back(std::to_string(next_in++));
    for (int i = 0; i < round % 5 && !q.empty(); ++i) {
      EXPECT_EQ(q.front(), std::to_string(next_out++));
      q.pop_front();
    }
  }
  EXPECT_EQ(q.size(), static_cast<std::size_t>(next_in - next_out));
  for (std::size_t i = 0; i < q.size(); ++i) EXPECT_EQ(q[i], std::to_string(next_out + static_cast<int>(i)));
}

// emplace_back builds the entry in its slot (the send queues' aggregates),
// keeps FIFO order with push_back across wrap and growth, and a
// constructor that throws leaves the queue as it was.
TEST(RingQueue, EmplaceBuildsInPlaceAndSurvivesAThrowingConstructor) {
  struct Entry {
    int context = 0;
    std::string text;
  };
  RingQueue<Entry> q;
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 40; ++round) {
    for (int i = 0; i < round % 6 + 1; ++i, ++next_in) {
      if (next_in % 2 == 0) {
        Entry& e = q.emplace_back(next_in, std::to_string(next_in));
        EXPECT_EQ(&e, &q.back());
      } else {
        q.push_back(Entry{next_in, std::to_string(next_in)});
      }
    }
    for (int i = 0; i < round % 4 && !q.empty(); ++i, ++next_out) {
      EXPECT_EQ(q.front().context, next_out);
      EXPECT_EQ(q.front().text, std::to_string(next_out));
      q.pop_front();
    }
  }
  struct Throws {
    explicit operator std::string() const { throw std::runtime_error("no"); }
  };
  static int live = 0;  // Picky objects alive: every slot holds exactly one
  struct Picky {
    std::string text;
    Picky() { ++live; }
    explicit Picky(const Throws& t) : text(static_cast<std::string>(t)) { ++live; }
    Picky(Picky&& o) noexcept : text(std::move(o.text)) { ++live; }
    Picky& operator=(Picky&&) noexcept = default;
    ~Picky() { --live; }
  };
  RingQueue<Picky> p;
  p.emplace_back().text = "first";
  const int slots = live;
  EXPECT_THROW(p.emplace_back(Throws{}), std::runtime_error);
  EXPECT_EQ(live, slots) << "the slot the throw left must hold a live object";
  ASSERT_EQ(p.size(), 1U);
  EXPECT_EQ(p.front().text, "first");
  p.emplace_back().text = "second";  // the slot the throw left is a live, empty one
  p.pop_front();
  EXPECT_EQ(p.front().text, "second");
}

TEST(RingQueue, PartitionKeepsOrderOnBothSides) {
  RingQueue<int> q;
  for (int i = 0; i < 3; ++i) {
    q.push_back(-1);
    q.pop_front();  // head away from slot 0
  }
  for (int i = 0; i < 10; ++i) q.push_back(i);
  std::vector<int> removed;
  q.partition([](int v) { return v % 3 != 0; }, [&](int& v) { removed.push_back(v); });
  EXPECT_EQ(removed, (std::vector<int>{0, 3, 6, 9}));
  std::vector<int> kept;
  while (!q.empty()) {
    kept.push_back(q.front());
    q.pop_front();
  }
  EXPECT_EQ(kept, (std::vector<int>{1, 2, 4, 5, 7, 8}));
}

TEST(TurnTime, OneReadingPerScopeAndNestedScopesKeepTheOuterOne) {
  const auto& clock = SteadyClock::instance();
  EXPECT_EQ(TurnTime::current(), nullptr);
  TimePoint first;
  {
    const TurnTime turn;
    first = clock.now();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(clock.now(), first);
    {
      const TurnTime inner;
      EXPECT_EQ(clock.now(), first);
    }
    EXPECT_EQ(clock.now(), first);
  }
  EXPECT_EQ(TurnTime::current(), nullptr);
  EXPECT_GT(clock.now(), first);
  // Virtual time is not touched by a turn.
  ManualClock manual(TimePoint{} + std::chrono::seconds(5));
  const TurnTime turn;
  EXPECT_EQ(manual.now(), TimePoint{} + std::chrono::seconds(5));
}

}  // namespace
}  // namespace rserpool
