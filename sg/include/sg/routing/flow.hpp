#pragma once
// Flows: the unit of stickiness. An ISUP circuit (OPC, DPC, CIC) is one flow,
// so every message of a call reaches the same gateway controller, in order;
// any other user part is keyed by (OPC, DPC, SI, SLS), the unit in which
// MTP3 itself keeps order.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "sg/routing/mtp_message.hpp"
#include "sg/ss7/isup.hpp"

namespace sg {

struct FlowKey {
  std::uint32_t opc = 0;
  std::uint32_t dpc = 0;
  std::uint8_t si = 0;
  bool circuit = false;     // true: `selector` is a CIC; false: an SLS
  std::uint16_t selector = 0;
  friend bool operator==(const FlowKey&, const FlowKey&) = default;
};

struct FlowKeyHash {
  std::size_t operator()(const FlowKey& k) const noexcept {
    std::uint64_t h = (std::uint64_t{k.opc} << 40) ^ (std::uint64_t{k.dpc} << 16) ^ k.selector;
    h ^= (std::uint64_t{k.si} << 56) ^ (k.circuit ? 0x8000000000000000ULL : 0);
    h *= 0x9E3779B97F4A7C15ULL;  // spread the bits: keys differ mostly in low bits
    return static_cast<std::size_t>(h ^ (h >> 32));
  }
};

// What a message means for its call's life, so the gateway can forget a
// circuit's binding when the call is over (and let the next call on that
// circuit be load-shared afresh).
enum class CallEvent : std::uint8_t { none, setup, release, release_complete };

struct ClassifiedMessage {
  FlowKey flow;
  CallEvent event = CallEvent::none;
  std::optional<std::uint16_t> cic;
};

// A malformed ISUP message (shorter than its header) falls back to an SLS
// flow, so that it is still delivered in order with its link's traffic.
ClassifiedMessage classify(const MtpMessage& m, ss7::IsupVariant variant = ss7::IsupVariant::itu);

}  // namespace sg
