// One client-side HTTP/1.1 connection: sends a request and drives the shared HTTP1Parser (in
// response mode) over the IOStream until the response ends, then says whether the connection
// may carry another request. The client side of http1connection.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>

#include <asio/awaitable.hpp>

#include "cortado/http1parser.hpp"
#include "cortado/iostream.hpp"
#include "request_head.hpp"

namespace cortado::detail {

// Receives one response (Tornado's HTTPMessageDelegate, client side). 1xx responses are not
// passed on. An exception thrown from here ends the exchange, and the connection is not reused.
class ResponseHandler {
 public:
  virtual ~ResponseHandler() = default;
  // `headers` may be moved from.
  virtual void headers_received(const StartLine& start, HTTPHeaders& headers) = 0;
  virtual void data_received(std::string_view piece) = 0;
  virtual void finish() = 0;
};

struct ExchangeResult {
  std::error_code error{};        // empty: the whole response arrived
  bool response_started = false;  // some byte of a response arrived (no retry past this point)
};

class ClientConnection {
 public:
  ClientConnection(std::unique_ptr<IOStream> stream, std::string pool_key,
                   const HTTP1ParserOptions& limits);
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  IOStream& stream() { return *stream_; }
  const std::string& pool_key() const { return pool_key_; }
  // Requests completed on this connection.
  std::uint64_t requests() const { return requests_; }
  // After a successful exchange: the connection can carry another request.
  bool reusable() const { return reusable_ && !stream_->closed(); }

  // Is the idle connection still usable? False when the server closed it (or sent something
  // unasked, which no keep-alive connection should do). Never blocks.
  bool looks_alive();

  // Sends `request` and reads the response into `handler`. Deadlines are the stream's.
  asio::awaitable<ExchangeResult> exchange(const OutgoingRequest& request,
                                           ResponseHandler& handler);

  std::chrono::steady_clock::time_point idle_since{};

 private:
  asio::awaitable<HTTP1Parser::Event> next_event(ExchangeResult& result);
  asio::awaitable<std::error_code> send(std::string_view head, std::string_view body);
  bool response_allows_keep_alive() const;

  std::unique_ptr<IOStream> stream_;
  std::string pool_key_;
  HTTP1Parser parser_;
  std::uint64_t requests_ = 0;
  bool reusable_ = false;
};

}  // namespace cortado::detail
