#include "pcap_writer.hpp"

namespace sgtest {
namespace {

void le32(std::ofstream& o, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) o.put(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void le16(std::ofstream& o, std::uint16_t v) {
  o.put(static_cast<char>(v & 0xFF));
  o.put(static_cast<char>(v >> 8));
}

std::uint16_t ipv4_checksum(const rserpool::Bytes& h) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) sum += rserpool::load_u16(&h[i]);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

}  // namespace

PcapWriter::PcapWriter(const std::string& path) : out_(path, std::ios::binary | std::ios::trunc) {
  le32(out_, 0xa1b2c3d4);  // microsecond pcap, little-endian
  le16(out_, 2);
  le16(out_, 4);
  le32(out_, 0);
  le32(out_, 0);
  le32(out_, 262144);
  le32(out_, 1);  // LINKTYPE_ETHERNET
}

void PcapWriter::sctp_data(std::uint16_t src_port, std::uint16_t dst_port, std::uint32_t ppid,
                           std::uint16_t stream, rserpool::ByteView payload) {
  rserpool::Bytes l4;
  rserpool::ByteWriter w(l4);
  w.u16(src_port);
  w.u16(dst_port);
  w.u32(0x5a5a5a5a);  // verification tag
  w.u32(0);           // checksum, not verified by tshark's default settings
  w.u8(0);            // DATA
  w.u8(0x03);         // B and E: one complete user message
  w.u16(static_cast<std::uint16_t>(16 + payload.size()));
  w.u32(tsn_++);
  w.u16(stream);
  w.u16(ssn_++);
  w.u32(ppid);
  w.bytes(payload);
  w.pad_to_4();
  ipv4_frame(132, l4);
}

void PcapWriter::udp(std::uint16_t src_port, std::uint16_t dst_port, rserpool::ByteView payload) {
  rserpool::Bytes l4;
  rserpool::ByteWriter w(l4);
  w.u16(src_port);
  w.u16(dst_port);
  w.u16(static_cast<std::uint16_t>(8 + payload.size()));
  w.u16(0);  // no UDP checksum (allowed over IPv4)
  w.bytes(payload);
  ipv4_frame(17, l4);
}

void PcapWriter::ipv4_frame(std::uint8_t protocol, const rserpool::Bytes& l4) {
  rserpool::Bytes frame;
  rserpool::ByteWriter w(frame);
  const std::uint8_t dst_mac[6] = {0x02, 0, 0, 0, 0, 2};
  const std::uint8_t src_mac[6] = {0x02, 0, 0, 0, 0, 1};
  w.bytes(rserpool::ByteView(dst_mac, 6));
  w.bytes(rserpool::ByteView(src_mac, 6));
  w.u16(0x0800);
  rserpool::Bytes ip;
  rserpool::ByteWriter iw(ip);
  iw.u8(0x45);
  iw.u8(0);
  iw.u16(static_cast<std::uint16_t>(20 + l4.size()));
  iw.u16(static_cast<std::uint16_t>(frames_));
  iw.u16(0x4000);  // don't fragment
  iw.u8(64);
  iw.u8(protocol);
  iw.u16(0);
  iw.u32(0xC6120001);  // 198.18.0.1 (benchmarking range)
  iw.u32(0xC6120002);  // 198.18.0.2
  iw.patch_u16(10, ipv4_checksum(ip));
  w.bytes(ip);
  w.bytes(l4);

  le32(out_, frames_);  // seconds: one frame per second keeps them ordered
  le32(out_, 0);
  le32(out_, static_cast<std::uint32_t>(frame.size()));
  le32(out_, static_cast<std::uint32_t>(frame.size()));
  out_.write(reinterpret_cast<const char*>(frame.data()), static_cast<std::streamsize>(frame.size()));
  out_.flush();
  ++frames_;
}

}  // namespace sgtest
