#include "pcap_reader.hpp"

#include <fstream>
#include <iterator>

namespace sgtest {
namespace {

std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[3]} << 24);
}

// Returns the offset of the IP header inside a frame for the link type.
std::optional<std::size_t> ip_offset(std::uint32_t linktype, const rserpool::Bytes& f) {
  switch (linktype) {
    case 1:  // Ethernet
      return f.size() >= 14 ? std::optional<std::size_t>(14) : std::nullopt;
    case 113:  // Linux cooked v1
      return f.size() >= 16 ? std::optional<std::size_t>(16) : std::nullopt;
    case 276:  // Linux cooked v2
      return f.size() >= 20 ? std::optional<std::size_t>(20) : std::nullopt;
    case 101:
    case 228:
    case 229:  // raw IP
      return 0;
    default:
      return std::nullopt;
  }
}

void parse_sctp(std::uint32_t frame_no, rserpool::ByteView sctp, std::vector<SctpUserMessage>& out) {
  if (sctp.size() < 12) return;
  const auto src = rserpool::load_u16(&sctp[0]);
  const auto dst = rserpool::load_u16(&sctp[2]);
  std::size_t pos = 12;
  while (pos + 4 <= sctp.size()) {
    const std::uint8_t type = sctp[pos];
    const std::uint8_t flags = sctp[pos + 1];
    const std::uint16_t len = rserpool::load_u16(&sctp[pos + 2]);
    if (len < 4 || pos + len > sctp.size()) return;
    if (type == 0 && len >= 16 && (flags & 0x03) == 0x03) {
      SctpUserMessage m;
      m.frame = frame_no;
      m.src_port = src;
      m.dst_port = dst;
      m.stream = rserpool::load_u16(&sctp[pos + 8]);
      m.ppid = rserpool::load_u32(&sctp[pos + 12]);
      m.payload.assign(sctp.begin() + static_cast<long>(pos) + 16, sctp.begin() + static_cast<long>(pos) + len);
      out.push_back(std::move(m));
    }
    pos += rserpool::pad4(len);
  }
}

}  // namespace

std::optional<std::vector<SctpUserMessage>> read_sctp_messages(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  const rserpool::Bytes file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.size() < 24 || le32(file.data()) != 0xa1b2c3d4) return std::nullopt;  // little-endian, µs
  const std::uint32_t linktype = le32(&file[20]);
  std::vector<SctpUserMessage> out;
  std::size_t pos = 24;
  std::uint32_t frame_no = 0;
  while (pos + 16 <= file.size()) {
    const std::uint32_t caplen = le32(&file[pos + 8]);
    pos += 16;
    if (pos + caplen > file.size()) break;
    ++frame_no;
    const rserpool::Bytes frame(file.begin() + static_cast<long>(pos), file.begin() + static_cast<long>(pos + caplen));
    pos += caplen;
    auto off = ip_offset(linktype, frame);
    if (!off || *off >= frame.size()) continue;
    const rserpool::ByteView ip(frame.data() + *off, frame.size() - *off);
    const int version = ip[0] >> 4;
    if (version == 4 && ip.size() >= 20 && ip[9] == 132) {
      const std::size_t ihl = std::size_t{ip[0] & 0x0FU} * 4;
      const std::size_t total = rserpool::load_u16(&ip[2]);
      if (ihl >= 20 && total <= ip.size() && total > ihl) parse_sctp(frame_no, ip.subspan(ihl, total - ihl), out);
    } else if (version == 6 && ip.size() >= 40 && ip[6] == 132) {
      const std::size_t payload = rserpool::load_u16(&ip[4]);
      if (40 + payload <= ip.size()) parse_sctp(frame_no, ip.subspan(40, payload), out);
    }
  }
  return out;
}

}  // namespace sgtest
