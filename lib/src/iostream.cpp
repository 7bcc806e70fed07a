#include "cortado/iostream.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include <asio/connect.hpp>
#include <asio/ip/address.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "cortado/regex.hpp"
#include "deadline_service.hpp"
#include "drain_aware_read.hpp"
#include "uring_service.hpp"

namespace cortado {
namespace {

class StreamCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "cortado.stream"; }
  std::string message(int value) const override {
    switch (static_cast<stream_errc>(value)) {
      case stream_errc::closed:
        return "stream closed";
      case stream_errc::unsatisfiable_read:
        return "delimiter not found within max_bytes";
      case stream_errc::buffer_full:
        return "reached max_buffer_size";
      case stream_errc::write_buffer_full:
        return "reached max_write_buffer_size";
      case stream_errc::timed_out:
        return "stream timed out";
      case stream_errc::parked:
        return "idle past park_after";
    }
    return "unknown stream error";
  }
};

inline auto use_ec(std::error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

// The buffers left after the first `done` bytes of `buffers`.
std::vector<asio::const_buffer> remaining(std::span<const asio::const_buffer> buffers,
                                          std::size_t done) {
  std::vector<asio::const_buffer> rest;
  for (const auto& b : buffers) {
    if (done >= b.size()) {
      done -= b.size();
      continue;
    }
    rest.push_back(b + done);
    done = 0;
  }
  return rest;
}

}  // namespace

const std::error_category& stream_category() noexcept {
  static const StreamCategory category;
  return category;
}

struct IOStream::Tls {
  Tls(tcp::socket& socket, asio::ssl::context& context) : stream(socket, context) {}
  asio::ssl::stream<tcp::socket&> stream;
};

// Enforces "one read at a time" and hands out the previous read's bytes.
class IOStream::ReadGuard {
 public:
  explicit ReadGuard(IOStream& s) : stream_(s) {
    if (s.reading_) throw std::logic_error("IOStream: a read is already in progress");
    s.reading_ = true;
    s.apply_pending_consume();
  }
  ~ReadGuard() { stream_.reading_ = false; }
  ReadGuard(const ReadGuard&) = delete;
  ReadGuard& operator=(const ReadGuard&) = delete;

 private:
  IOStream& stream_;
};

IOStream::IOStream(tcp::socket socket, IOStreamOptions options)
    : socket_(std::move(socket)), options_(options) {
  if (!socket_.is_open()) return;
  uring_ = detail::UringService::usable(socket_.get_executor());
  // Non-blocking for io_uring too: it arms its own poll on a socket whatever its flags (where a
  // kernel answers EAGAIN instead, see uring_off_), and a synchronous Asio call on socket() (the
  // close watch's peek) must never put the loop to sleep.
  std::error_code ignored;
  socket_.non_blocking(true, ignored);
}

IOStream::IOStream(const asio::any_io_executor& executor, IOStreamOptions options)
    : socket_(executor), options_(options) {}

IOStream::~IOStream() {
  if (deadlines_) deadlines_->forget(*this);
  forget_uring_ops();
  tls_.reset();
  std::error_code ignored;
  socket_.close(ignored);
}

// Only a coroutine destroyed while it waits (its io_context going away) leaves an operation in
// flight here; the ring's shutdown then waits for the kernel before freeing anything.
void IOStream::forget_uring_ops() {
  for (detail::UringOp* op : {uring_read_, uring_write_}) {
    if (!op) continue;
    op->slot = nullptr;
    uring_->cancel(op);
  }
}

void IOStream::apply_pending_consume() {
  buffer_.consume(std::exchange(pending_consume_, 0));
}

std::string_view IOStream::buffered() {
  apply_pending_consume();
  return buffer_.view();
}

void IOStream::consume(std::size_t n) {
  apply_pending_consume();
  buffer_.consume(std::min(n, buffer_.size()));
}

std::error_code IOStream::fail(std::error_code ec) {
  // After a local close, the socket's operation_aborted hides the real reason.
  if (!closed_) close(ec);
  return close_reason_;
}

void IOStream::throw_closed() const {
  const auto ec = close_reason_;
  if (ec == stream_errc::unsatisfiable_read) throw UnsatisfiableReadError(ec);
  if (ec == stream_errc::buffer_full || ec == stream_errc::write_buffer_full) {
    throw StreamBufferFullError(ec);
  }
  throw StreamClosedError(ec);
}

