// AsyncHTTPClient: co_await client.fetch(url) (Tornado's httpclient.py and simple_httpclient.py),
// over the same HTTP/1.1 parser as the server, with keep-alive connection pooling.
//
//   cortado::AsyncHTTPClient client(loop.executor());
//   cortado::HTTPResponse r = co_await client.fetch("http://127.0.0.1:8888/");
//   r = co_await client.fetch(cortado::HTTPRequest{.url = url, .method = "POST", .body = "x"});
//
// Affinity. A client belongs to the loop (single-threaded io_context) of the executor it was
// built with: call fetch() and co_await it only from coroutines running on that loop, like
// every other cortado object. fetch() checks that it runs on that loop's execution context and
// throws std::logic_error otherwise. Another thread uses its own client (or asio::post).
//
// Connections. Idle keep-alive connections are pooled per (scheme, host, port, TLS settings)
// and reused most-recently-used first; at most max_clients fetches run at once and the others
// wait in FIFO order (their wait counts toward request_timeout). Before reuse, a connection is
// checked for a close from the server (a non-blocking peek); if a reused connection still fails
// before any byte of the response, an idempotent request is retried once on a new connection.
//
// Cancellation. A fetch whose coroutine is cancelled (a cancellation slot, the losing side of an
// awaitable_operators race) throws std::system_error(asio::error::operation_aborted), like any
// Asio operation; its connection is closed, not pooled, and its max_clients slot is freed.
//
// Lifetime. Fetches in flight keep what they use alive: destroying or closing the client only
// stops new fetches and closes the idle connections. Like any Asio object, the client goes
// before its io_context does.
//
// Differences from Tornado's simple_httpclient: connections are kept alive and reused; only a
// status >= 400 (or a redirect left unfollowed because max_redirects ran out) is an error, so a
// 304 is returned; request_timeout covers the whole fetch, redirects included; timeouts and
// sizes are std::chrono durations and byte counts rather than float seconds.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include "cortado/httpclient/errors.hpp"
#include "cortado/httpclient/request.hpp"
#include "cortado/httpclient/url.hpp"

namespace cortado {

class IOLoop;

struct HTTPClientOptions {
  // Fetches running at once (Tornado's max_clients); the rest queue, first come first served.
  std::size_t max_clients = 10;
  // Idle keep-alive connections kept, in all and per (scheme, host, port). Beyond these, the
  // least recently used idle connection is closed.
  std::size_t max_idle_connections = 64;
  std::size_t max_idle_per_host = 16;
  // An idle connection unused for this long is closed (servers time theirs out too).
  std::chrono::steady_clock::duration idle_timeout = std::chrono::seconds(30);
  // Limits on what a server may send: the status line and header block, and the body (the
  // default for HTTPRequest::max_body_size).
  std::size_t max_header_size = 64 * 1024;
  std::uint64_t max_body_size = 100 * 1024 * 1024;
  // User-Agent for requests that do not set one.
  std::string user_agent = "cortado/0.1";
};

class AsyncHTTPClient {
 public:
  explicit AsyncHTTPClient(asio::any_io_executor executor, HTTPClientOptions options = {});
  ~AsyncHTTPClient();
  AsyncHTTPClient(const AsyncHTTPClient&) = delete;
  AsyncHTTPClient& operator=(const AsyncHTTPClient&) = delete;

  // Fetches and returns the response; errors as described in httpclient/errors.hpp. With
  // raise_error = false, an HTTP status >= 400 (or an unfollowed redirect) is returned rather
  // than thrown; the 599 errors are always thrown.
  asio::awaitable<HTTPResponse> fetch(std::string url, bool raise_error = true);
  asio::awaitable<HTTPResponse> fetch(HTTPRequest request, bool raise_error = true);

  // No more fetches (they throw std::logic_error); closes idle connections now. Fetches in
  // flight finish, and their connections close instead of going back to the pool.
  void close();

  asio::any_io_executor get_executor() const;
  const HTTPClientOptions& options() const;

  // A snapshot, for monitoring and tests.
  struct Stats {
    std::size_t active = 0;            // fetches holding one of the max_clients slots
    std::size_t queued = 0;            // fetches waiting for a slot
    std::size_t idle_connections = 0;  // pooled keep-alive connections
    std::uint64_t connections_opened = 0;
  };
  Stats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// A blocking client for scripts and tests (Tornado's HTTPClient): runs a loop of its own for
// each fetch. Use it from one thread at a time, and not from inside a coroutine.
class HTTPClient {
 public:
  explicit HTTPClient(HTTPClientOptions options = {});
  ~HTTPClient();
  HTTPClient(const HTTPClient&) = delete;
  HTTPClient& operator=(const HTTPClient&) = delete;

  HTTPResponse fetch(std::string url, bool raise_error = true);
  HTTPResponse fetch(HTTPRequest request, bool raise_error = true);
  void close();

 private:
  std::unique_ptr<IOLoop> loop_;
  std::unique_ptr<AsyncHTTPClient> client_;
};

}  // namespace cortado
