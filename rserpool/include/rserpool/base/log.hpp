#pragma once
// Logging categories: one spdlog logger per subsystem ("transport", "asap",
// "enrp", "m3ua", "sg", ...), created on first use, levels settable at run
// time by name. Every logger shares one sink so lines interleave correctly.
#include <spdlog/spdlog.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace rserpool::log {

std::shared_ptr<spdlog::logger> get(std::string_view category);
// Sets the level of one category, or of all when category is "all".
// Returns false for an unknown level name.
bool set_level(std::string_view category, std::string_view level);
// Initial level for categories created later (also from SG_LOG_LEVEL).
void set_default_level(spdlog::level::level_enum level);

// Rate limiting shared by the process (log_limiter.hpp): whether a line of
// `cause` in `category` may be written now, and how many of its kind were
// suppressed before it. Thread-safe; reads the steady clock.
struct Admission {
  bool emit = false;
  std::uint64_t suppressed = 0;
};
Admission admit(std::string_view category, std::string_view cause);
// Lines suppressed by admit() since the start, all categories.
std::uint64_t suppressed_total();

// A warning that one peer cannot turn into a flood: at most a few lines per
// cause and window, then one "N similar suppressed" note with the next line.
// `cause` names the kind of event ("bad frame", "refused ENRP association"),
// never the attacker-chosen content.
template <class... Args>
void warn_limited(const std::shared_ptr<spdlog::logger>& logger, std::string_view cause,
                  spdlog::format_string_t<Args...> format, Args&&... args) {
  if (!logger->should_log(spdlog::level::warn)) return;
  const Admission a = admit(logger->name(), cause);
  if (!a.emit) return;
  if (a.suppressed != 0)
    logger->warn("({} similar suppressed: {})", a.suppressed, cause);
  logger->warn(format, std::forward<Args>(args)...);
}

// The same at info level, for routine lines that a peer can still multiply
// (an association up or down per connection attempt).
template <class... Args>
void info_limited(const std::shared_ptr<spdlog::logger>& logger, std::string_view cause,
                  spdlog::format_string_t<Args...> format, Args&&... args) {
  if (!logger->should_log(spdlog::level::info)) return;
  const Admission a = admit(logger->name(), cause);
  if (!a.emit) return;
  if (a.suppressed != 0)
    logger->info("({} similar suppressed: {})", a.suppressed, cause);
  logger->info(format, std::forward<Args>(args)...);
}

}  // namespace rserpool::log