asio::awaitable<std::error_code> IOStream::fill() {
  ReadGuard guard(*this);
  co_return co_await fill_once();
}

asio::awaitable<std::error_code> IOStream::fill_reply() {
  ReadGuard guard(*this);
  co_return co_await fill_once(true);
}

asio::awaitable<std::error_code> IOStream::fill_once(bool between_messages) {
  if (closed_) co_return close_reason_;
  if (buffer_.size() >= options_.max_buffer_size) co_return fail(stream_errc::buffer_full);
  std::error_code ec;
  if (!tls_) {
    const PlainRead read = begin_plain_read(between_messages);
    std::size_t n = 0;
    if (use_uring()) {
      n = co_await uring_read(read.space, read.rely_on_drained, ec);
    } else {
      n = co_await detail::drain_aware_read_some(socket_, read_state_, read.rely_on_drained,
                                                 read.space, use_ec(ec));
    }
    co_return end_plain_read(ec, n);
  }
  const auto want = std::min(options_.read_chunk_size, options_.max_buffer_size - buffer_.size());
  auto space = buffer_.prepare(want);
  const std::size_t n = co_await tls_->stream.async_read_some(
      asio::buffer(space.data(), std::min(space.size(), want)), use_ec(ec));
  if (ec) co_return fail(ec);
  buffer_.commit(n);
  co_return std::error_code{};
}

// Plain TCP. Between messages, after a read that emptied the socket and a send since, the read
// waits for epoll without trying recv() first (drain_aware_read.hpp): a keep-alive connection
// reads again right after answering, before the client can have sent anything.
IOStream::PlainRead IOStream::begin_plain_read(bool between_messages) {
  const auto want = std::min(options_.read_chunk_size, options_.max_buffer_size - buffer_.size());
  auto space = buffer_.prepare(want);
  // Between messages, a send since the last read would have met a reset that came with it.
  return {.space = asio::buffer(space.data(), std::min(space.size(), want)),
          .rely_on_drained = between_messages && read_state_.sent};
}

std::error_code IOStream::end_plain_read(std::error_code ec, std::size_t n) {
  if (!ec) {
    buffer_.commit(n);
    return {};
  }
  if (closed_) return close_reason_;
  if (ec == asio::error::operation_aborted && std::exchange(parking_, false)) {
    buffer_.release_if_empty();
    return make_error_code(stream_errc::parked);
  }
  return fail(ec);
}

asio::awaitable<std::error_code> IOStream::fill_idle() {
  ReadGuard guard(*this);
  if (closed_) co_return close_reason_;
  if (!buffer_.empty()) co_return std::error_code{};
  if (tls_) co_return co_await fill_once();
  if (!deadlines_) DeadlineService::of(get_executor()).track(*this);
  idle_waiting_ = true;
  idle_seen_ = {};
  // fill_once(true) without calling it: every keep-alive request waits here, and each coroutine
  // call costs a frame and a resumption.
  const PlainRead read = begin_plain_read(true);
  std::error_code ec;
  std::size_t n = 0;
  if (use_uring()) {
    n = co_await uring_read(read.space, read.rely_on_drained, ec);
  } else {
    n = co_await detail::drain_aware_read_some(socket_, read_state_, read.rely_on_drained,
                                               read.space, use_ec(ec));
  }
  ec = end_plain_read(ec, n);
  idle_waiting_ = parking_ = false;
  co_return ec;
}

// Called by the deadline sweep for a stream idle in fill_idle() past park_after.
void IOStream::park() {
  parking_ = true;
  idle_waiting_ = false;
  if (uring_read_) {
    uring_->cancel(uring_read_);
    return;
  }
  std::error_code ignored;
  socket_.cancel(ignored);  // only the idle read is pending: nothing is written between messages
}

// A plain read through io_uring, reported as Asio reports reads (0 bytes is end of file). Made
// through Asio instead when the ring answers EAGAIN (see uring_off_).
asio::awaitable<std::size_t> IOStream::uring_read(asio::mutable_buffer space, bool rely_on_drained,
                                                  std::error_code& ec) {
  if (space.size() > 0) {  // a recv() of nothing would read as end of file
    const std::size_t n =
        co_await uring_->async_receive(socket_.get_executor(), socket_.native_handle(),
                                       space.data(), space.size(), &uring_read_, use_ec(ec));
    if (ec != asio::error::would_block && ec != asio::error::try_again) {
      if (!ec && n == 0) ec = asio::error::eof;
      co_return n;
    }
    uring_off_ = true;
    ec.clear();
  }
  co_return co_await detail::drain_aware_read_some(socket_, read_state_, rely_on_drained, space,
                                                   use_ec(ec));
}

