#include "rserpool/ops/metrics.hpp"

#include <cmath>
#include <set>
#include <sstream>

namespace rserpool::ops {

void MetricsRegistry::describe(MetricFamily family) { families_[family.name] = std::move(family); }

void MetricsRegistry::add_collector(Collector c) { collectors_.push_back(std::move(c)); }

std::vector<Sample> MetricsRegistry::collect() const {
  std::vector<Sample> out;
  for (const auto& c : collectors_) c(out);
  return out;
}

namespace {

std::string escape_label(const std::string& v) {
  std::string s;
  for (char c : v) {
    if (c == '\\' || c == '"') s += '\\';
    if (c == '\n') {
      s += "\\n";
      continue;
    }
    s += c;
  }
  return s;
}

std::string format_value(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::ostringstream o;
  o << v;
  return o.str();
}

std::string labels_text(const std::map<std::string, std::string>& labels) {
  if (labels.empty()) return {};
  std::string s = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) s += ",";
    first = false;
    s += k + "=\"" + escape_label(v) + "\"";
  }
  return s + "}";
}

}  // namespace

std::string MetricsRegistry::to_prometheus(const std::vector<Sample>& samples) const {
  // Group by family, HELP/TYPE once per family, families in name order.
  std::map<std::string, std::vector<const Sample*>> by_name;
  for (const auto& s : samples) by_name[s.name].push_back(&s);
  std::ostringstream o;
  for (const auto& [name, list] : by_name) {
    if (auto f = families_.find(name); f != families_.end()) {
      o << "# HELP " << name << " " << f->second.help << "\n";
      o << "# TYPE " << name << " " << (f->second.type == MetricFamily::Type::counter ? "counter" : "gauge") << "\n";
    }
    for (const auto* s : list) o << name << labels_text(s->labels) << " " << format_value(s->value) << "\n";
  }
  return o.str();
}

std::string MetricsRegistry::to_table(const std::vector<Sample>& samples) {
  std::ostringstream o;
  for (const auto& s : samples) o << s.name << labels_text(s.labels) << " " << format_value(s.value) << "\n";
  return o.str();
}

}  // namespace rserpool::ops
