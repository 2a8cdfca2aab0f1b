// rserpool-loadgen: ASAP load against a registrar (ours or rspregistrar).
// Prints progress lines "phase=..." and one final result line; exit status
// 0 when every request was answered positively, 1 otherwise, 2 on usage.
#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "load_generator.hpp"
#include "options.hpp"
#include "report.hpp"
#include "rserpool/base/log.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& a : args) {
    if (a == "-h" || a == "--help") {
      std::cout << rserpool::loadgen::usage();
      return 0;
    }
  }
  auto opts = rserpool::loadgen::parse_options(args);
  if (!opts) {
    std::cerr << "rserpool-loadgen: " << opts.error() << "\n" << rserpool::loadgen::usage();
    return 2;
  }
  if (!std::getenv("SG_LOG_LEVEL")) rserpool::log::set_default_level(spdlog::level::warn);
  boost::asio::io_context io;
  rserpool::loadgen::LoadGenerator gen(io, opts.value());
  auto& report = gen.run();
  std::cout << rserpool::loadgen::format_report(report, opts.value()) << std::endl;
  return report.ok ? 0 : 1;
}
