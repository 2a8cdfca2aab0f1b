#include "sg/gateway/cli.hpp"

#include <charconv>
#include <future>
#include <memory>

#include "rserpool/base/log.hpp"
#include "rserpool/transport/io_inbox.hpp"

namespace sg {
namespace {

using rserpool::ops::CommandContext;
using rserpool::ops::kEnableNode;

std::optional<rserpool::PeIdentifier> parse_pe(std::string s) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s = s.substr(2);
  std::uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::string GatewayCli::on_io(std::function<std::string(Gateway&)> fn, std::chrono::milliseconds timeout) {
  auto done = std::make_shared<std::promise<std::string>>();
  auto answer = done->get_future();
  rserpool::transport::IoInbox::of(io_).post([this, done, fn = std::move(fn)] {
    done->set_value(gateway_ ? fn(*gateway_) : std::string("% the gateway is not running\n"));
  });
  if (answer.wait_for(timeout) != std::future_status::ready) return "% no answer from the data path (busy or stopping)\n";
  return answer.get();
}

// Through the io_context's inbox, never its own queue: the data path runs
// without the scheduler's lock (io_inbox.hpp).
void GatewayCli::post(std::function<void(Gateway&)> fn) {
  rserpool::transport::IoInbox::of(io_).post([this, fn = std::move(fn)] {
    if (gateway_) fn(*gateway_);
  });
}

GatewayCli::GatewayCli(rserpool::ops::Vty& vty, boost::asio::io_context& io) : io_(io) {
  // Made here, on the thread that will run `io` and before it runs: the
  // VTY thread only looks it up (io_inbox.hpp).
  rserpool::transport::IoInbox::of(io_);
  auto show = [this, &vty](const std::string& syntax, const std::vector<std::string>& doc,
                           std::function<std::string(Gateway&, const std::vector<std::string>&)> f) {
    vty.add_show_command(syntax, doc, [this, f](CommandContext& c) {
      auto args = c.args;
      c.out = on_io([f, args](Gateway& g) { return f(g, args); });
    });
  };
  show("show pools", {"Show running state", "Pools, their PEs and flows"},
       [](Gateway& g, const auto&) { return g.show_pools(); });
  show("show pool NAME", {"Show running state", "One pool", "Pool handle"},
       [](Gateway& g, const auto& a) { return g.show_pools(a.at(0)); });
  show("show flows", {"Show running state", "Flows per PE"}, [](Gateway& g, const auto&) { return g.show_flows(); });
  show("show flows NAME", {"Show running state", "Flows per PE", "Pool handle"},
       [](Gateway& g, const auto& a) { return g.show_flows(a.at(0)); });
  show("show m3ua", {"Show running state", "The SS7-side M3UA: SGP, ASPs, ASes, connections"},
       [](Gateway& g, const auto&) { return g.show_ss7(); });
  show("show ss7-side", {"Show running state", "The SS7-side M3UA: SGP, ASPs, ASes, connections"},
       [](Gateway& g, const auto&) { return g.show_ss7(); });
  show("show routes", {"Show running state", "The live route table"},
       [](Gateway& g, const auto&) { return g.show_routes(); });
  show("show registrar", {"Show running state", "Co-located registrar and the pool user's registrars"},
       [](Gateway& g, const auto&) { return g.show_registrar(); });
  show("show counters", {"Show running state", "Every counter (Prometheus names)"},
       [](Gateway& g, const auto&) { return g.show_counters(); });

  auto drain = [this](CommandContext& c, std::optional<Duration> deadline) {
    auto pe = parse_pe(c.args.at(0));
    if (!pe) {
      c.error = "invalid PE identifier '" + c.args[0] + "' (hexadecimal, as show pools prints it)";
      return;
    }
    c.out = on_io([pe = *pe, deadline](Gateway& g) {
      auto r = g.drain({}, pe, deadline);
      return r ? std::string("draining\n") : "% " + r.error() + "\n";
    });
  };
  vty.add_command(kEnableNode, "drain pe ID", {"Drain a pool element", "Pool element", "PE identifier (hex)"},
                  [drain](CommandContext& c) { drain(c, std::nullopt); });
  vty.add_command(kEnableNode, "drain pe ID deadline <0-86400000>",
                  {"Drain a pool element", "Pool element", "PE identifier (hex)", "Move remaining calls after",
                   "Milliseconds"},
                  [drain](CommandContext& c) {
                    std::uint64_t ms = 0;
                    std::from_chars(c.args.at(1).data(), c.args[1].data() + c.args[1].size(), ms);
                    drain(c, std::chrono::milliseconds(ms));
                  });
  vty.add_command(kEnableNode, "logging level WORD (trace|debug|info|warn|error|critical|off)",
                  {"Logging", "Set a category's level", "Category (sgd, ss7, pool, link, asap, m3ua, transport, all)",
                   "Trace", "Debug", "Info", "Warnings", "Errors", "Critical", "Off"},
                  [](CommandContext& c) {
                    // spdlog levels are atomic: no need to go through the io thread.
                    if (!rserpool::log::set_level(c.args.at(0), c.args.at(1))) c.error = "unknown level";
                  });
}

ConfigChangeHandler GatewayCli::config_change_handler(const SgConfig& config) {
  const SgConfig* cfg = &config;
  return [this, cfg](ConfigChange what, const std::string& name) {
    auto log = rserpool::log::get("sgd");
    switch (what) {
      case ConfigChange::route: {
        auto it = std::find_if(cfg->routes.begin(), cfg->routes.end(), [&](const RouteSettings& r) { return r.name == name; });
        if (it == cfg->routes.end()) return;
        RouteSettings copy = *it;
        post([copy, log](Gateway& g) {
          if (auto r = g.set_route(copy); !r) log->warn("{}", r.error());
        });
        break;
      }
      case ConfigChange::route_removed:
        post([name](Gateway& g) { g.remove_route(name); });
        break;
      case ConfigChange::pool: {
        auto it = cfg->pools.find(name);
        if (it == cfg->pools.end()) return;
        PoolSettings copy = it->second;
        post([copy](Gateway& g) { g.add_pool(copy); });
        break;
      }
      case ConfigChange::log_level: {
        auto it = cfg->log_levels.find(name);
        if (it != cfg->log_levels.end()) rserpool::log::set_level(name, it->second);
        break;
      }
      case ConfigChange::other: break;
    }
  };
}

}  // namespace sg
