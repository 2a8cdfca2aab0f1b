#pragma once
// Driving an io_context from a test: bounded runs, and the transport the
// test binary was registered for (SG_TEST_TRANSPORT=sctp inside UML, the TCP
// mapping otherwise). Header-only: the tests that use it already link Asio
// and rserpool_transport.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <string_view>

#include "rserpool/transport/config.hpp"

namespace sgtest {

inline bool sctp_backend() {
  const char* v = std::getenv("SG_TEST_TRANSPORT");
  return v != nullptr && std::string_view(v) == "sctp";
}
inline rserpool::transport::TransportKind backend() {
  return sctp_backend() ? rserpool::transport::TransportKind::sctp : rserpool::transport::TransportKind::tcp;
}

// Runs `io` until `done()` or the limit; true when done. A test descheduled
// past its deadline (a loaded CI machine) still gets the loop run once more
// and the condition re-checked before it is told "no": the limit bounds the
// wait, it never decides the outcome on its own.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      io.poll();
      io.restart();
      return done();
    }
    io.run_for(std::chrono::milliseconds(2));
    io.restart();
  }
  return true;
}
inline void run_for(boost::asio::io_context& io, std::chrono::milliseconds d) {
  run_until(io, [] { return false; }, d);
}

}  // namespace sgtest
