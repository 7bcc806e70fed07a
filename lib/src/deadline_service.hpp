// Deadlines for every IOStream of one execution context, checked by a single sweep timer. The
// same sweep parks streams that have idled in fill_idle() past their park_after.
//
// Setting a deadline is a store into the stream (no timer re-arm, no allocation), so protocol
// phases can set one per request for free. The sweep period adapts to the shortest timeout seen
// (an eighth of it, between 5 ms and 1 s), which bounds how late a deadline fires. The timer
// only runs while some stream has a deadline.
#pragma once

#include <chrono>
#include <optional>

#include <asio/execution_context.hpp>
#include <asio/steady_timer.hpp>

namespace cortado {

class IOStream;

namespace detail {
// steady_clock::now() read at the clock's tick (1 to 4 ms) instead of to the nanosecond: a tenth
// of the cost (3 ns against 27 in a VM, where reading the precise clock goes through the
// paravirtual clock). Same epoch as steady_clock (CLOCK_MONOTONIC), and never ahead of it.
std::chrono::steady_clock::time_point coarse_now() noexcept;
}  // namespace detail

class DeadlineService : public asio::execution_context::service {
 public:
  static asio::execution_context::id id;
  explicit DeadlineService(asio::execution_context& context) : service(context) {}

  static DeadlineService& of(const asio::any_io_executor& executor);

  void watch(IOStream& stream, std::chrono::steady_clock::duration timeout);
  // Links a stream without a deadline, so that the sweep can park it.
  void track(IOStream& stream);
  void forget(IOStream& stream);

 private:
  void shutdown() override;
  void link(IOStream& stream);
  // Sweeps at least this often (within 5 ms .. 1 s), which bounds how late a deadline fires.
  void adapt_period(std::chrono::steady_clock::duration wanted);
  void arm(const asio::any_io_executor& executor);
  void sweep();
  // Whether the sweep must come back for this stream.
  static bool check(IOStream& stream, std::chrono::steady_clock::time_point now);

  IOStream* head_ = nullptr;
  std::optional<asio::steady_timer> timer_;
  bool ticking_ = false;
  std::chrono::steady_clock::duration period_ = std::chrono::seconds(1);
};

}  // namespace cortado
