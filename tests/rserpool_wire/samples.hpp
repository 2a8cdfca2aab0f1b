#pragma once
// Sample values for the wire codec tests, the benchmark and the fuzz
// corpus: one or more of every ASAP and ENRP message, and golden byte
// vectors written by hand from the RFC 5352/5353/5354 drawings.
#include <string>
#include <vector>

#include "rserpool/wire/asap.hpp"
#include "rserpool/wire/enrp.hpp"
#include "rserpool/wire/parameters.hpp"

namespace wiretest {

using namespace rserpool;
using namespace rserpool::wire;

inline IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) { return IpAddress::v4({a, b, c, d}); }
inline IpAddress v6(const char* text) { return *IpAddress::parse(text); }

inline TransportParameter sctp(std::uint16_t port, std::vector<IpAddress> addrs,
                               TransportUse use = TransportUse::data_only) {
  TransportParameter t;
  t.protocol = TransportProtocol::sctp;
  t.port = port;
  t.use = use;
  t.addresses = std::move(addrs);
  return t;
}
inline TransportParameter ip_transport(TransportProtocol p, std::uint16_t port, IpAddress a) {
  TransportParameter t;
  t.protocol = p;
  t.port = port;
  t.addresses = {a};
  return t;
}
inline PolicyParameters policy(PolicyType type, std::uint32_t v1 = 0, std::uint32_t v2 = 0, std::uint32_t v3 = 0) {
  PolicyParameters p;
  p.type = type;
  switch (type) {
    case PolicyType::weighted_round_robin:
    case PolicyType::weighted_random: p.weight = v1; break;
    case PolicyType::priority: p.priority = v1; break;
    case PolicyType::least_used:
    case PolicyType::randomized_least_used: p.load = v1; break;
    case PolicyType::least_used_degradation:
    case PolicyType::priority_least_used:
      p.load = v1;
      p.degradation = v2;
      break;
    case PolicyType::weighted_random_dpf:
      p.weight = v1;
      p.dpf = v2;
      p.distance = v3;
      break;
    case PolicyType::least_used_dpf:
      p.load = v1;
      p.dpf = v2;
      p.distance = v3;
      break;
    default: break;
  }
  return p;
}

inline PoolElementParameter pe(PeIdentifier id, ServerIdentifier home, std::int32_t life_ms, TransportParameter user,
                               PolicyParameters pol, std::optional<TransportParameter> asap = std::nullopt) {
  PoolElementParameter p;
  p.id = id;
  p.home_registrar = home;
  p.registration_life_ms = life_ms;
  p.user_transport = std::move(user);
  p.policy = std::move(pol);
  p.asap_transport = std::move(asap);
  return p;
}

// A PE as a gateway controller would register it: two SCTP addresses for
// M3UA on 2905, least-used.
inline PoolElementParameter gwc_pe(PeIdentifier id = 0x11223344) {
  return pe(id, 0, 30000, sctp(2905, {v4(10, 0, 0, 1), v4(10, 0, 0, 2)}),
            policy(PolicyType::least_used, 0x20000000));
}

