#pragma once
// ss7-gen's command line: where the SG (or an STP) is, what to send, how to
// report. Defaults match conf/sgd-default.cfg (SGP on 127.0.0.1:2905,
// routing context 100, the pool's point code 0.23.1).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rserpool/base/ip_address.hpp"
#include "rserpool/transport/config.hpp"

namespace sg::ss7gen {

struct Options {
  std::vector<rserpool::TransportAddress> connect;  // SGP addresses (multi-homed: same port)
  // The mate SG of a pair (multi-homed: same port): SLS load sharing over
  // the two, failover when one is lost, changeback when it returns.
  std::vector<rserpool::TransportAddress> mate;
  // How long messages wait while no SG is ACTIVE (0: discarded, as toward
  // an unavailable route); and the time-controlled changeback.
  std::chrono::milliseconds hold_while_down{0};
  std::chrono::milliseconds changeback{50};
  rserpool::transport::TransportKind transport = rserpool::transport::TransportKind::automatic;
  std::optional<std::uint32_t> routing_context = 100;  // none: ASPAC without RC
  bool register_key = false;  // RKM REG REQ for our DPC instead of a configured RC (osmo-stp)
  std::uint32_t opc = 0;      // filled from opc_text
  std::uint32_t dpc = 0;
  std::string opc_text = "0.23.2";
  std::string dpc_text = "0.23.1";
  std::uint8_t ni = 2;  // national
  double cps = 50;
  double sccp_rate = 0;
  std::chrono::milliseconds hold{200};
  std::chrono::milliseconds answer_timeout{5000};
  // Q.764 T1: an unanswered REL is sent again after this (0: never).
  std::chrono::milliseconds t1{0};
  std::uint16_t first_cic = 1;
  std::uint16_t cic_count = 2000;
  double duration_s = 10;
  std::chrono::milliseconds drain_timeout{6000};  // after duration: calls in progress finish
  std::chrono::milliseconds connect_timeout{10000};
  // Throughput mode: a closed loop of `window` SCCP queries in flight,
  // each answer sending the next one.
  bool max_rate = false;
  unsigned window = 64;
  std::size_t payload = 32;  // SCCP user data bytes in throughput mode
  // Throughput mode: stop after this many queries (0: --duration decides),
  // for counted runs (instructions or system calls per message).
  std::uint64_t queries = 0;
  std::chrono::milliseconds stats_interval{0};  // 0: no periodic lines
  bool aggressive = false;
  bool bundle = false;  // --bundle on: what is written together leaves bundled (SctpOptions::bundle)
  std::string name = "ss7-gen";
  // One line per ISUP message (generated, sent on an SG, refused, received),
  // with its CIC, for a test to tell what became of a failed call.
  std::string trace_path;
};

// Parses argv; on error or --help returns the text to print (and the exit
// code through `exit_code`).
std::optional<Options> parse_options(int argc, char** argv, std::string& message, int& exit_code);

}  // namespace sg::ss7gen