asio::ip::tcp::socket IOStream::release_socket() {
  set_deadline(std::chrono::steady_clock::time_point::max());
  asio::ip::tcp::socket socket = std::move(socket_);
  closed_ = true;
  close_reason_ = make_error_code(stream_errc::closed);
  close_callback_ = {};
  return socket;
}

asio::awaitable<std::string_view> IOStream::read_until(std::string_view delimiter,
                                                       std::size_t max_bytes) {
  if (delimiter.empty()) throw std::invalid_argument("read_until: empty delimiter");
  ReadGuard guard(*this);
  std::size_t searched = 0;
  for (;;) {
    const auto view = buffer_.view();
    const auto pos = view.find(delimiter, searched);
    if (pos != std::string_view::npos) {
      const std::size_t n = pos + delimiter.size();
      if (max_bytes && n > max_bytes) break;
      pending_consume_ = n;
      co_return view.substr(0, n);
    }
    if (max_bytes && view.size() >= max_bytes) break;
    // The delimiter may straddle what is buffered and what comes next.
    searched = view.size() >= delimiter.size() ? view.size() - delimiter.size() + 1 : 0;
    if (const std::error_code ec = co_await fill_once()) throw_closed();
  }
  close(stream_errc::unsatisfiable_read);
  throw_closed();
}

asio::awaitable<std::string_view> IOStream::read_until_regex(const Regex& pattern,
                                                             std::size_t max_bytes) {
  ReadGuard guard(*this);
  for (;;) {
    const auto view = buffer_.view();
    if (auto match = pattern.search(view)) {
      if (max_bytes && match->second > max_bytes) break;
      pending_consume_ = match->second;
      co_return view.substr(0, match->second);
    }
    if (max_bytes && view.size() >= max_bytes) break;
    if (const std::error_code ec = co_await fill_once()) throw_closed();
  }
  close(stream_errc::unsatisfiable_read);
  throw_closed();
}

asio::awaitable<std::string_view> IOStream::read_bytes(std::size_t n, bool partial) {
  ReadGuard guard(*this);
  const std::size_t needed = partial ? std::min<std::size_t>(n, 1) : n;
  while (buffer_.size() < needed) {
    if (const std::error_code ec = co_await fill_once()) throw_closed();
  }
  const std::size_t take = std::min(n, buffer_.size());
  pending_consume_ = take;
  co_return buffer_.view().substr(0, take);
}

asio::awaitable<std::size_t> IOStream::read_into(std::span<char> out, bool partial) {
  ReadGuard guard(*this);
  std::size_t done = std::min(out.size(), buffer_.size());
  if (done > 0) std::memcpy(out.data(), buffer_.view().data(), done);
  buffer_.consume(done);
  while (done < out.size() && !(partial && done > 0)) {
    if (closed_) throw_closed();
    std::error_code ec;
    auto rest = asio::buffer(out.data() + done, out.size() - done);
    std::size_t n = 0;
    if (tls_) {
      n = co_await tls_->stream.async_read_some(rest, use_ec(ec));
    } else if (use_uring()) {
      n = co_await uring_read(rest, false, ec);
    } else {
      n = co_await detail::drain_aware_read_some(socket_, read_state_, false, rest, use_ec(ec));
    }
    if (ec) {
      fail(ec);
      throw_closed();
    }
    done += n;
  }
  co_return done;
}

asio::awaitable<std::string_view> IOStream::read_until_close() {
  ReadGuard guard(*this);
  for (;;) {
    const std::error_code ec = co_await fill_once();
    if (!ec) continue;
    if (ec != asio::error::eof) throw_closed();
    break;
  }
  pending_consume_ = buffer_.size();
  co_return buffer_.view();
}

asio::awaitable<void> IOStream::write(std::string_view data) {
  const asio::const_buffer one(data.data(), data.size());
  co_await write(std::span<const asio::const_buffer>(&one, 1));
}

asio::awaitable<void> IOStream::write(std::span<const asio::const_buffer> data) {
  std::error_code ec;
  co_await write(data, ec);
  if (ec == stream_errc::write_buffer_full) throw StreamBufferFullError(ec);
  if (ec) throw StreamClosedError(ec);
}

