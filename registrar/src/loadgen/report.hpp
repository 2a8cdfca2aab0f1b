#pragma once
// The one machine-readable result line of rserpool-loadgen.
#include <string>

#include "load_generator.hpp"

namespace rserpool::loadgen {

// key=value pairs separated by spaces, or one JSON object.
std::string format_report(Report& r, const Options& o);

}  // namespace rserpool::loadgen
