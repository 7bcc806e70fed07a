#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>

#include "coro_support.hpp"
#include "cortado/ioloop.hpp"
#include "cortado/queues.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using asio::awaitable;
using cortado::IOLoop;
using cortado::LifoQueue;
using cortado::PriorityQueue;
using cortado::Queue;
using cortado::QueueEmpty;
using cortado::QueueFull;
using cortado::test::kTestTimeout;
using cortado::test::Outcome;
using cortado::test::settle;
using cortado::test::spawn;

namespace {

using Items = std::vector<int>;

template <class Q>
awaitable<void> get_into(Q& queue, Items& got) {
  got.push_back(co_await queue.get());
}

template <class Q>
awaitable<void> put_one(Q& queue, int item) {
  co_await queue.put(item);
}

// Puts 0..count-1, noting the largest size the queue ever reached.
awaitable<void> produce(Queue<int>& queue, int count, std::size_t& largest) {
  for (int i = 0; i < count; ++i) {
    co_await queue.put(i);
    largest = std::max(largest, queue.qsize());
  }
}

// Takes `count` items, yielding between them so that the producer runs ahead and blocks.
awaitable<void> consume(Queue<int>& queue, int count, Items& got, std::size_t& most_putters) {
  for (int i = 0; i < count; ++i) {
    for (int turn = 0; turn < 3; ++turn) co_await cortado::test::yield();
    most_putters = std::max(most_putters, queue.putters());
    got.push_back(co_await queue.get());
    queue.task_done();
  }
}

template <class Q>
awaitable<void> drain_with_task_done(Q& queue, Items& got) {
  for (;;) {
    got.push_back(co_await queue.get());
    queue.task_done();
  }
}

template <class Body, class... Args>
void run(Body body, Args&&... args) {
  IOLoop loop;
  loop.run_sync(body(loop.executor(), std::forward<Args>(args)...), kTestTimeout);
}

template <class F>
awaitable<bool> times_out(F start) {
  try {
    co_await start();
  } catch (const cortado::TimeoutError&) {
    co_return true;
  }
  co_return false;
}

}  // namespace

TEST_CASE("queues: FIFO order, sizes and the *_nowait exceptions") {
  Queue<std::string> queue(2);
  CHECK(queue.empty());
  CHECK_FALSE(queue.full());
  CHECK_THROWS_AS(queue.get_nowait(), QueueEmpty);
  queue.put_nowait("a");
  queue.put_nowait("b");
  CHECK(queue.full());
  CHECK(queue.qsize() == 2);
  CHECK_THROWS_AS(queue.put_nowait("c"), QueueFull);
  CHECK(queue.get_nowait() == "a");
  CHECK(queue.get_nowait() == "b");
  CHECK(queue.empty());
}

TEST_CASE("queues: an unbounded queue is never full and takes move-only items") {
  Queue<std::unique_ptr<int>> queue;
  for (int i = 0; i < 1000; ++i) queue.put_nowait(std::make_unique<int>(i));
  CHECK_FALSE(queue.full());
  CHECK(*queue.get_nowait() == 0);
  run(
      [](asio::any_io_executor, Queue<std::unique_ptr<int>>& queue) -> awaitable<void> {
        co_await queue.put(std::make_unique<int>(1000));
        auto item = co_await queue.get();
        CHECK(*item == 1);
      },
      queue);
}

TEST_CASE("queues: PriorityQueue gives the smallest first, LifoQueue the newest") {
  PriorityQueue<int> priority;
  for (int i : {5, 1, 4, 2, 3}) priority.put_nowait(i);
  Items got;
  while (!priority.empty()) got.push_back(priority.get_nowait());
  CHECK(got == Items{1, 2, 3, 4, 5});

  PriorityQueue<int, std::greater<int>> largest_first;
  for (int i : {2, 3, 1}) largest_first.put_nowait(i);
  CHECK(largest_first.get_nowait() == 3);

  LifoQueue<int> lifo;
  for (int i : {1, 2, 3}) lifo.put_nowait(i);
  got.clear();
  while (!lifo.empty()) got.push_back(lifo.get_nowait());
  CHECK(got == Items{3, 2, 1});
}

TEST_CASE("queues: waiting getters are served in FIFO order, one item each, not inline") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    Queue<int> queue;
    Items got;
    Outcome out[3];
    for (auto& o : out) spawn(ex, get_into(queue, got), o);
    CHECK(co_await settle([&] { return queue.getters() == 3; }));
    queue.put_nowait(10);
    CHECK(got.empty());
    co_await queue.put(11);
    queue.put_nowait(12);
    CHECK(queue.empty());  // each item went straight to a getter
    CHECK(co_await settle([&] { return got.size() == 3; }));
    CHECK(got == Items{10, 11, 12});
  });
}

TEST_CASE("queues: producer and consumer with maxsize back-pressure") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    Queue<int> queue(2);
    constexpr int kCount = 50;
    std::size_t largest = 0, most_putters = 0;
    Items got;
    Outcome producer, consumer;
    spawn(ex, produce(queue, kCount, largest), producer);
    spawn(ex, consume(queue, kCount, got, most_putters), consumer);
    CHECK(co_await settle([&] { return producer.done && consumer.done; }, 10000));
    CHECK(producer.ok());
    CHECK(consumer.ok());
    Items expected;
    for (int i = 0; i < kCount; ++i) expected.push_back(i);
    CHECK(got == expected);
    CHECK(largest <= 2);
    CHECK(most_putters == 1);  // the producer really waited for room
    co_await queue.join(1s);
  });
}