asio::awaitable<void> IOStream::write(std::span<const asio::const_buffer> data,
                                      std::error_code& ec) {
  ec.clear();
  if (closed_) {
    ec = close_reason_;
    co_return;
  }
  if (writing_) {
    co_await wait_write_turn(ec, asio::buffer_size(data));
    if (ec) co_return;
  }
  writing_ = true;
  std::size_t done = 0;
  if (use_uring()) {
    done = co_await uring_write(data, ec);
  } else if (!tls_) {
    // Most responses fit in the socket buffer: hand them over without touching the reactor.
    done = write_some_now(data);
  }
  if (!ec && done < asio::buffer_size(data)) {
    const auto rest = remaining(data, done);
    // Called before each chunk of the composed write: each one is progress.
    auto renewing = [this](const std::error_code& e, std::size_t written) {
      if (!e && write_progress_timeout_.count() > 0) set_timeout(write_progress_timeout_);
      return asio::transfer_all()(e, written);
    };
    if (tls_) {
      co_await asio::async_write(tls_->stream, rest, renewing, use_ec(ec));
    } else {
      co_await asio::async_write(socket_, rest, renewing, use_ec(ec));
    }
  }
  end_write_turn();
  if (ec) ec = fail(ec);
}

std::size_t IOStream::write_now(std::span<const asio::const_buffer> data) {
  if (closed_ || writing_ || tls_ || use_uring()) return 0;
  return write_some_now(data);
}

// write() through io_uring: sent with the other connections' writes of this loop turn. Returns
// the bytes sent: all of them, or fewer with `ec` set, or fewer without it when the ring answered
// EAGAIN (see uring_off_) and write() must send the rest through Asio.
asio::awaitable<std::size_t> IOStream::uring_write(std::span<const asio::const_buffer> data,
                                                   std::error_code& ec) {
  const std::size_t total = asio::buffer_size(data);
  std::size_t done = 0;
  while (done < total) {
    iovec iov[64];
    std::size_t count = 0;
    std::size_t skip = done;  // as remaining(data, done), without its vector
    for (const asio::const_buffer& b : data) {
      if (skip >= b.size()) {
        skip -= b.size();
        continue;
      }
      if (count == std::size(iov)) break;
      const asio::const_buffer rest = b + skip;
      iov[count++] = {const_cast<void*>(rest.data()), rest.size()};
      skip = 0;
    }
    const std::size_t n = co_await uring_->async_send(
        socket_.get_executor(), socket_.native_handle(), iov, count, &uring_write_, use_ec(ec));
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      uring_off_ = true;
      ec.clear();
      break;
    }
    if (!ec && n == 0) ec = asio::error::connection_reset;
    if (ec) break;
    done += n;
    if (write_progress_timeout_.count() > 0) set_timeout(write_progress_timeout_);
  }
  co_return done;
}

// One non-blocking send. An error counts as nothing written: the awaited write that follows
// meets it again and reports it.
std::size_t IOStream::write_some_now(std::span<const asio::const_buffer> data) {
  read_state_.sent = true;  // see begin_plain_read
  std::error_code ec;
  // One buffer (most responses) goes through send(), which the kernel takes with less work
  // than sendmsg() (no message header and vector to copy in).
  const std::size_t n =
      data.size() == 1 ? socket_.write_some(data.front(), ec) : socket_.write_some(data, ec);
  return ec ? 0 : n;
}

// Queues the caller behind the write in progress; the finishing writer hands the turn over.
asio::awaitable<void> IOStream::wait_write_turn(std::error_code& ec, std::size_t bytes) {
  if (queued_write_bytes_ + bytes > options_.max_write_buffer_size) {
    ec = stream_errc::write_buffer_full;
    co_return;
  }
  queued_write_bytes_ += bytes;
  asio::steady_timer turn(socket_.get_executor(), asio::steady_timer::time_point::max());
  write_waiters_.push_back(&turn);
  std::error_code ignored;
  co_await turn.async_wait(use_ec(ignored));
  queued_write_bytes_ -= bytes;
  // A coroutine destroyed while queued must not leave a dangling waiter behind.
  std::erase(write_waiters_, &turn);
  if (closed_) ec = close_reason_;
}

void IOStream::end_write_turn() {
  if (write_waiters_.empty()) {
    writing_ = false;
    return;
  }
  asio::steady_timer* next = write_waiters_.front();
  write_waiters_.erase(write_waiters_.begin());
  next->cancel();  // writing_ stays true: the turn passes straight to the next writer
}

