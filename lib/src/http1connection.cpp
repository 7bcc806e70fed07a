#include "cortado/http1connection.hpp"

#include <charconv>
#include <cstring>
#include <ctime>
#include <iterator>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <asio/ip/address.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "ascii.hpp"
#include "cortado/gzip.hpp"
#include "cortado/httputil/status.hpp"
#include "cortado/log.hpp"
#include "release_memory.hpp"

namespace cortado {
namespace {

using Clock = std::chrono::steady_clock;

// Body pieces at least this large go to the socket from the caller's memory, not via a copy.
constexpr std::size_t kDirectWrite = 16 * 1024;
// Output buffers that grew beyond this are freed rather than kept for the next response.
constexpr std::size_t kMaxKeptOutput = 64 * 1024;
constexpr std::size_t kExchangePoolSize = 256;
constexpr std::size_t kGiveBackBytes = 1024 * 1024;
// Lingering close: how much of a client's unread request we swallow, and for how long.
constexpr std::size_t kLingerBytes = 1024 * 1024;
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::string_view kHTTP11 = "HTTP/1.1";
constexpr std::string_view kHTTP10 = "HTTP/1.0";

HTTP1ParserOptions parser_options(const HTTPServerOptions& o) {
  return {.max_start_line = o.max_start_line,
          .max_header_size = o.max_header_size,
          .max_headers = o.max_headers,
          .max_body_size = o.max_body_size};
}

// "Date: <IMF-fixdate>\r\n", formatted at most once a second per thread.
std::string_view date_header_line() {
  thread_local std::time_t cached_second = 0;
  thread_local char line[64];
  thread_local std::size_t size = 0;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    size = std::strftime(line, sizeof line, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    cached_second = now;
  }
  return {line, size};
}

// A malformed request is logged once, at INFO; a flood of them is summarised, not echoed.
bool may_log_bad_request() {
  thread_local std::time_t window = 0;
  thread_local int logged = 0;
  thread_local int suppressed = 0;
  const std::time_t now = std::time(nullptr);
  if (now != window) {
    if (suppressed > 0) log::general().info("{} more malformed requests not logged", suppressed);
    window = now;
    logged = suppressed = 0;
  }
  if (logged < 10) {
    ++logged;
    return true;
  }
  ++suppressed;
  return false;
}

// Does a comma-separated header value list `token` (case-insensitively)?
bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    auto item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_ip(std::string_view s) {
  std::error_code ec;
  asio::ip::make_address(std::string(s), ec);
  return !ec;
}

// Per-thread pool of per-request state: idle connections hold none of it, busy ones reuse
// warmed-up buffers, so the hot path allocates nothing.
template <class T>
std::vector<std::unique_ptr<T>>& exchange_pool() {
  thread_local std::vector<std::unique_ptr<T>> pool;
  return pool;
}

}  // namespace

struct HTTP1ServerConnection::Exchange {
  explicit Exchange(const HTTPServerOptions& o)
      : owner(&o), parser(HTTP1Parser::Mode::request, parser_options(o)) {}
  const HTTPServerOptions* owner;
  HTTP1Parser parser;
  HTTPServerRequest request;
  std::string out;
  std::unique_ptr<GzipDecompressor> inflater;
  std::string inflated;
  std::uint64_t inflated_total = 0;
};

HTTP1ServerConnection::HTTP1ServerConnection(IOStream& stream, const HTTPServerOptions& options,
                                             std::string remote_ip)
    : stream_(stream), options_(options), remote_ip_(std::move(remote_ip)) {}

HTTP1ServerConnection::~HTTP1ServerConnection() {
  forget_close_watch();
  release_exchange();
}

void HTTP1ServerConnection::acquire_exchange() {
  if (x_) return;
  auto& pool = exchange_pool<Exchange>();
  while (!pool.empty()) {
    auto candidate = std::move(pool.back());
    pool.pop_back();
    if (candidate->owner == &options_) {
      x_ = std::move(candidate);
      return;
    }
  }
  x_ = std::make_unique<Exchange>(options_);
}

void HTTP1ServerConnection::release_exchange() {
  if (!x_) return;
  auto& pool = exchange_pool<Exchange>();
  const bool oversized = x_->out.capacity() > kMaxKeptOutput ||
                         x_->request.body.capacity() > kMaxKeptOutput || x_->inflater;
  if (pool.size() < kExchangePoolSize && !oversized) {
    x_->parser.reset();
    x_->request.reset();
    x_->out.clear();
    pool.push_back(std::move(x_));
    return;
  }
  // A request that needed megabytes gives them back: glibc would keep them (its trim threshold
  // grows with the largest block freed), and a server's RSS would ratchet up with its largest
  // request. The trim costs less than the copying such a request did.
  const bool huge = x_->out.capacity() + x_->request.body.capacity() >= kGiveBackBytes;
  x_.reset();
  if (huge) detail::release_free_memory();
}

void HTTP1ServerConnection::shrink_exchange_pool(std::size_t keep) {
  auto& pool = exchange_pool<Exchange>();
  if (pool.size() > keep) {
    pool.resize(keep);
    pool.shrink_to_fit();
  }
}

void HTTP1ServerConnection::set_phase_deadline(std::chrono::milliseconds timeout) {
  if (timeout.count() > 0) {
    stream_.set_timeout(timeout);
  } else {
    stream_.set_deadline(Clock::time_point::max());
  }
}

asio::awaitable<bool> HTTP1ServerConnection::serve(HTTPServerConnectionDelegate& delegate) {
  stream_.set_close_callback([this] { notify_connection_close(); });
  Next next = Next::stop;
  try {
    next = co_await serve_requests(delegate);
  } catch (const std::exception& e) {
    next = Next::stop;
    if (!stream_.closed()) {
      log::app().error("closing connection from {} after an error: {}", remote_ip_, e.what());
    }
  }
  const bool linger = next == Next::linger;
  const bool park = next == Next::park;
  if (!park && stream_.error() == stream_errc::timed_out) log_timeout();  // (it reads phase_)
  // The connection is ending. Closing it below must not cancel this coroutine (a close in the
  // handler phase does, for the handler's sake), and a cancellation already emitted must not make
  // the clean-up's awaits throw: serve() would escape without its caller's bookkeeping.
  phase_ = Phase::idle;
  co_await asio::this_coro::throw_if_cancelled(false);
  if (!park) {
    if (linger && !stream_.closed()) co_await close_gracefully();
    stream_.close();
    notify_connection_close();
  }
  message_.reset();
  stream_.set_close_callback({});
  // Callbacks already posted for this connection (its close callback, a cancelled close watch)
  // run before this returns: they hold `this`.
  co_await asio::post(stream_.get_executor(), asio::use_awaitable);
  release_exchange();
  co_return park;
}

// Idle keep-alive connections wait here, holding no per-request state, with a read pending (the
// cheapest wait for the next request). One idle past idle_park_after is parked: the server
// keeps the bare socket and no coroutine frame, a few hundred bytes instead of a few KiB.
asio::awaitable<HTTP1ServerConnection::Wait> HTTP1ServerConnection::wait_for_request() {
  if (const std::optional<Wait> now = begin_idle_wait()) co_return *now;
  const std::error_code ec = co_await stream_.fill_idle();
  co_return end_idle_wait(ec);
}

// The wait's outcome if it needs no read (a pipelined request is buffered, or the server is
// draining); otherwise the connection has let go of its per-request state and may read.
std::optional<HTTP1ServerConnection::Wait> HTTP1ServerConnection::begin_idle_wait() {
  if (!stream_.buffered().empty()) return Wait::request;
  phase_ = Phase::idle;
  if (draining_ && !input_pending()) return Wait::closed;
  set_phase_deadline(options_.idle_connection_timeout);
  release_exchange();
  return std::nullopt;
}

HTTP1ServerConnection::Wait HTTP1ServerConnection::end_idle_wait(std::error_code ec) const {
  if (ec == stream_errc::parked) return draining_ ? Wait::closed : Wait::park;
  return ec ? Wait::closed : Wait::request;
}

// Operators see why a server cut a client off; an idle keep-alive timing out is routine.
void HTTP1ServerConnection::log_timeout() const {
  if (writing_) {
    log::general().info("closed connection from {}: a response went unread for write_timeout",
                        remote_ip_);
  } else if (phase_ == Phase::head) {
    log::general().info("closed connection from {}: no complete request head by header_timeout",
                        remote_ip_);
  } else if (phase_ == Phase::body) {
    log::general().info("closed connection from {}: the request body stalled past body_timeout",
                        remote_ip_);
  } else if (phase_ == Phase::handler) {
    log::general().warning("closed connection from {}: the handler ran past handler_timeout",
                           remote_ip_);
  } else {
    log::general().debug("closed idle keep-alive connection from {}", remote_ip_);
  }
}

void HTTP1ServerConnection::drain() {
  draining_ = true;
  // A request already in the socket's buffer has been received: it is served (with
  // Connection: close). Only connections with nothing pending close now.
  if (phase_ == Phase::idle && (!x_ || x_->out.empty()) && !input_pending()) stream_.close();
}

bool HTTP1ServerConnection::input_pending() {
  std::error_code ec;
  return !stream_.buffered().empty() || (!stream_.closed() && stream_.socket().available(ec) > 0);
}

void HTTP1ServerConnection::close() {
  stream_.close();
}

void HTTP1ServerConnection::notify_connection_close() {
  if (!message_ || close_notified_) return;
  close_notified_ = true;
  message_->on_connection_close();
  if (phase_ == Phase::handler && cancel_) cancel_->emit(asio::cancellation_type::terminal);
}

// One request after another, all in this coroutine's frame: a coroutine call per request would
// cost a frame and a resumption. The steps that need no wait are plain functions.
asio::awaitable<HTTP1ServerConnection::Next> HTTP1ServerConnection::serve_requests(
    HTTPServerConnectionDelegate& delegate) {
  for (;;) {
    // (wait_for_request(), inline.) A pipelined request is buffered already: no wait.
    std::optional<Wait> wait = begin_idle_wait();
    if (!wait) {
      const std::error_code ec = co_await stream_.fill_idle();
      wait = end_idle_wait(ec);
    }
    if (*wait != Wait::request) co_return *wait == Wait::park ? Next::park : Next::stop;
    std::optional<HTTP1Parser::Event> event = begin_request();
    if (!event) event = co_await next_event();
    if (!event) co_return parked_ ? Next::park : Next::stop;
    if (event->kind == HTTP1Parser::Event::error) {
      co_await reject(x_->parser.error());
      co_return Next::linger;
    }
    start_message(delegate);
    if (!message_->headers_received_now(x_->request)) {
      co_await message_->headers_received(x_->request);
    }
    if (stream_.closed()) co_return Next::stop;
    if (body_pending_ && response_finished_) {
      // The delegate answered without the body (a refusal from prepare()): it was never read,
      // so the connection cannot carry another request.
      co_await send_buffered();
      message_.reset();
      co_return Next::linger;
    }
    BodyResult body = BodyResult::complete;
    if (!body_without_await()) body = co_await read_body();
    if (body != BodyResult::complete) {
      co_return body == BodyResult::rejected ? Next::linger : Next::stop;
    }
    begin_handler_phase();
    co_await message_->finish();
    const Next next = end_message();
    if (next == Next::linger) co_await send_buffered();
    if (next != Next::keep_going) co_return next;
  }
}

std::optional<HTTP1Parser::Event> HTTP1ServerConnection::begin_request() {
  acquire_exchange();
  x_->parser.reset();
  x_->request.reset();
  phase_ = Phase::idle;
  parked_ = false;
  return parse_buffered();
}

// The request's head is parsed: the delegate takes it from here.
void HTTP1ServerConnection::start_message(HTTPServerConnectionDelegate& delegate) {
  ++request_count_;
  prepare_request();
  begin_response_state();
  body_pending_ = x_->parser.has_body();
  message_ = delegate.start_request(*this);
  close_notified_ = false;
  phase_ = Phase::handler;
  // From the request's start (prepare_request() stamped it): no second clock read.
  handler_deadline_ = options_.handler_timeout.count() > 0
                          ? x_->request.start_time + options_.handler_timeout
                          : Clock::time_point::max();
  stream_.set_deadline(handler_deadline_);
}

// The body is in: the handler runs (the delegate's finish()).
void HTTP1ServerConnection::begin_handler_phase() {
  phase_ = Phase::handler;
  stream_.set_deadline(handler_deadline_);
  watch_for_close();
}

// What follows the handler: the next request, or (linger) sending what is buffered and a close.
HTTP1ServerConnection::Next HTTP1ServerConnection::end_message() {
  stop_watching();
  message_.reset();
  // The Application stamps it when the handler finishes (before logging it); other delegates
  // leave it to here.
  if (x_->request.finish_time == Clock::time_point{}) x_->request.finish_time = Clock::now();
  if (stream_.closed()) return Next::stop;
  if (!response_finished_) {
    log::app().error("{} {}: the handler returned without finishing its response",
                     x_->request.method, x_->request.uri);
    return Next::stop;
  }
  if (!keep_alive_ || draining_) return Next::linger;
  return Next::keep_going;
}

// The parser's next event from the bytes already buffered, if they hold one: the common case,
// answered without a coroutine call.
std::optional<HTTP1Parser::Event> HTTP1ServerConnection::parse_buffered() {
  std::size_t used = 0;
  const auto event = x_->parser.next(stream_.buffered(), used);
  stream_.consume(used);
  if (event.kind == HTTP1Parser::Event::need_more) return std::nullopt;
  return event;
}

// A request without a body (most GETs) is complete as soon as the parser says so; true when that
// is the case. Anything else is read_body()'s.
bool HTTP1ServerConnection::body_without_await() {
  if (body_pending_ || x_->inflater) return false;
  phase_ = Phase::body;
  std::size_t used = 0;
  const auto event = x_->parser.next(stream_.buffered(), used);
  stream_.consume(used);  // (0: without a body there is nothing to take)
  // Another event (an error) comes again from the parser to read_body().
  return event.kind == HTTP1Parser::Event::message_end;
}

asio::awaitable<std::optional<HTTP1Parser::Event>> HTTP1ServerConnection::next_event() {
  for (;;) {
    if (auto event = parse_buffered()) co_return event;
    // Nothing more to parse: answer what has been answered, then wait for more bytes.
    if (!send_now()) {
      if (const std::error_code ec = co_await send_buffered()) co_return std::nullopt;
    }
    if (phase_ == Phase::idle && stream_.buffered().empty()) {
      // Pipelined requests answered, the next not begun: this is an idle wait.
      const Wait wait = co_await wait_for_request();
      if (wait != Wait::request) {
        parked_ = wait == Wait::park;
        co_return std::nullopt;
      }
      acquire_exchange();
    } else {
      if (phase_ == Phase::body) set_phase_deadline(options_.body_timeout);
      if (phase_ == Phase::idle) {
        phase_ = Phase::head;
        set_phase_deadline(options_.header_timeout);
      }
      if (const std::error_code ec = co_await stream_.fill()) co_return std::nullopt;
    }
    if (phase_ == Phase::idle) {
      phase_ = Phase::head;
      set_phase_deadline(options_.header_timeout);
    }
  }
}

asio::awaitable<HTTP1ServerConnection::BodyResult> HTTP1ServerConnection::read_body() {
  HTTPServerRequest& request = x_->request;
  // A declared length over the limit gets its 413 at once, not a 100 first.
  const std::int64_t declared = x_->parser.content_length();
  const bool too_large =
      declared > 0 && static_cast<std::uint64_t>(declared) > x_->parser.options().max_body_size;
  if (body_pending_ && !too_large && request.version == kHTTP11 &&
      iequals(request.headers.get("Expect"), "100-continue")) {
    // Only now that the body will be read (RFC 9110 10.1.1).
    x_->out += "HTTP/1.1 100 Continue\r\n\r\n";
    if (const std::error_code ec = co_await send_buffered()) co_return BodyResult::closed;
  }
  phase_ = Phase::body;
  for (;;) {
    const auto event = co_await next_event();
    if (!event) co_return BodyResult::closed;
    switch (event->kind) {
      case HTTP1Parser::Event::body: {
        const std::error_code ec = co_await deliver_body(event->data);
        if (ec) {
          co_await reject(ec);
          co_return BodyResult::rejected;
        }
        break;
      }
      case HTTP1Parser::Event::message_end:
        body_pending_ = false;
        if (x_->inflater && !x_->inflater->finished()) {
          co_await reject(make_error_code(http_errc::bad_content_encoding));
          co_return BodyResult::rejected;
        }
        co_return BodyResult::complete;
      case HTTP1Parser::Event::error:
        co_await reject(x_->parser.error());
        co_return BodyResult::rejected;
      default:
        co_await reject(make_error_code(http_errc::bad_chunk));
        co_return BodyResult::rejected;
    }
  }
}

asio::awaitable<std::error_code> HTTP1ServerConnection::deliver_body(std::string_view piece) {
  if (!x_->inflater) {
    co_await message_->data_received(piece);
    co_return std::error_code{};
  }
  // Inflated bytes count against the body limit, so a small bomb cannot become a large body.
  const std::uint64_t limit = x_->parser.options().max_body_size;
  x_->inflated.clear();
  try {
    x_->inflater->decompress(piece, x_->inflated, limit - x_->inflated_total + 1);
  } catch (const GzipError&) {
    co_return x_->inflated.size() > limit - x_->inflated_total
        ? make_error_code(http_errc::body_too_large)
        : make_error_code(http_errc::bad_content_encoding);
  }
  x_->inflated_total += x_->inflated.size();
  if (x_->inflated_total > limit) co_return make_error_code(http_errc::body_too_large);
  if (!x_->inflated.empty()) co_await message_->data_received(x_->inflated);
  co_return std::error_code{};
}

void HTTP1ServerConnection::prepare_request() {
  const StartLine& line = x_->parser.start_line();
  HTTPServerRequest& r = x_->request;
  r.method.assign(line.method);
  r.uri.assign(line.target);
  r.version.assign(line.version_minor == 1 ? kHTTP11 : kHTTP10);
  r.headers.swap(x_->parser.headers());
  r.parse_target();
  r.remote_ip = remote_ip_;
  const std::string_view scheme = stream_.is_tls() ? "https" : "http";
  r.protocol.assign(!options_.protocol.empty() ? std::string_view(options_.protocol) : scheme);
  r.connection = this;
  r.start_time = Clock::now();
  if (options_.xheaders) apply_xheaders();
  x_->inflater.reset();
  x_->inflated_total = 0;
  if (options_.decompress_request && iequals(trim(r.headers.get("Content-Encoding")), "gzip")) {
    // The handler sees the inflated body, as Tornado's decompress_request does.
    r.headers.add("X-Consumed-Content-Encoding", "gzip");
    r.headers.remove("Content-Encoding");
    x_->inflater = std::make_unique<GzipDecompressor>();
  }
}

// Behind a proxy, the client is the last X-Forwarded-For hop that is not a trusted proxy.
void HTTP1ServerConnection::apply_xheaders() {
  HTTPServerRequest& r = x_->request;
  std::string_view ip = r.remote_ip;
  std::string_view forwarded = r.headers.get("X-Forwarded-For");
  while (!forwarded.empty()) {
    const auto comma = forwarded.rfind(',');
    const auto hop =
        trim(comma == std::string_view::npos ? forwarded : forwarded.substr(comma + 1));
    ip = hop;
    bool trusted = false;
    for (const auto& t : options_.trusted_downstream) trusted = trusted || t == hop;
    if (!trusted || comma == std::string_view::npos) break;
    forwarded = forwarded.substr(0, comma);
  }
  if (r.headers.contains("X-Real-Ip")) ip = trim(r.headers.get("X-Real-Ip"));
  if (is_ip(ip)) r.remote_ip.assign(ip);
  std::string_view proto = r.headers.get("X-Scheme", r.headers.get("X-Forwarded-Proto"));
  if (const auto comma = proto.rfind(','); comma != std::string_view::npos) {
    proto = proto.substr(comma + 1);
  }
  proto = trim(proto);
  if (iequals(proto, "http") || iequals(proto, "https")) {
    r.protocol = iequals(proto, "https") ? "https" : "http";
  }
}

bool HTTP1ServerConnection::request_wants_keep_alive() const {
  const HTTPServerRequest& r = x_->request;
  const std::string_view connection = r.headers.get("Connection");
  if (has_token(connection, "close")) return false;
  if (r.version == kHTTP11) return true;
  return has_token(connection, "keep-alive");
}

void HTTP1ServerConnection::begin_response_state() {
  headers_written_ = false;
  response_finished_ = false;
  finish_unsent_ = false;
  chunked_ = false;
  no_body_ = false;
  expected_length_ = -1;
  written_ = 0;
  keep_alive_ = true;
}

void HTTP1ServerConnection::set_max_body_size(std::uint64_t bytes) {
  if (x_) x_->parser.set_max_body_size(bytes);
}

namespace {

// Connections whose handler began during this turn of the loop, with the request it began for.
// One posted callback per thread and turn starts their close watches, not one per request: at
// hundreds of requests per turn the post, not the watch, was the cost. (One io_context per
// thread: a connection is only ever on its thread's list.)
struct CloseWatchBatch {
  std::vector<std::pair<HTTP1ServerConnection*, std::uint64_t>> pending;
  std::vector<std::pair<HTTP1ServerConnection*, std::uint64_t>> running;
  bool posted = false;
};

CloseWatchBatch& close_watch_batch() {
  thread_local CloseWatchBatch batch;
  return batch;
}

}  // namespace

// While a handler waits (a long poll, a slow upstream), notice a client that hangs up. A handler
// that finishes without suspending never needs the watch, so it starts only once the loop has
// come round, for connections still in the handler phase of the same request.
void HTTP1ServerConnection::watch_for_close() {
  if (stream_.is_tls() || !stream_.buffered().empty()) return;
  CloseWatchBatch& batch = close_watch_batch();
  batch.pending.emplace_back(this, request_count_);
  if (std::exchange(batch.posted, true)) return;
  asio::post(stream_.get_executor(), [] {
    CloseWatchBatch& b = close_watch_batch();
    b.posted = false;
    b.running.swap(b.pending);
    for (const auto& [connection, request] : b.running) connection->start_close_watch(request);
    b.running.clear();
  });
}

// Called when this connection goes: its entry, if any, must not outlive it.
void HTTP1ServerConnection::forget_close_watch() {
  auto& pending = close_watch_batch().pending;
  std::erase_if(pending, [this](const auto& entry) { return entry.first == this; });
}

void HTTP1ServerConnection::start_close_watch(std::uint64_t request) {
  if (phase_ != Phase::handler || request != request_count_ || watches_ > 0) return;
  if (stream_.closed()) return;
  ++watches_;
  stream_.socket().async_wait(asio::ip::tcp::socket::wait_read, [this](std::error_code ec) {
    --watches_;
    if (ec || phase_ != Phase::handler || stream_.closed()) return;
    char byte;
    std::error_code peek_ec;
    const std::size_t n = stream_.socket().receive(asio::buffer(&byte, 1),
                                                   asio::ip::tcp::socket::message_peek, peek_ec);
    if (!peek_ec && n == 0) {
      stream_.close(asio::error::eof);
    } else if (peek_ec && peek_ec != asio::error::would_block) {
      stream_.close(peek_ec);
    }
    // Otherwise the client sent its next request early; it is read after this response.
  });
}

void HTTP1ServerConnection::stop_watching() {
  if (watches_ > 0 && !stream_.closed()) {
    std::error_code ignored;
    stream_.socket().cancel(ignored);  // nothing else is pending between two requests
  }
}

asio::awaitable<void> HTTP1ServerConnection::reject(std::error_code why) {
  const int status = status_for(why);
  if (may_log_bad_request()) {
    log::general().info("{} {} from {}: {}", status, reason_phrase(status), remote_ip_,
                        why.message());
  }
  keep_alive_ = false;
  if (headers_written_ || stream_.closed()) co_return;
  std::string& out = x_->out;
  const std::string body = fmt::format("{} {}: {}\n", status, reason_phrase(status), why.message());
  fmt::format_to(std::back_inserter(out), "HTTP/1.1 {} {}\r\n", status, reason_phrase(status));
  out += date_header_line();
  if (!options_.server_header.empty())
    fmt::format_to(std::back_inserter(out), "Server: {}\r\n", options_.server_header);
  fmt::format_to(std::back_inserter(out),
                 "Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n"
                 "Connection: close\r\n\r\n{}",
                 body.size(), body);
  headers_written_ = response_finished_ = true;
  co_await send_buffered();
}

// Closing with unread request bytes makes the kernel send a reset, which can destroy the
// response before the client reads it: half-close, then swallow what the client still sends.
asio::awaitable<void> HTTP1ServerConnection::close_gracefully() {
  std::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec || stream_.is_tls()) co_return;
  stream_.set_timeout(kLingerTime);
  std::size_t swallowed = 0;
  while (swallowed < kLingerBytes) {
    const auto pending = stream_.buffered().size();
    stream_.consume(pending);
    swallowed += pending;
    if (const std::error_code ec = co_await stream_.fill()) break;
  }
}

