#pragma once
// A wait for readability that makes no system call of its own (issue 16).
//
// Asio 1.74's async_wait() re-registers the descriptor with epoll
// (EPOLL_CTL_MOD) each time it is started: one epoll_ctl per wait, so one
// per relayed message when one message is in flight. The descriptor is
// registered for reading, edge-triggered, from the moment it is opened; the
// re-registration only matters when data came while nobody waited (an edge
// nobody saw). The reactor already tracks exactly that for each descriptor
// ("try speculative": set by every readiness event, cleared when an
// operation reports the descriptor exhausted), and a speculative operation
// is queued without any epoll_ctl. ReadWait is such an operation:
//  - started while an edge is unaccounted for, it completes at once (the
//    reader reads and finds out, at worst one read that says EAGAIN);
//  - otherwise it is queued without a system call and completes at the next
//    readiness event;
//  - it always reports the descriptor exhausted, so the reader must read
//    until the kernel's queue is empty (a short batch, or EAGAIN) before
//    waiting this way again. A reader that stops early (a budget) must use
//    the ordinary async_wait, whose re-registration reports what is left.
// The operation object is the owner's, reused for every wait: no allocation.
//
// It reaches into Asio's reactor (epoll) and the descriptor's reactor data,
// which Asio does not export; that is checked against this Boost version
// (1.74, Debian 12, epoll) and anything else takes the ordinary
// async_wait (kAvailable false).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/version.hpp>

#include <memory>

#if BOOST_VERSION / 100 == 1074 && defined(BOOST_ASIO_HAS_EPOLL) && !defined(BOOST_ASIO_HAS_IO_URING) && \
    !defined(BOOST_ASIO_DISABLE_EPOLL)
#define RSERPOOL_READ_WAIT_NATIVE 1
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#else
#define RSERPOOL_READ_WAIT_NATIVE 0
#endif

namespace rserpool::transport::detail {

#if RSERPOOL_READ_WAIT_NATIVE

namespace read_wait_access {
namespace ad = boost::asio::detail;
// Pointers to members Asio keeps protected or private, taken through an
// explicit instantiation (where access is not checked).
template <typename Tag, typename Tag::type Member>
struct Take {
  friend typename Tag::type get(Tag) { return Member; }
};
struct DescriptorImpl {
  using type = ad::io_object_impl<ad::reactive_descriptor_service, boost::asio::any_io_executor>
      boost::asio::posix::basic_descriptor<boost::asio::any_io_executor>::*;
  friend type get(DescriptorImpl);
};
struct DescriptorData {
  using type = ad::reactor::per_descriptor_data ad::reactive_descriptor_service::implementation_type::*;
  friend type get(DescriptorData);
};
struct SocketImpl {
  using type = ad::io_object_impl<ad::reactive_socket_service<boost::asio::ip::tcp>, boost::asio::any_io_executor>
      boost::asio::basic_socket<boost::asio::ip::tcp, boost::asio::any_io_executor>::*;
  friend type get(SocketImpl);
};
template struct Take<DescriptorImpl, &boost::asio::posix::basic_descriptor<boost::asio::any_io_executor>::impl_>;
template struct Take<DescriptorData, &ad::reactive_descriptor_service::implementation_type::reactor_data_>;
template struct Take<SocketImpl, &boost::asio::basic_socket<boost::asio::ip::tcp, boost::asio::any_io_executor>::impl_>;

inline ad::reactor::per_descriptor_data& reactor_data(boost::asio::posix::stream_descriptor& d) {
  return (d.*get(DescriptorImpl{})).get_implementation().*get(DescriptorData{});
}
inline ad::reactor::per_descriptor_data& reactor_data(boost::asio::ip::tcp::socket& s) {
  return (s.*get(SocketImpl{})).get_implementation().reactor_data_;
}
}  // namespace read_wait_access

class ReadWait {
 public:
  static constexpr bool kAvailable = true;
  // Called with the owner kept alive by `keep`; ec is set when the wait was
  // cancelled (descriptor closed) and the call is skipped entirely when the
  // io_context is destroyed with the wait pending.
  using Callback = void (*)(void* owner, const boost::system::error_code& ec);