TEST_CASE("queues: a LifoQueue with a waiting putter returns the putter's item, as in Tornado") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    LifoQueue<int> queue(1);
    queue.put_nowait(1);
    Outcome putter;
    spawn(ex, put_one(queue, 2), putter);
    CHECK(co_await settle([&] { return queue.putters() == 1; }));
    CHECK(queue.get_nowait() == 2);
    CHECK(queue.qsize() == 1);
    CHECK(co_await settle([&] { return putter.done; }));
    CHECK(putter.ok());
  });
}

TEST_CASE("queues: get and put time out, leaving the queue as it was") {
  run([](asio::any_io_executor) -> awaitable<void> {
    Queue<int> queue(1);
    CHECK(co_await times_out([&] { return queue.get(10ms); }));
    CHECK(queue.getters() == 0);
    queue.put_nowait(1);
    CHECK(co_await times_out([&] { return queue.put(2, 10ms); }));
    CHECK(queue.putters() == 0);
    CHECK(queue.qsize() == 1);
    CHECK(queue.get_nowait() == 1);
  });
}

TEST_CASE("queues: task_done and join") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    Queue<int> queue;
    co_await queue.join();  // nothing unfinished
    CHECK_THROWS_AS(queue.task_done(), std::logic_error);
    for (int i = 0; i < 3; ++i) queue.put_nowait(i);
    CHECK(co_await times_out([&] { return queue.join(10ms); }));
    Items got;
    Outcome worker;
    asio::cancellation_signal stop_worker;
    spawn(ex, drain_with_task_done(queue, got), worker, &stop_worker);
    co_await queue.join(kTestTimeout);
    CHECK(got == Items{0, 1, 2});
    CHECK_THROWS_AS(queue.task_done(), std::logic_error);
    cortado::test::terminate(stop_worker);
    CHECK(co_await settle([&] { return worker.done; }));
    CHECK(worker.aborted());
  });
}

TEST_CASE("queues: a cancelled getter leaves, and the next item goes to the next getter") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    Queue<int> queue;
    Items first_got, second_got;
    Outcome first, second;
    asio::cancellation_signal cancel_first;
    spawn(ex, get_into(queue, first_got), first, &cancel_first);
    spawn(ex, get_into(queue, second_got), second);
    CHECK(co_await settle([&] { return queue.getters() == 2; }));
    cortado::test::terminate(cancel_first);
    queue.put_nowait(1);  // the first getter has not resumed yet: this must skip it
    CHECK(co_await settle([&] { return first.done && second.done; }));
    CHECK(first.aborted());
    CHECK(first_got.empty());
    CHECK(second_got == Items{1});
    CHECK(queue.getters() == 0);
  });
}

TEST_CASE("queues: an item handed to a getter cancelled before it resumed is not lost") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    Queue<int> queue;
    Items first_got, second_got;
    Outcome first, second;
    asio::cancellation_signal cancel_first;
    spawn(ex, get_into(queue, first_got), first, &cancel_first);
    spawn(ex, get_into(queue, second_got), second);
    CHECK(co_await settle([&] { return queue.getters() == 2; }));
    queue.put_nowait(1);
    queue.put_nowait(2);
    cortado::test::terminate(cancel_first);  // after 1 was handed to it
    CHECK(co_await settle([&] { return first.done && second.done; }));
    CHECK(first.aborted());
    CHECK(second_got == Items{2});
    CHECK(queue.qsize() == 1);
    CHECK(queue.get_nowait() == 1);  // back at the front
  });
}

TEST_CASE("queues: a cancelled putter's item never enters the queue") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    Queue<int> queue(1);
    queue.put_nowait(1);
    Outcome putter;
    asio::cancellation_signal cancel;
    spawn(ex, put_one(queue, 2), putter, &cancel);
    CHECK(co_await settle([&] { return queue.putters() == 1; }));
    cortado::test::terminate(cancel);
    CHECK(queue.get_nowait() == 1);  // must not take the cancelled putter's item in
    CHECK(co_await settle([&] { return putter.done; }));
    CHECK(putter.aborted());
    CHECK(queue.empty());
    CHECK(queue.putters() == 0);
  });
}

TEST_CASE("queues: a race against a timeout leaves no getter behind") {
  run([](asio::any_io_executor) -> awaitable<void> {
    Queue<int> queue;
    auto result = co_await (queue.get() || cortado::sleep(10ms));
    CHECK(result.index() == 1);
    CHECK(queue.getters() == 0);
    queue.put_nowait(5);
    CHECK(queue.qsize() == 1);
  });
}

TEST_CASE("queues: waiters destroyed with their loop leave, and a handed-over item comes back") {
  Queue<int> queue(1);
  Items got;
  {
    asio::io_context doomed;
    asio::co_spawn(doomed, get_into(queue, got), asio::detached);
    doomed.poll();
    REQUIRE(queue.getters() == 1);
  }
  CHECK(queue.getters() == 0);
  {
    asio::io_context doomed;
    asio::co_spawn(doomed, get_into(queue, got), asio::detached);
    doomed.poll();
    queue.put_nowait(7);  // handed to the getter, which never runs again
  }
  CHECK(got.empty());
  CHECK(queue.qsize() == 1);
  {
    asio::io_context doomed;
    asio::co_spawn(doomed, put_one(queue, 8), asio::detached);
    doomed.poll();
    REQUIRE(queue.putters() == 1);
  }
  CHECK(queue.putters() == 0);
  CHECK(queue.get_nowait() == 7);
  CHECK(queue.empty());
}

TEST_CASE("queues: destroying a queue aborts its waiters") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    auto queue = std::make_unique<Queue<int>>();
    Items got;
    Outcome getter;
    spawn(ex, get_into(*queue, got), getter);
    CHECK(co_await settle([&] { return queue->getters() == 1; }));
    queue.reset();
    CHECK(co_await settle([&] { return getter.done; }));
    CHECK(getter.aborted());
  });
}