namespace {
char* put(char* p, std::string_view s) noexcept {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}
}  // namespace

// The head is written in place into room made once (each += would check capacity again):
// `facts.fields_size` is what the fields take, the rest is bounded by the constants below.
void HTTP1ServerConnection::append_headers(const ResponseStartLine& start,
                                           const HTTPHeaders& headers, const HeadFacts& facts) {
  std::string& out = x_->out;
  const std::string_view reason = start.reason.empty() ? reason_phrase(start.code) : start.reason;
  const std::string_view date = facts.has_date ? std::string_view{} : date_header_line();
  const std::string_view server = facts.has_server ? std::string_view{} : options_.server_header;
  // Status line 15, "Server: \r\n" 10, Connection 24, Transfer-Encoding 28, the blank line 2.
  constexpr std::size_t kFixed = 15 + 10 + 24 + 28 + 2;
  const std::size_t at = out.size();
  out.resize(at + kFixed + reason.size() + facts.fields_size + date.size() + server.size());
  char* p = out.data() + at;
  p = put(p, "HTTP/1.1 ");
  p = std::to_chars(p, p + 3, start.code).ptr;
  *p++ = ' ';
  p = put(p, reason);
  p = put(p, "\r\n");
  headers.for_each([&](const HTTPHeaders::Field& f) {
    p = put(p, f.name);
    p = put(p, ": ");
    p = put(p, f.value);
    p = put(p, "\r\n");
  });
  p = put(p, date);
  if (!server.empty()) {
    p = put(p, "Server: ");
    p = put(p, server);
    p = put(p, "\r\n");
  }
  const bool http11 = x_->request.version == kHTTP11;
  if (!facts.connection) {
    if (http11 && !keep_alive_) p = put(p, "Connection: close\r\n");
    if (!http11 && keep_alive_) p = put(p, "Connection: keep-alive\r\n");
  }
  if (chunked_) p = put(p, "Transfer-Encoding: chunked\r\n");
  p = put(p, "\r\n");
  out.resize(static_cast<std::size_t>(p - out.data()));
}

