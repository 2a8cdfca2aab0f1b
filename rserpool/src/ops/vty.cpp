#include "rserpool/ops/vty.hpp"

#include <dirent.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <vector>

extern "C" {
#include <osmocom/core/select.h>
#include <osmocom/core/talloc.h>
#include <osmocom/vty/command.h>
#include <osmocom/vty/telnet_interface.h>
#include <osmocom/vty/vty.h>
}

namespace rserpool::ops {

namespace {

// 0: no telnet listener (not started, stopped, or none configured).
std::atomic<std::uint16_t> g_bound_telnet_port{0};

// The port of libosmocore's telnet server socket. It keeps the socket to
// itself, but registers it in the select loop of the thread that called
// telnet_init: on the VTY thread, the only listening socket registered there
// (the other registered fd is our wake-up eventfd). Runs on the VTY thread.
std::optional<std::uint16_t> registered_listener_port() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  std::optional<std::uint16_t> port;
  while (const dirent* e = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd < 0 || fd > 1 << 20) continue;
    if (osmo_fd_get_by_fd(static_cast<int>(fd)) == nullptr) continue;
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening == 0)
      continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    if (addr.ss_family == AF_INET) {
      port = ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      port = ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
    }
    if (port) break;
  }
  closedir(dir);
  return port;
}

}  // namespace

std::optional<std::uint16_t> vty_bound_port() {
  const auto p = g_bound_telnet_port.load();
  if (p == 0) return std::nullopt;
  return p;
}

std::string ConfigError::to_string() const {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line);
  return s + ": " + reason;
}

struct Vty::Impl {
  struct Command {
    cmd_element element{};
    std::string syntax;
    std::string doc;
    CommandHandler handler;
  };
  struct Node {
    cmd_node node{};
    std::string prompt;
  };

  VtyOptions options;
  std::deque<Command> commands;  // stable addresses: libosmocore keeps pointers
  std::deque<Node> nodes;
  std::vector<std::pair<int, Command*>> installs;
  std::unordered_map<const cmd_element*, Command*> by_element;
  std::function<std::string()> config_writer;
  vty_app_info app{};
  std::string app_name, app_version;

  std::thread thread;
  int wake_fd = -1;
  std::atomic<std::uint16_t> bound_port{0};  // telnet, as bound (set on the VTY thread)
  osmo_fd wake{};
  std::mutex mutex;
  std::deque<std::function<void()>> tasks;
  bool stopping = false;

  // Set while a configuration source is being read.
  FILE* reading = nullptr;
  std::string reading_text;
  std::string reading_name;
  std::vector<ConfigError> errors;

  static Impl* current;  // libosmocore's callbacks carry no user pointer

  int line_of_current_read() const {
    if (reading == nullptr) return 0;
    const long pos = ftell(reading);
    if (pos <= 0) return 0;
    const auto end = std::min(static_cast<std::size_t>(pos), reading_text.size());
    const auto newlines = std::count(reading_text.begin(), reading_text.begin() + static_cast<long>(end), '\n');
    // fgets stopped after the line's newline, or at the end of a last line without one.
    const bool ends_with_newline = end > 0 && reading_text[end - 1] == '\n';
    return static_cast<int>(ends_with_newline ? newlines : newlines + 1);
  }

  // libosmocore's VTY_NEWLINE macro assumes a variable named `vty`.
  static const char* newline(const vty* v) { return v->type == VTY_TERM ? "\r\n" : "\n"; }

  static int trampoline(cmd_element* self, vty* v, int argc, const char* argv[]) {
    Impl* impl = current;
    auto it = impl->by_element.find(self);
    if (it == impl->by_element.end()) return CMD_WARNING;
    CommandContext ctx;
    for (int i = 0; i < argc; ++i) ctx.args.emplace_back(argv[i] != nullptr ? argv[i] : "");
    ctx.node = v->node;
    ctx.node_object = v->index;
    ctx.from_config_file = v->type == VTY_FILE;
    it->second->handler(ctx);
    if (!ctx.out.empty()) {
      std::string text;
      for (char c : ctx.out) {
        if (c == '\n') text += newline(v);
        else text += c;
      }
      vty_out(v, "%s", text.c_str());
    }
    if (!ctx.error.empty()) {
      if (ctx.from_config_file) {
        impl->errors.push_back(ConfigError{impl->reading_name, impl->line_of_current_read(), ctx.error});
      }
      vty_out(v, "%% %s%s", ctx.error.c_str(), newline(v));
      return CMD_WARNING;
    }
    if (ctx.enter_node >= 0) {
      v->node = ctx.enter_node;
      v->index = ctx.enter_object;
    }
    return CMD_SUCCESS;
  }