asio::awaitable<void> IOStream::connect(const tcp::endpoint& endpoint) {
  co_await socket_.async_connect(endpoint, asio::use_awaitable);
  after_connect();
}

asio::awaitable<void> IOStream::connect(std::string_view host, std::uint16_t port) {
  tcp::resolver resolver(socket_.get_executor());
  auto endpoints = co_await resolver.async_resolve(host, std::to_string(port), asio::use_awaitable);
  co_await asio::async_connect(socket_, endpoints, asio::use_awaitable);
  after_connect();
}

void IOStream::after_connect() {
  socket_.non_blocking(true);
  // As on the server's accepted sockets: fill_reply() can then wait for the reply without a
  // recv() that fails first.
  detail::report_queued_bytes(socket_.native_handle());
}

asio::awaitable<void> IOStream::start_tls(bool server_side, asio::ssl::context& context,
                                          std::string_view server_hostname) {
  if (tls_) throw std::logic_error("start_tls: the stream already uses TLS");
  if (!buffer_.empty() || pending_consume_) {
    throw std::logic_error("start_tls: plaintext bytes are still buffered");
  }
  tls_ = std::make_unique<Tls>(socket_, context);
  if (!server_side && !server_hostname.empty()) {
    const std::string host(server_hostname);
    // SNI carries host names only: RFC 6066 section 3 forbids literal IPv4 and IPv6 addresses.
    std::error_code not_an_address;
    asio::ip::make_address(host, not_an_address);
    if (not_an_address) SSL_set_tlsext_host_name(tls_->stream.native_handle(), host.c_str());
    tls_->stream.set_verify_callback(asio::ssl::host_name_verification(host));
  }
  std::error_code ec;
  co_await tls_->stream.async_handshake(
      server_side ? asio::ssl::stream_base::server : asio::ssl::stream_base::client, use_ec(ec));
  if (ec) {
    fail(ec);
    throw_closed();
  }
}

void IOStream::close(std::error_code reason) {
  if (closed_) return;
  closed_ = true;
  close_reason_ = reason ? reason : make_error_code(stream_errc::closed);
  deadline_ = std::chrono::steady_clock::time_point::max();
  // io_uring holds the socket open while its operations are in flight: they end at the cancel.
  if (uring_read_) uring_->cancel(uring_read_);
  if (uring_write_) uring_->cancel(uring_write_);
  std::error_code ignored;
  socket_.close(ignored);  // pending operations complete with operation_aborted
  for (auto* waiter : write_waiters_) waiter->cancel();
  if (close_callback_) asio::post(socket_.get_executor(), std::move(close_callback_));
}

void IOStream::set_close_callback(std::function<void()> callback) {
  close_callback_ = std::move(callback);
  if (closed_ && close_callback_) asio::post(socket_.get_executor(), std::move(close_callback_));
}

void IOStream::set_nodelay(bool on) {
  std::error_code ignored;
  socket_.set_option(tcp::no_delay(on), ignored);
}

void IOStream::set_timeout(std::chrono::steady_clock::duration timeout) {
  if (timeout <= std::chrono::steady_clock::duration::zero()) {
    deadline_ = std::chrono::steady_clock::time_point::max();
    return;
  }
  // Called a few times per request: the coarse clock is ten times cheaper, and the sweep that
  // enforces deadlines runs no finer than 5 ms anyway.
  arm_deadline(detail::coarse_now() + timeout, timeout);
}

void IOStream::set_deadline(std::chrono::steady_clock::time_point deadline) {
  if (deadline == std::chrono::steady_clock::time_point::max()) {
    deadline_ = deadline;
    return;
  }
  arm_deadline(deadline, deadline - std::chrono::steady_clock::now());
}

void IOStream::arm_deadline(std::chrono::steady_clock::time_point deadline,
                            std::chrono::steady_clock::duration remaining) {
  deadline_ = deadline;
  if (closed_) return;
  DeadlineService& service = deadlines_ ? *deadlines_ : DeadlineService::of(socket_.get_executor());
  // The sweep's period follows the timeouts in use; a deadline that is nearly due must not
  // make every later sweep run at the finest period.
  service.watch(*this, std::max<std::chrono::steady_clock::duration>(
                           remaining, std::chrono::milliseconds(100)));
}

}  // namespace cortado
