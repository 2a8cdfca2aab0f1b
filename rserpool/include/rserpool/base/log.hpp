#pragma once
// Logging categories: one spdlog logger per subsystem ("transport", "asap",
// "enrp", "m3ua", "sg", ...), created on first use, levels settable at run
// time by name. Every logger shares one sink so lines interleave correctly.
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

namespace rserpool::log {

std::shared_ptr<spdlog::logger> get(std::string_view category);
// Sets the level of one category, or of all when category is "all".
// Returns false for an unknown level name.
bool set_level(std::string_view category, std::string_view level);
// Initial level for categories created later (also from SG_LOG_LEVEL).
void set_default_level(spdlog::level::level_enum level);

}  // namespace rserpool::log
