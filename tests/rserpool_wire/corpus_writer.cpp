// Writes the fuzz seed corpora: every golden vector and every sample
// message, one file each, under <dir>/fuzz_asap_decode/ and
// <dir>/fuzz_enrp_decode/, plus every ASAP/ENRP message of the rsplib
// capture. Usage: wire_corpus_writer tests/fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "pcap_reader.hpp"
#include "samples.hpp"

namespace {

void write(const std::filesystem::path& dir, const std::string& name, const rserpool::Bytes& b) {
  std::ofstream out(dir / name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
    return 2;
  }
  using namespace wiretest;
  const std::filesystem::path root(argv[1]);
  const auto asap_dir = root / "fuzz_asap_decode";
  const auto enrp_dir = root / "fuzz_enrp_decode";
  std::filesystem::create_directories(asap_dir);
  std::filesystem::create_directories(enrp_dir);
  for (const auto& g : asap_golden()) write(asap_dir, "golden_" + g.name, g.bytes);
  for (const auto& g : enrp_golden()) write(enrp_dir, "golden_" + g.name, g.bytes);
  int i = 0;
  for (const auto& m : asap_samples()) {
    write(asap_dir, "sample_" + std::to_string(i++) + "_" + std::string(asap::to_string(asap::message_type(m))),
          asap::encode(m));
  }
  i = 0;
  for (const auto& m : enrp_samples()) {
    write(enrp_dir, "sample_" + std::to_string(i++) + "_" + std::string(enrp::to_string(enrp::message_type(m))),
          enrp::encode(m));
  }
  // What rsplib 3.4.4 really sends (tests/captures).
  if (auto real = sgtest::read_sctp_messages(std::string(SG_CAPTURES_DIR) + "/rsplib-3.4.4.pcap")) {
    for (const auto& m : *real) {
      if (m.ppid == 11) write(asap_dir, "rsplib_frame_" + std::to_string(m.frame), m.payload);
      if (m.ppid == 12) write(enrp_dir, "rsplib_frame_" + std::to_string(m.frame), m.payload);
    }
  }
  return 0;
}
