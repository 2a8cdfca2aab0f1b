#include "rserpool/base/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <map>
#include <mutex>

#include "rserpool/base/log_limiter.hpp"
#include "rserpool/base/time.hpp"

namespace rserpool::log {
namespace {

struct Registry {
  std::mutex mutex;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
  spdlog::level::level_enum default_level = [] {
    const char* env = std::getenv("SG_LOG_LEVEL");
    return env ? spdlog::level::from_str(env) : spdlog::level::info;
  }();
};

Registry& registry() {
  static Registry r;
  return r;
}

struct Limits {
  std::mutex mutex;
  LogLimiter limiter;
  std::string key;  // scratch: category + '/' + cause
};

Limits& limits() {
  static Limits l;
  return l;
}

}  // namespace

Admission admit(std::string_view category, std::string_view cause) {
  auto& l = limits();
  std::lock_guard lock(l.mutex);
  l.key.assign(category);
  l.key += '/';
  l.key += cause;
  const auto v = l.limiter.admit(l.key, SteadyClock::instance().now());
  return Admission{v.emit, v.suppressed};
}

std::uint64_t suppressed_total() {
  auto& l = limits();
  std::lock_guard lock(l.mutex);
  return l.limiter.total_suppressed();
}

std::shared_ptr<spdlog::logger> get(std::string_view category) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  if (auto it = r.loggers.find(category); it != r.loggers.end()) return it->second;
  auto logger = std::make_shared<spdlog::logger>(std::string(category), r.sink);
  logger->set_level(r.default_level);
  r.loggers.emplace(std::string(category), logger);
  return logger;
}

bool set_level(std::string_view category, std::string_view level) {
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") return false;
  if (category == "all") {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    r.default_level = lvl;
    for (auto& [name, logger] : r.loggers) logger->set_level(lvl);
    return true;
  }
  get(category)->set_level(lvl);
  return true;
}

void set_default_level(spdlog::level::level_enum level) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.default_level = level;
}

}  // namespace rserpool::log
