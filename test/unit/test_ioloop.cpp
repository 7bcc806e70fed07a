#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "cortado/ioloop.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using cortado::IOLoop;

TEST_CASE("IOLoop::current is set while the loop runs and only on its thread") {
  IOLoop loop;
  CHECK(IOLoop::current() == nullptr);
  IOLoop* seen = nullptr;
  loop.add_callback([&] { seen = IOLoop::current(); });
  loop.run();
  CHECK(seen == &loop);
  CHECK(IOLoop::current() == nullptr);
}

TEST_CASE("IOLoop wraps an io_context the embedder owns") {
  asio::io_context context;
  IOLoop loop(context);
  CHECK(&loop.context() == &context);
  int ran = 0;
  loop.add_callback([&] { ++ran; });
  context.run();
  CHECK(ran == 1);
}

TEST_CASE("add_callback from another thread runs on the loop's thread") {
  IOLoop loop;
  auto guard = asio::make_work_guard(loop.context());
  std::thread::id ran_on;
  std::thread other([&] {
    loop.add_callback([&] {
      ran_on = std::this_thread::get_id();
      guard.reset();
    });
  });
  loop.run();
  other.join();
  CHECK(ran_on == std::this_thread::get_id());
}

TEST_CASE("call_later runs in deadline order and cancel() prevents the call") {
  IOLoop loop;
  std::vector<int> order;
  loop.call_later(20ms, [&] { order.push_back(2); });
  loop.call_later(1ms, [&] { order.push_back(1); });
  auto cancelled = loop.call_later(5ms, [&] { order.push_back(99); });
  CHECK(cancelled.active());
  cancelled.cancel();
  CHECK_FALSE(cancelled.active());
  loop.run();
  CHECK(order == std::vector<int>{1, 2});
}

TEST_CASE("run_sync returns the coroutine's value and rethrows its exception") {
  IOLoop loop;
  auto value = loop.run_sync([]() -> asio::awaitable<int> {
    co_await cortado::sleep(1ms);
    co_return 42;
  }());
  CHECK(value == 42);
  CHECK_THROWS_WITH_AS(loop.run_sync([]() -> asio::awaitable<void> {
    throw std::runtime_error("boom");
    co_return;
  }()),
                       "boom", std::runtime_error);
}

TEST_CASE("run_sync with a timeout throws TimeoutError and cancels the task") {
  IOLoop loop;
  CHECK_THROWS_AS(loop.run_sync(cortado::sleep(std::chrono::hours(1)), 20ms), cortado::TimeoutError);
  // The loop is still usable afterwards.
  CHECK(loop.run_sync([]() -> asio::awaitable<int> { co_return 7; }()) == 7);
}

TEST_CASE("PeriodicCallback runs repeatedly and stops") {
  IOLoop loop;
  int calls = 0;
  cortado::PeriodicCallback periodic(loop.executor(), std::function<void()>([&] {
                                       if (++calls == 3) loop.stop();
                                     }),
                                     2ms);
  periodic.start();
  CHECK(periodic.is_running());
  loop.run();
  periodic.stop();
  CHECK(calls == 3);
  CHECK_FALSE(periodic.is_running());
}

TEST_CASE("PeriodicCallback skips missed runs and never overlaps a coroutine callback") {
  IOLoop loop;
  int running = 0, max_running = 0, calls = 0;
  std::function<asio::awaitable<void>()> slow = [&]() -> asio::awaitable<void> {
    ++running;
    max_running = std::max(max_running, running);
    co_await cortado::sleep(25ms);  // five periods long
    --running;
    if (++calls == 4) loop.stop();
  };
  cortado::PeriodicCallback periodic(loop.executor(), slow, 5ms);
  periodic.start();
  const auto start = cortado::Clock::now();
  loop.run();
  CHECK(max_running == 1);
  CHECK(calls == 4);
  // Four slow runs back to back; queued-up missed runs would have fired many more calls.
  CHECK(cortado::Clock::now() - start >= 100ms);
}
