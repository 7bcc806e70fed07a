// Tornado's IOStream as awaitables over an Asio TCP socket, with optional TLS.
//
// Error model. The Tornado-style reads (read_until, read_bytes, ...) and write() throw
// StreamClosedError, UnsatisfiableReadError or StreamBufferFullError: all are std::system_error,
// and code() is the real cause (asio::error::eof, connection_reset, stream_errc::timed_out...).
// The low-level calls the protocol layer uses on its hot path -- fill(), buffered()/consume() and
// write(..., ec) -- report a std::error_code instead and never throw.
//
// A view returned by a read stays valid until the next read call on the same stream.
// One read may be outstanding at a time; writes from several coroutines go out in call order.
// An IOStream belongs to one thread (its executor's), like everything in Tornado's IOLoop.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "cortado/detail/read_buffer.hpp"

namespace asio::ssl {
class context;
}

namespace cortado {

class Regex;
class DeadlineService;

enum class stream_errc {
  closed = 1,          // close() was called on this side
  unsatisfiable_read,  // max_bytes reached before the delimiter
  buffer_full,         // max_buffer_size reached
  write_buffer_full,   // max_write_buffer_size of queued writes reached
  timed_out,           // the deadline set with set_timeout() passed
  parked,              // fill_idle() waited past park_after (the stream is still open)
};
const std::error_category& stream_category() noexcept;
inline std::error_code make_error_code(stream_errc e) noexcept {
  return {static_cast<int>(e), stream_category()};
}

}  // namespace cortado

template <>
struct std::is_error_code_enum<cortado::stream_errc> : std::true_type {};

namespace cortado {

class StreamClosedError : public std::system_error {
 public:
  using std::system_error::system_error;
};
class UnsatisfiableReadError : public std::system_error {
 public:
  using std::system_error::system_error;
};
class StreamBufferFullError : public std::system_error {
 public:
  using std::system_error::system_error;
};

namespace detail {
class UringService;
class UringOp;
// What a plain TCP stream keeps from one read to the next (src/drain_aware_read.hpp).
struct ReadState {
  void* reactor = nullptr;  // Asio's reactor for the socket, looked up on the first read
  bool drained = false;     // the last read left the receive queue empty
  bool sent = false;        // a send() since the last read (it fails on a reset socket)
};
}  // namespace detail

struct IOStreamOptions {
  // Bytes read but not yet consumed, at most (Tornado's default: 100 MiB).
  std::size_t max_buffer_size = 100 * 1024 * 1024;
  // Bytes of writes waiting behind the one in progress, at most.
  std::size_t max_write_buffer_size = 64 * 1024 * 1024;
  // Free space offered to each socket read.
  std::size_t read_chunk_size = 16 * 1024;
  // How long fill_idle() waits holding its read buffer before it parks (see there).
  std::chrono::steady_clock::duration park_after = std::chrono::seconds(1);
};

class IOStream {
 public:
  using tcp = asio::ip::tcp;

  explicit IOStream(tcp::socket socket, IOStreamOptions options = {});
  // An unconnected stream, for connect().
  explicit IOStream(const asio::any_io_executor& executor, IOStreamOptions options = {});
  ~IOStream();
  IOStream(const IOStream&) = delete;
  IOStream& operator=(const IOStream&) = delete;

  asio::any_io_executor get_executor() { return socket_.get_executor(); }
  tcp::socket& socket() { return socket_; }
  const IOStreamOptions& options() const { return options_; }

  // --- Tornado's reads ---------------------------------------------------------------------
  // Up to and including `delimiter`. With max_bytes (0: none), a delimiter not found within
  // max_bytes throws UnsatisfiableReadError and closes the stream.
  asio::awaitable<std::string_view> read_until(std::string_view delimiter,
                                               std::size_t max_bytes = 0);
  // Up to and including the first match of `pattern`.
  asio::awaitable<std::string_view> read_until_regex(const Regex& pattern,
                                                     std::size_t max_bytes = 0);
  // Exactly n bytes; with partial, as soon as at least one byte (and at most n) is available.
  asio::awaitable<std::string_view> read_bytes(std::size_t n, bool partial = false);
  // Fills `buffer` (or, with partial, at least one byte of it); returns the bytes stored. Large
  // reads go from the socket straight into `buffer`.
  asio::awaitable<std::size_t> read_into(std::span<char> buffer, bool partial = false);
  // Everything until the peer closes.
  asio::awaitable<std::string_view> read_until_close();

  // --- Writes --------------------------------------------------------------------------------
  // Completes once the bytes are handed to the kernel. The caller's bytes must stay alive until
  // then (they are not copied).
  asio::awaitable<void> write(std::string_view data);
  asio::awaitable<void> write(std::span<const asio::const_buffer> data);
  asio::awaitable<void> write(std::span<const asio::const_buffer> data, std::error_code& ec);

  // --- Low level (no exceptions) ---------------------------------------------------------------
  // Bytes read and not yet consumed. Views returned by reads are consumed on the next call.
  std::string_view buffered();
  void consume(std::size_t n);
  // Reads at least one more byte into the buffer.
  asio::awaitable<std::error_code> fill();
  // fill() for a connection between messages: completes at once if bytes are buffered, else
  // once it has read some. It waits the way a busy keep-alive connection waits best: with a read
  // pending in the reactor, so the next request costs one recv, no reactor change, and, when the
  // stream has sent something since its last read, no recv() that fails first. A plain
  // TCP wait longer than options().park_after ends with stream_errc::parked instead: nothing
  // was read, the stream is open and holds no buffer, and its owner may hand the socket over
  // (release_socket()) to wait for the peer without this object, or call fill_idle() again.
  asio::awaitable<std::error_code> fill_idle();
  // fill() for a reply to what this stream sent: the peer sends nothing more before it has read
  // that, so after a read that emptied the socket and a send since, the wait skips the recv()
  // that would fail first, as fill_idle()'s does. (Plain TCP, with TCP_INQ: connect() sets it.)
  asio::awaitable<std::error_code> fill_reply();
  // Hands the socket over (to park it) and leaves this stream closed. Only after fill_idle()
  // ended with stream_errc::parked.
  tcp::socket release_socket();
  // Drops the read buffer's storage if it holds nothing (for connections going idle).
  void release_buffer() { buffer_.release_if_empty(); }