// Checks a response head and notes the headers the connection adds or reads, in one pass over
// the fields (each lookup by name would be another pass).
HTTP1ServerConnection::HeadFacts HTTP1ServerConnection::check_response_head(
    const ResponseStartLine& start, const HTTPHeaders& headers) {
  if (start.code < 100 || start.code > 999) {
    throw HTTPOutputError(fmt::format("invalid status code {}", start.code));
  }
  if (detail::has_line_break(start.reason)) throw HTTPOutputError("CR or LF in the reason phrase");
  HeadFacts facts;
  headers.for_each([&](const HTTPHeaders::Field& f) {
    if (!detail::is_token(f.name)) {
      throw HTTPOutputError(fmt::format("invalid header name {:?}", f.name));
    }
    if (detail::has_line_break(f.value)) {
      throw HTTPOutputError(fmt::format("CR, LF or NUL in the value of header {}", f.name));
    }
    facts.fields_size += f.name.size() + f.value.size() + 4;
    if (iequals(f.name, "Content-Length") && !facts.content_length) {
      facts.content_length = f.value;
    } else if (iequals(f.name, "Connection") && !facts.connection) {
      facts.connection = f.value;
    } else if (iequals(f.name, "Date")) {
      facts.has_date = true;
    } else if (iequals(f.name, "Server")) {
      facts.has_server = true;
    } else if (iequals(f.name, "Transfer-Encoding")) {
      throw HTTPOutputError("Transfer-Encoding is the connection's to set");
    }
  });
  return facts;
}

