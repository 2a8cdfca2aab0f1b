#pragma once
// M3UA messages as C++ values, one struct per message type, collected in the
// Message variant. Optional parameters are std::optional, repeatable ones
// vectors; enumerated fields keep their wire width so unknown values survive
// decoding and can be answered by the state machines.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "mxua/constants.hpp"
#include "mxua/point_code.hpp"
#include "rserpool/base/bytes.hpp"

namespace mxua {

using rserpool::Bytes;
using rserpool::ByteView;

// Protocol Data (tag 0x0210): the MTP3 routing label and the MTP3-user message.
struct ProtocolData {
  PointCode opc;
  PointCode dpc;
  std::uint8_t si = 0;
  std::uint8_t ni = 0;
  std::uint8_t mp = 0;
  std::uint8_t sls = 0;
  Bytes user_data;
  // Where the user data starts in user_data: 0, unless the receiver keeps
  // received frames (driver::Events::keeps_frames()): then user_data is the
  // received M3UA frame, cut after the user data, and the header and
  // parameters in front of it stay where they were, so that relaying the
  // DATA re-heads the frame without moving the user data (issue 16).
  std::uint32_t user_at = 0;
  ByteView user_part() const noexcept { return ByteView(user_data).subspan(user_at); }
  friend bool operator==(const ProtocolData&, const ProtocolData&) = default;
};

// The same, with the user data borrowed from the received buffer: the relay
// fast path decodes into this without allocating.
struct ProtocolDataView {
  PointCode opc;
  PointCode dpc;
  std::uint8_t si = 0;
  std::uint8_t ni = 0;
  std::uint8_t mp = 0;
  std::uint8_t sls = 0;
  ByteView user_data;
};

struct Status {
  StatusType type = StatusType::AsStateChange;
  std::uint16_t info = 0;
  friend bool operator==(const Status&, const Status&) = default;
};

struct UserCause {
  UnavailabilityCause cause = UnavailabilityCause::Unknown;
  std::uint16_t user = 0;  // MTP3-User Identity (an SI value)
  friend bool operator==(const UserCause&, const UserCause&) = default;
};

// One {DPC, SI list, OPC list} group of a Routing Key; the group may repeat.
struct RoutingKeyDestination {
  MaskedPointCode dpc;
  std::vector<std::uint8_t> service_indicators;  // empty: any SI except MTP management
  std::vector<MaskedPointCode> opc_list;         // empty: any OPC
  friend bool operator==(const RoutingKeyDestination&, const RoutingKeyDestination&) = default;
};

struct RoutingKey {
  std::uint32_t local_rk_id = 0;
  std::optional<std::uint32_t> routing_context;
  std::optional<TrafficMode> traffic_mode;
  std::optional<std::uint32_t> network_appearance;
  std::vector<RoutingKeyDestination> destinations;  // at least one
  friend bool operator==(const RoutingKey&, const RoutingKey&) = default;
};

struct RegistrationResult {
  std::uint32_t local_rk_id = 0;
  RegistrationStatus status = RegistrationStatus::Success;
  std::uint32_t routing_context = 0;  // 0 when the registration failed
  friend bool operator==(const RegistrationResult&, const RegistrationResult&) = default;
};

struct DeregistrationResult {
  std::uint32_t routing_context = 0;
  DeregistrationStatus status = DeregistrationStatus::Success;
  friend bool operator==(const DeregistrationResult&, const DeregistrationResult&) = default;
};

// ---- MGMT
struct Err {
  ErrorCode code = ErrorCode::ProtocolError;
  std::vector<std::uint32_t> routing_contexts;
  std::optional<std::uint32_t> network_appearance;
  std::vector<MaskedPointCode> affected_point_codes;
  std::optional<Bytes> diagnostic;
  friend bool operator==(const Err&, const Err&) = default;
};
struct Ntfy {
  Status status;
  std::optional<std::uint32_t> asp_id;
  std::vector<std::uint32_t> routing_contexts;
  std::optional<std::string> info;
  friend bool operator==(const Ntfy&, const Ntfy&) = default;
};

// ---- Transfer
struct Data {
  std::optional<std::uint32_t> network_appearance;
  std::optional<std::uint32_t> routing_context;
  ProtocolData protocol_data;
  std::optional<std::uint32_t> correlation_id;
  friend bool operator==(const Data&, const Data&) = default;
};
struct DataView {
  std::optional<std::uint32_t> network_appearance;
  std::optional<std::uint32_t> routing_context;
  ProtocolDataView protocol_data;
  std::optional<std::uint32_t> correlation_id;
};

// ---- SSNM: DUNA, DAVA, DAUD and DRST share one parameter set.
struct SsnmCommon {
  std::optional<std::uint32_t> network_appearance;
  std::vector<std::uint32_t> routing_contexts;
  std::vector<MaskedPointCode> affected_point_codes;  // at least one
  std::optional<std::string> info;
  friend bool operator==(const SsnmCommon&, const SsnmCommon&) = default;
};
struct Duna : SsnmCommon {
  friend bool operator==(const Duna&, const Duna&) = default;
};
struct Dava : SsnmCommon {
  friend bool operator==(const Dava&, const Dava&) = default;
};
struct Daud : SsnmCommon {
  friend bool operator==(const Daud&, const Daud&) = default;
};
struct Drst : SsnmCommon {
  friend bool operator==(const Drst&, const Drst&) = default;
};
struct Scon : SsnmCommon {
  std::optional<PointCode> concerned_destination;
  std::optional<std::uint8_t> congestion_level;
  friend bool operator==(const Scon&, const Scon&) = default;
};
struct Dupu : SsnmCommon {  // exactly one affected point code, mask 0
  UserCause user_cause;
  friend bool operator==(const Dupu&, const Dupu&) = default;
};

// ---- ASPSM
struct AspUp {
  std::optional<std::uint32_t> asp_id;
  std::optional<std::string> info;
  friend bool operator==(const AspUp&, const AspUp&) = default;
};
struct AspUpAck {
  std::optional<std::uint32_t> asp_id;
  std::optional<std::string> info;
  friend bool operator==(const AspUpAck&, const AspUpAck&) = default;
};
struct AspDn {
  std::optional<std::string> info;
  friend bool operator==(const AspDn&, const AspDn&) = default;
};
struct AspDnAck {
  std::optional<std::string> info;
  friend bool operator==(const AspDnAck&, const AspDnAck&) = default;
};
struct Beat {
  std::optional<Bytes> heartbeat_data;
  friend bool operator==(const Beat&, const Beat&) = default;
};
struct BeatAck {
  std::optional<Bytes> heartbeat_data;
  friend bool operator==(const BeatAck&, const BeatAck&) = default;
};

// ---- ASPTM
struct AspAc {
  std::optional<TrafficMode> traffic_mode;
  std::vector<std::uint32_t> routing_contexts;
  std::optional<std::string> info;
  friend bool operator==(const AspAc&, const AspAc&) = default;
};
struct AspAcAck {
  std::optional<TrafficMode> traffic_mode;
  std::vector<std::uint32_t> routing_contexts;
  std::optional<std::string> info;
  friend bool operator==(const AspAcAck&, const AspAcAck&) = default;
};
struct AspIa {
  std::vector<std::uint32_t> routing_contexts;
  std::optional<std::string> info;
  friend bool operator==(const AspIa&, const AspIa&) = default;
};
struct AspIaAck {
  std::vector<std::uint32_t> routing_contexts;
  std::optional<std::string> info;
  friend bool operator==(const AspIaAck&, const AspIaAck&) = default;
};

// ---- RKM
struct RegReq {
  std::vector<RoutingKey> routing_keys;  // at least one
  friend bool operator==(const RegReq&, const RegReq&) = default;
};
struct RegRsp {
  std::vector<RegistrationResult> results;  // at least one
  friend bool operator==(const RegRsp&, const RegRsp&) = default;
};
struct DeregReq {
  std::vector<std::uint32_t> routing_contexts;  // at least one
  friend bool operator==(const DeregReq&, const DeregReq&) = default;
};
struct DeregRsp {
  std::vector<DeregistrationResult> results;  // at least one
  friend bool operator==(const DeregRsp&, const DeregRsp&) = default;
};

using Message = std::variant<Err, Ntfy, Data, Duna, Dava, Daud, Scon, Dupu, Drst, AspUp, AspDn, Beat, AspUpAck,
                             AspDnAck, BeatAck, AspAc, AspIa, AspAcAck, AspIaAck, RegReq, RegRsp, DeregReq,
                             DeregRsp>;

struct MessageId {
  std::uint8_t msg_class = 0;
  std::uint8_t msg_type = 0;
  friend constexpr bool operator==(MessageId, MessageId) = default;
};
MessageId message_id(const Message& m) noexcept;

// Owning copy of a borrowed DATA message (one copy of the user data).
Data to_owned(const DataView& v);
DataView to_view(const Data& d) noexcept;

}  // namespace mxua
