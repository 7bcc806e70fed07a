// What a fetch throws (Tornado's HTTPClientError and its 599 subclasses).
//
//   HTTPClientError         an HTTP status the caller did not ask for: >= 400, or a redirect left
//                           unfollowed because max_redirects ran out. response() holds it.
//                           raise_error = false returns these responses instead.
//   HTTPTimeoutError        599: request_timeout or connect_timeout passed (queueing included).
//   HTTPConnectionError     599: no connection: name resolution, connect, TLS handshake or
//                           certificate verification failed.
//   HTTPStreamClosedError   599: the server closed or reset the connection during the exchange.
//   HTTPProtocolError       599: the response broke HTTP/1.1 or one of the client's limits
//                           (header block, body size, corrupt gzip...).
// The 599 errors are thrown whatever raise_error says; cause() tells the underlying error.
// Invalid arguments (a bad URL, a header value with CR/LF) throw std::invalid_argument.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include "cortado/httpclient/request.hpp"

namespace cortado {

// Client-side causes that neither the parser (http_errc) nor the stream (stream_errc) report.
enum class client_errc {
  unexpected_upgrade = 1,  // a 101 Switching Protocols that the request did not ask for
  bad_content_encoding,    // a gzip response body that does not inflate
};
const std::error_category& client_category() noexcept;
inline std::error_code make_error_code(client_errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

}  // namespace cortado

template <>
struct std::is_error_code_enum<cortado::client_errc> : std::true_type {};

namespace cortado {

class HTTPClientError : public std::runtime_error {
 public:
  HTTPClientError(int code, const std::string& message,
                  std::shared_ptr<const HTTPResponse> response = nullptr,
                  std::error_code cause = {});

  // The HTTP status, or 599 when there is no response.
  int code() const noexcept { return code_; }
  // The response, for an HTTP status error; null for the 599 errors.
  const HTTPResponse* response() const noexcept { return response_.get(); }
  std::error_code cause() const noexcept { return cause_; }

 private:
  int code_;
  std::shared_ptr<const HTTPResponse> response_;
  std::error_code cause_;
};

class HTTPTimeoutError : public HTTPClientError {
 public:
  explicit HTTPTimeoutError(const std::string& message, std::error_code cause = {});
};

class HTTPConnectionError : public HTTPClientError {
 public:
  HTTPConnectionError(const std::string& message, std::error_code cause);
};

class HTTPStreamClosedError : public HTTPClientError {
 public:
  HTTPStreamClosedError(const std::string& message, std::error_code cause);
};

class HTTPProtocolError : public HTTPClientError {
 public:
  HTTPProtocolError(const std::string& message, std::error_code cause = {});
};

}  // namespace cortado
