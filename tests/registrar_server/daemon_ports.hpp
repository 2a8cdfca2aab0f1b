#pragma once
// The ports a daemon bound, read from its --ports-file (one `NAME PORT` line
// per listener, written atomically once every listener is bound). Tests
// configure port 0 everywhere and read the real ports back: no test picks a
// "free" port and binds it later.
#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "process.hpp"

namespace regtest {

struct DaemonPorts {
  std::map<std::string, std::uint16_t> by_name;
  std::uint16_t get(const std::string& name) const {
    auto it = by_name.find(name);
    return it == by_name.end() ? 0 : it->second;
  }
  std::uint16_t asap() const { return get("asap"); }
  std::uint16_t enrp() const { return get("enrp"); }
  std::uint16_t vty() const { return get("vty"); }
  std::uint16_t metrics() const { return get("metrics"); }
};

inline std::optional<DaemonPorts> parse_ports_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) return std::nullopt;
  DaemonPorts p;
  std::string name;
  unsigned port = 0;
  while (f >> name >> port) p.by_name[name] = static_cast<std::uint16_t>(port);
  if (p.by_name.empty()) return std::nullopt;
  return p;
}

// Waits until the daemon has written its ports file (it does so once every
// listener is bound) or has exited (then: nullopt).
inline std::optional<DaemonPorts> wait_for_ports(sgtest::ChildProcess& daemon, const std::string& path,
                                                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto p = parse_ports_file(path)) return p;
    if (!daemon.running()) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return parse_ports_file(path);
}

}  // namespace regtest
