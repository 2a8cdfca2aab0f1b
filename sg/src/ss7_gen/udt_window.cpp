#include "udt_window.hpp"

#include "sg/ss7/sccp.hpp"

namespace sg::ss7gen {

std::vector<MtpMessage> UdtWindow::start(sim::TimePoint now) {
  std::vector<MtpMessage> out;
  out.reserve(config_.window);
  for (unsigned i = 0; i < config_.window && !exhausted(); ++i) out.push_back(query(now));
  return out;
}

MtpMessage UdtWindow::query(sim::TimePoint now) {
  const std::uint32_t seq = seq_++;
  ss7::SccpUnitdata u;
  u.called = {static_cast<std::uint16_t>(config_.dpc & 0x3FFF), 6};
  u.calling = {static_cast<std::uint16_t>(config_.opc & 0x3FFF), 8};
  u.data.assign(config_.payload, 0);
  for (std::size_t i = 0; i < 4; ++i) u.data[i] = static_cast<std::uint8_t>(seq >> (24 - 8 * i));
  MtpMessage m;
  m.opc = config_.opc;
  m.dpc = config_.dpc;
  m.si = kSiSccp;
  m.ni = config_.ni;
  m.sls = static_cast<std::uint8_t>(seq & 0x0F);
  m.data = ss7::encode_udt(u);
  pending_.emplace(seq, now);
  ++stats_.sent;
  return m;
}

std::vector<MtpMessage> UdtWindow::on_message(const MtpMessage& m, sim::TimePoint now) {
  if (m.si != kSiSccp) {
    ++stats_.unexpected;
    return {};
  }
  auto udt = ss7::decode_udt(m.data);
  if (!udt || udt->data.size() < 4) {
    ++stats_.unexpected;
    return {};
  }
  auto it = pending_.find(rserpool::load_u32(udt->data.data()));
  if (it == pending_.end()) {
    ++stats_.unexpected;
    return {};
  }
  stats_.latency.record(now - it->second);
  ++stats_.answered;
  pending_.erase(it);
  if (!sending_ || exhausted()) return {};
  std::vector<MtpMessage> out;
  out.push_back(query(now));
  return out;
}

}  // namespace sg::ss7gen
