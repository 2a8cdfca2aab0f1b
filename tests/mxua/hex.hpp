#pragma once
// Bytes as "0a 1b ..." for test failure messages.
#include <string>

#include "mxua/messages.hpp"

namespace mxua::test_bytes {

inline std::string hex(ByteView b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (auto x : b) {
    s += d[x >> 4];
    s += d[x & 15];
    s += ' ';
  }
  return s;
}

}  // namespace mxua::test_bytes
