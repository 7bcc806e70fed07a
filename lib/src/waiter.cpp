#include "cortado/detail/waiter.hpp"

#include <system_error>

#include <asio/error.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace cortado::detail {

Waiter::Waiter(const asio::any_io_executor& executor, void* payload)
    : timer_(executor), payload_(payload) {}

// Reached without resuming only when the frame is destroyed (its io_context went away): a wake
// it received goes back to the primitive.
Waiter::~Waiter() {
  if (woken_) {
    give_back();
  } else {
    unlink();
  }
}

asio::awaitable<bool> Waiter::park(WaiterList& list, std::optional<Duration> timeout) {
  if (timeout) {
    timer_.expires_after(*timeout);  // saturates instead of overflowing on huge timeouts
  } else {
    timer_.expires_at(Clock::time_point::max());
  }
  list_ = &list;
  list.parked_.push_back(*this);
  std::error_code ec;
  co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (!woken_) {
    unlink();
    if (ec) throw_aborted();  // cancelled, or the primitive was destroyed
    co_return false;          // the timer expired
  }
  // The wake and a cancellation can cross: the wake is already posted when the slot is emitted.
  // Cancellation wins when the primitive can take its hand-over back.
  const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
  if (state.cancelled() != asio::cancellation_type::none && give_back()) throw_aborted();
  unlink();
  co_return true;
}

void Waiter::unlink() noexcept {
  if (!list_) return;
  list_->chain_of(*this).erase(*this);
  list_ = nullptr;
}

bool Waiter::give_back() {
  WaiterList* list = list_;
  unlink();
  if (!list || !list->give_back_) return true;
  return list->give_back_(*this);
}

void Waiter::throw_aborted() {
  throw std::system_error(make_error_code(asio::error::operation_aborted));
}

WaiterList::~WaiterList() {
  while (Waiter* w = parked_.head) {
    parked_.erase(*w);
    w->list_ = nullptr;
    w->timer_.cancel();
  }
  while (Waiter* w = woken_.head) {
    woken_.erase(*w);
    w->list_ = nullptr;
  }
}

Waiter* WaiterList::wake_one() {
  while (Waiter* w = parked_.head) {
    parked_.erase(*w);
    // 0: the timeout fired or the coroutine was cancelled; its completion is already queued.
    if (w->timer_.cancel() == 0) {
      w->list_ = nullptr;
      continue;
    }
    w->woken_ = true;
    woken_.push_back(*w);
    return w;
  }
  return nullptr;
}

std::size_t WaiterList::wake_all() {
  std::size_t woken = 0;
  while (wake_one()) ++woken;
  return woken;
}

void WaiterList::Chain::push_back(Waiter& w) noexcept {
  w.prev_ = tail;
  w.next_ = nullptr;
  (tail ? tail->next_ : head) = &w;
  tail = &w;
  ++size;
}

void WaiterList::Chain::erase(Waiter& w) noexcept {
  (w.prev_ ? w.prev_->next_ : head) = w.next_;
  (w.next_ ? w.next_->prev_ : tail) = w.prev_;
  w.prev_ = w.next_ = nullptr;
  --size;
}

}  // namespace cortado::detail
