#pragma once
// RSerPool value types (RFC 5354 parameters as C++ values). Shared by the
// wire codecs, the handlespace, the registrar and the ASAP endpoints, so that
// none of them depends on another's internals.
#include <compare>
#include <cstring>
#include <memory>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rserpool/base/bytes.hpp"
#include "rserpool/base/ip_address.hpp"
#include "rserpool/wire/address_list.hpp"

namespace rserpool {

// Opaque bytes (RFC 5354 3.9). Usually printable, but not necessarily.
//
// Held inline up to kInline bytes (rsplib's handles are at most 32), on the
// heap beyond: a handle copied into an event, a response or a removed PE
// costs no allocation (issue 16: no per-operation heap allocation in the
// registrar). Ordered byte-wise, a shorter prefix first.
class PoolHandle {
 public:
  static constexpr std::size_t kInline = 48;

  PoolHandle() noexcept = default;
  explicit PoolHandle(std::string_view name) { assign(reinterpret_cast<const std::uint8_t*>(name.data()), name.size()); }
  explicit PoolHandle(ByteView b) { assign(b.data(), b.size()); }
  // Inline handles are copied as the whole buffer: a copy of fixed size
  // is a few moves, one of size_ bytes a call to memcpy (a handle is
  // copied into every event and answer).
  PoolHandle(const PoolHandle& o) {
    if (o.heap_) {
      assign(o.data(), o.size_);
    } else {
      copy_inline(o);
    }
  }
  PoolHandle(PoolHandle&& o) noexcept : size_(o.size_), heap_(std::move(o.heap_)) {
    if (!heap_) std::memcpy(inline_, o.inline_, kInline);
    o.size_ = 0;
  }
  PoolHandle& operator=(const PoolHandle& o) {
    if (this == &o) return *this;
    if (o.heap_) {
      assign(o.data(), o.size_);
    } else {
      heap_.reset();
      copy_inline(o);
    }
    return *this;
  }
  PoolHandle& operator=(PoolHandle&& o) noexcept {
    if (this == &o) return *this;
    size_ = o.size_;
    heap_ = std::move(o.heap_);
    if (!heap_) std::memcpy(inline_, o.inline_, kInline);
    o.size_ = 0;
    return *this;
  }
  ~PoolHandle() = default;

  ByteView bytes() const noexcept { return {data(), size_}; }
  std::string to_string() const { return {reinterpret_cast<const char*>(data()), size_}; }
  bool empty() const noexcept { return size_ == 0; }

  friend bool operator==(const PoolHandle& a, const PoolHandle& b) noexcept {
    return a.size_ == b.size_ && (a.size_ == 0 || std::memcmp(a.data(), b.data(), a.size_) == 0);
  }
  friend std::strong_ordering operator<=>(const PoolHandle& a, const PoolHandle& b) noexcept {
    const std::size_t n = a.size_ < b.size_ ? a.size_ : b.size_;
    const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
    if (c != 0) return c < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
    return a.size_ <=> b.size_;
  }

 private:
  const std::uint8_t* data() const noexcept { return heap_ ? heap_.get() : inline_; }
  void assign(const std::uint8_t* p, std::size_t n) {
    if (n <= kInline) {
      heap_.reset();
      if (n != 0) std::memmove(inline_, p, n);
    } else {
      auto h = std::make_unique<std::uint8_t[]>(n);
      std::memcpy(h.get(), p, n);
      heap_ = std::move(h);
    }
    size_ = n;
  }

  void copy_inline(const PoolHandle& o) noexcept {
    std::memcpy(inline_, o.inline_, kInline);
    size_ = o.size_;
  }

