#include "options.hpp"

#include "sg/sim/command_line.hpp"

#include <cstdlib>
#include <string_view>

#include "mxua/point_code.hpp"

namespace sg::ss7gen {
namespace {

constexpr const char* kUsage =
    "usage: ss7-gen [options]\n"
    "  --connect ADDR:PORT     SGP to connect to as ASP (repeatable: multi-homing; default 127.0.0.1:2905)\n"
    "  --mate ADDR:PORT        the mate SG of a pair (repeatable: multi-homing): SLS load sharing over both,\n"
    "                          failover when one is lost, time-controlled changeback when it returns\n"
    "  --changeback MS         how long a returning SG's SLSs wait so its mate's traffic arrives first (default 50)\n"
    "  --hold-while-down MS    messages wait this long while no SG is ACTIVE (default 0: discarded)\n"
    "  --transport auto|sctp|tcp\n"
    "  --rc N | --no-rc        routing context in ASPAC/DATA (default 100)\n"
    "  --register              RKM: register a routing key for our OPC instead (osmo-stp)\n"
    "  --opc PC --dpc PC       point codes, ITU 3-8-3 or decimal (default 0.23.2 -> 0.23.1)\n"
    "  --ni N                  network indicator (default 2, national)\n"
    "  --cps N                 ISUP calls per second (default 50)\n"
    "  --hold MS               ANM to REL (default 200)\n"
    "  --answer-timeout MS     IAM to ANM / REL to RLC before a call counts as failed (default 5000)\n"
    "  --t1 MS                 Q.764 T1: send a REL again when no RLC came within MS, until the\n"
    "                          answer timeout (default 0: never); recovers a REL or RLC lost with a gateway\n"
    "  --cics A-B              circuit range (default 1-2000)\n"
    "  --sccp-rate N           SCCP UDT queries per second (default 0)\n"
    "  --duration S            origination time in seconds (default 10)\n"
    "  --drain-timeout MS      wait for calls in progress after the duration (default 6000)\n"
    "  --max-rate              throughput mode: a closed loop of SCCP queries\n"
    "  --window N              queries in flight in throughput mode (default 64)\n"
    "  --payload BYTES         SCCP user data per query in throughput mode (default 32)\n"
    "  --queries N             throughput mode: N queries in all, then stop (a counted run; --duration still bounds it)\n"
    "  --stats-interval MS     periodic machine-readable 'stats' lines on stdout\n"
    "  --aggressive            fast failure detection on the SGP association\n"
    "  --bundle on|off         SCTP: messages written together leave bundled (default off)\n"
    "  --connect-timeout MS    give up when not ASP-ACTIVE by then (default 10000)\n"
    "  --trace FILE            one line per ISUP message (generated, sent, refused, received) with its CIC\n"
    "  --name NAME\n";

bool real(std::string_view s, double& out) {
  std::string copy(s);
  char* end = nullptr;
  out = std::strtod(copy.c_str(), &end);
  return end && *end == '\0' && !copy.empty() && out >= 0;
}

}  // namespace

std::optional<Options> parse_options(int argc, char** argv, std::string& message, int& exit_code) {
  Options o;
  exit_code = 2;
  auto fail = [&](std::string why) -> std::optional<Options> {
    message = "ss7-gen: " + why + "\n" + kUsage;
    return std::nullopt;
  };
  sim::ArgCursor args(argc, argv, sim::NumberBase::decimal);
  while (args.next()) {
    const std::string_view arg = args.flag();
    if (arg == "--help" || arg == "-h") {
      message = kUsage;
      exit_code = 0;
      return std::nullopt;
    } else if (arg == "--connect") {
      auto v = args.value();
      auto a = v ? rserpool::TransportAddress::parse(*v) : std::nullopt;
      if (!a) return fail("--connect needs ADDR:PORT (IPv6 as [addr]:port)");
      o.connect.push_back(*a);
    } else if (arg == "--mate") {
      auto v = args.value();
      auto a = v ? rserpool::TransportAddress::parse(*v) : std::nullopt;
      if (!a) return fail("--mate needs ADDR:PORT (IPv6 as [addr]:port)");
      o.mate.push_back(*a);
    } else if (arg == "--changeback") {
      if (!args.milliseconds(o.changeback)) return fail("--changeback needs milliseconds");
    } else if (arg == "--hold-while-down") {
      if (!args.milliseconds(o.hold_while_down)) return fail("--hold-while-down needs milliseconds");
    } else if (arg == "--transport") {
      auto v = args.value();
      auto k = v ? rserpool::transport::parse_transport_kind(*v) : std::nullopt;
      if (!k) return fail("--transport is auto, sctp or tcp");
      o.transport = *k;
    } else if (arg == "--rc") {
      std::uint32_t rc = 0;
      if (!args.number(rc)) return fail("--rc needs a number");
      o.routing_context = rc;
    } else if (arg == "--no-rc") {
      o.routing_context.reset();
    } else if (arg == "--register") {
      o.register_key = true;
    } else if (arg == "--opc" || arg == "--dpc") {
      auto v = args.value();
      if (!v) return fail(std::string(arg) + " needs a point code");
      (arg == "--opc" ? o.opc_text : o.dpc_text) = std::string(*v);
    } else if (arg == "--ni") {
      unsigned ni = 0;
      if (!args.number(ni) || ni > 3) return fail("--ni is 0-3");
      o.ni = static_cast<std::uint8_t>(ni);
    } else if (arg == "--cps") {
      auto v = args.value();
      if (!v || !real(*v, o.cps)) return fail("--cps needs a non-negative number");
    } else if (arg == "--sccp-rate") {
      auto v = args.value();
      if (!v || !real(*v, o.sccp_rate)) return fail("--sccp-rate needs a non-negative number");
    } else if (arg == "--duration") {
      auto v = args.value();
      if (!v || !real(*v, o.duration_s)) return fail("--duration needs seconds");
    } else if (arg == "--hold") {
      if (!args.milliseconds(o.hold)) return fail("--hold needs milliseconds");
    } else if (arg == "--t1") {
      if (!args.milliseconds(o.t1)) return fail("--t1 needs milliseconds");
    } else if (arg == "--answer-timeout") {
      if (!args.milliseconds(o.answer_timeout)) return fail("--answer-timeout needs milliseconds");
    } else if (arg == "--drain-timeout") {
      if (!args.milliseconds(o.drain_timeout)) return fail("--drain-timeout needs milliseconds");
    } else if (arg == "--connect-timeout") {
      if (!args.milliseconds(o.connect_timeout)) return fail("--connect-timeout needs milliseconds");
    } else if (arg == "--stats-interval") {
      if (!args.milliseconds(o.stats_interval)) return fail("--stats-interval needs milliseconds");
    } else if (arg == "--cics") {
      auto v = args.value();
      if (!v) return fail("--cics needs A-B");
      const auto dash = v->find('-');
      unsigned a = 0, b = 0;
      if (dash == std::string_view::npos || !sim::parse_number(v->substr(0, dash), a) ||
          !sim::parse_number(v->substr(dash + 1), b) || a > b || b > 4095)
        return fail("--cics needs A-B within 0-4095");
      o.first_cic = static_cast<std::uint16_t>(a);
      o.cic_count = static_cast<std::uint16_t>(b - a + 1);
    } else if (arg == "--max-rate") {
      o.max_rate = true;
    } else if (arg == "--window") {
      if (!args.number(o.window) || o.window == 0) return fail("--window needs a positive number");
    } else if (arg == "--queries") {
      if (!args.number(o.queries) || o.queries == 0) return fail("--queries needs a positive number");
    } else if (arg == "--payload") {
      if (!args.number(o.payload) || o.payload < 16 || o.payload > 200)
        return fail("--payload is 16-200 bytes");
    } else if (arg == "--aggressive") {
      o.aggressive = true;
    } else if (arg == "--bundle") {
      auto v = args.value();
      if (!v || (*v != "on" && *v != "off")) return fail("--bundle is on or off");
      o.bundle = *v == "on";
    } else if (arg == "--trace") {
      auto v = args.value();
      if (!v || v->empty()) return fail("--trace needs a file");
      o.trace_path = std::string(*v);
    } else if (arg == "--name") {
      auto v = args.value();
      if (!v) return fail("--name needs a value");
      o.name = std::string(*v);
    } else {
      return fail("unknown option " + std::string(arg));
    }
  }
  if (o.connect.empty()) o.connect.push_back(*rserpool::TransportAddress::parse("127.0.0.1:2905"));
  for (const auto& a : o.connect)
    if (a.port != o.connect.front().port) return fail("all --connect addresses need the same port");
  for (const auto& a : o.mate)
    if (a.port != o.mate.front().port) return fail("all --mate addresses need the same port");
  auto opc = mxua::parse_point_code(o.opc_text, mxua::PcFormat::Itu);
  if (!opc) return fail("--opc: " + opc.error());
  auto dpc = mxua::parse_point_code(o.dpc_text, mxua::PcFormat::Itu);
  if (!dpc) return fail("--dpc: " + dpc.error());
  o.opc = opc->value;
  o.dpc = dpc->value;
  if (!o.max_rate && o.cps <= 0 && o.sccp_rate <= 0) return fail("nothing to send: --cps and --sccp-rate are 0");
  exit_code = 0;
  return o;
}

}  // namespace sg::ss7gen
