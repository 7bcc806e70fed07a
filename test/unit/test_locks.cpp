#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <variant>
#include <vector>

#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>

#include "coro_support.hpp"
#include "cortado/ioloop.hpp"
#include "cortado/locks.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using asio::awaitable;
using cortado::BoundedSemaphore;
using cortado::Condition;
using cortado::Event;
using cortado::IOLoop;
using cortado::Lock;
using cortado::Semaphore;
using cortado::test::kTestTimeout;
using cortado::test::Outcome;
using cortado::test::settle;
using cortado::test::spawn;

namespace {

using Order = std::vector<int>;

awaitable<void> wait_then_record(Condition& cond, Order& order, int id) {
  const bool notified = co_await cond.wait();
  if (notified) order.push_back(id);
}

awaitable<void> wait_forever(Condition& cond) {
  co_await cond.wait();
}

awaitable<void> wait_event(Event& event) {
  co_await event.wait();
}

awaitable<void> acquire_then_record(Semaphore& sem, Order& order, int id) {
  co_await sem.acquire();
  order.push_back(id);
}

awaitable<void> lock_then_record(Lock& lock, Order& order, int id) {
  co_await lock.acquire();
  order.push_back(id);
}

// Holds the lock across several loop turns, checking that nobody else holds it meanwhile.
awaitable<void> exclusive_section(Lock& lock, int& inside, int& most_inside, Order& order, int id) {
  auto held = co_await lock.acquire_guard();
  ++inside;
  most_inside = std::max(most_inside, inside);
  for (int i = 0; i < 3; ++i) co_await cortado::test::yield();
  order.push_back(id);
  --inside;
}

// Runs the coroutine `body(executor, args...)` on a fresh IOLoop until it ends.
template <class Body, class... Args>
void run(Body body, Args&&... args) {
  IOLoop loop;
  loop.run_sync(body(loop.executor(), std::forward<Args>(args)...), kTestTimeout);
}

}  // namespace

TEST_CASE("locks: Condition wakes waiters in FIFO order, posting instead of resuming inline") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    Condition cond;
    Order order;
    Outcome out[4];
    for (int i = 0; i < 4; ++i) spawn(ex, wait_then_record(cond, order, i), out[i]);
    CHECK(co_await settle([&] { return cond.waiters() == 4; }));
    cond.notify();
    CHECK(order.empty());
    CHECK(co_await settle([&] { return order.size() == 1; }));
    cond.notify(2);
    CHECK(co_await settle([&] { return order.size() == 3; }));
    cond.notify_all();
    CHECK(co_await settle([&] { return order.size() == 4; }));
    CHECK(order == Order{0, 1, 2, 3});
    CHECK(cond.waiters() == 0);
  });
}

TEST_CASE("locks: Condition.wait returns false on timeout and a notify without waiters is lost") {
  run([](asio::any_io_executor) -> awaitable<void> {
    Condition cond;
    cond.notify();
    CHECK_FALSE(co_await cond.wait(10ms));
    CHECK(cond.waiters() == 0);
  });
}

TEST_CASE("locks: Condition.notify goes past a waiter that timed out") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    Condition cond;
    Order order;
    Outcome later;
    spawn(ex, wait_then_record(cond, order, 1), later);
    // This coroutine parks first (the spawned one has not started yet), so it is first in line.
    CHECK_FALSE(co_await cond.wait(20ms));
    CHECK(cond.waiters() == 1);
    cond.notify();
    CHECK(co_await settle([&] { return later.done; }));
    CHECK(order == Order{1});
  });
}

