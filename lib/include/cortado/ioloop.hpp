// Tornado's IOLoop is Asio's io_context. This facade keeps Tornado's vocabulary (current,
// add_callback, call_later, PeriodicCallback, run_sync) without hiding Asio: context() and
// executor() give the real thing, and an IOLoop can wrap an io_context the embedder already runs.
#pragma once

#include <chrono>
#include <csignal>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <variant>

#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

namespace cortado {

using Clock = std::chrono::steady_clock;
using Duration = Clock::duration;

// Thrown by IOLoop::run_sync when the coroutine does not finish in time.
class TimeoutError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A pending call_later/call_at. Copyable; cancel() from the loop's thread makes the callback a
// no-op if it has not run yet.
class Timeout {
 public:
  Timeout() = default;
  explicit Timeout(std::shared_ptr<asio::steady_timer> timer) : timer_(std::move(timer)) {}
  void cancel();
  bool active() const;

 private:
  std::shared_ptr<asio::steady_timer> timer_;
};

class IOLoop {
 public:
  // An IOLoop that owns its io_context, run by one thread (concurrency hint 1: Asio keeps the
  // locking that makes add_callback safe from other threads, and skips waking other threads).
  IOLoop();
  // Wraps the embedder's io_context, which must outlive this object.
  explicit IOLoop(asio::io_context& context);
  ~IOLoop();
  IOLoop(const IOLoop&) = delete;
  IOLoop& operator=(const IOLoop&) = delete;

  // The loop running on this thread: set by run()/run_sync() (or make_current()) for their
  // duration, never a process-wide global. Null when no loop runs here.
  static IOLoop* current() noexcept;
  void make_current() noexcept;

  asio::io_context& context() noexcept { return *context_; }
  asio::io_context::executor_type executor() noexcept { return context_->get_executor(); }

  // Runs until stop() or until the loop has no more work.
  void run();
  // Thread-safe, like everything posted through add_callback.
  void stop();

  // The one thread-safe entry point: runs `fn` on the loop's thread soon.
  void add_callback(std::function<void()> fn);

  Timeout call_later(Duration delay, std::function<void()> fn);
  Timeout call_at(Clock::time_point when, std::function<void()> fn);

  // Stops the loop cleanly on SIGINT/SIGTERM (or the given signals). `on_signal`, when given,
  // runs instead of stop(): a server drains its connections there and then stops the loop.
  void handle_signals(std::function<void(int)> on_signal = {},
                      std::initializer_list<int> signals = {SIGINT, SIGTERM});

  // Runs the loop until `task` finishes and returns its result, rethrowing its exception.
  // With a timeout, throws TimeoutError if the task is not done by then (the task is cancelled).
  template <class T>
  T run_sync(asio::awaitable<T> task, std::optional<Duration> timeout = std::nullopt);

 private:
  struct SyncState {
    bool done = false;
    std::exception_ptr error;
    asio::cancellation_signal cancel;
  };
  void run_until(SyncState& state, std::optional<Duration> timeout);

  std::unique_ptr<asio::io_context> owned_;
  asio::io_context* context_;
  struct Signals;
  std::unique_ptr<Signals> signals_;
};

// co_await sleep(100ms): Tornado's gen.sleep.
asio::awaitable<void> sleep(Duration duration);

// Calls `callback` every `period`. Missed runs are skipped, not queued; a coroutine callback is
// awaited before the next run is scheduled, so it never overlaps itself.
class PeriodicCallback {
 public:
  using Callback = std::variant<std::function<void()>, std::function<asio::awaitable<void>()>>;

  PeriodicCallback(asio::any_io_executor executor, Callback callback, Duration period);
  ~PeriodicCallback();
  PeriodicCallback(const PeriodicCallback&) = delete;
  PeriodicCallback& operator=(const PeriodicCallback&) = delete;

  void start();
  void stop();
  bool is_running() const;

 private:
  struct State;
  static asio::awaitable<void> loop(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

template <class T>
T IOLoop::run_sync(asio::awaitable<T> task, std::optional<Duration> timeout) {
  auto state = std::make_shared<SyncState>();
  using Slot = std::conditional_t<std::is_void_v<T>, std::monostate, std::optional<T>>;
  auto result = std::make_shared<Slot>();
  auto wrapper = [](asio::awaitable<T> t, std::shared_ptr<Slot> out) -> asio::awaitable<void> {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(t);
    } else {
      out->emplace(co_await std::move(t));
    }
  };
  asio::co_spawn(*context_, wrapper(std::move(task), result),
                 asio::bind_cancellation_slot(state->cancel.slot(), [state](std::exception_ptr e) {
                   state->done = true;
                   state->error = e;
                 }));
  run_until(*state, timeout);
  if (state->error) std::rethrow_exception(state->error);
  if constexpr (!std::is_void_v<T>) return std::move(**result);
}

}  // namespace cortado
