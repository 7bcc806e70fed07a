// A socket read that does not try recv() when the kernel has said the socket is empty.
//
// Asio's async_read_some always tries a recv() before it waits for epoll ("speculative" read),
// and stops doing so only after end of file or an error. A keep-alive connection that has just
// answered a request reads again at once, before the client can have sent the next one, so that
// recv() fails with EAGAIN every time: a third syscall per request (wrk -c256: 2.0 recv and 1.0
// sendmsg per request, against nginx's 1.0 and 1.0).
//
// The kernel can say whether a read emptied the socket: with TCP_INQ set (TCPServer sets it on
// its listening sockets; connections accepted afterwards inherit it), recvmsg() reports the bytes
// left in the receive queue, and 1 when only a FIN is left, so end of file is never missed. This
// operation is Asio's receive with that answer: a read that leaves nothing marks the descriptor
// exhausted, and the next read is queued for the reactor without a syscall. epoll is
// edge-triggered, so bytes arriving later raise a new edge and the reactor performs the queued read
// then; an edge that comes while no read is queued clears the mark (Asio records it under the
// descriptor's lock, where the mark is set), so the next read tries its recv() again. That holds
// with many threads running the io_context too.
//
// TCP_INQ does not count a reset that came together with the last bytes read: the queue reads 0
// and only the next recv() finds the reset. So a read relies on the mark only when its caller
// says so (`rely_on_drained`); IOStream does for a read between two messages with a send since
// the last read, for a send fails at once on a reset socket. Any other read after a marked one
// tries its recv() first.
//
// A socket without TCP_INQ (a client's, one accepted before TCP_INQ was set) reads as with
// async_read_some. This uses Asio's reactor internals (asio::detail), which change between
// releases: it is built for the epoll reactor of the Asio 1.22 series (Debian 12's); any other
// build reads through the public async_read_some, which is correct and one syscall slower. It
// leaves out Asio's handler-tracking hooks (ASIO_ENABLE_HANDLER_TRACKING does not show these
// reads).
#pragma once

#include <cstddef>
#include <system_error>
#include <utility>

#include <asio/async_result.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/version.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "cortado/iostream.hpp"  // detail::ReadState

#if ASIO_VERSION / 100 == 1022 && defined(ASIO_HAS_EPOLL) && !defined(ASIO_HAS_IO_URING_AS_DEFAULT)
#define CORTADO_DRAIN_AWARE_READ 1
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

#include <asio/associated_cancellation_slot.hpp>
#include <asio/detail/fenced_block.hpp>
#include <asio/detail/handler_alloc_helpers.hpp>
#include <asio/detail/handler_cont_helpers.hpp>
#include <asio/detail/handler_work.hpp>
#include <asio/detail/reactor.hpp>
#include <asio/detail/reactor_op.hpp>
#include <asio/detail/socket_ops.hpp>
#include <asio/error.hpp>
#else
#define CORTADO_DRAIN_AWARE_READ 0
#endif

namespace cortado::detail {

// Has the kernel report, with each recvmsg(), how many bytes are still queued (TCP_INQ): how a
// read learns that it emptied the socket. Sockets accepted from a listening socket inherit it.
// Kernels before 4.18 refuse it, and reads then work as before.
inline void report_queued_bytes(int fd) noexcept {
#ifdef TCP_INQ
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_INQ, &one, sizeof one);
#else
  (void)fd;
#endif
}

#if CORTADO_DRAIN_AWARE_READ

using asio::detail::reactor;
using asio::detail::reactor_op;

// The socket's reactor state lives in a protected member of basic_socket; a pointer to it can be
// named from a derived class and then applied to any socket.
struct SocketAccess : asio::ip::tcp::socket {
  static auto& implementation(asio::ip::tcp::socket& socket) {
    return (socket.*&SocketAccess::impl_).get_implementation();
  }
  static asio::execution_context& context(asio::ip::tcp::socket& socket) {
    return (socket.*&SocketAccess::impl_).get_service().context();
  }
};

// recvmsg() into `buffer`, with TCP_INQ's answer in `drained`.
inline reactor_op::status receive_noting_drain(asio::detail::socket_type fd,
                                               asio::mutable_buffer buffer, bool& drained,
                                               std::error_code& ec, std::size_t& bytes) {
  iovec iov{buffer.data(), buffer.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = 0;
  do {
    n = ::recvmsg(fd, &msg, 0);
  } while (n < 0 && errno == EINTR);
  drained = false;
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return reactor_op::not_done;
    ec = std::error_code(errno, asio::error::get_system_category());
    return reactor_op::done;
  }
  if (n == 0) {
    ec = asio::error::eof;
    return reactor_op::done_and_exhausted;
  }
  bytes = static_cast<std::size_t>(n);
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == IPPROTO_TCP && c->cmsg_type == TCP_CM_INQ) {
      int left = 0;
      std::memcpy(&left, CMSG_DATA(c), sizeof left);
      drained = left == 0;
    }
  }
  return drained ? reactor_op::done_and_exhausted : reactor_op::done;
}

template <typename Handler, typename IoExecutor>
class DrainAwareReadOp : public reactor_op {
 public:
  ASIO_DEFINE_HANDLER_PTR(DrainAwareReadOp);

  DrainAwareReadOp(asio::detail::socket_type fd, asio::mutable_buffer buffer, ReadState& state,
                   Handler& handler, const IoExecutor& io_ex)
      : reactor_op(std::error_code(), &DrainAwareReadOp::perform_read,
                   &DrainAwareReadOp::complete_read),
        fd_(fd),
        buffer_(buffer),
        state_(&state),
        handler_(std::move(handler)),
        work_(handler_, io_ex) {}