TEST_CASE("locks: a notify skips a cancelled waiter whose completion is still queued") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    Condition cond;
    Order order;
    Outcome first, second;
    asio::cancellation_signal cancel_first;
    spawn(ex, wait_then_record(cond, order, 0), first, &cancel_first);
    spawn(ex, wait_then_record(cond, order, 1), second);
    CHECK(co_await settle([&] { return cond.waiters() == 2; }));
    cortado::test::terminate(cancel_first);
    cond.notify();  // the first waiter has not resumed yet: this must reach the second
    CHECK(co_await settle([&] { return first.done && second.done; }));
    CHECK(first.aborted());
    CHECK(second.ok());
    CHECK(order == Order{1});
  });
}

TEST_CASE("locks: a notification that crosses a cancellation passes to the next waiter") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    Condition cond;
    Order order;
    Outcome first, second;
    asio::cancellation_signal cancel_first;
    spawn(ex, wait_then_record(cond, order, 0), first, &cancel_first);
    spawn(ex, wait_then_record(cond, order, 1), second);
    CHECK(co_await settle([&] { return cond.waiters() == 2; }));
    cond.notify();                           // woken, not yet resumed...
    cortado::test::terminate(cancel_first);  // ...and cancelled
    CHECK(co_await settle([&] { return first.done && second.done; }));
    CHECK(first.aborted());
    CHECK(order == Order{1});
  });
}

TEST_CASE("locks: a waiter whose frame is destroyed leaves the Condition") {
  Condition cond;
  {
    asio::io_context context;
    asio::co_spawn(context, wait_forever(cond), asio::detached);
    asio::co_spawn(context, wait_forever(cond), asio::detached);
    context.poll();
    REQUIRE(cond.waiters() == 2);
  }
  CHECK(cond.waiters() == 0);
  // The Condition still works, and a notify is not spent on the dead waiters.
  run(
      [](asio::any_io_executor ex, Condition& cond) -> awaitable<void> {
        Order order;
        Outcome out;
        spawn(ex, wait_then_record(cond, order, 7), out);
        CHECK(co_await settle([&] { return cond.waiters() == 1; }));
        cond.notify();
        CHECK(co_await settle([&] { return out.done; }));
        CHECK(order == Order{7});
      },
      cond);
}

TEST_CASE("locks: a notified waiter destroyed before it resumes passes the notification on") {
  Condition cond;
  Order order;
  asio::io_context context;
  {
    asio::io_context doomed;
    asio::co_spawn(doomed, wait_forever(cond), asio::detached);
    doomed.poll();
    asio::co_spawn(context, wait_then_record(cond, order, 1), asio::detached);
    context.poll();
    REQUIRE(cond.waiters() == 2);
    cond.notify();
  }
  context.poll();
  CHECK(order == Order{1});
}

TEST_CASE("locks: a racing timeout cancels the Condition wait and removes the waiter") {
  run([](asio::any_io_executor) -> awaitable<void> {
    Condition cond;
    auto result = co_await (cond.wait() || cortado::sleep(10ms));
    CHECK(result.index() == 1);
    CHECK(cond.waiters() == 0);
  });
}

TEST_CASE("locks: destroying a Condition aborts its waiters") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    auto cond = std::make_unique<Condition>();
    Outcome out;
    spawn(ex, wait_forever(*cond), out);
    CHECK(co_await settle([&] { return cond->waiters() == 1; }));
    cond.reset();
    CHECK(co_await settle([&] { return out.done; }));
    CHECK(out.aborted());
  });
}

TEST_CASE("locks: Event set before wait, after wait, and set-then-clear") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    Event event;
    CHECK_FALSE(event.is_set());
    Outcome early, late;
    spawn(ex, wait_event(event), early);
    CHECK(co_await settle([&] { return event.waiters() == 1; }));
    event.set();
    event.clear();  // the waiter was already released
    CHECK(co_await settle([&] { return early.done; }));
    CHECK(early.ok());
    CHECK_FALSE(event.is_set());

    event.set();
    CHECK(event.is_set());
    spawn(ex, wait_event(event), late);
    CHECK(co_await settle([&] { return late.done; }));
    CHECK(late.ok());
    CHECK(event.waiters() == 0);
  });
}

