#include <gtest/gtest.h>

#include "mxua/point_code.hpp"

namespace mxua {
namespace {

TEST(PointCode, ItuThreeEightThree) {
  EXPECT_EQ(format_point_code(PointCode{0x0813}, PcFormat::Itu), "1.2.3");
  EXPECT_EQ(format_point_code(PointCode{0x3fff}, PcFormat::Itu), "7.255.7");
  auto pc = parse_point_code("2.3.4", PcFormat::Itu);
  ASSERT_TRUE(pc.ok());
  EXPECT_EQ(pc->value, 0x101cU);
  EXPECT_EQ(parse_point_code("2-3-4", PcFormat::Itu)->value, 0x101cU);
  EXPECT_EQ(parse_point_code("4124", PcFormat::Itu)->value, 0x101cU);
  EXPECT_FALSE(parse_point_code("8.0.0", PcFormat::Itu).ok());
  EXPECT_FALSE(parse_point_code("0.256.0", PcFormat::Itu).ok());
  EXPECT_FALSE(parse_point_code("16384", PcFormat::Itu).ok());
  EXPECT_FALSE(parse_point_code("1.2", PcFormat::Itu).ok());
  EXPECT_FALSE(parse_point_code("1.2.3.4", PcFormat::Itu).ok());
  EXPECT_FALSE(parse_point_code("a.b.c", PcFormat::Itu).ok());
  EXPECT_FALSE(parse_point_code("", PcFormat::Itu).ok());
}

TEST(PointCode, AnsiEightEightEight) {
  EXPECT_EQ(format_point_code(PointCode{0x0a141e}, PcFormat::Ansi), "10.20.30");
  EXPECT_EQ(parse_point_code("10.20.30", PcFormat::Ansi)->value, 0x0a141eU);
  EXPECT_EQ(parse_point_code("255.255.255", PcFormat::Ansi)->value, 0xffffffU);
  EXPECT_FALSE(parse_point_code("256.0.0", PcFormat::Ansi).ok());
  for (std::uint32_t v : {0U, 1U, 0x123456U, 0xffffffU})
    EXPECT_EQ(parse_point_code(format_point_code(PointCode{v}, PcFormat::Ansi), PcFormat::Ansi)->value, v);
}

TEST(PointCode, MaskedRanges) {
  MaskedPointCode cluster{3, PointCode{0x1018}};
  EXPECT_TRUE(cluster.contains(PointCode{0x101c}));
  EXPECT_TRUE(cluster.contains(PointCode{0x1018}));
  EXPECT_FALSE(cluster.contains(PointCode{0x1020}));
  EXPECT_TRUE((MaskedPointCode{24, PointCode{0}}.contains(PointCode{0xabcdef})));
  EXPECT_TRUE((MaskedPointCode{255, PointCode{0}}.contains(PointCode{0xabcdef})));
}

}  // namespace
}  // namespace mxua
