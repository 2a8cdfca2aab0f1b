#include "sg/sim/ss7_call_generator.hpp"

#include "sg/ss7/isup.hpp"
#include "sg/ss7/sccp.hpp"

namespace sg::sim {
namespace {

rserpool::Duration interval(double per_second) {
  return std::chrono::duration_cast<rserpool::Duration>(std::chrono::duration<double>(1.0 / per_second));
}

}  // namespace

Ss7CallGenerator::Ss7CallGenerator(GeneratorConfig config, TimePoint start)
    : config_(config), next_call_(start), next_sccp_(start) {}

MtpMessage Ss7CallGenerator::to_pool(std::uint16_t cic, rserpool::Bytes isup) const {
  MtpMessage m;
  m.opc = config_.opc;
  m.dpc = config_.dpc;
  m.si = kSiIsup;
  m.ni = config_.ni;
  m.sls = static_cast<std::uint8_t>(cic & 0x0F);  // ISUP: SLS from the CIC's low bits
  m.data = std::move(isup);
  return m;
}

std::optional<std::uint16_t> Ss7CallGenerator::free_circuit() {
  for (std::uint16_t i = 0; i < config_.cic_count; ++i) {
    const auto cic = static_cast<std::uint16_t>(config_.first_cic + (cursor_ + i) % config_.cic_count);
    if (calls_.count(cic) == 0 && repeated_done_.count(cic) == 0) {
      cursor_ = static_cast<std::uint16_t>((cursor_ + i + 1) % config_.cic_count);
      return cic;
    }
  }
  return std::nullopt;
}

std::vector<MtpMessage> Ss7CallGenerator::on_timeout(TimePoint now) {
  std::vector<MtpMessage> out;
  if (originating_ && config_.calls_per_second > 0) {
    const auto step = interval(config_.calls_per_second);
    while (next_call_ <= now) {
      next_call_ += step;
      auto cic = free_circuit();
      if (!cic) {
        ++stats_.calls_blocked;
        continue;
      }
      Call call;
      call.iam_sent = now;
      call.deadline = now + config_.answer_timeout;
      calls_[*cic] = call;
      ++stats_.calls_started;
      out.push_back(to_pool(*cic, ss7::encode_iam(*cic, "4930" + std::to_string(100000 + *cic), "4940123456")));
    }
  }
  if (originating_ && config_.sccp_per_second > 0) {
    const auto step = interval(config_.sccp_per_second);
    while (next_sccp_ <= now) {
      next_sccp_ += step;
      ss7::SccpUnitdata u;
      u.called = {static_cast<std::uint16_t>(config_.dpc & 0x3FFF), 6};
      u.calling = {static_cast<std::uint16_t>(config_.opc & 0x3FFF), 8};
      const std::uint32_t seq = sccp_seq_++;
      u.data = {static_cast<std::uint8_t>(seq >> 24), static_cast<std::uint8_t>(seq >> 16),
                static_cast<std::uint8_t>(seq >> 8), static_cast<std::uint8_t>(seq)};
      MtpMessage m;
      m.opc = config_.opc;
      m.dpc = config_.dpc;
      m.si = kSiSccp;
      m.ni = config_.ni;
      m.sls = static_cast<std::uint8_t>(seq & 0x0F);
      m.data = ss7::encode_udt(u);
      sccp_pending_[seq] = now;
      ++stats_.sccp_sent;
      out.push_back(std::move(m));
    }
  }
  for (auto it = calls_.begin(); it != calls_.end();) {
    Call& call = it->second;
    if (call.deadline > now) {
      ++it;
      continue;
    }
    if (call.phase == Phase::answered) {
      call.phase = Phase::releasing;
      call.released = now;
      call.deadline = now + (config_.release_repeat.count() > 0 ? std::min(config_.release_repeat, config_.release_timeout)
                                                                 : config_.release_timeout);
      call.rels = 1;
      out.push_back(to_pool(it->first, ss7::encode_rel(it->first)));
      ++it;
    } else if (call.phase == Phase::releasing && config_.release_repeat.count() > 0 &&
               now < call.released + config_.release_timeout) {
      // T1 expired (Q.764 2.9.6): REL again, T1 restarted.
      ++call.rels;
      call.deadline = std::min(now + config_.release_repeat, call.released + config_.release_timeout);
      ++stats_.releases_repeated;
      out.push_back(to_pool(it->first, ss7::encode_rel(it->first)));
      ++it;
    } else {
      ++stats_.calls_failed;  // no answer, or no release complete
      if (config_.record_failures) failed_circuits_.push_back(it->first);
      it = calls_.erase(it);
    }
  }
  for (auto it = repeated_done_.begin(); it != repeated_done_.end();) {
    if (it->second.completed + config_.release_timeout <= now) it = repeated_done_.erase(it);
    else ++it;
  }
  // Queries unanswered for as long as a call may wait count as lost.
  for (auto it = sccp_pending_.begin(); it != sccp_pending_.end();) {
    if (it->second + config_.answer_timeout <= now) it = sccp_pending_.erase(it);
    else ++it;
  }
  stats_.messages_sent += out.size();
  return out;
}

std::vector<MtpMessage> Ss7CallGenerator::on_message(const MtpMessage& m, TimePoint now) {
  ++stats_.messages_received;
  if (m.si == kSiSccp) {
    auto udt = ss7::decode_udt(m.data);
    if (!udt || udt->data.size() < 4) {
      ++stats_.unexpected_messages;
      return {};
    }
    const std::uint32_t seq = rserpool::load_u32(udt->data.data());
    auto it = sccp_pending_.find(seq);
    if (it == sccp_pending_.end()) {
      ++stats_.unexpected_messages;
      return {};
    }
    stats_.sccp_latency.record(now - it->second);
    ++stats_.sccp_answered;
    sccp_pending_.erase(it);
    return {};
  }
  auto h = ss7::parse_isup_header(m.data, config_.isup_variant);
  if (m.si != kSiIsup || !h) {
    ++stats_.unexpected_messages;
    return {};
  }
  auto it = calls_.find(h->cic);
  if (it == calls_.end()) {
    // The RLC of a REL that was repeated: each REL is answered. Expected,
    // as many times as RELs were sent beyond the one completed.
    if (static_cast<ss7::IsupMessageType>(h->message_type) == ss7::IsupMessageType::rlc) {
      if (auto done = repeated_done_.find(h->cic); done != repeated_done_.end()) {
        if (--done->second.rlcs_due == 0) repeated_done_.erase(done);
        ++stats_.repeated_rlc;
        return {};
      }
    }
    ++stats_.unexpected_messages;
    return {};
  }
  Call& call = it->second;
  using T = ss7::IsupMessageType;
  switch (static_cast<T>(h->message_type)) {
    case T::acm:
      if (call.phase == Phase::setup) {
        call.phase = Phase::ringing;
      } else if (call.answered_before_acm) {
        // The ACM the ANM overtook: discarded (Q.764 2.1.7), counted apart.
        call.answered_before_acm = false;
        ++stats_.reordered_messages;
      } else {
        ++stats_.unexpected_messages;
      }
      break;
    case T::anm:
      if (call.phase == Phase::setup || call.phase == Phase::ringing) {
        // Q.764 2.1.7: an ANM in the wait-for-ACM state answers the call.
        call.answered_before_acm = call.phase == Phase::setup;
        call.phase = Phase::answered;
        call.deadline = now + config_.hold_time;
        stats_.answer_latency.record(now - call.iam_sent);
      } else {
        ++stats_.unexpected_messages;
      }
      break;
    case T::rlc:
      if (call.phase == Phase::releasing) {
        ++stats_.calls_completed;
        if (call.rels > 1) repeated_done_[h->cic] = RepeatedDone{now, call.rels - 1};
        calls_.erase(it);
      } else {
        ++stats_.unexpected_messages;
      }
      break;
    case T::rel: {
      // The far end released: complete it.
      calls_.erase(it);
      ++stats_.calls_failed;
      if (config_.record_failures) failed_circuits_.push_back(h->cic);
      ++stats_.messages_sent;
      return {to_pool(h->cic, ss7::encode_rlc(h->cic))};
    }
    default:
      ++stats_.unexpected_messages;
      break;
  }
  return {};
}

std::optional<TimePoint> Ss7CallGenerator::next_deadline() const {
  std::optional<TimePoint> next;
  auto consider = [&](TimePoint t) {
    if (!next || t < *next) next = t;
  };
  if (originating_ && config_.calls_per_second > 0) consider(next_call_);
  if (originating_ && config_.sccp_per_second > 0) consider(next_sccp_);
  for (const auto& [cic, call] : calls_) consider(call.deadline);
  for (const auto& [seq, sent] : sccp_pending_) consider(sent + config_.answer_timeout);
  return next;
}

}  // namespace sg::sim