TEST_CASE("locks: Event.wait throws TimeoutError") {
  run([](asio::any_io_executor) -> awaitable<void> {
    Event event;
    bool timed_out = false;
    try {
      co_await event.wait(10ms);
    } catch (const cortado::TimeoutError&) {
      timed_out = true;
    }
    CHECK(timed_out);
    CHECK(event.waiters() == 0);
  });
}

TEST_CASE("locks: a cancelled Event waiter ends with operation_aborted") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    Event event;
    Outcome out;
    asio::cancellation_signal cancel;
    spawn(ex, wait_event(event), out, &cancel);
    CHECK(co_await settle([&] { return event.waiters() == 1; }));
    cortado::test::terminate(cancel);
    CHECK(co_await settle([&] { return out.done; }));
    CHECK(out.aborted());
    CHECK(event.waiters() == 0);
  });
}

TEST_CASE("locks: Semaphore counts permits and hands them out in FIFO order") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    Semaphore sem(2);
    co_await sem.acquire();
    co_await sem.acquire();
    CHECK(sem.value() == 0);
    Order order;
    Outcome out[3];
    for (int i = 0; i < 3; ++i) spawn(ex, acquire_then_record(sem, order, i), out[i]);
    CHECK(co_await settle([&] { return sem.waiters() == 3; }));
    sem.release();
    CHECK(co_await settle([&] { return order.size() == 1; }));
    CHECK(sem.value() == 0);  // the permit went to the waiter, not to the counter
    sem.release();
    sem.release();
    sem.release();
    CHECK(co_await settle([&] { return order.size() == 3; }));
    CHECK(order == Order{0, 1, 2});
    CHECK(sem.value() == 1);
    sem.release();
    sem.release();  // an unbounded Semaphore may exceed its initial value
    CHECK(sem.value() == 3);
  });
}

TEST_CASE("locks: Semaphore.acquire times out without taking a permit") {
  run([](asio::any_io_executor) -> awaitable<void> {
    Semaphore sem(0);
    bool timed_out = false;
    try {
      co_await sem.acquire(10ms);
    } catch (const cortado::TimeoutError&) {
      timed_out = true;
    }
    CHECK(timed_out);
    sem.release();
    CHECK(sem.value() == 1);
  });
}

TEST_CASE("locks: BoundedSemaphore refuses to be released above its initial value") {
  run([](asio::any_io_executor) -> awaitable<void> {
    BoundedSemaphore sem(2);
    CHECK_THROWS_AS(sem.release(), std::logic_error);
    co_await sem.acquire();
    sem.release();
    CHECK_THROWS_AS(sem.release(), std::logic_error);
    CHECK(sem.value() == 2);
  });
}

TEST_CASE("locks: Semaphore guards release on scope exit, early, and once when moved") {
  run([](asio::any_io_executor) -> awaitable<void> {
    BoundedSemaphore sem(2);
    {
      auto a = co_await sem.acquire_guard();
      auto b = co_await sem.acquire_guard();
      CHECK(sem.value() == 0);
      b.release();
      CHECK_FALSE(b.owns());
      CHECK(sem.value() == 1);
      Semaphore::Guard moved = std::move(a);
      CHECK(moved.owns());
      CHECK_FALSE(a.owns());
    }
    CHECK(sem.value() == 2);  // a BoundedSemaphore would have thrown on a double release
  });
}

TEST_CASE("locks: a permit handed to a cancelled Semaphore waiter goes to the next one") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    Semaphore sem(0);
    Order order;
    Outcome first, second;
    asio::cancellation_signal cancel_first;
    spawn(ex, acquire_then_record(sem, order, 0), first, &cancel_first);
    spawn(ex, acquire_then_record(sem, order, 1), second);
    CHECK(co_await settle([&] { return sem.waiters() == 2; }));
    sem.release();
    cortado::test::terminate(cancel_first);
    CHECK(co_await settle([&] { return first.done && second.done; }));
    CHECK(first.aborted());
    CHECK(order == Order{1});
    CHECK(sem.value() == 0);
  });
}

