#include "sg/gwc_link/profile.hpp"

namespace sg::gwc_link {

mxua::IpspConfig pool_user_side(std::optional<std::chrono::milliseconds> t_beat) {
  mxua::IpspConfig c;
  c.exchange = mxua::IpspExchange::Single;
  c.initiator = true;
  c.requesting.activations = {mxua::AspActivation{{kRoutingContext}, mxua::TrafficMode::Loadshare}};
  c.requesting.t_beat = t_beat;
  return c;
}

mxua::IpspConfig pool_element_side(std::optional<std::chrono::milliseconds> t_beat) {
  mxua::IpspConfig c;
  c.exchange = mxua::IpspExchange::Single;
  c.initiator = false;
  mxua::AsConfig as;
  as.name = "pool-user";
  as.routing_context = kRoutingContext;
  as.mode = mxua::TrafficMode::Loadshare;
  c.serving.application_servers = {as};
  c.serving.t_beat = t_beat;
  return c;
}

rserpool::transport::Message control_message(const rserpool::wire::asap::Message& m) {
  return rserpool::transport::Message{kAsapPpid, 0, false, rserpool::wire::asap::encode(m)};
}

}  // namespace sg::gwc_link
