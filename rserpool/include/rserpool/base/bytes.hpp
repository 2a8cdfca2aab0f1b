#pragma once
// Bounds-checked big-endian reading and writing, shared by every wire codec
// (ASAP, ENRP, M3UA, the TCP mapping). Readers never throw and never read
// past the end: a short read sets the reader's failed flag and returns 0.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace rserpool {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

constexpr std::size_t pad4(std::size_t n) noexcept { return (n + 3U) & ~std::size_t{3}; }

class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : out_(out) {}

  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) {
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
    out_.push_back(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void bytes(ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void bytes(std::string_view s) { out_.insert(out_.end(), s.begin(), s.end()); }
  void zeros(std::size_t n) { out_.insert(out_.end(), n, 0); }
  // Zero-pads to the next multiple of four, measured from the buffer start.
  void pad_to_4() { zeros(pad4(out_.size()) - out_.size()); }

  std::size_t size() const noexcept { return out_.size(); }
  // Overwrites a previously reserved field, used for length fields that are
  // known only after the body is written.
  void patch_u16(std::size_t at, std::uint16_t v) {
    out_[at] = static_cast<std::uint8_t>(v >> 8);
    out_[at + 1] = static_cast<std::uint8_t>(v);
  }
  void patch_u32(std::size_t at, std::uint32_t v) {
    patch_u16(at, static_cast<std::uint16_t>(v >> 16));
    patch_u16(at + 2, static_cast<std::uint16_t>(v));
  }

 private:
  Bytes& out_;
};

class ByteReader {
 public:
  explicit ByteReader(ByteView data) : data_(data) {}

  std::uint8_t u8() {
    if (!need(1)) return 0;
    return data_[pos_++];
  }
  std::uint16_t u16() {
    if (!need(2)) return 0;
    auto v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  std::uint32_t u32() {
    if (!need(4)) return 0;
    std::uint32_t v = (std::uint32_t{data_[pos_]} << 24) | (std::uint32_t{data_[pos_ + 1]} << 16) |
                      (std::uint32_t{data_[pos_ + 2]} << 8) | std::uint32_t{data_[pos_ + 3]};
    pos_ += 4;
    return v;
  }
  ByteView take(std::size_t n) {
    if (!need(n)) return {};
    auto v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
  }
  void skip(std::size_t n) { (void)take(n); }

  std::size_t remaining() const noexcept { return failed_ ? 0 : data_.size() - pos_; }
  std::size_t position() const noexcept { return pos_; }
  bool failed() const noexcept { return failed_; }
  ByteView rest() const noexcept { return failed_ ? ByteView{} : data_.subspan(pos_); }

 private:
  bool need(std::size_t n) {
    if (failed_ || data_.size() - pos_ < n) {
      failed_ = true;
      return false;
    }
    return true;
  }
  ByteView data_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

inline std::uint16_t load_u16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load_u32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

}  // namespace rserpool
