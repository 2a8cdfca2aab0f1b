// ENRP message codec (RFC 5353 section 2, T flag from
// draft-dreibholz-rserpool-enrp-takeover).
#include "rserpool/wire/enrp.hpp"

#include <type_traits>

#include "codec.hpp"
#include "fields.hpp"

namespace rserpool::wire::enrp {

using namespace detail;

std::string_view to_string(MessageType t) noexcept {
  switch (t) {
    case MessageType::presence: return "ENRP_PRESENCE";
    case MessageType::handle_table_request: return "ENRP_HANDLE_TABLE_REQUEST";
    case MessageType::handle_table_response: return "ENRP_HANDLE_TABLE_RESPONSE";
    case MessageType::handle_update: return "ENRP_HANDLE_UPDATE";
    case MessageType::list_request: return "ENRP_LIST_REQUEST";
    case MessageType::list_response: return "ENRP_LIST_RESPONSE";
    case MessageType::init_takeover: return "ENRP_INIT_TAKEOVER";
    case MessageType::init_takeover_ack: return "ENRP_INIT_TAKEOVER_ACK";
    case MessageType::takeover_server: return "ENRP_TAKEOVER_SERVER";
    case MessageType::error: return "ENRP_ERROR";
  }
  return "ENRP_UNKNOWN";
}

static_assert(std::variant_size_v<Message> == 10 && std::is_same_v<std::variant_alternative_t<0, Message>, Presence> &&
                  std::is_same_v<std::variant_alternative_t<9, Message>, Error>,
              "Message alternatives must stay in type-code order");

MessageType message_type(const Message& m) noexcept {
  // The variant lists the messages in type-code order, 0x01 first.
  return static_cast<MessageType>(m.index() + 1);
}

ServerIdentifier sender_id(const Message& m) noexcept {
  return std::visit([](const auto& msg) { return msg.sender_id; }, m);
}

namespace {

std::uint8_t flags(const Message& m) {
  if (const auto* p = std::get_if<Presence>(&m)) return p->reply_required ? kReplyRequiredFlag : 0;
  if (const auto* r = std::get_if<HandleTableRequest>(&m)) return r->own_children_only ? kOwnChildrenOnlyFlag : 0;
  if (const auto* r = std::get_if<HandleTableResponse>(&m)) {
    return static_cast<std::uint8_t>((r->more_to_send ? kMoreToSendFlag : 0) | (r->rejected ? kRejectFlag : 0));
  }
  if (const auto* u = std::get_if<HandleUpdate>(&m)) return u->takeover_suggested ? kTakeoverSuggestedFlag : 0;
  if (const auto* l = std::get_if<ListResponse>(&m)) return l->rejected ? kRejectFlag : 0;
  return 0;
}

void put_body(Encoder& e, const Presence& m) {
  put_pe_checksum(e, m.pe_checksum);
  if (m.server_information) put_server_information(e, *m.server_information);
}
void put_body(Encoder&, const HandleTableRequest&) {}
void put_body(Encoder& e, const HandleTableResponse& m) {
  for (const auto& pool : m.pools) {
    put_pool_handle(e, pool.pool_handle);
    for (const auto& pe : pool.pool_elements) put_pool_element(e, pe);
  }
}
void put_body(Encoder& e, const HandleUpdate& m) {
  e.u16(static_cast<std::uint16_t>(m.action));
  e.u16(0);  // reserved
  put_pool_handle(e, m.pool_handle);
  put_pool_element(e, m.pool_element);
}
void put_body(Encoder&, const ListRequest&) {}
void put_body(Encoder& e, const ListResponse& m) {
  for (const auto& s : m.servers) put_server_information(e, s);
}
void put_body(Encoder& e, const InitTakeover& m) { e.u32(m.target_id); }
void put_body(Encoder& e, const InitTakeoverAck& m) { e.u32(m.target_id); }
void put_body(Encoder& e, const TakeoverServer& m) { e.u32(m.target_id); }
void put_body(Encoder& e, const Error& m) { put_operation_error(e, m.causes); }

}  // namespace

void encode_into(const Message& m, Bytes& out) {
  Encoder e(out);
  const auto start = e.begin_message(static_cast<std::uint8_t>(message_type(m)), flags(m));
  std::visit(
      [&](const auto& msg) {
        e.u32(msg.sender_id);
        e.u32(msg.receiver_id);
        put_body(e, msg);
      },
      m);
  e.end_message(start);
}

Bytes encode(const Message& m) {
  Bytes out;
  out.reserve(128);
  encode_into(m, out);
  return out;
}

namespace {

namespace al = detail::allow;

constexpr std::uint16_t code(ParameterType t) { return static_cast<std::uint16_t>(t); }

// Pool entries: each Pool Handle is followed by one or more PEs of that pool.
Status decode_pool_entries(ByteView region, Context& ctx, std::vector<PoolEntry>& out) {
  TlvWalker walker(region);
  Tlv t;
  while (walker.next(t)) {
    if (t.type == code(ParameterType::pool_handle)) {
      if (!out.empty() && out.back().pool_elements.empty()) return invalid(t.whole, "pool handle without a PE");
      PoolEntry entry;
      if (auto e = decode_pool_handle(t, entry.pool_handle)) return e;
      out.push_back(std::move(entry));
    } else if (t.type == code(ParameterType::pool_element)) {
      if (out.empty()) return unexpected_known(t, "pool element before any pool handle");
      if (auto e = decode_pool_element(t, ctx, out.back().pool_elements.emplace_back())) return e;
    } else if (auto e = unrecognized_tlv(t, ctx)) {
      return e;
    }
  }
  if (walker.error()) return walker.error();
  if (!out.empty() && out.back().pool_elements.empty()) return missing("pool handle without a PE");
  return std::nullopt;
}

Status decode_body(const Header& h, ServerIdentifier sender, ServerIdentifier receiver, ByteView body, Context& ctx,
                   Message& out) {
  switch (static_cast<MessageType>(h.type)) {
    case MessageType::presence: {
      Fields f;
      if (auto e = collect(body, al::pe_checksum | al::server_information, ctx, f)) return e;
      if (!f.pe_checksum) return missing("PE checksum missing");
      Presence m{sender, receiver, (h.flags & kReplyRequiredFlag) != 0, *f.pe_checksum, std::nullopt};
      if (!f.servers.empty()) m.server_information = std::move(f.servers.front());
      out = std::move(m);
      return std::nullopt;
    }
    case MessageType::handle_table_request: {
      Fields f;
      if (auto e = collect(body, 0, ctx, f)) return e;
      out = HandleTableRequest{sender, receiver, (h.flags & kOwnChildrenOnlyFlag) != 0};
      return std::nullopt;
    }
    case MessageType::handle_table_response: {
      HandleTableResponse m{sender, receiver, (h.flags & kMoreToSendFlag) != 0, (h.flags & kRejectFlag) != 0, {}};
      if (auto e = decode_pool_entries(body, ctx, m.pools)) return e;
      out = std::move(m);
      return std::nullopt;
    }
    case MessageType::handle_update: {
      if (body.size() < 4) return make_error(DecodeFailure::truncated, std::nullopt, {}, "handle update too short");
      const std::uint16_t action = load_u16(body.data());
      if (action > static_cast<std::uint16_t>(UpdateAction::del_pe)) {
        return make_error(DecodeFailure::invalid_value, ErrorCause::invalid_values, {}, "unknown update action");
      }
      Fields f;
      if (auto e = collect(body.subspan(4), al::pool_handle | al::pool_element, ctx, f)) return e;
      if (!f.pool_handle) return missing("pool handle missing");
      if (!f.pool_element) return missing("pool element missing");
      out = HandleUpdate{sender,
                         receiver,
                         (h.flags & kTakeoverSuggestedFlag) != 0,
                         static_cast<UpdateAction>(action),
                         std::move(*f.pool_handle),
                         std::move(*f.pool_element)};
      return std::nullopt;
    }
    case MessageType::list_request: {
      Fields f;
      if (auto e = collect(body, 0, ctx, f)) return e;
      out = ListRequest{sender, receiver};
      return std::nullopt;
    }
    case MessageType::list_response: {
      Fields f;
      if (auto e = collect(body, al::server_informations, ctx, f)) return e;
      out = ListResponse{sender, receiver, (h.flags & kRejectFlag) != 0, std::move(f.servers)};
      return std::nullopt;
    }
    case MessageType::init_takeover:
    case MessageType::init_takeover_ack:
    case MessageType::takeover_server: {
      if (body.size() < 4) {
        return make_error(DecodeFailure::truncated, std::nullopt, {}, "takeover message without target");
      }
      const ServerIdentifier target = load_u32(body.data());
      Fields f;
      if (auto e = collect(body.subspan(4), 0, ctx, f)) return e;
      if (h.type == static_cast<std::uint8_t>(MessageType::init_takeover)) {
        out = InitTakeover{sender, receiver, target};
      } else if (h.type == static_cast<std::uint8_t>(MessageType::init_takeover_ack)) {
        out = InitTakeoverAck{sender, receiver, target};
      } else {
        out = TakeoverServer{sender, receiver, target};
      }
      return std::nullopt;
    }
    case MessageType::error: {
      Fields f;
      if (auto e = collect(body, al::operation_error, ctx, f)) return e;
      if (!f.has_error) return missing("operation error missing");
      out = Error{sender, receiver, std::move(f.error)};
      return std::nullopt;
    }
  }
  return unrecognized_message(h);
}

}  // namespace

Result<Decoded<Message>, DecodeError> decode(ByteView data) {
  Header h;
  if (auto e = read_header(data, h)) return unexpected(std::move(*e));
  const bool known = h.type >= static_cast<std::uint8_t>(MessageType::presence) &&
                     h.type <= static_cast<std::uint8_t>(MessageType::error);
  if (!known) return unexpected(unrecognized_message(h));
  if (h.body.size() < 8) {
    auto e = make_error(DecodeFailure::truncated, std::nullopt, {}, "ENRP message without server identifiers");
    e.message_type = h.type;
    return unexpected(std::move(e));
  }
  Decoded<Message> d;
  Context ctx{&d.unrecognized, 0};
  if (auto e = decode_body(h, load_u32(h.body.data()), load_u32(h.body.data() + 4), h.body.subspan(8), ctx,
                           d.message)) {
    e->message_type = h.type;
    return unexpected(std::move(*e));
  }
  return d;
}

std::optional<Error> error_reply(const DecodeError& e, ServerIdentifier own_id, ServerIdentifier peer_id) {
  if (e.silent() || e.message_type == static_cast<std::uint8_t>(MessageType::error)) return std::nullopt;
  // Header + server IDs + Operation Error header + cause header.
  constexpr std::size_t overhead = 4 + 8 + 4 + 4;
  return Error{own_id, peer_id, {OperationErrorCause{*e.cause, bounded_info(e.offending, overhead)}}};
}

std::optional<Error> error_reply(const Decoded<Message>& d, ServerIdentifier own_id) {
  if (d.unrecognized.empty() || std::holds_alternative<Error>(d.message)) return std::nullopt;
  auto causes = bounded_causes(d.unrecognized, 4 + 8 + 4);
  if (causes.empty()) return std::nullopt;
  return Error{own_id, sender_id(d.message), std::move(causes)};
}

}  // namespace rserpool::wire::enrp