void HTTP1ServerConnection::begin_response(const ResponseStartLine& start, HTTPHeaders& headers) {
  if (headers_written_) throw HTTPOutputError("write_headers called twice");
  if (stream_.closed()) throw StreamClosedError(stream_.error());
  const HeadFacts facts = check_response_head(start, headers);
  const HTTPServerRequest& r = x_->request;
  no_body_ = r.method == "HEAD" || start.code < 200 || start.code == 204 || start.code == 304;
  expected_length_ = -1;
  if (facts.content_length) {
    const std::string_view cl = *facts.content_length;
    std::int64_t n = -1;
    const auto [end, ec] = std::from_chars(cl.data(), cl.data() + cl.size(), n);
    if (ec != std::errc() || end != cl.data() + cl.size() || n < 0) {
      throw HTTPOutputError(fmt::format("invalid Content-Length {:?}", cl));
    }
    expected_length_ = n;
  }
  keep_alive_ = !options_.no_keep_alive && !draining_ && !body_pending_ &&
                request_wants_keep_alive() && !has_token(facts.connection.value_or(""), "close");
  chunked_ = !no_body_ && expected_length_ < 0 && r.version == kHTTP11;
  if (!no_body_ && expected_length_ < 0 && !chunked_) keep_alive_ = false;  // close-delimited
  append_headers(start, headers, facts);
  headers_written_ = true;
}

