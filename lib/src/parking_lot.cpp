#include "parking_lot.hpp"

#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <system_error>

#include <asio/post.hpp>

#include "cortado/log.hpp"

namespace cortado::detail {
namespace {

using asio::ip::tcp;

// An epoll event names its entry by slot and generation: a slot reused since the event was
// queued is not mistaken for the connection that was there.
std::uint64_t key_of(std::uint32_t slot, std::uint32_t generation) {
  return (std::uint64_t{generation} << 32) | slot;
}

}  // namespace

std::shared_ptr<ParkingLot> ParkingLot::create(asio::any_io_executor executor, Resume resume,
                                               Changed changed) {
  return std::shared_ptr<ParkingLot>(
      new ParkingLot(std::move(executor), std::move(resume), std::move(changed)));
}

ParkingLot::ParkingLot(asio::any_io_executor executor, Resume resume, Changed changed)
    : executor_(executor),
      resume_(std::move(resume)),
      changed_(std::move(changed)),
      epoll_(executor),
      sweep_timer_(executor) {}

ParkingLot::~ParkingLot() {
  for (const Entry& e : table_) {
    if (e.fd >= 0) ::close(e.fd);
  }
}

void ParkingLot::park(tcp::socket socket, const tcp::endpoint& remote, clock::time_point deadline) {
  if (!open_epoll()) return;  // the connection closes with `socket`
  std::error_code ec;
  const int fd = socket.release(ec);
  if (ec) return;
  const std::uint32_t slot = take_slot();
  Entry& e = table_[slot];
  e.fd = fd;
  e.deadline = deadline;
  e.remote = remote;
  link_last(slot);
  ++size_;
  epoll_event event{};
  event.events = EPOLLIN | EPOLLRDHUP;
  event.data.u64 = key_of(slot, e.generation);
  if (::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_ADD, fd, &event) != 0) {
    log::general().warning("parking a connection: epoll_ctl: {}", std::strerror(errno));
    close_entry(slot);
  }
  if (!waiting_ && size_ > 0) wait_for_peers();
  arm_sweep();
  settle();
}

bool ParkingLot::open_epoll() {
  if (epoll_.is_open()) return true;
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) {
    log::general().warning("parking a connection: epoll_create1: {}", std::strerror(errno));
    return false;
  }
  std::error_code ec;
  epoll_.assign(fd, ec);
  if (ec) {
    log::general().warning("parking a connection: {}", ec.message());
    ::close(fd);
  }
  return !ec;
}

void ParkingLot::close_all(bool keep_pending) {
  for (std::uint32_t slot = first_; slot != kNone;) {
    const std::uint32_t next = table_[slot].next;
    int pending = 0;
    if (!keep_pending || ::ioctl(table_[slot].fd, FIONREAD, &pending) != 0 || pending <= 0) {
      close_entry(slot);
    }
    slot = next;
  }
  settle();
}

std::uint32_t ParkingLot::take_slot() {
  if (free_ != kNone) {
    const std::uint32_t slot = free_;
    free_ = table_[slot].next;
    return slot;
  }
  if (table_.size() >= kNone) throw std::length_error("ParkingLot: too many connections");
  table_.emplace_back();
  return static_cast<std::uint32_t>(table_.size() - 1);
}

void ParkingLot::link_last(std::uint32_t slot) {
  Entry& e = table_[slot];
  e.prev = last_;
  e.next = kNone;
  (last_ != kNone ? table_[last_].next : first_) = slot;
  last_ = slot;
}

void ParkingLot::unlink(std::uint32_t slot) {
  const Entry& e = table_[slot];
  (e.prev != kNone ? table_[e.prev].next : first_) = e.next;
  (e.next != kNone ? table_[e.next].prev : last_) = e.prev;
}

int ParkingLot::remove(std::uint32_t slot) {
  unlink(slot);
  Entry& e = table_[slot];
  const int fd = std::exchange(e.fd, -1);
  ++e.generation;
  e.next = free_;
  free_ = slot;
  --size_;
  return fd;
}

