// Opening a client connection: name resolution, TCP connect (each resolved address in turn) and
// the TLS handshake, all within the connect deadline.
#pragma once

#include <chrono>
#include <memory>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include "cortado/httpclient/url.hpp"
#include "cortado/iostream.hpp"

namespace cortado::detail {

struct ConnectTarget {
  const URL* url = nullptr;
  asio::ssl::context* tls = nullptr;  // null for http
  IOStreamOptions stream_options{};
  // Whichever comes first ends the attempt with HTTPTimeoutError.
  std::chrono::steady_clock::time_point connect_deadline{};
  std::chrono::steady_clock::time_point request_deadline{};
};

// A connected (and, for https, handshaken and verified) stream without a deadline set. Throws
// HTTPTimeoutError, or HTTPConnectionError for a failed resolution, connect or handshake.
asio::awaitable<std::unique_ptr<IOStream>> open_stream(asio::any_io_executor executor,
                                                       const ConnectTarget& target);

}  // namespace cortado::detail
