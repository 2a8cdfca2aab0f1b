#pragma once
// One write per association per readiness event (issue 16). While a
// transport delivers what one wake-up read (a WriteBatch is open on the
// thread), send() on any association of the thread only queues and enlists
// the association here; when the outermost batch closes, each enlisted one
// writes everything it queued in one system call (sendmmsg, or one write of
// all the frames). Outside a batch (a timer, a test calling send()), the
// association posts its write to the end of the current handler instead.
#include <memory>
#include <vector>

namespace rserpool::transport::detail {

class AssociationBase;

class WriteBatch {
 public:
  WriteBatch() noexcept : outer_(state().open) { state().open = true; }
  ~WriteBatch();
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  static bool open() noexcept { return state().open; }
  // The association's flush_deferred() runs when the batch closes.
  static void enlist(std::shared_ptr<AssociationBase> a) { state().enlisted.push_back(std::move(a)); }

 private:
  struct State {
    State() { enlisted.reserve(64); }
    bool open = false;
    std::vector<std::shared_ptr<AssociationBase>> enlisted;
  };
  static State& state() noexcept {
    thread_local State s;
    return s;
  }
  bool outer_;
};

}  // namespace rserpool::transport::detail
