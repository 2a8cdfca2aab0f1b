#include "load_generator.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <random>

#include "rserpool/base/log.hpp"
#include "rserpool/transport/endpoint.hpp"

namespace rserpool::loadgen {

namespace asap = wire::asap;
namespace tr = transport;

namespace {
constexpr std::uint32_t kAsapPpid = 11;
constexpr std::uint32_t kMaxResolutionItems = 1024;  // rspregistrar's cap, and ours
constexpr auto kConnectRetry = std::chrono::milliseconds(200);
constexpr auto kSweepPause = std::chrono::milliseconds(20);

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string cause_name(const std::vector<OperationErrorCause>& causes) {
  if (causes.empty()) return "none";
  return std::string(to_string(causes.front().code));
}
}  // namespace

struct LoadGenerator::Link : tr::AssociationHandler {
  LoadGenerator* gen;
  std::size_t index;
  Link(LoadGenerator* g, std::size_t i) : gen(g), index(i) {}
  void on_up(tr::Association&, const tr::AssociationInfo& info) override { gen->on_link_up(index, info); }
  void on_message(tr::Association&, tr::Message&& msg) override { gen->on_link_message(index, std::move(msg)); }
  void on_send_failed(tr::Association&, std::vector<tr::Message>&& unsent) override {
    gen->report_.errors["send_failed"] += unsent.size();
  }
  void on_down(tr::Association&, tr::DownReason reason) override { gen->on_link_down(index, reason); }
};

LoadGenerator::LoadGenerator(boost::asio::io_context& io, Options options)
    : io_(io), o_(std::move(options)), pacer_(io), deadline_(io), retry_(io), signals_(io, SIGINT, SIGTERM) {
  for (std::size_t p = 0; p < o_.pools; ++p) pool_handles_.emplace_back(o_.pool_prefix + "-" + std::to_string(p));

  // Distinct non-zero identifiers: an odd stride is a bijection modulo 2^32.
  std::uint32_t base = o_.seed;
  if (base == 0) base = std::random_device{}();
  pes_.resize(o_.pes);
  pe_index_.reserve(o_.pes * 2);
  for (std::size_t i = 0; i < o_.pes; ++i) {
    auto id = static_cast<PeIdentifier>(base + static_cast<std::uint32_t>(i) * 2654435761u);
    if (id == 0) id = 0x5eed5eedu ^ base;  // at most one PE can land on zero
    pes_[i].id = id;
    pes_[i].pool = static_cast<std::uint32_t>(i % o_.pools);
    pes_[i].link = static_cast<std::uint32_t>(i % o_.associations);
    pe_index_.emplace(id, i);
  }

  const std::size_t reg_links = o_.pes > 0 ? o_.associations : 0;
  for (std::size_t i = 0; i < reg_links; ++i) links_.push_back(LinkState{o_.registrars[i % o_.registrars.size()], {}, {}, false, {}, {}});
  if (wants_resolver()) links_.push_back(LinkState{o_.resolve_at.value_or(o_.registrars.front()), {}, {}, false, {}, {}});
}

LoadGenerator::~LoadGenerator() = default;

bool LoadGenerator::wants_resolver() const noexcept {
  return o_.resolutions > 0 || o_.duration_s > 0 || o_.converge > 0;
}

Report& LoadGenerator::run() {
  run_start_ = Clock::now();
  signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (phase_ != Phase::holding) {
      error("interrupted");
      report_.ok = false;
    }
    enter(Phase::deregistering);
  });
  if (links_.empty()) {
    finish();
  } else {
    enter(Phase::connecting);
    for (std::size_t i = 0; i < links_.size(); ++i) connect(i);
  }
  io_.run();
  return report_;
}

