#pragma once
// Runs tshark over a capture and returns its verbose decode, so tests can
// assert on field values and on the absence of "Malformed" packets.
//
// Tests that need tshark start with SG_REQUIRE_TSHARK(): without tshark
// they are skipped on a developer's machine, but they FAIL where the
// environment says tshark must be there (SG_REQUIRE_TSHARK=1, set by
// tests/run.sh, which installs it): a CI run never passes by skipping them.
#include <optional>
#include <string>

namespace sgtest {

bool tshark_available();

// What a tshark test must do: run, skip, or fail (with the reason).
struct TsharkRequirement {
  enum class Action { run, skip, fail };
  Action action = Action::run;
  std::string reason;
};
// The decision: from whether tshark runs and the value of SG_REQUIRE_TSHARK
// (nullptr when unset).
TsharkRequirement tshark_requirement(bool available, const char* require_env);
// The same for this process: tshark_available() (asked once: it takes
// seconds on a loaded machine) and the environment.
TsharkRequirement require_tshark();

// Returns tshark's stdout (and stderr) for `tshark -r path -V <extra_args>`,
// or nullopt when tshark could not be run.
std::optional<std::string> tshark_decode(const std::string& pcap_path, const std::string& extra_args = {});

}  // namespace sgtest

// In a test body or fixture SetUp (needs <gtest/gtest.h>).
#define SG_REQUIRE_TSHARK()                                                         \
  do {                                                                              \
    const auto sg_tshark_req_ = ::sgtest::require_tshark();                         \
    if (sg_tshark_req_.action == ::sgtest::TsharkRequirement::Action::fail)         \
      FAIL() << sg_tshark_req_.reason;                                              \
    if (sg_tshark_req_.action == ::sgtest::TsharkRequirement::Action::skip)         \
      GTEST_SKIP() << sg_tshark_req_.reason;                                        \
  } while (0)
