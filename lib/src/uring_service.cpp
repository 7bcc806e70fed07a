#include "uring_service.hpp"

#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

#include <asio/io_context.hpp>

#include "cortado/log.hpp"

#if CORTADO_URING
#include <liburing.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <thread>

#include <asio/detail/reactor.hpp>
#include <asio/detail/reactor_op.hpp>
#include <asio/detail/scheduler.hpp>
#include <asio/post.hpp>
#endif

namespace cortado::detail {

#if CORTADO_URING

namespace {

constexpr unsigned kRingEntries = 4096;
// Rounds of submit-and-complete one flush runs before it lets the rest of the loop go first.
constexpr int kRoundsPerFlush = 16;
constexpr std::size_t kMaxIovecs = 64;

// On unless the environment says CORTADO_IO_URING=0 (see uring_service.hpp).
bool enabled_by_environment() {
  const char* value = std::getenv("CORTADO_IO_URING");
  return !value || std::string_view(value) != "0";
}

}  // namespace

// Completes when the ring has work for this thread, checked in the ring's shared memory: the
// reactor runs it when the eventfd the ring signals becomes readable, and before queueing it.
class UringService::ReadyOp : public asio::detail::reactor_op {
 public:
  explicit ReadyOp(UringService* service)
      : reactor_op(std::error_code(), &ReadyOp::check, &ReadyOp::ready), service_(service) {}

 private:
  static status check(reactor_op* base);
  static void ready(void* owner, asio::detail::operation* base, const std::error_code&,
                    std::size_t);
  UringService* service_;
};

struct UringService::Ring {
  io_uring ring{};
  int event_fd = -1;
  asio::io_context* context = nullptr;
  asio::detail::scheduler* scheduler = nullptr;
  asio::detail::reactor* reactor = nullptr;
  asio::detail::reactor::per_descriptor_data reactor_data{};
  std::thread::id owner;
  bool flush_posted = false;
  bool shut_down = false;
  unsigned queued = 0;  // SQEs prepared since the last submit
  std::size_t in_flight = 0;
  UringOp* first = nullptr;  // operations in flight
  std::unique_ptr<ReadyOp> ready;

  // Completions the kernel has not finished yet: it does when this thread next enters it.
  bool task_work_pending() const {
    return (IO_URING_READ_ONCE(*ring.sq.kflags) & IORING_SQ_TASKRUN) != 0;
  }
  bool has_work() const { return io_uring_cq_ready(&ring) > 0 || task_work_pending(); }
};

namespace {

void link(UringOp*& first, UringOp* op) {
  op->prev = nullptr;
  op->next = first;
  if (first) first->prev = op;
  first = op;
}

void unlink(UringOp*& first, UringOp* op) {
  if (op->prev) op->prev->next = op->next;
  if (op->next) op->next->prev = op->prev;
  if (first == op) first = op->next;
}

}  // namespace

#endif

UringService::UringService(asio::execution_context& context)
    : asio::execution_context::service(context) {}

#if CORTADO_URING
// Made by the first stream that asks from a thread running the io_context: the ring belongs to
// the thread that creates it.
void UringService::start(asio::io_context& io, asio::detail::scheduler& scheduler) {
  auto ring = std::make_unique<Ring>();
  io_uring_params params{};
  // COOP_TASKRUN: the kernel finishes completions when this thread next enters it (any syscall)
  // instead of interrupting it, and wakes it if it sleeps in epoll_wait. Not DEFER_TASKRUN: with
  // it the eventfd was signalled 13-17 ms after the completion (test/bench/README.md).
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  if (const int rc = io_uring_queue_init_params(kRingEntries, &ring->ring, &params); rc < 0) {
    log::general().debug("io_uring not used: {}", std::strerror(-rc));
    return;
  }
  ring->event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (ring->event_fd < 0 || io_uring_register_eventfd(&ring->ring, ring->event_fd) < 0) {
    log::general().debug("io_uring not used: no eventfd");
    if (ring->event_fd >= 0) ::close(ring->event_fd);
    io_uring_queue_exit(&ring->ring);
    return;
  }
  ring->context = &io;
  ring->scheduler = &scheduler;
  ring->reactor = &asio::use_service<asio::detail::reactor>(io);
  ring->reactor->register_descriptor(ring->event_fd, ring->reactor_data);
  ring->owner = std::this_thread::get_id();
  ring->ready = std::make_unique<ReadyOp>(this);
  ring_ = std::move(ring);
  arm();
}
#endif

UringService::~UringService() {
#if CORTADO_URING
  if (!ring_) return;
  if (!ring_->shut_down) shutdown();
  ::close(ring_->event_fd);
#endif
}

UringService* UringService::usable(const asio::any_io_executor& executor) {
#if CORTADO_URING
  const auto* ex = executor.target<asio::io_context::executor_type>();
  if (!ex) return nullptr;
  asio::io_context* io = &ex->context();
  auto& scheduler = asio::use_service<asio::detail::scheduler>(*io);
  // Only from the thread running the loop, and only if no other thread may run it.
  if (scheduler.concurrency_hint() != 1 || !scheduler.can_dispatch()) return nullptr;
  auto& service = asio::use_service<UringService>(*io);
  if (!std::exchange(service.tried_, true) && enabled_by_environment()) {
    service.start(*io, scheduler);
  }
  if (service.ring_ && !service.ring_->shut_down &&
      service.ring_->owner == std::this_thread::get_id()) {
    return &service;
  }
#else
  (void)executor;
#endif
  return nullptr;
}

#if CORTADO_URING

// Queues the readiness check with the reactor. It does not count as work: an io_context with
// nothing else to do still returns from run(); operations in flight count, through their handlers.
void UringService::arm() {
  Ring& r = *ring_;
  r.reactor->start_op(asio::detail::reactor::read_op, r.event_fd, r.reactor_data, r.ready.get(),
                      false, true);
  r.scheduler->work_finished();
}

asio::detail::reactor_op::status UringService::ReadyOp::check(reactor_op* base) {
  return static_cast<ReadyOp*>(base)->service_->ring_->has_work() ? done : not_done;
}

void UringService::ReadyOp::ready(void* owner, asio::detail::operation* base,
                                  const std::error_code&, std::size_t) {
  if (!owner) return;  // the reactor is shutting down
  UringService* service = static_cast<ReadyOp*>(base)->service_;
  // The scheduler counts this run as work finished; arm() took that count back already.
  service->ring_->scheduler->work_started();
  service->flush();
  service->arm();
}

namespace {

io_uring_sqe* free_sqe(io_uring& ring) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  if (!sqe) {  // the submission queue is full: hand it over now
    io_uring_submit(&ring);
    sqe = io_uring_get_sqe(&ring);
  }
  return sqe;
}

}  // namespace