  // Run by the reactor under the descriptor's lock, or by start_drain_aware_read before the
  // operation is queued. Either way the stream is waiting for this read (one read at a time), so
  // nothing else touches its state meanwhile.
  static status perform_read(reactor_op* base) {
    auto* op = static_cast<DrainAwareReadOp*>(base);
    const status result = receive_noting_drain(op->fd_, op->buffer_, op->state_->drained, op->ec_,
                                               op->bytes_transferred_);
    if (result != not_done) op->state_->sent = false;
    return result;
  }

  static void complete_read(void* owner, asio::detail::operation* base, const std::error_code&,
                            std::size_t) {
    auto* op = static_cast<DrainAwareReadOp*>(base);
    ptr p = {std::addressof(op->handler_), op, op};
    asio::detail::handler_work<Handler, IoExecutor> work(std::move(op->work_));
    // The handler may own the memory the operation lives in: move it out before freeing.
    asio::detail::binder2<Handler, std::error_code, std::size_t> bound(op->handler_, op->ec_,
                                                                       op->bytes_transferred_);
    p.h = std::addressof(bound.handler_);
    p.reset();
    if (owner) {
      asio::detail::fenced_block fence(asio::detail::fenced_block::half);
      work.complete(bound, bound.handler_);
    }
  }

 private:
  asio::detail::socket_type fd_;
  asio::mutable_buffer buffer_;
  ReadState* state_;
  Handler handler_;
  asio::detail::handler_work<Handler, IoExecutor> work_;
};

// Per-operation cancellation (awaitable operators, bind_cancellation_slot): takes this read off
// the reactor's queue, which completes it with operation_aborted.
class DrainAwareReadCancellation {
 public:
  DrainAwareReadCancellation(reactor& r, reactor::per_descriptor_data& data,
                             asio::detail::socket_type fd)
      : reactor_(&r), data_(&data), fd_(fd) {}
  void operator()(asio::cancellation_type_t type) {
    constexpr auto kCancels = asio::cancellation_type::terminal | asio::cancellation_type::partial |
                              asio::cancellation_type::total;
    if (!!(type & kCancels)) reactor_->cancel_ops_by_key(fd_, *data_, reactor::read_op, this);
  }

 private:
  reactor* reactor_;
  reactor::per_descriptor_data* data_;
  asio::detail::socket_type fd_;
};

template <typename Handler>
void start_drain_aware_read(Handler&& handler, asio::ip::tcp::socket* socket, ReadState* state,
                            bool rely_on_drained, asio::mutable_buffer buffer) {
  using Op = DrainAwareReadOp<std::decay_t<Handler>, asio::ip::tcp::socket::executor_type>;
  auto& impl = SocketAccess::implementation(*socket);
  // Looked up once per stream: use_service() takes the service registry's mutex.
  if (!state->reactor) state->reactor = &asio::use_service<reactor>(SocketAccess::context(*socket));
  reactor& r = *static_cast<reactor*>(state->reactor);
  const bool continuation = asio_handler_cont_helpers::is_continuation(handler);
  auto slot = asio::get_associated_cancellation_slot(handler);
  typename Op::ptr p = {std::addressof(handler), Op::ptr::allocate(handler), nullptr};
  p.p = new (p.v) Op(impl.socket_, buffer, *state, handler, socket->get_executor());
  if (slot.is_connected()) {
    p.p->cancellation_key_ =
        &slot.template emplace<DrainAwareReadCancellation>(r, impl.reactor_data_, impl.socket_);
  }
  namespace ops = asio::detail::socket_ops;
  const bool non_blocking =
      (impl.state_ & ops::non_blocking) ||
      ops::set_internal_non_blocking(impl.socket_, impl.state_, true, p.p->ec_);
  // After a marked read the reactor would not try a recv(); unless the caller relies on the
  // mark, this read tries one now. If that fails, start_op still tries again should an edge have
  // cleared the mark meanwhile: the speculative flag must stay true here.
  const bool try_first = state->drained && !rely_on_drained;
  if (!non_blocking || (try_first && p.p->perform() != reactor_op::not_done)) {
    r.post_immediate_completion(p.p, continuation);
  } else {
    r.start_op(reactor::read_op, impl.socket_, impl.reactor_data_, p.p, continuation, true);
  }
  p.v = p.p = nullptr;
}

// async_read_some, minus the doomed recv() before the next message.
template <typename Token>
auto drain_aware_read_some(asio::ip::tcp::socket& socket, ReadState& state, bool rely_on_drained,
                           asio::mutable_buffer buffer, Token&& token) {
  // A recv() of nothing would read as end of file; Asio completes an empty read at once.
  if (buffer.size() == 0) return socket.async_read_some(buffer, std::forward<Token>(token));
  return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
      [](auto&& handler, asio::ip::tcp::socket* s, ReadState* st, bool rely,
         asio::mutable_buffer b) {
        start_drain_aware_read(std::forward<decltype(handler)>(handler), s, st, rely, b);
      },
      token, &socket, &state, rely_on_drained, buffer);
}

#else

template <typename Token>
auto drain_aware_read_some(asio::ip::tcp::socket& socket, ReadState&, bool,
                           asio::mutable_buffer buffer, Token&& token) {
  return socket.async_read_some(buffer, std::forward<Token>(token));
}

#endif

}  // namespace cortado::detail
