#include "rserpool/asap/pass_through.hpp"

#include <algorithm>

namespace rserpool::asap {

namespace {

// Two parameters name the same destination when protocol, port and the set
// of addresses agree (order and the transport-use field do not matter).
bool same_destination(const TransportParameter& a, const TransportParameter& b) {
  if (a.protocol != b.protocol || a.port != b.port) return false;
  auto covers = [](const TransportParameter& x, const TransportParameter& y) {
    return std::all_of(x.addresses.begin(), x.addresses.end(), [&](const IpAddress& ip) {
      return std::find(y.addresses.begin(), y.addresses.end(), ip) != y.addresses.end();
    });
  };
  return covers(a, b) && covers(b, a);
}

}  // namespace

std::string_view to_string(PassThroughError e) noexcept {
  switch (e) {
    case PassThroughError::session_closed: return "session-closed";
    case PassThroughError::bad_address: return "bad-address";
    case PassThroughError::too_many_channels: return "too-many-channels";
    case PassThroughError::queue_full: return "queue-full";
  }
  return "?";
}

std::optional<PassThroughError> check_pass_through_address(const TransportParameter& address) {
  if (address.protocol != TransportProtocol::sctp && address.protocol != TransportProtocol::tcp)
    return PassThroughError::bad_address;
  if (address.port == 0 || address.addresses.empty()) return PassThroughError::bad_address;
  for (const auto& ip : address.addresses)
    if (ip.is_unspecified()) return PassThroughError::bad_address;
  return std::nullopt;
}

std::vector<PassThroughChannels::Channel>::iterator PassThroughChannels::find(ChannelId id) {
  return std::find_if(channels_.begin(), channels_.end(), [id](const Channel& c) { return c.id == id; });
}

std::optional<ChannelId> PassThroughChannels::channel_for(const TransportParameter& address) const {
  for (const auto& c : channels_)
    if (same_destination(c.address, address)) return c.id;
  return std::nullopt;
}

const TransportParameter* PassThroughChannels::address_of(ChannelId channel) const {
  for (const auto& c : channels_)
    if (c.id == channel) return &c.address;
  return nullptr;
}

Result<ChannelId, PassThroughError> PassThroughChannels::send(const TransportParameter& address, Bytes data,
                                                              Actions& out) {
  if (auto e = check_pass_through_address(address)) return unexpected(*e);
  auto it = std::find_if(channels_.begin(), channels_.end(),
                         [&](const Channel& c) { return same_destination(c.address, address); });
  if (it == channels_.end()) {
    if (channels_.size() >= config_.max_channels) return unexpected(PassThroughError::too_many_channels);
    Channel c;
    c.id = next_id_++;
    c.address = address;
    out.push_back(ConnectAddress{session_, c.id, address});
    channels_.push_back(std::move(c));
    it = std::prev(channels_.end());
  }
  if (it->up) {
    out.push_back(SendDataToAddress{session_, it->id, std::move(data)});
    return it->id;
  }
  if (it->waiting.size() >= config_.max_queued) return unexpected(PassThroughError::queue_full);
  it->waiting.push_back(std::move(data));
  return it->id;
}

void PassThroughChannels::close(const TransportParameter& address, Actions& out) {
  auto it = std::find_if(channels_.begin(), channels_.end(),
                         [&](const Channel& c) { return same_destination(c.address, address); });
  if (it == channels_.end()) return;
  out.push_back(DisconnectAddress{session_, it->id});
  channels_.erase(it);
}

void PassThroughChannels::close_all(Actions& out) {
  for (const auto& c : channels_) out.push_back(DisconnectAddress{session_, c.id});
  channels_.clear();
}

void PassThroughChannels::on_connected(ChannelId channel, Actions& out) {
  auto it = find(channel);
  if (it == channels_.end() || it->up) return;  // closed meanwhile, or a duplicate
  it->up = true;
  for (auto& d : it->waiting) out.push_back(SendDataToAddress{session_, channel, std::move(d)});
  it->waiting.clear();
}

void PassThroughChannels::on_failed(ChannelId channel, std::size_t undelivered, Actions& out) {
  auto it = find(channel);
  if (it == channels_.end()) return;
  PassThroughFailed f;
  f.session = session_;
  f.channel = channel;
  f.address = std::move(it->address);
  f.reason = it->up ? PassThroughFailure::lost : PassThroughFailure::connect_failed;
  f.dropped = it->waiting.size() + undelivered;
  channels_.erase(it);
  out.push_back(std::move(f));
}

}  // namespace rserpool::asap
