#pragma once
// Runs tshark over a capture and returns its verbose decode, so tests can
// assert on field values and on the absence of "Malformed" packets.
#include <optional>
#include <string>

namespace sgtest {

bool tshark_available();
// Returns tshark's stdout (and stderr) for `tshark -r path -V <extra_args>`,
// or nullopt when tshark could not be run.
std::optional<std::string> tshark_decode(const std::string& pcap_path, const std::string& extra_args = {});

}  // namespace sgtest
