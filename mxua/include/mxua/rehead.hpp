#pragma once
// Relaying a DATA without decoding and re-encoding it (issue 16).
#include <cstdint>
#include <optional>

#include "mxua/messages.hpp"

namespace mxua {

// Re-heads a received DATA in place: `frame` holds the message `d` was
// decoded from (decode_data(); d borrows its user data from frame). The
// Protocol Data parameter stays in frame (moved only when the new header is
// longer or shorter than the old one, never copied out), a new common
// header with Network Appearance `na` and Routing Context `rc` is written in
// front of it and d's Correlation ID, if any, after it. The result is byte
// for byte what encode_data() writes for d with `na` and `rc` (the OPC's and
// DPC's spare octets and the padding zeroed, the length counting the final
// padding). False, frame unchanged, when d does not borrow from frame.
bool rehead_data(Bytes& frame, const DataView& d, std::optional<std::uint32_t> na,
                 std::optional<std::uint32_t> rc);

// Builds the DATA encode_data() writes for `d` in `frame`, which holds d's
// user data somewhere (d borrows it from there): the header, the optional
// parameters and the routing label are written in front of the user data,
// which moves only when it does not already lie right after them (a frame
// that holds the user part alone: it moves back by their length; a DATA
// received with a header of the same length and kept as it lay
// (ProtocolData::user_at): it stays). No second buffer, no copy of the user
// data into one (issue 16: the relay sends the buffer it received the user
// part in). False, frame unchanged, when d's user data does not lie in it.
// d's user data is gone afterwards (its bytes may have moved).
bool encode_data_in_place(const DataView& d, Bytes& frame);

}  // namespace mxua
