// The parking spot behind every primitive in locks.hpp and queues.hpp.
//
// A waiting coroutine parks on a steady_timer that lives in its own frame, and the primitive
// links that Waiter into an intrusive list. Waking a waiter cancels its timer, which does two
// things at once: it posts the resumption (so a waiter never runs inside notify()), and its
// return value says whether the waiter was still waiting. A waiter whose timeout fired, or
// whose coroutine's cancellation slot was emitted, has its completion queued already and
// cancel() returns 0: the wake moves on to the next waiter instead of being lost on a dead one.
//
// Because the io_context owns the pending timer wait, destroying the io_context destroys the
// waiting coroutine's frame, and ~Waiter unlinks it: the list never holds a dangling waiter.
//
// A woken waiter stays on the list's `woken` chain until it resumes. If it is cancelled or
// destroyed in between, the primitive gets back what it handed over (a permit, an item, a
// notification) through the list's GiveBack hook, so that the next waiter can have it.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include "cortado/ioloop.hpp"

namespace cortado::detail {

class WaiterList;

class Waiter {
 public:
  // `payload` is what the primitive hands over or takes at wake time (a queue item). The object
  // it points to must outlive the Waiter: declare it first in the same frame.
  explicit Waiter(const asio::any_io_executor& executor, void* payload = nullptr);
  ~Waiter();
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  // Parks on `list` until woken (true) or until `timeout` passes (false). Throws
  // std::system_error(operation_aborted) when the awaiting coroutine is cancelled or the list is
  // destroyed first. Call at most once. Store the result before testing it: GCC 12 miscompiles
  // `if (co_await ...)` (the frame is corrupted on resumption).
  asio::awaitable<bool> park(WaiterList& list, std::optional<Duration> timeout);

  template <class T>
  T& payload() const noexcept {
    return *static_cast<T*>(payload_);
  }

 private:
  friend class WaiterList;
  void unlink() noexcept;
  bool give_back();
  [[noreturn]] static void throw_aborted();

  asio::steady_timer timer_;
  void* payload_;
  WaiterList* list_ = nullptr;  // null once unlinked
  Waiter* prev_ = nullptr;
  Waiter* next_ = nullptr;
  bool woken_ = false;
};

// The waiters of one primitive, in FIFO order. Not thread-safe: one loop's thread only.
class WaiterList {
 public:
  // Called when a woken waiter can no longer use what it was handed because its coroutine was
  // cancelled or destroyed before resuming. Returns true if the wait may end as cancelled (the
  // hand-over was undone or needs no undoing), false if it must report success (e.g. a queue
  // put that already happened). Must not throw.
  using GiveBack = std::function<bool(Waiter&)>;

  explicit WaiterList(GiveBack give_back = {}) : give_back_(std::move(give_back)) {}
  // Waiters still parked end with operation_aborted; woken ones keep their wake.
  ~WaiterList();
  WaiterList(const WaiterList&) = delete;
  WaiterList& operator=(const WaiterList&) = delete;

  // Wakes the longest-parked waiter that is still waiting and returns it, or null if none is.
  // Fill its payload before returning to the loop.
  Waiter* wake_one();
  // Wakes every waiter still waiting; returns how many.
  std::size_t wake_all();
  // Parked waiters, counting ones whose timeout or cancellation is being delivered.
  std::size_t size() const noexcept { return parked_.size; }

 private:
  friend class Waiter;
  struct Chain {
    Waiter* head = nullptr;
    Waiter* tail = nullptr;
    std::size_t size = 0;
    void push_back(Waiter& w) noexcept;
    void erase(Waiter& w) noexcept;
  };
  Chain& chain_of(const Waiter& w) noexcept { return w.woken_ ? woken_ : parked_; }

  Chain parked_;
  Chain woken_;
  GiveBack give_back_;
};

}  // namespace cortado::detail
