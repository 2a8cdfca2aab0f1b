#include "pool_memory.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "sg/routing/rendezvous.hpp"

namespace sg::gateway {
namespace {

std::string hex_of(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

std::optional<std::string> bytes_of(const std::string& hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

}  // namespace

RememberedList remembered_of(const Membership& m) {
  RememberedList out;
  m.for_each([&](const rserpool::PoolElementParameter& pe, bool /*drained*/) {
    out[pe.id] = rendezvous_weight(&pe.policy);
  });
  return out;
}

rserpool::Result<RememberedPools, std::string> read_pool_memory(const std::string& path) {
  RememberedPools pools;
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return pools;
    return rserpool::unexpected(path + ": " + std::strerror(errno));
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string pool_hex, id_hex;
    std::uint64_t weight = 0;
    auto pool = (words >> pool_hex >> id_hex >> weight) ? bytes_of(pool_hex) : std::nullopt;
    char* end = nullptr;
    const unsigned long id = id_hex.empty() ? 0 : std::strtoul(id_hex.c_str(), &end, 16);
    std::string rest;
    if (!pool || pool->empty() || id_hex.size() > 8 || !end || *end != '\0' || weight > UINT32_MAX || (words >> rest))
      return rserpool::unexpected(path + ":" + std::to_string(number) + ": not `POOL_HEX PE_ID_HEX WEIGHT`");
    pools[*pool][static_cast<rserpool::PeIdentifier>(id)] = static_cast<std::uint32_t>(weight);
  }
  return pools;
}

rserpool::Result<void, std::string> write_pool_memory(const std::string& path, const RememberedPools& pools) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return rserpool::unexpected(tmp + ": " + std::strerror(errno));
    out << "# sgd: each pool's PE list at its last change (pool handle in hex, PE id, rendezvous weight)\n";
    for (const auto& [pool, list] : pools)
      for (const auto& [id, weight] : list) {
        char pe[16];
        std::snprintf(pe, sizeof pe, "%08x", id);
        out << hex_of(pool) << " " << pe << " " << weight << "\n";
      }
    out.flush();
    if (!out) return rserpool::unexpected(tmp + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return rserpool::unexpected(path + ": " + std::strerror(errno));
  return {};
}

}  // namespace sg::gateway
