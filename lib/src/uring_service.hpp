// Socket reads and writes through io_uring, batched per turn of Asio's loop.
//
// Why: on this kind of machine a syscall costs about a microsecond (page-table isolation in a
// VM), and a keep-alive request made two of them (recvmsg, send), as nginx's does. Submitted
// through a ring, a turn of the loop costs one io_uring_enter() for all the connections it
// served: a server doing nothing else answered 1.4-1.7x more requests per CPU-second than the
// same server on epoll (test/bench/README.md, "io_uring").
//
// How it fits Asio: the io_context stays the loop and its epoll reactor still waits. The ring
// (IORING_SETUP_COOP_TASKRUN: the kernel finishes completions when this thread next enters it
// rather than interrupting it) signals an eventfd when completions are posted; the reactor
// watches that eventfd with an operation whose readiness check reads the ring's flags in shared
// memory, so waiting costs no syscall of its own. Operations started while handlers run are
// submitted together by one posted flush, after the handlers already queued.
//
// On by default; CORTADO_IO_URING=0 in the environment turns it off (every stream then reads and
// writes through Asio's reactor). Measured (test/bench/README.md, "io_uring"): 1.16-1.24x nginx's
// requests per CPU-second at 256 connections with p99 below nginx's, where epoll made
// 0.89-0.91x; with a single connection it costs more than epoll (0.66x nginx against 0.92x).
// One side effect for code on the loop's thread: a completion interrupts a blocking poll() or
// epoll_wait() there (EINTR), as a signal would.
//
// Used only where it is safe: an io_context created with concurrency hint 1 (IOLoop's; one
// thread runs it, and the ring is bound to that thread), the epoll reactor of Asio 1.22, and a
// kernel that allows io_uring (containers often forbid it). Anything else reads and writes
// through Asio as before.
#pragma once

#include <cstddef>
#include <memory>
#include <system_error>

#include <asio/any_io_executor.hpp>
#include <asio/execution_context.hpp>
#include <asio/version.hpp>

#include "cortado/build_config.hpp"

#if CORTADO_HAS_LIBURING && ASIO_VERSION / 100 == 1022 && defined(ASIO_HAS_EPOLL) && \
    !defined(ASIO_HAS_IO_URING_AS_DEFAULT)
#define CORTADO_URING 1
#include <sys/socket.h>
#include <sys/uio.h>

#include <memory>
#include <utility>

#include <asio/associated_cancellation_slot.hpp>
#include <asio/async_result.hpp>
#include <asio/detail/bind_handler.hpp>
#include <asio/detail/fenced_block.hpp>
#include <asio/detail/handler_alloc_helpers.hpp>
#include <asio/detail/handler_work.hpp>
#include <asio/detail/memory.hpp>
struct io_uring_sqe;
namespace asio {
class io_context;
namespace detail {
class scheduler;
}
}  // namespace asio
#else
#define CORTADO_URING 0
#endif

namespace cortado::detail {

#if CORTADO_URING

class UringService;

// One submitted read or write. `slot`, when set, is where its owner keeps a pointer to it (for
// cancel()); it is cleared when the operation completes.
class UringOp {
 public:
  // invoke == false: the service is shutting down; destroy the handler without calling it.
  using CompleteFn = void (*)(UringOp*, int result, bool invoke);
  UringOp** slot = nullptr;
  UringOp* prev = nullptr;  // the service's list of operations in flight
  UringOp* next = nullptr;
  msghdr message{};          // for sendmsg: read by the kernel when it issues the operation
  bool cancellable = false;  // a Cancellation in the handler's slot points here

  void complete(int result, bool invoke) {
    if (slot) *slot = nullptr;
    complete_(this, result, invoke);
  }

 protected:
  explicit UringOp(CompleteFn fn) : complete_(fn) {}
  ~UringOp() = default;

 private:
  CompleteFn complete_;
};

template <typename Handler, typename IoExecutor>
class UringHandlerOp final : public UringOp {
 public:
  ASIO_DEFINE_HANDLER_PTR(UringHandlerOp);

  UringHandlerOp(Handler& handler, const IoExecutor& io_ex)
      : UringOp(&UringHandlerOp::do_complete),
        handler_(std::move(handler)),
        work_(handler_, io_ex) {}

