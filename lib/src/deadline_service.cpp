#include "deadline_service.hpp"

#include <time.h>

#include <algorithm>

#include <asio/execution/context.hpp>
#include <asio/query.hpp>

#include "cortado/iostream.hpp"

namespace cortado {

std::chrono::steady_clock::time_point detail::coarse_now() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::chrono::steady_clock::time_point(std::chrono::seconds(ts.tv_sec) +
                                               std::chrono::nanoseconds(ts.tv_nsec));
}

asio::execution_context::id DeadlineService::id;

DeadlineService& DeadlineService::of(const asio::any_io_executor& executor) {
  return asio::use_service<DeadlineService>(asio::query(executor, asio::execution::context));
}

void DeadlineService::link(IOStream& stream) {
  if (stream.deadlines_) return;
  stream.deadlines_ = this;
  stream.deadline_next_ = head_;
  if (head_) head_->deadline_prev_ = &stream;
  head_ = &stream;
  // Parking is checked by the sweep too: a couple of sweeps per park_after.
  adapt_period(stream.options_.park_after / 2);
}

void DeadlineService::adapt_period(std::chrono::steady_clock::duration wanted) {
  const auto period = std::clamp<std::chrono::steady_clock::duration>(
      wanted, std::chrono::milliseconds(5), std::chrono::seconds(1));
  if (period < period_) {
    period_ = period;
    if (ticking_) timer_->expires_after(period_);  // cancels the pending wait; sweep re-arms
  }
}

void DeadlineService::track(IOStream& stream) {
  link(stream);
  if (!ticking_) arm(stream.get_executor());
}

void DeadlineService::watch(IOStream& stream, std::chrono::steady_clock::duration timeout) {
  link(stream);
  adapt_period(timeout / 8);
  if (!ticking_) arm(stream.get_executor());
}

void DeadlineService::forget(IOStream& stream) {
  if (stream.deadlines_ != this) return;
  if (stream.deadline_prev_) stream.deadline_prev_->deadline_next_ = stream.deadline_next_;
  if (stream.deadline_next_) stream.deadline_next_->deadline_prev_ = stream.deadline_prev_;
  if (head_ == &stream) head_ = stream.deadline_next_;
  stream.deadlines_ = nullptr;
  stream.deadline_prev_ = stream.deadline_next_ = nullptr;
}

void DeadlineService::shutdown() {
  // The timer must go before Asio's timer service does (services shut down in reverse order
  // of creation, and this one is created after it).
  ticking_ = false;
  timer_.reset();
}

void DeadlineService::arm(const asio::any_io_executor& executor) {
  if (!timer_) timer_.emplace(executor);
  ticking_ = true;
  timer_->expires_after(period_);
  timer_->async_wait([this](std::error_code ec) {
    if (ec == asio::error::operation_aborted && !ticking_) return;
    sweep();
  });
}

void DeadlineService::sweep() {
  const auto now = std::chrono::steady_clock::now();
  bool any = false;
  for (IOStream* s = head_; s;) {
    IOStream* next = s->deadline_next_;  // close() never unlinks, but stay safe
    any = check(*s, now) || any;
    s = next;
  }
  ticking_ = false;
  if (any) arm(timer_->get_executor());
}

bool DeadlineService::check(IOStream& s, std::chrono::steady_clock::time_point now) {
  using time_point = std::chrono::steady_clock::time_point;
  if (s.deadline_ != time_point::max()) {
    if (s.deadline_ <= now) {
      s.deadline_ = time_point::max();
      s.close(stream_errc::timed_out);
      return false;
    }
  }
  if (s.idle_waiting_) {
    // The first sweep that sees the stream idle starts its clock: no clock read per request.
    if (s.idle_seen_ == time_point{}) {
      s.idle_seen_ = now;
    } else if (now - s.idle_seen_ >= s.options_.park_after) {
      s.park();
    }
  }
  return s.deadline_ != time_point::max() || s.idle_waiting_;
}

}  // namespace cortado
