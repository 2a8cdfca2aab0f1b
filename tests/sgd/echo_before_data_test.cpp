// COOKIE_ECHO before data per stream (sg/gwc_link/echo_before_data.hpp):
// the cookie goes out on a stream right before the first DATA there, once
// per stream, oldest cookie first, bounded.
#include "sg/gwc_link/echo_before_data.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using sg::gwc_link::EchoBeforeData;
using sg::gwc_link::StreamMessage;

rserpool::Bytes bytes(const std::string& s) { return rserpool::Bytes(s.begin(), s.end()); }
std::string text(const StreamMessage& m) { return std::to_string(m.stream) + ":" + std::string(m.payload.begin(), m.payload.end()); }

std::vector<std::string> before(EchoBeforeData& e, std::uint16_t stream) {
  std::vector<StreamMessage> out;
  e.before_data(stream, out);
  std::vector<std::string> t;
  for (const auto& m : out) t.push_back(text(m));
  return t;
}

TEST(EchoBeforeData, CookieGoesOnEachDataStreamOnceRightBeforeItsFirstData) {
  EchoBeforeData e;
  std::vector<StreamMessage> now;
  e.echo(bytes("A"), 4, now);  // streams 1..3 carry DATA
  EXPECT_TRUE(now.empty()) << "nothing is sent before a DATA needs it";
  EXPECT_EQ(before(e, 2), (std::vector<std::string>{"2:A"}));
  EXPECT_TRUE(before(e, 2).empty()) << "once per stream";
  EXPECT_EQ(before(e, 1), (std::vector<std::string>{"1:A"}));
  EXPECT_EQ(e.pending(), 1U);
  EXPECT_EQ(before(e, 3), (std::vector<std::string>{"3:A"}));
  EXPECT_EQ(e.pending(), 0U) << "every data stream has it: done";
  EXPECT_TRUE(before(e, 3).empty());
  EXPECT_TRUE(before(e, 0).empty()) << "stream 0 carries no DATA";
}

TEST(EchoBeforeData, SeveralCookiesGoOldestFirstAndEachOnlyWhereStillOwed) {
  EchoBeforeData e;
  std::vector<StreamMessage> now;
  e.echo(bytes("A"), 3, now);
  EXPECT_EQ(before(e, 1), (std::vector<std::string>{"1:A"}));
  e.echo(bytes("B"), 3, now);
  EXPECT_EQ(before(e, 2), (std::vector<std::string>{"2:A", "2:B"}));
  EXPECT_EQ(before(e, 1), (std::vector<std::string>{"1:B"}));
  EXPECT_EQ(e.pending(), 0U);
  EXPECT_TRUE(now.empty());
}

TEST(EchoBeforeData, WithoutDataStreamsTheCookieGoesAtOnceOnStreamZero) {
  EchoBeforeData e;
  std::vector<StreamMessage> now;
  e.echo(bytes("A"), 1, now);
  ASSERT_EQ(now.size(), 1U);
  EXPECT_EQ(text(now[0]), "0:A");
  EXPECT_EQ(e.pending(), 0U);
}

TEST(EchoBeforeData, BeyondTheBoundTheOldestGoesOnAllItsRemainingStreamsAtOnce) {
  EchoBeforeData e(2);
  std::vector<StreamMessage> now;
  e.echo(bytes("A"), 4, now);
  EXPECT_EQ(before(e, 2), (std::vector<std::string>{"2:A"}));
  e.echo(bytes("B"), 4, now);
  EXPECT_TRUE(now.empty());
  e.echo(bytes("C"), 4, now);
  std::vector<std::string> flushed;
  for (const auto& m : now) flushed.push_back(text(m));
  EXPECT_EQ(flushed, (std::vector<std::string>{"1:A", "3:A"}));
  EXPECT_EQ(e.pending(), 2U);
  EXPECT_EQ(before(e, 2), (std::vector<std::string>{"2:B", "2:C"}));
  e.clear();
  EXPECT_EQ(e.pending(), 0U);
  EXPECT_TRUE(before(e, 1).empty());
}

}  // namespace
