#include "rserpool/ops/ports_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace rserpool::ops {

Result<void, std::string> write_ports_file(const std::string& path, const BoundPorts& ports) {
  // Same directory as the target, so rename() is atomic (one file system).
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return unexpected(tmp + ": " + std::strerror(errno));
  bool ok = true;
  for (const auto& [name, port] : ports) ok = ok && std::fprintf(f, "%s %u\n", name.c_str(), unsigned{port}) > 0;
  ok = ok && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const int saved = errno;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    return unexpected(tmp + ": " + std::strerror(saved != 0 ? saved : errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    return unexpected(path + ": " + std::strerror(e));
  }
  return {};
}

}  // namespace rserpool::ops