asio::awaitable<void> HTTP1ServerConnection::write_headers(const ResponseStartLine& start,
                                                           HTTPHeaders& headers,
                                                           std::string_view body) {
  begin_response(start, headers);
  if (body.empty()) co_return;
  const Pending pending = buffer_chunk(body);
  if (pending != Pending::none) co_await send_pending(pending, body);
}

// The body stays buffered even past output_high_water (it is below kDirectWrite): the next
// write(), flush(), finish() or finish_now() sends it.
bool HTTP1ServerConnection::write_headers_now(const ResponseStartLine& start, HTTPHeaders& headers,
                                              std::string_view body) {
  if (body.size() >= kDirectWrite) return false;
  begin_response(start, headers);
  if (!body.empty()) buffer_chunk(body);
  return true;
}

asio::awaitable<void> HTTP1ServerConnection::write(std::string_view chunk) {
  const Pending pending = buffer_chunk(chunk);
  if (pending != Pending::none) co_await send_pending(pending, chunk);
}

HTTP1ServerConnection::Pending HTTP1ServerConnection::buffer_chunk(std::string_view chunk) {
  if (!headers_written_) throw HTTPOutputError("write before write_headers");
  if (response_finished_) throw HTTPOutputError("write after finish");
  if (stream_.closed()) throw StreamClosedError(stream_.error());
  if (no_body_) {
    if (chunk.empty() || x_->request.method == "HEAD") return Pending::none;  // framing only
    throw HTTPOutputError("this response cannot have a body");
  }
  if (expected_length_ >= 0 &&
      written_ + chunk.size() > static_cast<std::uint64_t>(expected_length_)) {
    keep_alive_ = false;
    stream_.close();
    throw HTTPOutputError("tried to write more data than Content-Length");
  }
  written_ += chunk.size();
  if (chunk.empty()) return Pending::none;  // an empty chunk would end a chunked body
  std::string& out = x_->out;
  if (chunked_) fmt::format_to(std::back_inserter(out), "{:x}\r\n", chunk.size());
  if (chunk.size() >= kDirectWrite) return Pending::direct;
  out += chunk;
  if (chunked_) out += "\r\n";
  return out.size() >= options_.output_high_water ? Pending::flush : Pending::none;
}

