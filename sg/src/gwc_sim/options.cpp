#include "options.hpp"

#include "sg/sim/command_line.hpp"

#include <cstdlib>
#include <string_view>

namespace sg::gwcsim {
namespace {

constexpr const char* kUsage =
    "usage: gwc-sim [options]\n"
    "  --pool HANDLE           pool to register in (default gwc)\n"
    "  --registrar ADDR:PORT   registrar (repeatable, hunt order; default 127.0.0.1:3863; IPv6 as [addr]:port)\n"
    "  --listen ADDR:PORT      M3UA user transport the SG connects to (port 0: ephemeral; default 127.0.0.1:0)\n"
    "  --transport auto|sctp|tcp\n"
    "  --policy NAME           round-robin, weighted-round-robin, random, weighted-random, priority,\n"
    "                          least-used, least-used-degradation, priority-least-used, randomized-least-used\n"
    "  --weight N --priority N --degradation N   policy values\n"
    "  --load PCT              least-used family: a fixed load (default: calls in progress / --capacity)\n"
    "  --capacity N            calls that make 100% load (default 1000)\n"
    "  --load-interval MS      at most one load update per interval (default 500)\n"
    "  --answer-delay MS       IAM to ANM (default 20)\n"
    "  --cookies               send ASAP_COOKIE (the call table) to the SG after every change\n"
    "  --stats-interval MS     periodic machine-readable 'stats' lines on stdout\n"
    "  --shutdown-grace MS     SIGTERM: wait this long for calls in progress (default 2000)\n"
    "  --life MS               registration life (default 30000)\n"
    "  --pe-id N               PE identifier (decimal or 0x hex; default random)\n"
    "  --aggressive            fast failure detection (registrar and SG associations)\n"
    "  --bundle on|off         SCTP toward the SG: messages written together leave bundled (default off)\n"
    "  --no-self-fence         an SG association lost abnormally is always the SG's death (keep its calls),\n"
    "                          even right after a stall of our own (default: a fence, its calls given up)\n"
    "  --changeover-hold MS    a call whose last message went through an SG association that failed waits\n"
    "                          this long before it continues through another SG (default 300; 0: none)\n"
    "  --trace FILE            one line per ISUP message in or out (time, association, CIC, type),\n"
    "                          and an `unknown` line for each one that found no call here\n"
    "  --name NAME\n";

std::optional<rserpool::PolicyType> policy_type(std::string_view s) {
  using P = rserpool::PolicyType;
  if (s == "round-robin" || s == "rr") return P::round_robin;
  if (s == "weighted-round-robin" || s == "wrr") return P::weighted_round_robin;
  if (s == "random") return P::random;
  if (s == "weighted-random") return P::weighted_random;
  if (s == "priority") return P::priority;
  if (s == "least-used" || s == "lu") return P::least_used;
  if (s == "least-used-degradation") return P::least_used_degradation;
  if (s == "priority-least-used") return P::priority_least_used;
  if (s == "randomized-least-used") return P::randomized_least_used;
  return std::nullopt;
}

}  // namespace

bool least_used_family(rserpool::PolicyType t) noexcept {
  using P = rserpool::PolicyType;
  return t == P::least_used || t == P::least_used_degradation || t == P::priority_least_used ||
         t == P::randomized_least_used || t == P::least_used_dpf;
}

std::optional<Options> parse_options(int argc, char** argv, std::string& message, int& exit_code) {
  Options o;
  o.listen = *rserpool::TransportAddress::parse("127.0.0.1:0");
  exit_code = 2;
  auto fail = [&](std::string why) -> std::optional<Options> {
    message = "gwc-sim: " + why + "\n" + kUsage;
    return std::nullopt;
  };
  sim::ArgCursor args(argc, argv, sim::NumberBase::decimal_or_hex);
  while (args.next()) {
    const std::string_view arg = args.flag();
    if (arg == "--help" || arg == "-h") {
      message = kUsage;
      exit_code = 0;
      return std::nullopt;
    } else if (arg == "--pool") {
      auto v = args.value();
      if (!v || v->empty()) return fail("--pool needs a handle");
      o.pool = std::string(*v);
    } else if (arg == "--registrar") {
      auto v = args.value();
      auto a = v ? rserpool::TransportAddress::parse(*v) : std::nullopt;
      if (!a) return fail("--registrar needs ADDR:PORT");
      o.registrars.push_back(*a);
    } else if (arg == "--listen") {
      auto v = args.value();
      auto a = v ? rserpool::TransportAddress::parse(*v) : std::nullopt;
      if (!a) return fail("--listen needs ADDR:PORT");
      o.listen = *a;
    } else if (arg == "--transport") {
      auto v = args.value();
      auto k = v ? rserpool::transport::parse_transport_kind(*v) : std::nullopt;
      if (!k) return fail("--transport is auto, sctp or tcp");
      o.transport = *k;
    } else if (arg == "--policy") {
      auto v = args.value();
      auto p = v ? policy_type(*v) : std::nullopt;
      if (!p) return fail("unknown --policy");
      o.policy.type = *p;
    } else if (arg == "--weight") {
      if (!args.number(o.policy.weight)) return fail("--weight needs a number");
    } else if (arg == "--priority") {
      if (!args.number(o.policy.priority)) return fail("--priority needs a number");
    } else if (arg == "--degradation") {
      if (!args.number(o.policy.degradation)) return fail("--degradation needs a number");
    } else if (arg == "--load") {
      auto v = args.value();
      std::string copy(v.value_or(""));
      char* end = nullptr;
      const double pct = std::strtod(copy.c_str(), &end);
      if (copy.empty() || !end || *end != '\0' || pct < 0 || pct > 100) return fail("--load is 0-100 (percent)");
      o.fixed_load_percent = pct;
    } else if (arg == "--capacity") {
      if (!args.number(o.capacity) || o.capacity == 0) return fail("--capacity needs a positive number");
    } else if (arg == "--load-interval") {
      if (!args.milliseconds(o.load_interval)) return fail("--load-interval needs milliseconds");
    } else if (arg == "--answer-delay") {
      if (!args.milliseconds(o.answer_delay)) return fail("--answer-delay needs milliseconds");
    } else if (arg == "--changeover-hold") {
      if (!args.milliseconds(o.changeover_hold)) return fail("--changeover-hold needs milliseconds");
    } else if (arg == "--cookies") {
      o.cookies = true;
    } else if (arg == "--stats-interval") {
      if (!args.milliseconds(o.stats_interval)) return fail("--stats-interval needs milliseconds");
    } else if (arg == "--shutdown-grace") {
      if (!args.milliseconds(o.shutdown_grace)) return fail("--shutdown-grace needs milliseconds");
    } else if (arg == "--life") {
      if (!args.number(o.registration_life_ms) || o.registration_life_ms <= 0)
        return fail("--life needs positive milliseconds");
    } else if (arg == "--pe-id") {
      std::uint32_t id = 0;
      if (!args.number(id) || id == 0) return fail("--pe-id needs a non-zero number");
      o.pe_id = id;
    } else if (arg == "--aggressive") {
      o.aggressive = true;
    } else if (arg == "--bundle") {
      auto v = args.value();
      if (!v || (*v != "on" && *v != "off")) return fail("--bundle is on or off");
      o.bundle = *v == "on";
    } else if (arg == "--no-self-fence") {
      o.self_fence = false;
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
  if (o.registrars.empty()) o.registrars.push_back(*rserpool::TransportAddress::parse("127.0.0.1:3863"));
  exit_code = 0;
  return o;
}

}  // namespace sg::gwcsim