  explicit ReadWait(boost::asio::io_context& io)
      : reactor_(boost::asio::use_service<boost::asio::detail::reactor>(io)) {}
  ReadWait(const ReadWait&) = delete;
  ReadWait& operator=(const ReadWait&) = delete;

  bool pending() const noexcept { return op_.pending_; }

  // One wait at a time (the owner's read loop), for one owner.
  template <typename IoObject>
  void start(IoObject& io_object, std::shared_ptr<void> keep, Callback cb) {
    start_with(io_object, [&keep] { return std::move(keep); }, cb);
  }
  // The same, with `keep()` called only when a reference is needed: a wait
  // started from the callback of the one that just completed takes over
  // that one's reference instead (issue 16: a weak-to-strong conversion
  // and a release, both atomic, per message read).
  template <typename IoObject, typename Keep>
  void start_with(IoObject& io_object, Keep&& keep, Callback cb) {
    if (op_.completing_ && op_.keep_) {
      op_.restarted_ = true;
    } else {
      op_.keep_ = keep();
    }
    op_.ec_ = boost::system::error_code();
    op_.bytes_transferred_ = 0;
    op_.owner_ = op_.keep_.get();
    op_.callback_ = cb;
    op_.pending_ = true;
    reactor_.start_op(boost::asio::detail::reactor::read_op, io_object.native_handle(),
                      read_wait_access::reactor_data(io_object), &op_, /*is_continuation=*/false,
                      /*allow_speculative=*/true);
  }

 private:
  class Op : public boost::asio::detail::reactor_op {
   public:
    Op() : reactor_op(boost::system::error_code(), &do_perform, &do_complete) {}
    void* owner_ = nullptr;
    std::shared_ptr<void> keep_;  // the owner, while a wait or its callback runs
    Callback callback_ = nullptr;
    bool pending_ = false;
    bool completing_ = false;  // in callback_
    bool restarted_ = false;   // started again from callback_: keep_ goes on with it

   private:
    // No system call: readiness (or an unaccounted edge) is all it waits for.
    static status do_perform(reactor_op*) { return done_and_exhausted; }
    static void do_complete(void* scheduler, boost::asio::detail::operation* base, const boost::system::error_code&, std::size_t) {
      auto* o = static_cast<Op*>(base);
      o->pending_ = false;
      if (scheduler == nullptr) {  // destroyed with the io_context
        // Taken out first: the owner (and this operation with it) may go
        // away when it is released.
        std::shared_ptr<void> keep = std::move(o->keep_);
        return;
      }
      // keep_ holds the owner, and this operation with it, across the call.
      const boost::system::error_code ec = o->ec_;  // a restart resets ec_
      o->completing_ = true;
      o->restarted_ = false;
      o->callback_(o->owner_, ec);
      o->completing_ = false;
      if (o->restarted_) return;  // the new wait holds the reference now
      std::shared_ptr<void> keep = std::move(o->keep_);  // may destroy the owner: last
    }
  };

  boost::asio::detail::reactor& reactor_;
  Op op_;
};

#else

class ReadWait {
 public:
  static constexpr bool kAvailable = false;
  using Callback = void (*)(void* owner, const boost::system::error_code& ec);
  explicit ReadWait(boost::asio::io_context&) {}
  bool pending() const noexcept { return false; }
  template <typename IoObject>
  void start(IoObject& io_object, std::shared_ptr<void> keep, Callback cb) {
    io_object.async_wait(IoObject::wait_read, [keep = std::move(keep), cb](const boost::system::error_code& ec) {
      cb(keep.get(), ec);
    });
  }
  template <typename IoObject, typename Keep>
  void start_with(IoObject& io_object, Keep&& keep, Callback cb) {
    start(io_object, keep(), cb);
  }
};

#endif

}  // namespace rserpool::transport::detail