asio::awaitable<void> HTTP1ServerConnection::send_pending(Pending pending, std::string_view chunk) {
  if (pending == Pending::direct) {
    if (const auto ec = co_await send_with(chunk)) throw StreamClosedError(ec);
    if (chunked_) x_->out += "\r\n";
  } else if (pending == Pending::flush) {
    if (const auto ec = co_await send_buffered()) throw StreamClosedError(ec);
  }
}

asio::awaitable<void> HTTP1ServerConnection::flush() {
  if (const auto ec = co_await send_buffered()) throw StreamClosedError(ec);
}

bool HTTP1ServerConnection::finish_now() {
  if (!headers_written_ || response_finished_) return false;  // finish() reports the misuse
  if (!no_body_ && expected_length_ >= 0 &&
      written_ < static_cast<std::uint64_t>(expected_length_)) {
    return false;  // a truncated body: finish() closes the connection and says why
  }
  response_finished_ = true;
  if (chunked_) x_->out += "0\r\n\r\n";
  // With a pipelined request already waiting, its response joins this one in a single write
  // (up to output_high_water).
  if (!stream_.buffered().empty() && x_->out.size() < options_.output_high_water) return true;
  if (send_now()) return true;
  finish_unsent_ = true;  // the socket took part of it: finish() sends the rest
  return false;
}

