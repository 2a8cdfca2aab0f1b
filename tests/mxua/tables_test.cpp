#include <gtest/gtest.h>

#include "mxua/fsm/destination_table.hpp"
#include "mxua/fsm/routing_key_table.hpp"

namespace mxua {
namespace {

TEST(DestinationTable, MostSpecificEntryWins) {
  DestinationTable t;
  EXPECT_FALSE(t.lookup(PointCode{0x101c}).has_value());
  t.set_availability(MaskedPointCode{3, PointCode{0x1018}}, DestinationAvailability::Unavailable);
  t.set_availability(MaskedPointCode{0, PointCode{0x101c}}, DestinationAvailability::Available);
  EXPECT_EQ(t.lookup(PointCode{0x101c})->availability, DestinationAvailability::Available);
  EXPECT_EQ(t.lookup(PointCode{0x101d})->availability, DestinationAvailability::Unavailable);
  EXPECT_FALSE(t.lookup(PointCode{0x1020}).has_value());
  // A wider announcement replaces the narrower ones it covers.
  t.set_availability(MaskedPointCode{4, PointCode{0x1010}}, DestinationAvailability::Unavailable);
  EXPECT_EQ(t.size(), 1U);
  EXPECT_EQ(t.lookup(PointCode{0x101c})->availability, DestinationAvailability::Unavailable);
}

TEST(DestinationTable, CongestionAndUsers) {
  DestinationTable t;
  t.set_congestion(PointCode{5}, 2);
  t.set_user_unavailable(PointCode{5}, UserCause{UnavailabilityCause::InaccessibleRemoteUser, 5});
  t.set_user_unavailable(PointCode{5}, UserCause{UnavailabilityCause::UnequippedRemoteUser, 5});
  auto s = t.lookup(PointCode{5});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->congestion_level, 2);
  ASSERT_EQ(s->unavailable_users.size(), 1U);
  EXPECT_EQ(s->unavailable_users[0].cause, UnavailabilityCause::UnequippedRemoteUser);
  t.set_availability(MaskedPointCode{0, PointCode{5}}, DestinationAvailability::Available);
  EXPECT_TRUE(t.lookup(PointCode{5})->unavailable_users.empty());
}

TEST(RoutingKeyTable, MatchesByDpcSiOpcAndNa) {
  RoutingKeyTable t;
  t.add({1, std::nullopt, {{MaskedPointCode{0, PointCode{0x101c}}, {}, {}}}});                  // any SI but 0
  t.add({2, std::nullopt, {{MaskedPointCode{0, PointCode{0x101c}}, {3}, {}}}});                 // SCCP
  t.add({3, std::nullopt, {{MaskedPointCode{0, PointCode{0x101c}}, {5}, {MaskedPointCode{0, PointCode{9}}}}}});
  t.add({4, 7, {{MaskedPointCode{8, PointCode{0x2000}}, {}, {}}}});
  EXPECT_EQ(t.match(PointCode{0x101c}, PointCode{1}, 5, std::nullopt), 1U);
  EXPECT_EQ(t.match(PointCode{0x101c}, PointCode{1}, 3, std::nullopt), 2U);
  EXPECT_EQ(t.match(PointCode{0x101c}, PointCode{9}, 5, std::nullopt), 3U);
  EXPECT_FALSE(t.match(PointCode{0x101c}, PointCode{9}, 0, std::nullopt));  // MTP management
  EXPECT_EQ(t.match(PointCode{0x20ab}, PointCode{9}, 5, 7), 4U);
  EXPECT_FALSE(t.match(PointCode{0x20ab}, PointCode{9}, 5, 8));
  EXPECT_FALSE(t.match(PointCode{0x2100}, PointCode{9}, 5, 7));
  EXPECT_EQ(t.find_equal({{MaskedPointCode{0, PointCode{0x101c}}, {3}, {}}}, std::nullopt), 2U);
  EXPECT_TRUE(t.remove(2));
  EXPECT_FALSE(t.remove(2));
  EXPECT_EQ(t.match(PointCode{0x101c}, PointCode{1}, 3, std::nullopt), 1U);
}

TEST(Streams, SlsToStreamNeverUsesStreamZero) {
  EXPECT_FALSE(data_stream(3, 1).has_value());
  EXPECT_EQ(data_stream(3, 2), 1);
  for (std::uint8_t sls = 0; sls < 16; ++sls) {
    auto s = data_stream(sls, 17);
    ASSERT_TRUE(s);
    EXPECT_EQ(*s, 1 + sls);
    EXPECT_EQ(data_stream(sls, 5), 1 + sls % 4);
  }
  EXPECT_TRUE(wants_stream_zero(3, type::kAspUp));
  EXPECT_FALSE(wants_stream_zero(3, type::kBeat));
  EXPECT_FALSE(wants_stream_zero(0, type::kNtfy));
  EXPECT_TRUE(wants_stream_zero(9, type::kRegReq));
}

}  // namespace
}  // namespace mxua