void ParkingLot::close_entry(std::uint32_t slot) {
  ::close(remove(slot));  // which also takes it out of the epoll set
}

// Once nothing is parked, nothing stays pending on the loop (a loop with no work left returns
// from run()), and the table's memory and the epoll descriptor go back.
void ParkingLot::settle() {
  if (size_ == 0) {
    std::error_code ignored;
    epoll_.close(ignored);  // cancels the wait
    if (sweep_armed_) sweep_timer_.cancel();
    table_ = {};
    free_ = first_ = last_ = kNone;
  }
  changed_();
}

void ParkingLot::wait_for_peers() {
  waiting_ = true;
  epoll_.async_wait(asio::posix::stream_descriptor::wait_read,
                    [weak = weak_from_this()](std::error_code ec) {
                      if (const auto self = weak.lock()) {
                        self->waiting_ = false;
                        self->on_ready(ec);
                      }
                    });
}

// The wait ended: wakes the connections whose peers wrote, a batch at a time. When clients
// leave together, thousands wake at once; each wake starts a coroutine with a fresh stream, so
// the loop gets a turn between batches to run (and finish) them: otherwise every one of those
// streams would be alive at the same moment.
void ParkingLot::on_ready(std::error_code ec) {
  if (ec && ec != asio::error::operation_aborted) {
    log::general().error("parked connections: {}", ec.message());
    return;
  }
  const bool more = !ec && epoll_.is_open() && wake_batch();
  settle();
  if (size_ == 0 || waiting_) return;  // settle() ended the wait, or a new one began
  if (!more) {
    wait_for_peers();
    return;
  }
  waiting_ = true;
  asio::post(executor_, [weak = weak_from_this()] {
    if (const auto self = weak.lock()) {
      self->waiting_ = false;
      self->on_ready({});
    }
  });
}

// Whether there may be more ready than the batch took.
bool ParkingLot::wake_batch() {
  constexpr int kBatch = 64;
  epoll_event events[kBatch];
  int n = 0;
  do {
    n = ::epoll_wait(epoll_.native_handle(), events, kBatch, 0);
  } while (n < 0 && errno == EINTR);
  for (int i = 0; i < n; ++i) wake(events[i].data.u64);
  return n == kBatch;
}

void ParkingLot::wake(std::uint64_t key) {
  const auto slot = static_cast<std::uint32_t>(key);
  const auto generation = static_cast<std::uint32_t>(key >> 32);
  if (slot >= table_.size() || table_[slot].fd < 0 || table_[slot].generation != generation) {
    return;
  }
  const tcp::endpoint remote = table_[slot].remote;
  const int fd = remove(slot);
  ::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_DEL, fd, nullptr);
  tcp::socket socket(executor_);
  std::error_code ec;
  socket.assign(remote.protocol(), fd, ec);
  if (ec) {
    log::general().warning("resuming a parked connection: {}", ec.message());
    ::close(fd);
    return;
  }
  resume_(std::move(socket), remote);
}

void ParkingLot::arm_sweep() {
  if (sweep_armed_ || first_ == kNone || table_[first_].deadline == clock::time_point::max()) {
    return;
  }
  sweep_armed_ = true;
  // A little slack batches the expiries of connections parked close together.
  sweep_timer_.expires_at(
      std::max(table_[first_].deadline, clock::now() + std::chrono::milliseconds(100)));
  sweep_timer_.async_wait([weak = weak_from_this()](std::error_code ec) {
    const auto self = weak.lock();
    if (!self) return;
    self->sweep_armed_ = false;
    if (!ec || ec == asio::error::operation_aborted) self->sweep();
  });
}

// Closes the connections past their idle deadline, then waits for the next one to fall due.
void ParkingLot::sweep() {
  const auto now = clock::now();
  while (first_ != kNone && table_[first_].deadline <= now) close_entry(first_);
  arm_sweep();
  settle();
}

}  // namespace cortado::detail