void LoadGenerator::connect(std::size_t i) {
  tr::EndpointConfig c;
  c.kind = o_.kind;
  c.remote_addresses = {links_[i].target.ip};
  c.remote_port = links_[i].target.port;
  if (o_.local_address) c.local_addresses = {*o_.local_address};
  c.send_queue_limit = std::max<std::size_t>(65536, o_.window * 4 + o_.pes);
  c.name = "loadgen-" + std::to_string(i);
  links_[i].handler = std::make_shared<Link>(this, i);
  auto a = tr::connect(io_, c, links_[i].handler);
  if (!a) {
    error("connect:" + a.error().message());
    report_.ok = false;
    finish();
    return;
  }
  links_[i].assoc = std::move(a.value());
}

void LoadGenerator::on_link_up(std::size_t i, const tr::AssociationInfo& info) {
  links_[i].up = true;
  if (!info.local.empty()) links_[i].bound = info.local.front().ip;
  if (phase_ == Phase::connecting &&
      std::all_of(links_.begin(), links_.end(), [](const LinkState& l) { return l.up; })) {
    enter(Phase::registering);
  }
}

void LoadGenerator::on_link_down(std::size_t i, tr::DownReason reason) {
  links_[i].up = false;
  links_[i].assoc.reset();
  if (phase_ == Phase::closing || phase_ == Phase::done) {
    if (std::none_of(links_.begin(), links_.end(), [](const LinkState& l) { return l.assoc != nullptr; })) {
      retry_.cancel();
      phase_ = Phase::done;
    }
    return;
  }
  if (phase_ == Phase::connecting || (phase_ == Phase::converging && i == resolver_link())) {
    // The registrar may still be starting (a new registrar in a download
    // measurement): retry until the phase deadline.
    if (reason == tr::DownReason::connect_failed) {
      auto t = std::make_shared<boost::asio::steady_timer>(io_, kConnectRetry);
      t->async_wait([this, i, t](const boost::system::error_code& ec) {
        if (!ec && (phase_ == Phase::connecting || phase_ == Phase::converging)) connect(i);
      });
      return;
    }
  }
  error("association_down:" + std::string(tr::to_string(reason)));
  report_.ok = false;
  finish();
}

void LoadGenerator::error(const std::string& cause) {
  // Keys of the key=value report: no spaces, lower case.
  std::string key = cause;
  for (auto& ch : key) {
    if (ch == ' ' || ch == '=') ch = '_';
    else if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  ++report_.errors[key];
  rserpool::log::get("loadgen")->debug("error: {}", cause);
}

void LoadGenerator::print_phase(const char* what) {
  std::printf("phase=%s registered=%zu registration_failures=%zu elapsed_ms=%.0f\n", what, report_.registered,
              report_.registration_failures, seconds_since(run_start_) * 1000.0);
  std::fflush(stdout);
}

void LoadGenerator::enter(Phase p) {
  if (phase_ == Phase::closing || phase_ == Phase::done) return;
  // Phases with nothing to do fall through to the next one.
  if (p == Phase::registering && o_.pes == 0) p = Phase::resolving;
  if (p == Phase::resolving && o_.resolutions == 0 && o_.duration_s <= 0) p = Phase::converging;
  if (p == Phase::converging && o_.converge == 0) p = Phase::holding;
  if (p == Phase::holding && o_.hold_s == 0) p = Phase::deregistering;
  if (p == Phase::deregistering && (!o_.deregister || report_.registered == 0)) p = Phase::closing;
  if (p == Phase::closing) {
    finish();
    return;
  }
  phase_ = p;
  phase_start_ = Clock::now();
  next_ = 0;
  sent_in_phase_ = 0;
  outstanding_ = 0;
  answered_ = 0;
  deadline_.cancel();
  if (p == Phase::holding) {
    print_phase("holding");
    if (o_.hold_s > 0) {
      deadline_.expires_after(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.hold_s)));
      deadline_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) enter(Phase::deregistering);
      });
    }
    return;
  }
  deadline_.expires_after(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.timeout_s)));
  deadline_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) phase_timeout();
  });
  if (p == Phase::converging) {
    start_sweep();
    return;
  }
  if (p != Phase::connecting) pump();
}

