#include "report.hpp"

#include <cstdio>
#include <utility>
#include <vector>

namespace rserpool::loadgen {
namespace {

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

double per_second(std::size_t n, double s) { return s > 0 ? static_cast<double>(n) / s : 0.0; }

}  // namespace

std::string format_report(Report& r, const Options& o) {
  std::vector<std::pair<std::string, std::string>> kv;
  kv.emplace_back("result", r.ok ? "ok" : "failed");
  kv.emplace_back("transport", std::string(transport::to_string(o.kind)));
  kv.emplace_back("pes", std::to_string(o.pes));
  kv.emplace_back("pools", std::to_string(o.pools));
  kv.emplace_back("registered", std::to_string(r.registered));
  kv.emplace_back("registration_failures", std::to_string(r.registration_failures));
  kv.emplace_back("registrations_per_s", number(per_second(r.registered, r.registration_s)));
  kv.emplace_back("registration_p50_us", number(r.registration_latency.percentile_us(50)));
  kv.emplace_back("registration_p99_us", number(r.registration_latency.percentile_us(99)));
  kv.emplace_back("resolutions", std::to_string(r.resolutions));
  kv.emplace_back("resolution_failures", std::to_string(r.resolution_failures));
  kv.emplace_back("resolutions_per_s", number(per_second(r.resolutions, r.resolution_s)));
  kv.emplace_back("resolution_items_avg",
                  number(r.resolutions ? static_cast<double>(r.resolved_pes) / static_cast<double>(r.resolutions) : 0));
  kv.emplace_back("resolution_p50_us", number(r.resolution_latency.percentile_us(50)));
  kv.emplace_back("resolution_p90_us", number(r.resolution_latency.percentile_us(90)));
  kv.emplace_back("resolution_p99_us", number(r.resolution_latency.percentile_us(99)));
  kv.emplace_back("keep_alives_answered", std::to_string(r.keep_alives_answered));
  kv.emplace_back("deregistered", std::to_string(r.deregistered));
  if (o.converge > 0) {
    kv.emplace_back("converge_visible", std::to_string(r.converge_visible));
    kv.emplace_back("converge_ms", r.converge_ms ? number(*r.converge_ms) : std::string("-1"));
  }
  std::size_t errors = 0;
  for (const auto& [k, v] : r.errors) errors += v;
  kv.emplace_back("errors", std::to_string(errors));
  for (const auto& [k, v] : r.errors) kv.emplace_back("error." + k, std::to_string(v));

  std::string out;
  if (o.json) {
    out = "{";
    for (std::size_t i = 0; i < kv.size(); ++i) {
      if (i) out += ", ";
      out += "\"" + kv[i].first + "\": ";
      const auto& v = kv[i].second;
      const bool numeric = !v.empty() && v.find_first_not_of("-0123456789.") == std::string::npos;
      out += numeric ? v : "\"" + v + "\"";
    }
    out += "}";
  } else {
    for (std::size_t i = 0; i < kv.size(); ++i) {
      if (i) out += ' ';
      out += kv[i].first + "=" + kv[i].second;
    }
  }
  return out;
}

}  // namespace rserpool::loadgen
