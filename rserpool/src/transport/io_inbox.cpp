#include "rserpool/transport/io_inbox.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace rserpool::transport {

IoInbox::IoInbox(boost::asio::io_context& io) : boost::asio::execution_context::service(io), sd_(io) {
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  sd_.assign(event_fd_);
  wait();
}

IoInbox::~IoInbox() = default;

void IoInbox::post(std::function<void()> fn) {
  const std::lock_guard lock(mutex_);
  if (closed_) return;
  posted_.push_back(std::move(fn));
  // Under the lock: shutdown() closes the descriptor under it too. The
  // counter cannot overflow (the io thread resets it on every wake-up), so
  // the write does not fail with EAGAIN.
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(event_fd_, &one, sizeof one);
}

std::size_t IoInbox::waiting() const {
  const std::lock_guard lock(mutex_);
  return posted_.size();
}

void IoInbox::wait() {
  sd_.async_wait(boost::asio::posix::descriptor_base::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;  // closed: the io_context is shutting down
    std::uint64_t count = 0;
    [[maybe_unused]] const auto n = ::read(event_fd_, &count, sizeof count);  // resets it
    run_posted();
    wait();
  });
}

void IoInbox::run_posted() {
  std::vector<std::function<void()>> batch;
  {
    const std::lock_guard lock(mutex_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
}

void IoInbox::shutdown() {
  std::vector<std::function<void()>> dropped;
  {
    const std::lock_guard lock(mutex_);
    closed_ = true;
    dropped.swap(posted_);
    boost::system::error_code ec;
    sd_.close(ec);
    event_fd_ = -1;
  }
}

}  // namespace rserpool::transport