void LoadGenerator::phase_timeout() {
  static constexpr const char* kNames[] = {"connecting", "registering", "resolving", "converging",
                                           "holding",    "deregistering", "closing", "done"};
  error(std::string("timeout:") + kNames[static_cast<int>(phase_)]);
  report_.ok = false;
  if (phase_ == Phase::registering) report_.registration_s = seconds_since(phase_start_);
  if (phase_ == Phase::deregistering || phase_ == Phase::connecting) {
    finish();
    return;
  }
  if (phase_ == Phase::converging) {
    enter(Phase::holding);
    return;
  }
  enter(Phase::deregistering);
}

bool LoadGenerator::send(std::size_t i, const asap::Message& m) {
  auto& l = links_[i];
  if (!l.assoc) {
    error("send:not_connected");
    return false;
  }
  auto r = l.assoc->send(tr::Message{kAsapPpid, 0, false, asap::encode(m)});
  if (!r) {
    error("send:" + std::string(tr::to_string(r.error())));
    return false;
  }
  return true;
}

void LoadGenerator::send_registration(Pe& pe) {
  const auto& l = links_[pe.link];
  asap::Registration reg;
  reg.pool_handle = pool_handles_[pe.pool];
  reg.pool_element.id = pe.id;
  reg.pool_element.registration_life_ms = o_.life_ms;
  reg.pool_element.user_transport.protocol = TransportProtocol::sctp;
  reg.pool_element.user_transport.use = TransportUse::data_and_control;
  const auto index = static_cast<std::size_t>(&pe - pes_.data());
  reg.pool_element.user_transport.port =
      static_cast<std::uint16_t>(o_.pe_base_port + index % (65536u - o_.pe_base_port));
  reg.pool_element.user_transport.addresses = {
      o_.pe_address.value_or(l.bound.value_or(IpAddress::v4_loopback()))};
  reg.pool_element.policy.type = o_.policy;
  reg.pool_element.policy.weight = 1;
  pe.sent = Clock::now();
  pe.state = PeState::pending;
  ++outstanding_;
  ++sent_in_phase_;
  if (!send(pe.link, reg)) {
    pe.state = PeState::rejected;
    --outstanding_;
    ++answered_;
    ++report_.registration_failures;
  }
}

void LoadGenerator::send_resolution(std::uint32_t pool, std::uint32_t items) {
  const std::size_t i = resolver_link();
  asap::HandleResolution hr;
  hr.pool_handle = pool_handles_[pool];
  hr.items = items;
  ++outstanding_;
  ++sent_in_phase_;
  links_[i].resolutions.push_back(PendingResolution{pool, Clock::now()});
  if (!send(i, hr)) {
    links_[i].resolutions.pop_back();
    --outstanding_;
    ++answered_;
    ++report_.resolution_failures;
  }
}

void LoadGenerator::arm_pacer() {
  if (pacer_armed_) return;
  pacer_armed_ = true;
  pacer_.expires_after(std::chrono::milliseconds(1));
  pacer_.async_wait([this](const boost::system::error_code& ec) {
    pacer_armed_ = false;
    if (!ec) pump();
  });
}

