// The seam between the protocol and whatever answers requests (Tornado's httputil delegates).
//
// A connection asks its HTTPServerConnectionDelegate (the Application, or an adapter around a
// plain coroutine function) for one HTTPMessageDelegate per request, then calls, in order:
// headers_received, data_received for each piece of the body, then finish once the whole request
// has arrived. on_connection_close is called at most once, whenever the client goes away (or the
// request fails) before finish() has returned -- while finish() runs the handler, too: that is
// how a long-polling handler learns that nobody waits for its answer.
// The response goes back through the HTTPConnection it was given; each write is awaitable, and
// awaiting it is the back-pressure.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include <asio/awaitable.hpp>

#include "cortado/httputil/headers.hpp"

namespace cortado {

class HTTPServerRequest;

// Thrown when a response breaks HTTP framing: CR/LF in a header, more or fewer body bytes than
// the declared Content-Length, a body on a 204/304/HEAD response, writing after finish().
class HTTPOutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ResponseStartLine {
  int code = 200;
  std::string_view reason;  // empty: the standard phrase for `code`
};

// Writing one response. Implemented by the protocol (HTTP1ServerConnection).
class HTTPConnection {
 public:
  virtual ~HTTPConnection() = default;
  // Sends (or buffers) the status line and headers, and `body` if given. Without a
  // Content-Length, HTTP/1.1 responses are sent chunked and HTTP/1.0 ones close-delimited.
  virtual asio::awaitable<void> write_headers(const ResponseStartLine& start, HTTPHeaders& headers,
                                              std::string_view body = {}) = 0;
  // A piece of the body. Awaiting it waits until the bytes are handed to the kernel whenever
  // the connection's output buffer is full (back-pressure).
  virtual asio::awaitable<void> write(std::string_view chunk) = 0;
  // Sends everything buffered now (a streaming handler's flush()).
  virtual asio::awaitable<void> flush() = 0;
  // Ends the response (the chunked terminator, or a check that Content-Length was met).
  virtual asio::awaitable<void> finish() = 0;
  // Fast paths for the common case, a small response that the socket takes at once: the same as
  // the awaitable calls, without a coroutine. write_headers_now() returns false, having done
  // nothing, when write_headers() must be awaited instead. finish_now() returns true when the
  // response is complete; false: await finish(), which does (or completes) the rest.
  virtual bool write_headers_now(const ResponseStartLine&, HTTPHeaders&, std::string_view) {
    return false;
  }
  virtual bool finish_now() { return false; }
  virtual bool headers_written() const = 0;
  virtual bool finished() const = 0;
  // For the request being read: bytes of body accepted from here on (Tornado's
  // set_max_body_size, callable from prepare() of a streaming handler).
  virtual void set_max_body_size(std::uint64_t bytes) = 0;
  // False once the client is known to be gone: writes would be discarded.
  virtual bool open() const = 0;
  // Abandons the response (it cannot be completed correctly) by closing the connection.
  virtual void close() = 0;
};

class HTTPMessageDelegate {
 public:
  virtual ~HTTPMessageDelegate() = default;
  // The start line and headers are in `request`, which stays valid until finish() or
  // on_connection_close() returns.
  virtual asio::awaitable<void> headers_received(HTTPServerRequest& request) = 0;
  // Tried first, without a coroutine: true when the head needed no awaiting and
  // headers_received() is then not called. The default leaves it all to headers_received().
  virtual bool headers_received_now(HTTPServerRequest&) { return false; }
  virtual asio::awaitable<void> data_received(std::string_view chunk) = 0;
  virtual asio::awaitable<void> finish() = 0;
  virtual void on_connection_close() = 0;
};

class HTTPServerConnectionDelegate {
 public:
  virtual ~HTTPServerConnectionDelegate() = default;
  virtual std::unique_ptr<HTTPMessageDelegate> start_request(HTTPConnection& connection) = 0;
};

}  // namespace cortado