TEST_CASE("locks: Lock gives mutual exclusion to many coroutines, in FIFO order") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    Lock lock;
    int inside = 0, most_inside = 0;
    Order order;
    constexpr int kWorkers = 20;
    std::vector<Outcome> out(kWorkers);
    for (int i = 0; i < kWorkers; ++i) {
      spawn(ex, exclusive_section(lock, inside, most_inside, order, i), out[i]);
    }
    CHECK(co_await settle([&] { return order.size() == kWorkers; }));
    CHECK(most_inside == 1);
    Order expected;
    for (int i = 0; i < kWorkers; ++i) expected.push_back(i);
    CHECK(order == expected);
    CHECK_FALSE(lock.locked());
  });
}

TEST_CASE("locks: Lock.acquire times out, and releasing an unlocked Lock throws") {
  run([](asio::any_io_executor) -> awaitable<void> {
    Lock lock;
    CHECK_THROWS_AS(lock.release(), std::logic_error);
    auto held = co_await lock.acquire_guard();
    CHECK(lock.locked());
    bool timed_out = false;
    try {
      co_await lock.acquire(10ms);
    } catch (const cortado::TimeoutError&) {
      timed_out = true;
    }
    CHECK(timed_out);
    CHECK(lock.waiters() == 0);
    held.release();
    CHECK_FALSE(lock.locked());
  });
}

TEST_CASE("locks: cancelling a coroutine waiting for a Lock") {
  run([](asio::any_io_executor ex) -> awaitable<void> {
    Lock lock;
    co_await lock.acquire();
    Order order;
    Outcome first, second;
    asio::cancellation_signal cancel_first;
    spawn(ex, lock_then_record(lock, order, 0), first, &cancel_first);
    spawn(ex, lock_then_record(lock, order, 1), second);
    CHECK(co_await settle([&] { return lock.waiters() == 2; }));
    cortado::test::terminate(cancel_first);
    CHECK(co_await settle([&] { return first.done; }));
    CHECK(first.aborted());
    CHECK(lock.waiters() == 1);
    lock.release();
    CHECK(co_await settle([&] { return second.done; }));
    CHECK(order == Order{1});
    CHECK(lock.locked());  // held by the second waiter now
  });
}

TEST_CASE("locks: a race against a timeout gives up a Lock cleanly") {
  run([](asio::any_io_executor) -> awaitable<void> {
    Lock lock;
    auto held = co_await lock.acquire_guard();
    auto result = co_await (lock.acquire_guard() || cortado::sleep(10ms));
    CHECK(result.index() == 1);
    CHECK(lock.waiters() == 0);
    held.release();
    CHECK_FALSE(lock.locked());
  });
}

TEST_CASE(
    "locks: a Lock waiter destroyed with its loop leaves; one destroyed after the wake unlocks") {
  Lock lock;
  Order order;
  {
    asio::io_context owner, doomed;
    asio::co_spawn(owner, lock_then_record(lock, order, 0), asio::detached);
    owner.poll();
    REQUIRE(lock.locked());
    asio::co_spawn(doomed, lock_then_record(lock, order, 1), asio::detached);
    doomed.poll();
    REQUIRE(lock.waiters() == 1);
  }
  CHECK(lock.waiters() == 0);
  CHECK(lock.locked());  // still held by the first coroutine, which completed

  {
    asio::io_context doomed;
    asio::co_spawn(doomed, lock_then_record(lock, order, 2), asio::detached);
    doomed.poll();
    REQUIRE(lock.waiters() == 1);
    lock.release();  // hands the lock to the waiter, which never gets to run
  }
  CHECK(order == Order{0});
  CHECK_FALSE(lock.locked());
}
