// AddressList (rserpool/wire/address_list.hpp): a transport parameter's
// addresses inline up to kInline, on the heap beyond, with the value
// semantics of the std::vector<IpAddress> it replaced.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "rserpool/wire/address_list.hpp"
#include "rserpool/wire/types.hpp"

namespace rserpool {
namespace {

IpAddress v4(std::uint8_t last) { return IpAddress::v4({192, 0, 2, last}); }

std::vector<IpAddress> first_n(std::size_t n) {
  std::vector<IpAddress> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(i % 2 ? *IpAddress::parse("2001:db8::" + std::to_string(i + 1)) : v4(static_cast<std::uint8_t>(i + 1)));
  return v;
}

TEST(AddressList, UpToFourAddressesStayInline) {
  AddressList l;
  EXPECT_TRUE(l.empty());
  EXPECT_TRUE(l.is_inline());
  for (std::uint8_t i = 1; i <= AddressList::kInline; ++i) l.push_back(v4(i));
  EXPECT_TRUE(l.is_inline()) << "the common 1-4 addresses need no heap storage";
  EXPECT_EQ(l.size(), 4u);
  EXPECT_EQ(l, (std::vector<IpAddress>{v4(1), v4(2), v4(3), v4(4)}));
  l.push_back(v4(5));
  EXPECT_FALSE(l.is_inline());
  EXPECT_EQ(l.size(), 5u);
  EXPECT_EQ(l.front(), v4(1));
  EXPECT_EQ(l.back(), v4(5));
  EXPECT_EQ(l.at(4), v4(5));
  EXPECT_THROW((void)l.at(5), std::out_of_range);
}

// Every size around the inline bound, through every way a list is built,
// copied, moved, assigned and compared.
TEST(AddressList, ValueSemanticsAroundTheInlineBound) {
  for (std::size_t n = 0; n <= 2 * AddressList::kInline + 1; ++n) {
    SCOPED_TRACE(n);
    const std::vector<IpAddress> v = first_n(n);
    AddressList a = v;  // from a vector
    ASSERT_EQ(a.size(), n);
    EXPECT_EQ(a.is_inline(), n <= AddressList::kInline);
    EXPECT_TRUE(std::equal(a.begin(), a.end(), v.begin(), v.end()));
    EXPECT_EQ(a, v);
    EXPECT_EQ(static_cast<std::vector<IpAddress>>(a), v);  // back to a vector

    AddressList copy(a);
    EXPECT_EQ(copy, a);
    AddressList moved(std::move(copy));
    EXPECT_EQ(moved, a);
    EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): a moved-from list is empty
    EXPECT_TRUE(copy.is_inline());
    copy.push_back(v4(99));  // and usable
    EXPECT_EQ(copy, (std::vector<IpAddress>{v4(99)}));

    AddressList assigned{v4(7)};
    assigned = a;
    EXPECT_EQ(assigned, a);
    AddressList big = first_n(9);
    big = std::move(assigned);
    EXPECT_EQ(big, a);
    assigned = big;  // into a moved-from list
    EXPECT_EQ(assigned, a);
    const AddressList& self = assigned;
    assigned = self;  // self-assignment keeps the list
    EXPECT_EQ(assigned, a);

    AddressList filled;
    filled.assign(n, v4(3));
    EXPECT_EQ(filled, std::vector<IpAddress>(n, v4(3)));
    AddressList ranged;
    ranged.assign(v.begin(), v.end());
    EXPECT_EQ(ranged, a);

    if (n > 0) {
      AddressList shorter = a;
      shorter.erase(shorter.begin());
      EXPECT_EQ(shorter, std::vector<IpAddress>(v.begin() + 1, v.end()));
      EXPECT_NE(shorter, a);
    }
  }
}

TEST(AddressList, EraseRemoveKeepsOrderAndReserveKeepsContent) {
  AddressList l = first_n(7);
  const auto odd = [](const IpAddress& ip) { return ip.is_v6(); };
  l.erase(std::remove_if(l.begin(), l.end(), odd), l.end());
  EXPECT_EQ(l, (std::vector<IpAddress>{v4(1), v4(3), v4(5), v4(7)}));
  AddressList r{v4(1), v4(2)};
  r.reserve(40);
  EXPECT_FALSE(r.is_inline());
  EXPECT_GE(r.capacity(), 40u);
  EXPECT_EQ(r, (std::vector<IpAddress>{v4(1), v4(2)}));
  r.clear();
  EXPECT_TRUE(r.empty());
}

// The transport parameter keeps comparing by value, whatever the storage.
TEST(AddressList, TransportParametersCompareByAddresses) {
  TransportParameter a;
  a.addresses = {v4(1), v4(2)};
  TransportParameter b = a;
  EXPECT_EQ(a, b);
  b.addresses.push_back(v4(3));
  EXPECT_NE(a, b);
  b.addresses.pop_back();
  EXPECT_EQ(a, b);
  a.addresses = first_n(6);
  b.addresses = first_n(6);
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace rserpool
