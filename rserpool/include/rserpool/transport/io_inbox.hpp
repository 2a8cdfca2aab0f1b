#pragma once
// Work for an io_context's thread from another thread (the VTY's), without
// going through the io_context's own queue (issue 16).
//
// The daemons run their data path on one thread with
// BOOST_ASIO_CONCURRENCY_HINT_UNSAFE: no lock in the scheduler or the
// reactor, so nothing may post to that io_context, start a wait on it or
// register a descriptor with it from any other thread (stop 29: the
// scheduler's mutex was about 110 instructions per registrar resolution,
// taken for the VTY's sake only). The VTY thread reaches the data path
// through this inbox instead: a queue of its own under its own mutex, and an
// eventfd the io_context watches like any other descriptor. Posting locks
// that mutex and writes the eventfd; the io thread wakes up, takes the whole
// queue and runs it in order. The data path pays nothing per message.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <functional>
#include <mutex>
#include <vector>

namespace rserpool::transport {

class IoInbox final : public boost::asio::execution_context::service {
 public:
  static inline boost::asio::execution_context::id id;

  explicit IoInbox(boost::asio::io_context& io);
  ~IoInbox() override;

  // The io_context's inbox, made by the first call. That first call must
  // be made on the io thread, or before the io_context runs (making it
  // registers the eventfd with the reactor, which has no lock); afterwards
  // any thread may call it.
  static IoInbox& of(boost::asio::io_context& io) { return boost::asio::use_service<IoInbox>(io); }

  // Any thread: `fn` runs on the io thread, after everything posted before
  // it. Once the io_context shuts down, it is destroyed without running
  // (as a handler posted to a destroyed io_context is).
  void post(std::function<void()> fn);

  // Posted, not yet run (tests).
  std::size_t waiting() const;

 private:
  void shutdown() override;
  void wait();
  void run_posted();

  boost::asio::posix::stream_descriptor sd_;  // the eventfd
  int event_fd_ = -1;                         // the same, for writers (closed only under mutex_)
  mutable std::mutex mutex_;
  std::vector<std::function<void()>> posted_;  // under mutex_
  bool closed_ = false;                        // under mutex_
};

}  // namespace rserpool::transport