  // --- Connection ----------------------------------------------------------------------------
  asio::awaitable<void> connect(const tcp::endpoint& endpoint);
  asio::awaitable<void> connect(std::string_view host, std::uint16_t port);
  // Turns this stream into TLS (server or client side). With a server_hostname, the client sends
  // SNI and, if the context verifies peers, checks the certificate's name.
  asio::awaitable<void> start_tls(bool server_side, asio::ssl::context& context,
                                  std::string_view server_hostname = {});
  bool is_tls() const { return tls_ != nullptr; }

  // Writes what the socket takes right now, without waiting, and returns how many bytes that was:
  // 0 over TLS, while another write is in progress, or on an error (which write() then meets
  // again and reports). For callers that await write() only for what is left: most responses
  // fit in the socket's buffer, and then no coroutine is involved.
  std::size_t write_now(std::span<const asio::const_buffer> data);

  // Closes the socket; pending reads and writes fail with StreamClosedError(reason).
  void close(std::error_code reason = {});
  bool closed() const { return closed_; }
  // Why the stream closed: stream_errc::closed for a local close(), else the socket's error.
  std::error_code error() const { return close_reason_; }
  // Runs (posted to the executor) once the stream closes, however it closes.
  void set_close_callback(std::function<void()> callback);
  void set_nodelay(bool on);

  // Closes the stream with stream_errc::timed_out if it is still open `timeout` from now.
  // Zero cancels. Cheap enough to call once per protocol phase.
  void set_timeout(std::chrono::steady_clock::duration timeout);
  // The same with an absolute deadline; time_point::max() cancels.
  void set_deadline(std::chrono::steady_clock::time_point deadline);
  std::chrono::steady_clock::time_point deadline() const { return deadline_; }
  // While nonzero, each chunk a write hands to the peer moves the deadline to `timeout` from
  // then: a slow reader that keeps reading is not cut off, one that stops reading is.
  void set_write_progress_timeout(std::chrono::steady_clock::duration timeout) {
    write_progress_timeout_ = timeout;
  }

 private:
  friend class DeadlineService;
  struct Tls;
  class ReadGuard;

  // `between_messages`: nothing is expected before the peer's next message (see fill_idle).
  asio::awaitable<std::error_code> fill_once(bool between_messages = false);
  // A plain TCP read into the buffer, in the two halves around its wait.
  struct PlainRead {
    asio::mutable_buffer space;
    bool rely_on_drained;
  };
  PlainRead begin_plain_read(bool between_messages);
  std::error_code end_plain_read(std::error_code ec, std::size_t n);
  void park();
  void after_connect();
  asio::awaitable<void> wait_write_turn(std::error_code& ec, std::size_t bytes);
  asio::awaitable<std::size_t> uring_read(asio::mutable_buffer space, bool rely_on_drained,
                                          std::error_code& ec);
  asio::awaitable<std::size_t> uring_write(std::span<const asio::const_buffer> data,
                                           std::error_code& ec);
  void end_write_turn();
  std::size_t write_some_now(std::span<const asio::const_buffer> data);
  std::error_code fail(std::error_code ec);
  void apply_pending_consume();
  void arm_deadline(std::chrono::steady_clock::time_point deadline,
                    std::chrono::steady_clock::duration remaining);
  [[noreturn]] void throw_closed() const;

  // Reads and writes through io_uring (src/uring_service.hpp), where the loop offers it.
  bool use_uring() const { return uring_ && !uring_off_ && !tls_; }
  void forget_uring_ops();

  tcp::socket socket_;
  detail::ReadState read_state_;
  detail::UringService* uring_ = nullptr;
  detail::UringOp* uring_read_ = nullptr;  // in flight, for cancel
  detail::UringOp* uring_write_ = nullptr;
  // io_uring answered EAGAIN for the non-blocking socket instead of waiting (kernels that do not
  // arm a poll for it), so the stream reads and writes through Asio from then on.
  bool uring_off_ = false;
  std::unique_ptr<Tls> tls_;
  IOStreamOptions options_;
  detail::ReadBuffer buffer_;
  std::size_t pending_consume_ = 0;
  bool reading_ = false;
  bool idle_waiting_ = false;  // in fill_idle(), with a read pending
  bool parking_ = false;       // park() cancelled that read
  bool writing_ = false;
  bool closed_ = false;
  std::size_t queued_write_bytes_ = 0;
  // Rarely more than empty; a vector, because an empty std::deque already costs ~600 bytes
  // per connection.
  std::vector<asio::steady_timer*> write_waiters_;
  std::error_code close_reason_;
  std::function<void()> close_callback_;

  // Deadline bookkeeping, owned by DeadlineService (an intrusive list: no allocation per phase).
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::duration write_progress_timeout_{};
  DeadlineService* deadlines_ = nullptr;
  IOStream* deadline_prev_ = nullptr;
  IOStream* deadline_next_ = nullptr;
  // When a sweep first saw this stream idle in fill_idle() (time_point{}: not yet).
  std::chrono::steady_clock::time_point idle_seen_{};
};

}  // namespace cortado
