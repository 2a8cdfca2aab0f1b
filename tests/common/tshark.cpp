#include "tshark.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace sgtest {

bool tshark_available() { return std::system("tshark --version >/dev/null 2>&1") == 0; }

TsharkRequirement tshark_requirement(bool available, const char* required) {
  if (available) return {};
  if (required != nullptr && std::string(required) == "1")
    return {TsharkRequirement::Action::fail,
            "tshark is required here (SG_REQUIRE_TSHARK=1) but cannot be run: install it (conf/install-deps.sh test)"};
  return {TsharkRequirement::Action::skip, "tshark not installed (SG_REQUIRE_TSHARK=1 makes this a failure)"};
}

TsharkRequirement require_tshark() {
  static const bool available = tshark_available();
  return tshark_requirement(available, std::getenv("SG_REQUIRE_TSHARK"));
}

std::optional<std::string> tshark_decode(const std::string& pcap_path, const std::string& extra_args) {
  // -o: make sure nothing in a user profile changes how we are judged.
  const std::string cmd = "tshark -n -r '" + pcap_path + "' -V " + extra_args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int status = pclose(pipe);
  if (status != 0) return std::nullopt;
  return out;
}

}  // namespace sgtest