inline std::vector<asap::Message> asap_samples() {
  using namespace asap;
  const PoolHandle gwc("gwc");
  std::vector<Message> v;
  v.push_back(Registration{gwc, gwc_pe()});
  v.push_back(Deregistration{gwc, 0x11223344});
  v.push_back(RegistrationResponse{false, gwc, 0x11223344, {}});
  v.push_back(RegistrationResponse{true, gwc, 0x11223344,
                                   {{ErrorCause::inconsistent_pooling_policy, encode_parameter(policy(PolicyType::round_robin))},
                                    {ErrorCause::non_unique_pe_identifier, {}}}});
  v.push_back(DeregistrationResponse{gwc, 0x11223344, {}});
  v.push_back(DeregistrationResponse{gwc, 0x11223344, {{ErrorCause::rejected_security, {}}}});
  v.push_back(HandleResolution{false, gwc, std::nullopt});
  v.push_back(HandleResolution{true, gwc, 3});
  v.push_back(HandleResolutionResponse{
      true, gwc, policy(PolicyType::least_used),
      {pe(1, 0x0a0b0c0d, -1, ip_transport(TransportProtocol::tcp, 2905, v4(192, 168, 1, 10)),
          policy(PolicyType::least_used, 0x40000000), sctp(3863, {v4(192, 168, 1, 10)})),
       pe(2, 0x0a0b0c0d, 60000, sctp(2905, {v6("2001:db8::2")}, TransportUse::data_and_control),
          policy(PolicyType::least_used, 0x80000000)),
       gwc_pe(3)},
      {}});
  v.push_back(HandleResolutionResponse{false, PoolHandle("nopool"), std::nullopt, {},
                                       {{ErrorCause::unknown_pool_handle, {}}}});
  v.push_back(EndpointKeepAlive{true, 0x0a0b0c0d, gwc, std::nullopt});
  v.push_back(EndpointKeepAlive{false, 0x0a0b0c0d, gwc, 0x11223344});
  v.push_back(EndpointKeepAliveAck{gwc, 0x11223344});
  v.push_back(EndpointUnreachable{gwc, 0x55667788});
  v.push_back(ServerAnnounce{0x0a0b0c0d,
                             {sctp(3863, {v4(10, 1, 0, 1), v6("fd00::1")}),
                              ip_transport(TransportProtocol::tcp, 3863, v4(10, 1, 0, 1))}});
  v.push_back(ServerAnnounce{0x0a0b0c0d, {}});
  v.push_back(Cookie{{0xde, 0xad, 0xbe, 0xef, 0x01}});
  v.push_back(CookieEcho{{0xde, 0xad, 0xbe, 0xef, 0x01}});
  TransportParameter dccp = ip_transport(TransportProtocol::dccp, 5001, v4(10, 2, 0, 1));
  dccp.dccp_service_code = 0x53474331;
  TransportParameter opaque;
  opaque.protocol = TransportProtocol::opaque;
  opaque.opaque = {'s', 'i', 'g', 't', 'r', 'a', 'n'};
  v.push_back(BusinessCard{gwc,
                           {gwc_pe(1), gwc_pe(2), pe(4, 0, 30000, dccp, policy(PolicyType::random)),
                            pe(5, 0, 30000, ip_transport(TransportProtocol::udp_lite, 5002, v6("2001:db8::5")),
                               policy(PolicyType::weighted_random, 2)),
                            pe(6, 0, 30000, opaque, policy(PolicyType::randomized_least_used, 7))}});
  v.push_back(Error{{{ErrorCause::unrecognized_parameter, {0x40, 0x20, 0x00, 0x05, 0x99}},
                     {ErrorCause::unspecified, {}}}});
  return v;
}