 private:
  static void do_complete(UringOp* base, int result, bool invoke) {
    auto* op = static_cast<UringHandlerOp*>(base);
    ptr p = {std::addressof(op->handler_), op, op};
    // The slot's Cancellation points at this operation, which is about to go.
    if (op->cancellable) asio::get_associated_cancellation_slot(op->handler_).clear();
    asio::detail::handler_work<Handler, IoExecutor> work(std::move(op->work_));
    std::error_code ec;
    std::size_t bytes = 0;
    if (result > 0) {
      bytes = static_cast<std::size_t>(result);
    } else if (result < 0) {
      ec = std::error_code(-result, asio::error::get_system_category());  // ECANCELED: aborted
    }
    // The handler may own the memory the operation lives in: move it out before freeing.
    asio::detail::binder2<Handler, std::error_code, std::size_t> bound(op->handler_, ec, bytes);
    p.h = std::addressof(bound.handler_);
    p.reset();
    if (invoke) {
      asio::detail::fenced_block fence(asio::detail::fenced_block::half);
      work.complete(bound, bound.handler_);
    }
  }

  Handler handler_;
  asio::detail::handler_work<Handler, IoExecutor> work_;
};

#endif

class UringService final : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;

  explicit UringService(asio::execution_context& context);
  ~UringService() override;

  // The service for streams on `executor`'s io_context, or nullptr where it cannot be used (see
  // above). Call from the thread that runs `context`.
  static UringService* usable(const asio::any_io_executor& executor);

#if CORTADO_URING
  // recv(): completes with the bytes read; 0 bytes is end of file (reported as 0, no error).
  template <typename IoExecutor, typename Token>
  auto async_receive(const IoExecutor& ex, int fd, void* data, std::size_t size, UringOp** slot,
                     Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto&& handler, const IoExecutor& io_ex, int f, void* d, std::size_t n,
               UringOp** s) {
          UringOp* op = make_op(handler, io_ex, s);
          submit_receive(op, f, d, n);
        },
        token, ex, fd, data, size, slot);
  }

  // send() of one buffer, or sendmsg() of several; completes with the bytes written.
  template <typename IoExecutor, typename Token>
  auto async_send(const IoExecutor& ex, int fd, const iovec* iov, std::size_t count, UringOp** slot,
                  Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto&& handler, const IoExecutor& io_ex, int f, const iovec* v, std::size_t n,
               UringOp** s) {
          UringOp* op = make_op(handler, io_ex, s);
          submit_send(op, f, v, n);
        },
        token, ex, fd, iov, count, slot);
  }

  // Asks the kernel to end `op` early; it then completes with operation_aborted (or with its
  // result, if it finished first).
  void cancel(UringOp* op);
#endif

 private:
  struct Ring;
  class ReadyOp;

  void shutdown() override;

#if CORTADO_URING
  template <typename Handler, typename IoExecutor>
  UringOp* make_op(Handler& handler, const IoExecutor& io_ex, UringOp** slot) {
    using Op = UringHandlerOp<std::decay_t<Handler>, IoExecutor>;
    auto cancellation = asio::get_associated_cancellation_slot(handler);
    typename Op::ptr p = {std::addressof(handler), Op::ptr::allocate(handler), nullptr};
    p.p = new (p.v) Op(handler, io_ex);
    UringOp* op = p.p;
    p.v = p.p = nullptr;
    op->slot = slot;
    if (slot) *slot = op;
    if (cancellation.is_connected()) {
      cancellation.template emplace<Cancellation>(this, op);
      op->cancellable = true;
    }
    return op;
  }
  // Per-operation cancellation (awaitable operators, bind_cancellation_slot).
  struct Cancellation {
    Cancellation(UringService* s, UringOp* o) : service(s), op(o) {}
    UringService* service;
    UringOp* op;
    void operator()(asio::cancellation_type_t type) {
      constexpr auto kCancels = asio::cancellation_type::terminal |
                                asio::cancellation_type::partial | asio::cancellation_type::total;
      if (!!(type & kCancels)) service->cancel(op);
    }
  };
  void submit_receive(UringOp* op, int fd, void* data, std::size_t size);
  void submit_send(UringOp* op, int fd, const iovec* iov, std::size_t count);
  void start(asio::io_context& io, asio::detail::scheduler& scheduler);
  void arm();
  io_uring_sqe* next_sqe();
  void post_flush();
  void flush();
  void enter();
  void complete_ready(bool invoke);
#endif

  std::unique_ptr<Ring> ring_;
  bool tried_ = false;
};

}  // namespace cortado::detail
