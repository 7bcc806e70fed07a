// HTTP/1.x over an IOStream for one server-side connection (Tornado's http1connection.py).
//
// One coroutine per connection runs a loop: read the request head, hand it to the delegate,
// read the body into the delegate (or stream it), let the delegate answer, decide keep-alive,
// go round again. Responses are buffered and sent when the loop has no complete request left
// to parse, so pipelined requests that arrived together are answered with one write.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>

#include "cortado/http1parser.hpp"
#include "cortado/httputil/delegate.hpp"
#include "cortado/httputil/request.hpp"
#include "cortado/iostream.hpp"

namespace cortado {

// Every limit and deadline of the HTTP server, with production defaults. Tornado's HTTPServer
// keyword arguments, as one struct (HTTPServer takes it; each connection reads it).
struct HTTPServerOptions {
  // --- Protocol --------------------------------------------------------------------------
  bool no_keep_alive = false;
  // Trust X-Real-Ip / X-Forwarded-For / X-Scheme / X-Forwarded-Proto (behind a proxy).
  bool xheaders = false;
  // Proxies whose X-Forwarded-For hops are skipped to find the client's address.
  std::vector<std::string> trusted_downstream{};
  // Inflate request bodies sent with Content-Encoding: gzip (the body limit applies after).
  bool decompress_request = false;
  // Overrides the scheme reported by HTTPServerRequest::protocol ("http"/"https").
  std::string protocol{};
  // The Server header added to every response ("" leaves it out).
  std::string server_header = "cortado";

  // --- Limits ----------------------------------------------------------------------------
  std::size_t max_start_line = 8 * 1024;            // 414 beyond
  std::size_t max_header_size = 64 * 1024;          // 431 beyond
  std::size_t max_headers = 100;                    // 431 beyond
  std::uint64_t max_body_size = 100 * 1024 * 1024;  // 413 beyond (per request: prepare())
  std::size_t max_buffer_size = 100 * 1024 * 1024;  // the IOStream's read buffer
  // Response bytes buffered before a write waits for the socket (back-pressure).
  std::size_t output_high_water = 64 * 1024;

  // --- Deadlines -------------------------------------------------------------------------
  // The whole request head, from its first byte (slowloris).
  std::chrono::milliseconds header_timeout{std::chrono::seconds(30)};
  // A keep-alive connection waiting for its next request (Tornado: idle_connection_timeout).
  std::chrono::milliseconds idle_connection_timeout{std::chrono::seconds(60)};
  // A keep-alive connection idle this long is parked: the server keeps the bare socket (no
  // buffer, stream or coroutine) until the client sends more. Shorter saves memory sooner;
  // longer spares connections that pause briefly the cost of parking and resuming.
  std::chrono::milliseconds idle_park_after{std::chrono::seconds(1)};
  // No body byte for this long ends the request (Tornado: body_timeout).
  std::chrono::milliseconds body_timeout{std::chrono::seconds(60)};
  // A response write that makes no progress for this long closes the connection.
  std::chrono::milliseconds write_timeout{std::chrono::seconds(60)};
  // A handler running longer is cut off (the connection closes); zero means no limit.
  std::chrono::milliseconds handler_timeout{0};
};

class HTTP1ServerConnection final : public HTTPConnection {
 public:
  HTTP1ServerConnection(IOStream& stream, const HTTPServerOptions& options, std::string remote_ip);
  ~HTTP1ServerConnection() override;
  HTTP1ServerConnection(const HTTP1ServerConnection&) = delete;
  HTTP1ServerConnection& operator=(const HTTP1ServerConnection&) = delete;

  // Serves requests until the connection closes. Never throws.
  // Returns true when it stopped because the connection idled past idle_park_after (the stream
  // is open, with nothing to read or write): the caller keeps the socket and calls serve() again,
  // on a new connection object, when the peer sends more. False: the connection is closed.
  asio::awaitable<bool> serve(HTTPServerConnectionDelegate& delegate);

  // Emitted (terminal) when the client goes away while the handler runs, so that whatever
  // the handler awaits is cancelled. The signal must be bound to the coroutine running serve().
  void set_cancellation_signal(asio::cancellation_signal* signal) { cancel_ = signal; }

  // Graceful shutdown: an idle connection closes now; a busy one after its current response.
  void drain();
  // Closes now, whatever is in flight.
  void close() override;
  bool idle() const { return phase_ == Phase::idle; }

