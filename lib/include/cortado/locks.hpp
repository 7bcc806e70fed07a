// Tornado's tornado.locks as awaitables: Condition, Event, Semaphore, BoundedSemaphore, Lock.
//
// Affinity. Like Tornado's, these primitives coordinate coroutines of one thread: a primitive
// and every coroutine that uses it must run on the same single-threaded io_context. They hold no
// executor; a waiting coroutine parks on its own (`co_await asio::this_coro::executor`). Nothing
// here is thread-safe; another thread reaches them through IOLoop::add_callback.
//
// Waking. notify(), set() and release() never resume a waiter inline: its resumption is posted,
// so they are safe to call from anywhere on the loop's thread, a waiter included. Waiters wake
// in FIFO order, and one whose timeout fired or whose coroutine was cancelled is skipped, so a
// wake is never spent on a dead waiter.
//
// Cancellation. A wait ends with std::system_error(asio::error::operation_aborted) when the
// awaiting coroutine's cancellation slot is emitted (asio::bind_cancellation_slot, or the losing
// side of an awaitable_operators race) and when the primitive is destroyed while it waits. A
// coroutine whose frame is destroyed while it waits (its io_context destroyed) just leaves the
// waiters. A waiter that was already woken when it was cancelled or destroyed gives back what it
// was handed (a notification, a permit) to the next waiter.
//
// Timeouts are relative (a Duration from now). Like Tornado, Condition::wait reports a timeout
// by returning false; every other wait throws cortado::TimeoutError.
#pragma once

#include <cstddef>
#include <optional>
#include <utility>

#include <asio/awaitable.hpp>

#include "cortado/detail/waiter.hpp"
#include "cortado/ioloop.hpp"

namespace cortado {

// Releases a held Semaphore or Lock when it goes out of scope: Tornado's `async with`.
// Move-only; a default-constructed or moved-from guard holds nothing. Do not also release() the
// primitive by hand: a Lock released twice throws, and from a destructor that terminates.
template <class Primitive>
class ScopedRelease {
 public:
  ScopedRelease() = default;
  explicit ScopedRelease(Primitive& primitive) noexcept : primitive_(&primitive) {}
  ScopedRelease(ScopedRelease&& other) noexcept
      : primitive_(std::exchange(other.primitive_, nullptr)) {}
  ScopedRelease& operator=(ScopedRelease&& other) noexcept {
    if (this != &other) {
      release();
      primitive_ = std::exchange(other.primitive_, nullptr);
    }
    return *this;
  }
  ~ScopedRelease() { release(); }

  // Releases early; afterwards the guard holds nothing.
  void release() {
    if (primitive_) std::exchange(primitive_, nullptr)->release();
  }
  bool owns() const noexcept { return primitive_ != nullptr; }
  explicit operator bool() const noexcept { return owns(); }

 private:
  Primitive* primitive_ = nullptr;
};

// Lets coroutines wait until notified.
class Condition {
 public:
  Condition();
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  // True when notified, false when `timeout` passes first.
  asio::awaitable<bool> wait(std::optional<Duration> timeout = std::nullopt);
  // Wakes the `n` longest-waiting coroutines (fewer if fewer wait).
  void notify(std::size_t n = 1);
  void notify_all();
  // Coroutines waiting (diagnostic).
  std::size_t waiters() const noexcept { return waiters_.size(); }

 private:
  detail::WaiterList waiters_;
};

// A flag that coroutines can wait for: wait() completes at once while it is set.
class Event {
 public:
  Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  bool is_set() const noexcept { return set_; }
  // Sets the flag and wakes every waiter (they complete even if clear() follows at once).
  void set();
  void clear() noexcept { set_ = false; }
  // Completes once the flag is set; throws TimeoutError if `timeout` passes first.
  asio::awaitable<void> wait(std::optional<Duration> timeout = std::nullopt);
  std::size_t waiters() const noexcept { return waiters_.size(); }

 private:
  detail::WaiterList waiters_;
  bool set_ = false;
};

// A counter of permits: acquire() takes one (waiting while there is none), release() returns one.
class Semaphore {
 public:
  using Guard = ScopedRelease<Semaphore>;

  explicit Semaphore(std::size_t value = 1);
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // Takes a permit; throws TimeoutError if `timeout` passes first. Pair with release().
  asio::awaitable<void> acquire(std::optional<Duration> timeout = std::nullopt);
  // Takes a permit and returns the guard that gives it back. Prefer this one in a race
  // (awaitable_operators): a permit won by the losing side is released with its result.
  asio::awaitable<Guard> acquire_guard(std::optional<Duration> timeout = std::nullopt);
  // Returns a permit, to the longest waiter if any. A BoundedSemaphore throws std::logic_error
  // when this would exceed its initial value.
  void release();

  std::size_t value() const noexcept { return value_; }
  std::size_t waiters() const noexcept { return waiters_.size(); }

 protected:
  Semaphore(std::size_t value, std::size_t bound);

 private:
  void hand_over();

  std::size_t value_;
  std::size_t bound_;
  detail::WaiterList waiters_;
};

// A Semaphore that refuses to be released above its initial value (a ValueError in Tornado).
class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(std::size_t value = 1) : Semaphore(value, value) {}
};

// Mutual exclusion for coroutines; not reentrant. Waiters acquire it in FIFO order.
class Lock {
 public:
  using Guard = ScopedRelease<Lock>;

  Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  // Throws TimeoutError if the lock is not acquired within `timeout`. Pair with release().
  asio::awaitable<void> acquire(std::optional<Duration> timeout = std::nullopt);
  // Acquires and returns the guard that unlocks: `auto held = co_await lock.acquire_guard();`
  asio::awaitable<Guard> acquire_guard(std::optional<Duration> timeout = std::nullopt);
  // Throws std::logic_error if the lock is not held (Tornado's RuntimeError).
  void release();

  bool locked() const noexcept { return block_.value() == 0; }
  std::size_t waiters() const noexcept { return block_.waiters(); }

 private:
  BoundedSemaphore block_{1};
};

}  // namespace cortado