  std::size_t size_ = 0;
  std::unique_ptr<std::uint8_t[]> heap_;  // set only beyond kInline bytes
  std::uint8_t inline_[kInline];
};

// Longest pool handle we accept; RFC 5354 sets no limit, rsplib uses 32.
inline constexpr std::size_t kMaxPoolHandleSize = 64;

using PeIdentifier = std::uint32_t;   // RFC 5354 3.14, random, 32 bit
using ServerIdentifier = std::uint32_t;  // RFC 5353 2.2, non-zero, random

// RFC 5356 7.1 policy type codes, plus the rsplib private DPF policies.
enum class PolicyType : std::uint32_t {
  round_robin = 0x00000001,
  weighted_round_robin = 0x00000002,
  random = 0x00000003,
  weighted_random = 0x00000004,
  priority = 0x00000005,
  least_used = 0x40000001,
  least_used_degradation = 0x40000002,
  priority_least_used = 0x40000003,
  randomized_least_used = 0x40000004,
  weighted_random_dpf = 0xB0002001,
  least_used_dpf = 0xB0002002,
};

std::string_view to_string(PolicyType p) noexcept;
bool is_known_policy(std::uint32_t code) noexcept;

// The policy parameter (0x0008). Only the fields meaningful for `type` are
// encoded; the others stay zero. Load and the DPF factors are fractions of
// 0xFFFFFFFF; distance is in milliseconds as rsplib measures it.
struct PolicyParameters {
  PolicyType type = PolicyType::round_robin;
  std::uint32_t weight = 0;       // WRR, WRAND, WRAND-DPF
  std::uint32_t priority = 0;     // PRIO (larger = better)
  std::uint32_t load = 0;         // LU family, RLU, LU-DPF
  std::uint32_t degradation = 0;  // LUD, PLU
  std::uint32_t dpf = 0;          // WRAND-DPF: weight DPF; LU-DPF: load DPF
  std::uint32_t distance = 0;     // DPF policies
  // Policy-specific value of a policy type this codec does not know
  // (!is_known_policy), kept verbatim so a registrar can store and forward
  // it; always empty for known types (see docs/conformance.md).
  Bytes raw_value;
  friend bool operator==(const PolicyParameters&, const PolicyParameters&) = default;
};

enum class TransportProtocol : std::uint16_t {
  dccp = 0x0003,
  sctp = 0x0004,
  tcp = 0x0005,
  udp = 0x0006,
  udp_lite = 0x0007,
  opaque = 0x0010,
};

enum class TransportUse : std::uint16_t { data_only = 0, data_and_control = 1 };

// One transport parameter (0x0003-0x0007, 0x0010). SCTP carries 1..n
// addresses, the others exactly one; opaque carries `opaque` bytes only.
// The addresses are held inline up to AddressList::kInline (address_list.hpp).
struct TransportParameter {
  TransportProtocol protocol = TransportProtocol::sctp;
  std::uint16_t port = 0;
  TransportUse use = TransportUse::data_only;  // SCTP (and TCP, as rsplib reads it)
  std::uint32_t dccp_service_code = 0;
  AddressList addresses;
  Bytes opaque;
  friend bool operator==(const TransportParameter&, const TransportParameter&) = default;
};

// Registration life: we put milliseconds on the wire, as rsplib and
// Wireshark do (see docs/conformance.md); -1 means infinite.
inline constexpr std::int32_t kInfiniteLifetime = -1;

// The Pool Element parameter (0x000a).
struct PoolElementParameter {
  PeIdentifier id = 0;
  ServerIdentifier home_registrar = 0;  // 0 = undetermined
  std::int32_t registration_life_ms = kInfiniteLifetime;
  TransportParameter user_transport;
  PolicyParameters policy;
  std::optional<TransportParameter> asap_transport;  // filled in by the home registrar
  friend bool operator==(const PoolElementParameter&, const PoolElementParameter&) = default;
};

// The Server Information parameter (0x000b).
struct ServerInformation {
  ServerIdentifier id = 0;
  TransportParameter transport;  // SCTP
  friend bool operator==(const ServerInformation&, const ServerInformation&) = default;
};

// Operation Error causes (RFC 5354 3.13).
enum class ErrorCause : std::uint16_t {
  unspecified = 0x0,
  unrecognized_parameter = 0x1,
  unrecognized_message = 0x2,
  invalid_values = 0x3,
  non_unique_pe_identifier = 0x4,
  inconsistent_pooling_policy = 0x5,
  lack_of_resources = 0x6,
  inconsistent_transport_type = 0x7,
  inconsistent_data_control = 0x8,
  unknown_pool_handle = 0x9,
  rejected_security = 0xa,
};

std::string_view to_string(ErrorCause c) noexcept;

struct OperationErrorCause {
  ErrorCause code = ErrorCause::unspecified;
  Bytes info;  // cause-specific information (offending TLV, message, ...)
  friend bool operator==(const OperationErrorCause&, const OperationErrorCause&) = default;
};

}  // namespace rserpool
