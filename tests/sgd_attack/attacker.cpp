#include "attacker.hpp"

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "mxua/codec.hpp"
#include "process.hpp"
#include "rserpool/base/log.hpp"
#include "rserpool/wire/asap.hpp"

namespace attack {

namespace {

tr::TransportKind kind() {
  const char* t = std::getenv("SG_TEST_TRANSPORT");
  return t && std::string(t) == "sctp" ? tr::TransportKind::sctp : tr::TransportKind::tcp;
}

void put16(rserpool::Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put32(rserpool::Bytes& b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v >> 16));
  put16(b, static_cast<std::uint16_t>(v));
}

}  // namespace

bool Link::send(std::uint32_t ppid, std::uint16_t stream, rserpool::Bytes payload) {
  if (!association || down) return false;
  return association->send(tr::Message{ppid, stream, false, std::move(payload)}).ok();
}

std::vector<mxua::Message> Link::m3ua() const {
  std::vector<mxua::Message> out;
  for (const auto& m : received)
    if (auto d = mxua::decode(m.payload); d.ok()) out.push_back(std::move(d.value()));
  return out;
}

std::size_t Link::m3ua_errors(mxua::ErrorCode code) const {
  std::size_t n = 0;
  for (const auto& m : m3ua())
    if (const auto* e = std::get_if<mxua::Err>(&m); e && e->code == code) ++n;
  return n;
}

std::size_t Link::m3ua_errors() const {
  std::size_t n = 0;
  for (const auto& m : m3ua()) if (std::holds_alternative<mxua::Err>(m)) ++n;
  return n;
}

std::size_t Link::asap_errors() const {
  std::size_t n = 0;
  for (const auto& m : received)
    if (auto d = rserpool::wire::asap::decode(m.payload);
        d.ok() && std::holds_alternative<rserpool::wire::asap::Error>(d.value().message))
      ++n;
  return n;
}

Attacker::Attacker(std::string local_ip) : local_ip_(std::move(local_ip)) {
  // Hundreds of attacker associations: their up/down lines would drown the
  // figures the tests print.
  rserpool::log::get("transport")->set_level(spdlog::level::warn);
}

Attacker::~Attacker() {
  close_all();
  run_for(20ms);
}

std::shared_ptr<Link> Attacker::connect(const std::string& remote_ip, std::uint16_t port, bool wait_up) {
  auto link = std::make_shared<Link>();
  tr::EndpointConfig e;
  e.kind = kind();
  e.name = "attacker";
  e.local_addresses = {*rserpool::IpAddress::parse(local_ip_)};
  e.remote_addresses = {*rserpool::IpAddress::parse(remote_ip)};
  e.remote_port = port;
  e.out_streams = 2;
  e.in_streams = 2;
  auto a = tr::connect(io_, e, link);
  if (!a.ok()) return nullptr;
  link->association = *a;
  links_.push_back(link);
  if (wait_up) run_until([&] { return link->up || link->down; }, 5000ms);
  return link;
}

void Attacker::run_for(std::chrono::milliseconds d) {
  io_.restart();
  io_.run_for(d);
}

bool Attacker::run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    run_for(5ms);
  }
  return true;
}

// The transport posts an abort to the association's executor; every one
// of them runs here, whatever time that takes. (A run_for of 100 ms after
// the aborts was not enough in a loaded UML: the loop lost the CPU with
// most aborts still queued, and those associations stayed up at sgd until
// the test ended and this loop ran again. sgd's descriptors "did not come
// back": 12 and 27 of them in two runs.)
void Attacker::close_all() {
  for (auto& l : links_)
    if (l->association && !l->down) l->association->abort();
  links_.clear();
  io_.restart();
  for (int round = 0; round < 1000 && io_.poll() > 0; ++round) {
  }
}

std::size_t Attacker::up_count() const {
  return static_cast<std::size_t>(
      std::count_if(links_.begin(), links_.end(), [](const auto& l) { return l->up && !l->down; }));
}

rserpool::Bytes m3ua(const mxua::Message& m) { return mxua::encode(m); }

rserpool::Bytes m3ua_data(std::uint32_t rc, std::uint32_t opc, std::uint32_t dpc, std::uint8_t si, std::uint8_t sls,
                          rserpool::Bytes user_data) {
  mxua::Data d;
  d.routing_context = rc;
  d.protocol_data.opc = mxua::PointCode{opc};
  d.protocol_data.dpc = mxua::PointCode{dpc};
  d.protocol_data.si = si;
  d.protocol_data.ni = 2;
  d.protocol_data.sls = sls;
  d.protocol_data.user_data = std::move(user_data);
  return mxua::encode(mxua::Message{d});
}

rserpool::Bytes bad_m3ua(std::size_t n) {
  rserpool::Bytes b;
  auto header = [&](std::uint8_t version, std::uint8_t cls, std::uint8_t type, std::uint32_t length) {
    b.push_back(version);
    b.push_back(0);
    b.push_back(cls);
    b.push_back(type);
    put32(b, length);
  };
  switch (n % 4) {
    case 0:  // BEAT with version 7: ERR Invalid Version
      header(7, 3, 3, 8);
      break;
    case 1:  // message class 99: ERR Unsupported Message Class
      header(1, 99, 1, 8);
      break;
    case 2:  // ASPSM type 99: ERR Unsupported Message Type
      header(1, 3, 99, 8);
      break;
    default:  // BEAT whose Heartbeat Data parameter claims 200 bytes of 8
      header(1, 3, 3, 16);
      put16(b, 0x0009);
      put16(b, 200);
      put32(b, 0xdeadbeef);
      break;
  }
  return b;
}

rserpool::Bytes bad_asap(std::size_t n) {
  if (n % 2 == 0) return {0x45, 0x00, 0x00, 0x04};  // unknown type, top bits 01: report it
  // ENDPOINT_UNREACHABLE (0x09) whose first parameter overruns the message.
  return {0x09, 0x00, 0x00, 0x0c, 0x00, 0x0b, 0x00, 0x40, 0x01, 0x02, 0x03, 0x04};
}

long rss_kib(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

long open_fds(int pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return -1;
  long n = 0;
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n;
}

std::size_t line_count(const std::string& path) {
  const auto text = sgtest::read_file(path);
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace attack
