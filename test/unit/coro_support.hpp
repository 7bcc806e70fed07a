// Helpers for tests of coroutines that wait on each other: spawning with a recorded outcome,
// cancelling through a slot, and yielding to the loop until something has happened (never
// sleeping to synchronise).
#pragma once

#include <exception>
#include <system_error>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace cortado::test {

// How a spawned coroutine ended.
struct Outcome {
  bool done = false;
  std::exception_ptr error;

  bool ok() const { return done && !error; }
  // Ended with std::system_error(operation_aborted).
  bool aborted() const {
    if (!done || !error) return false;
    try {
      std::rethrow_exception(error);
    } catch (const std::system_error& e) {
      return e.code() == asio::error::operation_aborted;
    } catch (...) {
    }
    return false;
  }
  template <class E>
  bool threw() const {
    if (!done || !error) return false;
    try {
      std::rethrow_exception(error);
    } catch (const E&) {
      return true;
    } catch (...) {
    }
    return false;
  }
};

// Spawns `task`, recording its end in `outcome`; with a `signal`, emitting it cancels the task.
// `outcome` and `signal` must outlive the task.
inline void spawn(const asio::any_io_executor& executor, asio::awaitable<void> task,
                  Outcome& outcome, asio::cancellation_signal* signal = nullptr) {
  auto record = [&outcome](std::exception_ptr e) {
    outcome.done = true;
    outcome.error = e;
  };
  if (signal) {
    asio::co_spawn(executor, std::move(task), asio::bind_cancellation_slot(signal->slot(), record));
  } else {
    asio::co_spawn(executor, std::move(task), record);
  }
}

// Gives the loop one turn: everything already posted runs before this resumes.
inline asio::awaitable<void> yield() {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
}

// Yields until `done()` holds; false if it still does not after `rounds` turns.
template <class Predicate>
asio::awaitable<bool> settle(Predicate done, int rounds = 1000) {
  for (int i = 0; i < rounds && !done(); ++i) co_await yield();
  co_return done();
}

inline void terminate(asio::cancellation_signal& signal) {
  signal.emit(asio::cancellation_type::terminal);
}

}  // namespace cortado::test
