#pragma once
// Ports a child process bound, read back instead of chosen in advance (a
// port picked "free" and bound later can be taken in between: by another
// test, or by an outgoing connection of the same test).
//  - Our daemons take `--ports-file PATH` and write "NAME PORT" lines there
//    once every listener is bound (sgd: m3ua, asap, enrp, vty, metrics).
//  - A third-party peer (osmo-stp, rspregistrar) configured with port 0 is
//    read from the kernel: the sockets the process holds that listen.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "process.hpp"

namespace sgtest {

using PortMap = std::map<std::string, std::uint16_t>;

// "NAME PORT" per line; nullopt when a line is malformed.
std::optional<PortMap> parse_ports(const std::string& text);

// Waits until `path` exists (daemons write it whole, by rename) and parses
// it. nullopt when the child exited first or the time ran out; `why` then
// says which.
std::optional<PortMap> wait_for_ports_file(const std::string& path, ChildProcess& child,
                                           std::chrono::milliseconds timeout, std::string* why = nullptr);

// The local ports on which process `pid` has listening sockets of `proto`
// (UDP: bound sockets), from /proc/PID/fd and the kernel's socket tables;
// with `on_address` (textual, e.g. "198.18.0.2" or "::1"), only sockets
// bound to that address.
std::vector<std::uint16_t> listening_ports(pid_t pid, Protocol proto, const std::string& on_address = {});

// Waits until `child` listens on exactly one port of `proto` (on
// `on_address` when given); that port.
std::optional<std::uint16_t> wait_for_listening_port(ChildProcess& child, Protocol proto,
                                                     std::chrono::milliseconds timeout,
                                                     const std::string& on_address = {});

}  // namespace sgtest