  static int write_config(vty* v) {
    Impl* impl = current;
    if (!impl->config_writer) return CMD_SUCCESS;
    std::istringstream lines(impl->config_writer());
    std::string line;
    while (std::getline(lines, line)) vty_out(v, "%s%s", line.c_str(), newline(v));
    return CMD_SUCCESS;
  }

  static int write_nothing(vty*) { return CMD_SUCCESS; }

  static int on_wake(osmo_fd* fd, unsigned int) {
    std::uint64_t n = 0;
    if (read(fd->fd, &n, sizeof n) < 0) return 0;
    Impl* impl = current;
    std::deque<std::function<void()>> todo;
    {
      std::lock_guard lock(impl->mutex);
      todo.swap(impl->tasks);
    }
    for (auto& t : todo) t();
    return 0;
  }

  void post(std::function<void()> fn) {
    {
      std::lock_guard lock(mutex);
      tasks.push_back(std::move(fn));
    }
    const std::uint64_t one = 1;
    if (write(wake_fd, &one, sizeof one) < 0) {
      // eventfd writes only fail on counter overflow; the loop is awake then.
    }
  }

  Result<void, ConfigError> read_config(const std::string& file, const std::string& embedded,
                                        const std::string& source_name) {
    if (!embedded.empty()) {
      reading_text = embedded;
      reading_name = source_name.empty() ? "(embedded configuration)" : source_name;
    } else if (!file.empty()) {
      std::ifstream in(file);
      if (!in) return unexpected(ConfigError{file, 0, std::string("cannot open: ") + std::strerror(errno)});
      std::stringstream ss;
      ss << in.rdbuf();
      reading_text = ss.str();
      reading_name = file;
      host_config_set(file.c_str());  // where `write file` saves
    } else {
      return {};
    }
    reading = fmemopen(reading_text.data(), reading_text.size(), "r");
    if (reading == nullptr) return unexpected(ConfigError{reading_name, 0, "cannot read"});
    errors.clear();
    const int rc = vty_read_config_filep(reading, nullptr);
    const int failed_line = line_of_current_read();
    fclose(reading);
    reading = nullptr;
    // A handler's own rejection (which also stops libosmocore) says best
    // what is wrong.
    if (!errors.empty()) return unexpected(errors.front());
    if (rc < 0) {
      // libosmocore stops at a line it cannot parse (unknown, ambiguous or
      // incomplete command, or wrong indentation).
      std::istringstream lines(reading_text);
      std::string text;
      for (int i = 0; i < failed_line && std::getline(lines, text);) ++i;
      const auto first = text.find_first_not_of(" \t");
      text = first == std::string::npos ? "" : text.substr(first);
      return unexpected(ConfigError{reading_name, failed_line, "invalid command '" + text + "'"});
    }
    return {};
  }
};

Vty::Impl* Vty::Impl::current = nullptr;

Vty::Vty(VtyOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  // The node holding the running configuration's writer; commands of the
  // daemon's own top-level statements live in CONFIG itself.
  add_node("config-body", "%s(config)# ");
}

Vty::~Vty() { stop(); }

int Vty::add_node(const std::string& name, const std::string& prompt, int /*parent*/) {
  auto& n = impl_->nodes.emplace_back();
  n.prompt = prompt;
  n.node.node = static_cast<int>(_LAST_OSMOVTY_NODE) + static_cast<int>(impl_->nodes.size());
  n.node.prompt = n.prompt.c_str();
  n.node.vtysh = 1;
  std::snprintf(n.node.name, sizeof n.node.name, "%s", name.c_str());
  return n.node.node;
}

void Vty::add_command(int node, const std::string& syntax, const std::vector<std::string>& doc, CommandHandler h) {
  auto& c = impl_->commands.emplace_back();
  c.syntax = syntax;
  for (const auto& d : doc) c.doc += d + "\n";
  c.handler = std::move(h);
  c.element.string = c.syntax.c_str();
  c.element.doc = c.doc.c_str();
  c.element.func = &Impl::trampoline;
  impl_->installs.emplace_back(node, &c);
  impl_->by_element[&c.element] = &c;
}

