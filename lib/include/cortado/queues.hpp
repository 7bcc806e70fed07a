// Tornado's tornado.queues as awaitables: Queue (FIFO), PriorityQueue and LifoQueue.
//
// The rules of locks.hpp apply: one loop's thread only, no executor held (a waiting coroutine
// parks on its own), FIFO wake order among waiters, posted resumption, and waits that end with
// operation_aborted when the coroutine is cancelled or the queue is destroyed. Timeouts throw
// cortado::TimeoutError.
//
// As in Tornado, an item goes straight from a put to a getter that is already waiting, and a
// get makes room for the longest-waiting putter at once. If a getter is cancelled (or its frame
// destroyed) after an item was handed to it but before it resumed, the item goes back to the
// front of the queue (for the next getter), so a race such as `q.get() || timeout` loses no
// item. A putter whose item was already taken in has completed: its put reports success.
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/this_coro.hpp>

#include "cortado/detail/waiter.hpp"
#include "cortado/ioloop.hpp"
#include "cortado/locks.hpp"

namespace cortado {

// get_nowait() on an empty queue.
class QueueEmpty : public std::runtime_error {
 public:
  QueueEmpty() : std::runtime_error("queue is empty") {}
};

// put_nowait() on a full queue.
class QueueFull : public std::runtime_error {
 public:
  QueueFull() : std::runtime_error("queue is full") {}
};

namespace detail {

// Storage orders for BasicQueue: push() adds, pop() removes the next item, unget() puts a
// popped item back where pop() will find it first.
template <class T>
class FifoStore {
 public:
  void push(T item) { items_.push_back(std::move(item)); }
  void unget(T item) { items_.push_front(std::move(item)); }
  T pop() {
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }
  std::size_t size() const noexcept { return items_.size(); }

 private:
  std::deque<T> items_;
};

template <class T>
class LifoStore {
 public:
  void push(T item) { items_.push_back(std::move(item)); }
  void unget(T item) { push(std::move(item)); }
  T pop() {
    T item = std::move(items_.back());
    items_.pop_back();
    return item;
  }
  std::size_t size() const noexcept { return items_.size(); }

 private:
  std::vector<T> items_;
};

// Smallest first (by `Compare`), like Python's heapq.
template <class T, class Compare>
class PriorityStore {
 public:
  void push(T item) {
    items_.push_back(std::move(item));
    std::push_heap(items_.begin(), items_.end(), later_);
  }
  void unget(T item) { push(std::move(item)); }
  T pop() {
    std::pop_heap(items_.begin(), items_.end(), later_);
    T item = std::move(items_.back());
    items_.pop_back();
    return item;
  }
  std::size_t size() const noexcept { return items_.size(); }

 private:
  // std::*_heap keep the greatest on top; inverting the order keeps the smallest there.
  struct Later {
    Compare less;
    bool operator()(const T& a, const T& b) const { return less(b, a); }
  };
  std::vector<T> items_;
  Later later_;
};

}  // namespace detail

// A queue of T coordinating producer and consumer coroutines. With maxsize 0 it is unbounded;
// otherwise put() waits while qsize() == maxsize (back-pressure).
template <class T, class Store>
class BasicQueue {
 public:
  explicit BasicQueue(std::size_t maxsize = 0);
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  std::size_t maxsize() const noexcept { return maxsize_; }
  std::size_t qsize() const noexcept { return items_.size(); }
  bool empty() const noexcept { return qsize() == 0; }
  bool full() const noexcept { return maxsize_ > 0 && qsize() >= maxsize_; }

  // Waits for room if the queue is full; throws TimeoutError if `timeout` passes first.
  asio::awaitable<void> put(T item, std::optional<Duration> timeout = std::nullopt);
  // Throws QueueFull instead of waiting.
  void put_nowait(T item);
  // Waits for an item if the queue is empty; throws TimeoutError if `timeout` passes first.
  asio::awaitable<T> get(std::optional<Duration> timeout = std::nullopt);
  // Throws QueueEmpty instead of waiting.
  T get_nowait();

