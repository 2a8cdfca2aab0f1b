#pragma once
// Operator views of a running registrar: show commands on the VTY and the
// metrics (CLI `show counters`, Prometheus). Both read the server on its own
// io thread: a CLI handler posts there (through the io_context's inbox) and
// waits, bounded, for the text.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "registrar/server.hpp"
#include "rserpool/ops/metrics.hpp"
#include "rserpool/ops/vty.hpp"

namespace rserpool::registrar::daemon {

// What the operator views reach; `server` is set (on the io thread) once
// the server runs and stays valid until the io loop has ended.
struct Running {
  boost::asio::io_context& io;
  const RegistrarServer* server = nullptr;
  ops::MetricsRegistry metrics;
};

// Runs `fn` on the io thread and returns its text, or nullopt when the data
// path did not answer within `timeout` (shutting down, or overloaded). Any
// thread, once declare_show_commands() has made the io_context's inbox.
std::optional<std::string> on_io(boost::asio::io_context& io, std::function<std::string()> fn,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(3));

void declare_show_commands(ops::Vty& vty, Running& running);
void describe_metrics(Running& running);

// Text of the views, on the io thread (also used by tests).
std::string show_registrar(const RegistrarServer& s);
std::string show_pools(const RegistrarServer& s);
std::string show_pool(const RegistrarServer& s, const std::string& name);
std::string show_pe(const RegistrarServer& s, PeIdentifier id);
std::string show_peers(const RegistrarServer& s);
// One line: "synchronised: ..." or "synchronisation: awaiting|downloading ...".
std::string synchronisation_text(const Synchronisation& sync, std::chrono::steady_clock::time_point now);

}  // namespace rserpool::registrar::daemon
