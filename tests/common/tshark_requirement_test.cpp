// SG_REQUIRE_TSHARK(): a missing tshark skips a test on a developer's
// machine and fails it where SG_REQUIRE_TSHARK=1 (tests/run.sh).
#include <gtest/gtest.h>

#include <string>

#include "tshark.hpp"

namespace {

using Action = sgtest::TsharkRequirement::Action;

TEST(TsharkRequirement, MissingTsharkSkipsUnlessRequired) {
  EXPECT_EQ(sgtest::tshark_requirement(false, nullptr).action, Action::skip);
  EXPECT_EQ(sgtest::tshark_requirement(false, "0").action, Action::skip);
  EXPECT_EQ(sgtest::tshark_requirement(false, "").action, Action::skip);
  const auto r = sgtest::tshark_requirement(false, "1");
  EXPECT_EQ(r.action, Action::fail);
  EXPECT_NE(r.reason.find("SG_REQUIRE_TSHARK=1"), std::string::npos) << r.reason;
  EXPECT_EQ(sgtest::tshark_requirement(true, "1").action, Action::run);
  EXPECT_EQ(sgtest::tshark_requirement(true, nullptr).action, Action::run);
}

// The real machine: where tests/run.sh runs (SG_REQUIRE_TSHARK=1), tshark
// runs, and this test fails otherwise.
TEST(TsharkRequirement, PresentTsharkRuns) {
  SG_REQUIRE_TSHARK();
  EXPECT_EQ(sgtest::require_tshark().action, Action::run);
}

}  // namespace
