#pragma once
// Shared by the M3UA driver tests, the osmo-stp interop tests and the load
// program: an Events recorder, bounded event-loop helpers, DATA builders.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "event_loop.hpp"
#include "mxua/codec.hpp"
#include "mxua/driver/asp_connection.hpp"
#include "mxua/driver/sgp_server.hpp"

namespace m3uatest {

namespace tr = rserpool::transport;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using sgtest::backend;
using sgtest::run_for;
using sgtest::run_until;
using sgtest::sctp_backend;

inline rserpool::IpAddress ip(const char* text) { return *rserpool::IpAddress::parse(text); }

// Records every indication of one driver user.
struct Recorder : mxua::driver::Events {
  std::vector<mxua::DataIndication> data;
  std::vector<mxua::AspStateChanged> asp;
  std::vector<mxua::AsStateChanged> as;
  std::vector<mxua::NtfyIndication> ntfy;
  std::vector<mxua::ErrIndication> err;
  std::vector<mxua::RegistrationIndication> reg;
  std::vector<mxua::Drop> drops;
  std::vector<mxua::Data> handed_back;
  std::vector<mxua::RequestFailed> failed;
  int ups = 0;
  int downs = 0;
  int refused = 0;
  std::vector<tr::DownReason> down_reasons;
  std::function<void(mxua::DataIndication&)> on_data_hook;

  void on_association_up(mxua::AssocId, const tr::AssociationInfo&) override { ++ups; }
  void on_association_down(mxua::AssocId, tr::DownReason r) override {
    ++downs;
    down_reasons.push_back(r);
  }
  void on_association_refused(mxua::AssocId, const tr::AssociationInfo&) override { ++refused; }
  void on_data(mxua::DataIndication&& d) override {
    if (on_data_hook) on_data_hook(d);
    data.push_back(std::move(d));
  }
  void on_asp_state(const mxua::AspStateChanged& c) override { asp.push_back(c); }
  void on_as_state(const mxua::AsStateChanged& c) override { as.push_back(c); }
  void on_ntfy(const mxua::NtfyIndication& n) override { ntfy.push_back(n); }
  void on_err(const mxua::ErrIndication& e) override { err.push_back(e); }
  void on_registration(const mxua::RegistrationIndication& r) override { reg.push_back(r); }
  void on_request_failed(const mxua::RequestFailed& r) override { failed.push_back(r); }
  void on_drop(const mxua::Drop& d) override { drops.push_back(d); }
  void on_send_failed(mxua::AssocId, std::vector<mxua::Data>&& unsent) override {
    for (auto& d : unsent) handed_back.push_back(std::move(d));
  }

  bool saw_as(mxua::AsState from, mxua::AsState to) const {
    for (const auto& c : as)
      if (c.from == from && c.to == to) return true;
    return false;
  }
  bool saw_asp_down() const {
    for (const auto& c : asp)
      if (c.to == mxua::AspState::Down) return true;
    return false;
  }
  std::size_t drops_of(mxua::DropReason r) const {
    std::size_t n = 0;
    for (const auto& d : drops)
      if (d.reason == r) n += d.count;
    return n;
  }
};

// Runs the loop until done() or the limit; false on timeout.

// DATA with the routing label and a payload that carries (sls, seq).
inline mxua::Data make_data(std::uint32_t opc, std::uint32_t dpc, std::uint8_t si, std::uint8_t sls,
                            std::uint32_t seq, std::optional<std::uint32_t> rc, std::size_t size = 60) {
  mxua::Data d;
  d.routing_context = rc;
  auto& p = d.protocol_data;
  p.opc = mxua::PointCode{opc};
  p.dpc = mxua::PointCode{dpc};
  p.si = si;
  p.ni = 2;
  p.mp = 0;
  p.sls = sls;
  p.user_data.resize(std::max<std::size_t>(size, 8));
  for (std::size_t i = 0; i < p.user_data.size(); ++i) p.user_data[i] = static_cast<std::uint8_t>(i * 7 + sls);
  p.user_data[0] = static_cast<std::uint8_t>(seq >> 24);
  p.user_data[1] = static_cast<std::uint8_t>(seq >> 16);
  p.user_data[2] = static_cast<std::uint8_t>(seq >> 8);
  p.user_data[3] = static_cast<std::uint8_t>(seq);
  p.user_data[4] = sls;
  return d;
}

inline std::uint32_t seq_of(const mxua::Data& d) {
  const auto& u = d.protocol_data.user_data;
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) | u[3];
}

}  // namespace m3uatest
