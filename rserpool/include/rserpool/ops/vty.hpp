#pragma once
// The operator interface of our daemons in the Osmocom style, on libosmocore's
// VTY: a config file read at start-up (errors name file, line and reason,
// and the daemon refuses to start), and a telnet CLI on loopback with show
// commands, run-time changes and `write file`.
//
// libosmocore has its own event loop and is not thread-safe: all of it runs
// on one dedicated thread owned by Vty. Command handlers run on that thread;
// a handler that needs the data path posts to it and waits for the answer
// (see run_on), so the data path itself never blocks on the CLI.
//
// Commands are declared in C++ (no DEFUN): each becomes a cmd_element built
// at run time whose function is one trampoline that dispatches to the C++
// handler.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rserpool/base/result.hpp"

namespace rserpool::ops {

// What a handler sees and answers.
struct CommandContext {
  std::vector<std::string> args;  // the values of the syntax's variable tokens
  int node = 0;                   // the node the command ran in
  void* node_object = nullptr;    // set when the node was entered
  bool from_config_file = false;
  std::string out;                // printed to the terminal
  std::string error;              // non-empty: the command failed (with this reason)
  // Set by a command that enters a sub-node (like "pool NAME").
  int enter_node = -1;
  void* enter_object = nullptr;
};
using CommandHandler = std::function<void(CommandContext&)>;

// Built-in nodes, by libosmocore's numbering.
enum BuiltinNode : int { kViewNode = 1, kEnableNode = 3, kConfigNode = 4 };

struct ConfigError {
  std::string file;
  int line = 0;  // 0 when the error is not tied to a line
  std::string reason;
  std::string to_string() const;
};

struct VtyOptions {
  std::string app_name = "sgd";
  std::string version = "0.1";
  // Default telnet port; the address is 127.0.0.1 unless the configuration
  // says otherwise with libosmocore's `line vty` / `bind ADDRESS [PORT]`.
  std::uint16_t telnet_port = 0;  // 0: no telnet (unless telnet_any_port)
  // With telnet_port 0, listen on a port the kernel chooses (tests; the
  // daemon reports it, see vty_bound_port()). A `bind ADDRESS PORT` in the
  // configuration still wins over both.
  bool telnet_any_port = false;
};

class Vty {
 public:
  explicit Vty(VtyOptions options);
  ~Vty();  // stops the thread
  Vty(const Vty&) = delete;
  Vty& operator=(const Vty&) = delete;

  // --- Declaration, before start() ---------------------------------------
  // A sub-node of CONFIG (like "pool"), with its prompt (e.g. "%s(config-pool)# ")
  // and a writer that renders the node's part of `write file`.
  int add_node(const std::string& name, const std::string& prompt, int parent = kConfigNode);
  // `syntax` in libosmocore's notation ("route NAME pool HANDLE", "(enable|disable)",
  // "<0-65535>", "[optional]"), `doc` one line per token.
  void add_command(int node, const std::string& syntax, const std::vector<std::string>& doc, CommandHandler h);
  // A command usable in VIEW and ENABLE (show commands).
  void add_show_command(const std::string& syntax, const std::vector<std::string>& doc, CommandHandler h);
  // Renders the running configuration for `write file` / `show running-config`.
  void set_config_writer(std::function<std::string()> writer);

  // --- Life ---------------------------------------------------------------
  // Starts the VTY thread, reads the configuration (a file, or embedded text
  // when `embedded` is non-empty; `source_name` names it in errors), opens
  // telnet. Returns only when all that is done or failed.
  Result<void, ConfigError> start(const std::string& config_file, const std::string& embedded = {},
                                  const std::string& source_name = {});
  void stop();
  // The port telnet listens on once start() returned (the one the kernel
  // chose when asked for port 0); the configured default before that.
  std::uint16_t telnet_port() const noexcept;

  // Runs `fn` on the VTY thread and waits for it (for tests and for the
  // daemon's own use of libosmocore objects).
  void run_on(std::function<void()> fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The port the process's telnet CLI listens on, read from the listening
// socket itself after Vty::start() (libosmocore keeps one telnet listener per
// process and does not say which port it bound); nullopt without telnet.
std::optional<std::uint16_t> vty_bound_port();

}  // namespace rserpool::ops
