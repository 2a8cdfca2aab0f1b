#pragma once
// A receiving core's verdict on one DATA (RFC 4666 3.3.1, 4.3.4.3), decided
// once: delivered (with the Routing Context its indication names), or
// refused, with the drop reason it is counted under and the ERR, if any,
// that answers it. handle_data() turns a verdict into actions; the
// receive_data_now() shortcut reads the same verdict and takes only an
// accepted one, so the two cannot disagree on what is delivered.
#include <cstdint>
#include <optional>

#include "mxua/codec.hpp"
#include "mxua/fsm/actions.hpp"

namespace mxua {

struct DataRefusal {
  DropReason drop = DropReason::NotActive;
  std::optional<ErrorCode> err;  // nothing: dropped without an ERR
  bool err_quotes = true;        // the ERR's Diagnostic Information holds the DATA's first bytes
  bool err_names_rc = false;     // the ERR carries the DATA's Routing Context
  bool err_names_na = false;     // the ERR carries the DATA's Network Appearance

  // Dropped, answered with ERR `e` when there is one.
  static DataRefusal because(DropReason r, std::optional<ErrorCode> e = std::nullopt) noexcept {
    DataRefusal x;
    x.drop = r;
    x.err = e;
    return x;
  }
  DataRefusal naming_rc() const noexcept {
    DataRefusal x = *this;
    x.err_names_rc = true;
    return x;
  }
  DataRefusal naming_na() const noexcept {
    DataRefusal x = *this;
    x.err_names_na = true;
    return x;
  }
  DataRefusal unquoted() const noexcept {
    DataRefusal x = *this;
    x.err_quotes = false;
    return x;
  }
};

struct DataVerdict {
  bool accepted = false;
  std::uint32_t routing_context = 0;  // accepted: the indication's RC
  DataRefusal refusal;                // not accepted: why

  static DataVerdict deliver(std::uint32_t rc) noexcept { return DataVerdict{true, rc, {}}; }
  static DataVerdict refuse(DataRefusal r) noexcept { return DataVerdict{false, 0, r}; }
};

// The ERR a refusal answers with (when it has one), for the DATA `d`
// received as `raw`.
inline Err refusal_err(const DataRefusal& r, const DataView& d, ByteView raw) {
  Err e = make_err(r.err.value_or(ErrorCode::UnexpectedMessage), r.err_quotes ? raw : ByteView{});
  if (r.err_names_rc && d.routing_context) e.routing_contexts.push_back(*d.routing_context);
  if (r.err_names_na) e.network_appearance = d.network_appearance;
  return e;
}

}  // namespace mxua
