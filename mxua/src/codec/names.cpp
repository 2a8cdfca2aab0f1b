#include "mxua/constants.hpp"
#include "mxua/messages.hpp"

namespace mxua {

std::string_view message_name(std::uint8_t c, std::uint8_t t) noexcept {
  switch (c) {
    case 0: return t == 0 ? "ERR" : t == 1 ? "NTFY" : "MGMT?";
    case 1: return t == 1 ? "DATA" : "Transfer?";
    case 2: {
      constexpr std::string_view n[] = {"SSNM?", "DUNA", "DAVA", "DAUD", "SCON", "DUPU", "DRST"};
      return t < 7 ? n[t] : "SSNM?";
    }
    case 3: {
      constexpr std::string_view n[] = {"ASPSM?", "ASPUP", "ASPDN", "BEAT", "ASPUP ACK", "ASPDN ACK", "BEAT ACK"};
      return t < 7 ? n[t] : "ASPSM?";
    }
    case 4: {
      constexpr std::string_view n[] = {"ASPTM?", "ASPAC", "ASPIA", "ASPAC ACK", "ASPIA ACK"};
      return t < 5 ? n[t] : "ASPTM?";
    }
    case 9: {
      constexpr std::string_view n[] = {"RKM?", "REG REQ", "REG RSP", "DEREG REQ", "DEREG RSP"};
      return t < 5 ? n[t] : "RKM?";
    }
    default: return "unknown class";
  }
}

std::string_view to_string(ErrorCode c) noexcept {
  switch (c) {
    case ErrorCode::InvalidVersion: return "Invalid Version";
    case ErrorCode::UnsupportedMessageClass: return "Unsupported Message Class";
    case ErrorCode::UnsupportedMessageType: return "Unsupported Message Type";
    case ErrorCode::UnsupportedTrafficModeType: return "Unsupported Traffic Mode Type";
    case ErrorCode::UnexpectedMessage: return "Unexpected Message";
    case ErrorCode::ProtocolError: return "Protocol Error";
    case ErrorCode::InvalidStreamIdentifier: return "Invalid Stream Identifier";
    case ErrorCode::RefusedManagementBlocking: return "Refused - Management Blocking";
    case ErrorCode::AspIdentifierRequired: return "ASP Identifier Required";
    case ErrorCode::InvalidAspIdentifier: return "Invalid ASP Identifier";
    case ErrorCode::InvalidParameterValue: return "Invalid Parameter Value";
    case ErrorCode::ParameterFieldError: return "Parameter Field Error";
    case ErrorCode::UnexpectedParameter: return "Unexpected Parameter";
    case ErrorCode::DestinationStatusUnknown: return "Destination Status Unknown";
    case ErrorCode::InvalidNetworkAppearance: return "Invalid Network Appearance";
    case ErrorCode::MissingParameter: return "Missing Parameter";
    case ErrorCode::InvalidRoutingContext: return "Invalid Routing Context";
    case ErrorCode::NoConfiguredAsForAsp: return "No Configured AS for ASP";
  }
  return "unknown error code";
}

std::string_view to_string(TrafficMode m) noexcept {
  switch (m) {
    case TrafficMode::Override: return "override";
    case TrafficMode::Loadshare: return "loadshare";
    case TrafficMode::Broadcast: return "broadcast";
  }
  return "unknown";
}

std::string_view to_string(RegistrationStatus s) noexcept {
  constexpr std::string_view n[] = {"Successfully Registered", "Unknown", "Invalid DPC", "Invalid Network Appearance",
                                    "Invalid Routing Key", "Permission Denied", "Cannot Support Unique Routing",
                                    "Routing Key not Currently Provisioned", "Insufficient Resources",
                                    "Unsupported RK parameter Field", "Unsupported/Invalid Traffic Handling Mode",
                                    "Routing Key Change Refused", "Routing Key Already Registered"};
  const auto i = static_cast<std::uint32_t>(s);
  return i < 13 ? n[i] : "unknown";
}

std::string_view to_string(DeregistrationStatus s) noexcept {
  constexpr std::string_view n[] = {"Successfully Deregistered", "Unknown", "Invalid Routing Context",
                                    "Permission Denied", "Not Registered", "ASP Currently Active for Routing Context"};
  const auto i = static_cast<std::uint32_t>(s);
  return i < 6 ? n[i] : "unknown";
}

MessageId message_id(const Message& m) noexcept {
  // Same order as the Message variant.
  static constexpr MessageId ids[] = {
      {0, type::kErr},    {0, type::kNtfy},     {1, type::kData},     {2, type::kDuna},     {2, type::kDava},
      {2, type::kDaud},   {2, type::kScon},     {2, type::kDupu},     {2, type::kDrst},     {3, type::kAspUp},
      {3, type::kAspDn},  {3, type::kBeat},     {3, type::kAspUpAck}, {3, type::kAspDnAck}, {3, type::kBeatAck},
      {4, type::kAspAc},  {4, type::kAspIa},    {4, type::kAspAcAck}, {4, type::kAspIaAck}, {9, type::kRegReq},
      {9, type::kRegRsp}, {9, type::kDeregReq}, {9, type::kDeregRsp}};
  static_assert(std::size(ids) == std::variant_size_v<Message>);
  return ids[m.index()];
}

}  // namespace mxua
