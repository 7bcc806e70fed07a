#include "cortado/ioloop.hpp"

#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/signal_set.hpp>

#include "cortado/log.hpp"

namespace cortado {
namespace {

thread_local IOLoop* current_loop = nullptr;

// Makes `loop` current for a scope and restores whatever was current before.
class CurrentGuard {
 public:
  explicit CurrentGuard(IOLoop* loop) : previous_(std::exchange(current_loop, loop)) {}
  ~CurrentGuard() { current_loop = previous_; }
  CurrentGuard(const CurrentGuard&) = delete;
  CurrentGuard& operator=(const CurrentGuard&) = delete;

 private:
  IOLoop* previous_;
};

}  // namespace

void Timeout::cancel() {
  if (timer_) timer_->cancel();
  timer_.reset();
}

bool Timeout::active() const { return timer_ && timer_->expiry() != Clock::time_point{}; }

struct IOLoop::Signals {
  explicit Signals(asio::io_context& context) : set(context) {}
  asio::signal_set set;
  std::function<void(int)> on_signal;
};

IOLoop::IOLoop() : owned_(std::make_unique<asio::io_context>(1)), context_(owned_.get()) {}

IOLoop::IOLoop(asio::io_context& context) : context_(&context) {}

IOLoop::~IOLoop() {
  if (current_loop == this) current_loop = nullptr;
}

IOLoop* IOLoop::current() noexcept { return current_loop; }

void IOLoop::make_current() noexcept { current_loop = this; }

void IOLoop::run() {
  CurrentGuard guard(this);
  context_->restart();
  context_->run();
}

void IOLoop::stop() { context_->stop(); }

void IOLoop::add_callback(std::function<void()> fn) { asio::post(*context_, std::move(fn)); }

Timeout IOLoop::call_later(Duration delay, std::function<void()> fn) {
  return call_at(Clock::now() + delay, std::move(fn));
}

Timeout IOLoop::call_at(Clock::time_point when, std::function<void()> fn) {
  auto timer = std::make_shared<asio::steady_timer>(*context_, when);
  // The handler keeps the timer alive; a cancelled wait completes with operation_aborted.
  timer->async_wait([timer, fn = std::move(fn)](std::error_code ec) {
    timer->expires_at(Clock::time_point{});
    if (!ec) fn();
  });
  return Timeout(std::move(timer));
}

void IOLoop::handle_signals(std::function<void(int)> on_signal, std::initializer_list<int> signals) {
  if (!signals_) signals_ = std::make_unique<Signals>(*context_);
  signals_->set.clear();
  for (int signo : signals) signals_->set.add(signo);
  signals_->on_signal = std::move(on_signal);
  signals_->set.async_wait([this](std::error_code ec, int signo) {
    if (ec) return;
    log::general().info("received signal {}, stopping", signo);
    if (signals_->on_signal) {
      signals_->on_signal(signo);
    } else {
      stop();
    }
  });
}

void IOLoop::run_until(SyncState& state, std::optional<Duration> timeout) {
  CurrentGuard guard(this);
  context_->restart();
  asio::steady_timer deadline(*context_);
  bool timed_out = false;
  if (timeout) {
    deadline.expires_after(*timeout);
    deadline.async_wait([&](std::error_code ec) {
      if (ec) return;
      timed_out = true;
      state.cancel.emit(asio::cancellation_type::terminal);
    });
  }
  while (!state.done && !timed_out) {
    if (context_->run_one() == 0) break;
  }
  deadline.cancel();
  // Let the timer's handler observe the cancellation while `deadline` still exists.
  while (context_->poll_one() > 0 && !state.done) {
  }
  if (timed_out) throw TimeoutError("run_sync: the operation timed out");
  if (!state.done) throw std::logic_error("run_sync: the loop ran out of work before the task ended");
}

asio::awaitable<void> sleep(Duration duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

struct PeriodicCallback::State {
  State(asio::any_io_executor ex, Callback cb, Duration p)
      : timer(ex), callback(std::move(cb)), period(p) {}
  asio::steady_timer timer;
  Callback callback;
  Duration period;
  bool running = false;
  std::uint64_t generation = 0;  // a restarted loop retires the previous one
};

PeriodicCallback::PeriodicCallback(asio::any_io_executor executor, Callback callback,
                                   Duration period)
    : state_(std::make_shared<State>(std::move(executor), std::move(callback), period)) {
  if (period <= Duration::zero()) throw std::invalid_argument("PeriodicCallback: period must be > 0");
}

PeriodicCallback::~PeriodicCallback() { stop(); }

void PeriodicCallback::start() {
  if (state_->running) return;
  state_->running = true;
  ++state_->generation;
  asio::co_spawn(state_->timer.get_executor(), loop(state_), asio::detached);
}

void PeriodicCallback::stop() {
  state_->running = false;
  state_->timer.cancel();
}

bool PeriodicCallback::is_running() const { return state_->running; }

asio::awaitable<void> PeriodicCallback::loop(std::shared_ptr<State> state) {
  const std::uint64_t generation = state->generation;
  auto next = Clock::now() + state->period;
  auto alive = [&] { return state->running && state->generation == generation; };
  while (alive()) {
    state->timer.expires_at(next);
    std::error_code ec;
    co_await state->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!alive()) break;
    try {
      if (auto* plain = std::get_if<0>(&state->callback)) {
        (*plain)();
      } else {
        co_await std::get<1>(state->callback)();
      }
    } catch (const std::exception& e) {
      log::app().error("exception in PeriodicCallback: {}", e.what());
    }
    // Skip the runs that were missed while the callback (or the loop) was busy.
    const auto now = Clock::now();
    next += state->period;
    if (next <= now) next += ((now - next) / state->period + 1) * state->period;
  }
}

}  // namespace cortado
