#include "mxua/codec.hpp"

namespace mxua {

std::optional<Err> make_error_reply(const M3uaError& e) {
  // RFC 4666 3.8.1: an ERR is never answered with an ERR.
  if (e.offender_is_err) return std::nullopt;
  Err err;
  err.code = e.code;
  if (e.code == ErrorCode::InvalidNetworkAppearance) err.network_appearance = e.network_appearance;
  // Mandatory for class/type errors, and useful to the peer for the others.
  if (!e.diagnostic.empty()) err.diagnostic = e.diagnostic;
  return err;
}

Err make_err(ErrorCode code, ByteView offending) {
  Err err;
  err.code = code;
  if (!offending.empty()) {
    const auto n = offending.size() < kDiagnosticBytes ? offending.size() : kDiagnosticBytes;
    err.diagnostic = Bytes(offending.begin(), offending.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return err;
}

}  // namespace mxua