inline std::vector<enrp::Message> enrp_samples() {
  using namespace enrp;
  const PoolHandle gwc("gwc");
  const ServerInformation me{0x01020304, sctp(9901, {v4(10, 0, 0, 10), v6("2001:db8::10")})};
  const ServerInformation peer{0x05060708, sctp(9901, {v4(10, 0, 0, 11)})};
  std::vector<Message> v;
  v.push_back(Presence{0x01020304, 0, false, 0xabcd, std::nullopt});
  v.push_back(Presence{0x01020304, 0x05060708, true, 0xabcd, me});
  v.push_back(HandleTableRequest{0x01020304, 0x05060708, false});
  v.push_back(HandleTableRequest{0x01020304, 0x05060708, true});
  v.push_back(HandleTableResponse{0x05060708, 0x01020304, true, false,
                                  {{gwc, {gwc_pe(1), gwc_pe(2)}},
                                   {PoolHandle("sgw1"), {pe(0xbb, 0x05060708, 5000, sctp(2905, {v4(10, 0, 0, 4)}),
                                                            policy(PolicyType::priority, 9))}},
                                   {PoolHandle("adaptive"),
                                    {pe(0xc1, 0x05060708, 5000, sctp(2905, {v4(10, 0, 0, 5)}),
                                        policy(PolicyType::least_used_degradation, 0x40000000, 0x80000000)),
                                     pe(0xc2, 0x05060708, 5000, sctp(2905, {v4(10, 0, 0, 6)}),
                                        policy(PolicyType::priority_least_used, 0x40000000, 0x10000000)),
                                     pe(0xc3, 0x05060708, 5000, sctp(2905, {v4(10, 0, 0, 7)}),
                                        policy(PolicyType::weighted_random_dpf, 4, 0x01000000, 25)),
                                     pe(0xc4, 0x05060708, 5000, sctp(2905, {v4(10, 0, 0, 8)}),
                                        policy(PolicyType::least_used_dpf, 0x20000000, 0x00800000, 50))}}}});
  v.push_back(HandleTableResponse{0x05060708, 0x01020304, false, true, {}});
  v.push_back(HandleUpdate{0x01020304, 0, false, UpdateAction::add_pe, gwc,
                           pe(0x11223344, 0x01020304, 30000, sctp(2905, {v4(10, 0, 0, 1)}),
                              policy(PolicyType::weighted_round_robin, 3), sctp(3863, {v4(10, 0, 0, 1)}))});
  v.push_back(HandleUpdate{0x01020304, 0, true, UpdateAction::del_pe, gwc, gwc_pe()});
  v.push_back(ListRequest{0x01020304, 0x05060708});
  v.push_back(ListResponse{0x05060708, 0x01020304, false, {me, peer}});
  v.push_back(ListResponse{0x05060708, 0x01020304, true, {}});
  v.push_back(InitTakeover{0x01020304, 0, 0x0badf00d});
  v.push_back(InitTakeoverAck{0x05060708, 0x01020304, 0x0badf00d});
  v.push_back(TakeoverServer{0x01020304, 0, 0x0badf00d});
  v.push_back(Error{0x01020304, 0x05060708, {{ErrorCause::unrecognized_message, {0x4f, 0x00, 0x00, 0x04}}}});
  return v;
}

template <class M>
struct Golden {
  std::string name;
  Bytes bytes;
  M message;
};