  // HTTPConnection
  asio::awaitable<void> write_headers(const ResponseStartLine& start, HTTPHeaders& headers,
                                      std::string_view body = {}) override;
  asio::awaitable<void> write(std::string_view chunk) override;
  asio::awaitable<void> flush() override;
  asio::awaitable<void> finish() override;
  bool write_headers_now(const ResponseStartLine& start, HTTPHeaders& headers,
                         std::string_view body) override;
  bool finish_now() override;
  bool headers_written() const override { return headers_written_; }
  bool finished() const override { return response_finished_; }
  void set_max_body_size(std::uint64_t bytes) override;
  // Frees pooled per-request state beyond `keep` exchanges on the calling thread (the server
  // does so after a burst of connections).
  static void shrink_exchange_pool(std::size_t keep);
  bool open() const override { return !stream_.closed(); }

 private:
  enum class Phase { idle, head, body, handler };
  // After a request: the next one, or how the connection ends.
  enum class Next { keep_going, linger, stop, park };
  enum class BodyResult { complete, rejected, closed };
  struct Exchange;  // per-request state, pooled per thread while the connection idles

  enum class Wait { request, park, closed };
  asio::awaitable<Wait> wait_for_request();
  std::optional<Wait> begin_idle_wait();
  Wait end_idle_wait(std::error_code ec) const;
  asio::awaitable<Next> serve_requests(HTTPServerConnectionDelegate& delegate);
  std::optional<HTTP1Parser::Event> begin_request();
  void start_message(HTTPServerConnectionDelegate& delegate);
  void begin_handler_phase();
  Next end_message();
  asio::awaitable<std::optional<HTTP1Parser::Event>> next_event();
  std::optional<HTTP1Parser::Event> parse_buffered();
  bool body_without_await();
  asio::awaitable<BodyResult> read_body();
  asio::awaitable<std::error_code> deliver_body(std::string_view piece);
  asio::awaitable<std::error_code> send_buffered();
  // Sends the buffered output if the socket takes all of it now; else leaves the rest buffered
  // for send_buffered(). True when nothing is left.
  bool send_now();
  asio::awaitable<void> refuse_finish();
  void begin_response(const ResponseStartLine& start, HTTPHeaders& headers);
  // write()'s checks and buffering, without awaiting; then what is left to do, if anything.
  enum class Pending { none, direct, flush };
  Pending buffer_chunk(std::string_view chunk);
  asio::awaitable<void> send_pending(Pending pending, std::string_view chunk);
  asio::awaitable<std::error_code> send_with(std::string_view large);
  asio::awaitable<void> send(std::span<const asio::const_buffer> buffers, std::error_code& ec);
  asio::awaitable<void> reject(std::error_code why);
  asio::awaitable<void> close_gracefully();
  void prepare_request();
  void apply_xheaders();
  bool request_wants_keep_alive() const;
  void begin_response_state();
  void notify_connection_close();
  void watch_for_close();
  void start_close_watch(std::uint64_t request);
  void forget_close_watch();
  void stop_watching();
  struct HeadFacts {
    std::optional<std::string_view> content_length;
    std::optional<std::string_view> connection;
    bool has_date = false;
    bool has_server = false;
    std::size_t fields_size = 0;  // "name: value\r\n" of every field
  };
  static HeadFacts check_response_head(const ResponseStartLine& start, const HTTPHeaders& headers);
  void append_headers(const ResponseStartLine& start, const HTTPHeaders& headers,
                      const HeadFacts& facts);
  void acquire_exchange();
  void release_exchange();
  void set_phase_deadline(std::chrono::milliseconds timeout);
  void log_timeout() const;
  // A request (or part of one) has arrived: buffered, or waiting in the socket.
  bool input_pending();

  IOStream& stream_;
  const HTTPServerOptions& options_;
  std::string remote_ip_;
  std::unique_ptr<Exchange> x_;
  std::unique_ptr<HTTPMessageDelegate> message_;
  Phase phase_ = Phase::idle;
  bool draining_ = false;
  bool keep_alive_ = true;
  bool close_notified_ = false;
  bool body_pending_ = false;  // the request has a body that has not been read
  bool parked_ = false;        // next_event() ended because the connection was parked
  bool writing_ = false;       // a response write is in progress (for the timeout's log line)
  int watches_ = 0;            // close watches in flight (see watch_for_close)
  asio::cancellation_signal* cancel_ = nullptr;
  // Response state.
  bool headers_written_ = false;
  bool response_finished_ = false;
  bool finish_unsent_ = false;  // finish_now() left output for finish() to send
  bool chunked_ = false;
  bool no_body_ = false;
  std::int64_t expected_length_ = -1;
  std::uint64_t written_ = 0;
  std::chrono::steady_clock::time_point handler_deadline_ =
      std::chrono::steady_clock::time_point::max();
  std::uint64_t request_count_ = 0;
};

}  // namespace cortado
