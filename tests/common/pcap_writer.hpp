#pragma once
// Writes a classic pcap file of Ethernet/IPv4 frames that carry our
// encodings either as SCTP DATA chunks (with PPID and stream) or as UDP
// datagrams, so tshark can be asked to decode exactly what our codecs emit.
// SCTP checksums are left zero: tshark does not verify them by default.
#include <cstdint>
#include <fstream>
#include <string>

#include "rserpool/base/bytes.hpp"

namespace sgtest {

class PcapWriter {
 public:
  explicit PcapWriter(const std::string& path);
  bool ok() const { return out_.good(); }

  // One SCTP packet holding one complete (B+E) DATA chunk.
  void sctp_data(std::uint16_t src_port, std::uint16_t dst_port, std::uint32_t ppid, std::uint16_t stream,
                 rserpool::ByteView payload);
  void udp(std::uint16_t src_port, std::uint16_t dst_port, rserpool::ByteView payload);

 private:
  void ipv4_frame(std::uint8_t protocol, const rserpool::Bytes& l4);
  std::ofstream out_;
  std::uint32_t tsn_ = 1;
  std::uint16_t ssn_ = 0;
  std::uint32_t frames_ = 0;
};

}  // namespace sgtest
