#include "options.hpp"

#include <charconv>
#include <cmath>
#include <string_view>

namespace rserpool::loadgen {
namespace {

template <class T>
std::optional<T> parse_number(std::string_view s) {
  T v{};
  const auto* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || p != end) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  // from_chars for double is not in every libstdc++ this project builds with
  try {
    std::size_t used = 0;
    const double v = std::stod(std::string(s), &used);
    if (used != s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<PolicyType> parse_policy(std::string_view s) {
  if (s == "rr" || s == "round-robin") return PolicyType::round_robin;
  if (s == "random") return PolicyType::random;
  if (s == "lu" || s == "least-used") return PolicyType::least_used;
  return std::nullopt;
}

}  // namespace

std::string usage() {
  return "usage: rserpool-loadgen --registrar ADDR:PORT [--registrar ...] [options]\n"
         "  --transport sctp|tcp|auto     association kind (default auto)\n"
         "  --local ADDR                  bind associations to ADDR\n"
         "  --pe-address ADDR             address in each PE's user transport (default: bound address)\n"
         "  --pe-port PORT                first user-transport port (default 20000)\n"
         "  --pes N --pools P             register N PEs spread over P pools (names PREFIX-0..)\n"
         "  --pool-prefix NAME            pool handle prefix (default LoadPool)\n"
         "  --associations A              registration associations (default 1)\n"
         "  --rate R                      requests per second, 0 = window-limited (default 0)\n"
         "  --window W                    requests outstanding (default 32)\n"
         "  --policy rr|random|lu         pool policy (default rr)\n"
         "  --life-ms MS                  registration life (default 3600000)\n"
         "  --resolutions N | --duration S  handle resolutions, cycling over the pools\n"
         "  --items K                     Handle Resolution Option items (default 3)\n"
         "  --resolve-at ADDR:PORT        registrar for resolutions (default: first --registrar)\n"
         "  --converge N                  resolve all pools until N PEs are visible; reports converge_ms\n"
         "  --timeout S                   bound per phase (default 120)\n"
         "  --hold S                      keep PEs registered S seconds at the end (-1: until SIGTERM)\n"
         "  --no-deregister               leave PEs registered when closing\n"
         "  --seed N                      PE identifier seed\n"
         "  --json                        JSON output instead of key=value\n";
}

Result<Options, std::string> parse_options(const std::vector<std::string>& args) {
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--no-deregister") {
      o.deregister = false;
      continue;
    }
    if (a == "--json") {
      o.json = true;
      continue;
    }
    if (i + 1 >= args.size()) return unexpected("option " + a + " needs a value (or is unknown)");
    const std::string& v = args[++i];
    auto bad = [&]() { return unexpected("invalid value '" + v + "' for " + a); };
    auto size = [&](std::size_t& out, std::size_t min) -> bool {
      auto n = parse_number<std::size_t>(v);
      if (!n || *n < min) return false;
      out = *n;
      return true;
    };
    if (a == "--registrar" || a == "--resolve-at") {
      auto t = TransportAddress::parse(v);
      if (!t || t->port == 0) return bad();
      if (a == "--registrar")
        o.registrars.push_back(*t);
      else
        o.resolve_at = *t;
    } else if (a == "--transport") {
      auto k = transport::parse_transport_kind(v);
      if (!k) return bad();
      o.kind = *k;
    } else if (a == "--local" || a == "--pe-address") {
      auto ip = IpAddress::parse(v);
      if (!ip) return bad();
      (a == "--local" ? o.local_address : o.pe_address) = *ip;
    } else if (a == "--pe-port") {
      auto n = parse_number<std::uint16_t>(v);
      if (!n || *n == 0) return bad();
      o.pe_base_port = *n;
    } else if (a == "--pes") {
      if (!size(o.pes, 0)) return bad();
    } else if (a == "--pools") {
      if (!size(o.pools, 1)) return bad();
    } else if (a == "--pool-prefix") {
      if (v.empty() || v.size() + 12 > kMaxPoolHandleSize) return bad();
      o.pool_prefix = v;
    } else if (a == "--associations") {
      if (!size(o.associations, 1)) return bad();
    } else if (a == "--window") {
      if (!size(o.window, 1)) return bad();
    } else if (a == "--resolutions") {
      if (!size(o.resolutions, 0)) return bad();
    } else if (a == "--converge") {
      if (!size(o.converge, 1)) return bad();
    } else if (a == "--items") {
      auto n = parse_number<std::uint32_t>(v);
      if (!n || *n == 0) return bad();
      o.items = *n;
    } else if (a == "--life-ms") {
      auto n = parse_number<std::int32_t>(v);
      if (!n || (*n <= 0 && *n != kInfiniteLifetime)) return bad();
      o.life_ms = *n;
    } else if (a == "--seed") {
      auto n = parse_number<std::uint32_t>(v);
      if (!n) return bad();
      o.seed = *n;
    } else if (a == "--policy") {
      auto p = parse_policy(v);
      if (!p) return bad();
      o.policy = *p;
    } else if (a == "--rate" || a == "--duration" || a == "--timeout" || a == "--hold") {
      auto d = parse_double(v);
      if (!d || (*d < 0 && a != "--hold") || (a == "--timeout" && *d <= 0)) return bad();
      (a == "--rate" ? o.rate : a == "--duration" ? o.duration_s : a == "--timeout" ? o.timeout_s : o.hold_s) = *d;
    } else {
      return unexpected("unknown option " + a);
    }
  }
  if (o.registrars.empty()) return unexpected(std::string("--registrar is required"));
  if (o.pes > 0 && o.pools > o.pes) return unexpected(std::string("--pools must not exceed --pes"));
  if (o.associations > 1 && o.pes > 0 && o.associations > o.pes)
    return unexpected(std::string("--associations must not exceed --pes"));
  return o;
}

}  // namespace rserpool::loadgen