void LoadGenerator::pump() {
  // How many more requests the rate allows now (unbounded without a rate).
  auto budget = [this]() -> bool {
    if (o_.rate <= 0) return true;
    const double allowed = o_.rate * seconds_since(phase_start_) + 1.0;
    if (static_cast<double>(sent_in_phase_) < allowed) return true;
    arm_pacer();
    return false;
  };
  const Phase p = phase_;
  if (p == Phase::registering) {
    while (next_ < pes_.size() && outstanding_ < o_.window && budget()) send_registration(pes_[next_++]);
    if (answered_ == pes_.size()) {
      report_.registration_s = seconds_since(phase_start_);
      print_phase("registered");
      enter(Phase::resolving);
    }
  } else if (p == Phase::resolving) {
    const bool by_count = o_.resolutions > 0;
    auto more = [&]() {
      return by_count ? next_ < o_.resolutions : seconds_since(phase_start_) < o_.duration_s;
    };
    while (more() && outstanding_ < o_.window && budget()) {
      ++next_;
      send_resolution(resolve_pool_, o_.items);
      resolve_pool_ = static_cast<std::uint32_t>((resolve_pool_ + 1) % o_.pools);
    }
    if (!more() && outstanding_ == 0) {
      report_.resolution_s = seconds_since(phase_start_);
      enter(Phase::converging);
    } else if (!by_count && outstanding_ == 0) {
      arm_pacer();  // nothing in flight: come back when the rate or the clock allows
    }
  } else if (p == Phase::deregistering) {
    while (next_ < pes_.size() && outstanding_ < o_.window) {
      Pe& pe = pes_[next_++];
      if (pe.state != PeState::registered) continue;
      pe.state = PeState::deregistering;
      ++outstanding_;
      ++sent_in_phase_;
      if (!send(pe.link, asap::Deregistration{pool_handles_[pe.pool], pe.id})) {
        --outstanding_;
        pe.state = PeState::registered;
      }
    }
    if (next_ == pes_.size() && outstanding_ == 0) finish();
  }
}

void LoadGenerator::start_sweep() {
  visible_.assign(o_.pools, 0);
  sweep_answers_ = 0;
  const std::size_t per_pool = (o_.converge + o_.pools - 1) / o_.pools;
  const auto items = static_cast<std::uint32_t>(
      std::min<std::size_t>(kMaxResolutionItems, std::max<std::size_t>(o_.items, per_pool)));
  for (std::uint32_t p = 0; p < o_.pools; ++p) send_resolution(p, items);
}

void LoadGenerator::on_link_message(std::size_t i, tr::Message&& msg) {
  if (msg.ppid != kAsapPpid) {
    error("unexpected_ppid");
    return;
  }
  auto d = asap::decode(msg.payload);
  if (!d) {
    error("decode:" + std::string(wire::to_string(d.error().failure)));
    if (auto reply = asap::error_reply(d.error())) send(i, *reply);
    return;
  }
  auto& m = d.value().message;
  if (auto* r = std::get_if<asap::RegistrationResponse>(&m)) {
    on_registration_response(*r);
  } else if (auto* hr = std::get_if<asap::HandleResolutionResponse>(&m)) {
    on_resolution_response(i, *hr);
  } else if (auto* k = std::get_if<asap::EndpointKeepAlive>(&m)) {
    on_keep_alive(i, *k);
  } else if (auto* dr = std::get_if<asap::DeregistrationResponse>(&m)) {
    on_deregistration_response(*dr);
  } else if (auto* e = std::get_if<asap::Error>(&m)) {
    error("asap_error:" + cause_name(e->causes));
  } else if (std::holds_alternative<asap::ServerAnnounce>(m)) {
    // harmless
  } else {
    error("unexpected:" + std::string(asap::to_string(asap::message_type(m))));
  }
}

void LoadGenerator::on_registration_response(const asap::RegistrationResponse& r) {
  auto it = pe_index_.find(r.pe_id);
  if (it == pe_index_.end() || pes_[it->second].state != PeState::pending) {
    error("unmatched_registration_response");
    return;
  }
  Pe& pe = pes_[it->second];
  report_.registration_latency.add(Clock::now() - pe.sent);
  --outstanding_;
  ++answered_;
  if (r.rejected) {
    pe.state = PeState::rejected;
    ++report_.registration_failures;
    report_.ok = false;
    error("registration_rejected:" + cause_name(r.error));
  } else {
    pe.state = PeState::registered;
    ++report_.registered;
  }
  if (phase_ == Phase::registering) pump();
}

