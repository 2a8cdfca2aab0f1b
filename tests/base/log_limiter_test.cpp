#include "rserpool/base/log_limiter.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using rserpool::TimePoint;
using rserpool::log::LimiterConfig;
using rserpool::log::LogLimiter;
using namespace std::chrono_literals;

TEST(LogLimiter, AFloodOfTenThousandWritesAtMostTwentyLines) {
  LogLimiter l(LimiterConfig{5, 10s, 64});
  TimePoint now{};
  int lines = 0;
  for (int i = 0; i < 10000; ++i) {
    now += 100us;  // 10,000 bad frames in one second
    const auto v = l.admit("bad frame", now);
    if (v.emit) lines += 1 + (v.suppressed != 0 ? 1 : 0);
  }
  l.flush(now + 10s, [&](std::string_view, std::uint64_t n) { lines += n != 0 ? 1 : 0; });
  EXPECT_LE(lines, 20);
  EXPECT_EQ(l.total_suppressed(), 10000u - 5u);
}

TEST(LogLimiter, TheNextWindowReportsWhatWasSuppressed) {
  LogLimiter l(LimiterConfig{2, 1s, 8});
  TimePoint t{};
  EXPECT_TRUE(l.admit("x", t).emit);
  EXPECT_TRUE(l.admit("x", t).emit);
  EXPECT_FALSE(l.admit("x", t).emit);
  EXPECT_FALSE(l.admit("x", t).emit);
  const auto v = l.admit("x", t + 1s);
  EXPECT_TRUE(v.emit);
  EXPECT_EQ(v.suppressed, 2u);
}

TEST(LogLimiter, CausesAreIndependentAndBounded) {
  LogLimiter l(LimiterConfig{1, 10s, 4});
  TimePoint t{};
  EXPECT_TRUE(l.admit("a", t).emit);
  EXPECT_FALSE(l.admit("a", t).emit);
  EXPECT_TRUE(l.admit("b", t).emit);
  for (int i = 0; i < 100; ++i) l.admit("cause " + std::to_string(i), t);
  EXPECT_LE(l.causes(), 4u);
}

TEST(LogLimiter, FlushReportsEachQuietWindowOnce) {
  LogLimiter l(LimiterConfig{1, 1s, 8});
  TimePoint t{};
  l.admit("x", t);
  l.admit("x", t);
  l.admit("x", t);
  int reports = 0;
  std::uint64_t total = 0;
  auto count = [&](std::string_view, std::uint64_t n) { ++reports; total += n; };
  l.flush(t + 500ms, count);
  EXPECT_EQ(reports, 0);
  l.flush(t + 1s, count);
  l.flush(t + 2s, count);
  EXPECT_EQ(reports, 1);
  EXPECT_EQ(total, 2u);
}

}  // namespace
