// The one number parser of the configuration commands (rserpool/ops/number.hpp).
#include "rserpool/ops/number.hpp"

#include <gtest/gtest.h>

namespace rserpool::ops {
namespace {

std::string error_of(std::string_view text, std::uint64_t min = 0,
                     std::uint64_t max = std::numeric_limits<std::uint64_t>::max(),
                     NumberBase base = NumberBase::decimal) {
  auto v = parse_number(text, min, max, base);
  return v ? std::string("accepted ") + std::to_string(*v) : v.error();
}

TEST(ParseNumber, AcceptsTheWholeRangeOfTheField) {
  EXPECT_EQ(*parse_number("0"), 0u);
  EXPECT_EQ(*parse_number("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(*parse_number_as<std::uint16_t>("65535"), 65535u);
  EXPECT_EQ(*parse_number("10", 10, 20), 10u);
  EXPECT_EQ(*parse_number("20", 10, 20), 20u);
}

TEST(ParseNumber, ErrorsNameTheTextAndWhatWasWrong) {
  EXPECT_EQ(error_of(""), "empty number");
  EXPECT_EQ(error_of("abc"), "'abc' is not a number");
  EXPECT_EQ(error_of("-1"), "'-1' is not an unsigned number");
  EXPECT_EQ(error_of("+1"), "'+1' is not an unsigned number");
  EXPECT_EQ(error_of(" 1"), "' 1' is not a number");
  EXPECT_EQ(error_of("12ms"), "'12ms' has trailing characters after the number ('ms')");
  EXPECT_EQ(error_of("9", 10, 20), "'9' is out of range 10..20");
  EXPECT_EQ(error_of("21", 10, 20), "'21' is out of range 10..20");
  EXPECT_EQ(error_of("18446744073709551616"), "'18446744073709551616' is out of range 0..18446744073709551615");
}

TEST(ParseNumber, TheFieldTypeBoundsTheRangeInsteadOfTruncating) {
  auto port = parse_number_as<std::uint16_t>("65536");
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error(), "'65536' is out of range 0..65535");
  auto small = parse_number_as<std::uint8_t>("256");
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error(), "'256' is out of range 0..255");
}

TEST(ParseNumber, HexOnlyWhereAsked) {
  EXPECT_EQ(error_of("0x10"), "'0x10' has trailing characters after the number ('x10')");
  EXPECT_EQ(*parse_number("0x10", 0, 100, NumberBase::decimal_or_hex), 16u);
  EXPECT_EQ(*parse_number("0XfF", 0, 1000, NumberBase::decimal_or_hex), 255u);
  EXPECT_EQ(*parse_number("42", 0, 100, NumberBase::decimal_or_hex), 42u);
  EXPECT_EQ(error_of("0x", 0, 100, NumberBase::decimal_or_hex), "'0x' is not an unsigned hexadecimal number");
  EXPECT_EQ(error_of("0xg", 0, 100, NumberBase::decimal_or_hex), "'0xg' is not a hexadecimal number");
  EXPECT_EQ(error_of("0x100000000", 1, 0xffffffff, NumberBase::decimal_or_hex),
            "'0x100000000' is out of range 1..4294967295");
}

TEST(NumberArg, FailureSetsTheCommandError) {
  CommandContext c;
  c.args = {"7", "70000"};
  EXPECT_EQ(number_arg<std::uint16_t>(c, 0), std::optional<std::uint16_t>(7));
  EXPECT_TRUE(c.error.empty());
  EXPECT_EQ(number_arg<std::uint16_t>(c, 1), std::nullopt);
  EXPECT_EQ(c.error, "'70000' is out of range 0..65535");
}

}  // namespace
}  // namespace rserpool::ops