// Written byte by byte from the RFC drawings, independently of the encoder,
// so that a bug shared by encode and decode cannot hide.
inline std::vector<Golden<asap::Message>> asap_golden() {
  using namespace asap;
  const PoolHandle gwc("gwc");
  std::vector<Golden<Message>> g;
  g.push_back({"registration",
               {
                   0x01, 0x00, 0x00, 0x40,                          // REGISTRATION, length 64
                   0x00, 0x09, 0x00, 0x07, 'g', 'w', 'c', 0x00,     // Pool Handle "gwc" + 1 pad
                   0x00, 0x0a, 0x00, 0x34,                          // Pool Element, length 52
                   0x11, 0x22, 0x33, 0x44,                          //   PE identifier
                   0x00, 0x00, 0x00, 0x00,                          //   home ENRP server: undetermined
                   0x00, 0x00, 0x75, 0x30,                          //   registration life 30000 ms
                   0x00, 0x04, 0x00, 0x18, 0x0b, 0x59, 0x00, 0x00,  //   SCTP transport, port 2905, data only
                   0x00, 0x01, 0x00, 0x08, 10, 0, 0, 1,             //     IPv4 10.0.0.1
                   0x00, 0x01, 0x00, 0x08, 10, 0, 0, 2,             //     IPv4 10.0.0.2
                   0x00, 0x08, 0x00, 0x0c, 0x40, 0x00, 0x00, 0x01,  //   policy LU
                   0x20, 0x00, 0x00, 0x00,                          //     load 12.5 %
               },
               Registration{gwc, gwc_pe()}});
  g.push_back({"registration_response_rejected",
               {
                   0x03, 0x01, 0x00, 0x30,                          // REGISTRATION_RESPONSE, R=1, length 48
                   0x00, 0x09, 0x00, 0x07, 'g', 'w', 'c', 0x00,     // Pool Handle
                   0x00, 0x0e, 0x00, 0x08, 0x11, 0x22, 0x33, 0x44,  // PE Identifier
                   0x00, 0x0c, 0x00, 0x1c,                          // Operation Error, length 28
                   0x00, 0x03, 0x00, 0x0b,                          //   Invalid Values, length 11
                   0x00, 0x09, 0x00, 0x07, 'g', 'w', 'c', 0x00,     //     the offending TLV + 1 pad
                   0x00, 0x05, 0x00, 0x0c,                          //   Inconsistent Pooling Policy
                   0x00, 0x08, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01,  //     the pool's policy: RR
               },
               RegistrationResponse{true, gwc, 0x11223344,
                                    {{ErrorCause::invalid_values, {0x00, 0x09, 0x00, 0x07, 'g', 'w', 'c'}},
                                     {ErrorCause::inconsistent_pooling_policy,
                                      {0x00, 0x08, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01}}}}});
  g.push_back({"handle_resolution_hropt",
               {
                   0x05, 0x01, 0x00, 0x14,                          // HANDLE_RESOLUTION, S=1, length 20
                   0x00, 0x09, 0x00, 0x07, 'g', 'w', 'c', 0x00,     // Pool Handle
                   0x80, 0x3f, 0x00, 0x08, 0x00, 0x00, 0x00, 0x03,  // Handle Resolution Option: 3 items
               },
               HandleResolution{true, gwc, 3}});
  g.push_back({"handle_resolution_plain",
               {
                   0x05, 0x00, 0x00, 0x0b,                       // length 11: final padding not counted
                   0x00, 0x09, 0x00, 0x07, 'g', 'w', 'c', 0x00,  // Pool Handle + pad
               },
               HandleResolution{false, gwc, std::nullopt}});
  g.push_back(
      {"handle_resolution_response_2pe_lu",
       {
           0x06, 0x01, 0x00, 0x8c,                          // HANDLE_RESOLUTION_RESPONSE, A=1, length 140
           0x00, 0x09, 0x00, 0x07, 'g', 'w', 'c', 0x00,     // Pool Handle
           0x00, 0x08, 0x00, 0x0c, 0x40, 0x00, 0x00, 0x01,  // overall policy LU
           0x00, 0x00, 0x00, 0x00,                          //   load 0
           0x00, 0x0a, 0x00, 0x3c,                          // PE #1, length 60
           0x00, 0x00, 0x00, 0x01, 0x0a, 0x0b, 0x0c, 0x0d,  //   id 1, home 0x0a0b0c0d
           0xff, 0xff, 0xff, 0xff,                          //   registration life: infinite
           0x00, 0x05, 0x00, 0x10, 0x0b, 0x59, 0x00, 0x00,  //   TCP transport 2905, reserved 0
           0x00, 0x01, 0x00, 0x08, 192, 168, 1, 10,         //     IPv4 192.168.1.10
           0x00, 0x08, 0x00, 0x0c, 0x40, 0x00, 0x00, 0x01,  //   policy LU
           0x40, 0x00, 0x00, 0x00,                          //     load 25 %
           0x00, 0x04, 0x00, 0x10, 0x0f, 0x17, 0x00, 0x00,  //   ASAP transport: SCTP 3863
           0x00, 0x01, 0x00, 0x08, 192, 168, 1, 10,         //     IPv4 192.168.1.10
           0x00, 0x0a, 0x00, 0x38,                          // PE #2, length 56
           0x00, 0x00, 0x00, 0x02, 0x0a, 0x0b, 0x0c, 0x0d,  //   id 2, home 0x0a0b0c0d
           0x00, 0x00, 0xea, 0x60,                          //   registration life 60000 ms
           0x00, 0x04, 0x00, 0x1c, 0x0b, 0x59, 0x00, 0x01,  //   SCTP transport 2905, data+control
           0x00, 0x02, 0x00, 0x14,                          //     IPv6
           0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,  // 2001:db8::2
           0x00, 0x08, 0x00, 0x0c, 0x40, 0x00, 0x00, 0x01,  //   policy LU
           0x80, 0x00, 0x00, 0x00,                          //     load 50 %
       },
       HandleResolutionResponse{
           true, gwc, policy(PolicyType::least_used),
           {pe(1, 0x0a0b0c0d, -1, ip_transport(TransportProtocol::tcp, 2905, v4(192, 168, 1, 10)),
               policy(PolicyType::least_used, 0x40000000), sctp(3863, {v4(192, 168, 1, 10)})),
            pe(2, 0x0a0b0c0d, 60000, sctp(2905, {v6("2001:db8::2")}, TransportUse::data_and_control),
               policy(PolicyType::least_used, 0x80000000))},
           {}}});
  g.push_back({"endpoint_keep_alive_home",
               {
                   0x07, 0x01, 0x00, 0x0f,                       // KEEP_ALIVE, H=1, length 15
                   0x0a, 0x0b, 0x0c, 0x0d,                       // server identifier
                   0x00, 0x09, 0x00, 0x07, 'g', 'w', 'c', 0x00,  // Pool Handle + pad
               },
               EndpointKeepAlive{true, 0x0a0b0c0d, gwc, std::nullopt}});
  g.push_back({"error_unrecognized_parameter",
               {
                   0x0e, 0x00, 0x00, 0x15,                          // ASAP_ERROR, length 21
                   0x00, 0x0c, 0x00, 0x11,                          // Operation Error, length 17
                   0x00, 0x01, 0x00, 0x0d,                          //   Unrecognized Parameter, length 13
                   0x40, 0x20, 0x00, 0x09, 0x01, 0x02, 0x03, 0x04,  //     the TLV (type 0x4020)
                   0x05, 0x00, 0x00, 0x00,                          //     ... + 3 pad
               },
               Error{{{ErrorCause::unrecognized_parameter, {0x40, 0x20, 0x00, 0x09, 1, 2, 3, 4, 5}}}}});
  return g;
}

