// is_self_connection(): the check the connect paths run right after an
// association comes up (TCP mapping and kernel SCTP).
#include "rserpool/transport/self_connection.hpp"

#include <gtest/gtest.h>

namespace {

using rserpool::IpAddress;
using rserpool::TransportAddress;
using rserpool::transport::is_self_connection;

TransportAddress at(const char* ip, std::uint16_t port) { return {*IpAddress::parse(ip), port}; }

TEST(SelfConnection, SameAddressAndPortOnBothEndsIsSelf) {
  EXPECT_TRUE(is_self_connection({at("127.0.0.1", 3863)}, {at("127.0.0.1", 3863)}));
  EXPECT_TRUE(is_self_connection({at("::1", 3863)}, {at("::1", 3863)}));
}

TEST(SelfConnection, SamePortOtherAddressOrSameAddressOtherPortIsNot) {
  EXPECT_FALSE(is_self_connection({at("127.0.0.1", 3863)}, {at("127.0.0.2", 3863)}));
  EXPECT_FALSE(is_self_connection({at("127.0.0.1", 40000)}, {at("127.0.0.1", 3863)}));
  EXPECT_FALSE(is_self_connection({at("::1", 3863)}, {at("127.0.0.1", 3863)}));
}

TEST(SelfConnection, MultiHomedSctpIsSelfOnlyWhenEveryAddressIsItsOwn) {
  EXPECT_TRUE(is_self_connection({at("198.18.0.1", 2905), at("198.18.0.2", 2905)},
                                 {at("198.18.0.2", 2905), at("198.18.0.1", 2905)}));
  // One host's endpoint bound to all its addresses, talking to another
  // endpoint on one of them with the same port (ENRP peers on 9901 in UML).
  EXPECT_FALSE(is_self_connection({at("198.18.0.1", 9901), at("198.18.0.2", 9901)}, {at("198.18.0.2", 9901)}));
  EXPECT_FALSE(is_self_connection({at("198.18.0.1", 2905), at("198.18.0.2", 2905)},
                                  {at("198.18.0.3", 2905), at("2001:2::1", 2905)}));
}

TEST(SelfConnection, NothingKnownIsNotSelf) {
  EXPECT_FALSE(is_self_connection({}, {at("127.0.0.1", 3863)}));
  EXPECT_FALSE(is_self_connection({at("127.0.0.1", 3863)}, {}));
}

}  // namespace