// An entry to fill in, submitted by the flush this posts (after the handlers already queued).
io_uring_sqe* UringService::next_sqe() {
  ++ring_->queued;
  post_flush();
  return free_sqe(ring_->ring);
}

void UringService::post_flush() {
  if (std::exchange(ring_->flush_posted, true)) return;
  asio::post(*ring_->context, [this] {
    if (!ring_->shut_down) flush();
  });
}

void UringService::submit_receive(UringOp* op, int fd, void* data, std::size_t size) {
  link(ring_->first, op);
  ++ring_->in_flight;
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_recv(sqe, fd, data, size, 0);
  io_uring_sqe_set_data(sqe, op);
}

void UringService::submit_send(UringOp* op, int fd, const iovec* iov, std::size_t count) {
  link(ring_->first, op);
  ++ring_->in_flight;
  io_uring_sqe* sqe = next_sqe();
  if (count == 1) {
    io_uring_prep_send(sqe, fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
  } else {
    op->message.msg_iov = const_cast<iovec*>(iov);
    op->message.msg_iovlen = std::min(count, kMaxIovecs);
    io_uring_prep_sendmsg(sqe, fd, &op->message, MSG_NOSIGNAL);
  }
  io_uring_sqe_set_data(sqe, op);
}

void UringService::cancel(UringOp* op) {
  if (!ring_ || ring_->shut_down) return;
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_cancel(sqe, op, 0);
  io_uring_sqe_set_data(sqe, nullptr);
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

// Submits what handlers queued, lets the kernel finish what it can, and completes the results,
// round after round while completions queue more. Enters the kernel only when there is
// something to submit or task work to run: completions already posted are read from memory.
void UringService::flush() {
  Ring& r = *ring_;
  r.flush_posted = false;
  for (int round = 0; round < kRoundsPerFlush; ++round) {
    if (io_uring_sq_ready(&r.ring) > 0 || r.task_work_pending()) enter();
    r.queued = 0;
    complete_ready(true);
    if (r.queued == 0 && !r.has_work()) return;
  }
  post_flush();  // more is ready: after the handlers waiting meanwhile
}

// While this thread is in the kernel anyway, what completes there is read right after: the
// eventfd would only wake the loop again for it.
void UringService::enter() {
  Ring& r = *ring_;
  io_uring_cq_eventfd_toggle(&r.ring, false);
  const int rc = io_uring_submit_and_get_events(&r.ring);
  io_uring_cq_eventfd_toggle(&r.ring, true);
  if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
    log::general().error("io_uring_enter: {}", std::strerror(-rc));
  }
}

void UringService::complete_ready(bool invoke) {
  Ring& r = *ring_;
  // Copied out first: completing an operation may submit others.
  struct Result {
    UringOp* op;
    int result;
  };
  Result results[256];
  std::size_t count = 0;
  io_uring_cqe* cqe = nullptr;
  unsigned head = 0;
  unsigned seen = 0;
  io_uring_for_each_cqe(&r.ring, head, cqe) {
    if (count == std::size(results)) break;
    ++seen;
    auto* op = static_cast<UringOp*>(io_uring_cqe_get_data(cqe));
    if (op) results[count++] = {op, cqe->res};  // else a cancellation that found nothing
  }
  io_uring_cq_advance(&r.ring, seen);
  for (std::size_t i = 0; i < count; ++i) {
    unlink(r.first, results[i].op);
    --r.in_flight;
    results[i].op->complete(results[i].result, invoke);
  }
}

// Before the reactor and the scheduler (services shut down newest first): the kernel must be done
// with every buffer before the handlers that own those buffers are destroyed.
void UringService::shutdown() {
  if (!ring_ || ring_->shut_down) return;
  Ring& r = *ring_;
  r.shut_down = true;
  if (r.in_flight > 0) {
    if (r.owner != std::this_thread::get_id()) {
      // The ring answers only the thread that made it. Leaving the operations (and the memory
      // they write to) alive is safe; destroying them is not.
      log::general().error(
          "io_uring: io_context destroyed on another thread than the one that "
          "ran it; {} operations leaked",
          r.in_flight);
      return;
    }
    io_uring_sqe* sqe = free_sqe(r.ring);
    io_uring_prep_cancel(sqe, nullptr, IORING_ASYNC_CANCEL_ANY);
    io_uring_sqe_set_data(sqe, nullptr);
    while (r.in_flight > 0) {
      io_uring_submit_and_wait(&r.ring, 1);
      complete_ready(false);
    }
  }
  io_uring_queue_exit(&r.ring);
}

#else

void UringService::shutdown() {}

#endif

}  // namespace cortado::detail
