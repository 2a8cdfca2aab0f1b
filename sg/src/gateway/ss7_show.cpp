// `show m3ua` and the SS7 side's metrics, rendered from a status snapshot
// (M3uaSide::status()): presentation only, no state of its own.
#include <iomanip>
#include <sstream>

#include "ss7_side.hpp"

namespace sg::gateway {
namespace {

std::string refusal_text(const mxua::RequestRefusal& r, rserpool::TimePoint now) {
  std::ostringstream o;
  o << mxua::message_name(r.request.msg_class, r.request.msg_type);
  if (!r.routing_contexts.empty()) {
    o << " RC";
    for (auto rc : r.routing_contexts) o << " " << rc;
  }
  if (r.request.msg_class == 4 && r.request.msg_type == mxua::type::kAspAc)
    o << " (" << (r.traffic_mode ? mxua::to_string(*r.traffic_mode) : std::string_view("no traffic mode")) << ")";
  o << ": ";
  if (r.error)
    o << "ERR " << mxua::to_string(*r.error) << " (0x" << std::hex << std::setw(2) << std::setfill('0')
      << static_cast<std::uint32_t>(*r.error) << std::dec << std::setfill(' ') << ")";
  else
    o << "no answer";
  o << ", " << rserpool::to_millis(now - r.at) / 1000 << " s ago";
  if (r.retry_at) {
    const auto in = rserpool::to_millis(*r.retry_at - now);
    o << (in > 0 ? ", retry in " + std::to_string(in) + " ms" : std::string(", retried"));
  }
  return o.str();
}

}  // namespace

std::string render(const Ss7Status& s) {
  std::ostringstream o;
  if (s.sgp) {
    o << "SGP on " << s.listen_text << "\n";
    for (const auto& a : s.associations)
      o << "  association " << a.id << " peer " << a.peer << " (" << a.address << ") ASP " << mxua::to_string(a.state)
        << "\n";
    for (const auto& a : s.ases)
      o << "  AS " << a.name << " RC " << a.rc << ": " << (a.state ? mxua::to_string(*a.state) : std::string_view("-"))
        << ", " << mxua::to_string(a.mode) << ", active ASPs " << a.active << ", queued " << a.queued << "\n";
    o << "  refused associations " << s.refused_associations << ", idle ones evicted " << s.evicted_associations
      << ", reset for DATA before ASP Up " << s.stale_asp_resets << "\n";
  } else {
    o << "SGP: not listening (no ss7-side local-ip)\n";
  }
  for (const auto& c : s.connections) {
    o << "connect " << c.name << " to " << c.remote << " port " << c.port << " as " << (c.ipsp ? "IPSP" : "ASP")
      << ": " << mxua::to_string(c.state) << ", connects " << c.connects << ", traffic mode "
      << mxua::to_string(c.configured_mode) << (c.follow ? " (follow)" : " (strict)");
    if (c.accepted_mode) o << ", accepted " << mxua::to_string(*c.accepted_mode);
    o << "\n";
    if (c.last_refusal)
      o << "  last refusal (" << c.refusals << " in all): " << refusal_text(*c.last_refusal, s.now) << "\n";
  }
  o << "M3UA drops:";
  bool any = false;
  for (std::size_t i = 0; i < mxua::kDropReasons; ++i)
    if (s.m3ua_drops.by_reason[i] != 0) {
      o << " " << mxua::to_string(static_cast<mxua::DropReason>(i)) << "=" << s.m3ua_drops.by_reason[i];
      any = true;
    }
  o << (any ? "\n" : " none\n");
  // DATA the controllers sent that no SS7 path took: the M3UA layer never saw it.
  o << "DATA to SS7 not sent: no path configured " << s.no_ss7_path << ", no path active " << s.ss7_refused << "\n";
  auto errs = [&](const char* what, const auto& table, std::uint64_t other) {
    o << "ERR " << what << ":";
    bool some = false;
    for (std::size_t i = 0; i < table.size(); ++i)
      if (table[i] != 0) {
        o << " " << mxua::to_string(static_cast<mxua::ErrorCode>(i)) << "=" << table[i];
        some = true;
      }
    if (other != 0) o << " other=" << other, some = true;
    o << (some ? "\n" : " none\n");
  };
  errs("sent", s.errors.sent, s.errors.sent_other);
  errs("received", s.errors.received, s.errors.received_other);
  o << "return paths: " << s.return_path_entries << " of " << s.return_path_capacity << ", learned "
    << s.return_paths.learned << ", refused " << s.return_paths.refused << ", evicted " << s.return_paths.evicted
    << ", released " << s.return_paths.released << "\n";
  return o.str();
}

void collect(const Ss7Status& s, std::vector<rserpool::ops::Sample>& out) {
  const auto n = [](std::uint64_t v) { return static_cast<double>(v); };
  std::size_t up = s.associations.size();
  for (const auto& c : s.connections)
    if (c.state != mxua::AspState::Down) ++up;
  out.push_back({"sg_ss7_associations", {}, static_cast<double>(up)});
  out.push_back({"sg_ss7_refused_associations_total", {}, n(s.refused_associations)});
  out.push_back({"sg_ss7_evicted_associations_total", {}, n(s.evicted_associations)});
  out.push_back({"sg_ss7_stale_asp_resets_total", {}, n(s.stale_asp_resets)});
  for (std::size_t i = 0; i < mxua::kDropReasons; ++i)
    out.push_back({"sg_m3ua_drops_total",
                   {{"reason", std::string(mxua::to_string(static_cast<mxua::DropReason>(i)))}},
                   n(s.m3ua_drops.by_reason[i])});
  for (std::size_t i = 0; i < mxua::ErrCounters::kCodes; ++i) {
    if (s.errors.sent[i] == 0 && s.errors.received[i] == 0) continue;
    const std::string code = std::string(mxua::to_string(static_cast<mxua::ErrorCode>(i)));
    out.push_back({"sg_m3ua_errors_total", {{"direction", "sent"}, {"code", code}}, n(s.errors.sent[i])});
    out.push_back({"sg_m3ua_errors_total", {{"direction", "received"}, {"code", code}}, n(s.errors.received[i])});
  }
  for (const auto& c : s.connections)
    out.push_back({"sg_ss7_request_refusals_total", {{"connect", c.name}}, n(c.refusals)});
  out.push_back({"sg_ss7_return_paths", {}, static_cast<double>(s.return_path_entries)});
  out.push_back({"sg_ss7_return_path_refused_total", {}, n(s.return_paths.refused)});
  out.push_back({"sg_ss7_return_path_evicted_total", {}, n(s.return_paths.evicted)});
}

}  // namespace sg::gateway