void LoadGenerator::on_deregistration_response(const asap::DeregistrationResponse& r) {
  auto it = pe_index_.find(r.pe_id);
  if (it == pe_index_.end() || pes_[it->second].state != PeState::deregistering) {
    error("unmatched_deregistration_response");
    return;
  }
  pes_[it->second].state = PeState::deregistered;
  if (!r.error.empty()) error("deregistration:" + cause_name(r.error));
  ++report_.deregistered;
  --outstanding_;
  ++answered_;
  if (phase_ == Phase::deregistering) pump();
}

void LoadGenerator::on_resolution_response(std::size_t i, const asap::HandleResolutionResponse& r) {
  auto& q = links_[i].resolutions;
  const auto want = std::find(pool_handles_.begin(), pool_handles_.end(), r.pool_handle);
  if (want == pool_handles_.end()) {
    error("unmatched_resolution_response");
    return;
  }
  const auto pool = static_cast<std::uint32_t>(want - pool_handles_.begin());
  // Answers come back in order on one association; a request the registrar
  // dropped (rate limit) shows up as a skipped entry.
  while (!q.empty() && q.front().pool != pool) {
    q.pop_front();
    --outstanding_;
    ++answered_;
    ++report_.resolution_failures;
    error("resolution_lost");
  }
  if (q.empty()) {
    error("unmatched_resolution_response");
    return;
  }
  const auto sent = q.front().sent;
  q.pop_front();
  --outstanding_;
  ++answered_;
  const bool positive = r.error.empty() && !r.pool_elements.empty();
  if (phase_ == Phase::converging) {
    visible_[pool] = positive ? r.pool_elements.size() : 0;
    if (++sweep_answers_ < o_.pools) return;
    std::size_t total = 0;
    for (auto v : visible_) total += v;
    report_.converge_visible = total;
    if (total >= o_.converge) {
      report_.converge_ms = seconds_since(run_start_) * 1000.0;
      enter(Phase::holding);
    } else {
      retry_.expires_after(kSweepPause);
      retry_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec && phase_ == Phase::converging) start_sweep();
      });
    }
    return;
  }
  report_.resolution_latency.add(Clock::now() - sent);
  if (positive) {
    ++report_.resolutions;
    report_.resolved_pes += r.pool_elements.size();
  } else {
    ++report_.resolution_failures;
    error("resolution_negative:" + cause_name(r.error));
  }
  if (phase_ == Phase::resolving) pump();
}

void LoadGenerator::on_keep_alive(std::size_t i, const asap::EndpointKeepAlive& k) {
  if (k.pe_id) {
    send(i, asap::EndpointKeepAliveAck{k.pool_handle, *k.pe_id});
    ++report_.keep_alives_answered;
    return;
  }
  // RFC 5352 2.2.7 names no PE: answer for each of ours in that pool here.
  for (const auto& pe : pes_) {
    if (pe.link == i && pe.state == PeState::registered && pool_handles_[pe.pool] == k.pool_handle) {
      send(i, asap::EndpointKeepAliveAck{k.pool_handle, pe.id});
      ++report_.keep_alives_answered;
    }
  }
}

void LoadGenerator::finish() {
  if (phase_ == Phase::closing || phase_ == Phase::done) return;
  phase_ = Phase::closing;
  pacer_.cancel();
  deadline_.cancel();
  signals_.cancel();
  bool any = false;
  for (auto& l : links_) {
    if (l.assoc) {
      any = true;
      l.assoc->close();
    }
  }
  if (!any) {
    retry_.cancel();
    phase_ = Phase::done;
    return;
  }
  // Graceful close waits for the peer; do not let a silent peer hang the run.
  retry_.expires_after(std::chrono::seconds(3));
  retry_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    for (auto& l : links_)
      if (l.assoc) l.assoc->abort();
    io_.stop();
  });
}

}  // namespace rserpool::loadgen