  // Marks one item taken with get() as processed. Throws std::logic_error if called more times
  // than items were put.
  void task_done();
  // Completes once every item put so far has been marked done; throws TimeoutError if `timeout`
  // passes first.
  asio::awaitable<void> join(std::optional<Duration> timeout = std::nullopt) {
    return finished_.wait(timeout);
  }

  // Coroutines waiting in get() and put() (diagnostic).
  std::size_t getters() const noexcept { return getters_.size(); }
  std::size_t putters() const noexcept { return putters_.size(); }

 private:
  void put_internal(T item);
  bool take_back(detail::Waiter& getter);

  Store items_;
  std::size_t maxsize_;
  std::size_t unfinished_ = 0;
  Event finished_;
  // A getter's payload is the std::optional<T> it receives into; a putter's is its T.
  detail::WaiterList getters_{[this](detail::Waiter& w) { return take_back(w); }};
  detail::WaiterList putters_{[](detail::Waiter&) { return false; }};
};

template <class T>
using Queue = BasicQueue<T, detail::FifoStore<T>>;
template <class T, class Compare = std::less<T>>
using PriorityQueue = BasicQueue<T, detail::PriorityStore<T, Compare>>;
template <class T>
using LifoQueue = BasicQueue<T, detail::LifoStore<T>>;

template <class T, class Store>
BasicQueue<T, Store>::BasicQueue(std::size_t maxsize) : maxsize_(maxsize) {
  finished_.set();
}

template <class T, class Store>
asio::awaitable<void> BasicQueue<T, Store>::put(T item, std::optional<Duration> timeout) {
  if (!full()) {
    put_nowait(std::move(item));
    co_return;
  }
  detail::Waiter waiter(co_await asio::this_coro::executor, &item);
  const bool woken = co_await waiter.park(putters_, timeout);
  if (!woken) throw TimeoutError("Queue.put timed out");
}

// Getters wait only while the queue is empty, so a waiting getter never jumps the queue.
template <class T, class Store>
void BasicQueue<T, Store>::put_nowait(T item) {
  if (detail::Waiter* getter = getters_.wake_one()) {
    ++unfinished_;
    finished_.clear();
    getter->payload<std::optional<T>>().emplace(std::move(item));
    return;
  }
  if (full()) throw QueueFull();
  put_internal(std::move(item));
}

template <class T, class Store>
asio::awaitable<T> BasicQueue<T, Store>::get(std::optional<Duration> timeout) {
  if (!empty()) co_return get_nowait();
  std::optional<T> item;
  detail::Waiter waiter(co_await asio::this_coro::executor, &item);
  const bool woken = co_await waiter.park(getters_, timeout);
  if (!woken) throw TimeoutError("Queue.get timed out");
  co_return std::move(*item);
}

// Putters wait only while the queue is full; the longest-waiting one is taken in first, as in
// Tornado (for a LifoQueue its item is then the one returned).
template <class T, class Store>
T BasicQueue<T, Store>::get_nowait() {
  if (empty()) throw QueueEmpty();
  if (detail::Waiter* putter = putters_.wake_one()) put_internal(std::move(putter->payload<T>()));
  return items_.pop();
}

template <class T, class Store>
void BasicQueue<T, Store>::task_done() {
  if (unfinished_ == 0) throw std::logic_error("task_done() called too many times");
  if (--unfinished_ == 0) finished_.set();
}

template <class T, class Store>
void BasicQueue<T, Store>::put_internal(T item) {
  ++unfinished_;
  finished_.clear();
  items_.push(std::move(item));
}

// A getter that cannot use its item any more: the item goes back in front, to the next getter.
template <class T, class Store>
bool BasicQueue<T, Store>::take_back(detail::Waiter& getter) {
  auto& item = getter.payload<std::optional<T>>();
  if (!item) return true;
  items_.unget(std::move(*item));
  item.reset();
  if (detail::Waiter* next = getters_.wake_one()) {
    next->payload<std::optional<T>>().emplace(items_.pop());
  }
  return true;
}

}  // namespace cortado
