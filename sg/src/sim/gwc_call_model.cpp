#include "sg/sim/gwc_call_model.hpp"

#include <algorithm>

#include "sg/ss7/isup.hpp"
#include "sg/ss7/sccp.hpp"

namespace sg::sim {
namespace {

constexpr std::uint8_t kCookieVersion = 1;
// Cookies remembered as adopted: far more than the failover events whose
// repeats can still be in flight (one per data stream each).
constexpr std::size_t kRememberedCookies = 256;

}  // namespace

MtpMessage GwcCallModel::reply(const CircuitId& id, const Call& call, rserpool::Bytes isup) const {
  MtpMessage m;
  m.opc = id.local;
  m.dpc = id.remote;
  m.si = kSiIsup;
  m.ni = call.ni;
  m.sls = call.sls;
  m.data = std::move(isup);
  return m;
}

void GwcCallModel::observe(TimePoint now) {
  if (last_event_ && now - *last_event_ >= config_.stall_bound) {
    resumed_at_ = now;
    ++counters_.stalls;
  }
  if (!last_event_ || now > *last_event_) last_event_ = now;
}

std::size_t GwcCallModel::association_lost(std::uint64_t via, bool abnormal, TimePoint now) {
  observe(now);
  const bool fenced = abnormal && resumed_at_ && now - *resumed_at_ <= config_.fenced_after_stall;
  if (fenced) return give_up_calls_of(via);
  counters_.calls_kept += static_cast<std::uint64_t>(
      std::count_if(calls_.begin(), calls_.end(), [via](const auto& kv) { return kv.second.via == via; }));
  return 0;
}

std::vector<MtpMessage> GwcCallModel::on_message(const MtpMessage& m, TimePoint now, std::uint64_t via) {
  observe(now);
  std::vector<MtpMessage> out;
  if (m.si == kSiSccp) {
    // Answer a query by returning it to its caller.
    if (auto udt = ss7::decode_udt(m.data)) {
      std::swap(udt->called, udt->calling);
      MtpMessage r;
      r.opc = m.dpc;
      r.dpc = m.opc;
      r.si = kSiSccp;
      r.ni = m.ni;
      r.sls = m.sls;
      r.data = ss7::encode_udt(*udt);
      out.push_back(std::move(r));
      ++counters_.sccp_answered;
    }
    return out;
  }
  if (m.si != kSiIsup) return out;
  auto h = ss7::parse_isup_header(m.data, config_.isup_variant);
  if (!h) {
    ++counters_.unknown_call_messages;
    return out;
  }
  const CircuitId id{m.opc, m.dpc, h->cic};
  auto it = calls_.find(id);
  using T = ss7::IsupMessageType;
  switch (static_cast<T>(h->message_type)) {
    case T::iam: {
      ++counters_.calls_offered;
      if (it != calls_.end()) ++counters_.ordering_violations;  // seized twice: lost release or reordering
      Call call;
      call.answer_at = now + config_.answer_delay;
      call.ni = m.ni;
      call.sls = m.sls;
      call.via = via;
      calls_[id] = call;
      out.push_back(reply(id, call, ss7::encode_acm(h->cic)));
      break;
    }
    case T::rel: {
      Call call;
      call.ni = m.ni;
      call.sls = m.sls;
      if (it != calls_.end()) {
        call = it->second;
        calls_.erase(it);
        ++counters_.calls_released;
        remember_released(id, now);
      } else if (auto r = released_.find(id); r != released_.end() && r->second + config_.released_memory > now) {
        ++counters_.repeated_releases;
      } else {
        ++counters_.unknown_call_messages;
      }
      // Q.764: a release is always completed, known call or not.
      out.push_back(reply(id, call, ss7::encode_rlc(h->cic)));
      break;
    }
    case T::rlc:
      // We never release first, so an RLC means someone else's call.
      ++counters_.unknown_call_messages;
      break;
    default:
      if (it == calls_.end())
        ++counters_.unknown_call_messages;
      else
        it->second.via = via;
      break;
  }
  return out;
}

void GwcCallModel::remember_released(const CircuitId& id, TimePoint now) {
  // Bounded: expired entries and, beyond the cap, the oldest go first. An
  // entry re-remembered later keeps its newest time in released_; its
  // older queue entries are skipped when they come up.
  while (!released_order_.empty() && (released_order_.front().first + config_.released_memory <= now ||
                                      released_order_.size() >= config_.released_memory_max)) {
    const auto& [when, old] = released_order_.front();
    if (auto r = released_.find(old); r != released_.end() && r->second == when) released_.erase(r);
    released_order_.pop_front();
  }
  released_[id] = now;
  released_order_.emplace_back(now, id);
}

std::vector<MtpMessage> GwcCallModel::on_timeout(TimePoint now) {
  observe(now);
  std::vector<MtpMessage> out;
  for (auto& [id, call] : calls_) {
    if (call.state == CallState::ringing && call.answer_at <= now) {
      call.state = CallState::answered;
      ++counters_.calls_answered;
      out.push_back(reply(id, call, ss7::encode_anm(id.cic)));
    }
  }
  return out;
}

std::optional<std::uint64_t> GwcCallModel::via_of(const MtpMessage& reply) const {
  if (reply.si != kSiIsup) return std::nullopt;
  auto h = ss7::parse_isup_header(reply.data, config_.isup_variant);
  if (!h) return std::nullopt;
  // Our replies go from the point code we serve to the caller's.
  auto it = calls_.find(CircuitId{reply.dpc, reply.opc, h->cic});
  if (it == calls_.end()) return std::nullopt;
  return it->second.via;
}

std::size_t GwcCallModel::give_up_calls_of(std::uint64_t via) {
  const auto n = std::erase_if(calls_, [via](const auto& kv) { return kv.second.via == via; });
  counters_.calls_given_up += n;
  return n;
}

std::optional<TimePoint> GwcCallModel::next_deadline() const {
  std::optional<TimePoint> next;
  // The stall watch: an event at least every half stall_bound.
  if (last_event_) next = *last_event_ + config_.stall_bound / 2;
  for (const auto& [id, call] : calls_)
    if (call.state == CallState::ringing && (!next || call.answer_at < *next)) next = call.answer_at;
  return next;
}

std::uint64_t GwcCallModel::sign(rserpool::ByteView body) const {
  // FNV-1a keyed with the pool secret: detects cookies from another pool or
  // corrupted ones. It is not a cryptographic MAC; see docs.
  std::uint64_t h = 0xcbf29ce484222325ULL ^ config_.cookie_secret;
  for (auto b : body) {
    h ^= b;
    h *= 0x100000001b3ULL;
  }
  return h;
}

rserpool::Bytes GwcCallModel::make_cookie() const {
  rserpool::Bytes body;
  rserpool::ByteWriter w(body);
  w.u8(kCookieVersion);
  w.u32(static_cast<std::uint32_t>(calls_.size()));
  for (const auto& [id, call] : calls_) {
    w.u32(id.remote);
    w.u32(id.local);
    w.u16(id.cic);
    w.u8(static_cast<std::uint8_t>(call.state));
    w.u8(call.ni);
    w.u8(call.sls);
  }
  const auto mac = sign(body);
  w.u32(static_cast<std::uint32_t>(mac >> 32));
  w.u32(static_cast<std::uint32_t>(mac));
  return body;
}

rserpool::Result<std::size_t, CookieError> GwcCallModel::adopt_cookie(rserpool::ByteView cookie, TimePoint now,
                                                                      std::uint64_t via) {
  observe(now);
  if (cookie.size() < 1 + 4 + 8) return rserpool::unexpected(CookieError::truncated);
  const auto body = cookie.first(cookie.size() - 8);
  const auto mac = (std::uint64_t{rserpool::load_u32(&cookie[body.size()])} << 32) |
                   rserpool::load_u32(&cookie[body.size() + 4]);
  if (mac != sign(body)) {
    ++counters_.cookies_rejected;
    return rserpool::unexpected(CookieError::bad_signature);
  }
  rserpool::ByteReader r(body);
  if (r.u8() != kCookieVersion) return rserpool::unexpected(CookieError::bad_version);
  const std::uint32_t n = r.u32();
  if (std::uint64_t{n} * 13 != r.remaining()) return rserpool::unexpected(CookieError::truncated);
  // The signature covers the whole table: equal signatures, same cookie.
  if (std::find(adopted_signatures_.begin(), adopted_signatures_.end(), mac) != adopted_signatures_.end()) {
    ++counters_.duplicate_cookies;
    return std::size_t{0};
  }
  adopted_signatures_.push_back(mac);
  if (adopted_signatures_.size() > kRememberedCookies) adopted_signatures_.pop_front();
  std::size_t adopted = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    CircuitId id;
    id.remote = r.u32();
    id.local = r.u32();
    id.cic = r.u16();
    Call call;
    call.state = r.u8() == 2 ? CallState::answered : CallState::ringing;
    call.ni = r.u8();
    call.sls = r.u8();
    call.answer_at = now;  // a ringing call is answered by its new controller now
    call.via = via;
    if (calls_.emplace(id, call).second) ++adopted;
  }
  counters_.adopted_calls += adopted;
  return adopted;
}

}  // namespace sg::sim