inline std::vector<Golden<enrp::Message>> enrp_golden() {
  using namespace enrp;
  const PoolHandle gwc("gwc");
  std::vector<Golden<Message>> g;
  g.push_back({"presence_checksum_server_info",
               {
                   0x01, 0x01, 0x00, 0x2c,                          // PRESENCE, reply required, length 44
                   0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  // sender, receiver
                   0x00, 0x0f, 0x00, 0x06, 0xab, 0xcd, 0x00, 0x00,  // PE Checksum, length 6, + 2 pad
                   0x00, 0x0b, 0x00, 0x18, 0x01, 0x02, 0x03, 0x04,  // Server Information, id
                   0x00, 0x04, 0x00, 0x10, 0x26, 0xad, 0x00, 0x00,  //   SCTP transport 9901
                   0x00, 0x01, 0x00, 0x08, 10, 0, 0, 10,            //     IPv4 10.0.0.10
               },
               Presence{0x01020304, 0x05060708, true, 0xabcd,
                        ServerInformation{0x01020304, sctp(9901, {v4(10, 0, 0, 10)})}}});
  g.push_back({"handle_update_add",
               {
                   0x04, 0x00, 0x00, 0x54,                          // HANDLE_UPDATE, length 84
                   0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00,  // sender, receiver 0 (group-cast)
                   0x00, 0x00, 0x00, 0x00,                          // ADD_PE, reserved
                   0x00, 0x09, 0x00, 0x07, 'g', 'w', 'c', 0x00,     // Pool Handle
                   0x00, 0x0a, 0x00, 0x3c,                          // Pool Element, length 60
                   0x11, 0x22, 0x33, 0x44, 0x01, 0x02, 0x03, 0x04,  //   id, home
                   0x00, 0x00, 0x75, 0x30,                          //   30000 ms
                   0x00, 0x04, 0x00, 0x10, 0x0b, 0x59, 0x00, 0x00,  //   SCTP 2905
                   0x00, 0x01, 0x00, 0x08, 10, 0, 0, 1,             //     10.0.0.1
                   0x00, 0x08, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x02,  //   WRR
                   0x00, 0x00, 0x00, 0x03,                          //     weight 3
                   0x00, 0x04, 0x00, 0x10, 0x0f, 0x17, 0x00, 0x00,  //   ASAP transport SCTP 3863
                   0x00, 0x01, 0x00, 0x08, 10, 0, 0, 1,             //     10.0.0.1
               },
               HandleUpdate{0x01020304, 0, false, UpdateAction::add_pe, gwc,
                            pe(0x11223344, 0x01020304, 30000, sctp(2905, {v4(10, 0, 0, 1)}),
                               policy(PolicyType::weighted_round_robin, 3), sctp(3863, {v4(10, 0, 0, 1)}))}});
  g.push_back({"handle_table_response_more",
               {
                   0x03, 0x02, 0x00, 0x70,                          // HANDLE_TABLE_RESPONSE, M=1, length 112
                   0x05, 0x06, 0x07, 0x08, 0x01, 0x02, 0x03, 0x04,  // sender, receiver
                   0x00, 0x09, 0x00, 0x07, 'g', 'w', 'c', 0x00,     // Pool Handle "gwc"
                   0x00, 0x0a, 0x00, 0x28,                          // PE, length 40
                   0x00, 0x00, 0x00, 0xaa, 0x05, 0x06, 0x07, 0x08,  //   id 0xaa, home
                   0xff, 0xff, 0xff, 0xff,                          //   infinite
                   0x00, 0x06, 0x00, 0x10, 0x13, 0x88, 0x00, 0x00,  //   UDP 5000, reserved
                   0x00, 0x01, 0x00, 0x08, 10, 0, 0, 3,             //     10.0.0.3
                   0x00, 0x08, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01,  //   RR
                   0x00, 0x09, 0x00, 0x08, 's', 'g', 'w', '1',      // Pool Handle "sgw1"
                   0x00, 0x0a, 0x00, 0x2c,                          // PE, length 44
                   0x00, 0x00, 0x00, 0xbb, 0x05, 0x06, 0x07, 0x08,  //   id 0xbb, home
                   0x00, 0x00, 0x13, 0x88,                          //   5000 ms
                   0x00, 0x04, 0x00, 0x10, 0x0b, 0x59, 0x00, 0x00,  //   SCTP 2905
                   0x00, 0x01, 0x00, 0x08, 10, 0, 0, 4,             //     10.0.0.4
                   0x00, 0x08, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x05,  //   PRIO
                   0x00, 0x00, 0x00, 0x09,                          //     priority 9
               },
               HandleTableResponse{
                   0x05060708, 0x01020304, true, false,
                   {{gwc, {pe(0xaa, 0x05060708, -1, ip_transport(TransportProtocol::udp, 5000, v4(10, 0, 0, 3)),
                              policy(PolicyType::round_robin))}},
                    {PoolHandle("sgw1"), {pe(0xbb, 0x05060708, 5000, sctp(2905, {v4(10, 0, 0, 4)}),
                                             policy(PolicyType::priority, 9))}}}}});
  g.push_back({"init_takeover",
               {
                   0x07, 0x00, 0x00, 0x10,                          // INIT_TAKEOVER, length 16
                   0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00,  // sender, receiver
                   0x0b, 0xad, 0xf0, 0x0d,                          // target
               },
               InitTakeover{0x01020304, 0, 0x0badf00d}});
  g.push_back({"handle_table_request_own_children",
               {0x02, 0x01, 0x00, 0x0c, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08},
               HandleTableRequest{0x01020304, 0x05060708, true}});
  return g;
}

}  // namespace wiretest
