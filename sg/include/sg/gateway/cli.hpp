#pragma once
// sgd's operator commands on the VTY (show pools, drain, routes at run
// time, log levels). Handlers run on the VTY thread; each one posts its
// work to the data path's io_context and waits for the answer (bounded),
// so the CLI never touches the gateway's state from another thread and the
// data path never waits for the CLI.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "rserpool/ops/vty.hpp"
#include "sg/config/sg_config.hpp"
#include "sg/config/sg_config_commands.hpp"
#include "sg/gateway/gateway.hpp"

namespace sg {

class GatewayCli {
 public:
  // Declares the commands; call before vty.start().
  GatewayCli(rserpool::ops::Vty& vty, boost::asio::io_context& io);

  // The running gateway (null: not running). Call on the io thread, or
  // before the io_context runs.
  void attach(Gateway* gateway) { gateway_ = gateway; }

  // Applies a configuration change typed at run time: hand this to
  // declare_config_commands(). `config` is the VTY's configuration value,
  // read here on the VTY thread.
  ConfigChangeHandler config_change_handler(const SgConfig& config);

 private:
  // Runs `fn` on the io thread; its text, or an error line on timeout.
  std::string on_io(std::function<std::string(Gateway&)> fn,
                    std::chrono::milliseconds timeout = std::chrono::seconds(3));
  void post(std::function<void(Gateway&)> fn);

  boost::asio::io_context& io_;
  Gateway* gateway_ = nullptr;  // io thread only
};

}  // namespace sg
