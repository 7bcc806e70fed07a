#include "cortado/locks.hpp"

#include <limits>
#include <stdexcept>

#include <asio/this_coro.hpp>

namespace cortado {

// --- Condition -------------------------------------------------------------------------------

// A notification that reached a waiter too late goes to the next one.
Condition::Condition()
    : waiters_([this](detail::Waiter&) {
        waiters_.wake_one();
        return true;
      }) {}

asio::awaitable<bool> Condition::wait(std::optional<Duration> timeout) {
  detail::Waiter waiter(co_await asio::this_coro::executor);
  co_return co_await waiter.park(waiters_, timeout);
}

void Condition::notify(std::size_t n) {
  for (std::size_t i = 0; i < n && waiters_.wake_one(); ++i) {
  }
}

void Condition::notify_all() {
  waiters_.wake_all();
}

// --- Event -----------------------------------------------------------------------------------

// The flag stays set for everyone: a cancelled waiter takes nothing from the others.
Event::Event() : waiters_([](detail::Waiter&) { return true; }) {}

void Event::set() {
  if (set_) return;
  set_ = true;
  waiters_.wake_all();
}

asio::awaitable<void> Event::wait(std::optional<Duration> timeout) {
  if (set_) co_return;
  detail::Waiter waiter(co_await asio::this_coro::executor);
  const bool woken = co_await waiter.park(waiters_, timeout);
  if (!woken) throw TimeoutError("Event.wait timed out");
}

// --- Semaphore -------------------------------------------------------------------------------

Semaphore::Semaphore(std::size_t value)
    : Semaphore(value, std::numeric_limits<std::size_t>::max()) {}

// A permit handed to a waiter that can no longer use it goes to the next one.
Semaphore::Semaphore(std::size_t value, std::size_t bound)
    : value_(value), bound_(bound), waiters_([this](detail::Waiter&) {
        hand_over();
        return true;
      }) {}

// Waiters exist only while value_ is 0, so a free permit never jumps the queue.
asio::awaitable<void> Semaphore::acquire(std::optional<Duration> timeout) {
  if (value_ > 0) {
    --value_;
    co_return;
  }
  detail::Waiter waiter(co_await asio::this_coro::executor);
  const bool woken = co_await waiter.park(waiters_, timeout);
  if (!woken) throw TimeoutError("acquire timed out");
}

asio::awaitable<Semaphore::Guard> Semaphore::acquire_guard(std::optional<Duration> timeout) {
  co_await acquire(timeout);
  co_return Guard(*this);
}

void Semaphore::release() {
  if (value_ >= bound_) throw std::logic_error("Semaphore released too many times");
  hand_over();
}

// The woken waiter owns the permit from now on: value_ stays 0 for it.
void Semaphore::hand_over() {
  if (!waiters_.wake_one()) ++value_;
}

// --- Lock ------------------------------------------------------------------------------------

asio::awaitable<void> Lock::acquire(std::optional<Duration> timeout) {
  return block_.acquire(timeout);
}

asio::awaitable<Lock::Guard> Lock::acquire_guard(std::optional<Duration> timeout) {
  co_await acquire(timeout);
  co_return Guard(*this);
}

void Lock::release() {
  if (!locked()) throw std::logic_error("release unlocked lock");
  block_.release();
}

}  // namespace cortado
