#pragma once
// Reads the SCTP user messages out of a classic pcap file (as written by
// `dumpcap -P` or our PcapWriter): Ethernet or Linux cooked (SLL) framing,
// IPv4 or IPv6, every DATA chunk that is a complete (B+E) user message.
// Used to feed captures of real peers (rsplib, osmo-stp) to our decoders.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rserpool/base/bytes.hpp"

namespace sgtest {

struct SctpUserMessage {
  std::uint32_t frame = 0;  // 1-based frame number, as tshark counts
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t ppid = 0;
  std::uint16_t stream = 0;
  rserpool::Bytes payload;
};

// nullopt when the file is missing or is not a classic pcap we understand.
std::optional<std::vector<SctpUserMessage>> read_sctp_messages(const std::string& path);

}  // namespace sgtest