// finish_now() does the work (unless an earlier call did); what it leaves is the rest of a
// partial write, or a refusal to explain.
asio::awaitable<void> HTTP1ServerConnection::finish() {
  const bool unsent_before = finish_unsent_;
  if (!unsent_before && !finish_now() && !finish_unsent_) co_await refuse_finish();
  if (std::exchange(finish_unsent_, false)) {
    if (const auto ec = co_await send_buffered()) throw StreamClosedError(ec);
  }
}

// Why finish_now() would not end the response; always throws.
asio::awaitable<void> HTTP1ServerConnection::refuse_finish() {
  if (!headers_written_) throw HTTPOutputError("finish before write_headers");
  if (response_finished_) throw HTTPOutputError("finish called twice");
  response_finished_ = true;
  // A body short of its Content-Length: what was written goes out, and the close then tells the
  // client the body is truncated.
  keep_alive_ = false;
  co_await send_buffered();
  stream_.close();
  throw HTTPOutputError(fmt::format("tried to write {} bytes less than Content-Length",
                                    static_cast<std::uint64_t>(expected_length_) - written_));
}

bool HTTP1ServerConnection::send_now() {
  std::string& out = x_->out;
  if (out.empty()) return true;
  const asio::const_buffer one = asio::buffer(out);
  const std::size_t n = stream_.write_now({&one, 1});
  if (n < out.size()) {
    out.erase(0, n);
    return false;
  }
  out.clear();
  if (out.capacity() > kMaxKeptOutput) out.shrink_to_fit();
  return true;
}

asio::awaitable<std::error_code> HTTP1ServerConnection::send_buffered() {
  std::error_code ec;
  if (!x_ || x_->out.empty()) co_return ec;
  const asio::const_buffer one(x_->out.data(), x_->out.size());
  co_await send(std::span<const asio::const_buffer>(&one, 1), ec);
  co_return ec;
}

asio::awaitable<std::error_code> HTTP1ServerConnection::send_with(std::string_view large) {
  const asio::const_buffer parts[2] = {asio::buffer(x_->out), asio::buffer(large)};
  std::error_code ec;
  co_await send(parts, ec);
  co_return ec;
}

asio::awaitable<void> HTTP1ServerConnection::send(std::span<const asio::const_buffer> buffers,
                                                  std::error_code& ec) {
  const auto phase_deadline = stream_.deadline();
  stream_.set_timeout(options_.write_timeout);
  stream_.set_write_progress_timeout(options_.write_timeout);
  writing_ = true;
  co_await stream_.write(buffers, ec);
  writing_ = false;
  stream_.set_write_progress_timeout({});
  stream_.set_deadline(phase_deadline);
  x_->out.clear();
  if (x_->out.capacity() > kMaxKeptOutput) x_->out.shrink_to_fit();
}

}  // namespace cortado
