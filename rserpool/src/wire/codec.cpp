// Framing shared by ASAP and ENRP: TLV walking, unknown-type rules, the
// common message header, and the error values they produce.
#include "codec.hpp"

#include <algorithm>

namespace rserpool::wire {

std::string_view to_string(DecodeFailure f) noexcept {
  switch (f) {
    case DecodeFailure::truncated: return "truncated";
    case DecodeFailure::bad_length: return "bad length";
    case DecodeFailure::unrecognized_message: return "unrecognized message";
    case DecodeFailure::unrecognized_parameter: return "unrecognized parameter";
    case DecodeFailure::invalid_value: return "invalid value";
    case DecodeFailure::missing_parameter: return "missing parameter";
    case DecodeFailure::unexpected_parameter: return "unexpected parameter";
    case DecodeFailure::limit_exceeded: return "limit exceeded";
  }
  return "unknown";
}

namespace detail {

DecodeError make_error(DecodeFailure f, std::optional<ErrorCause> cause, ByteView offending,
                       std::string_view detail) {
  DecodeError e;
  e.failure = f;
  e.cause = cause;
  e.offending.assign(offending.begin(), offending.end());
  e.detail = detail;
  return e;
}

DecodeError TlvWalker::framing_error(std::size_t left, std::uint16_t length) const {
  if (left < 4) {
    return make_error(DecodeFailure::bad_length, ErrorCause::invalid_values, region_.subspan(pos_),
                      "stray bytes after the last parameter");
  }
  return make_error(DecodeFailure::bad_length, ErrorCause::invalid_values,
                    region_.subspan(pos_, std::min<std::size_t>(left, std::max<std::size_t>(length, 4))),
                    length < 4 ? "parameter length below 4" : "parameter runs past its container");
}

namespace {
bool is_known_parameter(std::uint16_t type) noexcept {
  return type >= static_cast<std::uint16_t>(ParameterType::ipv4_address) &&
         type <= static_cast<std::uint16_t>(ParameterType::opaque_transport);
}
}  // namespace

Status unrecognized_tlv(const Tlv& t, Context& ctx) {
  if (is_known_parameter(t.type)) return unexpected_known(t, "parameter not allowed here");
  switch (unknown_parameter_action(t.type)) {
    case UnknownParameterAction::stop_discard:
      return make_error(DecodeFailure::unrecognized_parameter, std::nullopt, t.whole,
                        "unrecognized parameter (top bits 00)");
    case UnknownParameterAction::stop_discard_report:
      return make_error(DecodeFailure::unrecognized_parameter, ErrorCause::unrecognized_parameter, t.whole,
                        "unrecognized parameter (top bits 01)");
    case UnknownParameterAction::skip:
      return std::nullopt;
    case UnknownParameterAction::skip_report:
      if (ctx.unrecognized != nullptr && ctx.unrecognized->size() < kMaxUnrecognizedReports) {
        ctx.unrecognized->push_back({ErrorCause::unrecognized_parameter, Bytes(t.whole.begin(), t.whole.end())});
      }
      return std::nullopt;
  }
  return std::nullopt;
}

Status single_tlv(ByteView tlv, Tlv& out) {
  if (tlv.size() < 4) return make_error(DecodeFailure::truncated, ErrorCause::invalid_values, tlv, "short TLV");
  const std::uint16_t length = load_u16(tlv.data() + 2);
  if (length < 4 || length > tlv.size() || tlv.size() > pad4(length)) {
    return make_error(DecodeFailure::bad_length, ErrorCause::invalid_values, tlv, "TLV length mismatch");
  }
  out.type = load_u16(tlv.data());
  out.whole = tlv.first(length);
  out.value = out.whole.subspan(4);
  return std::nullopt;
}

Status read_header(ByteView data, Header& out) {
  if (data.size() < 4) {
    return make_error(DecodeFailure::truncated, std::nullopt, {}, "shorter than the message header");
  }
  const std::uint16_t length = load_u16(data.data() + 2);
  out.type = data[0];
  out.flags = data[1];
  Status err;
  if (length < 4) {
    err = make_error(DecodeFailure::bad_length, std::nullopt, {}, "message length below 4");
  } else if (length > data.size()) {
    err = make_error(DecodeFailure::truncated, std::nullopt, {}, "message shorter than its length field");
  } else if (data.size() > pad4(length)) {
    err = make_error(DecodeFailure::bad_length, std::nullopt, {}, "bytes after the message padding");
  }
  if (err) {
    err->message_type = out.type;
    return err;
  }
  out.message = data.first(length);
  out.body = out.message.subspan(4);
  return std::nullopt;
}

DecodeError unrecognized_message(const Header& h) {
  // 01: discard and report. 00: discard silently. 10 and 11 are reserved:
  // we take the quiet choice and send nothing for codepoints nobody defined.
  const bool report = (h.type >> 6) == 0x1;
  DecodeError e = make_error(DecodeFailure::unrecognized_message,
                             report ? std::optional<ErrorCause>{ErrorCause::unrecognized_message} : std::nullopt,
                             h.message, "unrecognized message type");
  e.message_type = h.type;
  return e;
}

Bytes bounded_info(const Bytes& info, std::size_t reply_overhead) {
  const std::size_t room = kMaxMessageSize - reply_overhead;
  if (info.size() <= room) return info;
  return Bytes(info.begin(), info.begin() + static_cast<std::ptrdiff_t>(room));
}

std::vector<OperationErrorCause> bounded_causes(const std::vector<OperationErrorCause>& causes,
                                                std::size_t reply_overhead) {
  std::vector<OperationErrorCause> out;
  std::size_t used = reply_overhead;
  for (const auto& c : causes) {
    const std::size_t size = pad4(4 + c.info.size());
    if (used + size > kMaxMessageSize) break;
    used += size;
    out.push_back(c);
  }
  return out;
}

}  // namespace detail
}  // namespace rserpool::wire