void Vty::add_show_command(const std::string& syntax, const std::vector<std::string>& doc, CommandHandler h) {
  auto shared = std::make_shared<CommandHandler>(std::move(h));
  add_command(kViewNode, syntax, doc, [shared](CommandContext& c) { (*shared)(c); });
  add_command(kEnableNode, syntax, doc, [shared](CommandContext& c) { (*shared)(c); });
}

void Vty::set_config_writer(std::function<std::string()> writer) { impl_->config_writer = std::move(writer); }

Result<void, ConfigError> Vty::start(const std::string& config_file, const std::string& embedded,
                                     const std::string& source_name) {
  if (Impl::current != nullptr) return unexpected(ConfigError{"vty", 0, "only one VTY per process"});
  Impl::current = impl_.get();
  impl_->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  std::promise<Result<void, ConfigError>> ready;
  auto started = ready.get_future();
  impl_->thread = std::thread([this, &ready, config_file, embedded, source_name] {
    Impl& im = *impl_;
    osmo_ctx_init(im.options.app_name.c_str());
    osmo_select_init();
    im.app_name = im.options.app_name;
    im.app_version = im.options.version;
    im.app.name = im.app_name.c_str();
    im.app.version = im.app_version.c_str();
    im.app.tall_ctx = OTC_GLOBAL;
    vty_init(&im.app);
    bool first = true;
    for (auto& n : im.nodes) {
      install_node(&n.node, first ? &Impl::write_config : &Impl::write_nothing);
      first = false;
    }
    for (auto& [node, c] : im.installs) install_element(node, &c->element);
    osmo_fd_setup(&im.wake, im.wake_fd, OSMO_FD_READ, &Impl::on_wake, nullptr, 0);
    osmo_fd_register(&im.wake);

    auto result = im.read_config(config_file, embedded, source_name);
    const bool want_telnet = im.options.telnet_port != 0 || im.options.telnet_any_port;
    bool telnet_started = false;
    if (result && want_telnet) {
      // The address and port actually tried: 127.0.0.1 and the option's port
      // unless the configuration says `line vty` / `bind ADDRESS [PORT]`.
      const int port = vty_get_bind_port(im.options.telnet_port);
      if (telnet_init_default(OTC_GLOBAL, nullptr, im.options.telnet_port) != 0) {
        result = unexpected(ConfigError{"telnet", 0,
                                        std::string("cannot listen on ") + vty_get_bind_addr() + " port " +
                                            std::to_string(port)});
      } else {
        telnet_started = true;
        const auto bound = registered_listener_port();
        im.bound_port = bound.value_or(static_cast<std::uint16_t>(port));
        g_bound_telnet_port = im.bound_port.load();
      }
    }
    // libosmocore's talloc contexts (osmo_ctx_init above) belong to this
    // thread (osmo_ctx is thread-local): free them when it ends, or they
    // are lost with it (LeakSanitizer reported them at every daemon exit).
    const auto free_contexts = [] {
      talloc_free(osmo_ctx);
      osmo_ctx = nullptr;
    };
    const bool ok = result.ok();
    ready.set_value(std::move(result));
    if (!ok) {
      free_contexts();
      return;
    }
    for (;;) {
      {
        std::lock_guard lock(im.mutex);
        if (im.stopping) break;
      }
      osmo_select_main_ctx(0);
    }
    g_bound_telnet_port = 0;
    if (telnet_started) telnet_exit();  // crashes when telnet never started
    free_contexts();
  });
  auto result = started.get();
  if (!result) {
    impl_->thread.join();
    Impl::current = nullptr;
  }
  return result;
}

void Vty::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->post([this] {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  });
  impl_->thread.join();
  close(impl_->wake_fd);
  Impl::current = nullptr;
}

std::uint16_t Vty::telnet_port() const noexcept {
  const std::uint16_t bound = impl_->bound_port.load();
  return bound != 0 ? bound : impl_->options.telnet_port;
}

void Vty::run_on(std::function<void()> fn) {
  std::promise<void> done;
  auto f = done.get_future();
  impl_->post([&] {
    fn();
    done.set_value();
  });
  f.get();
}

}  // namespace rserpool::ops
