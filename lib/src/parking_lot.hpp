// Where a worker keeps its parked connections: idle keep-alive connections reduced to a bare
// descriptor, until their peer sends more or their idle deadline passes.
//
// A parked connection is not an Asio socket: the descriptor leaves Asio's reactor and joins the
// lot's own epoll set, and the lot keeps one small entry for it in a dense table. Kept as Asio
// sockets, each would hold a socket object, a pending wait operation and the reactor's
// per-descriptor state, allocated one by one among the freed remains of its stream: 1.6 KiB of
// resident memory per connection at 10,000 connections, most of it fragmentation. Parked here it
// costs its table entry. The lot's epoll descriptor is itself one descriptor in Asio's reactor,
// so a peer that writes wakes the loop as usual; the connection then becomes a socket again.
//
// Linux only (epoll), like the rest of the server. Used on its worker's thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

namespace cortado::detail {

class ParkingLot : public std::enable_shared_from_this<ParkingLot> {
 public:
  using clock = std::chrono::steady_clock;
  // Called, on the worker's thread, with a connection whose peer has sent something (or closed).
  using Resume = std::function<void(asio::ip::tcp::socket, asio::ip::tcp::endpoint)>;
  // Called after every change of size().
  using Changed = std::function<void()>;

  static std::shared_ptr<ParkingLot> create(asio::any_io_executor executor, Resume resume,
                                            Changed changed);
  ~ParkingLot();  // closes every connection still parked
  ParkingLot(const ParkingLot&) = delete;
  ParkingLot& operator=(const ParkingLot&) = delete;

  // Takes the socket's descriptor out of Asio. The connection is closed at `deadline` (max():
  // never) unless its peer sends something first.
  void park(asio::ip::tcp::socket socket, const asio::ip::tcp::endpoint& remote,
            clock::time_point deadline);
  // Closes the parked connections; with `keep_pending`, not those whose peer has already sent
  // something (they resume and are served).
  void close_all(bool keep_pending);
  std::size_t size() const { return size_; }

 private:
  struct Entry {
    int fd = -1;  // -1: a free slot
    std::uint32_t generation = 0;
    // The parking order (an idle timeout shared by all makes it the deadline order), as a list
    // threaded through the table. Free slots are listed through `next`.
    std::uint32_t prev = kNone;
    std::uint32_t next = kNone;
    clock::time_point deadline;
    asio::ip::tcp::endpoint remote;
  };
  static constexpr std::uint32_t kNone = UINT32_MAX;

  ParkingLot(asio::any_io_executor executor, Resume resume, Changed changed);
  bool open_epoll();
  std::uint32_t take_slot();
  void link_last(std::uint32_t i);
  void unlink(std::uint32_t i);
  // Forgets entry i; returns its descriptor, still open.
  int remove(std::uint32_t i);
  void close_entry(std::uint32_t i);
  void settle();
  void wait_for_peers();
  void on_ready(std::error_code ec);
  bool wake_batch();
  void wake(std::uint64_t key);
  void arm_sweep();
  void sweep();

  asio::any_io_executor executor_;
  Resume resume_;
  Changed changed_;
  asio::posix::stream_descriptor epoll_;
  asio::steady_timer sweep_timer_;
  bool waiting_ = false;
  bool sweep_armed_ = false;
  std::vector<Entry> table_;
  std::uint32_t free_ = kNone;
  std::uint32_t first_ = kNone;
  std::uint32_t last_ = kNone;
  std::size_t size_ = 0;
};

}  // namespace cortado::detail
